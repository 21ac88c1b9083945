/**
 * The machine's scheduling floor: a worker thread that does nothing but wait for the same deadlines
 * as a loop (Atomics.wait until 150 µs before each, then spin; SCHED_FIFO 50 where permitted). No
 * loop can wake more punctually with that strategy; the loops are compared with it in the same run
 * (ratio = floor p99 / loop p99: ≥ 0.8 means the loop is within 1.25 × the floor).
 */
import { Worker } from 'node:worker_threads';
import { summarize } from './stats.ts';

export interface Floor {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly granted: boolean;
}

export async function idleFloor(rate: number, seconds: number, fifo: boolean): Promise<Floor> {
  const code = `
    const { parentPort, workerData: { rate, seconds, fifo } } = require('node:worker_threads');
    const fs = require('node:fs');
    let granted = false;
    if (fifo) try { require('node:child_process').execFileSync('chrt', ['-f', '-p', '50', fs.readlinkSync('/proc/thread-self').split('/').pop()], { stdio: 'ignore' }); granted = true; } catch {}
    const w = new Int32Array(new SharedArrayBuffer(4));
    const period = 1000 / rate; let next = performance.now() + period; const late = [];
    const end = performance.now() + seconds * 1000;
    while (next < end) {
      const coarse = next - performance.now() - 0.15;
      if (coarse > 0) Atomics.wait(w, 0, 0, coarse);
      while (performance.now() < next) {}
      late.push((performance.now() - next) * 1000);
      next += period;
    }
    parentPort.postMessage({ late, granted });`;
  const w = new Worker(code, { eval: true, workerData: { rate, seconds, fifo } });
  try {
    const m = await new Promise<{ late: number[]; granted: boolean }>((r) => w.once('message', r));
    const s = summarize(m.late);
    return { p50: s.p50, p99: s.p99, max: s.max, granted: m.granted };
  } finally {
    await w.terminate();
  }
}

/** The bench row comparing a loop's wake lateness p99 with the floor. */
export function floorRow(section: string, c: string, latenessUs: readonly number[], floor: Floor) {
  const late = summarize(latenessUs.slice(1));
  return {
    section,
    case: c,
    metric: 'wake lateness p99 vs floor',
    value: late.p99,
    unit: 'µs',
    baseline: { name: `idle thread${floor.granted ? ' (FIFO)' : ''} p99`, value: floor.p99 },
    ratio: floor.p99 / Math.max(1, late.p99),
    note: `ratio = floor / loop (≥ 0.8: within 1.25 × the floor); loop p50 ${late.p50.toFixed(0)} µs; idle thread p50 ${floor.p50.toFixed(0)} µs, max ${floor.max.toFixed(0)} µs`,
  };
}
