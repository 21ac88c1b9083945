import { z } from 'zod';
import { recoverRecording } from '../../record/recover.ts';
import type { Command } from '../command.ts';

const options = z.object({
  file: z.string().describe('The recording to recover'),
  out: z.string().optional().describe('Where to write the recovered file (default <file>.recovered.mcap)'),
  overwrite: z.boolean().default(false).describe('Replace an existing output file'),
});

export const recoverCommand: Command<typeof options> = {
  name: 'recover',
  summary: 'Rewrite a cut recording (killed, disk full) into a valid, indexed MCAP file',
  options,
  positional: 'file',
  examples: ['armbridge recover recordings/pick.mcap'],
  async run(o, { stdout }) {
    const r = await recoverRecording(o.file, o.out, { overwrite: o.overwrite });
    const span = r.firstNs !== undefined && r.lastNs !== undefined ? `${(Number(r.lastNs - r.firstNs) / 1e9).toFixed(2)} s of data` : 'no messages';
    stdout.write(
      `${r.wasComplete ? 'the file was complete; rewritten' : 'the file had no footer (cut)'}: kept ${r.messages} messages on ${r.channels} topics, ${span}; ` +
        `${r.droppedBytes} bytes at the end were an incomplete chunk → ${r.output}\n`,
    );
    for (const p of r.problems) stdout.write(`  note: ${p}\n`);
    return 0;
  },
};
