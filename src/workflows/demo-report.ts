/**
 * The demo's report.html: every figure of the run (training curves with the kept checkpoint,
 * success and return per method, the deployment loop's timing and safety, the per-joint replay
 * with the episode reproduced on the arm), the summary table, the settings and links to the files.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainResult } from '../learn/trainer.ts';
import type { OfflineReport } from '../replay/offline.ts';
import { successReturnFigure } from '../report/figures.ts';
import { writeReport, type ReportLink } from '../report/html.ts';
import { deployFigures, deployTimingRows, readDeployLog } from './deploy-figures.ts';
import { FOXGLOVE_LAYOUT } from './paths.ts';
import { replayJointFigures, type ReproducedEpisode } from './replay-figures.ts';
import { trainLossFigure } from './train-figures.ts';

/** A method's held-out evaluation. */
export interface EvaluatedMethod {
  readonly method: string;
  readonly successRate: number;
  readonly episodes: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
}

export interface DemoReportInput {
  readonly runDir: string;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly summary: { readonly header: readonly string[]; readonly rows: readonly (readonly (string | number)[])[] };
  /** The scripted expert first, then each trained method. */
  readonly methods: readonly EvaluatedMethod[];
  /** Iterated RWR: each round's held-out evaluation (round 0: trained on the demonstrations). */
  readonly rounds: readonly EvaluatedMethod[];
  readonly trained: readonly { readonly method: string; readonly result: Pick<TrainResult, 'history' | 'bestEpoch' | 'bestValLoss' | 'selectionScores'> }[];
  readonly deploy: { readonly method: string; readonly log: string; readonly rateHz: number };
  readonly replay: OfflineReport;
  readonly reproduced?: ReproducedEpisode;
  readonly links: readonly ReportLink[];
}

export async function writeDemoReport(input: DemoReportInput): Promise<string> {
  const deployLog = await readDeployLog(input.deploy.log);
  // The Foxglove layout travels with the run folder, next to the recordings it opens.
  const layout = join(input.runDir, 'foxglove-layout.json');
  await copyFile(FOXGLOVE_LAYOUT, layout);
  const figures = [
    successReturnFigure('methods', 'Success and return per method (held-out targets)', input.methods.map((m) => ({ label: m.method, success: m.successRate, episodes: m.episodes, meanReturn: m.meanReturn, stdReturn: m.stdReturn })), 'method'),
    ...(input.rounds.length ? [successReturnFigure('rounds', 'Iterated RWR: success and return per round (held-out targets)', input.rounds.map((m) => ({ label: m.method, success: m.successRate, episodes: m.episodes, meanReturn: m.meanReturn, stdReturn: m.stdReturn })), 'round')] : []),
    ...input.trained.map((t, k) => trainLossFigure(`loss-${k}`, t.method, t.result)),
    ...deployFigures(deployLog, input.deploy.rateHz),
    ...replayJointFigures(input.replay, input.reproduced),
  ];
  return writeReport(join(input.runDir, 'report.html'), {
    title: 'armbridge demo',
    subtitle: `run folder ${input.runDir}, ${new Date().toISOString()}: simulated arms speaking the real servo protocols over a real serial stack`,
    settings: input.settings,
    figures,
    tables: [
      { title: 'Stages', header: input.summary.header, rows: input.summary.rows },
      { title: `Deployment of ${input.deploy.method}: timing from the run log`, header: ['quantity', 'p50', 'p99', 'samples'], rows: deployTimingRows(deployLog) },
      { title: 'Replay offline: per-joint error, predicted vs recorded action', header: ['joint', 'mean |error|', 'p95 |error|'], rows: input.replay.joints.map((j) => [j.joint, j.meanAbs.toFixed(4), j.p95Abs.toFixed(4)]) },
    ],
    links: [...input.links, { label: 'Foxglove layout (open the recordings and the run log with it)', path: layout }],
  });
}
