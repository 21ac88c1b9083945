import { z } from 'zod';
import { modelFile } from '../../control/model-path.ts';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { replayToArmInWorker } from '../../replay/to-arm-worker.ts';
import { replayToArm } from '../../replay/to-arm.ts';
import { replayToRos } from '../../replay/to-ros.ts';
import { openRosGraph } from '../../ros/rclnodejs.ts';
import { simCalibrationPath } from '../../workflows/paths.ts';
import { openSimPort } from '../../workflows/sim-port.ts';
import { table } from '../../workflows/table.ts';
import type { Command } from '../command.ts';
import { noReportOption, settingsOf, writeRunReport } from '../run-report.ts';
import { join } from 'node:path';
import { trajectoryFigure } from '../../report/figures.ts';

const options = z.object({
  file: z.string().describe('The recording to replay'),
  to: z.enum(['policy', 'arm', 'ros']).default('policy').describe('policy: offline evaluation against a model; arm: play an episode on the follower; ros: publish the recorded topics with their original timing (needs ROS 2)'),
  model: z.string().transform(modelFile).optional().describe('policy.onnx to evaluate, or its folder (--to policy)'),
  out: z.string().optional().describe('Folder for the plots, summary and report.html (default <file>.replay/; --to arm: report.html only)'),
  episode: z.coerce.number().int().nonnegative().optional().describe('Episode to play (--to arm: default 0; --to ros: default the whole file)'),
  topics: z.string().optional().describe('Comma-separated topics to publish (--to ros; default all)'),
  follower: z.string().optional().describe('Serial port of the follower (--to arm)'),
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type (--to arm)'),
  followerCalibration: z.string().optional().describe('Follower calibration (default calibration/<arm>-follower.json; with --sim the shipped simulator file)'),
  speed: z.coerce.number().positive().default(1).describe('Time scale of the replay (--to arm, --to ros): 0.5 = half speed'),
  force: z.boolean().default(false).describe('Replay a recording made with another arm profile or calibration'),
  sim: z.boolean().default(false).describe('Replay on a simulated follower (--to arm)'),
  noReport: noReportOption,
});

export const replayCommand: Command<typeof options> = {
  name: 'replay',
  summary: 'Replay a recording: offline against a policy (per-joint error, plots), an episode on the follower, or to ROS 2 topics',
  options,
  positional: 'file',
  examples: ['armbridge replay recordings/task.mcap --to policy --model models/task-rwr/policy.onnx', 'armbridge replay recordings/task.mcap --to arm --episode 3 --follower /dev/ttyACM0 --speed 0.5', 'armbridge replay recordings/task.mcap --to ros --episode 3'],
  async run(o, { stdout, stderr, signal }) {
    if (o.to === 'ros') {
      const graph = await openRosGraph('armbridge_replay');
      try {
        const topics = o.topics?.split(',').map((t) => t.trim()).filter(Boolean);
        const r = await replayToRos({ file: o.file, graph, speed: o.speed, topics, episode: o.episode, signal });
        stdout.write(`published ${r.published} messages in ${r.seconds.toFixed(2)} s (${r.recordedSeconds.toFixed(2)} s recorded, speed ×${o.speed}); late p50 ${r.lateMsP50.toFixed(2)} ms, max ${r.lateMsMax.toFixed(2)} ms\n`);
        stdout.write(table(['topic', 'messages'], Object.entries(r.perTopic)));
        for (const p of r.problems) stderr.write(`warning: ${p}\n`);
        return 0;
      } finally {
        await graph.close();
      }
    }
    if (o.to === 'arm') {
      const profile = armProfile(o.arm, 'follower');
      const calibration = await loadCalibration(o.followerCalibration ?? (o.sim ? simCalibrationPath(o.arm, 'follower') : `calibration/${o.arm}-follower.json`));
      const sim = o.sim ? await openSimPort(o.arm, 'follower', 'in-process') : undefined;
      if (!sim && !o.follower) {
        stderr.write('give --follower PORT (or --sim)\n');
        return 2;
      }
      try {
        // A real port: the replay loop runs in the loop worker, which owns the port and parks the follower after it.
        const inWorker = !sim && process.platform === 'linux';
        await using follower = inWorker ? undefined : await Arm.open({ profile, calibration, path: sim?.path ?? o.follower!, binding: sim?.binding });
        const episode = o.episode ?? 0;
        const r = follower
          ? await replayToArm({ file: o.file, episode, arm: follower, calibration, speed: o.speed, force: o.force, signal })
          : await replayToArmInWorker({ file: o.file, episode, arm: { kind: o.arm, calibration, path: o.follower! }, speed: o.speed, force: o.force, signal, realtimePriority: 50 });
        stdout.write(`played episode ${episode}: ${r.sent} commands in ${r.seconds.toFixed(2)} s (speed ×${o.speed}); safety: ${describeSafety(r.safety)}\n`);
        if (r.tracking) {
          stdout.write(`tracking error, reproduced vs recorded follower (${r.tracking.samples} samples): mean ${r.tracking.meanAbsRad.toFixed(4)} rad, p95 ${r.tracking.p95AbsRad.toFixed(4)} rad, max ${r.tracking.maxAbsRad.toFixed(4)} rad\n`);
          stdout.write(table(['joint', 'mean |error|', 'max |error|'], r.tracking.perJoint.map((j) => [j.joint, j.meanAbs.toFixed(4), j.maxAbs.toFixed(4)])));
        }
        if (!o.noReport) {
          const t = r.trajectory;
          await writeRunReport(join(o.out ?? `${o.file}.replay`, 'report.html'), {
            title: `armbridge replay --to arm: episode ${episode} of ${o.file}`,
            subtitle: `${r.sent} commands in ${r.seconds.toFixed(2)} s at speed ×${o.speed} on ${o.sim ? 'a simulated follower' : o.follower}; safety: ${describeSafety(r.safety)}`,
            settings: settingsOf(o),
            figures: profile.joints.map((pj) => pj.name).map((joint, j) =>
              trajectoryFigure(`joint-${joint}`, `${joint}: recorded vs reproduced follower`, { joint, unit: joint === 'gripper' ? '0…1' : 'rad', timeS: t.timeS, series: [{ name: 'recorded', values: t.recorded[j]! }, { name: 'reproduced', values: t.reproduced[j]! }] }),
            ),
            tables: r.tracking ? [{ title: 'Tracking error, reproduced vs recorded follower', header: ['joint', 'mean |error|', 'max |error|'], rows: r.tracking.perJoint.map((j) => [j.joint, j.meanAbs.toFixed(4), j.maxAbs.toFixed(4)]) }] : [],
            links: [{ label: 'recording', path: o.file }],
          }, stdout);
        }
        if (follower) await parkArm(follower);
        return 0;
      } finally {
        await sim?.close();
      }
    }
    if (!o.model) {
      stderr.write('give --model policy.onnx\n');
      return 2;
    }
    // onnxruntime is heavy: loaded only when a model is evaluated.
    const { replayAgainstPolicy } = await import('../../replay/offline.ts');
    const { replayJointFigures, writeFigureSvgs } = await import('../../workflows/replay-figures.ts');
    const out = o.out ?? `${o.file}.replay`;
    const r = await replayAgainstPolicy(o.file, o.model, out);
    stdout.write(`${r.samples} samples in ${r.episodes} episodes: the policy's action next to the recorded one\n`);
    const rows = r.joints.map((j) => [j.joint, j.meanAbs.toFixed(4), j.p95Abs.toFixed(4)]);
    stdout.write(table(['joint', 'mean |error|', 'p95 |error|'], rows));
    const figures = replayJointFigures(r);
    const plots = await writeFigureSvgs(figures, out);
    stdout.write(`plots: ${plots.join(', ')}\n`);
    if (!o.noReport) {
      await writeRunReport(join(out, 'report.html'), {
        title: `armbridge replay --to policy: ${o.model} on ${o.file}`,
        subtitle: `${r.samples} recorded samples in ${r.episodes} episodes at ${r.rateHz} Hz: the policy's action for each recorded observation next to the recorded action`,
        settings: settingsOf(o),
        figures,
        tables: [{ title: 'Per-joint error, predicted vs recorded action', header: ['joint', 'mean |error|', 'p95 |error|'], rows }],
        links: [{ label: 'recording', path: o.file }, { label: 'model (ONNX)', path: o.model }, { label: 'summary (JSON)', path: r.summaryFile }, ...plots.map((p) => ({ label: `plot ${p.split('/').pop()}`, path: p }))],
      }, stdout);
    }
    return 0;
  },
};
