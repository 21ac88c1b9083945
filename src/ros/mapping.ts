/**
 * Arm state ↔ ROS 2 messages, pure code (tested without ROS): the rclnodejs shell only moves these
 * objects. Topic names follow ros2_control: `/joint_states` out; commands in on
 * `/<controller>/commands` (std_msgs/msg/Float64MultiArray, as forward_command_controller) and
 * `/<controller>/joint_trajectory` (trajectory_msgs/msg/JointTrajectory, first point used).
 */
import { RosCommandError } from './errors.ts';

export const TOPICS = {
  jointStates: '/joint_states',
  forwardCommands: '/forward_position_controller/commands',
  trajectory: '/joint_trajectory_controller/joint_trajectory',
} as const;

/** QoS: state at sensor-data QoS (best effort, keep last 1); commands reliable, keep last 1. */
export const QOS = {
  state: { reliability: 'best_effort', history: 'keep_last', depth: 1 },
  command: { reliability: 'reliable', history: 'keep_last', depth: 1 },
} as const;

export interface RosTimeMsg {
  sec: number;
  nanosec: number;
}

export function jointStateMessage(names: readonly string[], positions: ArrayLike<number>, stampNs: bigint) {
  return {
    header: { stamp: { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) } as RosTimeMsg, frame_id: '' },
    name: [...names],
    position: Array.from(positions),
    velocity: [] as number[],
    effort: [] as number[],
  };
}

/** forward_command_controller: one value per joint, in the controller's joint order (ours). */
export function commandFromFloat64MultiArray(msg: { data: ArrayLike<number> }, jointNames: readonly string[], topic: string = TOPICS.forwardCommands): Float64Array {
  if (msg.data.length !== jointNames.length) {
    throw new RosCommandError(topic, `${msg.data.length} values for ${jointNames.length} joints (${jointNames.join(', ')})`);
  }
  return Float64Array.from(msg.data);
}

/** JointTrajectory: joints by name (any order); the first point's positions are the target. */
export function commandFromJointTrajectory(
  msg: { joint_names: readonly string[]; points: readonly { positions: ArrayLike<number> }[] },
  jointNames: readonly string[],
  topic: string = TOPICS.trajectory,
): Float64Array {
  const point = msg.points[0];
  if (!point) throw new RosCommandError(topic, 'the trajectory has no points');
  if (point.positions.length !== msg.joint_names.length) throw new RosCommandError(topic, `${point.positions.length} positions for ${msg.joint_names.length} joint names`);
  const out = new Float64Array(jointNames.length);
  jointNames.forEach((name, i) => {
    const k = msg.joint_names.indexOf(name);
    if (k < 0) throw new RosCommandError(topic, `joint "${name}" is missing (got ${msg.joint_names.join(', ')})`);
    out[i] = point.positions[k]!;
  });
  const unknown = msg.joint_names.filter((n) => !jointNames.includes(n));
  if (unknown.length) throw new RosCommandError(topic, `unknown joint(s) ${unknown.join(', ')}`);
  return out;
}
