/**
 * The observation/action layout: named features, each read from one recorded topic. This is also
 * the contract a trained model carries in its metadata and the control loop checks against the arm.
 *
 * Feature names:
 *   - `follower.position`, `leader.position`: the arms' joints (sensor_msgs/msg/JointState);
 *   - `target.position`, `object.position`, `goal.position`: the position of a pose on its usual
 *     topic (/target_pose, /object_pose, /goal_pose), as the simulated tasks and `ros deploy` name them;
 *   - `pose:/any/topic`: the position of any other geometry_msgs/msg/PoseStamped topic (a perception
 *     node's output), e.g. `pose:/cup_pose`. `pose:/object_pose` is the same feature as `object.position`.
 * The observation of a recording is the follower's joints (gripper included) followed by the pose
 * topics it holds (known names first, in the order above, then the others by topic), unless `--obs` chooses.
 */
export interface FeatureSpec {
  /** Name as it appears in model metadata, e.g. `follower.position`. */
  readonly name: string;
  readonly topic: string;
  readonly kind: 'joint_state' | 'pose_position';
}

export const FEATURES: Readonly<Record<string, FeatureSpec>> = {
  'follower.position': { name: 'follower.position', topic: '/follower/joint_states', kind: 'joint_state' },
  'leader.position': { name: 'leader.position', topic: '/leader/joint_states', kind: 'joint_state' },
  'target.position': { name: 'target.position', topic: '/target_pose', kind: 'pose_position' },
  'object.position': { name: 'object.position', topic: '/object_pose', kind: 'pose_position' },
  'goal.position': { name: 'goal.position', topic: '/goal_pose', kind: 'pose_position' },
};

export const ACTION_FEATURE: FeatureSpec = { name: 'action.position', topic: '/action', kind: 'joint_state' };

export const POSE_SCHEMA = 'geometry_msgs/msg/PoseStamped';
/** Prefix of a pose feature on any topic. */
export const POSE_PREFIX = 'pose:';

export const DEFAULT_OBSERVATION = ['follower.position', 'target.position'] as const;
/** Pick and place: the cube's pose (as perceived, it moves while carried) and the goal's. */
export const PICK_PLACE_OBSERVATION = ['follower.position', 'object.position', 'goal.position'] as const;
/** A joint-only policy: what a leader/follower recording without perception holds. */
export const JOINT_OBSERVATION = ['follower.position'] as const;

/**
 * The feature a name stands for: a known name, or `pose:/topic` (canonicalised to the known name
 * when the topic is a known one). Undefined for anything else.
 */
export function featureSpec(name: string): FeatureSpec | undefined {
  const known = FEATURES[name];
  if (known) return known;
  if (!name.startsWith(POSE_PREFIX)) return undefined;
  const topic = name.slice(POSE_PREFIX.length);
  if (!/^\/[A-Za-z0-9_/~]+$/.test(topic)) return undefined;
  return poseFeatureOf(topic);
}

/** The pose feature recorded on `topic`: a known name for the usual topics, else `pose:<topic>`. */
export function poseFeatureOf(topic: string): FeatureSpec {
  const known = Object.values(FEATURES).find((f) => f.kind === 'pose_position' && f.topic === topic);
  return known ?? { name: `${POSE_PREFIX}${topic}`, topic, kind: 'pose_position' };
}

/** What names `--obs` accepts, for messages. */
export const FEATURE_NAMES_HELP = `${Object.keys(FEATURES).join(', ')}, or pose:/TOPIC for any geometry_msgs/msg/PoseStamped topic`;

/**
 * The default observation of a recording holding `poseTopics` (the topics of its PoseStamped
 * channels): the follower's joints, then every pose, known ones first (target, object, goal), then
 * the others by topic name. A recording without poses gives a joint-only observation.
 */
export function defaultObservation(poseTopics: ReadonlySet<string>): readonly string[] {
  const known = Object.values(FEATURES).filter((f) => f.kind === 'pose_position' && poseTopics.has(f.topic));
  const others = [...poseTopics].filter((t) => !known.some((f) => f.topic === t)).sort();
  return ['follower.position', ...known.map((f) => f.name), ...others.map((t) => `${POSE_PREFIX}${t}`)];
}

export interface Layout {
  readonly jointNames: readonly string[];
  /** Observation features in order, with their sizes; the observation vector is their concatenation. */
  readonly observation: readonly { readonly name: string; readonly size: number }[];
  readonly action: readonly { readonly name: string; readonly size: number }[];
}

export function layoutSize(parts: Layout['observation']): number {
  return parts.reduce((n, p) => n + p.size, 0);
}

/** A layout as people read it: `follower.position[6] + target.position[3]`. */
export function describeLayout(parts: Layout['observation']): string {
  return parts.map((p) => `${p.name}[${p.size}]`).join(' + ') || '(nothing)';
}
