/**
 * The scripted operator: a person's hand on the simulated leader arm. Each episode it moves the
 * leader from where it is to a goal along a minimum-jerk path, with a skill level:
 *   - expert: to the goal, a slight tremor;
 *   - noisy: zero-mean errors and tremor around the goal;
 *   - poor: a systematically bad demonstration (DESIGN.md §7): an offset goal, stopping short,
 *     overshooting, a slow wandering path, or giving up and going back.
 * Bad demonstrations are biased, not just noisy, so regression on them is pulled away from the goal
 * and return weighting has something to correct.
 */
import type { SimArm } from './presets.ts';
import type { Rng } from './random.ts';

export type Skill = 'expert' | 'noisy' | 'poor';
export type FailureMode = 'none' | 'offset' | 'stop_short' | 'overshoot' | 'wander' | 'give_up' | 'miss_grasp' | 'drop' | 'wrong_spot';
/** The reach task's failure modes (pick-place has its own: sim/pick-place-script.ts). */
export const FAILURE_MODES: readonly FailureMode[] = ['offset', 'stop_short', 'overshoot', 'wander', 'give_up'];

/** One waypoint of a multi-phase demonstration: reach `joints` (physical radians, gripper last) in `durationS`. */
export interface Keyframe {
  readonly joints: readonly number[];
  readonly durationS: number;
  /** What the hand does in this segment (approach, descend, close, …), for logs and tests. */
  readonly label: string;
  /**
   * The arm passes through this waypoint without stopping (velocity from its neighbours); default:
   * it arrives at rest. A state-only policy learns to stay where its demonstrations paused, so the
   * expert pauses only where the next move is visible in the state (the gripper starting to close).
   */
  readonly via?: boolean;
  /** The gripper's profile in this segment: 'linear' (a steady squeeze from the first instant) or 'smooth' (default). */
  readonly gripper?: 'smooth' | 'linear';
}

export interface OperatorPlan {
  readonly skill: Skill;
  readonly failure: FailureMode;
  readonly from: readonly number[];
  readonly goal: readonly number[];
  /** Where the hand actually heads (differs from `goal` for biased failures). */
  readonly aim: readonly number[];
  readonly durationS: number;
  /** Multi-phase demonstrations: the waypoints, each reached along a minimum-jerk path (`aim` is the last). */
  readonly keyframes?: readonly Keyframe[];
}

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);

function minJerk(tau: number): number {
  const t = Math.min(1, Math.max(0, tau));
  return t * t * t * (10 - 15 * t + 6 * t * t);
}

export class ScriptedOperator {
  readonly #arm: SimArm;
  readonly #rng: Rng;
  #plan: OperatorPlan | undefined;
  #startUs = 0;
  #tremor: { amp: number; freq: number; phase: number }[] = [];
  #wander: { amp: number; freq: number; phase: number }[] = [];

  constructor(leader: SimArm, rng: Rng) {
    this.#arm = leader;
    this.#rng = rng;
  }

  get plan(): OperatorPlan | undefined {
    return this.#plan;
  }

  /** The leader's physical joint angles now (radians). */
  physicalJoints(): number[] {
    return this.#arm.bus.servos.map((s, i) => (s.positionCounts - this.#arm.zeroCounts[i]!) / COUNTS_PER_RAD);
  }

  /** Starts moving toward `goal` (physical radians) with the given skill; returns the plan. */
  start(goal: readonly number[], skill: Skill, failure?: FailureMode): OperatorPlan {
    const rng = this.#rng;
    const from = this.physicalJoints();
    const mode: FailureMode = skill === 'poor' ? (failure ?? rng.pick(FAILURE_MODES)) : 'none';
    let aim = [...goal];
    let durationS = rng.uniform(1.2, 2.0);
    let tremor = 0.003;
    if (skill === 'noisy') {
      aim = goal.map((g, i) => (i < 5 ? g + 0.03 * rng.normal() : g));
      tremor = 0.02;
      durationS = rng.uniform(1.0, 2.5);
    }
    if (mode === 'offset') {
      const sign = rng.next() < 0.5 ? -1 : 1;
      aim = goal.map((g, i) => (i === 1 || i === 2 ? g + sign * rng.uniform(0.2, 0.35) : g));
    } else if (mode === 'stop_short') {
      const k = rng.uniform(0.55, 0.7);
      aim = goal.map((g, i) => from[i]! + k * (g - from[i]!));
    } else if (mode === 'overshoot') {
      aim = goal.map((g, i) => from[i]! + 1.35 * (g - from[i]!));
    } else if (mode === 'wander') {
      durationS *= 2.5;
    }
    this.#tremor = goal.map(() => ({ amp: tremor, freq: rng.uniform(4, 7), phase: rng.uniform(0, 2 * Math.PI) }));
    this.#wander = goal.map(() => ({ amp: mode === 'wander' ? 0.15 : 0, freq: rng.uniform(0.2, 0.5), phase: rng.uniform(0, 2 * Math.PI) }));
    this.#plan = { skill, failure: mode, from, goal: [...goal], aim, durationS };
    this.#startUs = this.#arm.bus.clock.nowUs();
    this.#arm.bus.servos.forEach((servo, i) => servo.setDriver((nowUs) => this.#arm.zeroCounts[i]! + this.angleAt(i, (nowUs - this.#startUs) / 1e6) * COUNTS_PER_RAD));
    return this.#plan;
  }

  /**
   * Moves through `keyframes` (physical radians) from where the leader is, each segment along a
   * minimum-jerk path, with a tremor of `tremorRad` on every joint; stays at the last one.
   */
  follow(keyframes: readonly Keyframe[], skill: Skill, failure: FailureMode, tremorRad: number): OperatorPlan {
    const rng = this.#rng;
    const from = this.physicalJoints();
    const last = keyframes[keyframes.length - 1]!.joints;
    this.#tremor = last.map(() => ({ amp: tremorRad, freq: rng.uniform(4, 7), phase: rng.uniform(0, 2 * Math.PI) }));
    this.#wander = last.map(() => ({ amp: 0, freq: 0, phase: 0 }));
    const durationS = keyframes.reduce((a, k) => a + k.durationS, 0);
    this.#plan = { skill, failure, from, goal: [...last], aim: [...last], durationS, keyframes: keyframes.map((k) => ({ ...k, joints: [...k.joints] })) };
    this.#startUs = this.#arm.bus.clock.nowUs();
    this.#arm.bus.servos.forEach((servo, i) => servo.setDriver((nowUs) => this.#arm.zeroCounts[i]! + this.angleAt(i, (nowUs - this.#startUs) / 1e6) * COUNTS_PER_RAD));
    return this.#plan;
  }

  /** Physical angle of joint i, t seconds into the plan. */
  angleAt(i: number, t: number): number {
    const p = this.#plan!;
    if (p.keyframes) return this.#keyframeAngle(p, i, t);
    let s: number;
    if (p.failure === 'give_up') {
      // Heads 60 % of the way in half the time, hesitates, then goes back to where it started.
      const half = p.durationS / 2;
      s = t < half ? 0.6 * minJerk(t / half) : 0.6 * (1 - minJerk((t - half - 0.3) / half));
    } else s = minJerk(t / p.durationS);
    const base = p.from[i]! + s * (p.aim[i]! - p.from[i]!);
    const tr = this.#tremor[i]!;
    const wa = this.#wander[i]!;
    return base + tr.amp * Math.sin(2 * Math.PI * tr.freq * t + tr.phase) + wa.amp * Math.sin(2 * Math.PI * wa.freq * t + wa.phase);
  }

  /**
   * Multi-phase plans: the arm joints follow a cubic Hermite spline through the waypoints (at rest
   * where a waypoint is not `via`), the gripper (last joint) its segment's profile.
   */
  #keyframeAngle(p: OperatorPlan, i: number, t: number): number {
    const tr = this.#tremor[i]!;
    const wobble = tr.amp * Math.sin(2 * Math.PI * tr.freq * t + tr.phase);
    const ks = p.keyframes!;
    const gripper = i === p.from.length - 1;
    // Waypoint m: 0 is the start, m ≥ 1 is ks[m − 1].
    const pos = (m: number) => (m === 0 ? p.from[i]! : ks[m - 1]!.joints[i]!);
    const time = (m: number) => ks.slice(0, m).reduce((a, k) => a + k.durationS, 0);
    const vel = (m: number) => (m === 0 || m === ks.length || !ks[m - 1]!.via ? 0 : (pos(m + 1) - pos(m - 1)) / (time(m + 1) - time(m - 1)));
    let t0 = 0;
    for (let m = 1; m <= ks.length; m++) {
      const k = ks[m - 1]!;
      if (t < t0 + k.durationS) {
        const tau = (t - t0) / k.durationS;
        const [a, b] = [pos(m - 1), pos(m)];
        if (gripper) return a + (k.gripper === 'linear' ? tau : minJerk(tau)) * (b - a) + wobble;
        const d = k.durationS;
        const [t2, t3] = [tau * tau, tau * tau * tau];
        return (2 * t3 - 3 * t2 + 1) * a + (t3 - 2 * t2 + tau) * d * vel(m - 1) + (-2 * t3 + 3 * t2) * b + (t3 - t2) * d * vel(m) + wobble;
      }
      t0 += k.durationS;
    }
    return pos(ks.length) + wobble;
  }

  /** Lets go of the leader (it stays where it is). */
  release(): void {
    for (const s of this.#arm.bus.servos) s.setDriver(undefined);
  }
}
