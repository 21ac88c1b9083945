import { z } from 'zod';
import { loadFollowerCalibration } from '../../dataset/follower-calibration.ts';
import { describeLabels } from '../../dataset/action-labels.ts';
import { exportLeRobot } from '../../dataset/lerobot-export.ts';
import { UsageError, type Command } from '../command.ts';

const options = z.object({
  args: z.string().describe('The format (lerobot) and the recordings to export, e.g. `lerobot a.mcap b.mcap`'),
  out: z.string().describe('Output folder (a LeRobotDataset v3.0: meta/, data/)'),
  task: z.string().optional().describe('Task description stored for every episode (LeRobot `task`)'),
  units: z.enum(['degrees', 'range_m100_100']).optional().describe("Joint units: LeRobot's degrees (so101 default) or −100…100 (koch default); the gripper is always 0…100"),
  calibration: z.string().optional().describe('Follower calibration for recordings that carry none (armbridge or LeRobot format)'),
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm of a LeRobot-format --calibration file (its servo models)'),
  overwrite: z.boolean().default(false).describe('Replace an existing output folder (only once the new one is complete)'),
});

export const exportCommand: Command<typeof options> = {
  name: 'export',
  summary: 'Export recordings to a LeRobotDataset (v3.0, Parquet) that LeRobot trains on',
  options,
  positional: 'args',
  variadic: true,
  examples: ['armbridge export lerobot recordings/*.mcap --out datasets/so101-reach --task "Reach the target"'],
  async run(o, { stdout }) {
    const [format, ...files] = o.args.split(',').filter(Boolean);
    if (format !== 'lerobot') throw new UsageError(`unknown export format "${format ?? ''}" (known: lerobot)`);
    if (!files.length) throw new UsageError('export lerobot needs at least one recording');
    const calibration = o.calibration ? await loadFollowerCalibration(o.calibration, o.arm) : undefined;
    const r = await exportLeRobot(files, o.out, { task: o.task, units: o.units, calibration, overwrite: o.overwrite });
    stdout.write(
      `LeRobotDataset ${r.codebaseVersion} (${r.robotType}, ${r.fps} fps, ${r.units}): ${r.episodes} episodes, ${r.frames} frames, ${r.dataFiles} data file(s), ${(r.bytes / 1024).toFixed(1)} KiB → ${r.out}\n` +
        `features: ${r.features.join(', ')}\n` +
        (r.actionLabels.derivedEpisodes ? `${describeLabels(r.actionLabels)}: written as \`action\`, marked in meta/armbridge.json\n` : '') +
        (r.droppedCycles ? `note: ${r.droppedCycles} dropped cycles inside episodes (timestamps are frame_index/fps, as LeRobot assumes)\n` : ''),
    );
    return 0;
  },
};
