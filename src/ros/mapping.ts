/**
 * Arm state ↔ ROS 2 messages, pure code (tested without ROS): the rclnodejs shell only moves these
 * objects. Topic names follow ros2_control: `/joint_states` out; commands in on
 * `/<controller>/commands` (std_msgs/msg/Float64MultiArray, as forward_command_controller) and
 * `/<controller>/joint_trajectory` (trajectory_msgs/msg/JointTrajectory, first point used).
 */
import { RosCommandError, RosMessageError } from './errors.ts';
import type { QosProfile } from './graph.ts';

export const TOPICS = {
  jointStates: '/joint_states',
  leaderJointStates: '/leader/joint_states',
  forwardCommands: '/forward_position_controller/commands',
  trajectory: '/joint_trajectory_controller/joint_trajectory',
  targetPose: '/target_pose',
} as const;

export const TYPES = {
  jointState: 'sensor_msgs/msg/JointState',
  float64MultiArray: 'std_msgs/msg/Float64MultiArray',
  jointTrajectory: 'trajectory_msgs/msg/JointTrajectory',
  poseStamped: 'geometry_msgs/msg/PoseStamped',
  trigger: 'std_srvs/srv/Trigger',
} as const;

/** std_srvs/srv/Trigger services under a namespace: the bridge's are under /armbridge. */
export function servicesUnder(ns: string) {
  return {
    episodeStart: `${ns}/episode/start`,
    episodeStop: `${ns}/episode/stop`,
    episodeDiscard: `${ns}/episode/discard`,
    estop: `${ns}/estop`,
  } as const;
}

export const SERVICES = servicesUnder('/armbridge');
/** `ros record` offers its episode services here, so it can run beside a bridge. */
export const RECORD_SERVICES = servicesUnder('/armbridge_record');

/**
 * QoS: state at sensor-data QoS (best effort, keep last 1: a late state is worthless, a newer one
 * replaces it); commands reliable, keep last 1 (as ros2_control's controllers subscribe).
 */
export const QOS = {
  state: { reliability: 'best_effort', history: 'keep_last', depth: 1 },
  command: { reliability: 'reliable', history: 'keep_last', depth: 1 },
} as const satisfies Record<string, QosProfile>;

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

/** forward_command_controller's message: one value per joint, no layout. */
export function float64MultiArrayMessage(values: ArrayLike<number>) {
  return { layout: { dim: [] as { label: string; size: number; stride: number }[], data_offset: 0 }, data: Array.from(values) };
}

function isNumbers(v: unknown): v is ArrayLike<number> {
  if (v instanceof Float64Array || v instanceof Float32Array) return true;
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

function isStrings(v: unknown): v is readonly string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** A command message as it arrives from the graph (unchecked) → target positions in joint order. */
export function commandFromMessage(kind: 'forward' | 'trajectory', msg: unknown, jointNames: readonly string[], topic: string): Float64Array {
  const m = msg as Record<string, unknown> | null;
  if (kind === 'forward') {
    if (!m || !isNumbers(m.data)) throw new RosCommandError(topic, 'not a std_msgs/msg/Float64MultiArray (no numeric data)');
    return commandFromFloat64MultiArray({ data: m.data }, jointNames, topic);
  }
  const points = m?.points;
  if (!m || !isStrings(m.joint_names) || !Array.isArray(points) || !points.every((p: unknown) => isNumbers((p as { positions?: unknown } | null)?.positions))) {
    throw new RosCommandError(topic, 'not a trajectory_msgs/msg/JointTrajectory (joint_names and points[].positions)');
  }
  return commandFromJointTrajectory({ joint_names: m.joint_names, points: points as { positions: ArrayLike<number> }[] }, jointNames, topic);
}

/**
 * A JointState from another arm → positions in `jointNames` order (by name; an unnamed message is
 * taken in order when its length fits). Without `jointNames`, the message's own order and names.
 */
export function positionsFromJointState(msg: unknown, topic: string, jointNames?: readonly string[]): { names: string[]; positions: Float64Array; stampNs: bigint } {
  const m = msg as { name?: unknown; position?: unknown; header?: { stamp?: { sec?: unknown; nanosec?: unknown } } } | null;
  if (!m || !isNumbers(m.position)) throw new RosMessageError(topic, 'not a sensor_msgs/msg/JointState (no numeric position)');
  const names = isStrings(m.name) ? [...m.name] : [];
  const stamp = m.header?.stamp;
  const stampNs = typeof stamp?.sec === 'number' && typeof stamp.nanosec === 'number' ? BigInt(stamp.sec) * 1_000_000_000n + BigInt(stamp.nanosec) : 0n;
  if (!jointNames) return { names, positions: Float64Array.from(m.position), stampNs };
  const out = new Float64Array(jointNames.length);
  if (names.length === 0) {
    if (m.position.length !== jointNames.length) throw new RosMessageError(topic, `${m.position.length} unnamed positions for ${jointNames.length} joints`);
    out.set(Array.from(m.position));
    return { names: [...jointNames], positions: out, stampNs };
  }
  for (let i = 0; i < jointNames.length; i++) {
    const k = names.indexOf(jointNames[i]!);
    if (k < 0 || k >= m.position.length) throw new RosMessageError(topic, `joint "${jointNames[i]}" is missing (got ${names.join(', ')})`);
    out[i] = m.position[k]!;
  }
  return { names: [...jointNames], positions: out, stampNs };
}

/** geometry_msgs/msg/PoseStamped → [x, y, z]. */
export function positionFromPoseStamped(msg: unknown, topic: string): [number, number, number] {
  const p = (msg as { pose?: { position?: { x?: unknown; y?: unknown; z?: unknown } } } | null)?.pose?.position;
  if (!p || typeof p.x !== 'number' || typeof p.y !== 'number' || typeof p.z !== 'number') throw new RosMessageError(topic, 'not a geometry_msgs/msg/PoseStamped (pose.position.x/y/z)');
  return [p.x, p.y, p.z];
}
