/**
 * Simulated arms as they come out of assembly and motor setup: servo models, ids 1–6 at 1 Mbps,
 * each joint with mechanical hard stops and a mounting offset (the encoder reading at the joint's
 * zero is not 2048 on a real build, and calibration has to find it).
 *
 * Joint travel comes from the public URDFs (ARMS.md §1.1, §2.2). These are the other side of the
 * wire: the sim knows servos and joints, never our driver's arm profiles.
 */
import { SERVO_MODELS, type ServoModelName } from '../protocol/index.ts';
import { realClock, type SimClock } from './clock.ts';
import { SimBus } from './sim-bus.ts';
import { SimServo } from './sim-servo.ts';

export type SimArmKind = 'so101' | 'koch';
export type SimArmRole = 'follower' | 'leader';

export interface SimJoint {
  readonly name: string;
  readonly id: number;
  readonly model: ServoModelName;
  /** Mechanical travel around the joint's zero, radians. */
  readonly lowerRad: number;
  readonly upperRad: number;
}

const SO101_JOINTS: readonly Omit<SimJoint, 'model'>[] = [
  { name: 'shoulder_pan', id: 1, lowerRad: -1.91986, upperRad: 1.91986 },
  { name: 'shoulder_lift', id: 2, lowerRad: -1.74533, upperRad: 1.74533 },
  { name: 'elbow_flex', id: 3, lowerRad: -1.69, upperRad: 1.69 },
  { name: 'wrist_flex', id: 4, lowerRad: -1.65806, upperRad: 1.65806 },
  { name: 'wrist_roll', id: 5, lowerRad: -2.74385, upperRad: 2.84121 },
  { name: 'gripper', id: 6, lowerRad: -0.174533, upperRad: 1.74533 },
];

const KOCH_JOINTS: readonly Omit<SimJoint, 'model'>[] = [
  { name: 'shoulder_pan', id: 1, lowerRad: -3.0, upperRad: 3.0 },
  { name: 'shoulder_lift', id: 2, lowerRad: -1.4, upperRad: 1.5707 },
  { name: 'elbow_flex', id: 3, lowerRad: -1.5707, upperRad: 1.3 },
  { name: 'wrist_flex', id: 4, lowerRad: -3.0, upperRad: 0.5 },
  { name: 'wrist_roll', id: 5, lowerRad: -3.0, upperRad: 3.0 },
  { name: 'gripper', id: 6, lowerRad: -1.75, upperRad: 0 },
];

export function simJoints(arm: SimArmKind, role: SimArmRole): SimJoint[] {
  if (arm === 'so101') return SO101_JOINTS.map((j) => ({ ...j, model: 'sts3215' as const }));
  return KOCH_JOINTS.map((j) => ({
    ...j,
    model: role === 'leader' ? ('xl330-m077' as const) : j.id <= 2 ? ('xl430-w250' as const) : ('xl330-m288' as const),
  }));
}

/** Encoder counts at each joint's zero (mounting offsets). Deterministic per arm and role so that
 * calibration files shipped for the simulated arms stay valid; one so101 joint sits so that its
 * travel crosses the encoder's 4095 → 0 wrap, as happens on real builds. */
const ZERO_COUNTS: Readonly<Record<`${SimArmKind}-${SimArmRole}`, readonly number[]>> = {
  'so101-follower': [2048 + 112, 2048 - 240, 2048 + 305, 2048 - 87, 2048 + 210, 2048 - 1100],
  'so101-leader': [2048 - 64, 2048 + 190, 2048 - 350, 2048 + 41, 2048 - 180, 2048 - 1050],
  'koch-follower': [2048 + 60, 2048 - 120, 2048 + 200, 2048 + 900, 2048 - 75, 2048 + 1000],
  'koch-leader': [2048 - 30, 2048 + 140, 2048 - 90, 2048 + 880, 2048 + 50, 2048 + 950],
};

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);

export interface SimArmOptions {
  readonly arm: SimArmKind;
  readonly role: SimArmRole;
  readonly clock?: SimClock;
  /** Joint angles at power-up, radians (default: every joint at 0, gripper closed). */
  readonly poseRad?: readonly number[];
  /** Override the mounting (encoder counts at each joint's zero). */
  readonly zeroCounts?: readonly number[];
}

export interface SimArm {
  readonly kind: SimArmKind;
  readonly role: SimArmRole;
  readonly bus: SimBus;
  readonly joints: readonly SimJoint[];
  /** Encoder counts at each joint's zero. */
  readonly zeroCounts: readonly number[];
}

export function createSimArm(options: SimArmOptions): SimArm {
  const clock = options.clock ?? realClock;
  const joints = simJoints(options.arm, options.role);
  const zero = options.zeroCounts ?? ZERO_COUNTS[`${options.arm}-${options.role}`];
  const vendor = options.arm === 'so101' ? 'feetech' : 'dynamixel';
  const servos = joints.map((j, i) => {
    const z = zero[i]!;
    const pose = options.poseRad?.[i] ?? (j.name === 'gripper' ? Math.max(j.lowerRad, 0) : 0);
    return new SimServo({
      model: SERVO_MODELS[j.model],
      id: j.id,
      baudCode: vendor === 'feetech' ? 0 : 3,
      positionCounts: z + pose * COUNTS_PER_RAD,
      travel: { min: z + j.lowerRad * COUNTS_PER_RAD, max: z + j.upperRad * COUNTS_PER_RAD },
      clock,
    });
  });
  return { kind: options.arm, role: options.role, bus: new SimBus({ vendor, servos, clock }), joints, zeroCounts: zero };
}
