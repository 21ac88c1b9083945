/**
 * One trainer, many algorithms (robomimic's shape): behavioural cloning (MSE), Gaussian BC (NLL),
 * reward-weighted regression (the same losses, samples weighted by their trajectory's transformed
 * return) and advantage-weighted regression (weights from a fitted value function). Validation is
 * split by episode; training may stop early when the validation loss has not improved for `patience`
 * epochs and the best epoch's weights are kept. Seeded: same data and seed, same model.
 */
import type * as TF from '@tensorflow/tfjs';
import { computeNormalization, type Normalization } from '../dataset/normalization.ts';
import type { Episode } from '../dataset/load.ts';
import { ArmbridgeError } from '../errors.ts';
import type { Tf } from './backend.ts';
import { createLeanTrainer } from './lean-step.ts';
import { WasmMlpTrainer, wasmTrainerSupported } from './wasm-mlp-trainer.ts';
import { gaussianNll, mseLoss } from './losses.ts';
import { createMlp, dispose, forward, restore, snapshot, type Mlp, type MlpSnapshot } from './mlp.ts';
import { awrWeights, nearestStartBaseline, standardisedAdvantages, tdLambdaReturns, transformReturns, type ReturnTransform } from './weights.ts';
import { mulberry32 } from '../dataset/random.ts';

export type Algo = 'bc' | 'bc-gaussian' | 'rwr' | 'awr';

/** Floor of an observation feature's std in normalisation (radians / metres / gripper units). */
export const OBS_MIN_STD = 0.05;
/**
 * Floor of an action dimension's std in normalisation. A joint the task never moves carries only
 * the operator's tremor (std ≈ 0.002 rad); scaled to unit variance it would be pure noise that
 * dominates the loss, the validation loss and early stopping (DESIGN.md §7, measured in bench:learn).
 */
export const ACT_MIN_STD = 0.05;
/**
 * Default state noise (radians) for relative actions. Reach (bench:learn's ablation, so101, seed 1):
 * 0.01 → 97 %, 0.03 → 98 %, 0.05 → 85 %; koch reach 0.01 → 97 % (0.03: 98 ± 1 %). Pick and place
 * (BC on 300 expert demonstrations, 100 held-out scenes, training seed 0): 0.03 → so101 87 %, koch 67–72 %;
 * 0.01 → so101 98 %, koch 99 % (expert 100 %). The grasp needs the precision that larger noise blurs.
 */
export const DEFAULT_STATE_NOISE = 0.01;
/**
 * Default training length: about this many sample presentations, 30 to 100 epochs. Measured on
 * iterated RWR's fourth round (34 k samples): 35 epochs gave 70 % held-out success, 100 gave 89 %;
 * the precision of the final hold keeps improving long after validation loss has flattened. Pick
 * and place (so101, RWR exp on 300 demonstrations at 50 % expert, 100 held-out scenes): 69 epochs
 * (3 M) gave 81 %, 100 gave 92 % (training seed 0); with 100 rollouts added (57.6 k samples), 52
 * epochs gave 76 %, 100 gave 87 % (seed 1). Hence 6 M: 100 epochs up to 60 k samples.
 */
export const SAMPLE_BUDGET = 6_000_000;

export function defaultEpochs(trainSamples: number): number {
  return Math.max(30, Math.min(100, Math.round(SAMPLE_BUDGET / Math.max(1, trainSamples))));
}

export interface TrainConfig {
  readonly algo: Algo;
  /** For rwr (and the loss of awr): regress with MSE or the Gaussian NLL. Default mse. */
  readonly loss?: 'mse' | 'nll';
  readonly hidden?: readonly number[];
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** Early stopping: epochs without a better validation loss (default: none, train all epochs). */
  readonly patience?: number;
  readonly seed?: number;
  readonly rwr?: ReturnTransform;
  /**
   * RWR: compare each episode's return with those of episodes that started alike (nearest initial
   * observations) and standardise, so β is in standard deviations (default); 'none': raw returns.
   */
  readonly rwrBaseline?: 'nearest-start' | 'none';
  /** AWR: temperature β, TD(λ), discount γ, and gradient steps per value-function round (default 200). */
  readonly awr?: { readonly beta?: number; readonly lambda?: number; readonly gamma?: number; readonly valueSteps?: number };
  /**
   * Relative actions only: std (radians) of Gaussian noise added to the observed joint positions of
   * each training sample, with the relative label corrected so the absolute target stays the same
   * (noise injection against compounding error, in the spirit of DART). 0: none.
   */
  readonly stateNoise?: number;
  /** Without `selectBy`: keep the epoch with the best validation loss (default when `patience` is set) or the last one (default otherwise). */
  readonly checkpoint?: 'best-val' | 'last';
  /** Floor of the action normalisation's std (default ACT_MIN_STD). */
  readonly actionStdFloor?: number;
  /**
   * Relative actions: regress the action minus the observation block at `offset` (the current joint
   * positions); the exported graph adds it back. Undefined: absolute actions.
   */
  readonly actionBase?: { readonly offset: number };
  /**
   * Checkpoint selection by a task score (e.g. held-out success on the simulated task) instead of
   * validation loss: called every `everyEpochs` epochs and at the end with the current weights;
   * higher is better. Early stopping still uses the validation loss.
   */
  readonly selectBy?: { readonly everyEpochs: number; readonly score: (model: MlpSnapshot, norms: { obsNorm: Normalization; actNorm: Normalization }, epoch: number) => Promise<number> };
  /**
   * `wasm` (default where WebAssembly SIMD and shared memory exist, as in Node ≥ 16.4): the MLP
   * trained on hand-written WebAssembly SIMD kernels, data parallel on `threads` (wasm-mlp-trainer.ts;
   * measured 2–3× the lean step on one thread, bench section 'train'); `lean`: the hand-written
   * backward pass and Adam over tfjs ops (lean-step.ts); `tfjs`: optimizer.minimize.
   */
  readonly optimizer?: TrainOptimizer;
  /**
   * `wasm`: threads computing a batch's two halves (1 or 2; default 2 when the machine has two cores).
   * The result does not depend on it: the halves' gradients are summed in a fixed order either way.
   */
  readonly threads?: number;
  /**
   * Fine-tuning: start from this model and keep its normalisation instead of a seeded
   * initialisation and the data's statistics (iterated RWR's later rounds). Its layer sizes must
   * match the data's observation and action sizes and `hidden`.
   */
  readonly init?: { readonly model: MlpSnapshot; readonly obsNorm: Normalization; readonly actNorm: Normalization };
}

export type TrainOptimizer = 'wasm' | 'lean' | 'tfjs';

/** The optimizer `trainPolicy` uses when the config names none: wasm where the runtime supports it. */
export function defaultOptimizer(): TrainOptimizer {
  return wasmTrainerSupported() ? 'wasm' : 'lean';
}

export interface EpochStats {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly samplesPerS: number;
}

export interface TrainResult {
  readonly model: MlpSnapshot;
  readonly obsNorm: Normalization;
  readonly actNorm: Normalization;
  readonly history: EpochStats[];
  readonly bestEpoch: number;
  readonly bestValLoss: number;
  /** Scores of the checkpoints `selectBy` evaluated (epoch, score). */
  readonly selectionScores: { readonly epoch: number; readonly score: number }[];
  readonly stoppedEarly: boolean;
  readonly trainSamples: number;
  readonly valSamples: number;
  /** Mean sample weight per episode outcome, to show what the weighting did. */
  readonly weightSummary: Record<string, number>;
  /** What trained: the optimizer path and the threads it ran on. */
  readonly engine: { readonly optimizer: TrainOptimizer; readonly threads: number; readonly fma: boolean };
}

export class MissingReturnError extends ArmbridgeError {
  constructor(readonly file: string, readonly episode: number) {
    super('MISSING_RETURN', `${file}: episode ${episode} has no return (no /reward topic and no label), which rwr needs: label the episodes (armbridge dataset relabel) or train with --algo bc`);
  }
}

interface Flat {
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
  n: number;
}

/** The regression targets of one episode: actions, or actions relative to an observation block. */
function targetsOf(e: Episode, dObs: number, dAct: number, base: number | undefined): Float32Array {
  if (base === undefined) return e.actions;
  const out = new Float32Array(e.actions.length);
  for (let t = 0; t < e.length; t++) for (let d = 0; d < dAct; d++) out[t * dAct + d] = e.actions[t * dAct + d]! - e.observations[t * dObs + base + d]!;
  return out;
}

function flatten(episodes: readonly Episode[], obsNorm: Normalization, actNorm: Normalization, weights: Float32Array[], base: number | undefined): Flat {
  const dObs = obsNorm.mean.length;
  const dAct = actNorm.mean.length;
  const n = episodes.reduce((a, e) => a + e.length, 0);
  const x = new Float32Array(n * dObs);
  const y = new Float32Array(n * dAct);
  const w = new Float32Array(n);
  let r = 0;
  episodes.forEach((e, k) => {
    const targets = targetsOf(e, dObs, dAct, base);
    for (let t = 0; t < e.length; t++, r++) {
      for (let d = 0; d < dObs; d++) x[r * dObs + d] = (e.observations[t * dObs + d]! - obsNorm.mean[d]!) / obsNorm.std[d]!;
      for (let d = 0; d < dAct; d++) y[r * dAct + d] = (targets[t * dAct + d]! - actNorm.mean[d]!) / actNorm.std[d]!;
      w[r] = weights[k]![t]!;
    }
  });
  return { x, y, w, n };
}


export async function trainPolicy(
  tf: Tf,
  data: { train: readonly Episode[]; val: readonly Episode[] },
  config: TrainConfig,
  onEpoch?: (s: EpochStats) => void,
): Promise<TrainResult> {
  const algo = config.algo;
  const seed = config.seed ?? 0;
  const hidden = config.hidden ?? [256, 256];
  const nTrain = data.train.reduce((a, e) => a + e.length, 0);
  const epochs = config.epochs ?? defaultEpochs(nTrain);
  const batchSize = config.batchSize ?? 256;
  // Early stopping on validation loss is opt-in: on the simulated task it stopped training long
  // before the policy had learned the reach (validation loss and task success disagree).
  const patience = config.patience ?? Infinity;
  const checkpoint = config.checkpoint ?? (config.patience !== undefined ? 'best-val' : 'last');
  const all = [...data.train, ...data.val];
  const dObs = all[0]!.observations.length / all[0]!.length;
  const dAct = all[0]!.actions.length / all[0]!.length;
  // A feature that hardly varies in the data (a joint the demonstrations never moved) must not be
  // amplified without bound when it moves at deployment: its std is floored at OBS_MIN_STD.
  const init = config.init;
  const sizes = [dObs, ...hidden, dAct];
  if (init && (init.model.sizes.length !== sizes.length || init.model.sizes.some((n, i) => n !== sizes[i]) || init.obsNorm.mean.length !== dObs || init.actNorm.mean.length !== dAct)) {
    throw new RangeError(`the model to fine-tune has layers ${init.model.sizes.join('-')}, the data and network need ${sizes.join('-')}`);
  }
  const obsNorm = init?.obsNorm ?? computeNormalization(data.train.map((e) => e.observations), dObs, OBS_MIN_STD);
  const base = config.actionBase?.offset;
  if (base !== undefined && (base < 0 || base + dAct > dObs)) throw new RangeError(`actionBase offset ${base} does not fit an observation of ${dObs} for ${dAct} actions`);
  const actNorm = init?.actNorm ?? computeNormalization(data.train.map((e) => targetsOf(e, dObs, dAct, base)), dAct, config.actionStdFloor ?? ACT_MIN_STD);
  const useNll = algo === 'bc-gaussian' || config.loss === 'nll';

  // Per-sample weights, per episode.
  let weights: Float32Array[];
  if (algo === 'rwr') {
    const returns = all.map((e) => {
      if (e.return === undefined) throw new MissingReturnError(e.file, e.index);
      return e.return;
    });
    let scored = returns;
    if ((config.rwrBaseline ?? 'nearest-start') === 'nearest-start') {
      const starts = all.map((e) => Float32Array.from(e.observations.subarray(0, dObs), (v, d) => (v - obsNorm.mean[d]!) / obsNorm.std[d]!));
      scored = standardisedAdvantages(returns, nearestStartBaseline(starts, returns));
    }
    const w = transformReturns(scored, config.rwr ?? { kind: 'linear' });
    weights = all.map((e, i) => new Float32Array(e.length).fill(w[i]!));
  } else if (algo === 'awr') {
    weights = await advantageWeights(tf, all, obsNorm, config, seed);
  } else {
    weights = all.map((e) => new Float32Array(e.length).fill(1));
  }
  const trainW = weights.slice(0, data.train.length);
  const valW = weights.slice(data.train.length);
  const train = flatten(data.train, obsNorm, actNorm, trainW, base);
  const val = flatten(data.val, obsNorm, actNorm, valW, base);
  const weightSummary: Record<string, number> = {};
  all.forEach((e, i) => {
    const key = `${e.operator ?? 'unknown'}/${e.outcome}`;
    weightSummary[key] = (weightSummary[key] ?? 0) + weights[i]![0]! / all.filter((x) => `${x.operator ?? 'unknown'}/${x.outcome}` === key).length;
  });

  const mlp = createMlp(tf, sizes, seed + 1, useNll);
  if (init) restore(tf, mlp, init.model);
  const optimizer = tf.train.adam(config.learningRate ?? 1e-3);
  const kind = config.optimizer ?? defaultOptimizer();
  const lean = kind === 'lean' ? createLeanTrainer(tf, mlp, { learningRate: config.learningRate ?? 1e-3, nll: useNll }) : undefined;
  // The wasm trainer starts from the same seeded initialisation as the tfjs paths.
  const wasm =
    kind === 'wasm'
      ? await WasmMlpTrainer.create(snapshot(mlp), { learningRate: config.learningRate ?? 1e-3, gaussian: useNll, maxBatch: batchSize, threads: config.threads }).catch((err: unknown) => {
          dispose(mlp);
          optimizer.dispose();
          throw err;
        })
      : undefined;
  const current = (): MlpSnapshot => (wasm ? wasm.snapshot() : snapshot(mlp));
  const lossOf = (x: TF.Tensor2D, y: TF.Tensor2D, w: TF.Tensor1D) => {
    const pred = forward(tf, mlp, x);
    return useNll ? gaussianNll(tf, pred, mlp.logStd as TF.Tensor1D, y, w) : mseLoss(tf, pred, y, w);
  };
  const evalLoss = (f: Flat): number => {
    if (f.n === 0) return NaN;
    if (wasm) return wasm.loss(f.x, f.y, f.w, f.n);
    return tf.tidy(() => lossOf(tf.tensor2d(f.x, [f.n, dObs]), tf.tensor2d(f.y, [f.n, dAct]), tf.tensor1d(f.w)).dataSync()[0]!);
  };

  const rnd = mulberry32(seed + 7);
  const noiseRnd = mulberry32(seed + 13);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - noiseRnd())) * Math.cos(2 * Math.PI * noiseRnd());
  const noise = base !== undefined ? (config.stateNoise ?? DEFAULT_STATE_NOISE) : 0;
  const order = Uint32Array.from({ length: train.n }, (_, i) => i);
  const bx = new Float32Array(batchSize * dObs);
  const by = new Float32Array(batchSize * dAct);
  const bw = new Float32Array(batchSize);
  const history: EpochStats[] = [];
  let best: MlpSnapshot = current();
  let bestVal = Infinity;
  let bestEpoch = 0;
  let bestValEpoch = 0;
  let stoppedEarly = false;
  const selectionScores: { epoch: number; score: number }[] = [];
  let bestScore = -Infinity;
  const select = config.selectBy;
  const scoreNow = async (epoch: number) => {
    const snap = current();
    const score = await select!.score(snap, { obsNorm, actNorm }, epoch);
    selectionScores.push({ epoch, score });
    // Ties go to the later checkpoint: more training at the same task score.
    if (score >= bestScore) {
      bestScore = score;
      bestEpoch = epoch;
      best = snap;
    }
  };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const t0 = performance.now();
      let sum = 0;
      let batches = 0;
      for (let start = 0; start < train.n; start += batchSize) {
        const m = Math.min(batchSize, train.n - start);
        for (let k = 0; k < m; k++) {
          const r = order[start + k]!;
          bx.set(train.x.subarray(r * dObs, r * dObs + dObs), k * dObs);
          by.set(train.y.subarray(r * dAct, r * dAct + dAct), k * dAct);
          bw[k] = train.w[r]!;
          if (noise) {
            // The joints observed a little off where they were, the same absolute target: the
            // relative label changes by minus the offset (a correction back toward the expert's aim).
            for (let d = 0; d < dAct; d++) {
              const eps = noise * gauss();
              bx[k * dObs + base! + d]! += eps / obsNorm.std[base! + d]!;
              by[k * dAct + d]! -= eps / actNorm.std[d]!;
            }
          }
        }
        if (wasm) {
          sum += wasm.step(bx, by, bw, m);
          batches++;
          continue;
        }
        const x = tf.tensor2d(bx.subarray(0, m * dObs), [m, dObs]);
        const y = tf.tensor2d(by.subarray(0, m * dAct), [m, dAct]);
        const w = tf.tensor1d(bw.subarray(0, m));
        if (lean) sum += lean.step(x, y, w);
        else {
          const loss = tf.tidy(() => optimizer.minimize(() => lossOf(x, y, w), true) as TF.Scalar);
          sum += loss.dataSync()[0]!;
          loss.dispose();
        }
        x.dispose();
        y.dispose();
        w.dispose();
        batches++;
      }
      const seconds = (performance.now() - t0) / 1000;
      const valLoss = val.n ? evalLoss(val) : sum / batches;
      const stats = { epoch, trainLoss: sum / batches, valLoss, samplesPerS: train.n / seconds };
      history.push(stats);
      onEpoch?.(stats);
      if (select && epoch % select.everyEpochs === 0) await scoreNow(epoch);
      if (valLoss < bestVal) {
        bestVal = valLoss;
        bestValEpoch = epoch;
        if (!select && checkpoint !== 'last') {
          bestEpoch = epoch;
          best = current();
        }
      } else if (epoch - bestValEpoch >= patience) {
        stoppedEarly = true;
        break;
      }
    }
    const last = history[history.length - 1]?.epoch ?? 0;
    if (select && !selectionScores.some((s) => s.epoch === last)) await scoreNow(last);
    if (!select && checkpoint === 'last') {
      bestEpoch = last;
      best = current();
    }
    restore(tf, mlp, best);
    const engine = { optimizer: kind, threads: wasm?.threads ?? 1, fma: wasm?.fma ?? false };
    return { model: best, obsNorm, actNorm, history, bestEpoch, bestValLoss: bestVal, selectionScores, stoppedEarly, trainSamples: train.n, valSamples: val.n, weightSummary, engine };
  } finally {
    dispose(mlp);
    optimizer.dispose();
    lean?.dispose();
    await wasm?.close();
  }
}

/** AWR: fit V(s) to TD(λ) returns (two rounds), advantages A = G^λ − V(s), weights exp(A/β) ≤ 20. */
async function advantageWeights(tf: Tf, episodes: readonly Episode[], obsNorm: Normalization, config: TrainConfig, seed: number): Promise<Float32Array[]> {
  const gamma = config.awr?.gamma ?? 0.99;
  const lambda = config.awr?.lambda ?? 0.95;
  const beta = config.awr?.beta ?? 1;
  const dObs = obsNorm.mean.length;
  const n = episodes.reduce((a, e) => a + e.length, 0);
  const x = new Float32Array(n * dObs);
  let r = 0;
  for (const e of episodes) {
    for (let t = 0; t < e.length; t++, r++) {
      for (let d = 0; d < dObs; d++) x[r * dObs + d] = (e.observations[t * dObs + d]! - obsNorm.mean[d]!) / obsNorm.std[d]!;
    }
  }
  const vnet: Mlp = createMlp(tf, [dObs, 128, 128, 1], seed + 101, false);
  const rnd = mulberry32(seed + 202);
  const opt = tf.train.adam(1e-3);
  const xs = tf.tensor2d(x, [n, dObs]);
  let values = new Float32Array(n);
  try {
    for (let round = 0; round < 2; round++) {
      const targets = new Float32Array(n);
      let o = 0;
      for (const e of episodes) {
        targets.set(tdLambdaReturns(e.rewards, values.subarray(o, o + e.length), gamma, lambda), o);
        o += e.length;
      }
      const tMean = targets.reduce((a, b) => a + b, 0) / n;
      const tStd = Math.sqrt(targets.reduce((a, b) => a + (b - tMean) ** 2, 0) / n) + 1e-6;
      const yNorm = Float32Array.from(targets, (v) => (v - tMean) / tStd);
      // Minibatches of 512 random samples per value-function step.
      const mb = Math.min(512, n);
      const bx = new Float32Array(mb * dObs);
      const by = new Float32Array(mb);
      for (let it = 0; it < (config.awr?.valueSteps ?? 200); it++) {
        for (let k = 0; k < mb; k++) {
          const i = Math.floor(rnd() * n);
          bx.set(x.subarray(i * dObs, i * dObs + dObs), k * dObs);
          by[k] = yNorm[i]!;
        }
        tf.tidy(() => {
          const bxt = tf.tensor2d(bx, [mb, dObs]);
          const byt = tf.tensor2d(by, [mb, 1]);
          opt.minimize(() => tf.mean(tf.squaredDifference(forward(tf, vnet, bxt), byt)) as TF.Scalar);
        });
      }
      const v = tf.tidy(() => forward(tf, vnet, xs).dataSync());
      values = Float32Array.from(v, (z) => z * tStd + tMean);
    }
    const adv = new Float32Array(n);
    let o = 0;
    for (const e of episodes) {
      const g = tdLambdaReturns(e.rewards, values.subarray(o, o + e.length), gamma, lambda);
      for (let t = 0; t < e.length; t++) adv[o + t] = g[t]! - values[o + t]!;
      o += e.length;
    }
    const w = awrWeights(adv, beta);
    const out: Float32Array[] = [];
    o = 0;
    for (const e of episodes) {
      out.push(w.slice(o, o + e.length));
      o += e.length;
    }
    return out;
  } finally {
    xs.dispose();
    dispose(vnet);
    opt.dispose();
  }
}
