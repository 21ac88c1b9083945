/**
 * How the scripted operator demonstrates pick and place on the leader: waypoints in joint space
 * (top-down poses from sim/top-down-ik.ts), each reached along a minimum-jerk path.
 *   - expert: approach above the cube, descend, close, lift, carry above the goal, lower, open,
 *     retreat; a slight tremor. No pauses: the arm passes through the points above cube and goal,
 *     and the gripper closes and opens at a steady speed from the moment the arm arrives, because
 *     a pause is a state in which a policy that sees no time learns to stay (measured: BC stalled
 *     above the cube or at it, gripper open, in about half of its episodes with min-jerk segments
 *     that each stopped);
 *   - noisy: zero-mean errors in where it grasps and places, varied timing, a stronger tremor;
 *   - poor, systematically (DESIGN.md §7): `miss_grasp` closes beside the cube (by 2.5–4 cm),
 *     `drop` opens the gripper on the way, `wrong_spot` places the cube 5–8 cm off the goal,
 *     `give_up` carries it part way, then puts it back where it was.
 */
import type { KinematicArm } from './kinematics.ts';
import type { FailureMode, Keyframe, Skill } from './operator.ts';
import { CUBE_REST_Z, gripperAngle, reachableTopDown, SCENE_REGIONS, type PickPlaceScene } from './pick-place-scene.ts';
import type { Rng } from './random.ts';
import { topDownPose } from './top-down-ik.ts';

export const PICK_PLACE_FAILURES: readonly FailureMode[] = ['miss_grasp', 'drop', 'wrong_spot', 'give_up'];

/** Gripper openings the operator uses (0 closed … 1 open). */
const OPEN = 0.85;
const CLOSED = 0.05;
/** Where the squeeze is when the arm starts lifting (past the grasp threshold of 0.25), and the release when it starts retreating (past 0.5). */
const SQUEEZED = 0.21;
const LOOSENED = 0.65;
/** The cube's bottom this far above the table when the operator lets go at the goal. */
const PLACE_CLEARANCE_M = 0.005;

export interface PickPlaceScript {
  readonly keyframes: Keyframe[];
  readonly failure: FailureMode;
  readonly tremorRad: number;
}

export function pickPlaceKeyframes(arm: KinematicArm, scene: PickPlaceScene, from: readonly number[], rng: Rng, skill: Skill, failure?: FailureMode): PickPlaceScript {
  const region = SCENE_REGIONS[arm];
  const mode: FailureMode = skill === 'poor' ? (failure ?? rng.pick(PICK_PLACE_FAILURES)) : 'none';
  const noisy = skill === 'noisy';
  const jitter = (sigma: number): [number, number] => (noisy ? [sigma * rng.normal(), sigma * rng.normal()] : [0, 0]);
  const dur = (lo: number, hi: number) => rng.uniform(lo, hi) * (noisy ? rng.uniform(0.8, 1.3) : 1);
  const pose = (xy: readonly number[], z: number, opening: number): number[] => {
    const p = topDownPose(arm, [xy[0]!, xy[1]!, z], scene.cubeYawRad);
    // Off the reachable set (only for deliberately wrong spots, which are chosen reachable): hold where it was.
    const joints = p ? [...p.joints] : [...from.slice(0, 5)];
    return [...joints, gripperAngle(arm, opening)];
  };
  const k = (label: string, joints: number[], durationS: number, more: Pick<Keyframe, 'via' | 'gripper'> = {}): Keyframe => ({ label, joints, durationS, ...more });
  /** A reachable spot 'lo'…'hi' m from `p` in a random direction, at least 5 cm from `avoid` (the spot itself when none is found). */
  const offsetSpot = (p: readonly number[], lo: number, hi: number, avoid?: readonly number[]): [number, number] => {
    for (let i = 0; i < 32; i++) {
      const a = rng.uniform(0, 2 * Math.PI);
      const r = rng.uniform(lo, hi);
      const q: [number, number] = [p[0]! + r * Math.cos(a), p[1]! + r * Math.sin(a)];
      if (avoid && Math.hypot(q[0] - avoid[0]!, q[1] - avoid[1]!) < 0.05) continue;
      if (reachableTopDown(arm, [q[0], q[1], CUBE_REST_Z])) return q;
    }
    return [p[0]!, p[1]!];
  };

  const gj = jitter(0.004);
  let grasp: [number, number] = [scene.cube[0] + gj[0], scene.cube[1] + gj[1]];
  if (mode === 'miss_grasp') grasp = offsetSpot(scene.cube, 0.025, 0.04);
  const pj = jitter(0.008);
  let place: [number, number] = [scene.goal[0] + pj[0], scene.goal[1] + pj[1]];
  if (mode === 'wrong_spot') place = offsetSpot(scene.goal, 0.05, 0.08, scene.cube);
  const hz = region.hoverZ;
  const placeZ = CUBE_REST_Z + PLACE_CLEARANCE_M;

  // The arm passes above the cube and above the goal without stopping, stops at the cube while the
  // gripper closes (crossing the grasp threshold before it lifts), and starts lifting as the squeeze
  // ends; at the goal it stops, opens, and starts retreating as the jaws finish opening.
  const frames: Keyframe[] = [
    k('approach', pose(grasp, hz, OPEN), dur(1.2, 1.6), { via: true }),
    k('descend', pose(grasp, CUBE_REST_Z, OPEN), dur(0.6, 0.8)),
    k('close', pose(grasp, CUBE_REST_Z, SQUEEZED), 0.4, { gripper: 'linear' }),
  ];
  const sep = Math.hypot(place[0] - grasp[0], place[1] - grasp[1]);
  const along = (f: number): [number, number] => [grasp[0] + f * (place[0] - grasp[0]), grasp[1] + f * (place[1] - grasp[1])];
  if (mode === 'drop') {
    // Lets go at least 4.5 cm short of the goal, then goes on as if nothing happened.
    const f = rng.uniform(0.15, Math.max(0.2, Math.min(0.6, 1 - 0.045 / sep)));
    frames.push(
      k('lift', pose(grasp, hz, CLOSED), 0.6, { via: true, gripper: 'linear' }),
      k('carry', pose(along(f), hz, CLOSED), dur(0.5, 0.8)),
      k('drop', pose(along(f), hz, OPEN), 0.3, { gripper: 'linear' }),
      k('carry', pose(place, hz, OPEN), dur(0.6, 0.9), { via: true }),
    );
  } else if (mode === 'give_up') {
    const f = rng.uniform(0.3, 0.6);
    frames.push(
      k('lift', pose(grasp, hz, CLOSED), 0.6, { via: true, gripper: 'linear' }),
      k('carry', pose(along(f), hz, CLOSED), dur(0.5, 0.8)),
      k('hesitate', pose(along(f), hz, CLOSED), 0.3),
      k('back', pose(grasp, hz, CLOSED), dur(0.5, 0.8), { via: true }),
    );
    place = grasp;
  } else frames.push(k('lift', pose(grasp, hz, CLOSED), 0.6, { via: true, gripper: 'linear' }), k('carry', pose(place, hz, CLOSED), dur(1.0, 1.4), { via: true }));
  const held = mode === 'drop' ? OPEN : CLOSED;
  frames.push(
    k('lower', pose(place, placeZ, held), 0.6),
    k('open', pose(place, placeZ, LOOSENED), 0.3, { gripper: 'linear' }),
    k('retreat', pose(place, hz, OPEN), 0.6, { gripper: 'linear' }),
  );
  return { keyframes: frames, failure: mode, tremorRad: noisy ? 0.012 : 0.003 };
}
