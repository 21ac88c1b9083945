import { z } from 'zod';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { runDeploy, type DeployResult } from '../../control/deploy-loop.ts';
import { runDeployInWorker, type LoopStatus } from '../../control/deploy-worker-host.ts';
import { FIXED_ENVIRONMENT, type FixedEnvironmentParams } from '../../control/fixed-environment.ts';
import { UsageError } from '../command.ts';
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
  log: z.string().optional().describe('Run log (MCAP, same topics as recordings plus /policy/action, /control/inference_us and /safety)'),
  thread: z.enum(['worker', 'main']).default('worker').describe('Where the loop runs: its own worker thread (blocking sleep, logging stays on the main thread) or the main thread'),
  rtPriority: z.coerce.number().int().min(0).max(99).default(50).describe('SCHED_FIFO priority for the loop worker where permitted (root, CAP_SYS_NICE or an rtprio limit); 0: normal priority'),
  target: z.string().optional().describe('A fixed target point x,y,z (m) for models that observe target.position (real arm; --sim publishes its own)'),
  sim: z.boolean().default(false).describe('Simulated follower with the reach task publishing targets'),
  inProcess: z.boolean().default(false).describe('Simulated follower over the in-process binding instead of a pty (--sim)'),
});

function report(stdout: NodeJS.WritableStream, r: DeployResult, rate: number) {
  const s = (a: readonly number[]) => [...a].sort((x, y) => x - y);
  const late = s(r.latenessUs);
  const inf = s(r.inferenceUs);
  const cyc = s(r.latencyUs);
  stdout.write(
    `${r.cycles} cycles in ${r.seconds.toFixed(1)} s: ${r.achievedHz.toFixed(1)} Hz (asked ${rate}), lateness p50 ${percentile(late, 50).toFixed(0)} µs p99 ${percentile(late, 99).toFixed(0)} µs, ` +
      `inference p50 ${percentile(inf, 50).toFixed(0)} µs p99 ${percentile(inf, 99).toFixed(0)} µs, read→write p50 ${percentile(cyc, 50).toFixed(0)} µs p99 ${percentile(cyc, 99).toFixed(0)} µs, ` +
      `${r.overruns} overruns, ${r.budgetHolds} budget holds\nsafety: ${describeSafety(r.safety)}\n`,
  );
}

/** The live status line: on a terminal rewritten in place every second, else a line every 5 s. */
function statusPrinter(stream: NodeJS.WritableStream): (s: LoopStatus) => void {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  let last = -Infinity;
  return (s) => {
    const line = `${s.cycles} cycles  ${s.rateHz.toFixed(0)} Hz  period jitter p99 ${s.periodJitterP99Us.toFixed(0)} µs  inference p99 ${s.inferenceP99Us.toFixed(0)} µs  ${s.overruns} overruns  ${s.interventions} safety interventions`;
    if (tty) stream.write(`\r\x1b[K${line}`);
    else if (performance.now() - last >= 5000) {
      last = performance.now();
      stream.write(`${line}\n`);
    }
  };
}

export const deployCommand: Command<typeof options> = {
  name: 'deploy',
  summary: 'Run a trained ONNX policy on the follower at a fixed rate, through the safety filter',
  options,
  examples: ['armbridge deploy --model models/reach-rwr/policy.onnx --follower /dev/ttyACM0 --rate 500', 'armbridge deploy --model models/reach-rwr/policy.onnx --sim'],
  async run(o, { stdout, stderr, signal }) {
    // The worker opens ports with the tty binding, which is Linux-only (bindings-cpp aborts in workers).
    if (o.thread === 'worker' && process.platform !== 'linux') {
      stderr.write(`the loop runs on the main thread here: a worker thread cannot open serial ports on ${process.platform}\n`);
      o = { ...o, thread: 'main' };
    }
    const onStatus = statusPrinter(stderr);
    const endStatus = () => ((stderr as { isTTY?: boolean }).isTTY ? stderr.write('\n') : undefined);
    if (o.sim) {
      const r = await deploySim({
        arm: o.arm,
        model: o.model,
        rateHz: o.rate,
        durationS: o.durationS,
        transport: o.inProcess ? 'in-process' : 'pty',
        log: o.log,
        estop: signal,
        thread: o.thread,
        realtimePriority: o.rtPriority,
        onStatus,
        say: (s) => stdout.write(s),
      }).finally(endStatus);
      report(stdout, r, o.rate);
      stdout.write(`task: ${r.successes}/${r.episodes} targets reached and held, mean reward ${r.meanReward.toFixed(4)}\n`);
      return 0;
    }
    if (!o.follower) {
      stderr.write('give --follower PORT (or --sim)\n');
      return 2;
    }
    const target = o.target?.split(',').map(Number);
    if (target && (target.length !== 3 || !target.every(Number.isFinite))) throw new UsageError(`--target wants three numbers x,y,z in metres, got "${o.target}"`);
    const calibration = await loadCalibration(o.followerCalibration ?? `calibration/${o.arm}-follower.json`);
    const recorder = o.log ? await Recorder.create({ path: o.log }, { arm: o.arm, rate_hz: String(o.rate), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: `policy ${o.model}` }) : undefined;
    try {
      if (o.thread === 'worker') {
        // On a real arm the joints are observed, plus a fixed target if given: a model that needs
        // anything else is refused before the arm is touched.
        const params: FixedEnvironmentParams = { path: o.follower, extra: target ? { layout: [{ name: 'target.position', size: 3 }], values: target } : undefined };
        const r = await runDeployInWorker({
          arm: { kind: o.arm, calibration },
          environment: { module: FIXED_ENVIRONMENT, params },
          model: o.model,
          rateHz: o.rate,
          durationS: o.durationS,
          realtimePriority: o.rtPriority,
          recorder,
          estop: signal,
          onStatus,
          onReady: (i) => stdout.write(`deploying ${o.model} (${i.algo}) on ${o.follower} at ${o.rate} Hz, loop in a worker thread at ${i.realtime.detail}\n`),
        }).finally(endStatus);
        report(stdout, r, o.rate);
        return 0;
      }
      await using arm = await Arm.open({ profile: armProfile(o.arm, 'follower'), calibration, path: o.follower });
      const observation = [{ name: 'follower.position', size: arm.size }, ...(target ? [{ name: 'target.position', size: 3 }] : [])];
      const policy = await OnnxPolicy.load(o.model, { jointNames: arm.names, observation });
      try {
        const r = await runDeploy({ follower: arm, policy, rateHz: o.rate, durationS: o.durationS, estop: signal, recorder, observeExtra: target ? () => target : undefined });
        report(stdout, r, o.rate);
        await parkArm(arm);
        return 0;
      } finally {
        await policy.close();
      }
    } finally {
      await recorder?.close();
    }
  },
};
