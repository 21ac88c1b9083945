/** Splits episodes into training and validation sets by episode (never by sample), seeded. */
import type { Episode } from './load.ts';
import { mulberry32 } from './random.ts';

export function splitByEpisode(episodes: readonly Episode[], valFraction: number, seed: number): { train: Episode[]; val: Episode[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`validation fraction must be in [0, 1), got ${valFraction}`);
  const rnd = mulberry32(seed);
  const order = episodes.map((e, i) => ({ e, k: rnd(), i })).sort((a, b) => a.k - b.k || a.i - b.i);
  const nVal = episodes.length < 2 ? 0 : Math.max(valFraction > 0 ? 1 : 0, Math.round(valFraction * episodes.length));
  return { val: order.slice(0, nVal).map((x) => x.e), train: order.slice(nVal).map((x) => x.e) };
}
