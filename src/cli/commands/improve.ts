import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { modelFolder } from '../../control/model-path.ts';
import { DEFAULT_FINE_TUNE, improve } from '../../workflows/improve.ts';
import { table } from '../../workflows/table.ts';
import { readPolicyMetadata } from '../../control/control-rate.ts';
import { UsageError, type Command } from '../command.ts';
import { simBenchOptions } from '../sim-bench-options.ts';
import { noReportOption, settingsOf, writeRunReport } from '../run-report.ts';
import { successReturnFigure } from '../../report/figures.ts';

const options = z.object({
  model: z.string().transform(modelFolder).optional().describe('A model folder made by armbridge train (or its policy.onnx): its data and settings are the starting point'),
  data: z.string().optional().describe('Recordings to start from (instead of --model): comma-separated'),
  sim: z.boolean().default(true).describe('Roll out on the simulated task (the only option for now)'),
  arm: z.enum(['so101', 'koch']).optional().describe("Simulated arm (default: the --model's arm, else so101)"),
  scene: simBenchOptions.scene,
  observe: simBenchOptions.observe,
  poseNoise: simBenchOptions.poseNoise,
  poseLatencyMs: simBenchOptions.poseLatencyMs,
  rewards: z.enum(['sim', 'labels']).optional().describe("Rollouts' returns: sim (the task's dense reward) or labels (each rollout labelled success / failure by the simulated judge, as a person would) (default: as the data was recorded)"),
  task: z.enum(['reach', 'pick-place']).optional().describe('Simulated task (default: the one the data was recorded on: pick-place when it has the object and goal poses)'),
  algo: z.enum(['rwr', 'awr']).default('rwr').describe('Weighting used in every round'),
  rwrTransform: z.enum(['linear', 'exp']).default('exp').describe('RWR return transform'),
  beta: z.coerce.number().positive().optional().describe('Temperature β (rwr: default 0.5, in robust standard deviations of returns compared with episodes that started alike; awr: default 1)'),
  iterations: z.coerce.number().int().positive().default(5).describe('Rounds of roll out → score → add → retrain'),
  rollouts: z.coerce.number().int().positive().default(100).describe('Rollouts per round'),
  evalEpisodes: z.coerce.number().int().positive().default(100).describe('Evaluation episodes per round (held-out targets)'),
  epochs: z.coerce.number().int().positive().optional().describe("Epochs of round 0, and of every round with --fine-tune-epochs 0 (default: as armbridge train, about 6 M sample presentations, 30…100)"),
  explorationGain: z.coerce.number().min(0).default(0.3).describe('Rollouts: log-std of a per-episode gain on the commanded change (bolder or more careful episodes)'),
  explorationStd: z.coerce.number().min(0).default(0.01).describe('Rollouts: Gaussian noise on each action, rad'),
  fineTuneEpochs: z.coerce.number().int().min(0).default(DEFAULT_FINE_TUNE.epochs).describe("Rounds after the first fine-tune the kept model (its weights and normalisation) on all the data so far for this many epochs; 0: train every round's model from scratch"),
  fineTuneLr: z.coerce.number().positive().default(DEFAULT_FINE_TUNE.learningRate).describe('Learning rate of the fine-tuning rounds'),
  acceptEpisodes: z.coerce.number().int().min(0).default(50).describe("Each round's model is kept only if its mean return on this many acceptance scenes (the same every round, apart from evaluation's) is at least the best so far's; otherwise the next rollouts come from the best so far. 0: keep every round"),
  seed: z.coerce.number().int().default(0).describe('Seed'),
  out: z.string().describe('Folder for every round: models and rollout recordings'),
  json: z.boolean().default(false).describe('Print one JSON object {rounds: [{round, eval: {successRate, meanReturn, stdReturn}}]} on stdout (round 0: the starting model) and nothing else there; progress on stderr'),
  noReport: noReportOption,
});

/** The --json output: each round's held-out evaluation (round 0 is the starting model). */
export interface ImproveJson {
  readonly rounds: readonly {
    readonly round: number;
    readonly model: string;
    readonly trainEpisodes: number;
    /** Epochs trained, and the round whose model it fine-tuned (null: trained from scratch). */
    readonly epochs: number;
    readonly fineTunedFrom: number | null;
    readonly eval: { readonly successRate: number; readonly meanReturn: number; readonly stdReturn: number };
    /** Mean return on the acceptance scenes, and whether this round's model was kept (handed on). */
    readonly acceptReturn: number | null;
    readonly accepted: boolean;
    /** The round whose model this round hands on. */
    readonly keptRound: number;
  }[];
}

export const improveCommand: Command<typeof options> = {
  name: 'improve',
  summary: 'Iterated RWR / AWR on the simulated task: roll out, score, add to the data, retrain',
  options,
  examples: ['armbridge improve --model models/reach-rwr --iterations 5 --out models/reach-improved', 'armbridge improve --model models/reach-rwr --iterations 3 --out models/reach-improved --json'],
  async run(o, { stdout, stderr }) {
    // With --json, stdout carries the JSON object alone: every human-readable line goes to stderr.
    const human = o.json ? stderr : stdout;
    let data = o.data?.split(',').filter(Boolean) ?? [];
    let hidden: number[] | undefined;
    let arm = o.arm;
    if (o.model) {
      const modelArm = (await readPolicyMetadata(join(o.model, 'policy.onnx'))).arm;
      if (modelArm !== 'so101' && modelArm !== 'koch') throw new UsageError(`the model in ${o.model} is for the arm "${modelArm}"; the simulated task has so101 and koch`);
      if (arm !== undefined && arm !== modelArm) throw new UsageError(`--arm ${arm}, but the model in ${o.model} was trained on ${modelArm}`);
      arm = modelArm;
      const summary = JSON.parse(await readFile(join(o.model, 'summary.json'), 'utf8')) as { data: string[]; config: { hidden?: number[] } };
      data = summary.data;
      hidden = summary.config.hidden;
    }
    if (data.length === 0) {
      stderr.write('give --model FOLDER (from armbridge train) or --data FILES\n');
      return 2;
    }
    const rounds = await improve({
      arm: arm ?? 'so101',
      task: o.task,
      bench: { scene: o.scene, observe: o.observe, poseNoiseM: o.poseNoise, poseLatencyMs: o.poseLatencyMs, rewards: o.rewards },
      data,
      out: o.out,
      algo: o.algo,
      rwr: o.rwrTransform === 'exp' ? { kind: 'exp', beta: o.beta ?? 0.5 } : { kind: 'linear' },
      awr: { beta: o.beta ?? 1 },
      explorationGain: o.explorationGain,
      explorationStd: o.explorationStd,
      iterations: o.iterations,
      rollouts: o.rollouts,
      evalEpisodes: o.evalEpisodes,
      epochs: o.epochs,
      acceptEpisodes: o.acceptEpisodes,
      fineTune: o.fineTuneEpochs > 0 ? { epochs: o.fineTuneEpochs, learningRate: o.fineTuneLr } : false,
      hidden,
      seed: o.seed,
      log: (s) => human.write(s),
    });
    // Written last, so the report line follows the results.
    const saveReport = async () => {
      if (o.noReport) return;
      const rows = rounds.map((r) => [r.round, r.fineTunedFrom === undefined ? `from scratch, ${r.epochs} epochs` : `fine-tuned round ${r.fineTunedFrom}'s, ${r.epochs} epochs`, r.dataFiles, r.trainEpisodes, r.rolloutSuccess === undefined ? '' : `${(r.rolloutSuccess * 100).toFixed(0)} %`, `${(r.eval.successRate * 100).toFixed(0)} %`, `${r.eval.meanReturn.toFixed(2)} ± ${r.eval.stdReturn.toFixed(2)}`, r.acceptReturn?.toFixed(2) ?? '', r.accepted ? 'yes' : `no (round ${r.kept.round}'s)`, r.model]);
      await writeRunReport(join(o.out, 'report.html'), {
        title: `armbridge improve: iterated ${o.algo.toUpperCase()} → ${o.out}`,
        subtitle: `${o.iterations} rounds of ${o.rollouts} rollouts on the simulated ${arm ?? 'so101'}, each round evaluated on ${o.evalEpisodes} held-out targets (round 0: the starting model)`,
        settings: settingsOf({ ...o, data: data.join(',') }),
        figures: [
          successReturnFigure(
            'rounds',
            `Iterated ${o.algo.toUpperCase()}: success and return per round`,
            rounds.map((r) => ({ label: `round ${r.round}`, success: r.eval.successRate, episodes: r.eval.episodes.length, meanReturn: r.eval.meanReturn, stdReturn: r.eval.stdReturn })),
            'round',
          ),
        ],
        tables: [{ title: 'Rounds', header: ['round', 'trained', 'data files', 'train episodes', 'rollout success', 'held-out success', 'mean return', 'acceptance return', 'kept', 'model'], rows }],
        links: [...rounds.map((r) => ({ label: `round ${r.round} model`, path: r.model })), ...data.map((f) => ({ label: `recording ${f}`, path: f }))],
        data: rounds.map((r) => ({ round: r.round, model: r.model, trainEpisodes: r.trainEpisodes, successRate: r.eval.successRate, meanReturn: r.eval.meanReturn, stdReturn: r.eval.stdReturn })),
      }, human);
    };
    if (o.json) {
      const json: ImproveJson = {
        rounds: rounds.map((r) => ({ round: r.round, model: r.model, trainEpisodes: r.trainEpisodes, epochs: r.epochs, fineTunedFrom: r.fineTunedFrom ?? null, eval: { successRate: r.eval.successRate, meanReturn: r.eval.meanReturn, stdReturn: r.eval.stdReturn }, acceptReturn: r.acceptReturn ?? null, accepted: r.accepted, keptRound: r.kept.round })),
      };
      await saveReport();
      stdout.write(`${JSON.stringify(json)}\n`);
      return 0;
    }
    stdout.write(
      '\n' +
        table(
          ['round', 'data files', 'train episodes', 'success', 'mean return', 'acceptance return', 'kept', 'model'],
          rounds.map((r) => [r.round, r.dataFiles, r.trainEpisodes, `${(r.eval.successRate * 100).toFixed(0)} %`, `${r.eval.meanReturn.toFixed(2)} ± ${r.eval.stdReturn.toFixed(2)}`, r.acceptReturn?.toFixed(2) ?? '', r.accepted ? 'yes' : `no (round ${r.kept.round}'s)`, r.model]),
        ) +
        `the model to deploy: ${rounds.at(-1)!.kept.model} (round ${rounds.at(-1)!.kept.round})\n`,
    );
    await saveReport();
    return 0;
  },
};
