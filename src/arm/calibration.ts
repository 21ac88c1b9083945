/**
 * Calibration: for each joint, the servo's homing offset, direction (drive mode) and the range of
 * travel in ticks, as LeRobot stores it, plus the servo model so a file cannot be applied to the
 * wrong arm. Converts ticks ↔ calibrated units: radians around the middle of the range for revolute
 * joints (LeRobot's convention: 0 is the midpoint of the recorded range), 0…1 for the gripper.
 *
 * File format (calibration/*.json):
 *   { "format": "armbridge.calibration/1", "arm": "so101", "role": "follower",
 *     "joints": { "shoulder_pan": { "id": 1, "model": "sts3215", "drive_mode": 0,
 *                 "homing_offset": 112, "range_min": 750, "range_max": 3346 }, … } }
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { SERVO_MODELS, type ServoModelName } from '../protocol/index.ts';
import { CalibrationFileError, CalibrationMismatchError } from './errors.ts';
import type { ArmKind, ArmProfile, ArmRole, JointSpec } from './profiles.ts';

export const CALIBRATION_FORMAT = 'armbridge.calibration/1';

const jointSchema = z.object({
  id: z.number().int().min(0).max(253),
  model: z.enum(Object.keys(SERVO_MODELS) as [ServoModelName, ...ServoModelName[]]),
  drive_mode: z.union([z.literal(0), z.literal(1)]),
  homing_offset: z.number().int(),
  range_min: z.number().int(),
  range_max: z.number().int(),
});

const calibrationSchema = z.object({
  format: z.literal(CALIBRATION_FORMAT),
  arm: z.enum(['so101', 'koch']),
  role: z.enum(['follower', 'leader']),
  source: z.string().optional(),
  joints: z.record(z.string(), jointSchema),
});

export type JointCalibration = z.infer<typeof jointSchema>;
export type Calibration = z.infer<typeof calibrationSchema>;

/** LeRobot's calibration JSON: { joint: { id, drive_mode, homing_offset, range_min, range_max } }. */
const leRobotSchema = z.record(
  z.string(),
  z.object({
    id: z.number().int(),
    drive_mode: z.number().int().min(0).max(1),
    homing_offset: z.number().int(),
    range_min: z.number().int(),
    range_max: z.number().int(),
  }),
);

/** Checks that `c` belongs to this arm: same joints, ids and models, and sane ranges. */
export function checkCalibration(c: Calibration, profile: ArmProfile): void {
  if (c.arm !== profile.kind) throw new CalibrationMismatchError('*', `the file is for a ${c.arm} arm, this is a ${profile.kind}`);
  if (c.role !== profile.role) throw new CalibrationMismatchError('*', `the file is for the ${c.role} arm, this is the ${profile.role}`);
  for (const j of profile.joints) {
    const cal = c.joints[j.name];
    if (!cal) throw new CalibrationMismatchError(j.name, 'the joint is missing from the file');
    if (cal.id !== j.id) throw new CalibrationMismatchError(j.name, `the file says servo id ${cal.id}, the arm has id ${j.id}`);
    if (cal.model !== j.model) throw new CalibrationMismatchError(j.name, `the file says a ${cal.model}, the arm has a ${j.model}`);
    const res = SERVO_MODELS[j.model].resolution;
    if (!(cal.range_min < cal.range_max) || cal.range_min < 0 || cal.range_max > res - 1) {
      throw new CalibrationMismatchError(j.name, `range ${cal.range_min}…${cal.range_max} is not inside 0…${res - 1} with min < max`);
    }
  }
  const extra = Object.keys(c.joints).filter((n) => !profile.joints.some((j) => j.name === n));
  if (extra.length) throw new CalibrationMismatchError(extra[0]!, 'this arm has no such joint');
}

export async function loadCalibration(path: string): Promise<Calibration> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CalibrationFileError(path, `cannot read it (${(e as Error).message}); calibrate first with armbridge calibrate`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CalibrationFileError(path, `not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = calibrationSchema.safeParse(json);
  if (!parsed.success) {
    const leRobot = leRobotSchema.safeParse(json);
    const hint = leRobot.success ? ' (this looks like a LeRobot calibration file: import it with armbridge calibrate --import)' : '';
    throw new CalibrationFileError(path, `not an armbridge calibration${hint}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Writes atomically (temp file, then rename), so a crash never leaves half a file. */
/** Writes a calibration file atomically (a temporary file renamed over it), making its folder if needed. */
export async function saveCalibration(path: string, c: Calibration): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, JSON.stringify(c, null, 2) + '\n');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new CalibrationFileError(path, `cannot write it (${(e as Error).message}): choose another --out`, { cause: e });
  }
}

/** Converts a LeRobot calibration JSON (already parsed) for `profile`. Throws on mismatches. */
export function importLeRobotCalibration(json: unknown, profile: ArmProfile, path = 'input'): Calibration {
  const parsed = leRobotSchema.safeParse(json);
  if (!parsed.success) {
    throw new CalibrationFileError(path, `not a LeRobot calibration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const joints: Record<string, JointCalibration> = {};
  for (const [name, v] of Object.entries(parsed.data)) {
    const spec = profile.joints.find((j) => j.name === name);
    if (!spec) throw new CalibrationMismatchError(name, `a ${profile.kind} arm has no such joint`);
    joints[name] = { id: v.id, model: spec.model, drive_mode: v.drive_mode as 0 | 1, homing_offset: v.homing_offset, range_min: v.range_min, range_max: v.range_max };
  }
  const c: Calibration = { format: CALIBRATION_FORMAT, arm: profile.kind, role: profile.role, source: 'lerobot', joints };
  checkCalibration(c, profile);
  return c;
}

/**
 * A calibration file of either format: armbridge's, else LeRobot's own JSON (which has no servo
 * models: those come from `profile`). A file that is not JSON at all fails with armbridge's error;
 * a JSON file LeRobot's format does not fit fails with that import's error.
 */
export async function loadCalibrationAnyFormat(path: string, profile: ArmProfile): Promise<Calibration> {
  try {
    return await loadCalibration(path);
  } catch (e) {
    if (!(e instanceof CalibrationFileError)) throw e;
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      throw e;
    }
    return importLeRobotCalibration(json, profile, path);
  }
}

export function toLeRobotCalibration(c: Calibration): Record<string, Omit<JointCalibration, 'model'>> {
  return Object.fromEntries(Object.entries(c.joints).map(([n, { model: _m, ...rest }]) => [n, rest]));
}

export function makeCalibration(arm: ArmKind, role: ArmRole, joints: Record<string, JointCalibration>, source = 'armbridge'): Calibration {
  return { format: CALIBRATION_FORMAT, arm, role, source, joints };
}

/** Ticks ↔ calibrated units for one joint. Pure and allocation-free. */
export class JointConverter {
  readonly name: string;
  readonly kind: JointSpec['kind'];
  readonly rangeMin: number;
  readonly rangeMax: number;
  /** Calibrated limits in units (radians, or 0…1 for the gripper). */
  readonly lower: number;
  readonly upper: number;
  readonly #mid: number;
  readonly #radPerTick: number;
  readonly #dir: 1 | -1;

  constructor(spec: JointSpec, cal: JointCalibration) {
    this.name = spec.name;
    this.kind = spec.kind;
    this.rangeMin = cal.range_min;
    this.rangeMax = cal.range_max;
    this.#mid = (cal.range_min + cal.range_max) / 2;
    this.#radPerTick = (2 * Math.PI) / SERVO_MODELS[spec.model].resolution;
    this.#dir = cal.drive_mode === 1 ? -1 : 1;
    if (spec.kind === 'gripper') {
      this.lower = 0;
      this.upper = 1;
    } else {
      this.lower = -((cal.range_max - cal.range_min) / 2) * this.#radPerTick;
      this.upper = -this.lower;
    }
  }

  toUnits(ticks: number): number {
    if (this.kind === 'gripper') {
      const g = (ticks - this.rangeMin) / (this.rangeMax - this.rangeMin);
      return this.#dir === 1 ? g : 1 - g;
    }
    return this.#dir * (ticks - this.#mid) * this.#radPerTick;
  }

  /** Units → ticks, rounded and clamped into the calibrated range (the last line of defence). */
  toTicks(units: number): number {
    let t: number;
    if (this.kind === 'gripper') {
      const g = this.#dir === 1 ? units : 1 - units;
      t = this.rangeMin + g * (this.rangeMax - this.rangeMin);
    } else {
      t = this.#mid + (this.#dir * units) / this.#radPerTick;
    }
    if (!Number.isFinite(t)) t = this.#mid;
    return Math.min(this.rangeMax, Math.max(this.rangeMin, Math.round(t)));
  }
}
