/**
 * SafetyFilter: every command to a follower passes here (Arm.write only takes its output). A pure
 * core with an injected clock; the control loop calls `filter()` once per cycle:
 *
 *   - non-finite values (NaN, ±Infinity) → hold the last safe command, count a fault;
 *   - each joint clamped to its calibrated limits;
 *   - each joint's change per cycle limited to `maxStep` (LeRobot's max_relative_target);
 *   - watchdog: no fresh state for `holdAfterMs` → hold; for `torqueOffAfterMs` → fault (the caller
 *     parks or cuts torque);
 *   - e-stop (latched) → fault.
 *
 * Returns a status value, never throws in the hot path, and allocates nothing per cycle.
 */
import { ArmbridgeError, InvalidArgumentError } from '../errors.ts';
import { SafetyStopError } from './errors.ts';
import { markSafe, type SafeCommand } from './safe-command.ts';

export type FilterStatus = 'ok' | 'hold' | 'fault';

export interface SafetyFilterOptions {
  readonly names: readonly string[];
  readonly lower: ArrayLike<number>;
  readonly upper: ArrayLike<number>;
  /** Largest change of a joint's command per cycle (radians, or 0…1 for the gripper). */
  readonly maxStep: ArrayLike<number> | number;
  /** No fresh state for this long → hold. Default 50 ms. */
  readonly holdAfterMs?: number;
  /** No fresh state for this long → fault (torque off). Default 250 ms. */
  readonly torqueOffAfterMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  readonly now?: () => number;
}

export interface SafetySummary {
  cycles: number;
  /** Cycles in which at least one joint was clamped to its limits. */
  clampedCycles: number;
  /** Cycles in which at least one joint's step was limited. */
  stepLimitedCycles: number;
  /** Commands refused for non-finite values. */
  nonFinite: number;
  holds: number;
  faults: number;
  /** Per joint: how many cycles it was clamped or step-limited. */
  perJoint: Record<string, { clamped: number; stepLimited: number }>;
  estop: string | undefined;
  watchdog: string | undefined;
}

export class SafetyFilter {
  readonly names: readonly string[];
  readonly #lower: Float64Array;
  readonly #upper: Float64Array;
  readonly #maxStep: Float64Array;
  readonly #holdAfterMs: number;
  readonly #torqueOffAfterMs: number;
  readonly #now: () => number;
  readonly #out: Float64Array;
  readonly #perJoint: { clamped: number; stepLimited: number }[];
  #initialised = false;
  #lastFreshMs = -Infinity;
  #estop: string | undefined;
  #watchdog: string | undefined;
  #stats = { cycles: 0, clampedCycles: 0, stepLimitedCycles: 0, nonFinite: 0, holds: 0, faults: 0 };

  constructor(options: SafetyFilterOptions) {
    const n = options.names.length;
    if (options.lower.length !== n || options.upper.length !== n) throw new InvalidArgumentError('limits must have one value per joint');
    this.names = options.names;
    this.#lower = Float64Array.from(options.lower);
    this.#upper = Float64Array.from(options.upper);
    this.#maxStep = typeof options.maxStep === 'number' ? new Float64Array(n).fill(options.maxStep) : Float64Array.from(options.maxStep);
    for (let i = 0; i < n; i++) {
      if (!(this.#lower[i]! <= this.#upper[i]!)) throw new InvalidArgumentError(`joint ${options.names[i]}: lower limit above upper limit`);
      if (!(this.#maxStep[i]! > 0) || !Number.isFinite(this.#maxStep[i]!)) throw new InvalidArgumentError(`joint ${options.names[i]}: maxStep must be a positive number`);
    }
    this.#holdAfterMs = options.holdAfterMs ?? 50;
    this.#torqueOffAfterMs = options.torqueOffAfterMs ?? 250;
    this.#now = options.now ?? (() => performance.now());
    this.#out = new Float64Array(n);
    this.#perJoint = options.names.map(() => ({ clamped: 0, stepLimited: 0 }));
  }

  /** Starts from where the arm is (measured), clamped into the limits. Call before the first `filter`. */
  reset(measured: ArrayLike<number>): SafeCommand {
    for (let i = 0; i < this.#out.length; i++) {
      const v = Number.isFinite(measured[i]!) ? measured[i]! : (this.#lower[i]! + this.#upper[i]!) / 2;
      this.#out[i] = Math.min(this.#upper[i]!, Math.max(this.#lower[i]!, v));
    }
    this.#initialised = true;
    this.#lastFreshMs = this.#now();
    return markSafe(this.#out);
  }

  /** A fresh state (and command source) arrived this cycle: feeds the watchdog. */
  markFresh(): void {
    this.#lastFreshMs = this.#now();
  }

  /** Latches the emergency stop: every later cycle is a fault until `clearEstop()`. */
  estop(reason: string): void {
    this.#estop ??= reason;
  }

  clearEstop(): void {
    this.#estop = undefined;
  }

  get estopped(): boolean {
    return this.#estop !== undefined;
  }

  /** The last safe command (a view: copy it to keep it). */
  get last(): SafeCommand {
    return markSafe(this.#out);
  }

  /**
   * One cycle: `desired` (may be null when no command source this cycle) → the safe command to
   * send (a view into the filter's buffer, valid until the next call) and a status.
   */
  filter(desired: ArrayLike<number> | null): { status: FilterStatus; command: SafeCommand } {
    if (!this.#initialised) throw new InvalidArgumentError('SafetyFilter.reset(measured) must be called before filter()');
    this.#stats.cycles++;
    const command = markSafe(this.#out);
    if (this.#estop !== undefined) {
      this.#stats.faults++;
      return { status: 'fault', command };
    }
    const age = this.#now() - this.#lastFreshMs;
    if (age > this.#torqueOffAfterMs) {
      this.#watchdog ??= `no fresh state for ${age.toFixed(0)} ms (limit ${this.#torqueOffAfterMs} ms)`;
      this.#stats.faults++;
      return { status: 'fault', command };
    }
    if (age > this.#holdAfterMs || desired === null) {
      this.#stats.holds++;
      return { status: 'hold', command };
    }
    for (let i = 0; i < this.#out.length; i++) {
      if (!Number.isFinite(desired[i]!)) {
        this.#stats.nonFinite++;
        this.#stats.holds++;
        return { status: 'hold', command };
      }
    }
    let clamped = false;
    let limited = false;
    for (let i = 0; i < this.#out.length; i++) {
      let v = desired[i]!;
      if (v < this.#lower[i]!) {
        v = this.#lower[i]!;
        clamped = true;
        this.#perJoint[i]!.clamped++;
      } else if (v > this.#upper[i]!) {
        v = this.#upper[i]!;
        clamped = true;
        this.#perJoint[i]!.clamped++;
      }
      const prev = this.#out[i]!;
      const step = this.#maxStep[i]!;
      if (v - prev > step) {
        v = prev + step;
        limited = true;
        this.#perJoint[i]!.stepLimited++;
      } else if (prev - v > step) {
        v = prev - step;
        limited = true;
        this.#perJoint[i]!.stepLimited++;
      }
      this.#out[i] = v;
    }
    if (clamped) this.#stats.clampedCycles++;
    if (limited) this.#stats.stepLimitedCycles++;
    return { status: 'ok', command };
  }

  summary(): SafetySummary {
    return {
      ...this.#stats,
      perJoint: Object.fromEntries(this.names.map((n, i) => [n, { ...this.#perJoint[i]! }])),
      estop: this.#estop,
      watchdog: this.#watchdog,
    };
  }
}

/** One line a person can read: what the filter changed. */
export function describeSafety(s: SafetySummary): string {
  const parts = [`${s.cycles} cycles`];
  if (s.clampedCycles) parts.push(`${s.clampedCycles} clamped to limits`);
  if (s.stepLimitedCycles) parts.push(`${s.stepLimitedCycles} step-limited`);
  if (s.nonFinite) parts.push(`${s.nonFinite} non-finite commands refused`);
  if (s.holds) parts.push(`${s.holds} holds`);
  if (s.faults) parts.push(`${s.faults} faults`);
  if (s.estop) parts.push(`e-stop: ${s.estop}`);
  if (s.watchdog) parts.push(`watchdog: ${s.watchdog}`);
  const busy = Object.entries(s.perJoint).filter(([, v]) => v.clamped || v.stepLimited);
  if (busy.length) parts.push(`most affected: ${busy.map(([n, v]) => `${n} (${v.clamped} clamped, ${v.stepLimited} limited)`).join(', ')}`);
  return parts.join('; ');
}

/** The error a loop ends with when the filter faults: the e-stop reason, or why the state was lost. */
export function safetyStopFor(filter: SafetyFilter, lastError: unknown): SafetyStopError {
  const s = filter.summary();
  if (s.estop) return new SafetyStopError(`e-stop: ${s.estop}`);
  const why = lastError instanceof ArmbridgeError ? lastError.message : (s.watchdog ?? 'fault');
  return new SafetyStopError(`lost the arm state: ${why}`, { cause: lastError });
}
