import { z } from 'zod';
import { runDemo } from '../../workflows/demo.ts';
import type { Command } from '../command.ts';
import { noReportOption } from '../run-report.ts';

const options = z.object({
  seconds: z.coerce.number().positive().default(3).describe('How long to drive each simulated arm, s'),
  rate: z.coerce.number().positive().default(200).describe('Control rate, Hz'),
  fast: z.boolean().default(false).describe('Shorter run for CI'),
  task: z.enum(['reach', 'pick-place']).default('reach').describe('The task recorded, learned, deployed and replayed (steps 4–8): reach, or pick the cube and place it on the goal'),
  seed: z.coerce.number().int().default(1).describe('Seed of every random part (world, operators, splits, training): another seed gives other numbers'),
  out: z.string().optional().describe('Run folder for the artefacts (default runs/demo-<time>)'),
  noReport: noReportOption,
});

export const demoCommand: Command<typeof options> = {
  name: 'demo',
  summary: 'Run the whole pipeline on simulated arms (what `npm run demo` does)',
  options,
  async run(o, { stdout, signal }) {
    await runDemo({ seconds: o.fast ? 1 : o.seconds, rateHz: o.rate, out: stdout, signal, fast: o.fast, runDir: o.out, seed: o.seed, task: o.task, report: !o.noReport });
    return 0;
  },
};
