/**
 * Servo settings (ArmProfile.servoSettings, plus overrides) put into an arm's servos on connect,
 * read back and verified, and compared by `scan`:
 *
 *   const settings = resolveServoSettings(profile, [parseServoSettingOverride('gripper.Max_Torque_Limit=400')]);
 *   await writeServoSettings(bus, settings, { eeprom: true });   // torque off (Feetech: Lock 0) first
 *   await writeServoSettings(bus, settings, { eeprom: false });  // RAM: after the EEPROM ones
 *   await verifyServoSettings(bus, settings);                     // ServoSettingMismatchError
 *   const rows = await readServoSettings(bus, profile);           // scan: what each servo holds now
 *
 * A value is written only when the servo holds another one: EEPROM cells wear, and a connect that
 * finds everything in place then costs reads only.
 */
import type { MotorBus } from '../bus/motor-bus.ts';
import { ServoStatusError } from '../bus/errors.ts';
import { ArmbridgeError, InvalidArgumentError } from '../errors.ts';
import type { RegisterSpec, StsRegister, Vendor, XRegister } from '../protocol/index.ts';
import { SERVO_MODELS } from '../protocol/index.ts';
import { ServoSettingMismatchError, ServoSettingRefusedError } from './errors.ts';
import type { ArmProfile, JointSpec } from './profiles.ts';

/** One value for one joint's register, replacing the profile's (or added to it). */
export interface ServoSettingOverride {
  /** A joint name, or 'all'. */
  readonly joint: string;
  readonly register: string;
  readonly value: number;
}

/** A setting for one servo, as it will be written. */
export interface ResolvedServoSetting {
  readonly joint: string;
  readonly id: number;
  readonly register: StsRegister | XRegister;
  readonly value: number;
  /** Only these bits are set (to `value`'s); the rest kept. */
  readonly mask?: number;
  readonly reason: string;
  readonly source: 'profile' | 'override';
  /** In the servo's EEPROM area: written only with torque off (and, on Feetech, Lock 0). */
  readonly eeprom: boolean;
}

/** What a servo holds now for one of its settings (scan). */
export interface ServoSettingReading extends ResolvedServoSetting {
  /** The register's value now; undefined when the servo did not answer. */
  readonly actual: number | undefined;
  readonly matches: boolean;
  /** Why `actual` is missing. */
  readonly error?: string;
}

/** `joint.Register=value` (e.g. `gripper.Max_Torque_Limit=400`, `all.Acceleration=200`). */
export function parseServoSettingOverride(text: string): ServoSettingOverride {
  const m = /^\s*([A-Za-z_][\w]*)\.([A-Za-z_][\w]*)\s*=\s*(-?\d+)\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError(`servo setting "${text}": expected joint.Register=integer, e.g. gripper.Max_Torque_Limit=400`);
  return { joint: m[1]!, register: m[2]!, value: Number(m[3]) };
}

/** Comma-separated overrides (the CLI's --servo-setting); none for undefined or empty text. */
export function parseServoSettingOverrides(text: string | undefined): ServoSettingOverride[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map(parseServoSettingOverride);
}

function specOf(joint: JointSpec, register: string): RegisterSpec | undefined {
  return (SERVO_MODELS[joint.model].table as Partial<Record<string, RegisterSpec>>)[register];
}

/**
 * The profile's settings for each servo, in the profile's order, with the overrides applied: an
 * override replaces the profile's value for that joint and register (and its mask: an override sets
 * the whole register), or is added. InvalidArgumentError for an unknown joint, a register the joint's
 * servo does not have, or a read-only one.
 */
export function resolveServoSettings(profile: ArmProfile, overrides: readonly ServoSettingOverride[] = []): ResolvedServoSetting[] {
  const out: ResolvedServoSetting[] = [];
  const byName = new Map(profile.joints.map((j) => [j.name, j]));
  const make = (joint: JointSpec, register: string, value: number, mask: number | undefined, reason: string, source: 'profile' | 'override'): ResolvedServoSetting => {
    const spec = specOf(joint, register);
    const model = SERVO_MODELS[joint.model];
    if (!spec) throw new InvalidArgumentError(`servo setting ${joint.name}.${register}: the ${model.name} of joint "${joint.name}" has no register ${register}`);
    if (spec.access !== 'rw') throw new InvalidArgumentError(`servo setting ${joint.name}.${register}: ${register} is read-only`);
    const setting: ResolvedServoSetting = { joint: joint.name, id: joint.id, register: register as StsRegister | XRegister, value, reason, source, eeprom: spec.address < model.eepromEnd };
    return mask === undefined ? setting : { ...setting, mask };
  };
  const targets = (joints: 'all' | readonly string[], what: string): JointSpec[] =>
    joints === 'all'
      ? [...profile.joints]
      : joints.map((name) => {
          const j = byName.get(name);
          if (!j) throw new InvalidArgumentError(`${what}: the ${profile.kind} ${profile.role} has no joint "${name}" (joints: ${[...byName.keys()].join(', ')}, or all)`);
          return j;
        });
  for (const s of profile.servoSettings) {
    for (const j of targets(s.joints, `servo setting ${s.register}`)) out.push(make(j, s.register, s.value, s.mask, s.reason, 'profile'));
  }
  for (const o of overrides) {
    for (const j of targets(o.joint === 'all' ? 'all' : [o.joint], `servo setting ${o.joint}.${o.register}`)) {
      const replaced = make(j, o.register, o.value, undefined, `override (${o.joint}.${o.register}=${o.value})`, 'override');
      const at = out.findIndex((s) => s.joint === j.name && s.register === o.register);
      if (at >= 0) out[at] = replaced;
      else out.push(replaced);
    }
  }
  return out;
}

/** The value the servo must hold for `setting`, given what it holds now. */
function wanted(setting: ResolvedServoSetting, current: number): number {
  return setting.mask === undefined ? setting.value : (current & ~setting.mask) | (setting.value & setting.mask);
}

function holds(setting: ResolvedServoSetting, actual: number): boolean {
  return setting.mask === undefined ? actual === setting.value : (actual & setting.mask) === (setting.value & setting.mask);
}

/**
 * Writes the EEPROM settings (`eeprom: true`; the caller has turned torque off and, on Feetech,
 * unlocked) or the RAM ones, optionally for one joint only. A servo that answers with a refusal
 * gives ServoSettingRefusedError (a hardware status error is passed on as it is).
 */
export async function writeServoSettings(
  bus: MotorBus<Vendor>,
  settings: readonly ResolvedServoSetting[],
  which: { readonly eeprom: boolean; readonly joint?: string },
): Promise<void> {
  for (const s of settings) {
    if (s.eeprom !== which.eeprom || (which.joint !== undefined && s.joint !== which.joint)) continue;
    try {
      const current = await bus.read(s.id, s.register);
      const value = wanted(s, current);
      if (value !== current) await bus.write(s.id, s.register, value);
    } catch (e) {
      if (e instanceof ServoStatusError && !e.hardware) throw new ServoSettingRefusedError(s.joint, s.id, s.register, s.value, { cause: e });
      throw e;
    }
  }
}

/** Reads every setting back; the first that differs is a ServoSettingMismatchError naming joint, register, written and read values. */
export async function verifyServoSettings(bus: MotorBus<Vendor>, settings: readonly ResolvedServoSetting[]): Promise<void> {
  for (const s of settings) {
    const actual = await bus.read(s.id, s.register);
    if (!holds(s, actual)) throw new ServoSettingMismatchError(s.joint, s.id, s.register, s.mask === undefined ? s.value : wanted(s, actual), actual);
  }
}

/**
 * What the servos hold now for the profile's settings (with `overrides`, if the arm is run with
 * some), one row per servo and setting, without writing anything. For `scan`: a servo that does
 * not answer, or has no such register, gives a row with `actual` undefined and `error` set.
 */
export async function readServoSettings(
  bus: MotorBus<Vendor>,
  profile: ArmProfile,
  overrides: readonly ServoSettingOverride[] = [],
): Promise<ServoSettingReading[]> {
  const rows: ServoSettingReading[] = [];
  for (const s of resolveServoSettings(profile, overrides)) {
    try {
      const actual = await bus.read(s.id, s.register);
      rows.push({ ...s, actual, matches: holds(s, actual) });
    } catch (e) {
      if (!(e instanceof ArmbridgeError)) throw e;
      rows.push({ ...s, actual: undefined, matches: false, error: e.message });
    }
  }
  return rows;
}
