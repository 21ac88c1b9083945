/**
 * The MLP trainer on hand-written WebAssembly SIMD kernels (wasm-mlp-kernels.ts): forward, loss,
 * backward and Adam over plain float32 memory, the same mathematics as lean-step.ts (MSE or Gaussian
 * NLL, per-sample weights) without tfjs's per-op dispatch, transposes and allocations.
 *
 * Data parallel on threads: every batch is split into `shards` contiguous parts (default 2); each
 * shard's gradient is computed on its own (by the main thread or a worker thread, on one shared
 * memory) and the gradients are summed in shard order before the Adam step. The result depends on
 * the seed, the data and `shards`, never on `threads`: 1 or 2 threads give bit-identical weights.
 *
 *   const t = await WasmMlpTrainer.create(snapshot(mlp), { learningRate: 1e-3, gaussian: false, maxBatch: 256 });
 *   try { loss = t.step(x, y, w, rows); … model = t.snapshot(); } finally { await t.close(); }
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ArmbridgeError, InvalidArgumentError } from '../errors.ts';
import type { MlpSnapshot } from './mlp.ts';
import { buildMlpKernels } from './wasm-mlp-kernels.ts';
import { COMMAND, CTRL, forwardShard, mlpLayout, outputLoss, readFailure, runShard, shardContext, shardLoss, MAX_SHARDS, type MlpKernels, type MlpLayout, type ShardContext } from './wasm-mlp-shard.ts';
import type { MlpWorkerData } from './wasm-mlp-worker.ts';
import { WebAssemblyApi } from './wasm-runtime.ts';

/** A training worker thread did not start, failed, or did not finish a step in time. */
export class TrainingWorkerError extends ArmbridgeError {
  constructor(detail: string, options?: ErrorOptions) {
    super('TRAINING_WORKER', `a training worker thread ${detail}; train on one thread with --threads 1 (same results) or --optimizer lean`, options);
  }
}

/** The trainer was used after close(). */
export class TrainerClosedError extends ArmbridgeError {
  constructor() {
    super('TRAINER_CLOSED', 'the wasm MLP trainer is closed: create a new one for another training run');
  }
}

export interface WasmMlpTrainerOptions {
  readonly learningRate: number;
  /** Gaussian NLL with the snapshot's log-std (else MSE). */
  readonly gaussian: boolean;
  /** Largest batch `step` and `loss` chunks will see. */
  readonly maxBatch: number;
  /** Parts each batch is split into (1…8, default 2); results depend on it. */
  readonly shards?: number;
  /** Threads computing the shards (1…shards; default min(shards, available cores)); results do not depend on it. */
  readonly threads?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /**
   * Rows per pass through the layers (multiple of 4, default 256: a pass's activations stay in the
   * L2 cache); results depend on it (the order the chunks' gradients are summed in).
   */
  readonly rowChunk?: number;
  /** Fused multiply-adds in the kernels (default: where the runtime has them, wasmFmaSupported); results differ in the last bits. */
  readonly fma?: boolean;
  /** How long a step waits for the worker threads before TrainingWorkerError (default 60 s). */
  readonly stepTimeoutMs?: number;
  /** Fault injection for the tests of TrainingWorkerError: the workers throw in, or never finish, their steps. */
  readonly faultForTests?: 'throw' | 'stall';
}

const BOOT = fileURLToPath(new URL('./worker-boot.mjs', import.meta.url));
const ENTRY = new URL('./wasm-mlp-worker.ts', import.meta.url).href;
const PAGE = 65536;

let support: boolean | undefined;
let fmaSupport: boolean | undefined;

/** Whether this runtime has WebAssembly SIMD and shared memory (Node ≥ 16.4 does). */
export function wasmTrainerSupported(): boolean {
  if (support === undefined) {
    try {
      support =
        WebAssemblyApi.validate(buildMlpKernels([4, 8, 8], { initialPages: 1, maximumPages: 1 }, { fma: false })) &&
        new WebAssemblyApi.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
    } catch {
      support = false;
    }
  }
  return support;
}

/**
 * Whether the runtime has relaxed SIMD's fused multiply-add. Node ≥ 22 ships it; Node 20's V8 has the
 * same implementation behind --experimental-wasm-relaxed-simd, which is switched on here (V8 flags are
 * process-wide, so the training workers see it too). Measured at batch 1024 in the same run: 64k
 * samples/s on one thread against 62k unfused earlier, 0.59–0.61 × PyTorch one thread against 0.33–0.39
 * (bench 'train'). ARMBRIDGE_WASM_FMA=0 keeps the unfused kernels.
 */
export function wasmFmaSupported(): boolean {
  if (fmaSupport !== undefined) return fmaSupport;
  const probe = () => WebAssemblyApi.validate(buildMlpKernels([4, 8, 8], { initialPages: 1, maximumPages: 1 }, { fma: true }));
  if (!wasmTrainerSupported() || process.env.ARMBRIDGE_WASM_FMA === '0') return (fmaSupport = false);
  if (!probe()) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // a runtime without the flag keeps the unfused kernels
    }
  }
  fmaSupport = probe();
  return fmaSupport;
}

export class WasmMlpTrainer {
  readonly shards: number;
  readonly threads: number;
  /** Whether the kernels use fused multiply-adds. */
  readonly fma: boolean;
  readonly #layout: MlpLayout;
  readonly #ctx: ShardContext;
  readonly #kernels: MlpKernels;
  readonly #workers: Worker[];
  readonly #exited: Promise<unknown>[];
  readonly #lr: number;
  readonly #b1: number;
  readonly #b2: number;
  readonly #eps: number;
  readonly #timeoutMs: number;
  #t = 0;
  #closed = false;
  #broken = false;

  private constructor(layout: MlpLayout, ctx: ShardContext, kernels: MlpKernels, workers: Worker[], exited: Promise<unknown>[], o: WasmMlpTrainerOptions, threads: number, fma: boolean) {
    this.fma = fma;
    this.#layout = layout;
    this.#ctx = ctx;
    this.#kernels = kernels;
    this.#workers = workers;
    this.#exited = exited;
    this.shards = layout.shards.length;
    this.threads = threads;
    this.#lr = o.learningRate;
    this.#b1 = o.beta1 ?? 0.9;
    this.#b2 = o.beta2 ?? 0.999;
    this.#eps = o.epsilon ?? 1e-8;
    this.#timeoutMs = o.stepTimeoutMs ?? 60_000;
  }

  static async create(init: MlpSnapshot, o: WasmMlpTrainerOptions): Promise<WasmMlpTrainer> {
    const shards = o.shards ?? 2;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) throw new InvalidArgumentError(`shards must be an integer from 1 to ${MAX_SHARDS}, not ${shards}`);
    const threads = o.threads ?? Math.min(shards, availableParallelism());
    if (!Number.isInteger(threads) || threads < 1 || threads > shards) throw new InvalidArgumentError(`threads must be an integer from 1 to the number of shards (${shards}), not ${threads}`);
    if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1) throw new InvalidArgumentError(`maxBatch must be a positive integer, not ${o.maxBatch}`);
    if (o.gaussian && !init.logStd) throw new InvalidArgumentError('a Gaussian trainer needs a snapshot with logStd');
    const rowChunk = o.rowChunk ?? 256;
    if (!Number.isInteger(rowChunk) || rowChunk < 4 || rowChunk % 4 !== 0) throw new InvalidArgumentError(`rowChunk must be a positive multiple of 4, not ${rowChunk}`);
    const layout = mlpLayout(init.sizes, o.gaussian, o.maxBatch, shards, rowChunk);
    const pages = Math.ceil(layout.bytes / PAGE);
    const memory = new WebAssemblyApi.Memory({ initial: pages, maximum: pages, shared: true });
    const fma = o.fma ?? wasmFmaSupported();
    const module = await WebAssemblyApi.compile(buildMlpKernels(layout.padded, { initialPages: pages, maximumPages: pages }, { fma }));
    const instance = await WebAssemblyApi.instantiate(module, { env: { memory } });
    const kernels = instance.exports as unknown as MlpKernels;
    const ctx = shardContext(layout, kernels, memory);
    const workers: Worker[] = [];
    const exited: Promise<unknown>[] = [];
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, (_, k) => {
          const data: MlpWorkerData = { entry: ENTRY, module, memory, layout, index: k + 1, threads, fault: o.faultForTests };
          // No inherited execArgv (e.g. --input-type of a `node -e` parent): the boot file registers tsx itself.
          const worker = new Worker(BOOT, { workerData: data, execArgv: [] });
          workers.push(worker);
          exited.push(new Promise((resolve) => worker.once('exit', resolve)));
          return new Promise<void>((resolve, reject) => {
            worker.once('message', () => resolve());
            worker.once('error', (err) => reject(new TrainingWorkerError(`did not start: ${err.message}`, { cause: err })));
            worker.once('exit', (code) => reject(new TrainingWorkerError(`exited (code ${code}) before it was ready`)));
          });
        }),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    const trainer = new WasmMlpTrainer(layout, ctx, kernels, workers, exited, o, threads, fma);
    trainer.#load(init);
    return trainer;
  }

  /**
   * One Adam step on the batch's first `rows` rows (x rows × inputs, y rows × outputs, w rows);
   * returns the batch loss (weighted mean over the rows).
   */
  step(x: Float32Array, y: Float32Array, w: Float32Array, rows: number): number {
    this.#usable();
    if (!Number.isInteger(rows) || rows < 1 || rows > this.#layout.shardRows * this.shards) throw new InvalidArgumentError(`a batch of ${rows} rows does not fit this trainer (1…${this.#layout.shardRows * this.shards})`);
    const { i32 } = this.#ctx;
    const per = Math.ceil(rows / this.shards);
    for (let s = 0; s < this.shards; s++) {
      const from = Math.min(rows, s * per);
      const real = Math.min(rows, from + per) - from;
      const padded = Math.max(4, Math.ceil(real / 4) * 4);
      this.#fill(s, x, y, w, from, real, padded);
      i32[CTRL.rows + s] = padded;
      i32[CTRL.realRows + s] = real;
    }
    i32[CTRL.batch] = rows;
    if (this.threads > 1) {
      Atomics.store(i32, CTRL.done, 0);
      Atomics.store(i32, CTRL.command, COMMAND.step);
      Atomics.add(i32, CTRL.generation, 1);
      Atomics.notify(i32, CTRL.generation);
    }
    for (let s = 0; s < this.shards; s += this.threads) runShard(this.#ctx, s);
    if (this.threads > 1) this.#awaitWorkers();
    const L = this.#layout;
    const bytes = L.paramCount * 4;
    this.#ctx.f32.copyWithin(L.grad, L.shards[0]!.grad, L.shards[0]!.grad + L.paramCount);
    let loss = shardLoss(this.#ctx, 0);
    for (let s = 1; s < this.shards; s++) {
      this.#kernels.addInto(L.grad * 4, L.shards[s]!.grad * 4, L.paramCount);
      loss += shardLoss(this.#ctx, s);
    }
    this.#t++;
    const b1 = this.#b1;
    const b2 = this.#b2;
    this.#kernels.adam(L.params * 4, L.grad * 4, L.adamM * 4, L.adamV * 4, bytes / 4, this.#lr, b1, 1 - b1, b2, 1 - b2, 1 - b1 ** this.#t, 1 - b2 ** this.#t, this.#eps);
    this.#transpose();
    return loss / rows;
  }

  /** The weighted mean loss over `rows` rows, in chunks, without training (validation). */
  loss(x: Float32Array, y: Float32Array, w: Float32Array, rows: number): number {
    this.#usable();
    if (rows === 0) return NaN;
    let sum = 0;
    const chunk = Math.min(this.#layout.rowChunk, this.#layout.shardRows);
    for (let from = 0; from < rows; from += chunk) {
      const real = Math.min(chunk, rows - from);
      const padded = Math.ceil(real / 4) * 4;
      this.#fill(0, x, y, w, from, real, padded);
      forwardShard(this.#ctx, 0, padded);
      sum += outputLoss(this.#ctx, 0, padded, real, 1, false);
    }
    return sum / rows;
  }

  /** The current parameters, unpadded. */
  snapshot(): MlpSnapshot {
    this.#usable();
    const { f32 } = this.#ctx;
    const L = this.#layout;
    const weights: Float32Array[] = [];
    const biases: Float32Array[] = [];
    for (const layer of L.layers) {
      const wt = new Float32Array(layer.inputs * layer.outputs);
      for (let r = 0; r < layer.inputs; r++) wt.set(f32.subarray(L.params + layer.w + r * layer.paddedOut, L.params + layer.w + r * layer.paddedOut + layer.outputs), r * layer.outputs);
      weights.push(wt);
      biases.push(f32.slice(L.params + layer.b, L.params + layer.b + layer.outputs));
    }
    const D = L.sizes[L.sizes.length - 1]!;
    return { sizes: L.sizes, weights, biases, logStd: L.gaussian ? f32.slice(L.params + L.logStd, L.params + L.logStd + D) : undefined };
  }

  /** Ends the worker threads (waits for them); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#workers.length) {
      const { i32 } = this.#ctx;
      Atomics.store(i32, CTRL.command, COMMAND.exit);
      Atomics.add(i32, CTRL.generation, 1);
      Atomics.notify(i32, CTRL.generation);
      const timeout = new Promise((resolve) => setTimeout(resolve, 5000).unref());
      const all = Promise.all(this.#exited);
      if ((await Promise.race([all.then(() => 'exited'), timeout])) !== 'exited') await Promise.all(this.#workers.map((w) => w.terminate()));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #usable(): void {
    if (this.#closed) throw new TrainerClosedError();
    if (this.#broken) throw new TrainingWorkerError('failed in an earlier step');
  }

  #awaitWorkers(): void {
    const { i32 } = this.#ctx;
    const expected = this.threads - 1;
    const deadline = performance.now() + this.#timeoutMs;
    for (let done = Atomics.load(i32, CTRL.done); done < expected; done = Atomics.load(i32, CTRL.done)) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#broken = true;
        throw new TrainingWorkerError(`did not finish a step within ${this.#timeoutMs} ms`);
      }
      Atomics.wait(i32, CTRL.done, done, left);
    }
    const failure = readFailure(this.#ctx);
    if (failure !== undefined) {
      this.#broken = true;
      throw new TrainingWorkerError(`failed: ${failure}`);
    }
  }

  /** Rows [from, from + real) of the batch into shard s, zero rows after them up to `padded`. */
  #fill(s: number, x: Float32Array, y: Float32Array, w: Float32Array, from: number, real: number, padded: number): void {
    const { f32 } = this.#ctx;
    const L = this.#layout;
    const sh = L.shards[s]!;
    const dIn = L.sizes[0]!;
    const pIn = L.padded[0]!;
    const dOut = L.sizes[L.sizes.length - 1]!;
    const pOut = L.padded[L.padded.length - 1]!;
    if (dIn === pIn) f32.set(x.subarray(from * dIn, (from + real) * dIn), sh.x);
    else for (let i = 0; i < real; i++) f32.set(x.subarray((from + i) * dIn, (from + i + 1) * dIn), sh.x + i * pIn);
    if (dOut === pOut) f32.set(y.subarray(from * dOut, (from + real) * dOut), sh.y);
    else for (let i = 0; i < real; i++) f32.set(y.subarray((from + i) * dOut, (from + i + 1) * dOut), sh.y + i * pOut);
    f32.set(w.subarray(from, from + real), sh.w);
    f32.fill(0, sh.x + real * pIn, sh.x + padded * pIn);
    f32.fill(0, sh.y + real * pOut, sh.y + padded * pOut);
    f32.fill(0, sh.w + real, sh.w + padded);
  }

  /** Parameters from a snapshot (padding zero), Adam's moments zero, Wᵀ up to date. */
  #load(s: MlpSnapshot): void {
    const { f32 } = this.#ctx;
    const L = this.#layout;
    f32.fill(0, L.params, L.params + L.paramCount);
    f32.fill(0, L.adamM, L.adamM + L.paramCount);
    f32.fill(0, L.adamV, L.adamV + L.paramCount);
    L.layers.forEach((layer, l) => {
      for (let r = 0; r < layer.inputs; r++) f32.set(s.weights[l]!.subarray(r * layer.outputs, (r + 1) * layer.outputs), L.params + layer.w + r * layer.paddedOut);
      f32.set(s.biases[l]!, L.params + layer.b);
    });
    if (L.gaussian) f32.set(s.logStd!, L.params + L.logStd);
    this.#t = 0;
    this.#transpose();
  }

  #transpose(): void {
    const { f32 } = this.#ctx;
    const L = this.#layout;
    for (const layer of L.layers) {
      if (layer.wt < 0) continue;
      const K = layer.paddedIn;
      const N = layer.paddedOut;
      const w = L.params + layer.w;
      for (let r = 0; r < K; r++) for (let q = 0; q < N; q++) f32[layer.wt + q * K + r] = f32[w + r * N + q]!;
    }
  }
}
