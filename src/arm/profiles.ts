/**
 * Arm profiles as data: which joint is which servo (id, model) for each arm and role, the joint
 * kind, the rest pose that `park` returns to, and the servo settings that keep a real arm's servos
 * alive and smooth. Joint names are LeRobot's motor names.
 */
import type { ServoModelName, StsRegister, Vendor, XRegister } from '../protocol/index.ts';

export type ArmKind = 'so101' | 'koch';
export type ArmRole = 'follower' | 'leader';

export interface JointSpec {
  readonly name: string;
  readonly id: number;
  readonly model: ServoModelName;
  /** `revolute` joints are in radians; the `gripper` is normalised 0 (closed) … 1 (open). */
  readonly kind: 'revolute' | 'gripper';
}

/**
 * One control-table value armbridge puts into some of an arm's servos on connect (Arm.open), reads
 * back and verifies, and `scan` compares (readServoSettings). `mask`: only those bits are set to
 * `value`'s bits, the others kept (read-modify-write). `reason` says why, for the person who wants
 * to change it (overrides: OpenArmOptions.servoSettings, CLI --servo-setting).
 */
export interface ServoSetting {
  readonly register: StsRegister | XRegister;
  readonly value: number;
  readonly mask?: number;
  /** 'all' joints, or joint names. */
  readonly joints: 'all' | readonly string[];
  readonly reason: string;
}

export interface ArmProfile {
  readonly kind: ArmKind;
  readonly role: ArmRole;
  readonly vendor: Vendor;
  readonly baud: number;
  readonly joints: readonly JointSpec[];
  /** Pose to park in before torque is cut (radians; gripper 0…1), in joint order. */
  readonly restPose: readonly number[];
  /** Written on connect after the calibration, EEPROM ones first (torque off, Feetech unlocked), in this order. */
  readonly servoSettings: readonly ServoSetting[];
}

export const JOINT_NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'] as const;

function joints(models: readonly ServoModelName[]): JointSpec[] {
  return JOINT_NAMES.map((name, i) => ({ name, id: i + 1, model: models[i]!, kind: name === 'gripper' ? 'gripper' : 'revolute' }));
}

const SO101 = joints(['sts3215', 'sts3215', 'sts3215', 'sts3215', 'sts3215', 'sts3215']);

const ALL_BUT_GRIPPER = JOINT_NAMES.filter((n) => n !== 'gripper');

/** Phase (18) bit 4: angle feedback mode, 1 = multi-turn (PROTOCOLS.md B5). */
const PHASE_MULTI_TURN_BIT = 0x10;

const PHASE_SINGLE_TURN: ServoSetting = {
  register: 'Phase',
  value: 0,
  mask: PHASE_MULTI_TURN_BIT,
  joints: 'all',
  reason:
    'bit 4 set means multi-turn angle feedback: Present_Position would leave 0…4095 and the calibration (a range inside one turn) would read wrong angles; LeRobot clears it on STS3215s that have it set, the other bits are kept',
};

/** SO-101 follower: LeRobot's so_follower configure (PROTOCOLS.md B8 step 4), with one deliberate difference (Overload_Torque). */
const SO101_FOLLOWER_SETTINGS: readonly ServoSetting[] = [
  PHASE_SINGLE_TURN,
  { register: 'Operating_Mode', value: 0, joints: 'all', reason: 'position mode: a servo left in velocity or step mode by another tool would not hold a goal position' },
  { register: 'P_Coefficient', value: 16, joints: 'all', reason: "LeRobot's value: the STS3215's default P 32 makes the joints shake under load" },
  { register: 'I_Coefficient', value: 0, joints: 'all', reason: "LeRobot's value (the default): integral windup would push a joint held against an object harder and harder" },
  { register: 'D_Coefficient', value: 32, joints: 'all', reason: "LeRobot's value (the default), paired with P 16" },
  {
    register: 'Max_Torque_Limit',
    value: 500,
    joints: ['gripper'],
    reason: "50 % of maximum torque (LeRobot's value), persisted in EEPROM and copied to Torque_Limit at power-up: a gripper closed on an object for minutes must not burn out",
  },
  {
    register: 'Protection_Current',
    value: 250,
    joints: ['gripper'],
    reason: "≈ 1.6 A (6.5 mA units, LeRobot's value; default 511): above what the gripper draws at its 50 % torque cap, so only a fault (a short, a jammed gear) trips it",
  },
  {
    register: 'Overload_Torque',
    value: 80,
    joints: ['gripper'],
    reason:
      "the load (%) at which the overload timer starts (Feetech's memory table; the torque kept once overloaded is Protective_Torque, 34). LeRobot writes 25, meaning that torque: at 25 a grasp held at the 50 % cap latches the overload bit after Protection_Time, and every reply then carries it (armbridge's bus raises ServoStatusError). 80 (the factory value) lies above the cap, and undoes the 25 a LeRobot-configured servo keeps in EEPROM",
  },
  {
    register: 'Acceleration',
    value: 254,
    joints: 'all',
    reason: "LeRobot's value: a defined ramp of 254 × 100 counts/s² instead of a servo's stale value (0 = no ramp)",
  },
  {
    register: 'Torque_Limit',
    value: 500,
    joints: ['gripper'],
    reason: 'the running copy of Max_Torque_Limit: the servo copies it only at power-up, so it is set now as well',
  },
];

/**
 * Koch follower: LeRobot's koch_follower configure (current-based position gripper, elbow gains),
 * except extended position mode on the joints (see the reason).
 */
const KOCH_FOLLOWER_SETTINGS: readonly ServoSetting[] = [
  {
    register: 'Operating_Mode',
    value: 3,
    joints: ALL_BUT_GRIPPER,
    reason:
      'position mode, not LeRobot\'s extended position mode (4): only position mode enforces Min/Max_Position_Limit, which armbridge writes from the calibration so the servos refuse out-of-range goals themselves; the half-turn homing already keeps the 4095 → 0 wrap outside the travel, the reason LeRobot gives for mode 4. This also undoes a mode 4 left by LeRobot',
  },
  {
    register: 'Operating_Mode',
    value: 5,
    joints: ['gripper'],
    reason: "current-based position (LeRobot's choice): the gripper is commanded fully closed but its current stays limited, so it grasps without forcing",
  },
  {
    register: 'Current_Limit',
    value: 500,
    joints: ['gripper'],
    reason: 'mA, EEPROM (default 1750, above the XL330-M288\'s stall current): a ceiling that survives a reboot, which resets Goal_Current (armbridge\'s choice, not LeRobot\'s)',
  },
  {
    register: 'Goal_Current',
    value: 300,
    joints: ['gripper'],
    reason: 'mA: the grip in current-based position mode, about a fifth of stall, far below the overload threshold when held on the cube for a whole episode (armbridge\'s choice; LeRobot leaves it at the limit)',
  },
  { register: 'Position_P_Gain', value: 1500, joints: ['elbow_flex'], reason: "LeRobot's elbow gains: close the gap between recorded states and actions under the forearm's weight" },
  { register: 'Position_I_Gain', value: 0, joints: ['elbow_flex'], reason: "LeRobot's elbow gains" },
  { register: 'Position_D_Gain', value: 600, joints: ['elbow_flex'], reason: "LeRobot's elbow gains" },
];

export const ARM_PROFILES: Readonly<Record<`${ArmKind}-${ArmRole}`, ArmProfile>> = {
  'so101-follower': { kind: 'so101', role: 'follower', vendor: 'feetech', baud: 1_000_000, joints: SO101, restPose: [0, -1.2, 1.2, 0.6, 0, 0.1], servoSettings: SO101_FOLLOWER_SETTINGS },
  // A leader is moved by hand with torque off: gains, limits and protection do not act. Only how it
  // reports its angle matters (LeRobot's so_leader configure: the Phase bit, position mode).
  'so101-leader': { kind: 'so101', role: 'leader', vendor: 'feetech', baud: 1_000_000, joints: SO101, restPose: [0, -1.2, 1.2, 0.6, 0, 0.1], servoSettings: [PHASE_SINGLE_TURN] },
  'koch-follower': {
    kind: 'koch',
    role: 'follower',
    vendor: 'dynamixel',
    baud: 1_000_000,
    joints: joints(['xl430-w250', 'xl430-w250', 'xl330-m288', 'xl330-m288', 'xl330-m288', 'xl330-m288']),
    restPose: [0, -0.9, 0.9, -0.5, 0, 0.1],
    servoSettings: KOCH_FOLLOWER_SETTINGS,
  },
  'koch-leader': {
    kind: 'koch',
    role: 'leader',
    vendor: 'dynamixel',
    baud: 1_000_000,
    joints: joints(['xl330-m077', 'xl330-m077', 'xl330-m077', 'xl330-m077', 'xl330-m077', 'xl330-m077']),
    restPose: [0, -0.9, 0.9, -0.5, 0, 0.1],
    // Moved by hand with torque off. LeRobot's koch_leader also puts the gripper in current-based
    // position mode with torque on, as a spring-back trigger; armbridge does not: its teleop and the
    // simulated operator read the leader with every torque off, and a gripper pushing back would
    // fight the hand (and the scripted operator). Nothing to set.
    servoSettings: [],
  },
};

export function armProfile(kind: ArmKind, role: ArmRole): ArmProfile {
  return ARM_PROFILES[`${kind}-${role}`];
}
