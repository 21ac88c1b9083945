/**
 * Feature statistics as LeRobot stores them (meta/stats.json and the episodes table's
 * `stats/<feature>/<stat>` columns): per dimension min, max, mean, std (population), count, and
 * the 1/10/50/90/99 % quantiles (linear interpolation between order statistics).
 */
export interface FeatureStats {
  readonly min: number[];
  readonly max: number[];
  readonly mean: number[];
  readonly std: number[];
  readonly count: number[];
  readonly q01: number[];
  readonly q10: number[];
  readonly q50: number[];
  readonly q90: number[];
  readonly q99: number[];
}

export const STAT_NAMES = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'] as const;

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Statistics of `rows` (row-major, `size` values per row). */
export function featureStats(values: ArrayLike<number>, size: number): FeatureStats {
  const n = Math.floor(values.length / size);
  const out: { [K in keyof FeatureStats]: number[] } = { min: [], max: [], mean: [], std: [], count: [n], q01: [], q10: [], q50: [], q90: [], q99: [] };
  const col = new Float64Array(n);
  for (let c = 0; c < size; c++) {
    let sum = 0;
    for (let r = 0; r < n; r++) sum += col[r] = values[r * size + c]!;
    const mean = n ? sum / n : 0;
    let sq = 0;
    for (let r = 0; r < n; r++) sq += (col[r]! - mean) ** 2;
    col.sort();
    out.min.push(n ? col[0]! : 0);
    out.max.push(n ? col[n - 1]! : 0);
    out.mean.push(mean);
    out.std.push(n ? Math.sqrt(sq / n) : 0);
    out.q01.push(quantile(col, 0.01));
    out.q10.push(quantile(col, 0.1));
    out.q50.push(quantile(col, 0.5));
    out.q90.push(quantile(col, 0.9));
    out.q99.push(quantile(col, 0.99));
  }
  return out;
}
