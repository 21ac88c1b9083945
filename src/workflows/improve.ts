/**
 * Iterated RWR / AWR ("PG = RWR"): each round rolls the current policy out on the simulated task
 * (with exploration noise), scores every rollout by the task's reward, adds the rollouts to the
 * data, and retrains with the same weighting. Every round's policy is evaluated on held-out targets.
 *
 * A round's model is kept only if it does at least as well as the best so far on acceptance scenes
 * (a seed apart from evaluation and from checkpoint selection; same scenes every round, so the
 * comparison is paired), by mean return, the quantity RWR maximises. A worse one is not handed on:
 * the next rollouts come from the best model so far, and the data still grows by them. Measured on
 * pick and place (so101, 50 % expert, bench:learn): without it one retrained round fell from 92 % to
 * 52 % held-out success and the next round's rollouts came from that model.
 */
import { join } from 'node:path';
import type { BackendName } from '../learn/backend.ts';
import type { TrainConfig } from '../learn/trainer.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { modelBench, type SimBench } from './sim-bench.ts';
import { rollout, type RolloutResult } from './sim-rollout.ts';
import { createTask, taskForObservation } from '../sim/create-task.ts';
import { taskNamed, type TaskName } from '../sim/task.ts';
import { trainFromRecordings } from './train.ts';

export interface ImproveOptions extends TrainConfig {
  readonly arm: SimArmKind;
  /** The simulated task (default: the one whose poses the data's observation holds). */
  readonly task?: TaskName;
  readonly data: readonly string[];
  readonly out: string;
  readonly iterations: number;
  readonly rollouts: number;
  readonly evalEpisodes?: number;
  readonly evalSeed?: number;
  readonly episodeS?: number;
  readonly rateHz?: number;
  readonly explorationStd?: number;
  /** Log-std of the per-episode gain on the commanded change (see RolloutOptions.explorationGain). */
  readonly explorationGain?: number;
  readonly backend?: BackendName;
  /**
   * Later rounds fine-tune the kept model (its weights and normalisation) for `epochs` at
   * `learningRate` on all the data so far, instead of training a new one from scratch; false: retrain.
   */
  readonly fineTune?: false | { readonly epochs?: number; readonly learningRate?: number };
  /** Acceptance scenes per round (default 50; 0: keep every round's model). */
  readonly acceptEpisodes?: number;
  readonly log?: (line: string) => void;
  /** The bench (scene, perception, rewards or labels); default the one the data was recorded on. */
  readonly bench?: SimBench;
}

export interface ImproveRound {
  readonly round: number;
  readonly model: string;
  readonly dataFiles: number;
  readonly trainEpisodes: number;
  /** Epochs this round trained. */
  readonly epochs: number;
  /** The round whose model this round fine-tuned (undefined: trained from scratch). */
  readonly fineTunedFrom: number | undefined;
  readonly rolloutSuccess: number | undefined;
  /** This round's model on the held-out scenes. */
  readonly eval: RolloutResult;
  /** Mean return on the acceptance scenes (undefined: no acceptance test). */
  readonly acceptReturn: number | undefined;
  /** Whether this round's model was kept (at least as good as the best so far on the acceptance scenes). */
  readonly accepted: boolean;
  /** The model the round hands on (its own if accepted, else the best so far), its round and held-out evaluation. */
  readonly kept: { readonly round: number; readonly model: string; readonly eval: RolloutResult };
}

/** Acceptance scenes: a seed apart from evaluation (100 000 + s) and checkpoint selection (900 000 + s). */
export const ACCEPT_SEED_BASE = 700_000;

/** Exploration of iterated RWR: little per-step noise, a per-episode gain (measured in bench:learn). */
export const DEFAULT_EXPLORATION = { std: 0.01, gain: 0.3 } as const;

/** Fine-tuning of later rounds (see ImproveOptions.fineTune; measured in bench:learn). */
export const DEFAULT_FINE_TUNE = { epochs: 30, learningRate: 3e-4 } as const;

export async function improve(options: ImproveOptions): Promise<ImproveRound[]> {
  const log = options.log ?? (() => undefined);
  const data = [...options.data];
  const rounds: ImproveRound[] = [];
  let task = options.task;
  let episodeS = options.episodeS;
  let rateHz = options.rateHz;
  let bench: SimBench | undefined;
  let rolloutSuccess: number | undefined;
  const acceptEpisodes = options.acceptEpisodes ?? 50;
  let best: { round: number; model: string; eval: RolloutResult; acceptReturn: number; init: NonNullable<TrainConfig['init']> } | undefined;
  // The fine-tuning settings of later rounds (undefined: every round from scratch).
  const fineTune = options.fineTune === false ? undefined : { epochs: options.fineTune?.epochs ?? DEFAULT_FINE_TUNE.epochs, learningRate: options.fineTune?.learningRate ?? DEFAULT_FINE_TUNE.learningRate };
  if (fineTune && !(Number.isInteger(fineTune.epochs) && fineTune.epochs >= 1)) throw new RangeError(`fine-tuning needs at least one epoch, got ${fineTune.epochs} (fineTune: false retrains every round from scratch)`);
  for (let round = 0; round <= options.iterations; round++) {
    // Round 0, or fineTune false: a new model from scratch; otherwise the kept one, fine-tuned.
    const start = fineTune && best;
    const from = start ? start.round : undefined;
    const tune = start ? { init: start.init, ...fineTune } : {};
    const trained = await trainFromRecordings({ ...options, ...tune, data, out: join(options.out, `round-${round}`), log: undefined });
    // Rollouts run at the rate the policy was learned at (the data's), unless told otherwise.
    rateHz ??= trained.metadata.rateHz ?? 20;
    task ??= taskNamed(trained.metadata.sim?.task) ?? taskForObservation(trained.metadata.observation.map((p) => p.name)) ?? 'reach';
    // Rollouts on the bench the data was recorded on (scene, perception, rewards or labels) unless told otherwise.
    bench ??= modelBench(trained.metadata, options.bench);
    episodeS ??= createTask(task, options.arm).episodeS;
    const ev = await rollout({ arm: options.arm, task, seed: options.evalSeed ?? 100_000, episodes: options.evalEpisodes ?? 100, episodeS, rateHz, driver: { kind: 'policy', model: trained.modelPath }, bench });
    const acceptReturn =
      acceptEpisodes > 0 ? (await rollout({ arm: options.arm, task, seed: ACCEPT_SEED_BASE + (options.seed ?? 0), episodes: acceptEpisodes, episodeS, rateHz, driver: { kind: 'policy', model: trained.modelPath }, bench })).meanReturn : undefined;
    const accepted = best === undefined || acceptReturn === undefined || acceptReturn >= best.acceptReturn;
    if (accepted) best = { round, model: trained.modelPath, eval: ev, acceptReturn: acceptReturn ?? NaN, init: { model: trained.result.model, obsNorm: trained.result.obsNorm, actNorm: trained.result.actNorm } };
    const kept = best!;
    rounds.push({ round, model: trained.modelPath, dataFiles: data.length, trainEpisodes: trained.episodes.train, epochs: trained.result.history.length, fineTunedFrom: from, rolloutSuccess, eval: ev, acceptReturn, accepted, kept: { round: kept.round, model: kept.model, eval: kept.eval } });
    log(
      `round ${round}: ${from !== undefined ? `fine-tuned round ${from}'s model` : 'trained'} on ${data.length} file(s) (${trained.episodes.train} episodes, ${trained.result.history.length} epochs), evaluation success ${(ev.successRate * 100).toFixed(0)} %, mean return ${ev.meanReturn.toFixed(2)}` +
        (acceptReturn === undefined ? '\n' : `; acceptance return ${acceptReturn.toFixed(2)}${accepted ? ', kept' : `, below round ${kept.round}'s ${kept.acceptReturn.toFixed(2)}: not kept`}\n`),
    );
    if (round === options.iterations) break;
    const file = join(options.out, `rollouts-${round + 1}.mcap`);
    const ro = await rollout({
      arm: options.arm,
      task,
      seed: (options.seed ?? 0) * 7919 + round + 1,
      episodes: options.rollouts,
      episodeS,
      rateHz,
      driver: { kind: 'policy', model: kept.model },
      explorationStd: options.explorationStd ?? DEFAULT_EXPLORATION.std,
      explorationGain: options.explorationGain ?? DEFAULT_EXPLORATION.gain,
      out: file,
      overwrite: true,
      bench,
    });
    rolloutSuccess = ro.successRate;
    log(`  ${options.rollouts} rollouts of round ${kept.round}'s policy: ${(ro.successRate * 100).toFixed(0)} % success → ${file}\n`);
    data.push(file);
  }
  return rounds;
}
