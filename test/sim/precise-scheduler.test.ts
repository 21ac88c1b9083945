import { describe, expect, it } from 'vitest';
import { spinUntil } from '../../src/arm/spin.ts';
import { ManualClock, realClock } from '../../src/sim/clock.ts';
import { PreciseScheduler } from '../../src/sim/precise-scheduler.ts';

const turn = () => new Promise((r) => setImmediate(r));

describe('PreciseScheduler', () => {
  it('runs tasks at their time, in order, well within a timer\'s millisecond, and lets the event loop run while it waits', async () => {
    const s = new PreciseScheduler(realClock);
    const t0 = realClock.nowUs();
    const ran: { k: number; lateUs: number }[] = [];
    // Twenty tasks over 6 ms, two of them due together; inserted out of order.
    const due = Array.from({ length: 20 }, (_, k) => 300 + ((k * 7) % 20) * 300);
    due[5] = due[6]!;
    due.forEach((d, k) => s.at(t0 + d, () => ran.push({ k, lateUs: realClock.nowUs() - (t0 + d) })));
    // Another immediate queued while the scheduler waits runs long before the last task is due.
    let otherAtUs = NaN;
    setImmediate(() => (otherAtUs = realClock.nowUs() - t0));
    while (s.pending > 0) await turn();
    const order = due.map((d, k) => ({ d, k })).sort((a, b) => a.d - b.d || a.k - b.k).map((x) => x.k);
    expect(ran.map((r) => r.k)).toEqual(order);
    for (const r of ran) expect(r.lateUs).toBeGreaterThanOrEqual(0);
    // A timer alone is late by about a millisecond; the busy-wait by tens of µs (more when the machine preempts the thread).
    const lates = ran.map((r) => r.lateUs).sort((a, b) => a - b);
    expect(lates[10]!).toBeLessThan(400);
    expect(otherAtUs).toBeLessThan(2000);
    s.close();
  });

  it('never busy-waits on a clock that does not move by itself: tasks run on a later turn once due', async () => {
    const clock = new ManualClock();
    const s = new PreciseScheduler(clock);
    const ran: number[] = [];
    s.at(100, () => ran.push(1));
    await turn();
    await turn();
    expect(ran).toEqual([]); // not due, and the thread was not held waiting for it
    clock.advanceMs(0.1);
    s.at(100, () => ran.push(2)); // re-arms: both are due now
    await turn();
    await turn();
    expect(ran).toEqual([1, 2]);
    s.close();
  });

  it('close() cancels what is pending', async () => {
    const s = new PreciseScheduler(realClock);
    let ran = 0;
    s.at(realClock.nowUs() + 500, () => ran++);
    s.close();
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(0);
    expect(s.pending).toBe(0);
  });
});

describe('spinUntil', () => {
  it('returns at the deadline, or at once (true) when the wake word is set', () => {
    const t0 = performance.now();
    expect(spinUntil(t0 + 0.5)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(0.5);
    const wake = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(wake, 0, 1);
    const t1 = performance.now();
    expect(spinUntil(t1 + 50, wake)).toBe(true);
    expect(performance.now() - t1).toBeLessThan(25);
  });

  it('reads the caller\'s clock, not only performance.now', () => {
    let calls = 0;
    let t = 0;
    const now = () => {
      calls++;
      return (t += 1);
    };
    expect(spinUntil(10, undefined, now)).toBe(false);
    expect(calls).toBe(10);
  });
});
