/**
 * The loop worker's wake strategy, tuned to the machine it runs on. A blocking sleeper waits in
 * `Atomics.wait` until `spin` before the deadline, then spins: the spin must cover how late the OS
 * wakes a waiting thread (on this 2-core VM: p99 0.3–0.9 ms, and it changes with the load), but each
 * µs of spin is a µs of a core taken from the other threads (and, under SCHED_FIFO, counted against
 * the kernel's real-time budget, sched_rt_runtime_us).
 *
 * So the spin is measured, not guessed: a short calibration before the first cycle (waits of a few
 * ms, as the loop does), then adaptively, from every wait of the loop itself: the spin is the
 * 99.5th percentile of recent wait overshoots (how long after its timeout `Atomics.wait` returned)
 * plus a margin, bounded by a share of the period. An idle thread with a fixed spin is the floor this
 * is compared with in the benchmarks (bench/deploy-loop.ts).
 *
 * No allocation per cycle: overshoots go into a fixed histogram (25 µs bins) that halves its counts
 * every `HALF_LIFE` samples, so the estimate follows the machine's load within seconds.
 */
import type { Sleeper } from '../arm/rate-loop.ts';
import { spinUntil } from '../arm/spin.ts';

export interface WakeTuning {
  readonly mode: 'adaptive' | 'fixed';
  /** The spin before each deadline at the end of the run (adaptive: the last estimate), µs. */
  readonly spinUs: number;
  /** The most it may spin: `MAX_SPIN_SHARE` of the period, at most `MAX_SPIN_US`. */
  readonly maxSpinUs: number;
  /** How late Atomics.wait returned after its timeout, over the recent window: p50 and p99.5, µs. */
  readonly waitOvershootP50Us: number;
  readonly waitOvershootP995Us: number;
  /** Share of wall time spent spinning (a share of one core). */
  readonly spinShare: number;
  /** Warm-ups run in the spin window (see `TunedSleeper.setWarm`), and those skipped for lack of time. */
  readonly warmups: number;
  readonly warmupsSkipped: number;
  /** How long a warm-up took, p99.5 of recent ones, µs (NaN: none). */
  readonly warmP995Us: number;
}

export interface TunedSleeper {
  readonly sleeper: Sleeper;
  tuning(): WakeTuning;
  /**
   * Work to run in the spin window right after the thread wakes, when there is time for it before
   * the deadline (e.g. one inference, so the model is in this core's caches when the cycle needs
   * it). Its measured duration is added to the spin, within the cap.
   */
  setWarm(warm: (() => void) | undefined): void;
}

export interface TunedSleeperOptions {
  /** Wait on slot 0 of this array while it holds 0; Atomics.notify wakes the sleeper early. */
  readonly wake: Int32Array;
  readonly rateHz: number;
  /** A fixed spin, µs (no tuning). */
  readonly fixedSpinUs?: number;
  /** The thread runs at SCHED_FIFO: a spin counts against the kernel's RT budget (the cap is lower). */
  readonly fifo?: boolean;
  /** Skip the start-up calibration (tests). */
  readonly calibrate?: boolean;
  /**
   * Devices simulated on this thread (DeployEnvironment.settle): given the time until the blocking
   * wait would start, it lets them take what the cycle wrote before the thread blocks.
   */
  readonly settle?: (budgetMs: number) => Promise<void>;
}

const BIN_US = 25;
const BINS = 400; // 0 … 10 ms
const HALF_LIFE = 2000;
const MARGIN_US = 40;
const MIN_SPIN_US = 50;
const MAX_SPIN_US = 1500;
/** Of the period, at most this share spins (normal priority), or this lower share at SCHED_FIFO. */
const MAX_SPIN_SHARE = 0.3;
const MAX_SPIN_SHARE_FIFO = 0.2;
const QUANTILE = 0.995;

export class WaitOvershoot {
  readonly #bins = new Float64Array(BINS);
  #n = 0;
  #sinceHalving = 0;

  add(us: number): void {
    const b = Math.min(BINS - 1, Math.max(0, Math.floor(us / BIN_US)));
    this.#bins[b]!++;
    this.#n++;
    if (++this.#sinceHalving >= HALF_LIFE) {
      for (let i = 0; i < BINS; i++) this.#bins[i]! /= 2;
      this.#n /= 2;
      this.#sinceHalving = 0;
    }
  }

  get count(): number {
    return this.#n;
  }

  /** Upper edge of the bin holding quantile q, µs (NaN: no samples). */
  quantile(q: number): number {
    if (this.#n <= 0) return NaN;
    const want = q * this.#n;
    let acc = 0;
    for (let i = 0; i < BINS; i++) {
      acc += this.#bins[i]!;
      if (acc >= want) return (i + 1) * BIN_US;
    }
    return BINS * BIN_US;
  }
}

export function maxSpinUs(rateHz: number, fifo: boolean): number {
  return Math.min(MAX_SPIN_US, (fifo ? MAX_SPIN_SHARE_FIFO : MAX_SPIN_SHARE) * (1e6 / rateHz));
}

/**
 * A blocking sleeper (yield to pending I/O once, Atomics.wait, spin) whose spin is tuned as above.
 * `tuning()` snapshots what it chose and measured.
 */
export function tunedSleeper(o: TunedSleeperOptions): TunedSleeper {
  const wake = o.wake;
  const cap = maxSpinUs(o.rateHz, o.fifo ?? false);
  const fixed = o.fixedSpinUs !== undefined;
  const hist = new WaitOvershoot();
  const warmHist = new WaitOvershoot();
  let warm: (() => void) | undefined;
  let warmups = 0;
  let warmupsSkipped = 0;
  let spinUs = fixed ? o.fixedSpinUs! : Math.min(cap, 500);
  let spunMs = 0;
  const t0 = performance.now();
  let sinceUpdate = 0;
  const warmCostUs = () => (warm && warmHist.count > 0 ? warmHist.quantile(QUANTILE) : warm ? 150 : 0);
  const update = () => {
    if (fixed || hist.count < 20) return;
    spinUs = Math.min(cap, Math.max(MIN_SPIN_US, hist.quantile(QUANTILE) + MARGIN_US + warmCostUs()));
  };
  if (!fixed && o.calibrate !== false) {
    // Start-up calibration: 40 waits of 2 ms (≈ 90 ms), as the loop will wait, while nothing else runs yet.
    for (let k = 0; k < 40 && Atomics.load(wake, 0) === 0; k++) {
      const target = performance.now() + 2;
      Atomics.wait(wake, 0, 0, 2);
      hist.add((performance.now() - target) * 1000);
    }
    update();
  }
  const sleeper: Sleeper = async (deadlineMs, now) => {
    // Let I/O that completed since the cycle ended run first (e.g. a simulator's reply handling).
    await new Promise((r) => setImmediate(r));
    if (o.settle) {
      const budget = deadlineMs - spinUs / 1000 - now();
      if (budget > 0) await o.settle(budget);
    }
    const target = deadlineMs - spinUs / 1000;
    const coarse = target - now();
    if (coarse > 0 && Atomics.load(wake, 0) === 0) {
      const r = Atomics.wait(wake, 0, 0, coarse);
      // Only a wait that ran to its timeout says how late this machine wakes a thread.
      if (r === 'timed-out') {
        hist.add((now() - target) * 1000);
        if (++sinceUpdate >= 10) {
          sinceUpdate = 0;
          update();
        }
      }
    }
    let spinStart = now();
    if (warm) {
      // Only when it fits before the deadline: a warm-up must never make the cycle late.
      if ((deadlineMs - spinStart) * 1000 > warmCostUs() + 20) {
        warm();
        const end = now();
        warmHist.add((end - spinStart) * 1000);
        warmups++;
        spunMs += end - spinStart;
        spinStart = end;
      } else warmupsSkipped++;
    }
    // The last `spinUs`, without allocating (spin.ts).
    spinUntil(deadlineMs, wake, now);
    spunMs += now() - spinStart;
  };
  const tuning = (): WakeTuning => ({
    mode: fixed ? 'fixed' : 'adaptive',
    spinUs,
    maxSpinUs: cap,
    waitOvershootP50Us: hist.quantile(0.5),
    waitOvershootP995Us: hist.quantile(QUANTILE),
    spinShare: spunMs / Math.max(1, performance.now() - t0),
    warmups,
    warmupsSkipped,
    warmP995Us: warmHist.quantile(QUANTILE),
  });
  return {
    sleeper,
    tuning,
    setWarm: (w) => {
      warm = w;
      update();
    },
  };
}
