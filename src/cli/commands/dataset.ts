import { z } from 'zod';
import { dropEpisodes, listEpisodes, mergeRecordings, relabelEpisode } from '../../record/edit.ts';
import { splitRecording } from '../../dataset/split-recording.ts';
import { table } from '../../workflows/table.ts';
import { UsageError, type Command } from '../command.ts';

const ACTIONS = ['list', 'merge', 'drop', 'split', 'relabel'] as const;

const options = z.object({
  args: z.string().describe('The action (list, merge, drop, split, relabel) and its recordings, e.g. `list A.mcap` or `merge A.mcap B.mcap`'),
  out: z.string().optional().describe('Output recording (merge, drop, relabel; required: inputs are never modified in place)'),
  episodes: z.string().optional().describe('drop: episode indices, comma-separated, e.g. 3,7'),
  episode: z.coerce.number().int().nonnegative().optional().describe('relabel: the episode index'),
  outcome: z.enum(['success', 'failure', 'score']).optional().describe('relabel: the new outcome'),
  score: z.coerce.number().optional().describe('relabel: the score, with --outcome score'),
  val: z.coerce.number().min(0).max(0.9).default(0.2).describe('split: fraction of episodes for validation'),
  seed: z.coerce.number().int().default(0).describe('split: seed (the same rule as train --seed)'),
  trainOut: z.string().optional().describe('split: training file (default <file>.train.mcap)'),
  valOut: z.string().optional().describe('split: validation file (default <file>.val.mcap)'),
  force: z.boolean().default(false).describe('merge: merge recordings of different arms, joints or calibrations'),
  overwrite: z.boolean().default(false).describe('Replace existing outputs (written beside them, then renamed)'),
  json: z.boolean().default(false).describe('list: print JSON'),
});

export const datasetCommand: Command<typeof options> = {
  name: 'dataset',
  summary: 'Edit recordings by episode: list, merge, drop, split, relabel (always into new files)',
  options,
  positional: 'args',
  variadic: true,
  examples: [
    'armbridge dataset list recordings/pick.mcap',
    'armbridge dataset merge a.mcap b.mcap --out all.mcap',
    'armbridge dataset drop all.mcap --episodes 3,7 --out clean.mcap',
    'armbridge dataset split clean.mcap --val 0.2 --seed 1',
    'armbridge dataset relabel clean.mcap --episode 4 --outcome failure --out relabelled.mcap',
  ],
  async run(o, { stdout }) {
    const [action, ...files] = o.args.split(',').filter(Boolean);
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) throw new UsageError(`the first argument must be one of ${ACTIONS.join(', ')}, got "${action ?? ''}"; see \`armbridge dataset --help\``);
    const one = () => {
      if (files.length !== 1) throw new UsageError(`dataset ${action} takes one recording, got ${files.length}`);
      return files[0]!;
    };
    const needOut = () => {
      if (!o.out) throw new UsageError(`dataset ${action} needs --out (inputs are never modified in place)`);
      return o.out;
    };
    const fmt = (x: number | undefined) => (x === undefined ? '' : x.toFixed(3));
    switch (action) {
      case 'list': {
        const r = await listEpisodes(one());
        if (o.json) {
          stdout.write(JSON.stringify(r, null, 2) + '\n');
          return 0;
        }
        stdout.write(`${r.path}: arm ${r.arm ?? '?'}, ${r.rateHz ?? '?'} Hz, ${r.episodes.length} episodes${r.complete ? '' : ' (NOT CLOSED: run armbridge recover)'}\n`);
        stdout.write(table(['episode', 'duration s', 'samples', 'outcome', 'return', 'operator', 'note'], r.episodes.map((e) => [e.index, e.durationS.toFixed(2), e.samples, e.outcome, fmt(e.return), e.operator ?? '', e.note])));
        return 0;
      }
      case 'merge': {
        if (files.length < 2) throw new UsageError('dataset merge takes two or more recordings');
        const r = await mergeRecordings(files, needOut(), { force: o.force, overwrite: o.overwrite });
        stdout.write(`merged ${files.length} recordings: ${r.episodesOut} episodes, ${r.messagesOut} messages → ${r.output}\n`);
        for (const x of r.renumbered) if (x.map.some(([a, b]) => a !== b)) stdout.write(`  ${x.file}: episodes renumbered ${x.map.map(([a, b]) => `${a}→${b}`).join(' ')}\n`);
        return 0;
      }
      case 'drop': {
        const eps = (o.episodes ?? '').split(',').filter(Boolean).map(Number);
        if (!eps.length || eps.some((e) => !Number.isInteger(e) || e < 0)) throw new UsageError('dataset drop needs --episodes, e.g. --episodes 3,7');
        const r = await dropEpisodes(one(), needOut(), eps, { overwrite: o.overwrite });
        stdout.write(`dropped episodes ${eps.join(', ')}: ${r.episodesOut} of ${r.episodesIn} episodes kept, ${r.messagesOut} of ${r.messagesIn} messages → ${r.output}\n`);
        return 0;
      }
      case 'split': {
        const r = await splitRecording(one(), { valFraction: o.val, seed: o.seed, trainOut: o.trainOut, valOut: o.valOut, overwrite: o.overwrite });
        stdout.write(`train: episodes ${r.train.join(', ') || 'none'} → ${r.trainOut}\nval:   episodes ${r.val.join(', ') || 'none'} → ${r.valOut}\n`);
        if (r.discarded.length) stdout.write(`discarded episodes left out: ${r.discarded.join(', ')}\n`);
        return 0;
      }
      case 'relabel': {
        if (o.episode === undefined || !o.outcome) throw new UsageError('dataset relabel needs --episode N and --outcome success|failure|score');
        if (o.outcome === 'score' && o.score === undefined) throw new UsageError('--outcome score needs --score VALUE');
        const r = await relabelEpisode(one(), needOut(), o.episode, o.outcome, o.score, { overwrite: o.overwrite });
        stdout.write(`episode ${o.episode} labelled ${o.outcome}${o.outcome === 'score' ? ` ${o.score}` : ''} → ${r.output}\n`);
        return 0;
      }
    }
    return 2;
  },
};
