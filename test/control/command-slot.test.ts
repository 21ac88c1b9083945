import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CommandSlot } from '../../src/control/command-slot.ts';

const BOOT = fileURLToPath(new URL('../../src/control/worker-boot.mjs', import.meta.url));
const WRITER = new URL('../helpers/slot-writer.ts', import.meta.url).href;

describe('CommandSlot (the ROS command handed from the main thread to the loop worker)', () => {
  it('hands over the newest command once, with its arrival time, and keeps it as the target', () => {
    const slot = new CommandSlot(3);
    const out = new Float64Array(3);
    expect(slot.has).toBe(false);
    expect(slot.take(out)).toBe(false);
    expect(slot.arrivalEpochMs).toBe(-Infinity);
    slot.write([1, 2, 3], 1000);
    slot.write([4, 5, NaN], 2000);
    expect(slot.written).toBe(2);
    expect(slot.take(out)).toBe(true);
    expect(Array.from(out)).toEqual([4, 5, NaN]);
    expect(slot.arrivalEpochMs).toBe(2000);
    // Nothing new: `out` is left alone and the last command stays the target.
    out.fill(0);
    expect(slot.take(out)).toBe(false);
    expect(slot.has).toBe(true);
    expect(() => slot.write([1, 2], 0)).toThrow(RangeError);
    // A reader on the same buffer (as the worker opens it) sees the same command.
    const other = new CommandSlot(3, slot.buffer);
    expect(other.take(out)).toBe(true);
    expect(Array.from(out)).toEqual([4, 5, NaN]);
    expect(() => new CommandSlot(4, slot.buffer)).toThrow(RangeError);
  });

  it('never hands out a torn command while another thread writes as fast as it can', async () => {
    const joints = 6;
    const slot = new CommandSlot(joints);
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(BOOT, { workerData: { entry: WRITER, slot: slot.buffer, joints, stop: stop.buffer } });
    const wrote = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    try {
      const out = new Float64Array(joints);
      let taken = 0;
      let torn = 0;
      let last = 0;
      let backwards = 0;
      // Read until the writer has produced plenty of commands and the reader has taken many of them.
      while (taken < 20_000 || slot.written < 100_000) {
        if (!slot.take(out)) continue;
        taken++;
        const k = out[0]!;
        if (!out.every((v) => v === k) || slot.arrivalEpochMs !== k) torn++;
        if (k < last) backwards++;
        last = k;
      }
      Atomics.store(stop, 0, 1);
      expect(await wrote).toBeGreaterThanOrEqual(100_000);
      expect(torn).toBe(0);
      expect(backwards).toBe(0);
    } finally {
      Atomics.store(stop, 0, 1);
      await worker.terminate();
    }
  }, 60_000);
});
