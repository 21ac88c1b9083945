import { z } from 'zod';
import { trainFromRecordings } from '../../workflows/train.ts';
import type { Command } from '../command.ts';

const options = z.object({
  data: z.string().describe('Recordings to train on: comma-separated, or list them after the options (shell globs work)'),
  algo: z.enum(['bc', 'bc-gaussian', 'rwr', 'awr']).default('bc').describe('bc (MSE), bc-gaussian (Gaussian log-likelihood), rwr (return-weighted), awr (advantage-weighted)'),
  out: z.string().describe('Model folder: policy.onnx, summary.json, curve.svg'),
  loss: z.enum(['mse', 'nll']).default('mse').describe('Regression loss for rwr / awr'),
  rwrTransform: z.enum(['linear', 'exp']).default('linear').describe('RWR return transform: linear (to [0, 1]) or exp (exp((R − max R)/β))'),
  beta: z.coerce.number().positive().default(1).describe('Temperature β of the exp transform (rwr) and of the advantage weights (awr)'),
  epochs: z.coerce.number().int().positive().default(100).describe('Maximum epochs'),
  batchSize: z.coerce.number().int().positive().default(256).describe('Samples per gradient step'),
  lr: z.coerce.number().positive().default(1e-3).describe('Adam learning rate'),
  patience: z.coerce.number().int().positive().default(10).describe('Early stopping: epochs without a better validation loss'),
  val: z.coerce.number().min(0).max(0.9).default(0.2).describe('Fraction of episodes held out for validation (split by episode)'),
  hidden: z.string().default('256,256').describe('Hidden layer sizes'),
  seed: z.coerce.number().int().default(0).describe('Seed (initialisation, split, shuffling)'),
  outcome: z.string().optional().describe('Only episodes with these outcomes, e.g. success'),
  operator: z.string().optional().describe('Only episodes by these operators (comma-separated, as recorded, e.g. scripted-expert)'),
  backend: z.enum(['tensorflow', 'wasm', 'cpu']).optional().describe('tfjs backend (default: tfjs-node if installed, else wasm, else cpu)'),
});

export const trainCommand: Command<typeof options> = {
  name: 'train',
  summary: 'Train a policy (BC, Gaussian BC, RWR, AWR) on recordings and export it to ONNX',
  options,
  positional: 'data',
  variadic: true,
  examples: ['armbridge train recordings/*.mcap --algo rwr --rwr-transform exp --beta 5 --out models/reach-rwr'],
  async run(o, { stdout }) {
    const tty = 'isTTY' in stdout && stdout.isTTY;
    const r = await trainFromRecordings({
      data: o.data.split(',').filter(Boolean),
      out: o.out,
      algo: o.algo,
      loss: o.loss,
      rwr: o.rwrTransform === 'exp' ? { kind: 'exp', beta: o.beta } : { kind: 'linear' },
      awr: { beta: o.beta },
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.lr,
      patience: o.patience,
      valFraction: o.val,
      hidden: o.hidden.split(',').map(Number),
      seed: o.seed,
      backend: o.backend,
      load: {
        outcomes: o.outcome ? (o.outcome.split(',') as ('success' | 'failure' | 'score' | 'unlabelled')[]) : undefined,
        operators: o.operator ? o.operator.split(',') : undefined,
      },
      log: (s) => stdout.write(s),
      onEpoch: (s, epochs) => {
        const bar = '#'.repeat(Math.round((20 * s.epoch) / epochs)).padEnd(20, '.');
        const line = `[${bar}] epoch ${s.epoch}/${epochs}  train ${s.trainLoss.toFixed(5)}  val ${s.valLoss.toFixed(5)}  ${s.samplesPerS.toFixed(0)} samples/s`;
        stdout.write(tty ? `\r${line}` : s.epoch % 10 === 0 || s.epoch === 1 ? `${line}\n` : '');
      },
    });
    const res = r.result;
    stdout.write(
      `\n${res.history.length} epochs${res.stoppedEarly ? ' (stopped early)' : ''}, best validation loss ${res.bestValLoss.toPrecision(4)} at epoch ${res.bestEpoch}; ` +
        `${res.trainSamples} training samples, backend ${r.backend}\nmodel ${r.modelPath}\ncurve ${r.curvePath}\nsummary ${r.summaryPath}\n`,
    );
    return 0;
  },
};
