/**
 * `armbridge dataset split`: one recording → a training file and a validation file, by episode,
 * seeded. The assignment follows the rule `splitByEpisode` applies when training (same seeded
 * order over the kept episodes in index order), so `split --val 0.2 --seed 7` and
 * `train --val 0.2 --seed 7` hold out the same episodes of a file. Discarded episodes go to neither
 * file. Both outputs are written beside their targets and renamed only when both are complete.
 */
import { rename, unlink } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.ts';
import { episodesOf } from '../record/episodes.ts';
import { assignEpisodes, channelsOf, readForEdit } from '../record/edit.ts';
import { RecordingWriteError } from '../record/errors.ts';
import { checkOutput, writeRecordingTemp } from '../record/rewrite.ts';
import { mulberry32 } from './random.ts';

export interface SplitRecordingOptions {
  readonly valFraction: number;
  readonly seed: number;
  readonly trainOut?: string;
  readonly valOut?: string;
  readonly overwrite?: boolean;
}

export interface SplitRecordingResult {
  readonly trainOut: string;
  readonly valOut: string;
  readonly train: number[];
  readonly val: number[];
  readonly discarded: number[];
}

/** The seeded episode split (same rule as splitByEpisode): indices of `items` for validation and training. */
export function splitOrder(count: number, valFraction: number, seed: number): { val: number[]; train: number[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new InvalidArgumentError(`validation fraction must be in [0, 1), got ${valFraction}`);
  const rnd = mulberry32(seed);
  const order = Array.from({ length: count }, (_, i) => ({ k: rnd(), i })).sort((a, b) => a.k - b.k || a.i - b.i);
  const nVal = count < 2 ? 0 : Math.max(valFraction > 0 ? 1 : 0, Math.round(valFraction * count));
  return { val: order.slice(0, nVal).map((x) => x.i), train: order.slice(nVal).map((x) => x.i) };
}

export function defaultSplitPaths(input: string): { train: string; val: string } {
  const base = input.replace(/\.mcap$/, '');
  return { train: `${base}.train.mcap`, val: `${base}.val.mcap` };
}

export async function splitRecording(input: string, options: SplitRecordingOptions): Promise<SplitRecordingResult> {
  const rec = await readForEdit(input);
  const paths = defaultSplitPaths(input);
  const trainOut = options.trainOut ?? paths.train;
  const valOut = options.valOut ?? paths.val;
  for (const p of [trainOut, valOut]) await checkOutput(p, { overwrite: options.overwrite, inputs: [input] });
  const episodes = episodesOf(rec);
  const kept = episodes.filter((e) => !e.discarded).map((e) => e.index);
  const { val, train } = splitOrder(kept.length, options.valFraction, options.seed);
  const valEps = val.map((i) => kept[i]!).sort((a, b) => a - b);
  const trainEps = train.map((i) => kept[i]!).sort((a, b) => a - b);
  const owner = assignEpisodes(rec, episodes);
  const base = { profile: rec.profile, library: rec.library, channels: channelsOf(rec) };
  const part = (eps: number[], role: string) => {
    const set = new Set(eps);
    const metadata = new Map<string, ReadonlyMap<string, string>>(rec.metadata);
    metadata.set(
      'armbridge.edit.split',
      new Map([
        ['from', input],
        ['part', role],
        ['episodes', eps.join(',')],
        ['val_fraction', String(options.valFraction)],
        ['seed', String(options.seed)],
      ]),
    );
    return { ...base, metadata, messages: rec.messages.filter((_, i) => owner[i] !== undefined && set.has(owner[i]!)) };
  };
  const temps: string[] = [];
  try {
    temps.push(await writeRecordingTemp(trainOut, part(trainEps, 'train')));
    temps.push(await writeRecordingTemp(valOut, part(valEps, 'val')));
    await rename(temps[0]!, trainOut);
    try {
      await rename(temps[1]!, valOut);
    } catch (e) {
      await unlink(trainOut).catch(() => undefined);
      throw e;
    }
  } catch (e) {
    for (const t of temps) await unlink(t).catch(() => undefined);
    if (e instanceof RecordingWriteError) throw e;
    throw new RecordingWriteError(valOut, (e as Error).message, { cause: e });
  }
  return { trainOut, valOut, train: trainEps, val: valEps, discarded: episodes.filter((e) => e.discarded).map((e) => e.index) };
}
