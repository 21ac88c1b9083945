import { describe, expect, it } from 'vitest';
import { loadTf } from '../../src/learn/backend.ts';
import { gaussianNll, gaussianNllReference, mseLoss, mseReference } from '../../src/learn/losses.ts';
import { awrWeights, tdLambdaReturns, transformReturns } from '../../src/learn/weights.ts';

const { tf, backend } = await loadTf('cpu');

describe('losses (hand-computed values)', () => {
  const pred = [[1, 2], [0, 0]];
  const target = [[2, 0], [1, 1]];

  it('MSE: (1/m) Σ_i w_i ‖a_i − μ_i‖²', () => {
    // sample 0: (1−2)² + (2−0)² = 5; sample 1: 1 + 1 = 2
    expect(mseReference(pred, target)).toBeCloseTo((5 + 2) / 2, 12);
    expect(mseReference(pred, target, [2, 0.5])).toBeCloseTo((2 * 5 + 0.5 * 2) / 2, 12);
    const v = mseLoss(tf, tf.tensor2d(pred), tf.tensor2d(target), tf.tensor1d([2, 0.5])).dataSync()[0];
    expect(v).toBeCloseTo(5.5, 5);
    expect(backend).toBe('cpu');
  });

  it('Gaussian NLL: ½ Σ_d [z² + 2 log σ + log 2π], with log σ clamped', () => {
    const logStd = [0, Math.log(2)];
    // sample 0: z = (2−1)/1 = 1, (0−2)/2 = −1 → ½[(1 + 0 + L) + (1 + 2 ln 2 + L)]
    const L = Math.log(2 * Math.PI);
    const s0 = 0.5 * (1 + L + 1 + 2 * Math.log(2) + L);
    const s1 = 0.5 * (1 + L + 0.25 + 2 * Math.log(2) + L);
    expect(gaussianNllReference(pred, logStd, target)).toBeCloseTo((s0 + s1) / 2, 12);
    const v = gaussianNll(tf, tf.tensor2d(pred), tf.tensor1d(logStd), tf.tensor2d(target)).dataSync()[0];
    expect(v).toBeCloseTo((s0 + s1) / 2, 5);
    // clamping: log σ = −50 behaves as −5
    expect(gaussianNllReference(pred, [-50, -50], target)).toBeCloseTo(gaussianNllReference(pred, [-5, -5], target), 9);
  });
});

describe('weights follow their transforms', () => {
  it('linear maps returns to [0, 1]; equal returns give 1', () => {
    expect(transformReturns([-10, -5, 0], { kind: 'linear' })).toEqual([0, 0.5, 1]);
    expect(transformReturns([3, 3], { kind: 'linear' })).toEqual([1, 1]);
  });

  it('exp is exp((R − max R)/β): 1 for the best, smaller with lower return and lower β', () => {
    const w = transformReturns([-10, -5, 0], { kind: 'exp', beta: 5 });
    expect(w[2]).toBe(1);
    expect(w[1]).toBeCloseTo(Math.exp(-1), 12);
    expect(w[0]).toBeCloseTo(Math.exp(-2), 12);
    expect(transformReturns([-10, 0], { kind: 'exp', beta: 1 })[0]!).toBeLessThan(w[0]!);
    expect(() => transformReturns([1], { kind: 'exp', beta: 0 })).toThrow(/β > 0/);
  });

  it('TD(λ) returns: λ = 1 is the discounted return, λ = 0 is one-step bootstrapping', () => {
    const r = [1, 2, 3];
    const v = [10, 20, 30];
    expect(Array.from(tdLambdaReturns(r, v, 0.5, 1))).toEqual([1 + 0.5 * (2 + 0.5 * 3), 2 + 0.5 * 3, 3]);
    expect(Array.from(tdLambdaReturns(r, v, 0.5, 0))).toEqual([1 + 0.5 * 20, 2 + 0.5 * 30, 3]);
  });

  it('AWR: normalised advantages, exp(A/β), clipped at 20', () => {
    const w = awrWeights([0, 1, 2, 100], 0.05);
    expect(Math.max(...w)).toBe(20);
    expect(w[0]!).toBeLessThan(w[1]!);
    const flat = awrWeights([1, 1, 1], 1);
    flat.forEach((x) => expect(x).toBeCloseTo(1, 6));
  });
});
