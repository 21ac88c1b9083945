/**
 * Memory layout of the wasm MLP trainer and the work on one shard of a batch (forward, loss and its
 * gradient at the output, backward into the shard's own gradient block). The main thread and the
 * worker threads (wasm-mlp-worker.ts) run this same code on one shared WebAssembly.Memory; a shard's
 * result depends only on its rows and the parameters, never on the thread that computed it.
 *
 * Ownership: parameters, Adam moments, the summed gradient and the transposed weights are written by
 * the main thread only, between steps; during a step each shard writes only its own buffers. The
 * control words order the two (Atomics: release by the writer, acquire by the waiter).
 */
import { LOG_STD_MAX, LOG_STD_MIN } from './losses.ts';
import type { WasmMemory } from './wasm-runtime.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/** Int32 control words at the start of memory. */
export const CTRL = { generation: 0, command: 1, done: 2, failed: 3, rows: 8, realRows: 16, batch: 24 } as const;
export const COMMAND = { step: 1, exit: 2 } as const;
/** Byte offset of the per-shard losses (float64) and the size of the control block. */
const LOSS_BYTES = 256;
const CTRL_BYTES = 1024;
export const MAX_SHARDS = 8;

export interface LayerLayout {
  /** Real and padded input and output widths. */
  readonly inputs: number;
  readonly outputs: number;
  readonly paddedIn: number;
  readonly paddedOut: number;
  /** Float offsets, relative to a parameter block, of W (paddedIn × paddedOut) and b. */
  readonly w: number;
  readonly b: number;
  /** Absolute float offset of Wᵀ (layers after the first: the backward pass multiplies by it). */
  readonly wt: number;
}

export interface ShardLayout {
  /** Absolute float offsets: inputs (rows × paddedIn of layer 0), targets and outputs (rows × padded actions), weights (rows). */
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly out: number;
  /** Hidden activations after each hidden layer (rows × its padded width), index l for layer l's input (l ≥ 1). */
  readonly h: readonly number[];
  /** The loss's gradient at the output (rows × padded outputs). */
  readonly gOut: number;
  /** Two gradient buffers (rows × widest padded layer), used in turn by the hidden layers. */
  readonly g: readonly [number, number];
  /** The shard's gradient block (same layout as the parameters). */
  readonly grad: number;
  /** Column sums of one chunk (widest padded layer). */
  readonly colsum: number;
}

export interface MlpLayout {
  readonly sizes: readonly number[];
  readonly padded: readonly number[];
  readonly gaussian: boolean;
  readonly layers: readonly LayerLayout[];
  /** Floats in one parameter block (weights, biases, log-std), a multiple of 4. */
  readonly paramCount: number;
  /** Offset of log-std in a parameter block (Gaussian policies). */
  readonly logStd: number;
  /** Absolute float offsets of the parameters, Adam's moments and the summed gradient. */
  readonly params: number;
  readonly adamM: number;
  readonly adamV: number;
  readonly grad: number;
  readonly shards: readonly ShardLayout[];
  /** Padded rows each shard holds at most. */
  readonly shardRows: number;
  /** Rows per pass through the layers (a multiple of 4): a chunk's activations stay in cache. */
  readonly rowChunk: number;
  readonly bytes: number;
}

const up = (n: number, k: number) => Math.ceil(n / k) * k;

export function mlpLayout(sizes: readonly number[], gaussian: boolean, maxBatch: number, shards: number, rowChunk: number): MlpLayout {
  const padded = sizes.map((s, i) => (i === 0 ? up(s, 4) : up(s, 8)));
  const L = sizes.length - 1;
  let top = CTRL_BYTES / 4;
  const take = (n: number) => {
    const at = top;
    top += up(n, 16); // 64-byte alignment
    return at;
  };
  let p = 0;
  const rel: { w: number; b: number }[] = [];
  for (let l = 0; l < L; l++) {
    const w = p;
    p += padded[l]! * padded[l + 1]!;
    rel.push({ w, b: p });
    p += padded[l + 1]!;
  }
  const logStd = p;
  if (gaussian) p += padded[L]!;
  const paramCount = up(p, 4);
  const params = take(paramCount);
  const adamM = take(paramCount);
  const adamV = take(paramCount);
  const grad = take(paramCount);
  const layers: LayerLayout[] = rel.map((r, l) => ({ inputs: sizes[l]!, outputs: sizes[l + 1]!, paddedIn: padded[l]!, paddedOut: padded[l + 1]!, w: r.w, b: r.b, wt: l > 0 ? take(padded[l]! * padded[l + 1]!) : -1 }));
  const shardRows = up(Math.ceil(maxBatch / shards), 4);
  const widest = Math.max(...padded.slice(1));
  const shardLayouts: ShardLayout[] = [];
  for (let s = 0; s < shards; s++) {
    shardLayouts.push({
      x: take(shardRows * padded[0]!),
      y: take(shardRows * padded[L]!),
      w: take(shardRows),
      out: take(shardRows * padded[L]!),
      h: [-1, ...padded.slice(1, L).map((n) => take(shardRows * n))],
      gOut: take(shardRows * padded[L]!),
      g: [take(shardRows * widest), take(shardRows * widest)],
      grad: take(paramCount),
      colsum: take(widest),
    });
  }
  return { sizes, padded, gaussian, layers, paramCount, logStd, params, adamM, adamV, grad, shards: shardLayouts, shardRows, rowChunk, bytes: top * 4 };
}

/** The exported kernels (wasm-mlp-kernels.ts); addresses in bytes. */
export interface MlpKernels {
  colsum(g: number, out: number, rows: number, cols: number): void;
  addInto(dst: number, src: number, n: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, omb1: number, b2: number, omb2: number, c1: number, c2: number, eps: number): void;
  [gemm: `fwd${number}` | `dw${number}` | `dwAdd${number}` | `dx${number}`]: (a: number, b: number, c: number, rows: number, extra: number) => void;
}

export interface ShardContext {
  readonly layout: MlpLayout;
  readonly kernels: MlpKernels;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

export function shardContext(layout: MlpLayout, kernels: MlpKernels, memory: WasmMemory): ShardContext {
  return { layout, kernels, f32: new Float32Array(memory.buffer), i32: new Int32Array(memory.buffer), f64: new Float64Array(memory.buffer, LOSS_BYTES, MAX_SHARDS) };
}

/** Forward pass of shard `s` over `rows` (padded) rows from row `from`: outputs in the shard's `out`. */
export function forwardShard(c: ShardContext, s: number, rows: number, from = 0): void {
  const { layout, kernels } = c;
  const sh = layout.shards[s]!;
  const L = layout.layers.length;
  for (let l = 0; l < L; l++) {
    const layer = layout.layers[l]!;
    const input = (l === 0 ? sh.x : sh.h[l]!) + from * layer.paddedIn;
    const output = (l === L - 1 ? sh.out : sh.h[l + 1]!) + from * layer.paddedOut;
    kernels[`fwd${l}`](input * 4, (layout.params + layer.w) * 4, output * 4, rows, (layout.params + layer.b) * 4);
  }
}

/**
 * Sum over the shard's real rows of w_i · per-sample loss (see losses.ts), and, when `gradient`, its
 * gradient at the output divided by the whole batch's size `batch` into gOut (padded rows and columns
 * zero), and the log-std gradient into the shard's gradient block.
 */
export function outputLoss(c: ShardContext, s: number, rows: number, real: number, batch: number, gradient: boolean): number {
  const { layout, f32 } = c;
  const sh = layout.shards[s]!;
  const D = layout.sizes[layout.sizes.length - 1]!;
  const P = layout.padded[layout.padded.length - 1]!;
  const g = sh.gOut;
  let loss = 0;
  if (layout.gaussian) {
    const ls = layout.params + layout.logStd;
    const dls = sh.grad + layout.logStd;
    const logStd: number[] = [];
    const inv2: number[] = [];
    const acc: number[] = [];
    let constant = 0;
    for (let d = 0; d < D; d++) {
      const raw = f32[ls + d]!;
      const v = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, raw));
      logStd.push(v);
      inv2.push(Math.exp(-2 * v));
      acc.push(0);
      constant += 2 * v + LOG_2PI;
    }
    for (let i = 0; i < real; i++) {
      const wi = f32[sh.w + i]!;
      let z2sum = 0;
      for (let d = 0; d < D; d++) {
        const diff = f32[sh.out + i * P + d]! - f32[sh.y + i * P + d]!;
        const z2 = diff * diff * inv2[d]!;
        z2sum += z2;
        if (gradient) {
          f32[g + i * P + d] = (diff * inv2[d]! * wi) / batch;
          acc[d]! += wi * (1 - z2);
        }
      }
      loss += wi * 0.5 * (z2sum + constant);
    }
    if (gradient) {
      for (let d = 0; d < D; d++) {
        const raw = f32[ls + d]!;
        f32[dls + d] = raw > LOG_STD_MIN && raw < LOG_STD_MAX ? acc[d]! / batch : 0;
      }
    }
  } else {
    for (let i = 0; i < real; i++) {
      const wi = f32[sh.w + i]!;
      let e = 0;
      for (let d = 0; d < D; d++) {
        const diff = f32[sh.out + i * P + d]! - f32[sh.y + i * P + d]!;
        e += diff * diff;
        if (gradient) f32[g + i * P + d] = (2 * diff * wi) / batch;
      }
      loss += wi * e;
    }
  }
  if (gradient) {
    for (let i = 0; i < real; i++) f32.fill(0, g + i * P + D, g + (i + 1) * P);
    f32.fill(0, g + real * P, g + rows * P);
  }
  return loss;
}

/**
 * Forward, loss and backward of shard `s` (rows and batch size from the control words), in chunks of
 * `rowChunk` rows: each chunk goes forward and backward while its activations are in cache, and adds
 * its weight gradients to the shard's (chunk after chunk, a fixed order).
 */
export function runShard(c: ShardContext, s: number): void {
  const { layout, kernels, i32, f64 } = c;
  const rows = i32[CTRL.rows + s]!;
  const real = i32[CTRL.realRows + s]!;
  const batch = i32[CTRL.batch]!;
  const sh = layout.shards[s]!;
  for (let from = 0; from < rows; from += layout.rowChunk) forwardShard(c, s, Math.min(layout.rowChunk, rows - from), from);
  f64[s] = outputLoss(c, s, rows, real, batch, true);
  for (let from = 0; from < rows; from += layout.rowChunk) {
    const n = Math.min(layout.rowChunk, rows - from);
    const first = from === 0;
    let g = 0;
    for (let l = layout.layers.length - 1; l >= 0; l--) {
      const layer = layout.layers[l]!;
      const input = (l === 0 ? sh.x : sh.h[l]!) + from * layer.paddedIn;
      const grad = (l === layout.layers.length - 1 ? sh.gOut : sh.g[1 - g]!) + from * layer.paddedOut;
      const dw = first ? kernels[`dw${l}`] : kernels[`dwAdd${l}`];
      dw(input * 4, grad * 4, (sh.grad + layer.w) * 4, n, 0);
      if (first) kernels.colsum(grad * 4, (sh.grad + layer.b) * 4, n, layer.paddedOut);
      else {
        kernels.colsum(grad * 4, sh.colsum * 4, n, layer.paddedOut);
        kernels.addInto((sh.grad + layer.b) * 4, sh.colsum * 4, layer.paddedOut);
      }
      if (l > 0) {
        kernels[`dx${l}`](grad * 4, layer.wt * 4, (sh.g[g]! + from * layer.paddedIn) * 4, n, input * 4);
        g = 1 - g;
      }
    }
  }
}

const FAILURE_BYTES = 512;

/** A worker's failure: the flag, and its message in the control block's second half. */
export function writeFailure(c: ShardContext, message: string): void {
  const bytes = new TextEncoder().encode(message).subarray(0, CTRL_BYTES - FAILURE_BYTES - 4);
  new Uint8Array(c.i32.buffer, FAILURE_BYTES + 4, bytes.length).set(bytes);
  c.i32[FAILURE_BYTES / 4] = bytes.length;
  Atomics.store(c.i32, CTRL.failed, 1);
}

export function readFailure(c: ShardContext): string | undefined {
  if (Atomics.load(c.i32, CTRL.failed) === 0) return undefined;
  const n = c.i32[FAILURE_BYTES / 4]!;
  return new TextDecoder().decode(new Uint8Array(c.i32.buffer, FAILURE_BYTES + 4, n).slice());
}

/** The loss of shard `s` after `runShard` (float64, summed over its rows, not yet divided by the batch). */
export function shardLoss(c: ShardContext, s: number): number {
  return c.f64[s]!;
}
