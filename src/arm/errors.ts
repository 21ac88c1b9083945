import { ArmbridgeError } from '../errors.ts';

/** A calibration file does not fit the connected arm (ids, models, joints, or the arm itself). */
export class CalibrationMismatchError extends ArmbridgeError {
  constructor(
    readonly joint: string,
    readonly detail: string,
  ) {
    super('CALIBRATION_MISMATCH', `calibration does not fit this arm at joint "${joint}": ${detail}; recalibrate (armbridge calibrate) or pick the right file`);
  }
}

/** A calibration file that cannot be read or is malformed. */
export class CalibrationFileError extends ArmbridgeError {
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('CALIBRATION_FILE', `calibration file ${path}: ${detail}`, options);
  }
}

/** The calibration procedure could not produce a usable calibration. */
export class CalibrationError extends ArmbridgeError {
  constructor(
    readonly joint: string,
    detail: string,
  ) {
    super('CALIBRATION_FAILED', `calibrating joint "${joint}" failed: ${detail}`);
  }
}

/** A servo on the bus is not what the arm profile says (missing, or another model). */
export class ArmMismatchError extends ArmbridgeError {
  constructor(
    readonly joint: string,
    detail: string,
  ) {
    super('ARM_MISMATCH', `joint "${joint}": ${detail}; check the arm type (--arm), the port, and the servo ids (armbridge scan)`);
  }
}

/** The safety layer stopped the arm (watchdog, e-stop, repeated faults). */
export class SafetyStopError extends ArmbridgeError {
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('SAFETY_STOP', `safety stop: ${reason}; the follower was held, then its torque was turned off`, options);
  }
}

/** A servo setting read back differs from what was written (the servo did not take it). */
export class ServoSettingMismatchError extends ArmbridgeError {
  constructor(
    readonly joint: string,
    readonly servoId: number,
    readonly register: string,
    readonly written: number,
    readonly read: number,
  ) {
    super(
      'SERVO_SETTING_MISMATCH',
      `joint "${joint}" (servo id ${servoId}): ${register} was written ${written} but reads back ${read}; ` +
        'power-cycle the arm and connect again; if it persists the servo refuses that value: override it (--servo-setting) or replace the servo',
    );
  }
}

/** A servo answered a setting's write with an error (value out of its range, register locked). */
export class ServoSettingRefusedError extends ArmbridgeError {
  constructor(
    readonly joint: string,
    readonly servoId: number,
    readonly register: string,
    readonly value: number,
    options?: ErrorOptions,
  ) {
    super(
      'SERVO_SETTING_REFUSED',
      `joint "${joint}" (servo id ${servoId}) refused ${register} = ${value}: check the value against the servo's range (e.g. Goal_Current within Current_Limit) or drop the override (--servo-setting)`,
      options,
    );
  }
}
