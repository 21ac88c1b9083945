/**
 * A small simulated world: a leader arm moved by the scripted operator, a follower arm, and a task
 * (reach, pick-place) scored on the follower's physical joint angles. Episodes draw the task's
 * scene (a target; a cube and a goal) and the operator's demonstration from the world's seeded
 * random stream.
 */
import type { MountJoint } from './calibration-mount.ts';
import { realClock, type SimClock } from './clock.ts';
import { ScriptedOperator, type FailureMode, type OperatorPlan, type Skill } from './operator.ts';
import { createSimArm, type SimArm, type SimArmKind } from './presets.ts';
import { Rng } from './random.ts';
import { createTask } from './create-task.ts';
import type { SimTask, TaskEvaluation, TaskName } from './task.ts';

export interface SimWorldOptions {
  readonly arm: SimArmKind;
  readonly seed?: number;
  readonly clock?: SimClock;
  /** The task (default reach). */
  readonly task?: TaskName;
  /**
   * Which arm the operator's hand moves: the leader (teleoperation, default), or the follower
   * itself with its torque off (kinesthetic teaching; the servos still report where it is).
   */
  readonly hand?: 'leader' | 'follower';
  /**
   * How each episode's scene is drawn: 'random' (default) from the world's seeded stream, a new
   * target or cube and goal every episode; 'fixed': the same scene every episode (drawn from
   * FIXED_SCENE_SEED whatever the world's seed), as on a bench with marked spots. The operator's
   * own randomness (skill, noise, failure modes) still comes from the world's stream.
   */
  readonly scene?: SceneMode;
  /**
   * Mount the leader's / the follower's servos after a user's calibration (presets.ts `mount`): the
   * arm as it is after calibration, its EEPROM holding it. Default: as out of assembly, uncalibrated.
   */
  readonly leaderMount?: readonly MountJoint[];
  readonly followerMount?: readonly MountJoint[];
}

export type SceneMode = 'random' | 'fixed';
export const SCENE_MODES: readonly SceneMode[] = ['random', 'fixed'];
/** The seed a fixed scene is drawn from: the same target, or cube and goal, for every world seed. */
export const FIXED_SCENE_SEED = 7;

export interface EpisodeStart {
  readonly index: number;
  /** What the task drew (recorded with the episode's start event): target, or object and goal. */
  readonly scene: Record<string, unknown>;
  readonly plan: OperatorPlan;
}

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);

export class SimWorld {
  readonly kind: SimArmKind;
  readonly leader: SimArm;
  readonly follower: SimArm;
  readonly task: SimTask;
  readonly operator: ScriptedOperator;
  readonly rng: Rng;
  readonly clock: SimClock;
  readonly scene: SceneMode;
  #episode = -1;

  constructor(options: SimWorldOptions) {
    this.kind = options.arm;
    this.clock = options.clock ?? realClock;
    this.rng = new Rng(options.seed ?? 1);
    this.scene = options.scene ?? 'random';
    this.leader = createSimArm({ arm: options.arm, role: 'leader', clock: this.clock, mount: options.leaderMount });
    this.follower = createSimArm({ arm: options.arm, role: 'follower', clock: this.clock, mount: options.followerMount });
    this.task = createTask(options.task ?? 'reach', options.arm);
    this.operator = new ScriptedOperator(options.hand === 'follower' ? this.follower : this.leader, this.rng);
  }

  /** Draws a skill from `mix` (relative weights) with the world's seeded random stream. */
  pickSkill(mix: Partial<Record<Skill, number>>): Skill {
    const total = Object.values(mix).reduce((a, b) => a + (b ?? 0), 0);
    let x = this.rng.next() * total;
    for (const [k, w] of Object.entries(mix) as [Skill, number][]) if ((x -= w) < 0) return k;
    return 'expert';
  }

  /** Draws the task's scene (or sets the fixed one) and has the operator demonstrate it with `skill` (and, for poor, a failure mode). */
  startEpisode(skill: Skill, failure?: FailureMode): EpisodeStart {
    const scene = this.drawScene();
    const plan = this.task.demonstrate(this.operator, this.rng, skill, failure);
    this.#episode++;
    return { index: this.#episode, scene, plan };
  }

  /**
   * Puts the next episode's scene in place (a new target, or cube and goal; the fixed one again on a
   * fixed scene) without a demonstration: what a person does during the reset period. Returns what
   * the task drew. `startEpisode` does it itself; `demonstrate` does not.
   */
  drawScene(): Record<string, unknown> {
    return this.task.newEpisode(this.scene === 'fixed' ? new Rng(FIXED_SCENE_SEED) : this.rng);
  }

  /** Has the operator demonstrate the scene in place (drawScene) with `skill`: an episode starts. */
  demonstrate(skill: Skill, failure?: FailureMode): { index: number; plan: OperatorPlan } {
    const plan = this.task.demonstrate(this.operator, this.rng, skill, failure);
    this.#episode++;
    return { index: this.#episode, plan };
  }

  /** The follower's physical joint angles (radians). */
  followerJoints(): number[] {
    return this.follower.bus.servos.map((s, i) => (s.positionCounts - this.follower.zeroCounts[i]!) / COUNTS_PER_RAD);
  }

  evaluate(): TaskEvaluation {
    return this.task.evaluate(this.followerJoints(), this.clock.nowUs() / 1000);
  }

  close(): void {
    this.operator.release();
    this.leader.bus.close();
    this.follower.bus.close();
  }
}
