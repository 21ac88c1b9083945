/**
 * Offline evaluation: the policy's action for every recorded observation next to the recorded
 * action. Per-joint error (mean absolute, p95), the two series per joint (for the plots, which
 * workflows and the CLI draw: this layer does not plot) and a summary: how people check a model
 * before putting it on hardware.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxPolicy } from '../control/onnx-policy.ts';
import { loadDataset } from '../dataset/load.ts';
import { NoRecordedActionsError } from '../dataset/action-labels.ts';
import { MissingFeatureError } from '../dataset/errors.ts';
import { readPolicyMetadata } from '../control/control-rate.ts';

export interface JointError {
  readonly joint: string;
  readonly meanAbs: number;
  readonly p95Abs: number;
}

export interface OfflineReport {
  readonly file: string;
  readonly model: string;
  readonly samples: number;
  readonly episodes: number;
  readonly joints: JointError[];
  /** Sample rate of the recording, Hz (the time axis of `series`; 1 when the recording does not say). */
  readonly rateHz: number;
  /** summary.json in the output folder. */
  readonly summaryFile: string;
  /** Per-joint series for plots: not in summary.json. */
  readonly series: OfflineSeries;
}

/** Every kept episode's samples one after the other. */
export interface OfflineSeries {
  readonly jointNames: readonly string[];
  /** Per sample: seconds from the first sample, episodes laid end to end (sample index / rate). */
  readonly timeS: Float64Array;
  /** Start time of each episode on that axis, s, with its index in the recording. */
  readonly episodeStarts: readonly { readonly index: number; readonly file: string; readonly timeS: number }[];
  /** [joint][sample]: the recorded action and the policy's action for the same observation. */
  readonly recorded: readonly Float64Array[];
  readonly predicted: readonly Float64Array[];
}

const p95 = (sorted: readonly number[]) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.95 * sorted.length) - 1))] ?? NaN;

export async function replayAgainstPolicy(file: string, model: string, outDir: string): Promise<OfflineReport> {
  // The model's own observation (when its metadata is readable; else the recording's, and loading the model says why not),
  // against the actions the recording holds: derived labels are no recorded action to compare with.
  const observed = await readPolicyMetadata(model).then((m) => m.observation.map((f) => f.name)).catch(() => undefined);
  const ds = await loadDataset([file], { observation: observed, labels: 'recorded' }).catch((e: unknown) => {
    if (e instanceof NoRecordedActionsError) throw new MissingFeatureError(file, 'action.position', '/action', 'replay --to policy compares the policy with the recorded actions: give a recording made with a leader arm or a policy (kinesthetic and state-only recordings have none)');
    throw e;
  });
  const policy = await OnnxPolicy.load(model, { jointNames: ds.layout.jointNames, observation: ds.layout.observation }, 0);
  try {
    const n = ds.layout.jointNames.length;
    const obsSize = policy.obsSize;
    const recorded: number[][] = ds.layout.jointNames.map(() => []);
    const predicted: number[][] = ds.layout.jointNames.map(() => []);
    const rateHz = ds.rateHz ?? 1;
    const episodeStarts: { index: number; file: string; timeS: number }[] = [];
    for (const e of ds.episodes) {
      episodeStarts.push({ index: e.index, file: e.file, timeS: recorded[0]!.length / rateHz });
      for (let t = 0; t < e.length; t++) {
        const a = await policy.infer(e.observations.subarray(t * obsSize, (t + 1) * obsSize));
        for (let j = 0; j < n; j++) {
          recorded[j]!.push(e.actions[t * n + j]!);
          predicted[j]!.push(a[j]!);
        }
      }
    }
    await mkdir(outDir, { recursive: true });
    const joints: JointError[] = [];
    for (let j = 0; j < n; j++) {
      const err = recorded[j]!.map((v, i) => Math.abs(v - predicted[j]![i]!)).sort((a, b) => a - b);
      const name = ds.layout.jointNames[j]!;
      joints.push({ joint: name, meanAbs: err.reduce((a, b) => a + b, 0) / Math.max(1, err.length), p95Abs: p95(err) });
    }
    const samples = recorded[0]!.length;
    const summaryFile = join(outDir, 'summary.json');
    const summary = { file, model, samples, episodes: ds.episodes.length, rateHz, joints };
    await writeFile(summaryFile, JSON.stringify(summary, null, 2));
    const series: OfflineSeries = {
      jointNames: ds.layout.jointNames,
      timeS: Float64Array.from({ length: samples }, (_, i) => i / rateHz),
      episodeStarts,
      recorded: recorded.map((r) => Float64Array.from(r)),
      predicted: predicted.map((p) => Float64Array.from(p)),
    };
    return { ...summary, summaryFile, series };
  } finally {
    await policy.close();
  }
}
