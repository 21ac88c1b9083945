/**
 * `replay --to arm` with the loop in the loop worker (control/loop-host.ts): the worker owns the
 * follower's port and waits for each recorded command's time with its tuned blocking sleeper; the
 * main thread only waits for the result. After the replay the worker parks the follower (unless
 * `park: false`). Ports only (a real arm or a simulator behind a pty): the in-process simulator
 * lives on the caller's thread, where `replayToArm` runs it.
 */
import type { ArmKind } from '../arm/profiles.ts';
import type { Calibration } from '../arm/calibration.ts';
import type { ParkOptions } from '../arm/park.ts';
import { runLoopInWorker } from '../control/loop-host.ts';
import type { RealtimeStatus } from '../control/realtime-priority.ts';
import type { ReplayToArmResult } from './to-arm.ts';
import { TO_ARM_BODY, type ToArmBodyParams } from './to-arm-body.ts';

export interface ReplayInWorkerOptions extends ToArmBodyParams {
  readonly arm: { readonly kind: ArmKind; readonly calibration: Calibration; readonly path: string; readonly busTimeoutMs?: number };
  /** The recording's rate, Hz: sizes the sleeper's spin (default 100). */
  readonly rateHz?: number;
  readonly signal?: AbortSignal;
  readonly estop?: AbortSignal;
  readonly realtimePriority?: number;
  readonly park?: ParkOptions | false;
}

export async function replayToArmInWorker(o: ReplayInWorkerOptions): Promise<ReplayToArmResult & { readonly realtime: RealtimeStatus }> {
  const { arm, rateHz, signal, estop, realtimePriority, park, ...params } = o;
  const r = await runLoopInWorker({ kind: 'replay', arm, rateHz: rateHz ?? 100, body: { module: TO_ARM_BODY, params: params satisfies ToArmBodyParams }, signal, estop, realtimePriority, park: park ?? {} });
  return { ...(r.body as ReplayToArmResult), realtime: r.realtime };
}
