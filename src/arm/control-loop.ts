/**
 * The loop every arm-driving command shares (teleop, deploy): absolute deadlines, SafetyFilter in
 * front of every write, the watchdog, e-stop (signal or key), a normal stop (duration, signal,
 * key), and one safe exit on fault: hold (the filter repeats the last command), torque off on every
 * servo, SafetyStopError. What differs — where the desired command comes from, what is logged — is
 * the caller's `sense` and `after`.
 */
import { ESTOP_KEY_REASON, estopReasonOf } from './estop.ts';
import type { Arm } from './arm.ts';
import { RateLoop, type Sleeper } from './rate-loop.ts';
import { SafetyFilter, safetyStopFor, type FilterStatus, type SafetySummary } from './safety-filter.ts';
import { SampleWindow } from './sample-window.ts';

export interface Sensed {
  /** A fresh arm state (and command source) arrived this cycle: feeds the watchdog. */
  readonly fresh: boolean;
  /** The command wanted this cycle; null holds the last safe command. */
  readonly desired: ArrayLike<number> | null;
  /** Why `fresh` is false (named in the SafetyStopError if the watchdog trips). */
  readonly error?: unknown;
}

export interface CycleInfo {
  readonly index: number;
  readonly tMs: number;
  readonly perfMs: number;
  readonly status: FilterStatus;
  readonly command: Float64Array;
  readonly latencyUs: number;
  readonly overruns: number;
}

/** Settings every arm-driving loop takes (teleop, deploy, and this core). */
export interface LoopSettings {
  readonly rateHz: number;
  /** Stop after this long; default: until `signal` aborts. */
  readonly durationS?: number;
  /** Ends the run normally (the caller then parks the follower). */
  readonly signal?: AbortSignal;
  /** Emergency stop (SIGINT, an e-stop key): the follower holds, its torque is cut, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Polled once per cycle: 'stop' ends the run normally, 'estop' is an emergency stop. */
  readonly control?: () => 'stop' | 'estop' | undefined;
  /** Why `control` said 'estop' (default: the e-stop key). */
  readonly estopReason?: () => string;
  /** Watchdog: hold after, and cut torque after, this long without fresh reads. */
  readonly holdAfterMs?: number;
  readonly torqueOffAfterMs?: number;
  /** How to wait for each deadline (default: the event-loop hybrid sleep; a worker uses blockingSleeper). */
  readonly sleeper?: Sleeper;
}

/** The LoopSettings part of a caller's options (which carry more), to hand to runControlLoop. */
export function loopSettings(o: LoopSettings): LoopSettings {
  const { rateHz, durationS, signal, estop, control, estopReason, holdAfterMs, torqueOffAfterMs, sleeper } = o;
  return { rateHz, durationS, signal, estop, control, estopReason, holdAfterMs, torqueOffAfterMs, sleeper };
}

export interface ControlLoopOptions extends LoopSettings {
  readonly follower: Arm;
  readonly maxStep: number;
  /** Reads what it needs and says what the follower should do. `lateMs`: how late this cycle woke. */
  sense(index: number, lateMs: number, periodMs: number): Promise<Sensed>;
  after?(cycle: CycleInfo): void;
}

export interface ControlLoopResult {
  readonly cycles: number;
  readonly seconds: number;
  readonly achievedHz: number;
  readonly overruns: number;
  readonly latenessUs: readonly number[];
  /** Cycle start → write handed to the port, µs. */
  readonly latencyUs: readonly number[];
  readonly safety: SafetySummary;
  readonly stop: 'duration' | 'signal' | 'key';
}

export async function runControlLoop(o: ControlLoopOptions): Promise<ControlLoopResult> {
  const { follower } = o;
  const filter = new SafetyFilter({
    names: follower.names,
    lower: follower.lower,
    upper: follower.upper,
    maxStep: o.maxStep,
    holdAfterMs: o.holdAfterMs ?? 50,
    torqueOffAfterMs: o.torqueOffAfterMs ?? 250,
  });
  filter.reset(await follower.enableTorqueHolding());
  const loop = new RateLoop(o.rateHz, undefined, o.sleeper);
  const latencyUs = new SampleWindow();
  let lastError: unknown;
  let stop: ControlLoopResult['stop'] = 'duration';
  const t0 = performance.now();
  const endMs = o.durationS === undefined ? Infinity : t0 + o.durationS * 1000;
  const onEstop = () => filter.estop(estopReasonOf(o.estop!));
  if (o.estop?.aborted) onEstop();
  o.estop?.addEventListener('abort', onEstop, { once: true });
  try {
    for (let index = 0; ; index++) {
      const late = await loop.next();
      const start = performance.now();
      if (start >= endMs) break;
      if (o.signal?.aborted) {
        stop = 'signal';
        break;
      }
      const key = o.control?.();
      if (key === 'stop') {
        stop = 'key';
        break;
      }
      if (key === 'estop') filter.estop(o.estopReason?.() ?? ESTOP_KEY_REASON);
      const sensed = await o.sense(index, late, loop.periodMs);
      if (sensed.fresh) filter.markFresh();
      else lastError = sensed.error ?? lastError;
      const { status, command } = filter.filter(sensed.desired);
      if (status === 'fault') throw safetyStopFor(filter, lastError);
      if (follower.bus.isOpen) await follower.write(command).catch((e: unknown) => (lastError = e));
      const latency = (performance.now() - start) * 1000;
      latencyUs.push(latency);
      o.after?.({ index, tMs: start - t0, perfMs: start, status, command, latencyUs: latency, overruns: loop.stats.overruns });
    }
  } catch (e) {
    // Hold was already in effect (the filter repeated the last command); now cut torque everywhere.
    await follower.torqueOffAll();
    throw e;
  } finally {
    o.estop?.removeEventListener('abort', onEstop);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    cycles: loop.stats.cycles - 1,
    seconds,
    achievedHz: (loop.stats.cycles - 1) / seconds,
    overruns: loop.stats.overruns,
    latenessUs: loop.stats.latenessUs.toArray(),
    latencyUs: latencyUs.toArray(),
    safety: filter.summary(),
    stop,
  };
}
