/**
 * Finds DYNAMIXEL Protocol 2.0 packets (instructions and status) in a byte stream with any split,
 * garbage or echo. Never throws on input: bad bytes are counted in `stats` and skipped, and the
 * framer resynchronises one byte after a candidate header whose CRC fails.
 *
 *   const framer = new DynamixelFramer();
 *   framer.append(chunk);
 *   for (let p = framer.next(); p; p = framer.next()) handle(p);
 */
import { dynamixelCrc } from './dynamixel-crc.ts';
import { DXL_MAX_LENGTH, unstuff, type DxlPacket } from './dynamixel-packet.ts';
import { ByteQueue, newFramerStats, type FramerStats } from './framer-stats.ts';

export class DynamixelFramer {
  readonly stats: FramerStats = newFramerStats();
  /** Id claimed by the last candidate packet whose CRC failed (for error attribution). */
  lastChecksumErrorId = -1;
  readonly #q = new ByteQueue();
  #quiet = false;
  readonly #maxLength: number;

  constructor(options: { maxLength?: number } = {}) {
    this.#maxLength = options.maxLength ?? DXL_MAX_LENGTH;
  }

  append(chunk: Uint8Array): void {
    this.#q.append(chunk);
  }

  /** Discards everything buffered (e.g. after a timeout, so a late reply is not taken for the next one). */
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
  drain(): DxlPacket[] {
    const out: DxlPacket[] = [];
    this.#quiet = true;
    try {
      for (let p = this.next(); p; p = this.next()) out.push(p);
    } finally {
      this.#quiet = false;
    }
    return out;
  }

  next(): DxlPacket | undefined {
    const q = this.#q;
    for (;;) {
      // Find FF FF FD 00.
      let i = 0;
      const n = q.length;
      while (i + 3 < n && !(q.at(i) === 0xff && q.at(i + 1) === 0xff && q.at(i + 2) === 0xfd && q.at(i + 3) === 0x00)) i++;
      if (i + 3 >= n) {
        // Keep a possible partial header at the end.
        let keep = 0;
        if (n >= 1 && q.at(n - 1) === 0xff) keep = 1;
        if (n >= 2 && q.at(n - 2) === 0xff && q.at(n - 1) === 0xff) keep = 2;
        if (n >= 3 && q.at(n - 3) === 0xff && q.at(n - 2) === 0xff && q.at(n - 1) === 0xfd) keep = 3;
        this.stats.garbageBytes += n - keep;
        q.consume(n - keep);
        return undefined;
      }
      if (i > 0) {
        this.stats.garbageBytes += i;
        q.consume(i);
      }
      if (q.length < 7) return undefined;
      const id = q.at(4);
      const length = q.at(5) | (q.at(6) << 8);
      if (id === 0xff || length < 3 || length > this.#maxLength) {
        this.stats.badHeaders++;
        this.stats.garbageBytes++;
        q.consume(1);
        continue;
      }
      const total = 7 + length;
      if (q.length < total) {
        if (!this.#quiet) return undefined;
        this.stats.badHeaders++;
        this.stats.garbageBytes++;
        q.consume(1);
        continue;
      }
      const crc = q.at(total - 2) | (q.at(total - 1) << 8);
      if (dynamixelCrc(q.view(0, total - 2)) !== crc) {
        this.stats.checksumErrors++;
        this.lastChecksumErrorId = id;
        this.stats.garbageBytes++;
        q.consume(1);
        continue;
      }
      const raw = q.view(0, total).slice();
      const body = unstuff(raw.subarray(7, total - 2));
      q.consume(total);
      this.stats.packets++;
      return { id, instruction: body[0]!, params: body.subarray(1), raw };
    }
  }
}
