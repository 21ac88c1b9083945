/**
 * The simulated task: bring the tool to a target point (published like a perception topic,
 * `target_pose`) and hold it there. Reward per step is the negative distance in metres; success is
 * being within `successRadiusM` for the last `holdS` seconds. Targets are drawn from a family of
 * reachable joint configurations (pan, lift and elbow vary; wrist, roll and gripper fixed), so the
 * target point determines the joint configuration and a policy can learn the mapping.
 */
import { forwardKinematics, type KinematicArm } from './kinematics.ts';
import { FAILURE_MODES, type FailureMode, type OperatorPlan, type ScriptedOperator, type Skill } from './operator.ts';
import type { Rng } from './random.ts';
import type { SimTask, TaskFeature } from './task.ts';

export interface ReachTarget {
  /** Physical joint angles that reach the target (radians; gripper last). */
  readonly joints: readonly number[];
  /** Target point in the base frame, metres. */
  readonly position: readonly [number, number, number];
}

export interface ReachEvaluation {
  readonly distanceM: number;
  readonly reward: number;
  /** Within the radius for the last holdS seconds. */
  readonly success: boolean;
  readonly tool: readonly [number, number, number];
}

export interface ReachTaskOptions {
  readonly arm: KinematicArm;
  readonly successRadiusM?: number;
  readonly holdS?: number;
  /** Reward added on each step while the success condition holds (default 0.1, five times the radius). */
  readonly successBonus?: number;
}

const SO101_FAMILY = { pan: [-0.9, 0.9], lift: [-0.3, 0.9], elbow: [-0.5, 0.6], wrist: 0.4, roll: 0, gripper: 0.5 } as const;
const KOCH_FAMILY = { pan: [-0.9, 0.9], lift: [-0.5, 0.7], elbow: [-0.8, 0.6], wrist: -0.5, roll: 0, gripper: -0.4 } as const;

const REACH_FEATURES: readonly TaskFeature[] = [{ name: 'target.position', topic: '/target_pose' }];

export class ReachTask implements SimTask {
  readonly name = 'reach' as const;
  readonly episodeS = 3;
  readonly features = REACH_FEATURES;
  readonly failureModes = FAILURE_MODES;
  readonly arm: KinematicArm;
  readonly successRadiusM: number;
  readonly holdS: number;
  readonly successBonus: number;
  #target: ReachTarget | undefined;
  #withinSinceMs = -1;
  #lastSuccess = false;

  constructor(options: ReachTaskOptions) {
    this.arm = options.arm;
    this.successRadiusM = options.successRadiusM ?? 0.02;
    this.holdS = options.holdS ?? 0.5;
    this.successBonus = options.successBonus ?? 0.1;
  }

  get target(): ReachTarget | undefined {
    return this.#target;
  }

  sampleTarget(rng: Rng): ReachTarget {
    const f = this.arm === 'so101' ? SO101_FAMILY : KOCH_FAMILY;
    const joints = [rng.uniform(f.pan[0], f.pan[1]), rng.uniform(f.lift[0], f.lift[1]), rng.uniform(f.elbow[0], f.elbow[1]), f.wrist, f.roll, f.gripper];
    return this.setTarget(joints);
  }

  newEpisode(rng: Rng): Record<string, unknown> {
    const t = this.sampleTarget(rng);
    return { target: [...t.position], target_joints: [...t.joints] };
  }

  /** The operator heads for the target's joint configuration. */
  demonstrate(operator: ScriptedOperator, _rng: Rng, skill: Skill, failure?: FailureMode): OperatorPlan {
    if (!this.#target) throw new RangeError('ReachTask.demonstrate before newEpisode');
    return operator.start(this.#target.joints, skill, failure);
  }

  outcome(): string {
    return this.#lastSuccess ? 'success' : 'not_held';
  }

  positions(): readonly (readonly [number, number, number])[] {
    return this.#target ? [this.#target.position] : [[NaN, NaN, NaN]];
  }

  setTarget(joints: readonly number[]): ReachTarget {
    this.#target = { joints: [...joints], position: forwardKinematics(this.arm, joints) };
    this.#withinSinceMs = -1;
    this.#lastSuccess = false;
    return this.#target;
  }

  /** Scores the arm's physical joint angles at time `nowMs`. */
  evaluate(joints: ArrayLike<number>, nowMs: number): ReachEvaluation {
    const t = this.#target;
    const tool = forwardKinematics(this.arm, joints);
    if (!t) return { distanceM: NaN, reward: 0, success: false, tool };
    const d = Math.hypot(tool[0] - t.position[0], tool[1] - t.position[1], tool[2] - t.position[2]);
    if (d <= this.successRadiusM) {
      if (this.#withinSinceMs < 0) this.#withinSinceMs = nowMs;
    } else this.#withinSinceMs = -1;
    const success = this.#withinSinceMs >= 0 && nowMs - this.#withinSinceMs >= this.holdS * 1000;
    this.#lastSuccess = success;
    return { distanceM: d, reward: -d + (success ? this.successBonus : 0), success, tool };
  }
}
