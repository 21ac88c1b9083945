/**
 * A simulated task: what the world publishes like perception (poses of targets and objects), how
 * it scores the follower's physical joints each step (reward, success), and how a person would
 * demonstrate it with the scripted operator. Tasks are data and small classes, not forks of the
 * world (DESIGN.md §7): the world, the rollouts, the recordings, the deploy environment and the
 * trainer's checkpoint selection all go through this interface.
 */
import type { KinematicArm } from './kinematics.ts';
import type { FailureMode, OperatorPlan, ScriptedOperator, Skill } from './operator.ts';
import type { Rng } from './random.ts';

export type TaskName = 'reach' | 'pick-place';
export const TASK_NAMES: readonly TaskName[] = ['reach', 'pick-place'];

/** The task a name (e.g. from metadata) stands for, if it is one. */
export function taskNamed(name: string | undefined): TaskName | undefined {
  return TASK_NAMES.find((t) => t === name);
}

/** A pose the task publishes (geometry_msgs/msg/PoseStamped) and a policy observes (its position). */
export interface TaskFeature {
  /** Observation feature name, e.g. `target.position` (the dataset's layout and the model metadata use it). */
  readonly name: string;
  /** Topic it is recorded and published on, e.g. `/target_pose`. */
  readonly topic: string;
}

export interface TaskEvaluation {
  readonly reward: number;
  /** The task's success condition holds now (the episode's outcome is its value at the end). */
  readonly success: boolean;
  /** The task's distance to done, m: tool to target (reach), cube to goal (pick-place). */
  readonly distanceM: number;
  readonly tool: readonly [number, number, number];
}

export interface SimTask {
  readonly name: TaskName;
  readonly arm: KinematicArm;
  /** Default episode length, s. */
  readonly episodeS: number;
  /** Poses published after the follower's joints, in observation order. */
  readonly features: readonly TaskFeature[];
  /** The poor operator's systematic failure modes for this task. */
  readonly failureModes: readonly FailureMode[];
  /** Draws a new episode's scene from `rng`; returns what the episode's start event records. */
  newEpisode(rng: Rng): Record<string, unknown>;
  /** Has `operator` demonstrate the current episode with `skill` (poor: a failure mode, drawn when not given). */
  demonstrate(operator: ScriptedOperator, rng: Rng, skill: Skill, failure?: FailureMode): OperatorPlan;
  /** Current position of each feature (m, base frame), in `features` order. */
  positions(): readonly (readonly [number, number, number])[];
  /** Scores the follower's physical joint angles at time `nowMs` (advances the task's state: grasp, release). */
  evaluate(joints: ArrayLike<number>, nowMs: number): TaskEvaluation;
  /**
   * Why the episode stands as it does, as a short code: 'success', or the reason it failed
   * (reach: 'not_held'; pick-place: 'never_grasped', 'dropped', 'wrong_spot', 'put_back', 'still_held', 'not_clear').
   */
  outcome(): string;
}

/** The positions of a task's features concatenated (the observation after follower.position). */
export function taskObservation(task: SimTask): number[] {
  return task.positions().flatMap((p) => [p[0], p[1], p[2]]);
}

/** The observation layout a task gives a policy after `follower.position`. */
export function taskLayout(task: Pick<SimTask, 'features'>): { name: string; size: number }[] {
  return task.features.map((f) => ({ name: f.name, size: 3 }));
}
