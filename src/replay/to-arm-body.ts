/**
 * `replay --to arm` as a loop body of the loop worker (control/loop-worker.ts, kind 'replay'): the
 * worker opens the follower, hands it over with its tuned sleeper and the stop / e-stop word, and
 * this runs replayToArm on that thread. Imported by URL (control/ does not import replay/).
 */
import type { LoopBodyContext } from '../control/loop-worker.ts';
import { replayToArm } from './to-arm.ts';

export const TO_ARM_BODY = new URL('./to-arm-body.ts', import.meta.url).href;

export interface ToArmBodyParams {
  readonly file: string;
  readonly episode: number;
  readonly speed?: number;
  readonly force?: boolean;
  readonly maxSpeed?: number;
}

export async function runLoopBody(ctx: LoopBodyContext, raw: unknown): Promise<unknown> {
  const p = raw as ToArmBodyParams;
  return replayToArm({ ...p, arm: ctx.follower, calibration: ctx.calibration, sleeper: ctx.sleeper, control: ctx.control, estopReason: () => ctx.estopReason() });
}
