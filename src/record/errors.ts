import { ArmbridgeError } from '../errors.ts';

export class RecordingExistsError extends ArmbridgeError {
  constructor(readonly path: string) {
    super('RECORDING_EXISTS', `${path} already exists: pass --overwrite to replace it, or choose another --out (recordings are never appended to silently)`);
  }
}

export class RecordingWriteError extends ArmbridgeError {
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('RECORDING_WRITE', `cannot write recording ${path}: ${detail}`, options);
  }
}

export class CorruptRecordingError extends ArmbridgeError {
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('RECORDING_CORRUPT', `${path} is not a readable MCAP recording: ${detail}`, options);
  }
}

export class ComplianceUnsupportedError extends ArmbridgeError {
  constructor(
    readonly compliance: string,
    readonly vendor: string,
  ) {
    super('COMPLIANCE_UNSUPPORTED', `--compliance ${compliance} needs servos with a damping mode (Feetech STS: Torque_Enable = 2); this arm's ${vendor} servos have none: use --compliance torque-off`);
  }
}
