/**
 * A worker-thread writer for the CommandSlot test: writes commands whose values are all equal to a
 * counter (k, k, …, k) as fast as it can until the main thread sets the stop word, then reports how
 * many it wrote. A torn read on the other side shows as a command whose values differ.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CommandSlot } from '../../src/control/command-slot.ts';

const { slot: buffer, joints, stop: stopBuffer } = workerData as { slot: SharedArrayBuffer; joints: number; stop: SharedArrayBuffer; entry: string };
const slot = new CommandSlot(joints, buffer);
const stop = new Int32Array(stopBuffer);
const values = new Float64Array(joints);
let k = 0;
while (Atomics.load(stop, 0) === 0) {
  k++;
  values.fill(k);
  slot.write(values, k);
}
parentPort!.postMessage(k);
