/**
 * What every framer shares: a byte queue, counters, `reset`, and `drain` for when the line goes
 * quiet. A protocol supplies `parse()`, which looks at the front of the queue and either hands out a
 * packet, asks for more bytes, or rejects the candidate (the framer then resyncs one byte later).
 */
import { ByteQueue, newFramerStats, type FramerStats } from './framer-stats.ts';

export const NEED_MORE = Symbol('need more bytes');
export const REJECTED = Symbol('candidate rejected');

export abstract class PacketFramer<P> {
  readonly stats: FramerStats = newFramerStats();
  /** Id claimed by the last candidate packet whose checksum failed (for error attribution). */
  lastChecksumErrorId = -1;
  protected readonly queue = new ByteQueue();
  #quiet = false;

  append(chunk: Uint8Array): void {
    this.queue.append(chunk);
  }

  /** Discards everything buffered (e.g. after a timeout, so a late reply is not taken for the next one). */
  reset(): void {
    this.stats.garbageBytes += this.queue.length;
    this.queue.clear();
  }

  get buffered(): number {
    return this.queue.length;
  }

  /**
   * The line went quiet: no more bytes are coming for what is buffered. Candidates that cannot
   * complete are skipped, so a good packet stuck behind a cut-off header is still found. Returns
   * the packets found; afterwards the framer holds at most a partial header.
   */
  drain(): P[] {
    const out: P[] = [];
    this.#quiet = true;
    try {
      for (let p = this.next(); p; p = this.next()) out.push(p);
    } finally {
      this.#quiet = false;
    }
    return out;
  }

  next(): P | undefined {
    for (;;) {
      const r = this.parse();
      if (r === NEED_MORE) return undefined;
      if (r !== REJECTED) {
        this.stats.packets++;
        return r;
      }
    }
  }

  /** Front of the queue → a packet, NEED_MORE, or REJECTED (after calling one of the helpers below). */
  protected abstract parse(): P | typeof NEED_MORE | typeof REJECTED;

  /** Drops `n` bytes that cannot start a packet. */
  protected skip(n: number): void {
    this.stats.garbageBytes += n;
    this.queue.consume(n);
  }

  /** The candidate at the front has an impossible header: resync one byte later. */
  protected badHeader(): typeof REJECTED {
    this.stats.badHeaders++;
    this.skip(1);
    return REJECTED;
  }

  /** The candidate's checksum failed: resync one byte later. */
  protected badChecksum(id: number): typeof REJECTED {
    this.stats.checksumErrors++;
    this.lastChecksumErrorId = id;
    this.skip(1);
    return REJECTED;
  }

  /** A candidate of `total` bytes is not complete yet: wait, or when the line is quiet give up on it. */
  protected incomplete(total: number): typeof NEED_MORE | typeof REJECTED | undefined {
    if (this.queue.length >= total) return undefined;
    return this.#quiet ? this.badHeader() : NEED_MORE;
  }
}
