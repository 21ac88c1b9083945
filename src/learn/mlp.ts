/**
 * MLP policies on TensorFlow.js: hidden layers with ReLU (fused matMul + bias + relu), a linear
 * output. The Gaussian policy adds a learned, state-independent log-std per action dimension.
 * Initialisation is seeded (He normal), so runs are reproducible.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './backend.ts';
import type { DenseLayer } from './onnx-export.ts';

export interface Mlp {
  readonly sizes: readonly number[];
  readonly weights: TF.Variable[];
  readonly biases: TF.Variable[];
  readonly logStd: TF.Variable | undefined;
}

export interface MlpSnapshot {
  readonly sizes: readonly number[];
  readonly weights: Float32Array[];
  readonly biases: Float32Array[];
  readonly logStd: Float32Array | undefined;
}

export function createMlp(tf: Tf, sizes: readonly number[], seed: number, gaussian: boolean): Mlp {
  const weights: TF.Variable[] = [];
  const biases: TF.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const fanIn = sizes[i]!;
    const scale = i + 2 < sizes.length ? Math.sqrt(2 / fanIn) : 0.1 * Math.sqrt(1 / fanIn);
    weights.push(tf.variable(tf.randomNormal([fanIn, sizes[i + 1]!], 0, scale, 'float32', seed * 1000 + i)));
    biases.push(tf.variable(tf.zeros([sizes[i + 1]!])));
  }
  const logStd = gaussian ? tf.variable(tf.fill([sizes[sizes.length - 1]!], -0.5)) : undefined;
  return { sizes, weights, biases, logStd };
}

/** Mean action (normalised units) for a batch of normalised observations. */
export function forward(tf: Tf, mlp: Mlp, x: TF.Tensor2D): TF.Tensor2D {
  let h = x;
  const last = mlp.weights.length - 1;
  for (let i = 0; i <= last; i++) {
    h = tf.fused.matMul({ a: h, b: mlp.weights[i] as TF.Tensor2D, bias: mlp.biases[i], activation: i < last ? 'relu' : 'linear' }) as TF.Tensor2D;
  }
  return h;
}

export function snapshot(mlp: Mlp): MlpSnapshot {
  return {
    sizes: mlp.sizes,
    weights: mlp.weights.map((w) => Float32Array.from(w.dataSync())),
    biases: mlp.biases.map((b) => Float32Array.from(b.dataSync())),
    logStd: mlp.logStd ? Float32Array.from(mlp.logStd.dataSync()) : undefined,
  };
}

export function restore(tf: Tf, mlp: Mlp, s: MlpSnapshot): void {
  mlp.weights.forEach((w, i) => w.assign(tf.tensor(s.weights[i]!, w.shape)));
  mlp.biases.forEach((b, i) => b.assign(tf.tensor(s.biases[i]!, b.shape)));
  if (mlp.logStd && s.logStd) mlp.logStd.assign(tf.tensor(s.logStd, mlp.logStd.shape));
}

export function dispose(mlp: Mlp): void {
  for (const v of [...mlp.weights, ...mlp.biases]) v.dispose();
  mlp.logStd?.dispose();
}

export function denseLayers(s: MlpSnapshot): DenseLayer[] {
  return s.weights.map((w, i) => ({ weight: w, bias: s.biases[i]!, inputs: s.sizes[i]!, outputs: s.sizes[i + 1]! }));
}
