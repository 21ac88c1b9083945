/**
 * Teleoperation: at a fixed rate, read the leader and the follower (in parallel, one sync read
 * each), map joint by joint in calibrated units, pass through the SafetyFilter, write the follower
 * (one sync write). A leader that stops answering makes the follower hold, then the watchdog cuts
 * its torque and the run ends with SafetyStopError naming the cause.
 */
import { InvalidArgumentError } from '../errors.ts';
import type { Arm } from './arm.ts';
import { loopSettings, runControlLoop, type ControlLoopResult, type LoopSettings } from './control-loop.ts';

export interface TeleopOptions extends LoopSettings {
  readonly leader: Arm;
  readonly follower: Arm;
  /** Speed limit of the follower's commands: radians/s for joints, 1/s for the gripper. Default 4. */
  readonly maxSpeed?: number;
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

export interface TeleopResult extends ControlLoopResult {
  /** Mean |follower − leader| over revolute joints, radians (cycles with both reads). */
  readonly trackingErrorRad: number;
}

export async function runTeleop(options: TeleopOptions): Promise<TeleopResult> {
  const { leader, follower } = options;
  if (leader.names.join() !== follower.names.join()) {
    throw new InvalidArgumentError(`leader joints (${leader.names.join(', ')}) do not match follower joints (${follower.names.join(', ')})`);
  }
  const n = follower.size;
  const readCall = { timeoutMs: options.readTimeoutMs ?? Math.max(5, 2000 / options.rateHz), retries: 0 };
  const leaderPos = new Float64Array(n);
  const followerPos = new Float64Array(n);
  let leaderFresh = false;
  let followerFresh = false;
  let trackSum = 0;
  let trackN = 0;
  const result = await runControlLoop({
    ...loopSettings(options),
    follower,
    maxStep: (options.maxSpeed ?? 4) / options.rateHz,
    sense: async () => {
      const [l, f] = await Promise.allSettled([leader.read(leaderPos, readCall), follower.read(followerPos, readCall)]);
      leaderFresh = l.status === 'fulfilled';
      followerFresh = f.status === 'fulfilled';
      if (!leaderFresh || !followerFresh) return { fresh: false, desired: null, error: l.status === 'rejected' ? l.reason : (f as PromiseRejectedResult).reason };
      for (let i = 0; i < n; i++) {
        if (follower.joints[i]!.kind === 'revolute') {
          trackSum += Math.abs(followerPos[i]! - leaderPos[i]!);
          trackN++;
        }
      }
      return { fresh: true, desired: leaderPos };
    },
    after: (c) => options.onCycle?.({ ...c, leader: leaderFresh ? leaderPos : null, follower: followerFresh ? followerPos : null }),
  });
  return { ...result, trackingErrorRad: trackN ? trackSum / trackN : NaN };
}
