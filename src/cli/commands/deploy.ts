import { z } from 'zod';
import { modelFile } from '../../control/model-path.ts';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { FALLBACK_RATE_HZ, MIN_RATE_FRACTION, readPolicyMetadata, resolveControlRate, type ControlRate } from '../../control/control-rate.ts';
import { runDeploy, type DeployResult } from '../../control/deploy-loop.ts';
import { runDeployInWorker, type LoopStatus } from '../../control/loop-host.ts';
import { FIXED_ENVIRONMENT, type FixedEnvironmentParams } from '../../control/fixed-environment.ts';
import { fixedObservation, fixedPoseOptions } from '../fixed-observation.ts';
import { taskOfModel } from '../model-task.ts';
import { OnnxPolicy } from '../../control/onnx-policy.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../../record/recorder.ts';
import { deploySim } from '../../workflows/deploy-sim.ts';
import { percentile } from '../../workflows/stats.ts';
import type { Command } from '../command.ts';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { noReportOption, settingsOf, writeRunReport } from '../run-report.ts';
import { deployFigures, deployTimingRows, readDeployLog } from '../../workflows/deploy-figures.ts';

const options = z.object({
  model: z.string().transform(modelFile).describe('policy.onnx from armbridge train, or its folder'),
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type'),
  follower: z.string().optional().describe('Serial port of the follower arm'),
  followerCalibration: z.string().optional().describe('Follower calibration file (default calibration/<arm>-follower.json)'),
  rate: z.coerce.number().positive().max(2000).optional().describe(`Control rate, Hz (default: the model's own, from its training data; ${FALLBACK_RATE_HZ} for models that do not say). Another rate warns; one the model cannot follow (below ${Math.round(MIN_RATE_FRACTION * 100)} % of its own) is refused unless --force`),
  force: z.boolean().default(false).describe('Run at --rate even when the model cannot follow it'),
  durationS: z.coerce.number().positive().default(10).describe('How long to run, s'),
  log: z.string().optional().describe('Run log (MCAP, same topics as recordings plus /policy/action, /control/inference_us and /safety)'),
  thread: z.enum(['worker', 'main']).default('worker').describe('Where the loop runs: its own worker thread (blocking sleep, logging stays on the main thread) or the main thread'),
  rtPriority: z.coerce.number().int().min(0).max(99).default(50).describe('SCHED_FIFO priority for the loop worker where permitted (root, CAP_SYS_NICE or an rtprio limit); 0: normal priority'),
  ...fixedPoseOptions,
  sim: z.boolean().default(false).describe('Simulated follower with the task (--task) drawing a new scene every episode (reach: a target every 3 s; pick-place: a cube and a goal every 8 s), each scored by the task, the arm driven back to its start pose between them (--return-s); give --duration-s N × (episode + return) for N full episodes'),
  task: z.enum(['reach', 'pick-place']).optional().describe("Simulated task (--sim; default: the model's, from the poses it observes)"),
  returnS: z.coerce.number().min(0).max(30).default(2).describe('--sim: between episodes, drive the arm back to its start pose (where eval starts every episode) for this long, through the safety filter and not scored, s; 0: each episode starts where the last ended'),
  inProcess: z.boolean().default(false).describe('Simulated follower over the in-process binding instead of a pty (--sim)'),
  json: z.boolean().default(false).describe('At the end print one JSON summary on stdout (achievedHz, cycles, episodes, successes, meanReward, …); everything else goes to stderr'),
  noReport: noReportOption.describe("With --log: do not write report.html next to the run log (loop period and inference histograms, safety interventions over time, settings, summary)"),
});

/** The --json summary. episodes, successes and meanReward are null on a real arm (no task scores it). */
export interface DeploySummary {
  readonly model: string;
  readonly sim: boolean;
  readonly rateHz: number;
  readonly rateSource: ControlRate['source'];
  readonly modelRateHz: number | null;
  readonly achievedHz: number;
  readonly cycles: number;
  readonly seconds: number;
  readonly overruns: number;
  readonly budgetHolds: number;
  readonly latenessUs: { readonly p50: number; readonly p99: number };
  readonly inferenceUs: { readonly p50: number; readonly p99: number };
  readonly readToWriteUs: { readonly p50: number; readonly p99: number };
  /** --sim: targets (episodes of the task) and how many were reached and held. */
  readonly episodes: number | null;
  readonly successes: number | null;
  /** successes / episodes. */
  readonly successRate: number | null;
  /** --sim: returns to the start pose between episodes (not scored), each returnS long, and the worst distance from it one ended at (rad). */
  readonly returns: { readonly count: number; readonly returnS: number; readonly worstErrorRad: number } | null;
  /** The task's reward per cycle, averaged over the run (not a per-episode return). */
  readonly meanReward: number | null;
  readonly safety: { readonly clampedCycles: number; readonly stepLimitedCycles: number; readonly nonFinite: number; readonly holds: number; readonly faults: number; readonly estop: string | null; readonly watchdog: string | null };
  readonly stop: DeployResult['stop'];
}

function summary(model: string, r: DeployResult, rate: ControlRate, task: { episodes: number; successes: number; meanReward: number; returns: DeploySummary['returns'] } | undefined): DeploySummary {
  const pp = (a: readonly number[]) => {
    const s = [...a].sort((x, y) => x - y);
    return { p50: s.length ? percentile(s, 50) : 0, p99: s.length ? percentile(s, 99) : 0 };
  };
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    model,
    sim: task !== undefined,
    rateHz: rate.rateHz,
    rateSource: rate.source,
    modelRateHz: rate.modelHz ?? null,
    achievedHz: r.achievedHz,
    cycles: r.cycles,
    seconds: r.seconds,
    overruns: r.overruns,
    budgetHolds: r.budgetHolds,
    latenessUs: pp(r.latenessUs),
    inferenceUs: pp(r.inferenceUs),
    readToWriteUs: pp(r.latencyUs),
    episodes: task ? finite(task.episodes) : null,
    successes: task ? finite(task.successes) : null,
    successRate: task && task.episodes > 0 ? finite(task.successes / task.episodes) : null,
    returns: task?.returns ?? null,
    meanReward: task ? finite(task.meanReward) : null,
    safety: {
      clampedCycles: r.safety.clampedCycles,
      stepLimitedCycles: r.safety.stepLimitedCycles,
      nonFinite: r.safety.nonFinite,
      holds: r.safety.holds,
      faults: r.safety.faults,
      estop: r.safety.estop ?? null,
      watchdog: r.safety.watchdog ?? null,
    },
    stop: r.stop,
  };
}

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

/** report.html in the run log's folder, from the closed run log. */
async function writeDeployReport(o: { readonly log?: string; readonly model: string; readonly noReport: boolean } & Record<string, unknown>, s: DeploySummary, say: NodeJS.WritableStream): Promise<void> {
  if (!o.log || o.noReport) return;
  const series = await readDeployLog(o.log);
  const sf = s.safety;
  await writeRunReport(join(dirname(o.log), 'report.html'), {
    title: `armbridge deploy: ${o.model}${s.sim ? ' on the simulated follower' : ''}`,
    subtitle: `${s.cycles} cycles in ${s.seconds.toFixed(1)} s at ${s.achievedHz.toFixed(1)} Hz (asked ${s.rateHz} Hz, ${s.rateSource})`,
    settings: settingsOf(o),
    figures: deployFigures(series, s.rateHz),
    tables: [
      { title: 'Timing', header: ['quantity', 'p50', 'p99', 'samples'], rows: [...deployTimingRows(series), ['deadline lateness', `${s.latenessUs.p50.toFixed(0)} µs`, `${s.latenessUs.p99.toFixed(0)} µs`, s.cycles], ['read → write', `${s.readToWriteUs.p50.toFixed(0)} µs`, `${s.readToWriteUs.p99.toFixed(0)} µs`, s.cycles]] },
      {
        title: 'Run',
        header: ['quantity', 'value'],
        rows: [
          ['overruns / budget holds', `${s.overruns} / ${s.budgetHolds}`],
          ['safety', `${sf.clampedCycles} clamped, ${sf.stepLimitedCycles} step-limited, ${sf.nonFinite} non-finite, ${sf.holds} holds, ${sf.faults} faults${sf.estop ? `, e-stop ${sf.estop}` : ''}${sf.watchdog ? `, watchdog ${sf.watchdog}` : ''}`],
          ...(s.episodes !== null ? [['task', `${s.successes}/${s.episodes} episodes succeeded, mean reward ${s.meanReward?.toFixed(4) ?? '?'}`]] : []),
          ...(s.returns && s.returns.count > 0 ? [['returns to the start pose', `${s.returns.count} × ${s.returns.returnS} s between episodes (not scored), worst end ${s.returns.worstErrorRad.toFixed(3)} rad from it`]] : []),
          ['stop', JSON.stringify(s.stop)],
        ],
      },
    ],
    links: [{ label: 'model (ONNX)', path: o.model }, { label: 'run log (MCAP)', path: o.log }],
    data: s,
  }, say);
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
  examples: [
    'armbridge deploy --model models/reach-rwr/policy.onnx --follower /dev/ttyACM0',
    'armbridge deploy --model models/reach-rwr/policy.onnx --sim --json',
    'armbridge deploy --model models/pick-bc/policy.onnx --sim --task pick-place --duration-s 40',
    'armbridge deploy --model models/pick-bc/policy.onnx --follower /dev/ttyACM0 --object 0.19,0.05,0.0125 --goal 0.17,-0.08,0.0125',
  ],
  async run(o, { stdout, stderr, signal }) {
    // With --json, stdout carries the summary alone: every human-readable line goes to stderr.
    const human = o.json ? stderr : stdout;
    // The worker opens ports with the tty binding, which is Linux-only (bindings-cpp aborts in workers).
    if (o.thread === 'worker' && process.platform !== 'linux') {
      stderr.write(`the loop runs on the main thread here: a worker thread cannot open serial ports on ${process.platform}\n`);
      o = { ...o, thread: 'main' };
    }
    // The run log's folder is made as record makes its output's (runs/ on a fresh clone).
    if (o.log) await mkdir(dirname(o.log), { recursive: true }).catch(() => undefined);
    const onStatus = statusPrinter(stderr);
    const endStatus = () => ((stderr as { isTTY?: boolean }).isTTY ? stderr.write('\n') : undefined);
    if (o.sim) {
      const task = o.task ?? (await taskOfModel(o.model)) ?? 'reach';
      const r = await deploySim({
        arm: o.arm,
        task,
        model: o.model,
        rateHz: o.rate,
        force: o.force,
        durationS: o.durationS,
        returnS: o.returnS,
        transport: o.inProcess ? 'in-process' : 'pty',
        log: o.log,
        estop: signal,
        thread: o.thread,
        realtimePriority: o.rtPriority,
        onStatus,
        say: (s) => human.write(s),
      }).finally(endStatus);
      report(human, r, r.rate.rateHz);
      const back = r.returns.count > 0 ? `; between episodes the arm was driven back to its start pose ${r.returns.count} time${r.returns.count === 1 ? '' : 's'} (${r.returns.returnS} s each, not scored; worst end ${r.returns.worstErrorRad.toFixed(3)} rad from it)` : o.returnS === 0 ? '; no return between episodes (--return-s 0): each started where the last ended' : '';
      human.write(`task: ${r.successes}/${r.episodes} ${task === 'pick-place' ? 'cubes placed on the goal' : 'targets reached and held'}, mean reward ${r.meanReward.toFixed(4)}${back}\n`);
      const s = summary(o.model, r, r.rate, r);
      await writeDeployReport({ ...o, task }, s, human);
      if (o.json) stdout.write(`${JSON.stringify(s)}\n`);
      return 0;
    }
    if (!o.follower) {
      stderr.write('give --follower PORT (or --sim)\n');
      return 2;
    }
    // On a real arm the joints are observed, and every other feature the model observes comes from a
    // flag, in the model's own order: a model that needs what no flag gives is refused before the arm is touched.
    const meta = await readPolicyMetadata(o.model);
    const fixed = fixedObservation(o.model, meta.observation, o);
    const fixedLayout = fixed.layout;
    const target = fixed.values.length ? fixed.values : undefined;
    // The rate is decided (a rate the model cannot follow refused) before the arm is touched.
    const rate = resolveControlRate(o.model, meta, o.rate, o.force);
    if (rate.note) stderr.write(rate.note);
    const rateHz = rate.rateHz;
    const calibration = await loadCalibration(o.followerCalibration ?? `calibration/${o.arm}-follower.json`);
    let done: DeploySummary | undefined;
    const recorder = o.log ? await Recorder.create({ path: o.log }, { arm: o.arm, rate_hz: String(rateHz), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: `policy ${o.model}` }) : undefined;
    try {
      if (o.thread === 'worker') {
        const params: FixedEnvironmentParams = { path: o.follower, extra: target ? { layout: fixedLayout, values: target } : undefined };
        const r = await runDeployInWorker({
          arm: { kind: o.arm, calibration },
          environment: { module: FIXED_ENVIRONMENT, params },
          model: o.model,
          rateHz,
          durationS: o.durationS,
          realtimePriority: o.rtPriority,
          recorder,
          estop: signal,
          onStatus,
          onReady: (i) => human.write(`deploying ${o.model} (${i.algo}) on ${o.follower} at ${rateHz} Hz, loop in a worker thread at ${i.realtime.detail}\n`),
        }).finally(endStatus);
        report(human, r, rateHz);
        done = summary(o.model, r, rate, undefined);
      } else {
        await using arm = await Arm.open({ profile: armProfile(o.arm, 'follower'), calibration, path: o.follower });
        const observation = [{ name: 'follower.position', size: arm.size }, ...fixedLayout];
        const policy = await OnnxPolicy.load(o.model, { jointNames: arm.names, observation });
        try {
          const r = await runDeploy({ follower: arm, policy, rateHz, durationS: o.durationS, estop: signal, recorder, observeExtra: target ? () => target : undefined });
          report(human, r, rateHz);
          await parkArm(arm);
          done = summary(o.model, r, rate, undefined);
        } finally {
          await policy.close();
        }
      }
    } finally {
      await recorder?.close();
    }
    // The run log is closed: the report reads it.
    await writeDeployReport(o, done, human);
    if (o.json) stdout.write(`${JSON.stringify(done)}\n`);
    return 0;
  },
};
