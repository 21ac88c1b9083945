/** Splits episodes into training and validation sets by episode (never by sample), seeded. */
import type { Episode } from './load.ts';

function mulberry32(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function splitByEpisode(episodes: readonly Episode[], valFraction: number, seed: number): { train: Episode[]; val: Episode[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`validation fraction must be in [0, 1), got ${valFraction}`);
  const rnd = mulberry32(seed);
  const order = episodes.map((e, i) => ({ e, k: rnd(), i })).sort((a, b) => a.k - b.k || a.i - b.i);
  const nVal = episodes.length < 2 ? 0 : Math.max(valFraction > 0 ? 1 : 0, Math.round(valFraction * episodes.length));
  return { val: order.slice(0, nVal).map((x) => x.e), train: order.slice(nVal).map((x) => x.e) };
}
