/**
 * The two loops that moved onto the loop engine last, each against its main-thread path in the same
 * run (the baseline):
 *   - bridge: `ros bridge` on the simulated so101 follower served over a real pty, at 100 and 200 Hz,
 *     with a graph that takes the joint states (no ROS here) and a ROS command every 50 ms: achieved
 *     rate, period jitter p99, hold cycles (stale reads).
 *   - kinesthetic: `record --sim --kinesthetic` over a real pty at 50 Hz: achieved rate, missed reads,
 *     period jitter p99 (|cycle gap − period|, both paths measured the same way).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arm } from '../src/arm/arm.ts';
import { loadCalibration } from '../src/arm/calibration.ts';
import { armProfile } from '../src/arm/profiles.ts';
import type { RosGraph } from '../src/ros/graph.ts';
import { runRosBridge, type RosBridgeResult } from '../src/ros/bridge.ts';
import { float64MultiArrayMessage, TOPICS } from '../src/ros/mapping.ts';
import { createSimArm } from '../src/sim/presets.ts';
import { simCalibrationPath } from '../src/workflows/paths.ts';
import { recordKinestheticSim, recordKinestheticSimInWorker } from '../src/workflows/record-kinesthetic.ts';
import { serveSimArm } from '../src/workflows/sim-port.ts';
import { summarize, type BenchRow } from './stats.ts';
import { jitterOf } from './teleop-loop.ts';

/** A graph that drops what is published and sends a forward command every `everyMs` (the bench's ROS). */
function benchGraph(everyMs: number, command: readonly number[]): RosGraph & { stop(): void } {
  const subs = new Map<string, (m: unknown) => void>();
  const timer = setInterval(() => subs.get(TOPICS.forwardCommands)?.(float64MultiArrayMessage(command)), everyMs);
  return {
    publisher: () => ({ publish: () => undefined }),
    subscribe: (topic, _type, _qos, on) => void subs.set(topic, on),
    service: () => undefined,
    now: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)),
    close: async () => clearInterval(timer),
    stop: () => clearInterval(timer),
  };
}

async function bridgeOnce(rate: number, seconds: number, thread: 'worker' | 'main'): Promise<RosBridgeResult> {
  const sim = createSimArm({ arm: 'so101', role: 'follower' });
  const port = await serveSimArm(sim, 'pty');
  const calibration = await loadCalibration(simCalibrationPath('so101', 'follower'));
  const profile = armProfile('so101', 'follower');
  const mid = profile.joints.map((j) => (j.kind === 'gripper' ? 0.5 : 0.1));
  const graph = benchGraph(50, mid);
  let arm: Arm | undefined;
  try {
    const common = { graph, rateHz: rate, durationS: seconds, maxSpeed: 2, readTimeoutMs: 50, holdAfterMs: 1000, torqueOffAfterMs: 5000 };
    if (thread === 'worker') return await runRosBridge({ ...common, arm: { kind: 'so101', calibration, path: port.path, busTimeoutMs: 100 }, park: false });
    arm = await Arm.open({ profile, calibration, path: port.path, bus: { timeoutMs: 100 } });
    return await runRosBridge({ ...common, follower: arm });
  } finally {
    graph.stop();
    await arm?.close();
    await port.close();
  }
}

export async function benchBridge(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const rate of [100, 200]) {
    const c = `so101 over a pty, ${rate} Hz, ${seconds} s, a ROS command every 50 ms`;
    log(`  ros bridge ${rate} Hz in the loop worker…\n`);
    const stopped = (what: string) => (e: unknown) => {
      rows.push({ section: 'bridge', case: `${c}: ${what}`, metric: 'run', value: NaN, unit: '', note: `stopped: ${(e as Error).message}` });
      return undefined;
    };
    const w = await bridgeOnce(rate, seconds, 'worker').catch(stopped('worker'));
    log(`  the same on the main thread…\n`);
    const m = await bridgeOnce(rate, seconds, 'main').catch(stopped('main thread'));
    if (!w || !m) continue;
    const jw = jitterOf(w.latenessUs);
    const jm = jitterOf(m.latenessUs);
    rows.push({ section: 'bridge', case: c, metric: 'achieved rate', value: w.achievedHz, unit: 'Hz', baseline: { name: 'main thread', value: m.achievedHz }, ratio: w.achievedHz / m.achievedHz, note: `asked ${rate}; ${w.commands.forward} / ${m.commands.forward} commands; ${w.logDropped} cycles not drained` });
    rows.push({ section: 'bridge', case: c, metric: 'period jitter p99', value: jw.p99, unit: 'µs', baseline: { name: 'main thread', value: jm.p99 }, ratio: jw.p99 / Math.max(1, jm.p99), note: `ratio = worker / main (lower is better); p50 ${jw.p50.toFixed(0)} vs ${jm.p50.toFixed(0)} µs` });
    rows.push({ section: 'bridge', case: c, metric: 'hold cycles', value: w.safety.holds, unit: '', baseline: { name: 'main thread', value: m.safety.holds }, note: `stale reads held by the filter; overruns ${w.overruns} vs ${m.overruns}` });
  }
  return rows;
}

export async function benchKinesthetic(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-kin-'));
  try {
    const rate = 50;
    const plan = { arm: 'so101' as const, rateHz: rate, episodes: 1, episodeS: seconds, resetS: 0, seed: 3, transport: 'pty' as const };
    const c = `so101 over a pty, ${rate} Hz, ${seconds} s`;
    const stopped = (what: string) => (e: unknown) => {
      rows.push({ section: 'kinesthetic', case: `${c}: ${what}`, metric: 'run', value: NaN, unit: '', note: `stopped: ${(e as Error).message}` });
      return undefined;
    };
    log(`  kinesthetic ${rate} Hz in the loop worker…\n`);
    const w = await recordKinestheticSimInWorker({ ...plan, out: join(dir, 'w.mcap') }).catch(stopped('worker'));
    log(`  the same on the main thread…\n`);
    const gapsMain: number[] = [];
    let last = NaN;
    const m = await recordKinestheticSim({
      ...plan,
      out: join(dir, 'm.mcap'),
      // |cycle gap − period| of the main-thread session, as jitterOf computes it from the worker's lateness.
      probe: () => {
        const now = performance.now();
        if (!Number.isNaN(last)) gapsMain.push(Math.abs((now - last) * 1000 - 1e6 / rate));
        last = now;
      },
    }).catch(stopped('main thread'));
    if (!w || !m) return rows;
    const jw = jitterOf(w.latenessUs);
    const jm = summarize(gapsMain.slice(1));
    rows.push({ section: 'kinesthetic', case: c, metric: 'achieved rate', value: w.achievedHz, unit: 'Hz', baseline: { name: 'main thread', value: m.achievedHz }, ratio: w.achievedHz / m.achievedHz, note: `asked ${rate}; ${w.recordedCycles} vs ${m.recordedCycles} states recorded; ${w.logDropped} cycles not drained` });
    rows.push({ section: 'kinesthetic', case: c, metric: 'missed reads', value: w.missedReads, unit: '', baseline: { name: 'main thread', value: m.missedReads }, note: `of ${w.cycles} vs ${m.cycles} cycles` });
    rows.push({ section: 'kinesthetic', case: c, metric: 'period jitter p99', value: jw.p99, unit: 'µs', baseline: { name: 'main thread', value: jm.p99 }, ratio: jw.p99 / Math.max(1, jm.p99), note: `ratio = worker / main (lower is better); p50 ${jw.p50.toFixed(0)} vs ${jm.p50.toFixed(0)} µs; worker wake lateness p99 ${w.latenessP99Us.toFixed(0)} µs` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
