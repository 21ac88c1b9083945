/**
 * Inverse kinematics for a top-down grasp: joint angles that put the tool point at a position with
 * the gripper pointing straight down and its jaws square to an object's faces. Pan, lift, elbow and
 * wrist flex are solved together by damped least squares on the forward kinematics (position and
 * the approach axis; a numerical Jacobian, the chains are short); wrist roll then turns the jaws to
 * the object's yaw (modulo a quarter turn: a cube has four faces). Used by the scripted operator and
 * to keep the pick-and-place scene reachable.
 */
import { approachAxis, jawYaw, toolFrame, type KinematicArm } from './kinematics.ts';

/** Physical joint limits the solutions keep inside (the URDF travel less a margin), radians. */
const LIMITS: Readonly<Record<KinematicArm, readonly (readonly [number, number])[]>> = {
  so101: [[-1.85, 1.85], [-1.68, 1.68], [-1.62, 1.62], [-1.63, 1.63], [-2.6, 2.7]],
  koch: [[-2.9, 2.9], [-1.35, 1.52], [-1.52, 1.25], [-2.9, 0.45], [-2.9, 2.9]],
};

/** Starting guesses for the solver (pan is set toward the point). */
const SEEDS: Readonly<Record<KinematicArm, readonly (readonly number[])[]>> = {
  so101: [[0, 0.2, 0.4, 1.2], [0, -0.3, 0.9, 1.1], [0, 0.6, -0.2, 1.3]],
  koch: [[0, 0.2, 0.2, -1.3], [0, -0.3, 0.6, -1.5], [0, 0.5, -0.3, -1.0]],
};

export interface TopDownPose {
  /** pan, lift, elbow, wrist flex, wrist roll (physical radians). */
  readonly joints: readonly number[];
  /** Residual position error of the solution, m. */
  readonly errorM: number;
}

/** Wraps an angle into [−π/4, π/4): the same jaw alignment on a square object. */
export function wrapQuarterTurn(a: number): number {
  const q = Math.PI / 2;
  return a - q * Math.round(a / q);
}

function residual(arm: KinematicArm, q: readonly number[], roll: number, target: readonly number[], out: number[]): void {
  const f = toolFrame(arm, [...q, roll]);
  const a = approachAxis(arm, f);
  out[0] = f.position[0] - target[0]!;
  out[1] = f.position[1] - target[1]!;
  out[2] = f.position[2] - target[2]!;
  // Pointing down: the approach axis' horizontal components vanish (weighted: 0.1 m per radian).
  out[3] = 0.1 * a[0];
  out[4] = 0.1 * a[1];
  out[5] = a[2] > -0.5 ? 0.1 * (a[2] + 1) : 0;
}

function solve4(arm: KinematicArm, target: readonly number[], seed: readonly number[], roll: number): { q: number[]; err: number } {
  const lim = LIMITS[arm];
  const q = [...seed];
  const r = new Array<number>(6).fill(0);
  const rp = new Array<number>(6).fill(0);
  const h = 1e-6;
  let err = Infinity;
  for (let it = 0; it < 200; it++) {
    residual(arm, q, roll, target, r);
    err = Math.hypot(...r);
    if (err < 1e-6) break;
    // J (6×4) by forward differences; solve (JᵀJ + λI) dq = −Jᵀr.
    const J: number[][] = [];
    for (let j = 0; j < 4; j++) {
      const qq = [...q];
      qq[j] = qq[j]! + h;
      residual(arm, qq, roll, target, rp);
      J.push(rp.map((v, k) => (v - r[k]!) / h));
    }
    const A = [0, 1, 2, 3].map((a) => [0, 1, 2, 3].map((b) => J[a]!.reduce((s, v, k) => s + v * J[b]![k]!, 0) + (a === b ? 1e-6 : 0)));
    const g = [0, 1, 2, 3].map((a) => -J[a]!.reduce((s, v, k) => s + v * r[k]!, 0));
    const dq = gauss(A, g);
    let step = 1;
    const norm = Math.hypot(...dq);
    if (norm > 0.3) step = 0.3 / norm;
    for (let j = 0; j < 4; j++) q[j] = Math.min(lim[j]![1], Math.max(lim[j]![0], q[j]! + step * dq[j]!));
  }
  return { q, err };
}

function gauss(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const d = M[c]![c]! || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / d;
      for (let k = c; k <= n; k++) M[r]![k] = M[r]![k]! - f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[n]! / (row[i]! || 1e-12));
}

/**
 * Joint angles with the tool point at `position` (m, base frame), pointing straight down, jaws at
 * `yawRad` (modulo a quarter turn). Undefined when no solution within 1 mm and 2° exists inside the limits.
 */
export function topDownPose(arm: KinematicArm, position: readonly number[], yawRad = 0): TopDownPose | undefined {
  // Pan toward the point: +pan turns the SO-101 (forward +x) toward −y, the Koch (forward −y) toward +x.
  const pan = arm === 'so101' ? -Math.atan2(position[1]!, position[0]! - 0.0388) : Math.atan2(position[0]! - 0.0058, -(position[1]! + 0.0405));
  let best: { q: number[]; err: number } | undefined;
  for (const s of SEEDS[arm]) {
    const seed = [pan, ...s.slice(1)];
    const r = solve4(arm, position, seed, 0);
    if (!best || r.err < best.err) best = r;
    if (r.err < 1e-5) break;
  }
  if (!best || best.err > 1e-3) return undefined;
  // Roll turns the jaws to the object's yaw (the jaw yaw moves one for one with roll when pointing
  // down); the tool point is off the roll axis, so the other joints are solved again for that roll.
  const lim = LIMITS[arm][4]!;
  let roll = 0;
  for (let pass = 0; pass < 3; pass++) {
    const y0 = jawYaw(toolFrame(arm, [...best.q, roll]));
    const y1 = jawYaw(toolFrame(arm, [...best.q, roll + 0.1]));
    const sign = Math.sign(wrapQuarterTurn(y1 - y0)) || 1;
    roll += sign * wrapQuarterTurn(yawRad - y0);
    if (roll < lim[0] || roll > lim[1]) return undefined;
    best = solve4(arm, position, best.q, roll);
  }
  if (best.err > 1e-3) return undefined;
  const joints = [...best.q, roll];
  const f = toolFrame(arm, joints);
  const errorM = Math.hypot(f.position[0] - position[0]!, f.position[1] - position[1]!, f.position[2] - position[2]!);
  return { joints, errorM };
}
