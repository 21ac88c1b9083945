import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { RosCommandError, RosUnavailableError } from '../../src/ros/errors.ts';
import { commandFromFloat64MultiArray, commandFromJointTrajectory, jointStateMessage, QOS, TOPICS } from '../../src/ros/mapping.ts';
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

describe('without a sourced ROS 2', () => {
  it('loading rclnodejs fails with RosUnavailableError saying what to source', async () => {
    const err = await loadRclnodejs({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RosUnavailableError);
    expect((err as Error).message).toMatch(/ROS 2 is not sourced: run `source \/opt\/ros\/<distro>\/setup.bash`/);
  });

  it.skipIf(!!process.env.ROS_DISTRO)('armbridge ros exits 1 with that message', async () => {
    let err = '';
    const sink = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
    const code = await main(['ros', '--mode', 'bridge'], { stdout: sink as unknown as typeof process.stdout, stderr: sink as unknown as typeof process.stderr });
    expect(code).toBe(1);
    expect(err).toMatch(/ROS 2 is not sourced.*\[ROS_UNAVAILABLE\]/);
  });
});
