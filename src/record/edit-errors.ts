/** Errors of the recording editing tools (`armbridge dataset …`). */
import { ArmbridgeError } from '../errors.ts';

export class UnknownEpisodeError extends ArmbridgeError {
  constructor(
    readonly path: string,
    readonly episode: number,
    readonly known: readonly number[],
  ) {
    super('UNKNOWN_EPISODE', `${path} has no episode ${episode} (it has ${known.length ? known.join(', ') : 'none'}): see armbridge dataset list ${path}`);
  }
}

export class RecordingNotClosedError extends ArmbridgeError {
  constructor(readonly path: string) {
    super('RECORDING_NOT_CLOSED', `${path} was not closed (no footer): run armbridge recover ${path} first and edit the recovered file`);
  }
}

/** Recordings made at different rates cannot share one dataset: an episode's steps would mean different times. */
export class RateMismatchError extends ArmbridgeError {
  constructor(readonly rates: readonly { path: string; rateHz: string }[]) {
    super('RATE_MISMATCH', `recordings at different rates cannot be merged (${rates.map((r) => `${r.path}: ${r.rateHz} Hz`).join(', ')}): record at one rate, or merge the files of each rate separately`);
  }
}

/** Different arm, joints or calibration: refused unless the caller forces it. */
export class ProfileMismatchError extends ArmbridgeError {
  constructor(
    readonly first: string,
    readonly other: string,
    readonly what: string,
  ) {
    super('PROFILE_MISMATCH', `${other} has a different ${what} than ${first}: its joint values would not mean the same; pass --force to merge anyway (the merge record keeps each source's calibration)`);
  }
}

export class OverlappingRecordingsError extends ArmbridgeError {
  constructor(
    readonly first: string,
    readonly other: string,
  ) {
    super('OVERLAPPING_RECORDINGS', `${other} overlaps ${first} in time: episodes are delimited by log time, so overlapping files cannot be merged (virtual-time rollouts share one time origin: merge recordings made in real time, or record rollouts into one file)`);
  }
}

export class SameInputOutputError extends ArmbridgeError {
  constructor(readonly path: string) {
    super('SAME_INPUT_OUTPUT', `the output ${path} is also an input: choose another --out (or pass --overwrite to replace the input atomically with the edited copy)`);
  }
}
