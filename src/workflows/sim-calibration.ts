/**
 * The simulator's hand for the calibration procedure: it holds the simulated arm near the middle of
 * each joint's travel (a few degrees off, as a person would), then sweeps each joint from stop to
 * stop, pausing at each end so the sampler sees it. The servos answer the same wire traffic as in a
 * calibration by a person.
 */
import type { CalibrationPrompts } from '../arm/calibrate.ts';
import type { SimArm } from '../sim/presets.ts';
import { Rng } from '../sim/random.ts';

export interface SimHandOptions {
  /** Seconds spent sweeping each joint. Default 0.5. */
  readonly secondsPerJoint?: number;
  /** How far from the true middle the "person" holds each joint, radians (uniform ±). Default 0.08. */
  readonly imprecisionRad?: number;
  readonly seed?: number;
}

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);

export function simCalibrationHand(arm: SimArm, options: SimHandOptions = {}): CalibrationPrompts {
  const rng = new Rng(options.seed ?? 7);
  const servos = arm.bus.servos;
  const clock = arm.bus.clock;
  const per = (options.secondsPerJoint ?? 0.5) * 1e6;
  const middles = servos.map((s) => (s.travel.min + s.travel.max) / 2 + rng.uniform(-1, 1) * (options.imprecisionRad ?? 0.08) * COUNTS_PER_RAD);
  const wait = (us: number) => new Promise((r) => setTimeout(r, us / 1000));
  return {
    async middle() {
      servos.forEach((s, i) => s.setDriver(() => middles[i]!));
      await wait(20_000);
    },
    async sweep() {
      const start = clock.nowUs();
      servos.forEach((s, i) => {
        const { min, max } = s.travel;
        const m = middles[i]!;
        const t0 = start + i * per;
        // mid → min (25 %), dwell (15 %), min → max (35 %), dwell (15 %), max → mid (10 %)
        const legs: [number, number, number][] = [
          [0.25, m, min],
          [0.15, min, min],
          [0.35, min, max],
          [0.15, max, max],
          [0.1, max, m],
        ];
        s.setDriver((now) => {
          let t = (now - t0) / per;
          if (t <= 0) return m;
          for (const [len, a, b] of legs) {
            if (t <= len) return a + ((b - a) * t) / len;
            t -= len;
          }
          return m;
        });
      });
      await wait(servos.length * per + 30_000);
      for (const s of servos) s.setDriver(undefined);
    },
  };
}
