/**
 * Park: move slowly to the rest pose, through a SafetyFilter with a low speed limit, then (by
 * default) cut torque. Cutting torque on a raised arm drops it; parking first lowers it.
 */
import type { Arm } from './arm.ts';
import { RateLoop } from './rate-loop.ts';
import { SafetyFilter } from './safety-filter.ts';

export interface ParkOptions {
  readonly pose?: readonly number[];
  /** Radians/s (1/s for the gripper). Default 0.6. */
  readonly speed?: number;
  readonly rateHz?: number;
  /** Give up after this long, s. Default 10. */
  readonly timeoutS?: number;
  /** Leave torque on at the end. Default false: torque off. */
  readonly keepTorque?: boolean;
  /** Stop waiting for the joints once within this distance of the pose. Default 0.03. */
  readonly toleranceRad?: number;
  /** Polled every cycle: true stops the move where it is (e.g. a stop or e-stop while moving to a start pose). */
  readonly stop?: () => boolean;
}

export async function parkArm(arm: Arm, options: ParkOptions = {}): Promise<{ reached: boolean; seconds: number }> {
  const pose = Float64Array.from(options.pose ?? arm.profile.restPose);
  const rateHz = options.rateHz ?? 100;
  const filter = new SafetyFilter({ names: arm.names, lower: arm.lower, upper: arm.upper, maxStep: (options.speed ?? 0.6) / rateHz, holdAfterMs: 1e9, torqueOffAfterMs: 2e9 });
  const tol = options.toleranceRad ?? 0.03;
  const t0 = performance.now();
  const present = new Float64Array(arm.size);
  // Torque on where it is (no jump), then move: parking a limp arm must first take hold of it.
  filter.reset(await arm.enableTorqueHolding());
  const loop = new RateLoop(rateHz);
  let reached = false;
  try {
    while ((performance.now() - t0) / 1000 < (options.timeoutS ?? 10)) {
      await loop.next();
      if (options.stop?.()) break;
      const { command } = filter.filter(pose);
      await arm.write(command);
      await arm.read(present);
      let done = true;
      for (let i = 0; i < arm.size; i++) {
        const target = Math.min(arm.upper[i]!, Math.max(arm.lower[i]!, pose[i]!));
        if (Math.abs(command[i]! - target) > 1e-9 || Math.abs(present[i]! - target) > tol) done = false;
      }
      if (done) {
        reached = true;
        break;
      }
    }
  } finally {
    if (!options.keepTorque) await arm.torqueOffAll();
  }
  return { reached, seconds: (performance.now() - t0) / 1000 };
}
