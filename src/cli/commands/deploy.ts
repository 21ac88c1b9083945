import { z } from 'zod';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { runDeploy, type DeployResult } from '../../control/deploy-loop.ts';
import { OnnxPolicy } from '../../control/onnx-policy.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../../record/recorder.ts';
import { deploySim } from '../../workflows/deploy-sim.ts';
import { percentile } from '../../workflows/stats.ts';
import type { Command } from '../command.ts';

const options = z.object({
  model: z.string().describe('policy.onnx from armbridge train'),
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type'),
  follower: z.string().optional().describe('Serial port of the follower arm'),
  followerCalibration: z.string().optional().describe('Follower calibration file (default calibration/<arm>-follower.json)'),
  rate: z.coerce.number().positive().max(2000).default(200).describe('Control rate, Hz'),
  durationS: z.coerce.number().positive().default(10).describe('How long to run, s'),
  log: z.string().optional().describe('Run log (MCAP, same topics as recordings plus /policy/action and /control/inference_us)'),
  sim: z.boolean().default(false).describe('Simulated follower with the reach task publishing targets'),
  inProcess: z.boolean().default(false).describe('Simulated follower over the in-process binding instead of a pty (--sim)'),
});

function report(stdout: NodeJS.WritableStream, r: DeployResult, rate: number) {
  const s = (a: readonly number[]) => [...a].sort((x, y) => x - y);
  const late = s(r.latenessUs);
  const inf = s(r.inferenceUs);
  const cyc = s(r.latencyUs);
  stdout.write(
    `${r.cycles} cycles in ${r.seconds.toFixed(1)} s: ${r.achievedHz.toFixed(1)} Hz (asked ${rate}), lateness p99 ${percentile(late, 99).toFixed(0)} µs, ` +
      `inference p50 ${percentile(inf, 50).toFixed(0)} µs p99 ${percentile(inf, 99).toFixed(0)} µs, read→write p50 ${percentile(cyc, 50).toFixed(0)} µs p99 ${percentile(cyc, 99).toFixed(0)} µs, ` +
      `${r.overruns} overruns, ${r.budgetHolds} budget holds\nsafety: ${describeSafety(r.safety)}\n`,
  );
}

export const deployCommand: Command<typeof options> = {
  name: 'deploy',
  summary: 'Run a trained ONNX policy on the follower at a fixed rate, through the safety filter',
  options,
  examples: ['armbridge deploy --model models/reach-rwr/policy.onnx --follower /dev/ttyACM0 --rate 500', 'armbridge deploy --model models/reach-rwr/policy.onnx --sim'],
  async run(o, { stdout, stderr, signal }) {
    if (o.sim) {
      const r = await deploySim({ arm: o.arm, model: o.model, rateHz: o.rate, durationS: o.durationS, transport: o.inProcess ? 'in-process' : 'pty', log: o.log, estop: signal, say: (s) => stdout.write(s) });
      report(stdout, r, o.rate);
      stdout.write(`task: ${r.successes}/${r.episodes} targets reached and held, mean reward ${r.meanReward.toFixed(4)}\n`);
      return 0;
    }
    if (!o.follower) {
      stderr.write('give --follower PORT (or --sim)\n');
      return 2;
    }
    const calibration = await loadCalibration(o.followerCalibration ?? `calibration/${o.arm}-follower.json`);
    await using arm = await Arm.open({ profile: armProfile(o.arm, 'follower'), calibration, path: o.follower });
    // On a real arm only the joints are observed: a model that needs more (e.g. a target) is refused.
    const policy = await OnnxPolicy.load(o.model, { jointNames: arm.names, observation: [{ name: 'follower.position', size: arm.size }] });
    try {
      const recorder = o.log ? await Recorder.create({ path: o.log }, { arm: o.arm, rate_hz: String(o.rate), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: `policy ${o.model}` }) : undefined;
      try {
        const r = await runDeploy({ follower: arm, policy, rateHz: o.rate, durationS: o.durationS, estop: signal, recorder });
        report(stdout, r, o.rate);
        await parkArm(arm);
        return 0;
      } finally {
        await recorder?.close();
      }
    } finally {
      await policy.close();
    }
  },
};
