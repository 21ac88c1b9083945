import { ArmbridgeError } from '../errors.ts';

/** The recording lacks what this kind of replay plays (an empty file, or another tool's topics). */
export class ReplayMissingTopicError extends ArmbridgeError {
  constructor(readonly file: string, readonly needed: readonly string[], readonly target: string, present: readonly string[]) {
    super(
      'REPLAY_MISSING_TOPIC',
      `${file} has no messages on ${needed.join(', ')}, which replay --to ${target} needs (it has: ${present.join(', ') || 'no messages'}); record with armbridge record or armbridge ros record`,
    );
  }
}
