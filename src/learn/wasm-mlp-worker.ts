/**
 * A worker thread of the wasm MLP trainer: instantiates the kernels on the shared memory, then for
 * every step the main thread starts (generation word), runs its shards (s ≡ index mod threads) and
 * counts them done. Blocks in Atomics.wait between steps; leaves on the exit command. A failure is
 * reported in the control words with its message (the main thread is blocked in a wait and hears
 * no events).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WebAssemblyApi, type WasmMemory, type WasmModule } from './wasm-runtime.ts';
import { COMMAND, CTRL, runShard, shardContext, writeFailure, type MlpKernels, type MlpLayout } from './wasm-mlp-shard.ts';

export interface MlpWorkerData {
  readonly entry: string;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly layout: MlpLayout;
  readonly index: number;
  readonly threads: number;
  readonly fault?: 'throw' | 'stall';
}

const data = workerData as MlpWorkerData;
const instance = await WebAssemblyApi.instantiate(data.module, { env: { memory: data.memory } });
const ctx = shardContext(data.layout, instance.exports as unknown as MlpKernels, data.memory);
const ctrl = ctx.i32;
let seen = Atomics.load(ctrl, CTRL.generation);
parentPort!.postMessage({ type: 'ready' });
for (;;) {
  Atomics.wait(ctrl, CTRL.generation, seen);
  seen = Atomics.load(ctrl, CTRL.generation);
  if (Atomics.load(ctrl, CTRL.command) === COMMAND.exit) break;
  if (data.fault === 'stall') continue;
  try {
    if (data.fault === 'throw') throw new Error('fault injected for a test');
    for (let s = data.index; s < data.layout.shards.length; s += data.threads) runShard(ctx, s);
  } catch (err) {
    writeFailure(ctx, err instanceof Error ? (err.stack ?? err.message) : String(err));
  }
  Atomics.add(ctrl, CTRL.done, 1);
  Atomics.notify(ctrl, CTRL.done);
}
