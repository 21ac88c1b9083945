/**
 * A fixed-rate loop with absolute deadlines (no drift: deadline k = start + k·period) and a hybrid
 * sleep. A cycle that wakes more than one period late is an overrun; the schedule then re-anchors
 * instead of bursting to catch up.
 *
 * Two ways to wait for a deadline (a `Sleeper`):
 * - `eventLoopSleeper` (default): a timer for most of the wait, then `setImmediate` polling for the
 *   last ~2.5 ms, which a timer alone overshoots by about a millisecond. The event loop keeps
 *   running, so it suits a thread that does other work (recording, a simulator, the terminal).
 * - `blockingSleeper`: yields to the event loop once (pending I/O callbacks run), then blocks the
 *   thread in `Atomics.wait` until shortly before the deadline and spins the rest. Sub-millisecond
 *   and free of the event loop's latency, but it blocks its thread: only for a thread that owns
 *   nothing else (the control-loop worker). Waking it early: `Atomics.notify(wake, 0)`.
 */
import { SampleWindow } from './sample-window.ts';
import { spinUntil } from './spin.ts';

export interface RateLoopStats {
  cycles: number;
  overruns: number;
  /** Wake-up lateness of recent cycles, µs (how far after its deadline each cycle started). */
  readonly latenessUs: SampleWindow;
}

/** Waits until `deadlineMs` on the clock `now`. */
export type Sleeper = (deadlineMs: number, now: () => number) => Promise<void>;

const SPIN_MS = 2.5;

export const eventLoopSleeper: Sleeper = async (deadlineMs, now) => {
  const coarse = deadlineMs - now() - SPIN_MS;
  if (coarse > 1) await new Promise((r) => setTimeout(r, Math.floor(coarse)));
  while (now() < deadlineMs) await new Promise((r) => setImmediate(r));
};

export interface BlockingSleeperOptions {
  /** Spin (busy-wait) this long before each deadline, µs: covers the wake-up latency of Atomics.wait. Default 150. */
  readonly spinUs?: number;
  /** Wait on slot 0 of this array while it holds 0; another thread wakes the sleeper early with Atomics.notify. */
  readonly wake?: Int32Array;
}

export function blockingSleeper(options: BlockingSleeperOptions = {}): Sleeper {
  const spinMs = (options.spinUs ?? 150) / 1000;
  const wake = options.wake ?? new Int32Array(new SharedArrayBuffer(4));
  return async (deadlineMs, now) => {
    // Let I/O that completed since the cycle ended run first (e.g. a simulator's reply handling).
    await new Promise((r) => setImmediate(r));
    const coarse = deadlineMs - now() - spinMs;
    if (coarse > 0 && Atomics.load(wake, 0) === 0) Atomics.wait(wake, 0, 0, coarse);
    // The last `spinUs`, without allocating (spin.ts).
    spinUntil(deadlineMs, wake, now);
  };
}

export class RateLoop {
  readonly periodMs: number;
  readonly stats: RateLoopStats = { cycles: 0, overruns: 0, latenessUs: new SampleWindow() };
  readonly #now: () => number;
  readonly #sleep: Sleeper;
  #next: number | undefined;

  constructor(rateHz: number, now: () => number = () => performance.now(), sleep: Sleeper = eventLoopSleeper) {
    if (!(rateHz > 0)) throw new RangeError(`rate must be positive, got ${rateHz}`);
    this.periodMs = 1000 / rateHz;
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Waits for the next deadline; returns how late it woke, ms. The first call returns at once. */
  async next(): Promise<number> {
    const now = this.#now();
    if (this.#next === undefined) {
      this.#next = now + this.periodMs;
      this.stats.cycles++;
      this.stats.latenessUs.push(0);
      return 0;
    }
    const deadline = this.#next;
    await this.#sleep(deadline, this.#now);
    const woke = this.#now();
    const late = Math.max(0, woke - deadline);
    this.stats.cycles++;
    this.stats.latenessUs.push(late * 1000);
    if (late > this.periodMs) {
      this.stats.overruns++;
      this.#next = woke + this.periodMs;
    } else {
      this.#next = deadline + this.periodMs;
    }
    return late;
  }
}

/** Waits until `deadlineMs` (performance.now() scale) with the event-loop hybrid sleep. */
export async function sleepUntil(deadlineMs: number, now: () => number = () => performance.now()): Promise<void> {
  await eventLoopSleeper(deadlineMs, now);
}
