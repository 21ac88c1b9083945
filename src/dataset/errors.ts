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
    hint = "record that topic, or choose what the policy observes with --obs (e.g. --obs follower.position for a joint-only policy; armbridge inspect lists a recording's topics)",
  ) {
    super('MISSING_FEATURE', `${file} has no ${topic} messages, which the observation feature "${feature}" needs: ${hint}`);
  }
}

export class UnknownFeatureError extends ArmbridgeError {
  constructor(
    readonly feature: string,
    known: string,
  ) {
    super('UNKNOWN_FEATURE', `unknown observation feature "${feature}": give --obs a comma-separated list of ${known}`);
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
