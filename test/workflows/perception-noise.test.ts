import { describe, expect, it } from 'vitest';
import type { Episode } from '../../src/dataset/load.ts';
import { DEFAULT_STATE_NOISE } from '../../src/learn/trainer.ts';
import { MAX_STATE_NOISE, poseNoiseOf, stateNoiseFor } from '../../src/workflows/perception-noise.ts';
import { Rng } from '../../src/sim/random.ts';

const layout = { jointNames: ['a', 'b'], observation: [{ name: 'follower.position', size: 2 }, { name: 'target.position', size: 3 }], action: [{ name: 'action.position', size: 2 }] };

/** Episodes whose joints move a lot and whose target is static (seen with `noiseM`), plus a stretch of motion of the pose. */
function episodes(noiseM: number, seed: number): Episode[] {
  const rng = new Rng(seed);
  return Array.from({ length: 20 }, (_, k) => {
    const n = 60;
    const obs = new Float32Array(n * 5);
    for (let t = 0; t < n; t++) {
      obs.set([Math.sin(t / 5), t / 10], t * 5);
      // The pose moves 5 mm a step for the last tenth of the episode (a carried cube), else stays.
      const moved = Math.max(0, t - 54) * 0.005;
      for (let i = 0; i < 3; i++) obs[t * 5 + 2 + i] = 0.1 * k + moved + noiseM * rng.normal();
    }
    return { file: 'x', index: k, operator: undefined, outcome: 'success', return: 1, detail: undefined, length: n, observations: obs, actions: new Float32Array(n * 2), rewards: new Float32Array(n), timesNs: new BigInt64Array(n) };
  });
}

describe('perception noise → joint noise in training', () => {
  it('estimates the recorded poses\' noise from successive messages, unmoved by motion and the joints', () => {
    expect(poseNoiseOf(episodes(0, 1), layout)).toBeLessThan(1e-6);
    for (const sigma of [0.002, 0.005, 0.01]) {
      const est = poseNoiseOf(episodes(sigma, 2), layout);
      expect(est).toBeGreaterThan(sigma * 0.85);
      expect(est).toBeLessThan(sigma * 1.15);
    }
    expect(poseNoiseOf(episodes(0.005, 3), { ...layout, observation: [{ name: 'follower.position', size: 5 }] })).toBe(0);
  });

  it('keeps the default joint noise for exact poses and raises it, capped, for noisy ones', () => {
    expect(stateNoiseFor(0)).toBe(DEFAULT_STATE_NOISE);
    expect(stateNoiseFor(0.005)).toBeCloseTo(0.03, 6);
    expect(stateNoiseFor(0.002)).toBeGreaterThan(DEFAULT_STATE_NOISE);
    expect(stateNoiseFor(0.05)).toBe(MAX_STATE_NOISE);
  });
});
