/**
 * `armbridge train`: recordings → dataset → split by episode → trainer → model folder with
 * policy.onnx (normalisation and metadata inside), summary.json and curve.svg.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeLabels, type LabelSummary } from '../dataset/action-labels.ts';
import { loadDataset, type LoadOptions } from '../dataset/load.ts';
import { featureSpec } from '../dataset/features.ts';
import { metadataToProps, POLICY_FORMAT, type PolicyMetadata } from '../dataset/policy-metadata.ts';
import { splitByEpisode } from '../dataset/split.ts';
import { ArmbridgeError } from '../errors.ts';
import { loadTf, type BackendName } from '../learn/backend.ts';
import { denseLayers } from '../learn/mlp.ts';
import { writeOnnx } from '../learn/onnx-export.ts';
import type { Normalization } from '../dataset/normalization.ts';
import type { MlpSnapshot } from '../learn/mlp.ts';
import { DEFAULT_STATE_NOISE, defaultEpochs, defaultOptimizer, trainPolicy, type EpochStats, type TrainConfig, type TrainResult } from '../learn/trainer.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { createTask, taskForObservation } from '../sim/create-task.ts';
import { taskNamed } from '../sim/task.ts';
import { renderSvg } from '../report/render.ts';
import { rollout } from './sim-rollout.ts';
import { poseNoiseOf, stateNoiseFor } from './perception-noise.ts';
import { describeBench, modelBench } from './sim-bench.ts';
import { trainLossFigure } from './train-figures.ts';

export class ModelFolderError extends ArmbridgeError {
  constructor(readonly path: string, options?: ErrorOptions) {
    super('MODEL_FOLDER', `cannot write the model folder ${path} (${(options?.cause as Error | undefined)?.message ?? 'unknown'}): choose another --out`, options);
  }
}

export interface TrainJob extends TrainConfig {
  readonly data: readonly string[];
  readonly out: string;
  readonly valFraction?: number;
  readonly backend?: BackendName;
  readonly load?: LoadOptions;
  /**
   * Predict actions relative to the current joint positions (follower.position in the observation);
   * the exported model adds them back. Default true when the observation has follower.position.
   */
  readonly relativeActions?: boolean;
  /**
   * Pick the checkpoint by success on held-out targets of the simulated task (robomimic's lesson:
   * validation loss and task success disagree). 'auto' (default): when every recording is simulated.
   * Targets are drawn from `seed` (default 900 000 + training seed), apart from evaluation seeds.
   */
  readonly selectOnSim?: 'auto' | false | { readonly episodes?: number; readonly everyEpochs?: number; readonly seed?: number };
  readonly onEpoch?: (s: EpochStats, epochs: number) => void;
  readonly log?: (line: string) => void;
}

export interface TrainOutcome {
  readonly result: TrainResult;
  readonly backend: BackendName;
  readonly modelPath: string;
  readonly summaryPath: string;
  readonly curvePath: string;
  readonly metadata: PolicyMetadata;
  readonly episodes: { readonly train: number; readonly val: number };
  /** Which action labels training used (recorded, derived from the states, mixed). */
  readonly labels: LabelSummary;
}

/** Validation episodes: few, since every held-out episode is a target the policy never sees (bench:learn's ablation). */
export const DEFAULT_VAL_FRACTION = 0.1;

export async function trainFromRecordings(job: TrainJob): Promise<TrainOutcome> {
  const log = job.log ?? (() => undefined);
  try {
    await mkdir(job.out, { recursive: true });
  } catch (e) {
    throw new ModelFolderError(job.out, { cause: e });
  }
  const ds = await loadDataset(job.data, job.load);
  checkObservation(ds.layout.observation);
  const hash = createHash('sha256');
  for (const f of job.data) hash.update(await readFile(f));
  const { train, val } = splitByEpisode(ds.episodes, job.valFraction ?? DEFAULT_VAL_FRACTION, job.seed ?? 0);
  // Joint noise: as asked, else the default raised by how much the recorded poses jitter (perception-noise.ts).
  const poseNoiseM = poseNoiseOf(train, ds.layout);
  const stateNoise = job.stateNoise ?? stateNoiseFor(poseNoiseM);
  if (job.stateNoise === undefined && stateNoise !== DEFAULT_STATE_NOISE) log(`the recorded poses jitter by about ${(poseNoiseM * 1000).toFixed(1)} mm: training with ${stateNoise.toFixed(3)} rad of joint noise (--state-noise to choose)\n`);
  const { tf, backend } = await loadTf(job.backend);
  const optimizer = job.optimizer ?? defaultOptimizer();
  log(`training ${job.algo} on ${train.length} episodes (${val.length} for validation), ${optimizer === 'wasm' ? 'wasm SIMD trainer' : `tfjs backend: ${backend}`}\n`);
  log(`${describeLabels(ds.labels)}\n`);
  const epochs = job.epochs ?? defaultEpochs(train.reduce((a, e) => a + e.length, 0));
  const followerAt = ds.layout.observation.findIndex((p) => p.name === 'follower.position');
  const actSize = ds.layout.action[0]!.size;
  const offset = ds.layout.observation.slice(0, Math.max(0, followerAt)).reduce((n, p) => n + p.size, 0);
  const relative = (job.relativeActions ?? true) && followerAt >= 0 && ds.layout.observation[followerAt]!.size === actSize;
  const actionBase = job.actionBase ?? (relative ? { offset } : undefined);
  const simSel = job.selectOnSim ?? 'auto';
  const arm = ds.arm as SimArmKind;
  // The simulated task the recordings were made on (their metadata), else the one whose poses the
  // observation holds (reach: the target; pick-place: cube and goal); a joint-only observation of
  // an older recording names none.
  const task = taskNamed(ds.bench.task) ?? taskForObservation(ds.layout.observation.map((p) => p.name));
  // Checkpoint selection runs the policy on the bench the recordings were made on, observing what they observed.
  const bench = modelBench({ observation: ds.layout.observation, sim: ds.bench });
  const selectOn = simSel !== false && ds.simulated && (arm === 'so101' || arm === 'koch') && task !== undefined ? (simSel === 'auto' ? {} : simSel) : undefined;
  const episodeS = ds.episodeS ?? (task ? createTask(task, 'so101').episodeS : 3);
  const rateHz = ds.rateHz ?? 20;
  const scratch = join(job.out, '.select.onnx');
  const selectBy = selectOn && {
    everyEpochs: selectOn.everyEpochs ?? 10,
    score: async (model: MlpSnapshot, norms: { obsNorm: Normalization; actNorm: Normalization }, epoch: number) => {
      await writeOnnx(scratch, { layers: denseLayers(model), obsMean: norms.obsNorm.mean, obsStd: norms.obsNorm.std, actMean: norms.actNorm.mean, actStd: norms.actNorm.std, actionBase, metadata: {} });
      const r = await rollout({ arm, task, seed: selectOn.seed ?? 900_000 + (job.seed ?? 0), episodes: selectOn.episodes ?? 30, episodeS, rateHz, driver: { kind: 'policy', model: scratch, observation: ds.layout.observation }, bench });
      // Success first; return breaks ties (scaled far below one episode's worth of success).
      const score = r.successRate + 1e-4 * (r.meanReturn / Math.max(1, rateHz * episodeS));
      log(`  checkpoint at epoch ${epoch}: ${(r.successRate * 100).toFixed(0)} % success on ${selectOn.episodes ?? 30} selection targets, return ${r.meanReturn.toFixed(2)}\n`);
      return score;
    },
  };
  if (selectBy) log(`choosing the checkpoint by success on the simulated ${task} task (${describeBench(bench)}) every ${selectBy.everyEpochs} epochs (validation loss only stops training)\n`);
  const result = await trainPolicy(tf, { train, val }, { ...job, stateNoise, actionBase, selectBy: job.selectBy ?? selectBy ?? undefined }, (s) => job.onEpoch?.(s, epochs)).finally(() => rm(scratch, { force: true }));
  const metadata: PolicyMetadata = {
    format: POLICY_FORMAT,
    arm: ds.arm,
    jointNames: ds.layout.jointNames,
    observation: ds.layout.observation,
    action: ds.layout.action,
    policyKind: job.algo === 'bc-gaussian' || job.loss === 'nll' ? 'mlp-gaussian' : 'mlp-deterministic',
    algo: job.algo === 'rwr' ? `rwr-${job.rwr?.kind ?? 'linear'}` : job.algo,
    rateHz: ds.rateHz,
    actionMode: actionBase ? 'relative' : 'absolute',
    actionLabels: ds.labels.source,
    labelHorizonSteps: ds.labels.horizonSteps,
    startPose: startPoseOf(train, ds.layout),
    episodeS: ds.episodeS,
    sim: ds.simulated && task ? { task, scene: bench.scene, observe: bench.observe, poseNoiseM: bench.poseNoiseM, poseLatencyMs: bench.poseLatencyMs, rewards: ds.bench.rewards } : undefined,
    dataDigest: hash.digest('hex'),
    trainingBackend: backend,
    created: new Date().toISOString(),
  };
  const modelPath = join(job.out, 'policy.onnx');
  const summaryPath = join(job.out, 'summary.json');
  const curvePath = join(job.out, 'curve.svg');
  // The loss per epoch with the kept checkpoint (and the selection scores), as in report.html;
  // rendered before the folder is written so a plotting error is not reported as a folder error.
  const curveSvg = await renderSvg(trainLossFigure('loss', metadata.algo, result));
  try {
    await writeOnnx(modelPath, {
      layers: denseLayers(result.model),
      obsMean: result.obsNorm.mean,
      obsStd: result.obsNorm.std,
      actMean: result.actNorm.mean,
      actStd: result.actNorm.std,
      actionBase,
      metadata: metadataToProps(metadata),
    });
    await writeFile(
      summaryPath,
      JSON.stringify(
        {
          config: { ...job, onEpoch: undefined, log: undefined },
          backend,
          engine: result.engine,
          data: job.data,
          dataDigest: metadata.dataDigest,
          episodes: { train: train.length, val: val.length },
          samples: { train: result.trainSamples, val: result.valSamples },
          epochs: result.history.length,
          bestEpoch: result.bestEpoch,
          bestValLoss: result.bestValLoss,
          selectionScores: result.selectionScores,
          actionMode: metadata.actionMode,
          stateNoise,
          poseNoiseM,
          actionLabels: { ...ds.labels, description: describeLabels(ds.labels) },
          rateHz: metadata.rateHz,
          stoppedEarly: result.stoppedEarly,
          weightSummary: result.weightSummary,
          history: result.history,
          logStd: result.model.logStd ? Array.from(result.model.logStd) : undefined,
        },
        null,
        2,
      ),
    );
    await writeFile(curvePath, curveSvg);
  } catch (e) {
    throw new ModelFolderError(job.out, { cause: e });
  }
  return { result, backend, modelPath, summaryPath, curvePath, metadata, episodes: { train: train.length, val: val.length }, labels: ds.labels };
}

/** The mean first follower.position of the training episodes: where eval on a real arm starts each episode. */
function startPoseOf(episodes: readonly { readonly observations: Float32Array; readonly length: number }[], layout: { readonly observation: readonly { readonly name: string; readonly size: number }[] }): number[] | undefined {
  const at = layout.observation.findIndex((p) => p.name === 'follower.position');
  if (at < 0) return undefined;
  const offset = layout.observation.slice(0, at).reduce((n, p) => n + p.size, 0);
  const size = layout.observation[at]!.size;
  const used = episodes.filter((e) => e.length > 0);
  if (!used.length) return undefined;
  const sum = new Array<number>(size).fill(0);
  for (const e of used) for (let i = 0; i < size; i++) sum[i] = sum[i]! + e.observations[offset + i]!;
  return sum.map((x) => x / used.length);
}

export class ObservationLayoutError extends ArmbridgeError {
  constructor(readonly observation: readonly string[], detail: string) {
    super('OBSERVATION_LAYOUT', `cannot train on the observation [${observation.join(', ')}]: ${detail}; e.g. --obs follower.position,pose:/cup_pose`);
  }
}

/**
 * What a policy can be deployed with: the follower's joints first (the loop reads them every
 * cycle), then poses (from a flag, a topic or the simulated perception). Anything else would train
 * a model that no deploy path can feed.
 */
function checkObservation(observation: readonly { readonly name: string }[]): void {
  const names = observation.map((f) => f.name);
  if (names[0] !== 'follower.position') throw new ObservationLayoutError(names, 'it must start with follower.position (the joints the control loop reads every cycle)');
  const other = names.slice(1).find((n) => featureSpec(n)?.kind !== 'pose_position');
  if (other) throw new ObservationLayoutError(names, `${other} is not a pose: after the joints a policy observes poses (target.position, object.position, goal.position, pose:/TOPIC), which deploy and ros deploy can supply`);
}
