import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelMismatchError } from '../../src/control/errors.ts';
import { OnnxPolicy } from '../../src/control/onnx-policy.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { runRosBridge } from '../../src/ros/bridge.ts';
import { runRosDeploy, RosStateTimeoutError } from '../../src/ros/deploy-node.ts';
import { float64MultiArrayMessage, positionsFromJointState, RECORD_SERVICES, TOPICS, TYPES } from '../../src/ros/mapping.ts';
import { parseRecordTopics, RecordTopicsError, runRosRecord } from '../../src/ros/record-node.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';
import { openSimArm } from '../helpers/arms.ts';
import { MemoryGraph } from './memory-graph.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pose = (x: number, y: number, z: number) => ({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'base_link' }, pose: { position: { x, y, z }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });

describe('ros record: any ROS 2 arm into the standard recording layout', () => {
  it('parses topic:role lists, knowing the ros2_control names, and refuses bad ones', () => {
    expect(parseRecordTopics('/joint_states,/forward_position_controller/commands,/goal:target')).toEqual([
      { topic: '/joint_states', role: 'follower' },
      { topic: '/forward_position_controller/commands', role: 'action' },
      { topic: '/goal', role: 'target' },
    ]);
    expect(() => parseRecordTopics('/arm/state')).toThrow(RecordTopicsError);
    expect(() => parseRecordTopics('/forward_position_controller/commands')).toThrow(/no follower state topic/);
    expect(() => parseRecordTopics('/joint_states,/x:wrench')).toThrow(/unknown role "wrench"/);
    expect(() => parseRecordTopics('/joint_states,/a:action,/b:trajectory')).toThrow(/once/);
  });

  it('records the bridge of a simulated arm: episodes by service, samples aligned for training', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-ros-record-'));
    const out = join(dir, 'ros.mcap');
    const { arm, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    const stop = new AbortController();
    try {
      const bridge = runRosBridge({ graph, follower: arm, rateHz: 50, signal: stop.signal });
      const rec = runRosRecord({ graph, out, topics: parseRecordTopics('/joint_states,/forward_position_controller/commands,/target_pose'), rateHz: 50, signal: stop.signal });
      await sleep(200);
      expect((await graph.call(RECORD_SERVICES.episodeStart)).message).toBe('episode 0 started');
      graph.publish(TOPICS.targetPose, TYPES.poseStamped, pose(0.2, 0.05, 0.1));
      const mid = Array.from(arm.lower, (lo, i) => lo + 0.45 * (arm.upper[i]! - lo));
      graph.publish(TOPICS.forwardCommands, TYPES.float64MultiArray, float64MultiArrayMessage(mid));
      await sleep(600);
      expect((await graph.call(RECORD_SERVICES.episodeStop)).success).toBe(true);
      expect((await graph.call(RECORD_SERVICES.episodeStart)).message).toBe('episode 1 started');
      await sleep(300);
      expect((await graph.call(RECORD_SERVICES.episodeDiscard)).success).toBe(true);
      stop.abort();
      const r = await rec;
      await bridge;
      expect(r.jointNames).toEqual([...arm.names]);
      expect(r.episodes).toEqual({ kept: 1, discarded: 1 });
      expect(r.samples).toBeGreaterThan(20);
      expect(r.received['/joint_states']).toBeGreaterThan(20);
    } finally {
      stop.abort();
      await close();
    }
    const report = await inspectRecording(out);
    expect(report.complete).toBe(true);
    expect(report.metadata.joint_names).toBe('shoulder_pan,shoulder_lift,elbow_flex,wrist_flex,wrist_roll,gripper');
    expect(report.episodes.map((e) => e.discarded)).toEqual([false, true]);
    const ds = await loadDataset([out]);
    expect(ds.layout.observation).toEqual([
      { name: 'follower.position', size: 6 },
      { name: 'target.position', size: 3 },
    ]);
    expect(ds.episodes).toHaveLength(1);
    const e = ds.episodes[0]!;
    expect(e.length).toBeGreaterThan(10);
    // The last recorded action is the command that was published.
    const lastAction = Array.from(e.actions.subarray((e.length - 1) * 6, e.length * 6));
    const { arm: a2, close: c2 } = await openSimArm('so101', 'follower');
    const mid = Array.from(a2.lower, (lo, i) => lo + 0.45 * (a2.upper[i]! - lo));
    await c2();
    lastAction.forEach((v, i) => expect(v).toBeCloseTo(mid[i]!, 5));
    expect(Array.from(e.observations.subarray(6, 9))).toEqual([expect.closeTo(0.2, 5), expect.closeTo(0.05, 5), expect.closeTo(0.1, 5)]);
  }, 30_000);
});

describe('ros deploy: the control loop with ROS topics as the arm', () => {
  let model = '';
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-ros-deploy-'));
    const data = join(dir, 'd.mcap');
    // Recorded at 50 Hz: the model carries that rate, and ros deploy runs at it by default.
    await rollout({ arm: 'so101', seed: 3, episodes: 4, episodeS: 1, rateHz: 50, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    model = (await trainFromRecordings({ data: [data], out: join(dir, 'm'), algo: 'bc', hidden: [16], epochs: 3, seed: 1, backend: 'cpu', valFraction: 0.25 })).modelPath;
  }, 60_000);

  it('runs an ONNX policy on /joint_states and a target, commanding the bridged simulated arm through both safety filters', async () => {
    const { arm, close } = await openSimArm('so101', 'follower');
    const graph = new MemoryGraph();
    const stop = new AbortController();
    const policy = await OnnxPolicy.load(model, { jointNames: arm.names, observation: [{ name: 'follower.position', size: 6 }, { name: 'target.position', size: 3 }] });
    try {
      const bridge = runRosBridge({ graph, follower: arm, rateHz: 50, signal: stop.signal });
      setTimeout(() => graph.publish(TOPICS.targetPose, TYPES.poseStamped, pose(0.2, 0.0, 0.12)), 300);
      const r = await runRosDeploy({ graph, policy, jointNames: arm.names, lower: arm.lower, upper: arm.upper, durationS: 1.5, poses: { target: { topic: TOPICS.targetPose } } });
      await sleep(100);
      stop.abort();
      const b = await bridge;
      expect(r.rate).toMatchObject({ rateHz: 50, source: 'model' });
      expect(r.waitingForPoses).toBeGreaterThan(0);
      expect(r.published).toBeGreaterThan(40);
      expect(r.inferenceUs.length).toBe(r.published - r.waitingForPoses);
      expect(r.safety.faults).toBe(0);
      expect(b.commands.forward).toBe(graph.messages(TOPICS.forwardCommands).length);
      for (const m of graph.messages(TOPICS.jointStates)) {
        positionsFromJointState(m, TOPICS.jointStates).positions.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(arm.lower[i]! - 0.02);
          expect(v).toBeLessThanOrEqual(arm.upper[i]! + 0.02);
        });
      }
    } finally {
      stop.abort();
      await policy.close();
      await close();
    }
  }, 30_000);

  it('says which topic stayed silent when no joint state arrives, and refuses a model for other joints', async () => {
    const { arm, close } = await openSimArm('so101', 'follower');
    const policy = await OnnxPolicy.load(model, { jointNames: arm.names, observation: [{ name: 'follower.position', size: 6 }, { name: 'target.position', size: 3 }] });
    try {
      const err = await runRosDeploy({ graph: new MemoryGraph(), policy, jointNames: arm.names, lower: arm.lower, upper: arm.upper, rateHz: 50, durationS: 1, stateTimeoutMs: 200, poses: { target: { topic: TOPICS.targetPose } } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RosStateTimeoutError);
      expect((err as Error).message).toMatch(/no sensor_msgs\/msg\/JointState .* on \/joint_states within 200 ms/);
      const koch = ['a', 'b', 'c', 'd', 'e', 'f'];
      await expect(OnnxPolicy.load(model, { jointNames: koch, observation: [{ name: 'follower.position', size: 6 }, { name: 'target.position', size: 3 }] })).rejects.toBeInstanceOf(ModelMismatchError);
    } finally {
      await policy.close();
      await close();
    }
  }, 30_000);
});
