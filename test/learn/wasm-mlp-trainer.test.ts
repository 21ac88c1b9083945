import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Episode } from '../../src/dataset/load.ts';
import { loadTf } from '../../src/learn/backend.ts';
import { createLeanTrainer } from '../../src/learn/lean-step.ts';
import { createMlp, dispose, snapshot, type MlpSnapshot } from '../../src/learn/mlp.ts';
import { defaultOptimizer, trainPolicy, type TrainConfig } from '../../src/learn/trainer.ts';
import { TrainerClosedError, TrainingWorkerError, WasmMlpTrainer, wasmFmaSupported, wasmTrainerSupported } from '../../src/learn/wasm-mlp-trainer.ts';
import { InvalidArgumentError } from '../../src/errors.ts';

const { tf } = await loadTf('wasm');

/** OS threads of this process (Linux): a worker thread that was not ended stays in the count. */
const osThreads = () => readdirSync('/proc/self/task').length;
const linux = process.platform === 'linux';

function batch(rows: number, dIn: number, dOut: number, seed: number) {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return {
    x: Float32Array.from({ length: rows * dIn }, r),
    y: Float32Array.from({ length: rows * dOut }, r),
    w: Float32Array.from({ length: rows }, () => 0.5 + 0.5 * Math.abs(r())),
  };
}

function maxDiff(a: MlpSnapshot, b: MlpSnapshot): number {
  let d = 0;
  a.weights.forEach((w, l) => w.forEach((v, i) => (d = Math.max(d, Math.abs(v - b.weights[l]![i]!)))));
  a.biases.forEach((w, l) => w.forEach((v, i) => (d = Math.max(d, Math.abs(v - b.biases[l]![i]!)))));
  a.logStd?.forEach((v, i) => (d = Math.max(d, Math.abs(v - b.logStd![i]!))));
  return d;
}

function identical(a: MlpSnapshot, b: MlpSnapshot): boolean {
  const same = (p: Float32Array, q: Float32Array) => p.length === q.length && p.every((v, i) => Object.is(v, q[i]));
  return a.weights.every((w, l) => same(w, b.weights[l]!)) && a.biases.every((w, l) => same(w, b.biases[l]!)) && (a.logStd === undefined || same(a.logStd, b.logStd!));
}

/** Episodes of a known map with a little noise (as in trainer.test.ts). */
function episodes(n: number, len: number): Episode[] {
  let s = 7;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return Array.from({ length: n }, (_, i) => {
    const obs = new Float32Array(len * 3);
    const act = new Float32Array(len * 2);
    for (let t = 0; t < len; t++) {
      const o = [r(), r(), r()];
      obs.set(o, t * 3);
      act.set([o[0]! + 0.5 * o[1]! + 0.05 * r(), -o[2]! + 0.05 * r()], t * 2);
    }
    return { file: 'synthetic', index: i, operator: 'expert', outcome: 'success', return: -i / n, detail: undefined, length: len, observations: obs, actions: act, rewards: new Float32Array(len), timesNs: new BigInt64Array(len) } satisfies Episode;
  });
}

describe('wasm MLP trainer', () => {
  it('is supported here, and is the default optimizer', () => {
    expect(wasmTrainerSupported()).toBe(true);
    expect(defaultOptimizer()).toBe('wasm');
  });

  for (const gaussian of [false, true]) {
    it(`takes the lean tfjs step's Adam steps (${gaussian ? 'Gaussian NLL' : 'MSE'}, weighted, a batch not a multiple of 4)`, async () => {
      const sizes = [12, 64, 48, 6];
      const mlp = createMlp(tf, sizes, 5, gaussian);
      const wasm = await WasmMlpTrainer.create(snapshot(mlp), { learningRate: 3e-3, gaussian, maxBatch: 128, threads: 1 });
      // Passes of 16 rows through the layers: the chunks' gradients add up to the same step.
      const chunked = await WasmMlpTrainer.create(snapshot(mlp), { learningRate: 3e-3, gaussian, maxBatch: 128, threads: 2, rowChunk: 16 });
      const lean = createLeanTrainer(tf, mlp, { learningRate: 3e-3, nll: gaussian });
      try {
        for (let k = 0; k < 6; k++) {
          const rows = k === 5 ? 3 : 101;
          const { x, y, w } = batch(rows, 12, 6, k + 1);
          const expected = tf.tidy(() => lean.step(tf.tensor2d(x, [rows, 12]), tf.tensor2d(y, [rows, 6]), tf.tensor1d(w)));
          expect(wasm.step(x, y, w, rows)).toBeCloseTo(expected, 4);
          expect(chunked.step(x, y, w, rows)).toBeCloseTo(expected, 4);
        }
        expect(maxDiff(wasm.snapshot(), snapshot(mlp))).toBeLessThan(2e-5);
        expect(maxDiff(chunked.snapshot(), snapshot(mlp))).toBeLessThan(2e-5);
        const { x, y, w } = batch(300, 12, 6, 99);
        const forwardLoss = wasm.loss(x, y, w, 300);
        const tfLoss = tf.tidy(() => lean.gradients(tf.tensor2d(x, [300, 12]), tf.tensor2d(y, [300, 6]), tf.tensor1d(w)).loss);
        expect(forwardLoss).toBeCloseTo(tfLoss, 4);
      } finally {
        lean.dispose();
        dispose(mlp);
        await wasm.close();
        await chunked.close();
      }
    });
  }

  it('with fused multiply-adds (relaxed SIMD) takes the same steps to within rounding', async () => {
    // Node 20 has relaxed SIMD behind a V8 flag: check in child processes, with and without the opt-out.
    const script = `
      import { WasmMlpTrainer, wasmFmaSupported } from ${JSON.stringify(new URL('../../src/learn/wasm-mlp-trainer.ts', import.meta.url).href)};
      let s = 3;
      const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
      const sizes = [12, 64, 64, 6];
      const init = { sizes, weights: sizes.slice(1).map((n, l) => Float32Array.from({ length: sizes[l] * n }, () => 0.3 * r())), biases: sizes.slice(1).map((n) => new Float32Array(n)), logStd: undefined };
      const x = Float32Array.from({ length: 64 * 12 }, r), y = Float32Array.from({ length: 64 * 6 }, r), w = new Float32Array(64).fill(1);
      const out = { supported: wasmFmaSupported(), losses: [] };
      if (!out.supported) { console.log(JSON.stringify(out)); process.exit(0); }
      const snaps = [];
      for (const fma of [true, false]) {
        const t = await WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: 64, threads: 2, fma });
        out.losses.push([0, 1, 2, 3, 4].map(() => t.step(x, y, w, 64)));
        snaps.push(t.snapshot());
        await t.close();
      }
      out.maxDiff = Math.max(...snaps[0].weights.flatMap((a, l) => Array.from(a, (v, i) => Math.abs(v - snaps[1].weights[l][i]))));
      console.log(JSON.stringify(out));`;
    // No V8 flag on the command line: wasmFmaSupported switches relaxed SIMD on itself (Node 20).
    const run = (env: NodeJS.ProcessEnv) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } }).trim().split('\n').pop()!) as { supported: boolean; losses: number[][]; maxDiff: number };
    expect(run({ ARMBRIDGE_WASM_FMA: '0' }).supported).toBe(false);
    const out = run({});
    expect(out.supported).toBe(true);
    out.losses[0]!.forEach((l, k) => expect(l).toBeCloseTo(out.losses[1]![k]!, 5));
    expect(out.maxDiff).toBeGreaterThan(0); // fused: not the same rounding
    expect(out.maxDiff).toBeLessThan(1e-5);
  });

  it('gives bit-identical training results for a fixed seed, with one thread or two', async () => {
    const eps = episodes(10, 60);
    const config: TrainConfig = { algo: 'rwr', rwr: { kind: 'exp', beta: 1 }, hidden: [32, 32], epochs: 4, batchSize: 50, seed: 4, optimizer: 'wasm' };
    const two = await trainPolicy(tf, { train: eps.slice(0, 8), val: eps.slice(8) }, { ...config, threads: 2 });
    const again = await trainPolicy(tf, { train: eps.slice(0, 8), val: eps.slice(8) }, { ...config, threads: 2 });
    const one = await trainPolicy(tf, { train: eps.slice(0, 8), val: eps.slice(8) }, { ...config, threads: 1 });
    expect(two.engine).toMatchObject({ optimizer: 'wasm', threads: 2 });
    expect(one.engine).toMatchObject({ optimizer: 'wasm', threads: 1 });
    expect(identical(two.model, again.model)).toBe(true);
    expect(identical(two.model, one.model)).toBe(true);
    expect(two.history.map((h) => [h.trainLoss, h.valLoss])).toEqual(one.history.map((h) => [h.trainLoss, h.valLoss]));
    // A different seed trains a different model (the comparison above can fail).
    const other = await trainPolicy(tf, { train: eps.slice(0, 8), val: eps.slice(8) }, { ...config, seed: 5, threads: 2 });
    expect(identical(two.model, other.model)).toBe(false);
  });

  it('learns as well as the lean tfjs step on the same problem', async () => {
    const eps = episodes(12, 50);
    const config: TrainConfig = { algo: 'bc', hidden: [32], epochs: 40, batchSize: 64, learningRate: 3e-3, seed: 3 };
    const wasm = await trainPolicy(tf, { train: eps.slice(0, 10), val: eps.slice(10) }, { ...config, optimizer: 'wasm' });
    const lean = await trainPolicy(tf, { train: eps.slice(0, 10), val: eps.slice(10) }, { ...config, optimizer: 'lean' });
    expect(wasm.history.at(-1)!.valLoss).toBeLessThan(0.05);
    expect(wasm.history.at(-1)!.valLoss).toBeCloseTo(lean.history.at(-1)!.valLoss, 2);
  });

  it.runIf(linux)('ends its worker thread on close, and when training throws', async () => {
    const before = osThreads();
    const mlp = createMlp(tf, [3, 16, 2], 1, false);
    const t = await WasmMlpTrainer.create(snapshot(mlp), { learningRate: 1e-3, gaussian: false, maxBatch: 32, threads: 2 });
    dispose(mlp);
    expect(osThreads()).toBeGreaterThan(before);
    await t.close();
    await t.close(); // idempotent
    expect(osThreads()).toBe(before);
    const eps = episodes(6, 40);
    const failing = trainPolicy(tf, { train: eps, val: [] }, { algo: 'bc', hidden: [16], epochs: 3, batchSize: 32, optimizer: 'wasm', threads: 2, selectBy: { everyEpochs: 1, score: () => Promise.reject(new Error('scoring failed')) } });
    await expect(failing).rejects.toThrow('scoring failed');
    expect(osThreads()).toBe(before);
  });

  it('a worker that fails raises TrainingWorkerError (and the trainer still closes)', async () => {
    const before = osThreads();
    const mlp = createMlp(tf, [3, 16, 2], 1, false);
    const init = snapshot(mlp);
    dispose(mlp);
    const { x, y, w } = batch(16, 3, 2, 1);
    const throwing = await WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: 16, threads: 2, faultForTests: 'throw' });
    try {
      const err = (() => {
        try {
          throwing.step(x, y, w, 16);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TrainingWorkerError);
      expect((err as TrainingWorkerError).code).toBe('TRAINING_WORKER');
      expect((err as Error).message).toMatch(/failed: Error: fault injected for a test[\s\S]*--threads 1/);
      expect(() => throwing.step(x, y, w, 16)).toThrow(TrainingWorkerError);
    } finally {
      await throwing.close();
    }
    const stalling = await WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: 16, threads: 2, faultForTests: 'stall', stepTimeoutMs: 200 });
    try {
      expect(() => stalling.step(x, y, w, 16)).toThrow(/did not finish a step within 200 ms/);
    } finally {
      await stalling.close();
    }
    if (linux) expect(osThreads()).toBe(before);
  });

  it('refuses use after close (TrainerClosedError) and impossible thread counts', async () => {
    const mlp = createMlp(tf, [3, 8, 2], 1, false);
    const init = snapshot(mlp);
    dispose(mlp);
    const t = await WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: 8, threads: 1 });
    await t.close();
    const { x, y, w } = batch(8, 3, 2, 1);
    expect(() => t.step(x, y, w, 8)).toThrow(TrainerClosedError);
    expect(() => t.snapshot()).toThrow(/TRAINER_CLOSED|closed: create a new one/);
    await expect(WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: 8, threads: 3 })).rejects.toThrow(InvalidArgumentError);
    await expect(WasmMlpTrainer.create(init, { learningRate: 1e-3, gaussian: false, maxBatch: 8, shards: 0 })).rejects.toThrow(/shards must be an integer from 1 to 8/);
  });
});
