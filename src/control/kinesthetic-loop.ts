/**
 * The kinesthetic recording loop (`record --kinesthetic`) for the loop engine: no leader, nothing
 * commanded. The follower yields to the hand (torque off, or Feetech damping), acknowledged by every
 * servo, before the first cycle; then at a fixed rate its state is read and the episode state machine
 * (record/episode-control.ts) says whether the cycle belongs to an episode. The caller logs the
 * cycles (through the ring, on the main thread).
 *
 * How it ends:
 *   - normally (every episode done, the stop key, a stop from the main thread): the arm is taken
 *     hold of where the hand left it (torque on, goal = present: no jump), `release` lets the hand go
 *     (the simulator's; a person gets `letGoMs`), and the caller parks it (torque off at the rest pose).
 *   - e-stop, or no fresh state for `faultAfterMs` (default 250): hold where it is (if it still
 *     answers), torque off on every servo, the open episode is closed as cut, SafetyStopError.
 *
 * Thread-agnostic (it takes a Sleeper); the loop worker runs it with its tuned blocking sleeper.
 */
import { ESTOP_KEY_REASON } from '../arm/estop.ts';
import type { Arm } from '../arm/arm.ts';
import type { ControlLoopResult } from '../arm/control-loop.ts';
import { SafetyStopError } from '../arm/errors.ts';
import { RateLoop, type Sleeper } from '../arm/rate-loop.ts';
import { SampleWindow } from '../arm/sample-window.ts';
import type { ControlKey, EpisodeControl, EpisodeTaskSample } from '../record/episode-control.ts';
import { FAULT_AFTER_MS, FollowerWatch, yieldToHand, type Compliance } from '../record/kinesthetic-session.ts';


export interface KinestheticCycle {
  readonly index: number;
  readonly tMs: number;
  readonly perfMs: number;
  /** Null when the read failed this cycle (nothing is recorded for it). */
  readonly follower: Float64Array | null;
  /** The cycle belongs to a recorded episode. */
  readonly recorded: boolean;
  readonly latencyUs: number;
  readonly overruns: number;
}

export interface KinestheticLoopOptions<T extends EpisodeTaskSample> {
  readonly follower: Arm;
  readonly rateHz: number;
  readonly session: EpisodeControl;
  readonly compliance?: Compliance;
  /** Stop after this long even if episodes remain (default: when the session is done). */
  readonly durationS?: number;
  readonly faultAfterMs?: number;
  readonly sleeper?: Sleeper;
  /** Polled every cycle: a stop (ends the open episode, kept) or an e-stop. */
  control(): 'stop' | 'estop' | undefined;
  /** Why `control` said 'estop' (default: the e-stop key). */
  estopReason?(): string;
  /** Polled every cycle: the session's key (next, re-record, stop). */
  key(): ControlKey | undefined;
  /** The task's sample for a recorded cycle (`recorded` and `latencyUs` are not known yet). */
  readonly sample?: (c: KinestheticCycle) => T | undefined;
  /** Every cycle, after the session stepped (its events are ready to take). */
  onCycle(c: KinestheticCycle): void;
  /** After a normal end, once the arm is held: the hand lets go. */
  readonly release?: () => void;
  /** After `release`, before the caller parks: time for a person to take their hands off, ms. */
  readonly letGoMs?: number;
}

export interface KinestheticLoopResult extends ControlLoopResult {
  /** Cycles whose follower read failed (no sample recorded). */
  readonly missedReads: number;
  /** After a normal end: the arm was taken hold of where the hand left it. */
  readonly held: boolean;
}

/** Nothing is commanded: the safety summary of a loop that never writes a goal. */
function noCommands(cycles: number, estop: string | undefined, watchdog: string | undefined): ControlLoopResult['safety'] {
  return { cycles, clampedCycles: 0, stepLimitedCycles: 0, nonFinite: 0, holds: 0, faults: estop || watchdog ? 1 : 0, perJoint: {}, estop, watchdog };
}

export async function runKinestheticLoop<T extends EpisodeTaskSample>(o: KinestheticLoopOptions<T>): Promise<KinestheticLoopResult> {
  const { follower, session } = o;
  // Torque off (or damping) on every servo, acknowledged (each write waits for the servo's status):
  // the hand must be able to move the arm. A servo that does not confirm fails the start.
  await yieldToHand(follower, o.compliance);
  const watch = new FollowerWatch(follower, o.rateHz, o.faultAfterMs ?? FAULT_AFTER_MS, '; torque was turned off');
  const present = watch.present;
  const loop = new RateLoop(o.rateHz, undefined, o.sleeper);
  const latencyUs = new SampleWindow();
  const t0 = performance.now();
  const endMs = o.durationS === undefined ? Infinity : o.durationS * 1000;
  let cycles = 0;
  let stop: ControlLoopResult['stop'] = 'duration';
  let estop: string | undefined;
  // This cycle, as the task's sample sees it (reused: no allocation per cycle).
  const cur = { index: 0, tMs: 0, perfMs: 0, follower: null as Float64Array | null, recorded: true, latencyUs: NaN, overruns: 0 };
  const sample = o.sample;
  const sampleNow = sample ? () => sample(cur) : undefined;
  try {
    for (let index = 0; ; index++) {
      await loop.next();
      const perfMs = performance.now();
      const tMs = perfMs - t0;
      const command = o.control();
      if (command === 'estop') {
        estop = o.estopReason?.() ?? ESTOP_KEY_REASON;
        throw new SafetyStopError(`e-stop: ${estop}`);
      }
      cycles++;
      const fresh = await watch.read(tMs);
      // A stop from the main thread or the end of the duration: the open episode ends (kept), as the stop key does.
      const stopNow = command === 'stop' || tMs >= endMs;
      const key = stopNow ? 'stop' : o.key();
      cur.index = index;
      cur.tMs = tMs;
      cur.perfMs = perfMs;
      cur.follower = fresh ? present : null;
      cur.overruns = loop.stats.overruns;
      const recorded = session.step(tMs, key, sampleNow);
      const latency = (performance.now() - perfMs) * 1000;
      latencyUs.push(latency);
      o.onCycle({ index, tMs, perfMs, follower: fresh ? present : null, recorded, latencyUs: latency, overruns: loop.stats.overruns });
      if (session.stopped) {
        stop = command === 'stop' ? 'signal' : tMs >= endMs ? 'duration' : session.stopped === 'key' ? 'key' : 'duration';
        break;
      }
    }
  } catch (e) {
    // E-stop or lost arm: hold where it is (if it still answers), then torque off, as teleop does.
    await follower.enableTorqueHolding().catch(() => undefined);
    await follower.torqueOffAll();
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000;
  // The safe end: take hold of the arm where the hand left it, then the hand lets go.
  let held = false;
  try {
    await follower.enableTorqueHolding();
    held = true;
  } finally {
    o.release?.();
  }
  if (o.letGoMs) await new Promise((r) => setTimeout(r, o.letGoMs));
  return {
    cycles,
    seconds,
    achievedHz: cycles / Math.max(1e-9, seconds),
    overruns: loop.stats.overruns,
    latenessUs: loop.stats.latenessUs.toArray(),
    latencyUs: latencyUs.toArray(),
    safety: noCommands(cycles, undefined, undefined),
    stop,
    missedReads: watch.missedReads,
    held,
  };
}
