/**
 * Sample weights for weighted regression.
 *  - RWR: each sample carries its trajectory's return R(τ), transformed because returns may be
 *    negative: `linear` shifts and scales R to [0, 1] (all equal → 1); `exp` is exp((R − max R)/β).
 *  - AWR (Peng et al. 2019): TD(λ) returns from a fitted value function, advantages A = G^λ − V(s),
 *    normalised, weights exp(A/β) clipped at `maxWeight` (20 in the authors' code).
 */
export type ReturnTransform = { readonly kind: 'linear' } | { readonly kind: 'exp'; readonly beta: number };

/**
 * A baseline per episode from its initial observation: the mean return of the `k` episodes whose
 * initial observations (already normalised) are nearest, the episode itself left out. Returns minus
 * it compare an episode with others that started alike (a far target costs more return than a near
 * one whoever demonstrates), so weighting prefers the better demonstration of each situation, not
 * the easiest situations. Subtracting a function of the start state leaves RWR's per-state weighting
 * unchanged; it only stops easy starts from crowding out hard ones.
 */
export function nearestStartBaseline(starts: readonly Float32Array[], returns: readonly number[], k = 10): number[] {
  const n = returns.length;
  const kk = Math.min(k, n - 1);
  if (kk < 1) return returns.map(() => 0);
  return starts.map((a, i) => {
    const d: { d: number; j: number }[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const b = starts[j]!;
      let s = 0;
      for (let c = 0; c < a.length; c++) s += (a[c]! - b[c]!) ** 2;
      d.push({ d: s, j });
    }
    d.sort((x, y) => x.d - y.d || x.j - y.j);
    let sum = 0;
    for (let m = 0; m < kk; m++) sum += returns[d[m]!.j]!;
    return sum / kk;
  });
}

/**
 * Returns relative to a baseline, in units of a robust spread (1.4826 × the median absolute
 * deviation, the standard deviation for normal data), so a temperature β means the same at any
 * control rate and episode length, and a few very bad episodes do not flatten the differences among
 * the good ones.
 */
export function standardisedAdvantages(returns: readonly number[], baseline: readonly number[]): number[] {
  const a = returns.map((r, i) => r - baseline[i]!);
  const median = (v: number[]) => {
    const s = [...v].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const med = median(a);
  const spread = 1.4826 * median(a.map((x) => Math.abs(x - med))) || 1;
  return a.map((x) => (x - med) / spread);
}

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
