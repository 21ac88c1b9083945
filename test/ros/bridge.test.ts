import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { runRosBridge } from '../../src/ros/bridge.ts';
import { float64MultiArrayMessage, positionsFromJointState, QOS, SERVICES, TOPICS, TYPES } from '../../src/ros/mapping.ts';
import { openSimArm } from '../helpers/arms.ts';
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

describe('ros bridge on the simulated follower (in-memory graph, no ROS needed)', () => {
  it('publishes /joint_states and moves the follower on forward commands and trajectories, through the SafetyFilter', async () => {
    const { arm, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    const stop = new AbortController();
    try {
      const run = runRosBridge({ graph, follower: arm, rateHz: 50, maxSpeed: 4, signal: stop.signal });
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 3);
      expect(graph.qos.get(`pub ${TOPICS.jointStates}`)).toEqual(QOS.state);
      expect(graph.qos.get(`sub ${TOPICS.forwardCommands}`)).toEqual(QOS.command);
      const first = graph.messages(TOPICS.jointStates)[0] as { name: string[]; header: { stamp: { sec: number } } };
      expect(first.name).toEqual([...arm.names]);
      expect(first.header.stamp.sec).toBeGreaterThan(1_600_000_000);

      const mid = Array.from(arm.lower, (lo, i) => lo + 0.4 * (arm.upper[i]! - lo));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await waitFor(() => lastState(graph).every((v, i) => Math.abs(v - mid[i]!) < 0.05));

      // Malformed (two values for six joints) and non-finite: refused or held, the arm stays put.
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage([0, 0]));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(arm.names.map(() => NaN)));
      await new Promise((r) => setTimeout(r, 300));
      lastState(graph).forEach((v, i) => expect(Math.abs(v - mid[i]!)).toBeLessThan(0.05));
      // Hostile: far outside every limit. Clamped to the calibrated range (whose ends are the hard
      // stops: the arm is sent back before pressing there long enough to trip overload protection).
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(arm.names.map(() => 100)));
      await new Promise((r) => setTimeout(r, 800));
      lastState(graph).forEach((v, i) => {
        expect(v).toBeGreaterThan(mid[i]! + 0.3 * (arm.upper[i]! - mid[i]!));
        expect(v).toBeLessThanOrEqual(arm.upper[i]! + 0.02);
      });
      // A trajectory with the joints in reverse order goes to the right joints.
      const names = [...arm.names].reverse();
      graph.publish(TOPICS.trajectory, TYPES.jointTrajectory, { joint_names: names, points: [{ positions: [...mid].reverse(), time_from_start: { sec: 0, nanosec: 0 } }] });
      await waitFor(() => lastState(graph).every((v, i) => Math.abs(v - mid[i]!) < 0.05));

      stop.abort();
      const r = await run;
      expect(r.stop).toBe('signal');
      expect(r.commands).toMatchObject({ forward: 3, trajectory: 1, refused: 1 });
      expect(r.commands.lastRefusal).toMatch(/2 values for 6 joints/);
      expect(r.safety.clampedCycles).toBeGreaterThan(0);
      expect(r.safety.stepLimitedCycles).toBeGreaterThan(0);
      expect(r.safety.nonFinite).toBeGreaterThan(0);
      expect(r.published).toBe(graph.messages(TOPICS.jointStates).length);
    } finally {
      stop.abort();
      await close();
    }
  }, 30_000);

  it('records episodes started, stopped and discarded over the services in the standard layout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-ros-bridge-'));
    const path = join(dir, 'bridge.mcap');
    const { arm, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    const stop = new AbortController();
    const recorder = await Recorder.create({ path }, { arm: 'so101', rate_hz: '50', joint_names: arm.names.join(','), operator: 'ros' });
    try {
      const run = runRosBridge({ graph, follower: arm, rateHz: 50, signal: stop.signal, recorder });
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 2);
      expect(await graph.call(SERVICES.episodeStop)).toMatchObject({ success: false, message: expect.stringMatching(/no episode is running/) });
      expect(await graph.call(SERVICES.episodeStart)).toEqual({ success: true, message: 'episode 0 started' });
      expect((await graph.call(SERVICES.episodeStart)).success).toBe(false);
      const mid = Array.from(arm.lower, (lo, i) => lo + 0.45 * (arm.upper[i]! - lo));
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
      await close();
    }
    const report = await inspectRecording(path);
    expect(report.complete).toBe(true);
    expect(report.episodes.map((e) => [e.index, e.discarded])).toEqual([[0, false], [1, true], [2, false]]);
    expect(report.episodes[0]!.samples).toBeGreaterThan(10);
    expect(report.topics.map((t) => t.topic)).toEqual(expect.arrayContaining(['/follower/joint_states', '/action', '/episode']));
    const ds = await loadDataset([path], { observation: ['follower.position'] });
    expect(ds.episodes.map((e) => e.index)).toEqual([0, 2]);
    expect(ds.layout.jointNames).toEqual([...arm.names]);
  }, 30_000);

  it('with a leader: the leader drives, a ROS command takes over for a while, then the leader again', async () => {
    const f = await openSimArm('so101', 'follower');
    const l = await openSimArm('so101', 'leader');
    const graph = new MemoryGraph();
    const stop = new AbortController();
    const clampF = (v: number, i: number) => Math.min(f.arm.upper[i]!, Math.max(f.arm.lower[i]!, v));
    const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 0.06) => Array.from(a).every((v, i) => Math.abs(v - clampF(b[i]!, i)) < tol);
    try {
      // The operator holds the leader somewhere off its zero.
      l.sim.bus.servos.forEach((s, i) => i < 5 && s.moveTo(s.get('Present_Position') + (i % 2 ? -150 : 150)));
      const run = runRosBridge({ graph, follower: f.arm, leader: l.arm, rateHz: 50, maxSpeed: 4, rosTakeoverMs: 400, signal: stop.signal });
      await waitFor(() => graph.messages(TOPICS.leaderJointStates).length > 2);
      const leaderPose = lastState(graph, TOPICS.leaderJointStates);
      await waitFor(() => near(lastState(graph), leaderPose));
      const mid = Array.from(f.arm.lower, (lo, i) => lo + 0.5 * (f.arm.upper[i]! - lo));
      expect(near(mid, leaderPose, 0.15)).toBe(false);
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await waitFor(() => near(lastState(graph), mid), 300 + 2000);
      // No further ROS command: after the takeover window the leader drives again.
      await waitFor(() => near(lastState(graph), leaderPose));
      stop.abort();
      const r = await run;
      expect(r.commands.forward).toBe(1);
      expect(r.safety.faults).toBe(0);
    } finally {
      stop.abort();
      await l.close({ torqueOff: false });
      await f.close();
    }
  }, 30_000);

  it('e-stop over the service: the follower holds, every servo loses torque, the bridge ends with SafetyStopError', async () => {
    const { arm, sim, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    try {
      const run = runRosBridge({ graph, follower: arm, rateHz: 50 });
      const settled = run.catch((e: unknown) => e);
      await waitFor(() => graph.messages(TOPICS.jointStates).length >= 2);
      expect(sim.bus.servos.every((s) => s.get('Torque_Enable') === 1)).toBe(true);
      const reply = await graph.call(SERVICES.estop);
      expect(reply).toMatchObject({ success: true, message: expect.stringMatching(/torque is cut/) });
      const err = await settled;
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toMatch(/e-stop/);
      expect(sim.bus.servos.every((s) => s.get('Torque_Enable') === 0)).toBe(true);
    } finally {
      await close();
    }
  }, 30_000);
});
