import { z } from 'zod';
import { mkdir } from 'node:fs/promises';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { OnnxPolicy } from '../../control/onnx-policy.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../../record/recorder.ts';
import { evalOnArm } from '../../workflows/eval-arm.ts';
import { fixedObservation, fixedPoseOptions } from '../fixed-observation.ts';
import { terminalKeys } from '../keys.ts';
import { LabelLines } from '../label-lines.ts';
import { modelFile } from '../../control/model-path.ts';
import { readPolicyMetadata } from '../../control/control-rate.ts';
import { ModelMismatchError } from '../../control/errors.ts';
import { armProfile } from '../../arm/profiles.ts';
import { table } from '../../workflows/table.ts';
import { dirname, join } from 'node:path';
import { UsageError, type Command } from '../command.ts';
import { noReportOption, settingsOf, writeRunReport } from '../run-report.ts';
import { histogramFigure, successReturnFigure } from '../../report/figures.ts';
import { taskOfModel } from '../model-task.ts';
import { createTask } from '../../sim/create-task.ts';
import { simBenchOptions } from '../sim-bench-options.ts';
import { describeBench, modelBench, type SimBench } from '../../workflows/sim-bench.ts';

/** Held-out targets: the world's seed is this plus --seed, far from the seeds demonstrations and training use. */
export const EVAL_SEED_OFFSET = 100_000;
/** Rate for the scripted operator and for models that do not say theirs, Hz (the learning benchmark's). */
const DEFAULT_RATE_HZ = 20;

const options = z.object({
  sim: z.boolean().default(true).describe('Evaluate on the simulated task (default; --follower evaluates on a real arm instead)'),
  follower: z.string().optional().describe('Evaluate on a real arm: its serial port. Each episode starts at the model\'s start pose (reached slowly), runs the policy for the episode\'s length, holds, and takes your label (s / f / a score, as in record); every episode goes to the run log (--log)'),
  followerCalibration: z.string().optional().describe('--follower: its calibration file (default calibration/<arm>-follower.json)'),
  log: z.string().optional().describe('--follower: run log (MCAP; the episodes with their labels, training data) (default <model folder>/eval-arm-<time>.mcap)'),
  ...fixedPoseOptions,
  arm: z.enum(['so101', 'koch']).default('so101').describe('Simulated arm'),
  task: z.enum(['reach', 'pick-place']).optional().describe("Simulated task: reach a target, or pick the cube and place it on the goal (default: the model's, from the poses it observes; reach for an operator)"),
  model: z.string().transform(modelFile).optional().describe('policy.onnx to evaluate, or its folder (or --operator)'),
  operator: z.enum(['expert', 'noisy', 'poor']).optional().describe('Evaluate the scripted operator of this skill instead of a model'),
  episodes: z.coerce.number().int().positive().default(100).describe('Episodes (one held-out target each)'),
  seed: z.coerce.number().int().min(0).default(0).describe(`Seed of the held-out targets (the world runs at seed ${EVAL_SEED_OFFSET} + this): the same targets for every model at the same seed`),
  rate: z.coerce.number().positive().max(2000).optional().describe(`Control rate, Hz (default: the model's own rate, else ${DEFAULT_RATE_HZ})`),
  episodeS: z.coerce.number().positive().optional().describe('Length of an episode, s (default: the task\'s, 3 for reach, 8 for pick-place)'),
  scene: simBenchOptions.scene,
  observe: simBenchOptions.observe,
  poseNoise: simBenchOptions.poseNoise,
  poseLatencyMs: simBenchOptions.poseLatencyMs,
  json: z.boolean().default(false).describe('Print one JSON object {successRate, meanReturn, stdReturn, episodes} on stdout and nothing else there (progress on stderr)'),
  out: z.string().optional().describe("Run folder for report.html (default: eval-<arm>-seed<seed>-<episodes>ep next to the model, or runs/eval-<operator>-… for an operator)"),
  noReport: noReportOption,
});

/** One episode of the --json output. */
export interface EvalEpisodeJson {
  readonly index: number;
  readonly success: boolean;
  readonly return: number;
  readonly finalDistanceM: number;
  /** The operator's skill, or 'policy'. */
  readonly skill: string;
  /** The scripted operator's failure mode in this episode ('none' for an expert or a policy). */
  readonly failure: string;
  /** The task's reason: 'success', or why not (reach: not_held; pick-place: never_grasped, dropped, wrong_spot, put_back, still_held, not_clear). */
  readonly outcome: string;
}

export interface EvalJson {
  readonly successRate: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
  readonly episodes: readonly EvalEpisodeJson[];
}

export const evalCommand: Command<typeof options> = {
  name: 'eval',
  summary: 'Evaluate a policy (or the scripted operator) on held-out targets of the simulated task: success rate, return, per-episode table',
  options,
  examples: [
    'armbridge eval --sim --arm so101 --task reach --model models/reach-bc/policy.onnx --episodes 100 --seed 1',
    'armbridge eval --sim --operator expert --episodes 100 --seed 1 --json',
    'armbridge eval --follower /dev/ttyACM0 --model models/pick-bc --episodes 10',
  ],
  async run(o, { stdout, stderr, signal, stdin }) {
    if (o.follower !== undefined) return evalOnFollower(o, { stdout, stderr, signal, stdin });
    if ((o.model === undefined) === (o.operator === undefined)) throw new UsageError('give either --model policy.onnx or --operator expert|noisy|poor');
    // With --json, stdout carries the JSON object alone: every human-readable line goes to stderr.
    const human = o.json ? stderr : stdout;
    let rateHz = o.rate ?? DEFAULT_RATE_HZ;
    const meta = o.model !== undefined ? await readPolicyMetadata(o.model) : undefined;
    const task = o.task ?? (o.model !== undefined ? await taskOfModel(o.model) : undefined) ?? 'reach';
    const simTask = createTask(task, o.arm);
    // The model's episodes were this long (its recordings' episode_s), else the task's default.
    const episodeS = o.episodeS ?? meta?.episodeS ?? simTask.episodeS;
    // The bench: as asked, else as the model was trained (scene, perception), else random scenes with exact poses.
    const asked: SimBench = { scene: o.scene, observe: o.observe, poseNoiseM: o.poseNoise, poseLatencyMs: o.poseLatencyMs };
    // The scripted operator (no model) observes the task's poses.
    const bench = meta ? modelBench(meta, asked) : { ...asked, observe: asked.observe ?? 'poses', poseNoiseM: asked.poseNoiseM ?? 0, poseLatencyMs: asked.poseLatencyMs ?? 0 };
    if (o.model !== undefined && meta) {
      // The rollout feeds what the model observes from the simulated bench, and refuses what the bench cannot give.
      const joints = armProfile(o.arm, 'follower').joints.map((j) => j.name);
      if (meta.jointNames.join(',') !== joints.join(',')) throw new ModelMismatchError(o.model, `it was trained on joints [${meta.jointNames.join(',')}], the simulated ${o.arm} has [${joints.join(',')}]`, meta.arm && meta.arm !== o.arm ? `evaluate it with --arm ${meta.arm}` : undefined);
      if (o.rate === undefined) rateHz = meta.rateHz ?? DEFAULT_RATE_HZ;
      else if (meta.rateHz !== undefined && meta.rateHz !== o.rate) human.write(`note: model ${o.model} was trained at ${meta.rateHz} Hz; evaluating at ${o.rate} Hz as asked\n`);
    }
    const who = o.model !== undefined ? `model ${o.model}` : `the scripted ${o.operator} operator`;
    const worldSeed = EVAL_SEED_OFFSET + o.seed;
    const benchText = describeBench(bench);
    human.write(`evaluating ${who} on ${o.episodes} held-out ${task} episodes (simulated ${o.arm}, ${benchText}, seed ${o.seed} → world seed ${worldSeed}) at ${rateHz} Hz, ${episodeS} s per episode\n`);
    // onnxruntime (imported by the rollout module) is heavy: loaded only when used.
    const { rollout } = await import('../../workflows/sim-rollout.ts');
    const r = await rollout({
      arm: o.arm,
      task,
      seed: worldSeed,
      episodes: o.episodes,
      episodeS,
      rateHz,
      driver: o.model !== undefined ? { kind: 'policy', model: o.model } : { kind: 'operator', mix: { [o.operator!]: 1 } },
      bench,
    });
    // Written last, so the report line follows the results.
    const saveReport = async () => {
      if (o.noReport) return;
      // Next to the model it judges (or under runs/ for an operator); the same evaluation lands in the same folder.
      const name = `eval-${task === 'reach' ? '' : `${task}-`}${o.model !== undefined ? '' : `${o.operator}-`}${o.arm}-seed${o.seed}-${o.episodes}ep`;
      const out = o.out ?? join(o.model !== undefined ? dirname(o.model) : 'runs', name);
      const label = o.model !== undefined ? o.model : `scripted ${o.operator} operator`;
      await writeRunReport(join(out, 'report.html'), {
        title: `armbridge eval: ${label}`,
        subtitle: `${o.episodes} held-out ${task} episodes on the simulated ${o.arm}, ${benchText} (seed ${o.seed} → world seed ${worldSeed}) at ${rateHz} Hz, ${episodeS} s per episode`,
        settings: settingsOf({ ...o, task, rateHz, episodeS, scene: bench.scene, observe: bench.observe, poseNoise: bench.poseNoiseM, poseLatencyMs: bench.poseLatencyMs }),
        figures: [
          successReturnFigure('success-return', 'Success and return', [{ label, success: r.successRate, episodes: r.episodes.length, meanReturn: r.meanReturn, stdReturn: r.stdReturn }], o.model !== undefined ? 'model' : 'operator'),
          histogramFigure('returns', 'Return per episode', r.episodes.map((e) => e.return), 'return', '#f58518'),
          histogramFigure('final-distance', task === 'pick-place' ? 'Distance from the cube to the goal at the end of each episode' : 'Distance to the target at the end of each episode', r.episodes.map((e) => e.finalDistanceM * 100), 'cm', '#54a24b'),
        ],
        tables: [
          { title: 'Result', header: ['success', 'mean return', 'episodes'], rows: [[`${(r.successRate * 100).toFixed(1)} % (${r.episodes.filter((e) => e.success).length}/${r.episodes.length})`, `${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)}`, r.episodes.length]] },
          { title: 'Episodes', header: ['episode', 'success', 'return', 'final distance (cm)', 'skill', 'failure', 'outcome'], rows: r.episodes.map((e) => [e.index, e.success ? 'yes' : 'no', e.return.toFixed(2), (e.finalDistanceM * 100).toFixed(1), e.skill, e.failure, e.outcome]) },
        ],
        links: o.model !== undefined ? [{ label: 'model (ONNX)', path: o.model }] : [],
        data: { successRate: r.successRate, meanReturn: r.meanReturn, stdReturn: r.stdReturn },
      }, human);
    };
    if (o.json) {
      const json: EvalJson = {
        successRate: r.successRate,
        meanReturn: r.meanReturn,
        stdReturn: r.stdReturn,
        episodes: r.episodes.map((e) => ({ index: e.index, success: e.success, return: e.return, finalDistanceM: e.finalDistanceM, skill: e.skill, failure: e.failure, outcome: e.outcome })),
      };
      await saveReport();
      stdout.write(`${JSON.stringify(json)}\n`);
      return 0;
    }
    stdout.write(
      table(
        ['episode', 'success', 'return', 'final distance (cm)'],
        r.episodes.map((e) => [e.index, e.success ? 'yes' : 'no', e.return.toFixed(2), (e.finalDistanceM * 100).toFixed(1)]),
      ),
    );
    stdout.write(`\nsuccess ${(r.successRate * 100).toFixed(1)} % (${r.episodes.filter((e) => e.success).length}/${r.episodes.length}), mean return ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} (std over episodes)\n`);
    await saveReport();
    return 0;
  },
};

type EvalOptions = z.infer<typeof options>;

/** eval --follower: the policy on a real arm, labelled by the person after each episode. */
async function evalOnFollower(o: EvalOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal: AbortSignal; stdin?: NodeJS.ReadableStream }): Promise<number> {
  const human = o.json ? io.stderr : io.stdout;
  if (o.model === undefined) throw new UsageError('eval --follower needs --model (a policy to run on the arm); the scripted operator exists on the simulator only');
  if (o.operator !== undefined) throw new UsageError('--operator evaluates the simulated operator: leave it out with --follower');
  const meta = await readPolicyMetadata(o.model);
  const profile = armProfile(o.arm, 'follower');
  const joints = profile.joints.map((j) => j.name);
  if (meta.jointNames.join(',') !== joints.join(',')) throw new ModelMismatchError(o.model, `it was trained on joints [${meta.jointNames.join(',')}], the ${o.arm} has [${joints.join(',')}]`, meta.arm && meta.arm !== o.arm ? `give --arm ${meta.arm}` : undefined);
  // Every observed pose from a flag, refused before the arm moves.
  const fixed = fixedObservation(o.model, meta.observation, o);
  const rateHz = o.rate ?? meta.rateHz ?? DEFAULT_RATE_HZ;
  const episodeS = o.episodeS ?? meta.episodeS;
  if (episodeS === undefined) throw new UsageError(`the model ${o.model} does not say how long its training episodes were: give --episode-s`);
  const startPose = meta.startPose && meta.startPose.length === joints.length ? meta.startPose : profile.restPose;
  if (startPose === profile.restPose) human.write(`note: ${o.model} does not say where its training episodes started (an older model): each episode starts from the ${o.arm}'s rest pose\n`);
  const calibration = await loadCalibration(o.followerCalibration ?? `calibration/${o.arm}-follower.json`);
  const log = o.log ?? join(dirname(o.model), `eval-arm-${new Date().toISOString().replace(/[:.]/g, '-')}.mcap`);
  const input = (io.stdin ?? process.stdin) as NodeJS.ReadStream;
  // Ctrl-C in the terminal's raw mode, and the e-stop keys, stop the arm as in deploy and record.
  const estop = new AbortController();
  const onSignal = () => estop.abort();
  io.signal.addEventListener('abort', onSignal, { once: true });
  const keys = input.isTTY ? terminalKeys(input, () => estop.abort()) : undefined;
  const lines = keys ? undefined : new LabelLines(input);
  if (keys) human.write('keys: q = stop after this episode (then parked), e, space or Ctrl-C = e-stop (hold, torque off); after each episode s / f, or type a score and Enter\n');
  await mkdir(dirname(log), { recursive: true }).catch(() => undefined);
  const recorder = await Recorder.create({ path: log }, { arm: o.arm, rate_hz: String(rateHz), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: `policy ${o.model}`, simulated: 'false', joint_names: joints.join(','), episode_s: String(episodeS), evaluation: 'eval --follower (labels typed by a person)' });
  try {
    await using arm = await Arm.open({ profile, calibration, path: o.follower! });
    const policy = await OnnxPolicy.load(o.model, { jointNames: arm.names, observation: [{ name: 'follower.position', size: arm.size }, ...fixed.layout] });
    try {
      human.write(`evaluating ${o.model} on the ${o.arm} at ${o.follower}: ${o.episodes} episodes of ${episodeS} s at ${rateHz} Hz, each from the start pose [${startPose.map((x) => x.toFixed(2)).join(', ')}]; run log ${log}\n`);
      const r = await evalOnArm({
        follower: arm,
        policy,
        rateHz,
        episodes: o.episodes,
        episodeS,
        startPose,
        extra: fixed.values.length ? fixed : undefined,
        recorder,
        estop: estop.signal,
        control: () => {
          const k = keys?.poll();
          return k === 'estop' ? 'estop' : k === 'stop' ? 'stop' : undefined;
        },
        label: () => (keys ? keys.nextLabel(estop.signal) : lines!.next(estop.signal)).then((l) => l ?? undefined),
        say: (s) => human.write(s),
      });
      const labelled = r.episodes.filter((e) => e.outcome !== 'unlabelled').length;
      human.write(`\nsuccess ${Number.isFinite(r.successRate) ? `${(r.successRate * 100).toFixed(1)} %` : 'n/a'} (${r.episodes.filter((e) => e.outcome === 'success').length}/${r.episodes.length}, ${labelled} labelled), mean return ${Number.isFinite(r.meanReturn) ? r.meanReturn.toFixed(2) : 'n/a'}; run log ${log}\n`);
      if (o.json) {
        const finite = (x: number) => (Number.isFinite(x) ? x : null);
        io.stdout.write(`${JSON.stringify({ successRate: finite(r.successRate), meanReturn: finite(r.meanReturn), stdReturn: finite(r.stdReturn), episodes: r.episodes.map((e) => ({ index: e.index, success: e.outcome === 'success', return: e.return, finalDistanceM: null, skill: 'policy', failure: 'none', outcome: e.outcome })), log })}\n`);
      }
      return 0;
    } finally {
      await policy.close();
      // Lowered before torque goes off (also after a fault), unless an e-stop cut it where it was.
      if (!estop.signal.aborted) await parkArm(arm).catch(() => undefined);
    }
  } finally {
    io.signal.removeEventListener('abort', onSignal);
    keys?.close();
    lines?.close();
    await recorder.close();
  }
}
