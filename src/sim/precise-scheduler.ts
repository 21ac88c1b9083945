/**
 * Runs callbacks at absolute times with sub-millisecond accuracy: a timer for the coarse part of the
 * wait (timers alone are late by ~1 ms, which would hide the wire timing the simulator models), then,
 * for the last ~2 ms, busy-waiting on the clock in slices of at most `SPIN_SLICE_US`, yielding to the
 * event loop (`setImmediate`) between slices so the thread's other I/O still runs.
 *
 * Why slices and not a `setImmediate` per poll: each poll allocated an Immediate, a closure and a
 * number, about 130–330 KB per control cycle at 500 Hz with the simulator on the loop's thread
 * (measured with V8's sampling heap profiler). Sweeping that much fresh memory through the caches
 * every cycle made the policy's first inference after a read 4× slower (13 → 55 µs p50) and forced a
 * scavenge every ~25 cycles. A slice allocates nothing while it spins.
 *
 * A clock that does not move by itself (ManualClock in tests) is never busy-waited on: its tasks run
 * when a later tick finds them due. Tasks due at the same time run in insertion order. One scheduler
 * per simulated bus; `close()` cancels everything and releases the timers.
 */
import { spinUntil } from '../arm/spin.ts';
import type { SimClock } from './clock.ts';

interface Task {
  readonly atUs: number;
  readonly seq: number;
  readonly run: () => void;
}

const SPIN_WINDOW_US = 2000;
/** Longest the scheduler holds its thread in one busy-wait before letting the event loop run. */
const SPIN_SLICE_US = 150;

export class PreciseScheduler {
  readonly #clock: SimClock;
  readonly #spins: boolean;
  readonly #nowUs: () => number;
  readonly #tick = () => this.#run();
  #tasks: Task[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(clock: SimClock) {
    this.#clock = clock;
    this.#spins = clock.realTime === true;
    this.#nowUs = () => clock.nowUs();
  }

  at(atUs: number, run: () => void): void {
    if (this.#closed) return;
    const task = { atUs, seq: this.#seq++, run };
    // Insert keeping the list sorted by time, then sequence (lists are short: a handful of replies).
    let i = this.#tasks.length;
    while (i > 0 && this.#tasks[i - 1]!.atUs > atUs) i--;
    this.#tasks.splice(i, 0, task);
    // Already waiting for an earlier or equal task: the wait stands (no re-arming per reply).
    if (i > 0 && (this.#timer || this.#immediate)) return;
    this.#arm();
  }

  get pending(): number {
    return this.#tasks.length;
  }

  close(): void {
    this.#closed = true;
    this.#tasks = [];
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #arm(): void {
    this.#disarm();
    const first = this.#tasks[0];
    if (!first) return;
    const waitUs = first.atUs - this.#clock.nowUs();
    if (waitUs > SPIN_WINDOW_US) {
      this.#timer = setTimeout(this.#tick, Math.floor((waitUs - SPIN_WINDOW_US / 2) / 1000));
    } else {
      this.#immediate = setImmediate(this.#tick);
    }
  }

  #run(): void {
    this.#timer = undefined;
    this.#immediate = undefined;
    const clock = this.#clock;
    const sliceEnd = clock.nowUs() + SPIN_SLICE_US;
    for (;;) {
      const now = clock.nowUs();
      let ran = false;
      while (this.#tasks.length > 0 && this.#tasks[0]!.atUs <= now) {
        const task = this.#tasks.shift()!;
        task.run();
        if (this.#closed) return;
        ran = true;
      }
      // After a delivery the event loop runs first: the host takes each reply as it comes, as from a real port.
      if (ran) break;
      const first = this.#tasks[0];
      if (!first || !this.#spins || now >= sliceEnd || first.atUs - now > SPIN_WINDOW_US) break;
      // Busy-wait for it, or to the end of this slice (then the event loop runs before the next).
      spinUntil(Math.min(first.atUs, sliceEnd), undefined, this.#nowUs);
    }
    this.#arm();
  }
}
