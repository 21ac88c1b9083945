/**
 * Pick and place: a cube (side 2.5 cm) on the table and a goal spot (the "bin") elsewhere, both
 * published like perception topics (`/object_pose`, `/goal_pose`) and drawn from a seeded
 * distribution that keeps them reachable with a top-down grasp. A kinematic grasp model:
 *   - grasp: the cube attaches when the gripper closes (its opening crosses below `closeBelow`)
 *     while the tool point is within `graspRadiusM` of the cube's centre, pointing down (within
 *     30°) with the jaws square to the cube's faces (within 20°, modulo a quarter turn);
 *   - carry: an attached cube moves with the tool, keeping the offset it was grasped at;
 *   - release: it detaches when the gripper opens above `openAbove` and falls straight down onto
 *     the table (the bin is a spot on the table);
 * Reward per step, shaped by phase: −(tool → cube + cube → goal) before the grasp, −(cube → goal)
 * while carried, −(cube → goal) once released, plus `successBonus` on every step the success
 * condition holds. Success: the cube released and resting within `successRadiusM` of the goal, the
 * gripper at least `clearM` away from it; the episode's outcome is its value at the end.
 * Wrist flex and roll take part: the grasp is top-down, and roll squares the jaws to the cube as pan turns.
 */
import { approachAxis, jawYaw, toolFrame, type KinematicArm } from './kinematics.ts';
import type { FailureMode, OperatorPlan, ScriptedOperator, Skill } from './operator.ts';
import { CUBE_REST_Z, gripperOpening, reachableTopDown, regionPoint, SCENE_REGIONS, type PickPlaceScene } from './pick-place-scene.ts';
import { PICK_PLACE_FAILURES, pickPlaceKeyframes } from './pick-place-script.ts';
import type { Rng } from './random.ts';
import type { SimTask, TaskEvaluation, TaskFeature } from './task.ts';
import { wrapQuarterTurn } from './top-down-ik.ts';

type Vec3 = [number, number, number];

/** What happened to the cube this episode (for diagnosis and tests). */
export interface CubeRelease {
  readonly position: Vec3;
  /** Height of the cube's bottom above the table when it was let go, m. */
  readonly dropHeightM: number;
}

export interface PickPlaceState {
  readonly cube: Vec3;
  readonly cubeStart: Vec3;
  readonly goal: Vec3;
  readonly held: boolean;
  /** Times the cube was grasped this episode. */
  readonly grasps: number;
  readonly releases: readonly CubeRelease[];
}

export interface PickPlaceEvaluation extends TaskEvaluation {
  readonly phase: 'reach' | 'carry' | 'placed';
  readonly held: boolean;
  /** The gripper's opening, 0 (closed) … 1 (open). */
  readonly gripperOpen: number;
}

export interface PickPlaceTaskOptions {
  readonly arm: KinematicArm;
  readonly graspRadiusM?: number;
  readonly closeBelow?: number;
  readonly openAbove?: number;
  readonly successRadiusM?: number;
  readonly clearM?: number;
  readonly successBonus?: number;
}

const FEATURES: readonly TaskFeature[] = [
  { name: 'object.position', topic: '/object_pose' },
  { name: 'goal.position', topic: '/goal_pose' },
];

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
const distXY = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);

export class PickPlaceTask implements SimTask {
  readonly name = 'pick-place' as const;
  readonly episodeS = 8;
  readonly features = FEATURES;
  readonly failureModes = PICK_PLACE_FAILURES;
  readonly arm: KinematicArm;
  readonly graspRadiusM: number;
  readonly closeBelow: number;
  readonly openAbove: number;
  readonly successRadiusM: number;
  readonly clearM: number;
  readonly successBonus: number;
  #scene: PickPlaceScene | undefined;
  #cube: Vec3 = [NaN, NaN, NaN];
  #held = false;
  #offset: Vec3 = [0, 0, 0];
  #lastOpening = NaN;
  #grasps = 0;
  #releases: CubeRelease[] = [];
  #lastSuccess = false;

  constructor(options: PickPlaceTaskOptions) {
    this.arm = options.arm;
    this.graspRadiusM = options.graspRadiusM ?? 0.015;
    this.closeBelow = options.closeBelow ?? 0.25;
    this.openAbove = options.openAbove ?? 0.5;
    this.successRadiusM = options.successRadiusM ?? 0.03;
    this.clearM = options.clearM ?? 0.04;
    this.successBonus = options.successBonus ?? 0.1;
  }

  get scene(): PickPlaceScene | undefined {
    return this.#scene;
  }

  state(): PickPlaceState {
    const s = this.#scene;
    return { cube: [...this.#cube], cubeStart: s ? [...s.cube] : [NaN, NaN, NaN], goal: s ? [...s.goal] : [NaN, NaN, NaN], held: this.#held, grasps: this.#grasps, releases: [...this.#releases] };
  }

  /** Draws cube and goal: both reachable top-down, at least the region's separation apart. */
  sampleScene(rng: Rng): PickPlaceScene {
    const region = SCENE_REGIONS[this.arm];
    const draw = (): Vec3 => regionPoint(region, rng.uniform(region.radiusM[0], region.radiusM[1]), rng.uniform(region.angleRad[0], region.angleRad[1]), CUBE_REST_Z);
    for (let attempt = 0; attempt < 200; attempt++) {
      const cube = draw();
      const goal = draw();
      if (distXY(cube, goal) < region.minSeparationM) continue;
      if (!reachableTopDown(this.arm, cube) || !reachableTopDown(this.arm, goal)) continue;
      return this.setScene({ cube, goal, cubeYawRad: 0 });
    }
    throw new RangeError(`no reachable pick-and-place scene for the ${this.arm} in 200 draws`);
  }

  setScene(scene: PickPlaceScene): PickPlaceScene {
    this.#scene = { cube: [...scene.cube], goal: [...scene.goal], cubeYawRad: scene.cubeYawRad };
    this.#cube = [...scene.cube];
    this.#held = false;
    this.#offset = [0, 0, 0];
    this.#lastOpening = NaN;
    this.#grasps = 0;
    this.#releases = [];
    this.#lastSuccess = false;
    return this.#scene;
  }

  newEpisode(rng: Rng): Record<string, unknown> {
    const s = this.sampleScene(rng);
    return { object: [...s.cube], goal: [...s.goal] };
  }

  demonstrate(operator: ScriptedOperator, rng: Rng, skill: Skill, failure?: FailureMode): OperatorPlan {
    const s = this.#scene;
    if (!s) throw new RangeError('PickPlaceTask.demonstrate before newEpisode');
    const script = pickPlaceKeyframes(this.arm, s, operator.physicalJoints(), rng, skill, failure);
    return operator.follow(script.keyframes, skill, script.failure, script.tremorRad);
  }

  positions(): readonly (readonly [number, number, number])[] {
    const s = this.#scene;
    return [this.#cube, s ? s.goal : [NaN, NaN, NaN]];
  }

  evaluate(joints: ArrayLike<number>, _nowMs: number): PickPlaceEvaluation {
    const f = toolFrame(this.arm, joints);
    const tool = f.position;
    const opening = gripperOpening(this.arm, joints[5] ?? NaN);
    const s = this.#scene;
    if (!s) return { reward: 0, success: false, distanceM: NaN, tool, phase: 'reach', held: false, gripperOpen: opening };
    if (this.#held) {
      if (opening > this.openAbove) {
        // Let go: the cube falls straight down onto the table.
        const at: Vec3 = [tool[0] + this.#offset[0], tool[1] + this.#offset[1], tool[2] + this.#offset[2]];
        this.#releases.push({ position: [at[0], at[1], CUBE_REST_Z], dropHeightM: Math.max(0, at[2] - CUBE_REST_Z) });
        this.#cube = [at[0], at[1], CUBE_REST_Z];
        this.#held = false;
      } else this.#cube = [tool[0] + this.#offset[0], tool[1] + this.#offset[1], tool[2] + this.#offset[2]];
    } else if (this.#lastOpening >= this.closeBelow && opening < this.closeBelow && this.#canGrasp(f, tool)) {
      this.#held = true;
      this.#grasps++;
      this.#offset = [this.#cube[0] - tool[0], this.#cube[1] - tool[1], this.#cube[2] - tool[2]];
    }
    this.#lastOpening = opening;
    const toGoal = dist(this.#cube, s.goal);
    const success = !this.#held && distXY(this.#cube, s.goal) <= this.successRadiusM && dist(tool, this.#cube) >= this.clearM;
    this.#lastSuccess = success;
    const placed = !this.#held && distXY(this.#cube, s.goal) <= this.successRadiusM;
    const phase = this.#held ? 'carry' : placed ? 'placed' : 'reach';
    const reward = -(phase === 'reach' ? dist(tool, this.#cube) + toGoal : toGoal) + (success ? this.successBonus : 0);
    return { reward, success, distanceM: distXY(this.#cube, s.goal), tool, phase, held: this.#held, gripperOpen: opening };
  }

  /**
   * Why the cube is where it is: 'success'; 'never_grasped'; 'still_held'; 'dropped' (let go more
   * than 1.5 cm above the table, away from the goal); 'put_back' (grasped, but it ends within 3 cm of
   * where it started); 'wrong_spot' (set down elsewhere); 'not_clear' (placed, the gripper still at it).
   */
  outcome(): string {
    const s = this.#scene;
    if (!s) return 'never_grasped';
    if (this.#lastSuccess) return 'success';
    if (this.#grasps === 0) return 'never_grasped';
    if (this.#held) return 'still_held';
    if (distXY(this.#cube, s.goal) <= this.successRadiusM) return 'not_clear';
    const last = this.#releases[this.#releases.length - 1];
    if (last && last.dropHeightM > 0.015) return 'dropped';
    if (distXY(this.#cube, s.cube) <= 0.03) return 'put_back';
    return 'wrong_spot';
  }

  #canGrasp(f: ReturnType<typeof toolFrame>, tool: readonly number[]): boolean {
    if (dist(tool, this.#cube) > this.graspRadiusM) return false;
    if (approachAxis(this.arm, f)[2] > -Math.cos((30 * Math.PI) / 180)) return false;
    return Math.abs(wrapQuarterTurn(jawYaw(f) - this.#scene!.cubeYawRad)) <= (20 * Math.PI) / 180;
  }
}
