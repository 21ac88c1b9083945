/**
 * Finds Feetech SCS/STS packets in a byte stream with any split, garbage or echo. Never throws on
 * input: bad bytes are counted in `stats`, and after a failed checksum the search resumes one byte
 * later. The 8-bit checksum cannot catch everything: a cut-off packet followed by a good one is
 * recovered unless the mixed bytes happen to sum right (about 1 in 256), which the protocol cannot
 * tell apart from a real packet.
 */
import { FT_MAX_LENGTH, feetechChecksum, type FtPacket } from './feetech-packet.ts';
import { ByteQueue, newFramerStats, type FramerStats } from './framer-stats.ts';

export class FeetechFramer {
  readonly stats: FramerStats = newFramerStats();
  lastChecksumErrorId = -1;
  readonly #q = new ByteQueue();
  #quiet = false;

  append(chunk: Uint8Array): void {
    this.#q.append(chunk);
  }

  reset(): void {
    this.stats.garbageBytes += this.#q.length;
    this.#q.clear();
  }

  get buffered(): number {
    return this.#q.length;
  }

  /**
   * The line went quiet: no more bytes are coming for what is buffered. Candidates that cannot
   * complete are skipped, so a good packet stuck behind a cut-off header is still found. Returns
   * the packets found; afterwards the framer is empty but for a possible partial header.
   */
  drain(): FtPacket[] {
    const out: FtPacket[] = [];
    this.#quiet = true;
    try {
      for (let p = this.next(); p; p = this.next()) out.push(p);
    } finally {
      this.#quiet = false;
    }
    return out;
  }

  next(): FtPacket | undefined {
    const q = this.#q;
    for (;;) {
      const n = q.length;
      let i = 0;
      while (i + 1 < n && !(q.at(i) === 0xff && q.at(i + 1) === 0xff)) i++;
      if (i + 1 >= n) {
        const keep = n >= 1 && q.at(n - 1) === 0xff ? 1 : 0;
        this.stats.garbageBytes += n - keep;
        q.consume(n - keep);
        return undefined;
      }
      if (i > 0) {
        this.stats.garbageBytes += i;
        q.consume(i);
      }
      if (q.length < 4) return undefined;
      const id = q.at(2);
      const length = q.at(3);
      if (id === 0xff || length < 2 || length > FT_MAX_LENGTH) {
        this.stats.badHeaders++;
        this.stats.garbageBytes++;
        q.consume(1);
        continue;
      }
      const total = 4 + length;
      if (q.length < total) {
        if (!this.#quiet) return undefined;
        this.stats.badHeaders++;
        this.stats.garbageBytes++;
        q.consume(1);
        continue;
      }
      const view = q.view(0, total);
      if (feetechChecksum(view, 2, total - 1) !== view[total - 1]) {
        this.stats.checksumErrors++;
        this.lastChecksumErrorId = id;
        this.stats.garbageBytes++;
        q.consume(1);
        continue;
      }
      const raw = view.slice();
      q.consume(total);
      this.stats.packets++;
      return { id, code: raw[4]!, params: raw.subarray(5, total - 1), raw };
    }
  }
}
