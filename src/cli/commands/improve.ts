import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { improve } from '../../workflows/improve.ts';
import { table } from '../../workflows/table.ts';
import type { Command } from '../command.ts';

const options = z.object({
  model: z.string().optional().describe('A model folder made by armbridge train: its data and settings are the starting point'),
  data: z.string().optional().describe('Recordings to start from (instead of --model): comma-separated'),
  sim: z.boolean().default(true).describe('Roll out on the simulated task (the only option for now)'),
  algo: z.enum(['rwr', 'awr']).default('rwr').describe('Weighting used in every round'),
  rwrTransform: z.enum(['linear', 'exp']).default('exp').describe('RWR return transform'),
  beta: z.coerce.number().positive().default(2).describe('Temperature β'),
  iterations: z.coerce.number().int().positive().default(3).describe('Rounds of roll out → score → add → retrain'),
  rollouts: z.coerce.number().int().positive().default(50).describe('Rollouts per round'),
  evalEpisodes: z.coerce.number().int().positive().default(50).describe('Evaluation episodes per round (held-out targets)'),
  epochs: z.coerce.number().int().positive().default(60).describe('Maximum epochs per round'),
  seed: z.coerce.number().int().default(0).describe('Seed'),
  out: z.string().describe('Folder for every round: models and rollout recordings'),
});

export const improveCommand: Command<typeof options> = {
  name: 'improve',
  summary: 'Iterated RWR / AWR on the simulated task: roll out, score, add to the data, retrain',
  options,
  examples: ['armbridge improve --model models/reach-rwr --iterations 3 --rollouts 50 --out models/reach-improved'],
  async run(o, { stdout, stderr }) {
    let data = o.data?.split(',').filter(Boolean) ?? [];
    let hidden: number[] | undefined;
    if (o.model) {
      const summary = JSON.parse(await readFile(join(o.model, 'summary.json'), 'utf8')) as { data: string[]; config: { hidden?: number[] } };
      data = summary.data;
      hidden = summary.config.hidden;
    }
    if (data.length === 0) {
      stderr.write('give --model FOLDER (from armbridge train) or --data FILES\n');
      return 2;
    }
    const rounds = await improve({
      arm: 'so101',
      data,
      out: o.out,
      algo: o.algo,
      rwr: o.rwrTransform === 'exp' ? { kind: 'exp', beta: o.beta } : { kind: 'linear' },
      awr: { beta: o.beta },
      iterations: o.iterations,
      rollouts: o.rollouts,
      evalEpisodes: o.evalEpisodes,
      epochs: o.epochs,
      hidden,
      seed: o.seed,
      log: (s) => stdout.write(s),
    });
    stdout.write(
      '\n' +
        table(
          ['round', 'data files', 'train episodes', 'success', 'mean return', 'model'],
          rounds.map((r) => [r.round, r.dataFiles, r.trainEpisodes, `${(r.eval.successRate * 100).toFixed(0)} %`, `${r.eval.meanReturn.toFixed(2)} ± ${r.eval.stdReturn.toFixed(2)}`, r.model]),
        ),
    );
    return 0;
  },
};
