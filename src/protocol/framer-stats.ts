/** What a framer saw besides good packets. Monotonic counters; read them, never reset them in place. */
export interface FramerStats {
  /** Packets handed out. */
  packets: number;
  /** Bytes skipped while looking for a header (noise, foreign traffic, cut-off packets). */
  garbageBytes: number;
  /** Candidate packets whose checksum/CRC did not match. */
  checksumErrors: number;
  /** Candidate headers with an impossible id or length. */
  badHeaders: number;
}

export function newFramerStats(): FramerStats {
  return { packets: 0, garbageBytes: 0, checksumErrors: 0, badHeaders: 0 };
}

/** A growable byte queue for framers: append at the end, consume from the front, compact lazily. */
export class ByteQueue {
  #buf = new Uint8Array(512);
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  at(i: number): number {
    return this.#buf[this.#start + i]!;
  }

  append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      if (live + chunk.length > this.#buf.length / 2) {
        const bigger = new Uint8Array(Math.max(this.#buf.length * 2, live + chunk.length));
        bigger.set(this.#buf.subarray(this.#start, this.#end), 0);
        this.#buf = bigger;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** A view of bytes [i, j) relative to the front; valid until the next append. */
  view(i: number, j: number): Uint8Array {
    return this.#buf.subarray(this.#start + i, this.#start + j);
  }

  consume(n: number): void {
    this.#start += Math.min(n, this.length);
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  clear(): void {
    this.#start = this.#end = 0;
  }
}
