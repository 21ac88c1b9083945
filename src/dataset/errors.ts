import { ArmbridgeError } from '../errors.ts';

export class NoEpisodesError extends ArmbridgeError {
  constructor(
    readonly files: readonly string[],
    detail: string,
  ) {
    super('NO_EPISODES', `no usable episodes in ${files.join(', ') || '(no files)'}: ${detail}`);
  }
}

export class MissingFeatureError extends ArmbridgeError {
  constructor(
    readonly file: string,
    readonly feature: string,
    readonly topic: string,
  ) {
    super('MISSING_FEATURE', `${file} has no ${topic} messages, which the observation feature "${feature}" needs: record with that topic or drop the feature`);
  }
}

export class NonFiniteDataError extends ArmbridgeError {
  constructor(
    readonly file: string,
    readonly topic: string,
    readonly timeNs: bigint,
    readonly value: number,
  ) {
    super('NON_FINITE_DATA', `${file}: ${topic} at t=${timeNs} ns holds ${value}: drop that episode (armbridge dataset drop) or re-record it`);
  }
}
