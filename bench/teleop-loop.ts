/**
 * Teleop loop in the loop worker (leader and follower ports owned by the worker, the simulated arms
 * beside it; SCHED_FIFO where permitted): achieved rate, period jitter and wake lateness at 100 /
 * 200 / 500 Hz on the in-process simulator, against a naive setInterval loop doing the same work on
 * the main thread and against the machine's floor (an idle thread waiting for the same deadlines),
 * all in the same run. Over real ptys (socat) at 200 Hz: the share of the asked rate held, against
 * the same loop on the main thread.
 */
import { Arm } from '../src/arm/arm.ts';
import { loadCalibration } from '../src/arm/calibration.ts';
import { armProfile } from '../src/arm/profiles.ts';
import { SafetyFilter } from '../src/arm/safety-filter.ts';
import { SimWorld } from '../src/sim/world.ts';
import { simCalibrationPath } from '../src/workflows/paths.ts';
import { serveSimArm } from '../src/workflows/sim-port.ts';
import { runSimTeleop, type SimTeleopResult } from '../src/workflows/teleop-sim.ts';
import { hasSocat } from './socat.ts';
import { floorRow, idleFloor } from './floor.ts';
import { naiveIntervalLoop } from './naive-loop.ts';
import { summarize, type BenchRow } from './stats.ts';

async function setup() {
  const world = new SimWorld({ arm: 'so101', seed: 5 });
  const lp = await serveSimArm(world.leader, 'in-process');
  const fp = await serveSimArm(world.follower, 'in-process');
  const open = async (role: 'leader' | 'follower', p: typeof lp) =>
    Arm.open({ profile: armProfile('so101', role), calibration: await loadCalibration(simCalibrationPath('so101', role)), path: p.path, binding: p.binding, bus: { timeoutMs: 20 } });
  const leader = await open('leader', lp);
  const follower = await open('follower', fp);
  world.startEpisode('expert');
  return {
    world,
    leader,
    follower,
    close: async () => {
      await leader.close();
      await follower.close();
      await lp.close();
      await fp.close();
      world.close();
    },
  };
}

/** The same cycle driven by setInterval on the main thread: no absolute deadlines, timer granularity, drift. */
async function naiveLoop(rateHz: number, seconds: number) {
  const env = await setup();
  try {
    const { leader, follower } = env;
    const filter = new SafetyFilter({ names: follower.names, lower: follower.lower, upper: follower.upper, maxStep: 4 / rateHz });
    filter.reset(await follower.enableTorqueHolding());
    const q = new Float64Array(follower.size);
    return await naiveIntervalLoop(rateHz, seconds, async () => {
      await leader.read(q);
      filter.markFresh();
      await follower.write(filter.filter(q).command);
    });
  } finally {
    await env.close();
  }
}

/** Period jitter samples: |Δ lateness| between consecutive cycles after the first = |period − nominal|, µs. */
export function jitterSamples(latenessUs: readonly number[]): number[] {
  const out: number[] = [];
  for (let k = 2; k < latenessUs.length; k++) out.push(Math.abs(latenessUs[k]! - latenessUs[k - 1]!));
  return out;
}

/** Their p50, p99 and max, µs. */
export function jitterOf(latenessUs: readonly number[]) {
  return summarize(jitterSamples(latenessUs));
}

export async function benchTeleop(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const rate of [100, 200, 500]) {
    log(`  teleop ${rate} Hz in the loop worker…\n`);
    const r = await runSimTeleop({ arm: 'so101', rateHz: rate, durationS: seconds, transport: 'in-process', seed: 5, realtimePriority: 50 }).catch((e: unknown) => {
      rows.push({ section: 'teleop', case: `so101 in-process ${rate} Hz`, metric: 'run', value: NaN, unit: '', note: `stopped: ${(e as Error).message}` });
      return undefined;
    });
    if (!r) continue;
    log(`  naive setInterval ${rate} Hz on the main thread…\n`);
    const naive = await naiveLoop(rate, seconds);
    log(`  idle deadline floor ${rate} Hz…\n`);
    const fifo = r.realtime?.detail.startsWith('SCHED_FIFO') ?? false;
    const fl = await idleFloor(rate, Math.min(seconds, 10), fifo);
    const ours = { jitter: jitterOf(r.latenessUs), lateness: summarize(r.latenessUs.slice(1)), latency: summarize(r.latencyUs) };
    const c = `so101 in-process ${rate} Hz, worker ${r.realtime?.granted ? 'SCHED_FIFO' : 'normal priority'}`;
    rows.push({ section: 'teleop', case: c, metric: 'achieved rate', value: r.achievedHz, unit: 'Hz', baseline: { name: 'setInterval', value: naive.hz }, ratio: r.achievedHz / naive.hz, note: `asked ${rate}; ${r.overruns} overruns of ${r.cycles} cycles` });
    rows.push({ section: 'teleop', case: c, metric: 'period jitter p99', value: ours.jitter.p99, unit: 'µs', baseline: { name: 'setInterval', value: naive.jitter.p99 }, ratio: naive.jitter.p99 / Math.max(1, ours.jitter.p99), note: `ratio = baseline / ours; p50 ${ours.jitter.p50.toFixed(0)} µs` });
    rows.push(floorRow('teleop', c, r.latenessUs, fl));
    rows.push({ section: 'teleop', case: c, metric: 'read→write latency p50', value: ours.latency.p50, unit: 'µs', note: `p99 ${ours.latency.p99.toFixed(0)} µs; wake spin ${r.wake?.spinUs.toFixed(0)} µs (${r.wake?.mode}), ${((r.wake?.spinShare ?? 0) * 100).toFixed(1)} % of a core spinning` });
  }
  if (!hasSocat()) {
    log('  (no socat: pty rows skipped)\n');
    return rows;
  }
  const rate = 200;
  const pty = async (thread: 'worker' | 'main') => {
    log(`  teleop over real ptys at ${rate} Hz, loop on the ${thread === 'worker' ? 'loop worker' : 'main thread'}…\n`);
    return runSimTeleop({ arm: 'so101', rateHz: rate, durationS: Math.max(seconds, 5), transport: 'pty', seed: 5, thread, realtimePriority: 50 }).catch((e: unknown) => {
      log(`    failed: ${(e as Error).message}\n`);
      return undefined;
    });
  };
  const w: SimTeleopResult | undefined = await pty('worker');
  const m: SimTeleopResult | undefined = await pty('main');
  if (w) {
    const late = summarize(w.latenessUs.slice(1));
    rows.push({
      section: 'teleop',
      case: `so101 over real ptys ${rate} Hz, worker ${w.realtime?.granted ? 'SCHED_FIFO' : 'normal priority'}`,
      metric: 'achieved rate / asked',
      value: w.achievedHz,
      unit: 'Hz',
      baseline: { name: 'asked', value: rate },
      ratio: w.achievedHz / rate,
      note: `${w.overruns} overruns of ${w.cycles}; lateness p99 ${late.p99.toFixed(0)} µs${m ? `; the same loop on the main thread: ${m.achievedHz.toFixed(1)} Hz, lateness p99 ${summarize(m.latenessUs.slice(1)).p99.toFixed(0)} µs` : ''}`,
    });
  }
  return rows;
}
