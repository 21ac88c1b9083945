/**
 * The calibration procedure people know from LeRobot, made safe against encoder wrap-around:
 *   1. torque off, calibration registers reset (offset 0, limits 0…max);
 *   2. the person holds the arm in the middle of its range → homing offset so that pose reads mid-scale;
 *   3. the person moves every joint through its whole range while we sample; readings are unwrapped
 *      (a jump of more than half a turn between samples is the encoder wrapping, not motion), so the
 *      true arc of travel is known whatever the mounting;
 *   4. the homing offset is shifted so the middle of the *measured* arc sits at mid-scale: the wrap
 *      point (0 ↔ max) is then half a turn from the middle of the travel, outside it;
 *   5. offset and limits are written to the servos and returned as a Calibration.
 * Prompts are injected: a terminal (Enter) or a script (the simulator's hand).
 *
 * When steps 2–4 fail (the person's input closed, an interrupt, a joint that did not move) the
 * servos are put back into the state of step 1, whatever step 2 had written: torque off, homing
 * offset 0, limits over the full turn (EEPROM locked again on Feetech). Nothing half-calibrated stays
 * in them; the error is rethrown.
 */
import type { MotorBus } from '../bus/motor-bus.ts';
import { SERVO_MODELS, type Vendor } from '../protocol/index.ts';
import { makeCalibration, type Calibration, type JointCalibration } from './calibration.ts';
import { CalibrationError } from './errors.ts';
import type { ArmProfile } from './profiles.ts';

export interface CalibrationPrompts {
  /** Ask for the middle pose; resolve when the person confirms. `live()` reads positions (ticks). */
  middle(live: () => Promise<number[]>): Promise<void>;
  /** Ask for the sweep; resolve when the person confirms. `ranges()` shows what has been seen. */
  sweep(live: () => Promise<number[]>, ranges: () => { name: string; min: number; max: number }[]): Promise<void>;
}

export interface CalibrateOptions {
  /** Sampling period during the sweep, ms. Default 10. */
  readonly sampleMs?: number;
  /** A joint must move at least this many ticks during the sweep. Default 40. */
  readonly minSpanTicks?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function calibrateArm(bus: MotorBus<Vendor>, profile: ArmProfile, prompts: CalibrationPrompts, options: CalibrateOptions = {}): Promise<Calibration> {
  const ids = profile.joints.map((j) => j.id);
  const feetech = profile.vendor === 'feetech';
  const res = profile.joints.map((j) => SERVO_MODELS[j.model].resolution);
  const mid = res.map((r) => r / 2);
  const live = () => bus.syncRead('Present_Position', ids);

  // 1. Torque off and a clean slate.
  for (const j of profile.joints) {
    await bus.write(j.id, 'Torque_Enable', 0);
    if (feetech) await bus.write(j.id, 'Lock', 0);
    await bus.write(j.id, 'Homing_Offset', 0);
    await bus.write(j.id, 'Min_Position_Limit', 0);
    await bus.write(j.id, 'Max_Position_Limit', res[profile.joints.indexOf(j)]! - 1);
  }

  const joints: Record<string, JointCalibration> = {};
  try {
    // 2. Middle pose → first homing offset.
    await prompts.middle(live);
    const atMiddle = await live();
    const offsets = atMiddle.map((p, i) => homingFor(feetech, p, mid[i]!, res[i]!));
    for (const [i, j] of profile.joints.entries()) await bus.write(j.id, 'Homing_Offset', offsets[i]!);

    // 3. Sweep, unwrapping.
    const first = await live();
    const unwrapped = first.slice();
    const lo = first.slice();
    const hi = first.slice();
    let prev = first.slice();
    let sweeping = true;
    const ranges = () => profile.joints.map((j, i) => ({ name: j.name, min: lo[i]!, max: hi[i]! }));
    const sampler = (async () => {
      while (sweeping) {
        await sleep(options.sampleMs ?? 10);
        const now = await live().catch(() => undefined);
        if (!now) continue;
        for (let i = 0; i < now.length; i++) {
          let d = now[i]! - prev[i]!;
          const r = res[i]!;
          if (d > r / 2) d -= r;
          else if (d < -r / 2) d += r;
          unwrapped[i] = unwrapped[i]! + d;
          lo[i] = Math.min(lo[i]!, unwrapped[i]!);
          hi[i] = Math.max(hi[i]!, unwrapped[i]!);
        }
        prev = now;
      }
    })();
    try {
      await prompts.sweep(live, ranges);
    } finally {
      sweeping = false;
      await sampler;
    }

    // 4. Centre the measured arc at mid-scale.
    for (const [i, j] of profile.joints.entries()) {
      const span = hi[i]! - lo[i]!;
      if (span < (options.minSpanTicks ?? 40)) {
        throw new CalibrationError(j.name, `it moved only ${span} ticks during the sweep: move every joint from one end of its travel to the other (a simulator served on a port needs a hand: armbridge sim … --hand calibrate)`);
      }
      if (span > res[i]! - 16) throw new CalibrationError(j.name, `its travel of ${span} ticks is a full turn or more: a continuous joint cannot be calibrated with limits`);
      const shift = Math.round((lo[i]! + hi[i]!) / 2 - mid[i]!);
      const offset = feetech ? wrapOffset(offsets[i]! + shift, res[i]!) : offsets[i]! - shift;
      const rangeMin = Math.round(lo[i]! - shift);
      const rangeMax = Math.round(hi[i]! - shift);
      joints[j.name] = { id: j.id, model: j.model, drive_mode: 0, homing_offset: offset, range_min: rangeMin, range_max: rangeMax };
    }
  } catch (e) {
    await leaveUncalibrated(bus, profile, res);
    throw e;
  }

  // 5. Into the servos.
  for (const j of profile.joints) {
    const c = joints[j.name]!;
    await bus.write(j.id, 'Homing_Offset', c.homing_offset);
    await bus.write(j.id, 'Min_Position_Limit', c.range_min);
    await bus.write(j.id, 'Max_Position_Limit', c.range_max);
    if (feetech) await bus.write(j.id, 'Lock', 1);
  }
  return makeCalibration(profile.kind, profile.role, joints);
}

/** Step 1's state, best effort (the bus may be what failed): offset 0, full-turn limits, Feetech EEPROM locked. */
async function leaveUncalibrated(bus: MotorBus<Vendor>, profile: ArmProfile, res: readonly number[]): Promise<void> {
  const quiet = () => undefined;
  for (const [i, j] of profile.joints.entries()) {
    await bus.write(j.id, 'Homing_Offset', 0).catch(quiet);
    await bus.write(j.id, 'Min_Position_Limit', 0).catch(quiet);
    await bus.write(j.id, 'Max_Position_Limit', res[i]! - 1).catch(quiet);
    if (profile.vendor === 'feetech') await bus.write(j.id, 'Lock', 1).catch(quiet);
  }
}

/** The homing offset that makes `present` read `target`. Feetech: Present = Actual − Offset (mod a
 * turn, offset within ±(half a turn − 1)); Dynamixel: Present = Actual + Offset. */
function homingFor(feetech: boolean, present: number, target: number, res: number): number {
  return feetech ? wrapOffset(present - target, res) : target - present;
}

function wrapOffset(offset: number, res: number): number {
  let o = ((offset % res) + res) % res;
  if (o >= res / 2) o -= res;
  return Math.max(-(res / 2 - 1), Math.min(res / 2 - 1, o));
}
