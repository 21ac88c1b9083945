import { z } from 'zod';
import { loadFollowerCalibration } from '../../dataset/follower-calibration.ts';
import { importLeRobot } from '../../dataset/lerobot-import.ts';
import { UsageError, type Command } from '../command.ts';

const options = z.object({
  args: z.string().describe('The format (lerobot) and the dataset folder, e.g. `lerobot ~/.cache/huggingface/lerobot/me/so101-pick`'),
  out: z.string().describe('Output recording (MCAP)'),
  arm: z.enum(['so101', 'koch']).optional().describe('Arm type (default from the dataset: meta/armbridge.json, else robot_type)'),
  units: z.enum(['degrees', 'range_m100_100']).optional().describe("Joint units of the dataset (default: armbridge's note, else LeRobot's default for the arm)"),
  calibration: z.string().optional().describe('Follower calibration, armbridge or LeRobot format (needed for −100…100 units)'),
  overwrite: z.boolean().default(false).describe('Replace an existing output file'),
});

export const importCommand: Command<typeof options> = {
  name: 'import',
  summary: 'Import a LeRobotDataset (v3.x, state and action) into a recording for train',
  options,
  positional: 'args',
  variadic: true,
  examples: ['armbridge import lerobot datasets/so101-reach --out recordings/from-lerobot.mcap'],
  async run(o, { stdout }) {
    const [format, ...dirs] = o.args.split(',').filter(Boolean);
    if (format !== 'lerobot') throw new UsageError(`unknown import format "${format ?? ''}" (known: lerobot)`);
    if (dirs.length !== 1) throw new UsageError('import lerobot takes one dataset folder');
    const calibration = o.calibration ? await loadFollowerCalibration(o.calibration, o.arm ?? 'so101') : undefined;
    const r = await importLeRobot(dirs[0]!, o.out, { arm: o.arm, units: o.units, calibration, overwrite: o.overwrite });
    stdout.write(`LeRobotDataset ${r.codebaseVersion} (${r.arm}, ${r.fps} fps, ${r.units}): ${r.episodes} episodes, ${r.frames} frames → ${r.out} (${r.topics.join(', ')})\n`);
    if (r.ignoredFeatures.length) stdout.write(`ignored features (out of scope): ${r.ignoredFeatures.join(', ')}\n`);
    return 0;
  },
};
