/**
 * The regression losses, exactly as the methods define them, per sample i with weight w_i
 * (w = 1 for plain BC; the trajectory's transformed return for RWR; exp(A/β) for AWR), averaged
 * over the m samples of a batch:
 *   MSE:          (1/m) Σ_i w_i ‖a_i − μ(s_i)‖²
 *   Gaussian NLL: (1/m) Σ_i w_i · −log N(a_i; μ(s_i), diag σ²),
 *                 −log N = ½ Σ_d [((a−μ)/σ)² + 2 log σ + log 2π], log σ clamped to [LOG_STD_MIN, LOG_STD_MAX].
 * tfjs versions for training, plain-array versions as the reference the tests check by hand.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './backend.ts';

export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
const LOG_2PI = Math.log(2 * Math.PI);

export function mseLoss(tf: Tf, pred: TF.Tensor2D, target: TF.Tensor2D, weights?: TF.Tensor1D): TF.Scalar {
  return tf.tidy(() => {
    const perSample = tf.sum(tf.squaredDifference(pred, target), 1);
    return tf.mean(weights ? tf.mul(perSample, weights) : perSample) as TF.Scalar;
  });
}

export function gaussianNll(tf: Tf, mean: TF.Tensor2D, logStd: TF.Tensor1D, target: TF.Tensor2D, weights?: TF.Tensor1D): TF.Scalar {
  return tf.tidy(() => {
    const ls = tf.clipByValue(logStd, LOG_STD_MIN, LOG_STD_MAX);
    const z = tf.div(tf.sub(target, mean), tf.exp(ls));
    const perDim = tf.add(tf.square(z), tf.add(tf.mul(ls, 2), LOG_2PI));
    const perSample = tf.mul(tf.sum(perDim, 1), 0.5);
    return tf.mean(weights ? tf.mul(perSample, weights) : perSample) as TF.Scalar;
  });
}

/** Reference MSE on plain arrays (rows of equal length). */
export function mseReference(pred: number[][], target: number[][], weights?: number[]): number {
  let s = 0;
  pred.forEach((p, i) => {
    const e = p.reduce((a, v, d) => a + (v - target[i]![d]!) ** 2, 0);
    s += (weights?.[i] ?? 1) * e;
  });
  return s / pred.length;
}

/** Reference Gaussian negative log-likelihood on plain arrays. */
export function gaussianNllReference(mean: number[][], logStd: number[], target: number[][], weights?: number[]): number {
  const ls = logStd.map((v) => Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, v)));
  let s = 0;
  mean.forEach((mu, i) => {
    let nll = 0;
    mu.forEach((m, d) => {
      const z = (target[i]![d]! - m) / Math.exp(ls[d]!);
      nll += 0.5 * (z * z + 2 * ls[d]! + LOG_2PI);
    });
    s += (weights?.[i] ?? 1) * nll;
  });
  return s / mean.length;
}
