/**
 * Teleoperation: at a fixed rate, read the leader and the follower (in parallel, one sync read
 * each), map joint by joint in calibrated units, pass through the SafetyFilter, write the follower
 * (one sync write). A leader that stops answering makes the follower hold, then the watchdog cuts
 * its torque and the run ends with SafetyStopError naming the cause.
 */
import { InvalidArgumentError } from '../errors.ts';
import type { Arm } from './arm.ts';
import { RateLoop } from './rate-loop.ts';
import { SampleWindow } from './sample-window.ts';
import { SafetyFilter, safetyStopFor, type SafetySummary } from './safety-filter.ts';

export interface TeleopOptions {
  readonly leader: Arm;
  readonly follower: Arm;
  readonly rateHz: number;
  /** Stop after this long; default: until `signal` aborts. */
  readonly durationS?: number;
  /** Ends the run normally (the caller then parks the follower). */
  readonly signal?: AbortSignal;
  /** Emergency stop (SIGINT, an e-stop key): the follower holds, its torque is cut, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Polled once per cycle: 'stop' ends the run normally, 'estop' is an emergency stop. */
  readonly control?: () => 'stop' | 'estop' | undefined;
  /** Speed limit of the follower's commands: radians/s for joints, 1/s for the gripper. Default 4. */
  readonly maxSpeed?: number;
  /** Watchdog: hold after, and cut torque after, this long without fresh reads. */
  readonly holdAfterMs?: number;
  readonly torqueOffAfterMs?: number;
  /** Per-read timeout, ms (default: two periods, at least 5 ms). */
  readonly readTimeoutMs?: number;
  /** Called every cycle after the write, with the leader and follower positions and the command. */
  readonly onCycle?: (cycle: TeleopCycle) => void;
}

export interface TeleopCycle {
  readonly index: number;
  /** Milliseconds since the loop started (measured, not nominal). */
  readonly tMs: number;
  /** performance.now() at the start of this cycle (add performance.timeOrigin for wall time). */
  readonly perfMs: number;
  readonly leader: Float64Array | null;
  readonly follower: Float64Array | null;
  readonly command: Float64Array;
  readonly status: 'ok' | 'hold' | 'fault';
  readonly latencyUs: number;
  /** Cycles so far that woke more than a period late (the loop re-anchored). */
  readonly overruns: number;
}

export interface TeleopResult {
  readonly cycles: number;
  readonly seconds: number;
  readonly achievedHz: number;
  readonly overruns: number;
  readonly latenessUs: readonly number[];
  /** Read → write latency per cycle, µs (the most recent 120 000 cycles). */
  readonly latencyUs: readonly number[];
  /** Mean |follower − leader| over revolute joints, radians (cycles with both reads). */
  readonly trackingErrorRad: number;
  readonly safety: SafetySummary;
  readonly stop: 'duration' | 'signal' | 'key';
}

export async function runTeleop(options: TeleopOptions): Promise<TeleopResult> {
  const { leader, follower } = options;
  if (leader.names.join() !== follower.names.join()) {
    throw new InvalidArgumentError(`leader joints (${leader.names.join(', ')}) do not match follower joints (${follower.names.join(', ')})`);
  }
  const n = follower.size;
  const maxSpeed = options.maxSpeed ?? 4;
  const filter = new SafetyFilter({
    names: follower.names,
    lower: follower.lower,
    upper: follower.upper,
    maxStep: maxSpeed / options.rateHz,
    holdAfterMs: options.holdAfterMs ?? 50,
    torqueOffAfterMs: options.torqueOffAfterMs ?? 250,
  });
  const readCall = { timeoutMs: options.readTimeoutMs ?? Math.max(5, 2000 / options.rateHz), retries: 0 };
  const held = await follower.enableTorqueHolding();
  filter.reset(held);
  const leaderPos = new Float64Array(n);
  const followerPos = new Float64Array(n);
  const loop = new RateLoop(options.rateHz);
  const latencyUs = new SampleWindow();
  let trackSum = 0;
  let trackN = 0;
  let lastError: unknown;
  const t0 = performance.now();
  const endMs = options.durationS === undefined ? Infinity : t0 + options.durationS * 1000;
  let stop: TeleopResult['stop'] = 'duration';
  const onEstop = () => filter.estop('interrupted (Ctrl-C / SIGTERM)');
  if (options.estop?.aborted) onEstop();
  options.estop?.addEventListener('abort', onEstop, { once: true });
  try {
    for (let index = 0; ; index++) {
      await loop.next();
      const start = performance.now();
      if (start >= endMs) break;
      if (options.signal?.aborted) {
        stop = 'signal';
        break;
      }
      const key = options.control?.();
      if (key === 'stop') {
        stop = 'key';
        break;
      }
      if (key === 'estop') filter.estop('e-stop key');
      const [l, f] = await Promise.allSettled([leader.read(leaderPos, readCall), follower.read(followerPos, readCall)]);
      const fresh = l.status === 'fulfilled' && f.status === 'fulfilled';
      if (fresh) {
        filter.markFresh();
        for (let i = 0; i < n; i++) {
          if (follower.joints[i]!.kind === 'revolute') {
            trackSum += Math.abs(followerPos[i]! - leaderPos[i]!);
            trackN++;
          }
        }
      } else {
        lastError = l.status === 'rejected' ? l.reason : (f as PromiseRejectedResult).reason;
      }
      const { status, command } = filter.filter(fresh ? leaderPos : null);
      if (status === 'fault') throw safetyStopFor(filter, lastError);
      if (follower.bus.isOpen) await follower.write(command).catch((e: unknown) => (lastError = e));
      const latency = (performance.now() - start) * 1000;
      latencyUs.push(latency);
      options.onCycle?.({ index, tMs: start - t0, perfMs: start, leader: l.status === 'fulfilled' ? leaderPos : null, follower: f.status === 'fulfilled' ? followerPos : null, command, status, latencyUs: latency, overruns: loop.stats.overruns });
    }
  } catch (e) {
    // Hold was already in effect (the filter repeated the last command); now cut torque.
    await follower.torqueOffAll();
    throw e;
  } finally {
    options.estop?.removeEventListener('abort', onEstop);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    cycles: loop.stats.cycles - 1,
    seconds,
    achievedHz: (loop.stats.cycles - 1) / seconds,
    overruns: loop.stats.overruns,
    latenessUs: loop.stats.latenessUs.toArray(),
    latencyUs: latencyUs.toArray(),
    trackingErrorRad: trackN ? trackSum / trackN : NaN,
    safety: filter.summary(),
    stop,
  };
}
