/**
 * The pick-and-place scene: where cube and goal may be (per arm, reachable with a top-down grasp),
 * the cube's size, and the gripper's opening in physical terms.
 */
import type { KinematicArm } from './kinematics.ts';
import { simJoints } from './presets.ts';
import { topDownPose } from './top-down-ik.ts';

export type Vec3 = [number, number, number];

export const CUBE_SIDE_M = 0.025;
/** The cube's centre when it rests on the table. */
export const CUBE_REST_Z = CUBE_SIDE_M / 2;

/** Where cube and goal are drawn: distance from the pan axis and angle from the arm's forward direction. */
export interface SceneRegion {
  readonly panAxis: readonly [number, number];
  /** The arm's forward direction on the table (unit vector). */
  readonly forward: readonly [number, number];
  readonly radiusM: readonly [number, number];
  readonly angleRad: readonly [number, number];
  /** Minimum distance between the cube and the goal, m. */
  readonly minSeparationM: number;
  /** Height of the tool point above the table when approaching from above, m. */
  readonly hoverZ: number;
}

export const SCENE_REGIONS: Readonly<Record<KinematicArm, SceneRegion>> = {
  so101: { panAxis: [0.0388, 0], forward: [1, 0], radiusM: [0.12, 0.2], angleRad: [-0.9, 0.9], minSeparationM: 0.08, hoverZ: 0.07 },
  koch: { panAxis: [0.0058, -0.0405], forward: [0, -1], radiusM: [0.09, 0.15], angleRad: [-0.9, 0.9], minSeparationM: 0.07, hoverZ: 0.065 },
};

export interface PickPlaceScene {
  readonly cube: Vec3;
  readonly goal: Vec3;
  /** The cube's yaw on the table (its faces are square to the base frame's axes). */
  readonly cubeYawRad: number;
}

/** The gripper's physical travel: closed at the lower stop, open at the upper (both arms' calibrations agree). */
export function gripperTravel(arm: KinematicArm): { closedRad: number; openRad: number } {
  const g = simJoints(arm, 'follower')[5]!;
  return { closedRad: g.lowerRad, openRad: g.upperRad };
}

export function gripperOpening(arm: KinematicArm, rad: number): number {
  const { closedRad, openRad } = gripperTravel(arm);
  return (rad - closedRad) / (openRad - closedRad);
}

export function gripperAngle(arm: KinematicArm, opening: number): number {
  const { closedRad, openRad } = gripperTravel(arm);
  return closedRad + opening * (openRad - closedRad);
}

/** A point of the region at (radius, angle). */
export function regionPoint(region: SceneRegion, radiusM: number, angleRad: number, z: number): Vec3 {
  const [fx, fy] = region.forward;
  const [c, s] = [Math.cos(angleRad), Math.sin(angleRad)];
  return [region.panAxis[0] + radiusM * (fx * c - fy * s), region.panAxis[1] + radiusM * (fx * s + fy * c), z];
}

/** A top-down grasp and a hover pose above it exist for a cube centred at `p`. */
export function reachableTopDown(arm: KinematicArm, p: readonly number[], yawRad = 0): boolean {
  const r = SCENE_REGIONS[arm];
  return topDownPose(arm, [p[0]!, p[1]!, CUBE_REST_Z], yawRad) !== undefined && topDownPose(arm, [p[0]!, p[1]!, r.hoverZ], yawRad) !== undefined;
}

