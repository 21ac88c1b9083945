/**
 * The latest external command (a ROS 2 command topic's target joints) in a SharedArrayBuffer,
 * written by the thread that receives it (the main thread: rclnodejs lives there) and read once per
 * cycle by the loop's thread, without locks, waits or allocation.
 *
 * A seqlock: the writer makes the sequence odd, writes the values and the arrival time, then makes it
 * even again; the reader copies, then checks the sequence did not move and was even, and otherwise
 * copies again. So the loop never acts on a command half of which is the previous one. Single writer.
 *
 * Layout: Int32 [sequence, pad] then Float64 [arrivalEpochMs, value × joints]. The arrival time is
 * wall-clock ms since the epoch (`performance.timeOrigin + performance.now()`), because the two
 * threads' `performance.now()` have different origins.
 */

/** How often the reader retries a copy the writer overlapped before keeping what it had. */
const MAX_TRIES = 64;
const HEADER_BYTES = 8;

/** Wall-clock ms since the epoch, comparable across threads. */
export function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class CommandSlot {
  readonly buffer: SharedArrayBuffer;
  readonly joints: number;
  readonly #seq: Int32Array;
  readonly #data: Float64Array;
  /** Reader side: the copy being checked (never handed out before the check). */
  readonly #scratch: Float64Array;
  /** Reader side: the sequence of the command last copied out (0: none yet). */
  #seen = 0;
  #arrivalMs = -Infinity;

  constructor(joints: number, buffer?: SharedArrayBuffer) {
    this.joints = joints;
    const bytes = HEADER_BYTES + (1 + joints) * 8;
    this.buffer = buffer ?? new SharedArrayBuffer(bytes);
    if (this.buffer.byteLength !== bytes) throw new RangeError(`command slot of ${this.buffer.byteLength} bytes, expected ${bytes} for ${joints} joints`);
    this.#seq = new Int32Array(this.buffer, 0, 2);
    this.#data = new Float64Array(this.buffer, HEADER_BYTES);
    this.#scratch = new Float64Array(joints);
  }

  /** Writer (one thread only): publish a command that arrived at `arrivalEpochMs` (default now). */
  write(values: ArrayLike<number>, arrivalEpochMs: number = epochNowMs()): void {
    if (values.length !== this.joints) throw new RangeError(`command of ${values.length} values for ${this.joints} joints`);
    const s = Atomics.load(this.#seq, 0);
    Atomics.store(this.#seq, 0, s + 1); // odd: being written
    const d = this.#data;
    d[0] = arrivalEpochMs;
    for (let i = 0; i < this.joints; i++) d[1 + i] = values[i]!;
    Atomics.store(this.#seq, 0, s + 2); // even: complete
  }

  /** Commands written so far. */
  get written(): number {
    return Atomics.load(this.#seq, 0) >>> 1;
  }

  /**
   * Reader: copies the newest complete command into `out` when there is one newer than the last copy
   * (true), else leaves `out` alone (false). `out` keeps the last command: it stays the target.
   */
  take(out: Float64Array): boolean {
    const d = this.#data;
    const c = this.#scratch;
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const before = Atomics.load(this.#seq, 0);
      if (before === this.#seen) return false;
      if (before & 1) continue;
      const at = d[0]!;
      for (let i = 0; i < this.joints; i++) c[i] = d[1 + i]!;
      if (Atomics.load(this.#seq, 0) === before) {
        out.set(c);
        this.#seen = before;
        this.#arrivalMs = at;
        return true;
      }
    }
    // The writer kept overlapping (it writes far faster than a loop reads): the last command stays
    // the target this cycle, the newer one is taken next cycle.
    return false;
  }

  /** Reader: a command has been taken. */
  get has(): boolean {
    return this.#seen !== 0;
  }

  /** Reader: when the command last taken arrived, epoch ms (−Infinity before the first). */
  get arrivalEpochMs(): number {
    return this.#arrivalMs;
  }
}
