import { z } from 'zod';
import { inspectRecording } from '../../record/inspect.ts';
import { table } from '../../workflows/table.ts';
import type { Command } from '../command.ts';

const options = z.object({
  file: z.string().describe('The recording to inspect'),
  json: z.boolean().default(false).describe('Print the report as JSON'),
});

export const inspectCommand: Command<typeof options> = {
  name: 'inspect',
  summary: 'Episodes, durations, rates, gaps, dropped cycles, outcomes and returns of a recording',
  options,
  positional: 'file',
  examples: ['armbridge inspect recordings/pick.mcap'],
  async run(o, { stdout }) {
    const r = await inspectRecording(o.file);
    if (o.json) {
      stdout.write(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
      return 0;
    }
    stdout.write(`${r.path}: ${r.complete ? 'complete' : 'NOT CLOSED (run armbridge recover)'}; arm ${r.metadata.arm ?? '?'}, nominal rate ${r.rateHz ?? '?'} Hz, operator ${r.metadata.operator ?? '?'}\n\n`);
    stdout.write(table(['topic', 'type', 'messages'], r.topics.map((t) => [t.topic, t.schema, t.messages])));
    stdout.write('\n');
    stdout.write(
      table(
        ['episode', 'operator', 'duration s', 'samples', 'rate Hz', 'gaps', 'dropped', 'longest gap ms', 'outcome', 'return', 'note'],
        r.episodes.map((e) => [
          e.index,
          e.operator ?? '',
          e.durationS.toFixed(2),
          e.samples,
          e.achievedHz.toFixed(1),
          e.gaps,
          e.droppedCycles,
          e.longestGapMs.toFixed(1),
          e.outcome,
          e.return === undefined ? '' : e.return.toFixed(3),
          e.discarded ? 'discarded' : e.endNs === undefined ? 'cut' : '',
        ]),
      ),
    );
    for (const w of r.warnings) stdout.write(`warning: ${w}\n`);
    return r.warnings.length ? 1 : 0;
  },
};
