/** Per-dimension mean and standard deviation, for normalising observations and actions. */
export interface Normalization {
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

/** Statistics over row-major blocks of `size` columns; std is floored at `minStd` so constant columns stay finite. */
export function computeNormalization(blocks: readonly Float32Array[], size: number, minStd = 1e-6): Normalization {
  const mean = new Float64Array(size);
  const sq = new Float64Array(size);
  let n = 0;
  for (const b of blocks) {
    for (let r = 0; r < b.length / size; r++) {
      for (let c = 0; c < size; c++) {
        const v = b[r * size + c]!;
        mean[c]! += v;
        sq[c]! += v * v;
      }
      n++;
    }
  }
  const m = new Float32Array(size);
  const s = new Float32Array(size);
  for (let c = 0; c < size; c++) {
    const mu = n ? mean[c]! / n : 0;
    m[c] = mu;
    s[c] = Math.max(minStd, Math.sqrt(Math.max(0, (n ? sq[c]! / n : 0) - mu * mu)));
  }
  return { mean: m, std: s };
}
