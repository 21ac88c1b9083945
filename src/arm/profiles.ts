/**
 * Arm profiles as data: which joint is which servo (id, model) for each arm and role, the joint
 * kind, and the rest pose that `park` returns to. Joint names are LeRobot's motor names.
 */
import type { ServoModelName, Vendor } from '../protocol/index.ts';

export type ArmKind = 'so101' | 'koch';
export type ArmRole = 'follower' | 'leader';

export interface JointSpec {
  readonly name: string;
  readonly id: number;
  readonly model: ServoModelName;
  /** `revolute` joints are in radians; the `gripper` is normalised 0 (closed) … 1 (open). */
  readonly kind: 'revolute' | 'gripper';
}

export interface ArmProfile {
  readonly kind: ArmKind;
  readonly role: ArmRole;
  readonly vendor: Vendor;
  readonly baud: number;
  readonly joints: readonly JointSpec[];
  /** Pose to park in before torque is cut (radians; gripper 0…1), in joint order. */
  readonly restPose: readonly number[];
}

export const JOINT_NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'] as const;

function joints(models: readonly ServoModelName[]): JointSpec[] {
  return JOINT_NAMES.map((name, i) => ({ name, id: i + 1, model: models[i]!, kind: name === 'gripper' ? 'gripper' : 'revolute' }));
}

const SO101 = joints(['sts3215', 'sts3215', 'sts3215', 'sts3215', 'sts3215', 'sts3215']);

export const ARM_PROFILES: Readonly<Record<`${ArmKind}-${ArmRole}`, ArmProfile>> = {
  'so101-follower': { kind: 'so101', role: 'follower', vendor: 'feetech', baud: 1_000_000, joints: SO101, restPose: [0, -1.2, 1.2, 0.6, 0, 0.1] },
  'so101-leader': { kind: 'so101', role: 'leader', vendor: 'feetech', baud: 1_000_000, joints: SO101, restPose: [0, -1.2, 1.2, 0.6, 0, 0.1] },
  'koch-follower': {
    kind: 'koch',
    role: 'follower',
    vendor: 'dynamixel',
    baud: 1_000_000,
    joints: joints(['xl430-w250', 'xl430-w250', 'xl330-m288', 'xl330-m288', 'xl330-m288', 'xl330-m288']),
    restPose: [0, -0.9, 0.9, -0.5, 0, 0.1],
  },
  'koch-leader': {
    kind: 'koch',
    role: 'leader',
    vendor: 'dynamixel',
    baud: 1_000_000,
    joints: joints(['xl330-m077', 'xl330-m077', 'xl330-m077', 'xl330-m077', 'xl330-m077', 'xl330-m077']),
    restPose: [0, -0.9, 0.9, -0.5, 0, 0.1],
  },
};

export function armProfile(kind: ArmKind, role: ArmRole): ArmProfile {
  return ARM_PROFILES[`${kind}-${role}`];
}
