/**
 * The observation/action layout: named features, each read from one recorded topic. This is also
 * the contract a trained model carries in its metadata and the control loop checks against the arm.
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

export const DEFAULT_OBSERVATION = ['follower.position', 'target.position'] as const;
/** Pick and place: the cube's pose (as perceived, it moves while carried) and the goal's. */
export const PICK_PLACE_OBSERVATION = ['follower.position', 'object.position', 'goal.position'] as const;

/** The default observation of recordings that have these topics: pick-and-place's when /object_pose is there. */
export function defaultObservation(topics: ReadonlySet<string>): readonly string[] {
  return topics.has('/object_pose') ? PICK_PLACE_OBSERVATION : DEFAULT_OBSERVATION;
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
