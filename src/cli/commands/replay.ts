import { z } from 'zod';
import { ArmbridgeError } from '../../errors.ts';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { replayAgainstPolicy } from '../../replay/offline.ts';
import { replayToArm } from '../../replay/to-arm.ts';
import { simCalibrationPath } from '../../workflows/paths.ts';
import { openSimPort } from '../../workflows/sim-port.ts';
import { table } from '../../workflows/table.ts';
import type { Command } from '../command.ts';

const options = z.object({
  file: z.string().describe('The recording to replay'),
  to: z.enum(['policy', 'arm', 'ros']).default('policy').describe('policy: offline evaluation against a model; arm: play an episode on the follower (ros: not built yet)'),
  model: z.string().optional().describe('policy.onnx to evaluate (--to policy)'),
  out: z.string().optional().describe('Folder for the plots and summary (default <file>.replay/)'),
  episode: z.coerce.number().int().nonnegative().default(0).describe('Episode to play (--to arm)'),
  follower: z.string().optional().describe('Serial port of the follower (--to arm)'),
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type (--to arm)'),
  followerCalibration: z.string().optional().describe('Follower calibration (default calibration/<arm>-follower.json; with --sim the shipped simulator file)'),
  speed: z.coerce.number().positive().default(1).describe('Time scale of the replay (--to arm): 0.5 = half speed'),
  force: z.boolean().default(false).describe('Replay a recording made with another arm profile or calibration'),
  sim: z.boolean().default(false).describe('Replay on a simulated follower (--to arm)'),
});

export class ReplayTargetUnavailableError extends ArmbridgeError {
  constructor(readonly target: string) {
    super('REPLAY_TARGET_UNAVAILABLE', `replay --to ${target} is not built yet: use --to policy for offline evaluation or --to arm`);
  }
}

export const replayCommand: Command<typeof options> = {
  name: 'replay',
  summary: 'Replay a recording: offline against a policy (per-joint error, plots), or an episode on the follower',
  options,
  positional: 'file',
  examples: ['armbridge replay recordings/task.mcap --to policy --model models/task-rwr/policy.onnx', 'armbridge replay recordings/task.mcap --to arm --episode 3 --follower /dev/ttyACM0 --speed 0.5'],
  async run(o, { stdout, stderr, signal }) {
    if (o.to === 'ros') throw new ReplayTargetUnavailableError(o.to);
    if (o.to === 'arm') {
      const profile = armProfile(o.arm, 'follower');
      const calibration = await loadCalibration(o.followerCalibration ?? (o.sim ? simCalibrationPath(o.arm, 'follower') : `calibration/${o.arm}-follower.json`));
      const sim = o.sim ? await openSimPort(o.arm, 'follower', 'in-process') : undefined;
      if (!sim && !o.follower) {
        stderr.write('give --follower PORT (or --sim)\n');
        return 2;
      }
      try {
        await using follower = await Arm.open({ profile, calibration, path: sim?.path ?? o.follower!, binding: sim?.binding });
        const r = await replayToArm({ file: o.file, episode: o.episode, arm: follower, calibration, speed: o.speed, force: o.force, signal });
        stdout.write(`played episode ${o.episode}: ${r.sent} commands in ${r.seconds.toFixed(2)} s (speed ×${o.speed}); safety: ${describeSafety(r.safety)}\n`);
        await parkArm(follower);
        return 0;
      } finally {
        await sim?.close();
      }
    }
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
