/**
 * One job of `npm run bench:learn`, run in its own process so two run at once on two cores:
 * generate demonstrations, evaluate an operator, train and evaluate a policy, or iterate RWR.
 * Reads the job as JSON from argv[2], writes the result as one JSON line on stdout.
 */
import type { LoadOptions } from '../src/dataset/load.ts';
import type { TrainConfig } from '../src/learn/trainer.ts';
import type { Skill } from '../src/sim/operator.ts';
import type { SimArmKind } from '../src/sim/presets.ts';
import { createTask } from '../src/sim/create-task.ts';
import type { TaskName } from '../src/sim/task.ts';
import { stripActions } from '../src/record/strip-actions.ts';
import { improve, type ImproveOptions } from '../src/workflows/improve.ts';
import { rollout, type RolloutResult } from '../src/workflows/sim-rollout.ts';
import { trainFromRecordings, type TrainJob } from '../src/workflows/train.ts';

/** Every job may name the simulated task (default reach): its scenes, episode length and scoring. */
export type LearnJob = { readonly task?: TaskName } & (
  | { readonly type: 'demos'; readonly arm: SimArmKind; readonly n: number; readonly mix: Partial<Record<Skill, number>>; readonly seed: number; readonly rateHz: number; readonly out: string; readonly kinesthetic?: boolean }
  /** A copy of `data` without /action (and /leader) in every episode (`every` 1) or every second one (2: mixed data). */
  | { readonly type: 'strip'; readonly data: string; readonly out: string; readonly every: 1 | 2 }
  | { readonly type: 'operator'; readonly arm: SimArmKind; readonly skill: Skill; readonly evalSeed: number; readonly episodes: number; readonly rateHz: number }
  | {
      readonly type: 'train';
      readonly arm: SimArmKind;
      /** One recording, or several (demonstrations and rollouts). */
      readonly data: string | readonly string[];
      readonly out: string;
      readonly config: Omit<TrainJob, 'data' | 'out' | 'load' | 'onEpoch' | 'log'> & TrainConfig;
      readonly load?: LoadOptions;
      readonly evalSeed: number;
      readonly episodes: number;
    }
  | { readonly type: 'improve'; readonly arm: SimArmKind; readonly data: string; readonly out: string; readonly iterations: number; readonly rollouts: number; readonly seed: number; readonly evalSeed: number; readonly episodes: number; readonly config: Omit<TrainConfig, 'algo'> & { readonly algo: 'rwr' | 'awr' }; readonly improve?: Pick<ImproveOptions, 'fineTune' | 'explorationGain' | 'explorationStd' | 'acceptEpisodes'> }
);

export interface Score {
  readonly successRate: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
}

export type LearnJobResult = { readonly score: Score; readonly seconds: number; readonly epochs?: number; readonly samples?: number } | { readonly rounds: { readonly round: number; readonly score: Score; readonly rolloutSuccess?: number; readonly accepted?: boolean; readonly keptRound?: number; readonly acceptReturn?: number }[]; readonly seconds: number };

const score = (r: RolloutResult): Score => ({ successRate: r.successRate, meanReturn: r.meanReturn, stdReturn: r.stdReturn });

export async function runJob(job: LearnJob): Promise<LearnJobResult> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const task = job.task ?? 'reach';
  const episodeS = createTask(task, 'so101').episodeS;
  switch (job.type) {
    case 'demos': {
      const r = await rollout({ arm: job.arm, task, seed: job.seed, episodes: job.n, episodeS, rateHz: job.rateHz, driver: { kind: job.kinesthetic ? 'kinesthetic' : 'operator', mix: job.mix }, out: job.out, overwrite: true });
      return { score: score(r), seconds: seconds() };
    }
    case 'strip': {
      const r = await stripActions(job.data, job.out, (e) => e % job.every === 0, { overwrite: true });
      return { score: { successRate: NaN, meanReturn: NaN, stdReturn: NaN }, seconds: seconds(), samples: r.stripped };
    }
    case 'operator': {
      const r = await rollout({ arm: job.arm, task, seed: job.evalSeed, episodes: job.episodes, episodeS, rateHz: job.rateHz, driver: { kind: 'operator', mix: { [job.skill]: 1 } } });
      return { score: score(r), seconds: seconds() };
    }
    case 'train': {
      const m = await trainFromRecordings({ ...job.config, data: typeof job.data === 'string' ? [job.data] : [...job.data], out: job.out, load: job.load });
      const r = await rollout({ arm: job.arm, task, seed: job.evalSeed, episodes: job.episodes, episodeS, rateHz: m.metadata.rateHz ?? 20, driver: { kind: 'policy', model: m.modelPath } });
      return { score: score(r), seconds: seconds(), epochs: m.result.history.length, samples: m.result.trainSamples };
    }
    case 'improve': {
      const rounds = await improve({ ...job.config, ...job.improve, arm: job.arm, task, data: [job.data], out: job.out, iterations: job.iterations, rollouts: job.rollouts, evalEpisodes: job.episodes, evalSeed: job.evalSeed, seed: job.seed });
      return { rounds: rounds.map((r) => ({ round: r.round, score: score(r.eval), rolloutSuccess: r.rolloutSuccess, accepted: r.accepted, keptRound: r.kept.round, acceptReturn: r.acceptReturn })), seconds: seconds() };
    }
  }
}

if (process.argv[1]?.endsWith('learn-job.ts')) {
  const job = JSON.parse(process.argv[2]!) as LearnJob;
  const result = await runJob(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
