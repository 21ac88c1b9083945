/**
 * Sample weights for weighted regression.
 *  - RWR: each sample carries its trajectory's return R(τ), transformed because returns may be
 *    negative: `linear` shifts and scales R to [0, 1] (all equal → 1); `exp` is exp((R − max R)/β).
 *  - AWR (Peng et al. 2019): TD(λ) returns from a fitted value function, advantages A = G^λ − V(s),
 *    normalised, weights exp(A/β) clipped at `maxWeight` (20 in the authors' code).
 */
export type ReturnTransform = { readonly kind: 'linear' } | { readonly kind: 'exp'; readonly beta: number };

export function transformReturns(returns: readonly number[], t: ReturnTransform): number[] {
  if (returns.length === 0) return [];
  const max = Math.max(...returns);
  const min = Math.min(...returns);
  if (t.kind === 'linear') return returns.map((r) => (max === min ? 1 : (r - min) / (max - min)));
  if (!(t.beta > 0)) throw new RangeError(`the exp transform needs a temperature β > 0, got ${t.beta}`);
  return returns.map((r) => Math.exp((r - max) / t.beta));
}

/**
 * TD(λ) returns of one episode: G_t = r_t + γ[(1−λ) V(s_{t+1}) + λ G_{t+1}], with G after the last
 * step = V(s_T) for a cut episode (bootstrapped) or 0 for one that ended.
 */
export function tdLambdaReturns(rewards: ArrayLike<number>, values: ArrayLike<number>, gamma: number, lambda: number, bootstrap = 0): Float32Array {
  const T = rewards.length;
  const out = new Float32Array(T);
  let next = bootstrap;
  let nextV = bootstrap;
  for (let t = T - 1; t >= 0; t--) {
    const g = rewards[t]! + gamma * ((1 - lambda) * nextV + lambda * next);
    out[t] = g;
    next = g;
    nextV = values[t]!;
  }
  return out;
}

/** AWR weights from advantages: normalised, exp(A/β), clipped at maxWeight. */
export function awrWeights(advantages: ArrayLike<number>, beta: number, maxWeight = 20): Float32Array {
  const n = advantages.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += advantages[i]!;
  mean /= Math.max(1, n);
  let v = 0;
  for (let i = 0; i < n; i++) v += (advantages[i]! - mean) ** 2;
  const std = Math.sqrt(v / Math.max(1, n)) + 1e-8;
  return Float32Array.from({ length: n }, (_, i) => Math.min(maxWeight, Math.exp((advantages[i]! - mean) / std / beta)));
}
