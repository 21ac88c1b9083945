/**
 * The most recent `capacity` samples of a measurement, in a preallocated ring: a loop that runs for
 * hours records its latencies without growing memory or allocating per cycle.
 */
export class SampleWindow {
  readonly #buf: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity = 120_000) {
    this.#buf = new Float64Array(capacity);
  }

  push(v: number): void {
    this.#buf[this.#next] = v;
    this.#next = (this.#next + 1) % this.#buf.length;
    if (this.#count < this.#buf.length) this.#count++;
  }

  get length(): number {
    return this.#count;
  }

  /** Oldest first. */
  toArray(): number[] {
    const out = new Array<number>(this.#count);
    const start = this.#count < this.#buf.length ? 0 : this.#next;
    for (let i = 0; i < this.#count; i++) out[i] = this.#buf[(start + i) % this.#buf.length]!;
    return out;
  }
}
