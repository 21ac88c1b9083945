/**
 * Teleop loop on the in-process simulator (scripted operator on the leader, follower through the
 * SafetyFilter): achieved rate and period jitter at 100/200/500 Hz, against a naive setInterval
 * loop doing the same work, measured in the same run.
 */
import { Arm } from '../src/arm/arm.ts';
import { loadCalibration } from '../src/arm/calibration.ts';
import { armProfile } from '../src/arm/profiles.ts';
import { SafetyFilter } from '../src/arm/safety-filter.ts';
import { runTeleop } from '../src/arm/teleop.ts';
import { SimWorld } from '../src/sim/world.ts';
import { simCalibrationPath } from '../src/workflows/paths.ts';
import { serveSimArm } from '../src/workflows/sim-port.ts';
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

/** The same cycle driven by setInterval: no absolute deadlines, timer granularity, drift. */
async function naiveLoop(leader: Arm, follower: Arm, rateHz: number, seconds: number) {
  const filter = new SafetyFilter({ names: follower.names, lower: follower.lower, upper: follower.upper, maxStep: 4 / rateHz });
  filter.reset(await follower.enableTorqueHolding());
  const q = new Float64Array(follower.size);
  return naiveIntervalLoop(rateHz, seconds, async () => {
    await leader.read(q);
    filter.markFresh();
    await follower.write(filter.filter(q).command);
  });
}

export async function benchTeleop(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const rate of [100, 200, 500]) {
    log(`  teleop ${rate} Hz…\n`);
    let env = await setup();
    const r = await runTeleop({ leader: env.leader, follower: env.follower, rateHz: rate, durationS: seconds });
    await env.close();
    const starts: number[] = [];
    for (let k = 1; k < r.latenessUs.length; k++) starts.push(r.latenessUs[k]!);
    const periods = starts.slice(1).map((l, k) => Math.abs(l - starts[k]!));
    const ours = { hz: r.achievedHz, lateness: summarize(starts), jitter: summarize(periods), latency: summarize(r.latencyUs) };
    log(`  naive setInterval ${rate} Hz…\n`);
    env = await setup();
    const naive = await naiveLoop(env.leader, env.follower, rate, seconds);
    await env.close();
    const c = `so101 in-process ${rate} Hz`;
    rows.push({ section: 'teleop', case: c, metric: 'achieved rate', value: ours.hz, unit: 'Hz', baseline: { name: 'setInterval', value: naive.hz }, ratio: ours.hz / naive.hz, note: `asked ${rate}; ${r.overruns} overruns` });
    rows.push({ section: 'teleop', case: c, metric: 'period jitter p50', value: ours.jitter.p50, unit: 'µs', baseline: { name: 'setInterval', value: naive.jitter.p50 }, ratio: naive.jitter.p50 / Math.max(1, ours.jitter.p50), note: 'ratio = baseline / ours' });
    rows.push({ section: 'teleop', case: c, metric: 'period jitter p99', value: ours.jitter.p99, unit: 'µs', baseline: { name: 'setInterval', value: naive.jitter.p99 }, ratio: naive.jitter.p99 / Math.max(1, ours.jitter.p99), note: 'ratio = baseline / ours' });
    rows.push({ section: 'teleop', case: c, metric: 'deadline lateness p99', value: ours.lateness.p99, unit: 'µs', baseline: { name: 'setInterval (drifts)', value: naive.lateness.p99 }, ratio: naive.lateness.p99 / Math.max(1, ours.lateness.p99), note: 'vs t0 + k·period' });
    rows.push({ section: 'teleop', case: c, metric: 'read→write latency p50/p99', value: ours.latency.p50, unit: 'µs', note: `p99 ${ours.latency.p99.toFixed(0)} µs` });
  }
  return rows;
}
