import { describe, expect, it } from 'vitest';
import { PosePerception } from '../../src/sim/perception.ts';

/** A task whose one pose moves along x at 1 m/s (as a carried cube would), and is then read. */
function movingTask() {
  let x = 0;
  return {
    features: [{ name: 'object.position', topic: '/object_pose' }],
    positions: () => [[x, 0.1, 0.2] as const],
    set: (v: number) => (x = v),
  };
}

describe('PosePerception (what a perception node reports of the simulated poses)', () => {
  it('reports the true positions without noise or latency', () => {
    const task = movingTask();
    const p = new PosePerception(task);
    task.set(0.3);
    expect(Array.from(p.observe(0))).toEqual([0.3, 0.1, 0.2]);
  });

  it('reports each position as it was latencyMs ago (the oldest seen at the start of an episode), and forgets on reset', () => {
    const task = movingTask();
    const p = new PosePerception(task, { latencyMs: 50 });
    const seen: number[] = [];
    for (let t = 0; t <= 200; t += 10) {
      task.set(t / 1000);
      seen.push(p.observe(t)[0]!);
    }
    // t = 0…40: nothing is 50 ms old yet, the first report stands; then the position 50 ms before.
    expect(seen.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(seen[10]).toBeCloseTo(0.05, 12);
    expect(seen[20]).toBeCloseTo(0.15, 12);
    p.reset();
    task.set(1);
    expect(p.observe(1000)[0]).toBe(1);
  });

  it('adds zero-mean noise of the given standard deviation per axis, from its own seeded stream', () => {
    const task = movingTask();
    const a = new PosePerception(task, { noiseM: 0.005, seed: 3 });
    const b = new PosePerception(task, { noiseM: 0.005, seed: 3 });
    const err: number[] = [];
    for (let t = 0; t < 4000; t++) {
      const o = a.observe(t);
      expect(Array.from(b.observe(t))).toEqual(Array.from(o));
      err.push(o[0]!, o[1]! - 0.1, o[2]! - 0.2);
    }
    const mean = err.reduce((s, e) => s + e, 0) / err.length;
    const std = Math.sqrt(err.reduce((s, e) => s + (e - mean) ** 2, 0) / err.length);
    expect(Math.abs(mean)).toBeLessThan(0.0003);
    expect(std).toBeGreaterThan(0.0046);
    expect(std).toBeLessThan(0.0054);
    expect(() => new PosePerception(task, { noiseM: -1 })).toThrow(RangeError);
  });
});
