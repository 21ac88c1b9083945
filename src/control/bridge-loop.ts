/**
 * The bridge loop (`armbridge ros bridge`): the follower follows external commands (ROS 2 command
 * topics, taken from a CommandSlot) or a leader arm. Thread-agnostic: the loop worker runs it with
 * the slot's SharedArrayBuffer filled by the main thread, and the in-thread fallback runs it with a
 * slot in the same thread.
 *
 * The rule, unchanged from the first bridge: every command passes the SafetyFilter (limits, speed
 * limit, finite values, watchdog: hold, then torque off). The last external command stays the target
 * (as forward_command_controller holds it). With a leader, the leader drives unless an external
 * command arrived within `takeoverMs`; a leader that stops answering leaves the follower to the
 * external command if there is one, else to the watchdog.
 */
import type { Arm } from '../arm/arm.ts';
import { runControlLoop, type ControlLoopResult, type LoopSettings } from '../arm/control-loop.ts';
import { InvalidArgumentError } from '../errors.ts';
import { epochNowMs, type CommandSlot } from './command-slot.ts';

export interface BridgeCycle {
  readonly index: number;
  readonly tMs: number;
  /** performance.now() of this thread at the start of the cycle. */
  readonly perfMs: number;
  /** Null when the read failed this cycle. */
  readonly follower: Float64Array | null;
  readonly leader: Float64Array | null;
  readonly command: Float64Array;
  readonly status: 'ok' | 'hold' | 'fault';
  /** The external command was the target this cycle (not the leader). */
  readonly external: boolean;
  readonly latencyUs: number;
  readonly overruns: number;
}

export interface BridgeLoopOptions extends LoopSettings {
  readonly follower: Arm;
  readonly leader?: Arm;
  readonly slot: CommandSlot;
  /** With a leader: an external command drives the follower for this long after it arrives, ms. Default 1000. */
  readonly takeoverMs?: number;
  /** Follower speed limit, rad/s. Default 2. */
  readonly maxSpeed?: number;
  /** Per-read timeout, ms (default two periods, at least 10 ms). */
  readonly readTimeoutMs?: number;
  /** Every cycle after the write; the arrays are reused, copy what you keep. */
  readonly onCycle?: (c: BridgeCycle) => void;
}

export async function runBridgeLoop(o: BridgeLoopOptions): Promise<ControlLoopResult> {
  const { follower, leader, slot } = o;
  if (leader && leader.names.join() !== follower.names.join()) {
    throw new InvalidArgumentError(`leader joints (${leader.names.join(', ')}) do not match follower joints (${follower.names.join(', ')})`);
  }
  if (slot.joints !== follower.size) throw new InvalidArgumentError(`the command slot holds ${slot.joints} joints, the follower has ${follower.size}`);
  const n = follower.size;
  const readCall = { timeoutMs: o.readTimeoutMs ?? Math.max(10, 2000 / o.rateHz), retries: 0 };
  const takeoverMs = o.takeoverMs ?? 1000;
  const state = new Float64Array(n);
  const leaderState = new Float64Array(n);
  const external = new Float64Array(n);
  let fresh = false;
  let leaderFresh = false;
  let externalActive = false;
  const reads: Promise<unknown>[] = [];
  return runControlLoop({
    rateHz: o.rateHz,
    durationS: o.durationS,
    signal: o.signal,
    estop: o.estop,
    control: o.control,
    estopReason: o.estopReason,
    holdAfterMs: o.holdAfterMs,
    torqueOffAfterMs: o.torqueOffAfterMs,
    sleeper: o.sleeper,
    follower,
    maxStep: (o.maxSpeed ?? 2) / o.rateHz,
    sense: async () => {
      reads.length = 0;
      reads.push(follower.read(state, readCall));
      if (leader) reads.push(leader.read(leaderState, readCall));
      const [f, l] = await Promise.allSettled(reads);
      slot.take(external);
      fresh = f!.status === 'fulfilled';
      leaderFresh = l?.status === 'fulfilled';
      externalActive = false;
      if (!fresh) return { fresh: false, desired: null, error: (f as PromiseRejectedResult).reason };
      if (leader && !leaderFresh && !slot.has) return { fresh: false, desired: null, error: (l as PromiseRejectedResult).reason };
      externalActive = slot.has && (!leader || !leaderFresh || epochNowMs() - slot.arrivalEpochMs < takeoverMs);
      return { fresh: true, desired: externalActive ? external : leaderFresh ? leaderState : null };
    },
    after: (c) =>
      o.onCycle?.({
        index: c.index,
        tMs: c.tMs,
        perfMs: c.perfMs,
        follower: fresh ? state : null,
        leader: leader && leaderFresh ? leaderState : null,
        command: c.command,
        status: c.status,
        external: externalActive,
        latencyUs: c.latencyUs,
        overruns: c.overruns,
      }),
  });
}
