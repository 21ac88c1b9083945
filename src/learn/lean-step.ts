/**
 * A lean training step for the MLP policies: forward with fused matMul + bias + ReLU, the backward
 * pass written out with explicit transposes and plain matMul (tfjs-wasm runs plain matMul about ten
 * times faster than the transposeA/B variants autodiff emits), and Adam by hand. Same mathematics
 * as `optimizer.minimize(loss)` on the losses in losses.ts (the tests check the gradients agree).
 *
 * MSE:  L = (1/m) Σ_i w_i ‖y_i − μ_i‖²          ∂L/∂μ = 2 w (μ − y) / m
 * NLL:  L = (1/m) Σ_i w_i ½ Σ_d [z² + 2 s + log 2π],  z = (y − μ) e^{−s}, s = clamp(log σ)
 *       ∂L/∂μ = w (μ − y) e^{−2s} / m,  ∂L/∂s = (1/m) Σ_i w_i (1 − z²)  (0 where s is clamped)
 */
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './backend.ts';
import { LOG_STD_MAX, LOG_STD_MIN } from './losses.ts';
import type { Mlp } from './mlp.ts';

export interface LeanTrainer {
  /** One Adam step on a batch; returns the batch loss. */
  step(x: TF.Tensor2D, y: TF.Tensor2D, w: TF.Tensor1D): number;
  /** Gradients for the batch without updating (for tests): weights, biases, logStd. */
  gradients(x: TF.Tensor2D, y: TF.Tensor2D, w: TF.Tensor1D): { dW: Float32Array[]; db: Float32Array[]; dLogStd?: Float32Array; loss: number };
  dispose(): void;
}

export function createLeanTrainer(tf: Tf, mlp: Mlp, options: { learningRate: number; nll: boolean; beta1?: number; beta2?: number; epsilon?: number }): LeanTrainer {
  const b1 = options.beta1 ?? 0.9;
  const b2 = options.beta2 ?? 0.999;
  const eps = options.epsilon ?? 1e-8;
  const lr = options.learningRate;
  const params: TF.Variable[] = [...mlp.weights, ...mlp.biases, ...(options.nll && mlp.logStd ? [mlp.logStd] : [])];
  const m1 = params.map((p) => tf.variable(tf.zerosLike(p), false));
  const m2 = params.map((p) => tf.variable(tf.zerosLike(p), false));
  let t = 0;
  const L = mlp.weights.length;

  /** Forward and backward; returns gradients in `params` order and the loss tensor. */
  const backprop = (x: TF.Tensor2D, y: TF.Tensor2D, w: TF.Tensor1D): { grads: TF.Tensor[]; loss: TF.Scalar } => {
    const m = x.shape[0];
    const hs: TF.Tensor2D[] = [x];
    const zs: TF.Tensor2D[] = [];
    let h = x;
    for (let i = 0; i < L; i++) {
      const z = tf.fused.matMul({ a: h, b: mlp.weights[i] as TF.Tensor2D, bias: mlp.biases[i] }) as TF.Tensor2D;
      zs.push(z);
      h = i < L - 1 ? (tf.relu(z) as TF.Tensor2D) : z;
      if (i < L - 1) hs.push(h);
    }
    const mu = h;
    const diff = tf.sub(mu, y);
    const wcol = tf.reshape(w, [m, 1]);
    let g: TF.Tensor2D;
    let loss: TF.Scalar;
    let dLogStd: TF.Tensor | undefined;
    if (options.nll && mlp.logStd) {
      const s = tf.clipByValue(mlp.logStd, LOG_STD_MIN, LOG_STD_MAX);
      const inv2 = tf.exp(tf.mul(s, -2));
      const z2 = tf.mul(tf.square(diff), inv2);
      const perSample = tf.mul(tf.sum(tf.add(z2, tf.add(tf.mul(s, 2), Math.log(2 * Math.PI))), 1), 0.5);
      loss = tf.mean(tf.mul(perSample, w)) as TF.Scalar;
      g = tf.div(tf.mul(tf.mul(diff, inv2), wcol), m) as TF.Tensor2D;
      const inRange = tf.logicalAnd(tf.greater(mlp.logStd, LOG_STD_MIN), tf.less(mlp.logStd, LOG_STD_MAX));
      dLogStd = tf.mul(tf.div(tf.sum(tf.mul(tf.sub(1, z2), wcol), 0), m), tf.cast(inRange, 'float32'));
    } else {
      loss = tf.mean(tf.mul(tf.sum(tf.square(diff), 1), w)) as TF.Scalar;
      g = tf.div(tf.mul(tf.mul(diff, 2), wcol), m) as TF.Tensor2D;
    }
    const dW: TF.Tensor[] = new Array(L);
    const db: TF.Tensor[] = new Array(L);
    for (let i = L - 1; i >= 0; i--) {
      dW[i] = tf.matMul(tf.transpose(hs[i]!), g);
      db[i] = tf.sum(g, 0);
      if (i > 0) {
        const back = tf.matMul(g, tf.transpose(mlp.weights[i] as TF.Tensor2D));
        g = tf.mul(back, tf.step(zs[i - 1]!)) as TF.Tensor2D;
      }
    }
    return { grads: [...dW, ...db, ...(dLogStd ? [dLogStd] : [])], loss };
  };

  return {
    step(x, y, w) {
      t++;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const loss = tf.tidy(() => {
        const { grads, loss } = backprop(x, y, w);
        params.forEach((p, k) => {
          const g = grads[k]!;
          const a = tf.add(tf.mul(m1[k]!, b1), tf.mul(g, 1 - b1));
          const v = tf.add(tf.mul(m2[k]!, b2), tf.mul(tf.square(g), 1 - b2));
          m1[k]!.assign(a);
          m2[k]!.assign(v);
          p.assign(tf.sub(p, tf.mul(tf.div(tf.div(a, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps)), lr)));
        });
        return loss;
      });
      const value = loss.dataSync()[0]!;
      loss.dispose();
      return value;
    },
    gradients(x, y, w) {
      return tf.tidy(() => {
        const { grads, loss } = backprop(x, y, w);
        const arr = grads.map((g) => Float32Array.from(g.dataSync()));
        return { dW: arr.slice(0, L), db: arr.slice(L, 2 * L), dLogStd: arr[2 * L], loss: loss.dataSync()[0]! };
      });
    },
    dispose() {
      for (const v of [...m1, ...m2]) v.dispose();
    },
  };
}
