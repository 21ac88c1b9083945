import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Episode } from '../../src/dataset/load.ts';
import { loadTf } from '../../src/learn/backend.ts';
import { denseLayers, createMlp, forward, restore } from '../../src/learn/mlp.ts';
import { writeOnnx } from '../../src/learn/onnx-export.ts';
import { trainPolicy } from '../../src/learn/trainer.ts';

const { tf } = await loadTf('cpu');

/** Episodes of a known mapping a = A·s + noise; `good` episodes follow it, bad ones are offset. */
function synthetic(n: number, len: number, good: (i: number) => boolean, seed = 1): Episode[] {
  let s = seed;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return Array.from({ length: n }, (_, i) => {
    const obs = new Float32Array(len * 3);
    const act = new Float32Array(len * 2);
    for (let t = 0; t < len; t++) {
      const o = [r(), r(), r()];
      obs.set(o, t * 3);
      const bias = good(i) ? 0 : 1.5;
      act.set([o[0]! + 0.5 * o[1]! + bias, -o[2]! + bias], t * 2);
    }
    return {
      file: 'synthetic',
      index: i,
      operator: good(i) ? 'expert' : 'poor',
      outcome: good(i) ? 'success' : 'failure',
      return: good(i) ? 0 : -10,
      detail: undefined,
      length: len,
      observations: obs,
      actions: act,
      rewards: new Float32Array(len).fill(good(i) ? 0 : -10 / len),
      timesNs: new BigInt64Array(len),
    } satisfies Episode;
  });
}

describe('trainer', () => {
  it('BC learns a linear map, validation by episode, best epoch kept', async () => {
    const eps = synthetic(12, 50, () => true);
    const r = await trainPolicy(tf, { train: eps.slice(0, 10), val: eps.slice(10) }, { algo: 'bc', hidden: [32], epochs: 60, batchSize: 64, learningRate: 3e-3, seed: 3 });
    expect(r.trainSamples).toBe(500);
    expect(r.valSamples).toBe(100);
    expect(r.bestValLoss).toBeLessThan(0.05);
    expect(r.history[r.bestEpoch - 1]!.valLoss).toBe(r.bestValLoss);
  });

  it('stops early once validation stops improving for `patience` epochs', async () => {
    // Validation targets unrelated to the inputs: it cannot improve for long.
    const eps = synthetic(6, 40, () => true);
    const noise = synthetic(2, 40, () => false, 99).map((e) => ({ ...e, actions: e.actions.map((_v, k) => ((k * 7919) % 101) / 10) }));
    const r = await trainPolicy(tf, { train: eps, val: noise }, { algo: 'bc', hidden: [16], epochs: 200, batchSize: 32, patience: 3, seed: 1 });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBe(r.bestEpoch + 3);
    expect(r.history.length).toBeLessThan(200);
  });

  it('is reproducible with the same seed', async () => {
    const eps = synthetic(6, 30, () => true);
    const cfg = { algo: 'bc' as const, hidden: [16], epochs: 5, batchSize: 32, seed: 5 };
    const a = await trainPolicy(tf, { train: eps.slice(0, 5), val: eps.slice(5) }, cfg);
    const b = await trainPolicy(tf, { train: eps.slice(0, 5), val: eps.slice(5) }, cfg);
    expect(Array.from(a.model.weights[0]!)).toEqual(Array.from(b.model.weights[0]!));
  });

  it('RWR on mixed data imitates the good episodes more strongly than BC does', async () => {
    const eps = synthetic(20, 40, (i) => i % 2 === 0);
    const val = synthetic(4, 40, () => true, 42);
    const test = synthetic(1, 200, () => true, 77)[0]!;
    const errOf = async (algo: 'bc' | 'rwr') => {
      const r = await trainPolicy(tf, { train: eps, val }, { algo, rwr: { kind: 'exp', beta: 1 }, hidden: [32], epochs: 40, batchSize: 64, learningRate: 3e-3, seed: 2 });
      const mlp = createMlp(tf, r.model.sizes, 0, false);
      restore(tf, mlp, r.model);
      const x = tf.tensor2d(Float32Array.from(test.observations, (v, k) => (v - r.obsNorm.mean[k % 3]!) / r.obsNorm.std[k % 3]!), [test.length, 3]);
      const y = forward(tf, mlp, x).dataSync();
      let e = 0;
      for (let k = 0; k < y.length; k++) e += Math.abs(y[k]! * r.actNorm.std[k % 2]! + r.actNorm.mean[k % 2]! - test.actions[k]!);
      return e / y.length;
    };
    const bc = await errOf('bc');
    const rwr = await errOf('rwr');
    expect(bc).toBeGreaterThan(0.5); // BC averages the good and the offset demonstrations
    expect(rwr).toBeLessThan(bc / 3);
  });

  it('fine-tuning (init) starts from the given model and keeps its normalisation', async () => {
    const eps = synthetic(8, 40, () => true);
    const cfg = { algo: 'bc' as const, hidden: [16], epochs: 30, batchSize: 32, learningRate: 3e-3, seed: 6 };
    const first = await trainPolicy(tf, { train: eps.slice(0, 7), val: eps.slice(7) }, cfg);
    // New data, scaled: its own statistics would differ from the first model's.
    const scaled = eps.map((e) => ({ ...e, observations: e.observations.map((v) => 3 * v + 1) }));
    const init = { model: first.model, obsNorm: first.obsNorm, actNorm: first.actNorm };
    const tuned = await trainPolicy(tf, { train: scaled.slice(0, 7), val: scaled.slice(7) }, { ...cfg, epochs: 1, learningRate: 1e-7, init });
    expect(Array.from(tuned.obsNorm.mean)).toEqual(Array.from(first.obsNorm.mean));
    expect(Array.from(tuned.actNorm.std)).toEqual(Array.from(first.actNorm.std));
    const drift = tuned.model.weights[0]!.reduce((m, v, k) => Math.max(m, Math.abs(v - first.model.weights[0]![k]!)), 0);
    expect(drift).toBeLessThan(1e-4);
    const fresh = await trainPolicy(tf, { train: scaled.slice(0, 7), val: scaled.slice(7) }, { ...cfg, epochs: 1, learningRate: 1e-7 });
    expect(Array.from(fresh.obsNorm.mean)).not.toEqual(Array.from(first.obsNorm.mean));
    // A model of other layer sizes is refused, naming both.
    await expect(trainPolicy(tf, { train: eps.slice(0, 7), val: eps.slice(7) }, { ...cfg, hidden: [8], init })).rejects.toThrow(/3-16-2.*3-8-2/);
  });

  it('AWR trains from rewards alone and down-weights the bad episodes', async () => {
    const eps = synthetic(10, 30, (i) => i % 2 === 0);
    const r = await trainPolicy(tf, { train: eps.slice(0, 8), val: eps.slice(8) }, { algo: 'awr', awr: { beta: 0.5, valueSteps: 40 }, hidden: [16], epochs: 5, batchSize: 64, seed: 4 });
    expect(r.weightSummary['expert/success']!).toBeGreaterThan(r.weightSummary['poor/failure']!);
  });

  it('a trained model exported to ONNX gives the tfjs actions in onnxruntime-node', async () => {
    const eps = synthetic(6, 30, () => true);
    const r = await trainPolicy(tf, { train: eps.slice(0, 5), val: eps.slice(5) }, { algo: 'bc', hidden: [16, 16], epochs: 5, batchSize: 32, seed: 8 });
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-train-'));
    const path = join(dir, 'm.onnx');
    await writeOnnx(path, { layers: denseLayers(r.model), obsMean: r.obsNorm.mean, obsStd: r.obsNorm.std, actMean: r.actNorm.mean, actStd: r.actNorm.std, metadata: {} });
    const test = eps[5]!;
    const mlp = createMlp(tf, r.model.sizes, 0, false);
    restore(tf, mlp, r.model);
    const x = tf.tensor2d(Float32Array.from(test.observations, (v, k) => (v - r.obsNorm.mean[k % 3]!) / r.obsNorm.std[k % 3]!), [test.length, 3]);
    const tfjs = Float32Array.from(forward(tf, mlp, x).dataSync(), (v, k) => v * r.actNorm.std[k % 2]! + r.actNorm.mean[k % 2]!);
    const session = await ort.InferenceSession.create(path);
    const out = await session.run({ observation: new ort.Tensor('float32', test.observations, [test.length, 3]) });
    const onnx = out.action!.data as Float32Array;
    await session.release();
    tfjs.forEach((v, k) => expect(onnx[k]).toBeCloseTo(v, 4));
  });
});

describe('lean training step', () => {
  it.each([false, true])('computes the same gradients as tfjs autodiff (Gaussian NLL: %s)', async (nll) => {
    const { createLeanTrainer } = await import('../../src/learn/lean-step.ts');
    const { gaussianNll, mseLoss } = await import('../../src/learn/losses.ts');
    const mlp = createMlp(tf, [5, 7, 6, 3], 9, nll);
    const x = tf.randomNormal([11, 5], 0, 1, 'float32', 1) as import('@tensorflow/tfjs').Tensor2D;
    const y = tf.randomNormal([11, 3], 0, 1, 'float32', 2) as import('@tensorflow/tfjs').Tensor2D;
    const w = tf.randomUniform([11], 0.1, 2, 'float32', 3) as import('@tensorflow/tfjs').Tensor1D;
    const lean = createLeanTrainer(tf, mlp, { learningRate: 1e-3, nll });
    const mine = lean.gradients(x, y, w);
    const { value, grads } = tf.variableGrads(() =>
      nll ? gaussianNll(tf, forward(tf, mlp, x), mlp.logStd as import('@tensorflow/tfjs').Tensor1D, y, w) : mseLoss(tf, forward(tf, mlp, x), y, w),
    );
    expect(mine.loss).toBeCloseTo(value.dataSync()[0]!, 4);
    mlp.weights.forEach((v, i) => Array.from(grads[v.name]!.dataSync()).forEach((g, k) => expect(mine.dW[i]![k]).toBeCloseTo(g, 4)));
    mlp.biases.forEach((v, i) => Array.from(grads[v.name]!.dataSync()).forEach((g, k) => expect(mine.db[i]![k]).toBeCloseTo(g, 4)));
    if (nll) Array.from(grads[mlp.logStd!.name]!.dataSync()).forEach((g, k) => expect(mine.dLogStd![k]).toBeCloseTo(g, 4));
    lean.dispose();
  });

  it('trains as well as optimizer.minimize on the same problem', async () => {
    const eps = synthetic(8, 40, () => true);
    const cfg = { algo: 'bc' as const, hidden: [32], epochs: 30, batchSize: 64, learningRate: 3e-3, seed: 3 };
    const lean = await trainPolicy(tf, { train: eps.slice(0, 6), val: eps.slice(6) }, { ...cfg, optimizer: 'lean' });
    const auto = await trainPolicy(tf, { train: eps.slice(0, 6), val: eps.slice(6) }, { ...cfg, optimizer: 'tfjs' });
    expect(lean.bestValLoss).toBeLessThan(0.05);
    expect(lean.bestValLoss).toBeLessThan(auto.bestValLoss * 2 + 0.01);
  });
});

describe('trainer input errors', () => {
  it('RWR on episodes without a return names the file and episode (MissingReturnError)', async () => {
    const { MissingReturnError } = await import('../../src/learn/trainer.ts');
    const eps = synthetic(3, 10, () => true).map((e) => ({ ...e, return: undefined }));
    const err = await trainPolicy(tf, { train: eps.slice(0, 2), val: eps.slice(2) }, { algo: 'rwr', epochs: 1, hidden: [4] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingReturnError);
    expect((err as Error).message).toMatch(/synthetic: episode 0 has no return .*which rwr needs/);
  });
});
