/**
 * Simulated arms as they come out of assembly and motor setup: servo models, ids 1–6 at 1 Mbps,
 * each joint with mechanical hard stops and a mounting offset (the encoder reading at the joint's
 * zero is not 2048 on a real build, and calibration has to find it).
 *
 * Joint travel comes from the public URDFs (ARMS.md §1.1, §2.2). These are the other side of the
 * wire: the sim knows servos and joints, never our driver's arm profiles.
 */
import { SERVO_MODELS, type ServoModelName } from '../protocol/index.ts';
import { mountJoint, type JointMount, type MountJoint } from './calibration-mount.ts';
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
  /**
   * Mount the servos after a user's calibration (sim/calibration-mount.ts): travel, zero and
   * power-up pose follow the calibrated ranges, and the EEPROM holds the calibration. Takes
   * precedence over `zeroCounts` and `poseRad`.
   */
  readonly mount?: readonly MountJoint[];
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
  if (options.mount) return createMountedArm(options, options.mount);
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

function createMountedArm(options: SimArmOptions, mount: readonly MountJoint[]): SimArm {
  const clock = options.clock ?? realClock;
  const vendor = options.arm === 'so101' ? 'feetech' : 'dynamixel';
  const base = simJoints(options.arm, options.role);
  const mounts: JointMount[] = base.map((j) =>
    mountJoint(vendor, SERVO_MODELS[j.model].resolution, { name: j.name, id: j.id, gripper: j.name === 'gripper' }, mount.find((m) => m.name === j.name)),
  );
  const servos = base.map((j, i) => {
    const m = mounts[i]!;
    const servo = new SimServo({ model: SERVO_MODELS[j.model], id: j.id, baudCode: vendor === 'feetech' ? 0 : 3, positionCounts: m.restCounts, travel: m.travel, clock });
    // The calibration in EEPROM, as on an arm that was calibrated: then power-cycled, so that RAM
    // (Present_Position, and Goal_Position = where the joint is) follows it.
    servo.set('Homing_Offset', m.homingOffset);
    servo.set('Min_Position_Limit', m.rangeMin);
    servo.set('Max_Position_Limit', m.rangeMax);
    servo.persistEeprom();
    servo.reboot();
    return servo;
  });
  const joints = base.map((j, i) => ({
    ...j,
    lowerRad: (mounts[i]!.travel.min - mounts[i]!.zeroCounts) / COUNTS_PER_RAD,
    upperRad: (mounts[i]!.travel.max - mounts[i]!.zeroCounts) / COUNTS_PER_RAD,
  }));
  return { kind: options.arm, role: options.role, bus: new SimBus({ vendor, servos, clock }), joints, zeroCounts: mounts.map((m) => m.zeroCounts) };
}
