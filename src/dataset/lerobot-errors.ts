/** Errors of LeRobotDataset export and import. */
import { ArmbridgeError } from '../errors.ts';

export class DatasetExistsError extends ArmbridgeError {
  constructor(readonly path: string) {
    super('DATASET_EXISTS', `${path} already exists: choose another --out, or pass --overwrite to replace it (the old folder is removed only once the new one is complete)`);
  }
}

export class DatasetWriteError extends ArmbridgeError {
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('DATASET_WRITE', `cannot write the dataset ${path}: ${detail}; nothing was left behind`, options);
  }
}

export class CalibrationMissingError extends ArmbridgeError {
  constructor(readonly path: string) {
    super('CALIBRATION_MISSING', `${path} holds no follower calibration, which converting joint values to LeRobot's units needs: pass --calibration FILE (an armbridge or LeRobot calibration of the follower that recorded it)`);
  }
}

export class InfoMissingError extends ArmbridgeError {
  constructor(readonly dir: string) {
    super('LEROBOT_INFO_MISSING', `${dir} has no meta/info.json: it is not a LeRobotDataset folder (point at the folder that holds meta/ and data/, e.g. ~/.cache/huggingface/lerobot/USER/NAME)`);
  }
}

export class InfoInvalidError extends ArmbridgeError {
  constructor(
    readonly dir: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('LEROBOT_INFO_INVALID', `${dir}/meta/info.json is not a valid LeRobotDataset info: ${detail}`, options);
  }
}

export class UnsupportedVersionError extends ArmbridgeError {
  constructor(
    readonly dir: string,
    readonly version: string,
  ) {
    super('LEROBOT_VERSION', `${dir} is a LeRobotDataset ${version}; armbridge reads v3.x: convert it first with LeRobot's converter (python -m lerobot.datasets.v30.convert_dataset_v21_to_v30 --repo-id=…)`);
  }
}

export class NoStateActionError extends ArmbridgeError {
  constructor(
    readonly dir: string,
    readonly features: readonly string[],
  ) {
    super('LEROBOT_NO_STATE_ACTION', `${dir} has no numeric observation.state vector (or a non-numeric action; features: ${features.join(', ') || 'none'}): armbridge imports the state/action part only (action optional: without it train derives labels from the states), images and videos are out of scope`);
  }
}

export class DataMismatchError extends ArmbridgeError {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super('LEROBOT_DATA_MISMATCH', `${dir}: the data files do not match meta/: ${detail}`);
  }
}
