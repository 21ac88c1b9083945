import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JointConverter } from '../../src/arm/calibration.ts';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { LoopSpecError } from '../../src/control/errors.ts';
import { runLoopInWorker } from '../../src/control/loop-host.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { ROS_ESTOP_REASON, runRosBridge } from '../../src/ros/bridge.ts';
import { float64MultiArrayMessage, positionsFromJointState, QOS, SERVICES, TOPICS, TYPES } from '../../src/ros/mapping.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { serveSimArm } from '../../src/workflows/sim-port.ts';
import { openSimArm, shippedCalibration } from '../helpers/arms.ts';
import { hasSocat } from '../helpers/socat.ts';
import { MemoryGraph } from './memory-graph.ts';

async function waitFor(cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function lastState(graph: MemoryGraph, topic: string = TOPICS.jointStates): Float64Array {
  const msgs = graph.messages(topic);
  return positionsFromJointState(msgs[msgs.length - 1], topic).positions;
}

/**
 * The simulated follower (and leader) served over real ptys on this thread; the bridge's worker
 * opens them with its tty binding, as it opens /dev/ttyACM0. The test sees the servos directly.
 */
async function servedArms(withLeader = false) {
  const follower = createSimArm({ arm: 'so101', role: 'follower' });
  const leader = withLeader ? createSimArm({ arm: 'so101', role: 'leader' }) : undefined;
  const fPort = await serveSimArm(follower, 'pty');
  const lPort = leader ? await serveSimArm(leader, 'pty') : undefined;
  const calibration = await shippedCalibration('so101', 'follower');
  const profile = armProfile('so101', 'follower');
  const conv = profile.joints.map((j) => new JointConverter(j, calibration.joints[j.name]!));
  return {
    follower,
    leader,
    names: profile.joints.map((j) => j.name),
    lower: conv.map((c) => c.lower),
    upper: conv.map((c) => c.upper),
    /** The bridge's arm options: the worker opens these ports. Opening (pings, 500 ms) and reads (50 ms, watchdog 1 s / 5 s) are generous: a busy shared machine must not fail the tests that are not about it. */
    spec: {
      arm: { kind: 'so101' as const, calibration, path: fPort.path, busTimeoutMs: 500 },
      leader: lPort ? { calibration: await shippedCalibration('so101', 'leader'), path: lPort.path, busTimeoutMs: 500 } : undefined,
      readTimeoutMs: 50,
      holdAfterMs: 1000,
      torqueOffAfterMs: 5000,
      park: false as const,
    },
    close: async () => {
      await lPort?.close();
      await fPort.close();
    },
  };
}

describe.skipIf(!hasSocat)('ros bridge in the loop worker (simulated arms over ptys, in-memory graph, no ROS needed)', () => {
  it('publishes /joint_states and moves the follower on forward commands and trajectories, through the command slot and the SafetyFilter', async () => {
    const a = await servedArms();
    const graph = new MemoryGraph();
    const stop = new AbortController();
    try {
      const run = runRosBridge({ graph, ...a.spec, rateHz: 50, maxSpeed: 4, signal: stop.signal });
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 3);
      expect(graph.qos.get(`pub ${TOPICS.jointStates}`)).toEqual(QOS.state);
      expect(graph.qos.get(`sub ${TOPICS.forwardCommands}`)).toEqual(QOS.command);
      const first = graph.messages(TOPICS.jointStates)[0] as { name: string[]; header: { stamp: { sec: number } } };
      expect(first.name).toEqual(a.names);
      expect(first.header.stamp.sec).toBeGreaterThan(1_600_000_000);

      const mid = a.lower.map((lo, i) => lo + 0.4 * (a.upper[i]! - lo));
      const goalsBefore = a.follower.bus.servos.map((s) => s.get('Goal_Position'));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await waitFor(() => lastState(graph).every((v, i) => Math.abs(v - mid[i]!) < 0.05));
      // The worker wrote it to the servos: their goals moved.
      expect(a.follower.bus.servos.map((s) => s.get('Goal_Position'))).not.toEqual(goalsBefore);

      // Malformed (two values for six joints) and non-finite: refused or held, the arm stays put.
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage([0, 0]));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(a.names.map(() => NaN)));
      await new Promise((r) => setTimeout(r, 300));
      lastState(graph).forEach((v, i) => expect(Math.abs(v - mid[i]!)).toBeLessThan(0.05));
      // Hostile: far outside every limit. Clamped to the calibrated range.
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(a.names.map(() => 100)));
      await new Promise((r) => setTimeout(r, 800));
      lastState(graph).forEach((v, i) => {
        expect(v).toBeGreaterThan(mid[i]! + 0.3 * (a.upper[i]! - mid[i]!));
        expect(v).toBeLessThanOrEqual(a.upper[i]! + 0.02);
      });
      // A trajectory with the joints in reverse order goes to the right joints.
      const names = [...a.names].reverse();
      graph.publish(TOPICS.trajectory, TYPES.jointTrajectory, { joint_names: names, points: [{ positions: [...mid].reverse(), time_from_start: { sec: 0, nanosec: 0 } }] });
      await waitFor(() => lastState(graph).every((v, i) => Math.abs(v - mid[i]!) < 0.05));

      stop.abort();
      const r = await run;
      expect(r.thread).toBe('worker');
      expect(r.stop).toBe('key');
      expect(r.commands).toMatchObject({ forward: 3, trajectory: 1, refused: 1 });
      expect(r.commands.lastRefusal).toMatch(/2 values for 6 joints/);
      expect(r.safety.clampedCycles).toBeGreaterThan(0);
      expect(r.safety.stepLimitedCycles).toBeGreaterThan(0);
      expect(r.safety.nonFinite).toBeGreaterThan(0);
      expect(r.logDropped).toBe(0);
      expect(r.published).toBe(graph.messages(TOPICS.jointStates).length);
      // One joint state per cycle whose follower read succeeded (a read can time out on a busy machine).
      expect(r.published).toBeLessThanOrEqual(r.cycles);
      expect(r.published).toBeGreaterThan(r.cycles * 0.5);
    } finally {
      stop.abort();
      await a.close();
    }
  }, 30_000);

  it('records episodes started, stopped and discarded over the services in the standard layout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-ros-bridge-'));
    const path = join(dir, 'bridge.mcap');
    const a = await servedArms();
    const graph = new MemoryGraph();
    const stop = new AbortController();
    const recorder = await Recorder.create({ path }, { arm: 'so101', rate_hz: '50', joint_names: a.names.join(','), operator: 'ros' });
    try {
      const run = runRosBridge({ graph, ...a.spec, rateHz: 50, signal: stop.signal, recorder });
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 2);
      expect(await graph.call(SERVICES.episodeStop)).toMatchObject({ success: false, message: expect.stringMatching(/no episode is running/) });
      expect(await graph.call(SERVICES.episodeStart)).toEqual({ success: true, message: 'episode 0 started' });
      expect((await graph.call(SERVICES.episodeStart)).success).toBe(false);
      const mid = a.lower.map((lo, i) => lo + 0.45 * (a.upper[i]! - lo));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await new Promise((r) => setTimeout(r, 400));
      expect(await graph.call(SERVICES.episodeStop)).toMatchObject({ success: true, message: 'episode 0 ended (1 kept, 0 discarded)' });
      expect((await graph.call(SERVICES.episodeStart)).message).toBe('episode 1 started');
      await new Promise((r) => setTimeout(r, 200));
      expect((await graph.call(SERVICES.episodeDiscard)).message).toBe('episode 1 discarded while running');
      expect((await graph.call(SERVICES.episodeStart)).message).toBe('episode 2 started');
      await new Promise((r) => setTimeout(r, 300));
      expect((await graph.call(SERVICES.episodeStop)).success).toBe(true);
      stop.abort();
      const r = await run;
      expect(r.episodes).toEqual({ kept: 2, discarded: 1 });
    } finally {
      stop.abort();
      await recorder.close();
      await a.close();
    }
    const report = await inspectRecording(path);
    expect(report.complete).toBe(true);
    expect(report.episodes.map((e) => [e.index, e.discarded])).toEqual([[0, false], [1, true], [2, false]]);
    expect(report.episodes[0]!.samples).toBeGreaterThan(10);
    expect(report.topics.map((t) => t.topic)).toEqual(expect.arrayContaining(['/follower/joint_states', '/action', '/episode']));
    const ds = await loadDataset([path], { observation: ['follower.position'] });
    expect(ds.episodes.map((e) => e.index)).toEqual([0, 2]);
    expect(ds.layout.jointNames).toEqual(a.names);
  }, 30_000);

  it('with a leader: the leader drives, a ROS command takes over, and the leader drives again only after rosTakeoverMs', async () => {
    const a = await servedArms(true);
    const graph = new MemoryGraph();
    const stop = new AbortController();
    const takeoverMs = 600;
    const clampF = (v: number, i: number) => Math.min(a.upper[i]!, Math.max(a.lower[i]!, v));
    const near = (x: ArrayLike<number>, y: ArrayLike<number>, tol = 0.06) => Array.from(x).every((v, i) => Math.abs(v - clampF(y[i]!, i)) < tol);
    try {
      // The operator holds the leader somewhere off its zero.
      a.leader!.bus.servos.forEach((s, i) => i < 5 && s.moveTo(s.get('Present_Position') + (i % 2 ? -150 : 150)));
      const run = runRosBridge({ graph, ...a.spec, rateHz: 50, maxSpeed: 4, rosTakeoverMs: takeoverMs, signal: stop.signal });
      await waitFor(() => graph.messages(TOPICS.leaderJointStates).length > 2);
      const leaderPose = lastState(graph, TOPICS.leaderJointStates);
      await waitFor(() => near(lastState(graph), leaderPose));
      const mid = a.lower.map((lo, i) => lo + 0.5 * (a.upper[i]! - lo));
      expect(near(mid, leaderPose, 0.15)).toBe(false);
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      const sentAtNs = BigInt(Math.round((performance.timeOrigin + graph.sent.at(-1)!.atMs) * 1e6));
      await waitFor(() => near(lastState(graph), mid), 300 + 2000);
      // No further ROS command: after the takeover window the leader drives again.
      await waitFor(() => near(lastState(graph), leaderPose));
      stop.abort();
      const r = await run;
      expect(r.commands.forward).toBe(1);
      expect(r.safety.faults).toBe(0);
      // The follower left the ROS target for the leader no earlier than rosTakeoverMs after the command
      // arrived (stamps are the cycles' times; the command arrived after it was sent).
      const states = graph.messages(TOPICS.jointStates).map((m) => ({ t: (m as { header: { stamp: { sec: number; nanosec: number } } }).header.stamp, p: positionsFromJointState(m, TOPICS.jointStates).positions }));
      const ns = (s: { sec: number; nanosec: number }) => BigInt(s.sec) * 1_000_000_000n + BigInt(s.nanosec);
      const reached = states.findIndex((s) => ns(s.t) > sentAtNs && near(s.p, mid));
      expect(reached).toBeGreaterThan(0);
      const left = states.findIndex((s, k) => k > reached && !near(s.p, mid, 0.1));
      expect(left).toBeGreaterThan(reached);
      expect(ns(states[left]!.t) - sentAtNs).toBeGreaterThanOrEqual(BigInt(takeoverMs) * 1_000_000n);
      expect(graph.messages(TOPICS.leaderJointStates).length).toBeGreaterThan(r.cycles * 0.9);
    } finally {
      stop.abort();
      await a.close();
    }
  }, 30_000);

  it('e-stop over the service: the follower holds, every servo loses torque, the bridge ends with SafetyStopError', async () => {
    const a = await servedArms();
    const graph = new MemoryGraph();
    try {
      const run = runRosBridge({ graph, ...a.spec, rateHz: 50 });
      const settled = run.catch((e: unknown) => e);
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 2);
      expect(a.follower.bus.servos.every((s) => s.get('Torque_Enable') === 1)).toBe(true);
      const reply = await graph.call(SERVICES.estop);
      expect(reply).toMatchObject({ success: true, message: expect.stringMatching(/torque is cut/) });
      const err = await settled;
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toContain(ROS_ESTOP_REASON);
      expect(a.follower.bus.servos.every((s) => s.get('Torque_Enable') === 0)).toBe(true);
    } finally {
      await a.close();
    }
  }, 30_000);

  it('an unplugged follower: the bridge holds, the watchdog ends it with SafetyStopError, nothing moves after the cable is pulled', async () => {
    const a = await servedArms();
    const graph = new MemoryGraph();
    try {
      const mid = a.lower.map((lo, i) => lo + 0.4 * (a.upper[i]! - lo));
      const run = runRosBridge({ graph, ...a.spec, rateHz: 50, maxSpeed: 4, holdAfterMs: 50, torqueOffAfterMs: 250 });
      const settled = run.catch((e: unknown) => e);
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 5);
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await waitFor(() => lastState(graph).every((v, i) => Math.abs(v - mid[i]!) < 0.05));
      const goalsAtUnplug = a.follower.bus.servos.map((s) => s.get('Goal_Position'));
      a.follower.bus.disconnect();
      const err = await settled;
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toMatch(/lost the arm state/);
      expect((err as Error).message).toMatch(/torque was turned off/);
      expect(a.follower.bus.servos.map((s) => s.get('Goal_Position'))).toEqual(goalsAtUnplug);
    } finally {
      await a.close();
    }
  }, 30_000);

  it('parks the follower after a normal end, and leaves no worker, timer, port or pty behind', async () => {
    const count = () => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (r !== 'FSReqPromise') c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    const once = async (end: 'duration' | 'estop') => {
      const a = await servedArms(true);
      const graph = new MemoryGraph();
      try {
        const run = runRosBridge({ graph, ...a.spec, rateHz: 50, durationS: end === 'duration' ? 0.3 : 30, park: end === 'duration' ? { speed: 2, timeoutS: 3 } : false });
        if (end === 'estop') {
          await waitFor(() => graph.messages(TOPICS.jointStates).length >= 2);
          await graph.call(SERVICES.estop);
          expect(await run.catch((e: unknown) => e)).toBeInstanceOf(SafetyStopError);
        } else {
          const r = await run;
          expect(r.parked).toBe(true);
          expect(a.follower.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
        }
      } finally {
        await a.close();
      }
    };
    await once('duration');
    await new Promise((r) => setTimeout(r, 50));
    const before = count();
    await once('duration');
    await once('estop');
    await new Promise((r) => setTimeout(r, 50));
    const after = count();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  }, 40_000);

  it('a bridge loop without a command slot is a LoopSpecError', async () => {
    const a = await servedArms();
    try {
      const err = await runLoopInWorker({ kind: 'bridge', arm: a.spec.arm, rateHz: 50, durationS: 0.2 }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(LoopSpecError);
      expect((err as Error).message).toMatch(/a bridge loop needs a command slot/);
    } finally {
      await a.close();
    }
  });
});

describe('ros bridge on this thread (the fallback: arms the caller opened, here on the in-process binding)', () => {
  it('moves the follower on a ROS command, counts a refused one, and cuts torque on an e-stop over the service', async () => {
    const { arm, sim, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    try {
      const run = runRosBridge({ graph, follower: arm, rateHz: 50, maxSpeed: 4 });
      const settled = run.catch((e: unknown) => e);
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 3);
      const mid = Array.from(arm.lower, (lo, i) => lo + 0.4 * (arm.upper[i]! - lo));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage([1, 2, 3]));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await waitFor(() => lastState(graph).every((v, i) => Math.abs(v - mid[i]!) < 0.05));
      await graph.call(SERVICES.estop);
      const err = await settled;
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toContain(ROS_ESTOP_REASON);
      expect(sim.bus.servos.every((s) => s.get('Torque_Enable') === 0)).toBe(true);
    } finally {
      await close();
    }
  }, 30_000);
});
