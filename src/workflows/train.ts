/**
 * `armbridge train`: recordings → dataset → split by episode → trainer → model folder with
 * policy.onnx (normalisation and metadata inside), summary.json and curve.svg.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDataset, type LoadOptions } from '../dataset/load.ts';
import { metadataToProps, POLICY_FORMAT, type PolicyMetadata } from '../dataset/policy-metadata.ts';
import { splitByEpisode } from '../dataset/split.ts';
import { ArmbridgeError } from '../errors.ts';
import { loadTf, type BackendName } from '../learn/backend.ts';
import { denseLayers } from '../learn/mlp.ts';
import { writeOnnx } from '../learn/onnx-export.ts';
import { lossCurveSvg } from '../learn/plot.ts';
import { trainPolicy, type EpochStats, type TrainConfig, type TrainResult } from '../learn/trainer.ts';

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
}

export async function trainFromRecordings(job: TrainJob): Promise<TrainOutcome> {
  const log = job.log ?? (() => undefined);
  try {
    await mkdir(job.out, { recursive: true });
  } catch (e) {
    throw new ModelFolderError(job.out, { cause: e });
  }
  const ds = await loadDataset(job.data, job.load);
  const hash = createHash('sha256');
  for (const f of job.data) hash.update(await readFile(f));
  const { train, val } = splitByEpisode(ds.episodes, job.valFraction ?? 0.2, job.seed ?? 0);
  const { tf, backend } = await loadTf(job.backend);
  log(`training ${job.algo} on ${train.length} episodes (${val.length} for validation), tfjs backend: ${backend}\n`);
  const epochs = job.epochs ?? 100;
  const result = await trainPolicy(tf, { train, val }, job, (s) => job.onEpoch?.(s, epochs));
  const metadata: PolicyMetadata = {
    format: POLICY_FORMAT,
    arm: ds.arm,
    jointNames: ds.layout.jointNames,
    observation: ds.layout.observation,
    action: ds.layout.action,
    policyKind: job.algo === 'bc-gaussian' || job.loss === 'nll' ? 'mlp-gaussian' : 'mlp-deterministic',
    algo: job.algo === 'rwr' ? `rwr-${job.rwr?.kind ?? 'linear'}` : job.algo,
    dataDigest: hash.digest('hex'),
    trainingBackend: backend,
    created: new Date().toISOString(),
  };
  const modelPath = join(job.out, 'policy.onnx');
  const summaryPath = join(job.out, 'summary.json');
  const curvePath = join(job.out, 'curve.svg');
  try {
    await writeOnnx(modelPath, {
      layers: denseLayers(result.model),
      obsMean: result.obsNorm.mean,
      obsStd: result.obsNorm.std,
      actMean: result.actNorm.mean,
      actStd: result.actNorm.std,
      metadata: metadataToProps(metadata),
    });
    await writeFile(
      summaryPath,
      JSON.stringify(
        {
          config: { ...job, onEpoch: undefined, log: undefined },
          backend,
          data: job.data,
          dataDigest: metadata.dataDigest,
          episodes: { train: train.length, val: val.length },
          samples: { train: result.trainSamples, val: result.valSamples },
          epochs: result.history.length,
          bestEpoch: result.bestEpoch,
          bestValLoss: result.bestValLoss,
          stoppedEarly: result.stoppedEarly,
          weightSummary: result.weightSummary,
          history: result.history,
          logStd: result.model.logStd ? Array.from(result.model.logStd) : undefined,
        },
        null,
        2,
      ),
    );
    await writeFile(
      curvePath,
      lossCurveSvg(
        `${metadata.algo}: loss per epoch (best ${result.bestValLoss.toPrecision(3)} at ${result.bestEpoch})`,
        [
          { name: 'train', color: '#1f77b4', values: result.history.map((h) => h.trainLoss) },
          { name: 'validation', color: '#d62728', values: result.history.map((h) => h.valLoss) },
        ],
        result.bestEpoch,
      ),
    );
  } catch (e) {
    throw new ModelFolderError(job.out, { cause: e });
  }
  return { result, backend, modelPath, summaryPath, curvePath, metadata, episodes: { train: train.length, val: val.length } };
}
