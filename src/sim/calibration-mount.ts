/**
 * Mounting a simulated arm after a user's calibration: where each servo's joint sits so that the
 * calibration fits it, as it fits the user's own arm.
 *
 * A calibration (armbridge's or LeRobot's: per joint id, homing_offset, range_min, range_max, in the
 * servo's Present_Position units after the offset) was recorded by moving each joint through its
 * whole travel. So on the simulated arm the calibrated range is the mechanical travel, widened by a
 * small margin (a person never quite reaches the stops), and the encoder reading at each end is the
 * one the user's arm gave: raw = present + offset (Feetech: Present = Actual − Homing_Offset),
 * raw = present − offset (Dynamixel: Present = Actual + Homing_Offset). The joint's zero is the middle
 * of the range (LeRobot's convention). The servos' EEPROM holds the calibration from power-up, as a
 * calibrated arm's does, so LeRobot's `is_calibrated` holds and nothing has to be rewritten.
 *
 * sim/ knows servos, not our calibration files: the caller (cli/) hands the joints over as data.
 */
import { SimMountError } from './errors.ts';

export interface MountJoint {
  readonly name: string;
  readonly id: number;
  readonly homingOffset: number;
  readonly rangeMin: number;
  readonly rangeMax: number;
}

export interface JointMount {
  /** Encoder counts (continuous) at the joint's zero: the middle of the calibrated range. */
  readonly zeroCounts: number;
  /** Mechanical hard stops, continuous counts. */
  readonly travel: { readonly min: number; readonly max: number };
  /** Where the joint rests at power-up, continuous counts. */
  readonly restCounts: number;
  /** EEPROM at power-up. */
  readonly homingOffset: number;
  readonly rangeMin: number;
  readonly rangeMax: number;
}

/** Margin of mechanical travel beyond each end of the calibrated range, counts (≈ 0.9°). */
export const MOUNT_MARGIN_COUNTS = 10;

export function mountJoint(
  vendor: 'feetech' | 'dynamixel',
  resolution: number,
  joint: { readonly name: string; readonly id: number; readonly gripper: boolean },
  cal: MountJoint | undefined,
): JointMount {
  if (!cal) throw new SimMountError(joint.name, 'the calibration has no such joint');
  if (cal.id !== joint.id) throw new SimMountError(joint.name, `the calibration says servo id ${cal.id}, the simulated arm has id ${joint.id}`);
  if (!(cal.rangeMin < cal.rangeMax) || cal.rangeMin < 0 || cal.rangeMax > resolution - 1) {
    throw new SimMountError(joint.name, `range ${cal.rangeMin}…${cal.rangeMax} is not inside 0…${resolution - 1} with min < max`);
  }
  if (vendor === 'feetech' && Math.abs(cal.homingOffset) > 2047) {
    throw new SimMountError(joint.name, `homing offset ${cal.homingOffset} does not fit the STS register (−2047…2047)`);
  }
  const span = cal.rangeMax - cal.rangeMin;
  // Travel never exceeds one turn (a joint that wraps fully would read the same count twice).
  const margin = Math.max(0, Math.min(MOUNT_MARGIN_COUNTS, Math.floor((resolution - 1 - span) / 2)));
  const toRaw = (present: number) => (vendor === 'feetech' ? present + cal.homingOffset : present - cal.homingOffset);
  const rawMin = toRaw(cal.rangeMin);
  const rawMax = toRaw(cal.rangeMax);
  const zero = (rawMin + rawMax) / 2;
  return {
    zeroCounts: zero,
    travel: { min: rawMin - margin, max: rawMax + margin },
    // A gripper rests near its closed end (range_min side), every other joint in the middle.
    restCounts: joint.gripper ? rawMin + Math.round(span * 0.05) : Math.round(zero),
    homingOffset: cal.homingOffset,
    rangeMin: cal.rangeMin,
    rangeMax: cal.rangeMax,
  };
}
