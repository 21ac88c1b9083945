import { describe, expect, it } from 'vitest';
import { maxSpinUs, tunedSleeper, WaitOvershoot } from '../../src/control/wake-tuning.ts';

describe('wake tuning (the loop worker spins as long as this machine needs, no longer)', () => {
  it('the overshoot histogram gives quantiles and forgets old samples', () => {
    const h = new WaitOvershoot();
    for (let i = 0; i < 990; i++) h.add(60);
    for (let i = 0; i < 10; i++) h.add(900);
    expect(h.quantile(0.5)).toBe(75);
    expect(h.quantile(0.995)).toBe(925);
    // 4000 fast wakes later the slow ones weigh a quarter as much: p99.5 comes down.
    for (let i = 0; i < 4000; i++) h.add(30);
    expect(h.quantile(0.995)).toBeLessThan(925);
  });

  it('caps the spin at a share of the period (lower under SCHED_FIFO), and a fixed spin stays fixed', async () => {
    expect(maxSpinUs(200, false)).toBe(1500);
    expect(maxSpinUs(1000, false)).toBe(300);
    expect(maxSpinUs(1000, true)).toBe(200);
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const fixed = tunedSleeper({ wake, rateHz: 500, fixedSpinUs: 123 });
    const t0 = performance.now();
    for (let k = 1; k <= 5; k++) await fixed.sleeper(t0 + 2 * k, () => performance.now());
    expect(performance.now()).toBeGreaterThanOrEqual(t0 + 10);
    expect(fixed.tuning()).toMatchObject({ mode: 'fixed', spinUs: 123 });
  });

  it('adaptive: calibrated at start, then follows the waits; the spin stays within its bounds', async () => {
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const { sleeper, tuning } = tunedSleeper({ wake, rateHz: 500 });
    const start = tuning();
    expect(start.mode).toBe('adaptive');
    expect(Number.isFinite(start.waitOvershootP995Us)).toBe(true);
    const t0 = performance.now();
    for (let k = 1; k <= 50; k++) await sleeper(t0 + 2 * k, () => performance.now());
    const end = tuning();
    expect(end.spinUs).toBeGreaterThanOrEqual(50);
    expect(end.spinUs).toBeLessThanOrEqual(end.maxSpinUs);
    expect(end.spinShare).toBeLessThan(0.5);
  });
});
