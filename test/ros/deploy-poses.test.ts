import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicyMetadata } from '../../src/control/control-rate.ts';
import { OnnxPolicy } from '../../src/control/onnx-policy.ts';
import { writeOnnx } from '../../src/learn/onnx-export.ts';
import { metadataToProps, POLICY_FORMAT } from '../../src/dataset/policy-metadata.ts';
import { runRosDeploy } from '../../src/ros/deploy-node.ts';
import { planObservation, RosObservationMissingError, RosPoseUnobservedError, type PoseSources } from '../../src/ros/deploy-poses.ts';
import { jointStateMessage, TOPICS, TYPES } from '../../src/ros/mapping.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';
import { identityPolicy, SO101_JOINTS } from '../helpers/models.ts';
import { MemoryGraph } from './memory-graph.ts';

const pose = (p: readonly number[]) => ({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'base_link' }, pose: { position: { x: p[0]!, y: p[1]!, z: p[2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });
// Mid-range so101 joints (inside the simulated calibration's limits), radians; the gripper normalised.
const JOINTS = [0.05, -0.3, 0.4, 0.5, -0.1, 0.5];
const OBJECT = [0.19, 0.05, 0.0125];
const GOAL = [0.17, -0.08, 0.0125];
const LOWER = [-2, -2, -2, -2, -3, 0];
const UPPER = [2, 2, 2, 2, 3, 1];

/** Publishes the joints on /joint_states every 10 ms (the watchdog wants fresh state) until stopped. */
function jointPublisher(graph: MemoryGraph): () => void {
  const send = () => graph.publish(TOPICS.jointStates, TYPES.jointState, jointStateMessage(SO101_JOINTS, JOINTS, graph.now()));
  send();
  const timer = setInterval(send, 10);
  return () => clearInterval(timer);
}

/** The policy with every observation it is given recorded (a copy: the node reuses its vector). */
function recording(policy: OnnxPolicy): number[][] {
  const seen: number[][] = [];
  const infer = policy.infer.bind(policy);
  policy.infer = (x) => {
    seen.push(Array.from(x));
    return infer(x);
  };
  return seen;
}

describe('ros deploy: the observation is the model\'s layout, each pose from a topic or a fixed value', () => {
  let dir = '';
  let pickPlace = '';
  let reach = '';
  let shuffled = '';
  const open: OnnxPolicy[] = [];
  const load = async (path: string) => {
    const p = await OnnxPolicy.load(path, { jointNames: SO101_JOINTS, observation: (await readPolicyMetadata(path)).observation });
    open.push(p);
    return p;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'armbridge-ros-poses-'));
    const data = join(dir, 'pp.mcap');
    // A tiny pick-and-place model: it observes the joints, the cube and the goal (as trained).
    await rollout({ arm: 'so101', task: 'pick-place', seed: 3, episodes: 3, episodeS: 1, rateHz: 50, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    pickPlace = (await trainFromRecordings({ data: [data], out: join(dir, 'm'), algo: 'bc', hidden: [16], epochs: 2, seed: 1, backend: 'cpu', valFraction: 0.34, selectOnSim: false })).modelPath;
    reach = await identityPolicy(dir, { withTarget: true, meta: { rateHz: 50 } });
    // A model whose layout puts the poses around the joints: the node must follow its order, not assume one.
    shuffled = join(dir, 'shuffled.onnx');
    const w = new Float32Array(12 * 6);
    for (let i = 0; i < 6; i++) w[(3 + i) * 6 + i] = 1;
    await writeOnnx(shuffled, {
      layers: [{ inputs: 12, outputs: 6, weight: w, bias: new Float32Array(6) }],
      obsMean: new Float32Array(12),
      obsStd: new Float32Array(12).fill(1),
      actMean: new Float32Array(6),
      actStd: new Float32Array(6).fill(1),
      metadata: metadataToProps({
        format: POLICY_FORMAT,
        arm: 'so101',
        jointNames: SO101_JOINTS,
        observation: [{ name: 'goal.position', size: 3 }, { name: 'follower.position', size: 6 }, { name: 'object.position', size: 3 }],
        action: [{ name: 'action.position', size: 6 }],
        policyKind: 'mlp-deterministic',
        algo: 'bc',
        rateHz: 50,
        dataDigest: '0',
        trainingBackend: 'test',
        created: 'now',
      }),
    });
  }, 120_000);

  afterAll(async () => {
    for (const p of open) await p.close();
  });

  it('a trained pick-and-place model, fed joints, object and goal topics, gets [joints, object, goal] and commands the arm', async () => {
    const policy = await load(pickPlace);
    expect(policy.metadata.observation).toEqual([{ name: 'follower.position', size: 6 }, { name: 'object.position', size: 3 }, { name: 'goal.position', size: 3 }]);
    const seen = recording(policy);
    const graph = new MemoryGraph();
    const stop = jointPublisher(graph);
    // The poses arrive late, and the goal after the object: the node holds until both have.
    const t1 = setTimeout(() => graph.publish('/object_pose', TYPES.poseStamped, pose(OBJECT)), 150);
    const t2 = setTimeout(() => graph.publish('/goal_pose', TYPES.poseStamped, pose(GOAL)), 300);
    try {
      // No pose flags: a pick-place model's object and goal come from /object_pose and /goal_pose.
      const r = await runRosDeploy({ graph, policy, jointNames: SO101_JOINTS, lower: LOWER, upper: UPPER, durationS: 0.8 });
      expect(r.rate).toMatchObject({ rateHz: 50, source: 'model' });
      expect(r.observation.parts.map((p) => (p.kind === 'pose' ? `${p.name}<-${'topic' in p.source ? p.source.topic : 'value'}` : p.name))).toEqual(['follower.position', 'object.position<-/object_pose', 'goal.position<-/goal_pose']);
      expect(graph.types.get('/object_pose')).toBe(TYPES.poseStamped);
      expect(r.waitingForPoses).toBeGreaterThan(0);
      expect(r.published).toBe(r.cycles);
      expect(r.inferenceUs.length).toBe(r.published - r.waitingForPoses);
      expect(graph.messages(TOPICS.forwardCommands)).toHaveLength(r.published);
      expect(r.safety.faults).toBe(0);
      // Inference only once both poses were there, on the values published, in the model's order.
      expect(seen.length).toBe(r.inferenceUs.length);
      for (const obs of seen) expect(obs).toEqual([...JOINTS, ...OBJECT, ...GOAL].map((v) => expect.closeTo(v, 6)));
    } finally {
      clearTimeout(t1);
      clearTimeout(t2);
      stop();
    }
  }, 30_000);

  it('follows the model\'s order for any layout, with fixed values and topics mixed', async () => {
    const policy = await load(shuffled);
    const seen = recording(policy);
    const graph = new MemoryGraph();
    const stop = jointPublisher(graph);
    const t = setTimeout(() => graph.publish('/cube', TYPES.poseStamped, pose(OBJECT)), 100);
    try {
      const r = await runRosDeploy({ graph, policy, jointNames: SO101_JOINTS, lower: LOWER, upper: UPPER, durationS: 0.5, poses: { goal: { value: [GOAL[0]!, GOAL[1]!, GOAL[2]!] }, object: { topic: '/cube' } } });
      expect(graph.types.has('/goal_pose')).toBe(false);
      expect(r.waitingForPoses).toBeGreaterThan(0);
      expect(seen.length).toBeGreaterThan(5);
      for (const obs of seen) expect(obs).toEqual([...GOAL, ...JOINTS, ...OBJECT].map((v) => expect.closeTo(v, 6)));
      // The model's action is its joints (weights on inputs 3…8): the arm is held where it is.
      const last = graph.messages(TOPICS.forwardCommands).at(-1) as { data: number[] };
      expect(last.data).toEqual(JOINTS.map((v) => expect.closeTo(v, 5)));
    } finally {
      clearTimeout(t);
      stop();
    }
  }, 30_000);

  it('runs at once on fixed values alone (no pose topic to wait for)', async () => {
    const policy = await load(pickPlace);
    const seen = recording(policy);
    const graph = new MemoryGraph();
    const stop = jointPublisher(graph);
    try {
      const r = await runRosDeploy({ graph, policy, jointNames: SO101_JOINTS, lower: LOWER, upper: UPPER, durationS: 0.3, poses: { object: { value: [OBJECT[0]!, OBJECT[1]!, OBJECT[2]!] }, goal: { value: [GOAL[0]!, GOAL[1]!, GOAL[2]!] } } });
      expect(r.waitingForPoses).toBe(0);
      expect(r.published).toBeGreaterThan(0);
      expect(seen).toHaveLength(r.published);
      expect(seen[0]).toEqual([...JOINTS, ...OBJECT, ...GOAL].map((v) => expect.closeTo(v, 6)));
      expect(graph.types.has('/object_pose') || graph.types.has('/goal_pose')).toBe(false);
    } finally {
      stop();
    }
  }, 30_000);

  it('refuses, before subscribing, a pose the model observes without a source and a source for a pose it does not observe', async () => {
    const reachPolicy = await load(reach);
    const ppPolicy = await load(pickPlace);
    const attempt = async (policy: OnnxPolicy, poses?: PoseSources) => {
      const graph = new MemoryGraph();
      const e = await runRosDeploy({ graph, policy, jointNames: SO101_JOINTS, lower: LOWER, upper: UPPER, durationS: 0.2, stateTimeoutMs: 100, poses }).catch((x: unknown) => x);
      expect(graph.types.size).toBe(0);
      return e;
    };
    const missing = await attempt(reachPolicy);
    expect(missing).toBeInstanceOf(RosObservationMissingError);
    expect(missing).toMatchObject({ code: 'ROS_OBSERVATION_MISSING' });
    expect((missing as Error).message).toMatch(/observes target\.position, but no source for it was given: give --target-topic TOPIC or --target x,y,z/);
    const unobserved = await attempt(ppPolicy, { target: { topic: TOPICS.targetPose } });
    expect(unobserved).toBeInstanceOf(RosPoseUnobservedError);
    expect(unobserved).toMatchObject({ code: 'ROS_POSE_UNOBSERVED' });
    expect((unobserved as Error).message).toMatch(/does not observe target\.position \(it observes follower\.position, object\.position, goal\.position\): drop --target-topic/);
    expect(await attempt(reachPolicy, { object: { value: [0.2, 0, 0] }, target: { topic: TOPICS.targetPose } })).toBeInstanceOf(RosPoseUnobservedError);
  }, 30_000);

  it('plans only what it can provide: joints of the arm\'s size and 3-value poses', () => {
    const f6 = { name: 'follower.position', size: 6 };
    expect(() => planObservation('m.onnx', [f6, { name: 'leader.position', size: 6 }], 6)).toThrow(/observes leader\.position, but ros deploy provides only follower\.position/);
    expect(() => planObservation('m.onnx', [{ name: 'follower.position', size: 5 }], 6)).toThrow(RosObservationMissingError);
    expect(() => planObservation('m.onnx', [f6, { name: 'goal.position', size: 2 }], 6)).toThrow(/3 values/);
    expect(() => planObservation('m.onnx', [{ name: 'goal.position', size: 3 }], 6)).toThrow(/does not observe follower\.position/);
    expect(planObservation('m.onnx', [f6], 6)).toMatchObject({ size: 6, parts: [{ kind: 'joints', offset: 0 }] });
  });
});

describe('ros deploy: models trained on what a real recording holds', () => {
  it('plans a joint-only model with no pose, and a pose on any PoseStamped topic (pose:/TOPIC) from that topic', () => {
    const joints = planObservation('m.onnx', [{ name: 'follower.position', size: 6 }], 6);
    expect(joints.parts.map((p) => p.kind)).toEqual(['joints']);
    const cup = planObservation('m.onnx', [{ name: 'follower.position', size: 6 }, { name: 'pose:/cup_pose', size: 3 }], 6);
    expect(cup.parts[1]).toMatchObject({ kind: 'pose', name: 'pose:/cup_pose', offset: 6, source: { topic: '/cup_pose' } });
    expect(cup.size).toBe(9);
    expect(() => planObservation('m.onnx', [{ name: 'follower.position', size: 6 }, { name: 'pose:/cup_pose', size: 2 }], 6)).toThrow(RosObservationMissingError);
  });
});
