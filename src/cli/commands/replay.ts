import { z } from 'zod';
import { ArmbridgeError } from '../../errors.ts';
import { replayAgainstPolicy } from '../../replay/offline.ts';
import { table } from '../../workflows/table.ts';
import type { Command } from '../command.ts';

const options = z.object({
  file: z.string().describe('The recording to replay'),
  to: z.enum(['policy', 'arm', 'ros']).default('policy').describe('policy: offline evaluation against a model (arm and ros: not built yet)'),
  model: z.string().optional().describe('policy.onnx to evaluate (--to policy)'),
  out: z.string().optional().describe('Folder for the plots and summary (default <file>.replay/)'),
});

export class ReplayTargetUnavailableError extends ArmbridgeError {
  constructor(readonly target: string) {
    super('REPLAY_TARGET_UNAVAILABLE', `replay --to ${target} is not built yet: use --to policy for offline evaluation`);
  }
}

export const replayCommand: Command<typeof options> = {
  name: 'replay',
  summary: 'Replay a recording: offline against a policy (per-joint error, plots)',
  options,
  positional: 'file',
  examples: ['armbridge replay recordings/task.mcap --to policy --model models/task-rwr/policy.onnx'],
  async run(o, { stdout, stderr }) {
    if (o.to !== 'policy') throw new ReplayTargetUnavailableError(o.to);
    if (!o.model) {
      stderr.write('give --model policy.onnx\n');
      return 2;
    }
    const r = await replayAgainstPolicy(o.file, o.model, o.out ?? `${o.file}.replay`);
    stdout.write(`${r.samples} samples in ${r.episodes} episodes: the policy's action next to the recorded one\n`);
    stdout.write(table(['joint', 'mean |error|', 'p95 |error|'], r.joints.map((j) => [j.joint, j.meanAbs.toFixed(4), j.p95Abs.toFixed(4)])));
    stdout.write(`plots: ${r.plots.join(', ')}\n`);
    return 0;
  },
};
