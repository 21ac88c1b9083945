/**
 * Where `ros deploy` gets each part of a model's observation: the follower's joints from the
 * JointState topic, and every pose the model observes (target.position, object.position,
 * goal.position, in the model's own order) from a geometry_msgs/msg/PoseStamped topic or a fixed
 * value. Pure code: the plan is made from the model's metadata before anything is subscribed, so a
 * model that observes what the node cannot provide, or a pose source the model does not observe,
 * is refused before the first command.
 */
import { ArmbridgeError } from '../errors.ts';

/** The poses a model may observe after the joints, as `<name>.position` (3 values, metres). */
export const POSE_NAMES = ['target', 'object', 'goal'] as const;
export type PoseName = (typeof POSE_NAMES)[number];

/**
 * Topics used for a pose the model observes when none is given: what `deploy --sim --task
 * pick-place` and the recorder publish. The target has none: a reach model names its topic.
 */
export const DEFAULT_POSE_TOPICS: Readonly<Partial<Record<PoseName, string>>> = { object: '/object_pose', goal: '/goal_pose' };

export type PoseSource = { readonly topic: string } | { readonly value: readonly [number, number, number] };
export type PoseSources = Readonly<Partial<Record<PoseName, PoseSource>>>;

/** One part of the observation vector, at `offset` (model order). */
export type ObservationPart =
  | { readonly kind: 'joints'; readonly name: 'follower.position'; readonly offset: number; readonly size: number }
  /** A pose: one of POSE_NAMES, or any other PoseStamped topic the model was trained on (`pose:/TOPIC`, `pose` is then the feature's name). */
  | { readonly kind: 'pose'; readonly name: string; readonly pose: PoseName | `pose:${string}`; readonly offset: number; readonly source: PoseSource };

export interface ObservationPlan {
  readonly parts: readonly ObservationPart[];
  /** The layout the plan fills (the model's): what OnnxPolicy.load is told the loop provides. */
  readonly layout: readonly { readonly name: string; readonly size: number }[];
  readonly size: number;
}

const flagOf = (p: PoseName) => `--${p}-topic TOPIC or --${p} x,y,z`;

/** The model observes a part this node has no source for. */
export class RosObservationMissingError extends ArmbridgeError {
  constructor(readonly model: string, readonly part: string, detail: string) {
    super('ROS_OBSERVATION_MISSING', `${model} observes ${part}, but ${detail}`);
  }
}

/** A pose source was given for a pose the model does not observe (a reach model given --object-topic, …). */
export class RosPoseUnobservedError extends ArmbridgeError {
  constructor(readonly model: string, readonly pose: PoseName, observation: readonly string[]) {
    super('ROS_POSE_UNOBSERVED', `${model} does not observe ${pose}.position (it observes ${observation.join(', ')}): drop --${pose}-topic / --${pose}, or deploy a model trained with a ${pose} (pick-place models observe object and goal, reach models the target)`);
  }
}

/**
 * The plan for `observation` (the model's layout, in order) from `sources`; a pose the model
 * observes without a source takes its DEFAULT_POSE_TOPICS topic. Throws when the model observes
 * anything else than the joints and these poses, a pose without a source, or when a source is
 * given for a pose it does not observe.
 */
export function planObservation(model: string, observation: readonly { readonly name: string; readonly size: number }[], jointCount: number, sources: PoseSources = {}): ObservationPlan {
  const parts: ObservationPart[] = [];
  const names = observation.map((p) => p.name);
  let offset = 0;
  for (const p of observation) {
    if (p.name === 'follower.position') {
      if (p.size !== jointCount) throw new RosObservationMissingError(model, `${p.name}[${p.size}]`, `the arm has ${jointCount} joints: deploy it on the arm it was trained for (--arm)`);
      parts.push({ kind: 'joints', name: 'follower.position', offset, size: p.size });
    } else {
      // `pose:/TOPIC` (the dataset's name for a pose on any PoseStamped topic; see dataset/features.ts).
      if (p.name.startsWith('pose:/')) {
        // A pose on another topic (a perception node's): subscribed on the topic it was recorded from.
        if (p.size !== 3) throw new RosObservationMissingError(model, `${p.name}[${p.size}]`, 'a pose position has 3 values (x, y, z): the model file is not one armbridge train wrote');
        parts.push({ kind: 'pose', name: p.name, pose: p.name as `pose:${string}`, offset, source: { topic: p.name.slice('pose:'.length) } });
        offset += p.size;
        continue;
      }
      const pose = POSE_NAMES.find((n) => p.name === `${n}.position`);
      if (!pose) throw new RosObservationMissingError(model, p.name, `ros deploy provides only follower.position (from the JointState topic), ${POSE_NAMES.map((n) => `${n}.position`).join(', ')} (PoseStamped topics or fixed values) and pose:/TOPIC (that PoseStamped topic)`);
      if (p.size !== 3) throw new RosObservationMissingError(model, `${p.name}[${p.size}]`, 'a pose position has 3 values (x, y, z): the model file is not one armbridge train wrote');
      const given = sources[pose];
      const topic = DEFAULT_POSE_TOPICS[pose];
      const source = given ?? (topic ? { topic } : undefined);
      if (!source) throw new RosObservationMissingError(model, p.name, `no source for it was given: give ${flagOf(pose)} (deploy --sim publishes the ${pose} on /${pose}_pose)`);
      parts.push({ kind: 'pose', name: `${pose}.position`, pose, offset, source });
    }
    offset += p.size;
  }
  if (!parts.some((p) => p.kind === 'joints')) throw new RosObservationMissingError(model, `[${names.join(', ')}]`, 'it does not observe follower.position: ros deploy runs models that observe the arm\'s joints');
  for (const pose of POSE_NAMES) if (sources[pose] && !names.includes(`${pose}.position`)) throw new RosPoseUnobservedError(model, pose, names);
  return { parts, layout: observation.map((p) => ({ name: p.name, size: p.size })), size: offset };
}

/** "follower.position ← /joint_states, object.position ← /object_pose, goal.position = (0.17, -0.08, 0.0125)". */
export function describePlan(plan: ObservationPlan, stateTopic: string): string {
  return plan.parts
    .map((p) => (p.kind === 'joints' ? `${p.name} ← ${stateTopic}` : 'topic' in p.source ? `${p.name} ← ${p.source.topic}` : `${p.name} = (${p.source.value.join(', ')})`))
    .join(', ');
}
