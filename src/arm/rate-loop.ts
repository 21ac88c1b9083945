/**
 * A fixed-rate loop with absolute deadlines (no drift: deadline k = start + k·period) and a hybrid
 * sleep: a timer for most of the wait, then `setImmediate` polling for the last ~2.5 ms, which a
 * timer alone overshoots by about a millisecond. A cycle that wakes more than one period late is an
 * overrun; the schedule then re-anchors instead of bursting to catch up.
 */
import { SampleWindow } from './sample-window.ts';

export interface RateLoopStats {
  cycles: number;
  overruns: number;
  /** Wake-up lateness of recent cycles, µs (how far after its deadline each cycle started). */
  readonly latenessUs: SampleWindow;
}

const SPIN_MS = 2.5;

export class RateLoop {
  readonly periodMs: number;
  readonly stats: RateLoopStats = { cycles: 0, overruns: 0, latenessUs: new SampleWindow() };
  readonly #now: () => number;
  #next: number | undefined;

  constructor(rateHz: number, now: () => number = () => performance.now()) {
    if (!(rateHz > 0)) throw new RangeError(`rate must be positive, got ${rateHz}`);
    this.periodMs = 1000 / rateHz;
    this.#now = now;
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
    const coarse = deadline - this.#now() - SPIN_MS;
    if (coarse > 1) await new Promise((r) => setTimeout(r, Math.floor(coarse)));
    while (this.#now() < deadline) await new Promise((r) => setImmediate(r));
    const woke = this.#now();
    const late = woke - deadline;
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

/** Waits until `deadlineMs` (performance.now() scale) with the same hybrid sleep as RateLoop. */
export async function sleepUntil(deadlineMs: number, now: () => number = () => performance.now()): Promise<void> {
  const coarse = deadlineMs - now() - SPIN_MS;
  if (coarse > 1) await new Promise((r) => setTimeout(r, Math.floor(coarse)));
  while (now() < deadlineMs) await new Promise((r) => setImmediate(r));
}
