import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { RosCommandError, RosMessageError, RosUnavailableError } from '../../src/ros/errors.ts';
import { commandFromFloat64MultiArray, commandFromJointTrajectory, commandFromMessage, float64MultiArrayMessage, jointStateMessage, positionFromPoseStamped, positionsFromJointState, QOS, RECORD_SERVICES, SERVICES, TOPICS } from '../../src/ros/mapping.ts';
import { loadRclnodejs } from '../../src/ros/rclnodejs.ts';

const NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

describe('ROS 2 message mapping (pure, no ROS needed)', () => {
  it('builds sensor_msgs/JointState with the stamp split into sec/nanosec', () => {
    const m = jointStateMessage(NAMES, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 1_700_000_000_123_456_789n);
    expect(m.header.stamp).toEqual({ sec: 1_700_000_000, nanosec: 123_456_789 });
    expect(m.name).toEqual(NAMES);
    expect(m.position).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(TOPICS.jointStates).toBe('/joint_states');
    expect(QOS.state.reliability).toBe('best_effort');
  });

  it('takes a forward_command_controller Float64MultiArray with one value per joint, else refuses', () => {
    expect(Array.from(commandFromFloat64MultiArray({ data: [1, 2, 3, 4, 5, 6] }, NAMES))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => commandFromFloat64MultiArray({ data: [1, 2] }, NAMES)).toThrow(RosCommandError);
    expect(() => commandFromFloat64MultiArray({ data: [1, 2] }, NAMES)).toThrow(/2 values for 6 joints/);
  });

  it('reorders a JointTrajectory by joint name and refuses missing or unknown joints', () => {
    const shuffled = [...NAMES].reverse();
    const cmd = commandFromJointTrajectory({ joint_names: shuffled, points: [{ positions: [6, 5, 4, 3, 2, 1] }] }, NAMES);
    expect(Array.from(cmd)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => commandFromJointTrajectory({ joint_names: NAMES.slice(1), points: [{ positions: [1, 2, 3, 4, 5] }] }, NAMES)).toThrow(/joint "shoulder_pan" is missing/);
    expect(() => commandFromJointTrajectory({ joint_names: [...NAMES, 'extra'], points: [{ positions: [1, 2, 3, 4, 5, 6, 7] }] }, NAMES)).toThrow(/unknown joint\(s\) extra/);
    expect(() => commandFromJointTrajectory({ joint_names: NAMES, points: [] }, NAMES)).toThrow(/no points/);
  });
});

describe('mapping of messages from the graph (unchecked input)', () => {
  it('reads a JointState by joint name, in any order, and refuses one without a joint', () => {
    const msg = { header: { stamp: { sec: 3, nanosec: 5 }, frame_id: '' }, name: [...NAMES].reverse(), position: Float64Array.of(6, 5, 4, 3, 2, 1), velocity: [], effort: [] };
    const r = positionsFromJointState(msg, '/joint_states', NAMES);
    expect(Array.from(r.positions)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.stampNs).toBe(3_000_000_005n);
    expect(positionsFromJointState(msg, '/joint_states').names).toEqual([...NAMES].reverse());
    expect(Array.from(positionsFromJointState({ position: [1, 2, 3, 4, 5, 6] }, '/j', NAMES).positions)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => positionsFromJointState({ ...msg, name: NAMES.slice(1), position: [1, 2, 3, 4, 5] }, '/joint_states', NAMES)).toThrow(RosMessageError);
    expect(() => positionsFromJointState({ data: [1] }, '/joint_states', NAMES)).toThrow(/message on \/joint_states not understood: not a sensor_msgs\/msg\/JointState/);
  });

  it('checks the shape of commands before mapping them, and builds forward_command_controller messages', () => {
    expect(Array.from(commandFromMessage('forward', float64MultiArrayMessage([1, 2, 3, 4, 5, 6]), NAMES, '/c'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => commandFromMessage('forward', { data: 'x' }, NAMES, '/c')).toThrow(/not a std_msgs\/msg\/Float64MultiArray/);
    expect(() => commandFromMessage('trajectory', { joint_names: NAMES }, NAMES, '/t')).toThrow(/not a trajectory_msgs\/msg\/JointTrajectory/);
    expect(() => commandFromMessage('forward', null, NAMES, '/c')).toThrow(RosCommandError);
    expect(float64MultiArrayMessage(Float64Array.of(1, 2))).toEqual({ layout: { dim: [], data_offset: 0 }, data: [1, 2] });
    expect(positionFromPoseStamped({ pose: { position: { x: 1, y: 2, z: 3 } } }, '/target_pose')).toEqual([1, 2, 3]);
    expect(() => positionFromPoseStamped({ pose: {} }, '/target_pose')).toThrow(RosMessageError);
  });

  it('names the services and keeps the recorder\'s apart from the bridge\'s', () => {
    expect(SERVICES).toEqual({ episodeStart: '/armbridge/episode/start', episodeStop: '/armbridge/episode/stop', episodeDiscard: '/armbridge/episode/discard', estop: '/armbridge/estop' });
    expect(RECORD_SERVICES.episodeStart).toBe('/armbridge_record/episode/start');
    expect(QOS.command).toEqual({ reliability: 'reliable', history: 'keep_last', depth: 1 });
  });
});

describe('without a sourced ROS 2', () => {
  it('loading rclnodejs fails with RosUnavailableError saying what to source', async () => {
    const err = await loadRclnodejs({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RosUnavailableError);
    expect((err as Error).message).toMatch(/ROS 2 is not sourced: run `source \/opt\/ros\/<distro>\/setup.bash`/);
  });

  it.skipIf(!!process.env.ROS_DISTRO)('armbridge ros exits 1 with that message', async () => {
    let err = '';
    const sink = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
    const code = await main(['ros', '--mode', 'bridge', '--sim'], { stdout: sink as unknown as typeof process.stdout, stderr: sink as unknown as typeof process.stderr });
    expect(code).toBe(1);
    expect(err).toMatch(/ROS 2 is not sourced.*\[ROS_UNAVAILABLE\]/);
  });
});
