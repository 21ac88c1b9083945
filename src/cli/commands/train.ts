import { z } from 'zod';
import { join } from 'node:path';
import { DEFAULT_LABEL_HORIZON, describeLabels } from '../../dataset/action-labels.ts';
import { DEFAULT_STATE_NOISE } from '../../learn/trainer.ts';
import { MAX_STATE_NOISE } from '../../workflows/perception-noise.ts';
import { trainFromRecordings } from '../../workflows/train.ts';
import { trainLossFigure } from '../../workflows/train-figures.ts';
import type { Command } from '../command.ts';
import { noReportOption, settingsOf, writeRunReport } from '../run-report.ts';

const options = z.object({
  data: z.string().describe('Recordings to train on: comma-separated, or list them after the options (shell globs work)'),
  obs: z.string().optional().describe('What the policy observes, comma-separated, in order: follower.position (the joints, gripper included), target.position / object.position / goal.position, or pose:/TOPIC for any recorded geometry_msgs/msg/PoseStamped topic (default: the joints and every pose topic the recordings hold; --obs follower.position for a joint-only policy)'),
  algo: z.enum(['bc', 'bc-gaussian', 'rwr', 'awr']).default('bc').describe('bc (MSE), bc-gaussian (Gaussian log-likelihood), rwr (return-weighted), awr (advantage-weighted)'),
  out: z.string().describe('Model folder: policy.onnx, summary.json, curve.svg, report.html'),
  loss: z.enum(['mse', 'nll']).default('mse').describe('Regression loss for rwr / awr'),
  rwrTransform: z.enum(['linear', 'exp']).default('exp').describe('RWR return transform: exp (exp((A − max A)/β)) or linear (to [0, 1]), of the return compared with episodes that started alike (A, in robust standard deviations)'),
  rwrBaseline: z.enum(['nearest-start', 'none']).default('nearest-start').describe('RWR: compare returns with the 10 episodes whose start was nearest (nearest-start) or use raw returns (none)'),
  beta: z.coerce.number().positive().optional().describe('Temperature β of the exp transform (rwr, default 0.5) and of the advantage weights (awr, default 1)'),
  epochs: z.coerce.number().int().positive().optional().describe('Epochs (default: about 6 M sample presentations, 30…100)'),
  batchSize: z.coerce.number().int().positive().default(256).describe('Samples per gradient step'),
  lr: z.coerce.number().positive().default(1e-3).describe('Adam learning rate'),
  patience: z.coerce.number().int().positive().optional().describe('Early stopping: epochs without a better validation loss (default: none; validation loss is a poor guide to task success)'),
  val: z.coerce.number().min(0).max(0.9).default(0.1).describe('Fraction of episodes held out for validation (split by episode)'),
  absoluteActions: z.boolean().default(false).describe('Regress absolute joint targets instead of the change from the current joints'),
  stateNoise: z.coerce.number().min(0).optional().describe(`Noise (rad) on the observed joints during training, label corrected (relative actions) (default ${DEFAULT_STATE_NOISE}, raised up to ${MAX_STATE_NOISE} when the recorded poses are noisy: the joints must not be a surer cue than what the policy sees of the task)`),
  select: z.enum(['auto', 'off']).default('auto').describe('Pick the checkpoint by success on held-out simulated targets (auto: for simulated recordings; else the last epoch)'),
  hidden: z.string().default('256,256').describe('Hidden layer sizes'),
  seed: z.coerce.number().int().default(0).describe('Seed (initialisation, split, shuffling)'),
  outcome: z.string().optional().describe('Only episodes with these outcomes, e.g. success'),
  operator: z.string().optional().describe('Only episodes by these operators (comma-separated, as recorded, e.g. scripted-expert)'),
  labels: z.enum(['auto', 'recorded', 'derived']).default('auto').describe('Action labels: auto (the recorded /action where an episode has one, else derived from the follower\'s states: kinesthetic, state-only ROS or LeRobot recordings), recorded (refuse episodes without /action), derived (ignore /action)'),
  labelHorizon: z.coerce.number().int().positive().default(DEFAULT_LABEL_HORIZON).describe('Derived labels: the follower\'s joints this many control steps ahead of each state (measured best on the simulated reach task at 20 Hz)'),
  backend: z.enum(['tensorflow', 'wasm', 'cpu']).optional().describe('tfjs backend (default: tfjs-node if installed, else wasm, else cpu)'),
  optimizer: z.enum(['wasm', 'lean', 'tfjs']).optional().describe('wasm (default where supported): the WebAssembly SIMD trainer; lean: hand-written step on tfjs; tfjs: optimizer.minimize'),
  threads: z.coerce.number().int().min(1).max(2).optional().describe('Threads of the wasm trainer (default 2 on two or more cores); the model does not depend on it'),
  noReport: noReportOption,
});

export const trainCommand: Command<typeof options> = {
  name: 'train',
  summary: 'Train a policy (BC, Gaussian BC, RWR, AWR) on recordings and export it to ONNX',
  options,
  positional: 'data',
  variadic: true,
  examples: [
    'armbridge train recordings/so101-pick.mcap --out models/pick-bc',
    'armbridge train recordings/*.mcap --algo rwr --rwr-transform exp --beta 5 --out models/reach-rwr',
    'armbridge train recordings/cup.mcap --obs follower.position,pose:/cup_pose --out models/cup-bc',
  ],
  async run(o, { stdout }) {
    const tty = 'isTTY' in stdout && stdout.isTTY;
    const r = await trainFromRecordings({
      data: o.data.split(',').filter(Boolean),
      out: o.out,
      algo: o.algo,
      loss: o.loss,
      rwr: o.rwrTransform === 'exp' ? { kind: 'exp', beta: o.beta ?? 0.5 } : { kind: 'linear' },
      rwrBaseline: o.rwrBaseline,
      awr: { beta: o.beta ?? 1 },
      relativeActions: !o.absoluteActions,
      stateNoise: o.stateNoise,
      selectOnSim: o.select === 'auto' ? 'auto' : false,
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.lr,
      patience: o.patience,
      valFraction: o.val,
      hidden: o.hidden.split(',').map(Number),
      seed: o.seed,
      backend: o.backend,
      optimizer: o.optimizer,
      threads: o.threads,
      load: {
        observation: o.obs ? o.obs.split(',').map((x) => x.trim()).filter(Boolean) : undefined,
        outcomes: o.outcome ? (o.outcome.split(',') as ('success' | 'failure' | 'score' | 'unlabelled')[]) : undefined,
        operators: o.operator ? o.operator.split(',') : undefined,
        labels: o.labels,
        labelHorizon: o.labelHorizon,
      },
      log: (s) => stdout.write(s),
      onEpoch: (s, epochs) => {
        const bar = '#'.repeat(Math.round((20 * s.epoch) / epochs)).padEnd(20, '.');
        const line = `[${bar}] epoch ${s.epoch}/${epochs}  train ${s.trainLoss.toFixed(5)}  val ${s.valLoss.toFixed(5)}  ${s.samplesPerS.toFixed(0)} samples/s`;
        stdout.write(tty ? `\r${line}` : s.epoch % 10 === 0 || s.epoch === 1 ? `${line}\n` : '');
      },
    });
    const res = r.result;
    const trainedOn = res.engine.optimizer === 'wasm' ? `wasm SIMD trainer${res.engine.fma ? ' (FMA)' : ''} on ${res.engine.threads} thread${res.engine.threads > 1 ? 's' : ''}` : `tfjs ${r.backend} (${res.engine.optimizer})`;
    const bestSelection = res.selectionScores.length ? Math.max(...res.selectionScores.map((x) => x.score)) : undefined;
    stdout.write(
      `\n${res.history.length} epochs${res.stoppedEarly ? ' (stopped early)' : ''}; kept epoch ${res.bestEpoch} (${res.selectionScores.length ? `best success on the simulated selection targets, ${(bestSelection! * 100).toFixed(0)} %` : 'the last'}); best validation loss ${res.bestValLoss.toPrecision(4)}; ` +
        `${r.metadata.actionMode} actions at ${r.metadata.rateHz ?? '?'} Hz; ${describeLabels(r.labels)}; ` +
        `${res.trainSamples} training samples, ${trainedOn}\nmodel ${r.modelPath}\ncurve ${r.curvePath}\nsummary ${r.summaryPath}\n`,
    );
    if (!o.noReport) {
      await writeRunReport(join(o.out, 'report.html'), {
        title: `armbridge train: ${r.metadata.algo} → ${o.out}`,
        subtitle: `trained ${new Date().toISOString()} on ${o.data.split(',').filter(Boolean).length} recording(s), ${trainedOn}`,
        settings: settingsOf(o),
        figures: [trainLossFigure('loss', r.metadata.algo, res)],
        tables: [
          {
            title: 'Result',
            header: ['quantity', 'value'],
            rows: [
              ['epochs', `${res.history.length}${res.stoppedEarly ? ' (stopped early)' : ''}`],
              ['kept epoch', `${res.bestEpoch} (${bestSelection !== undefined ? `best success on the simulated selection targets, ${(bestSelection * 100).toFixed(0)} %` : 'the last or best validation loss'})`],
              ['best validation loss', res.bestValLoss.toPrecision(4)],
              ['episodes train / validation', `${r.episodes.train} / ${r.episodes.val}`],
              ['samples train / validation', `${res.trainSamples} / ${res.valSamples}`],
              ['actions', `${r.metadata.actionMode} at ${r.metadata.rateHz ?? '?'} Hz`],
              ['action labels', describeLabels(r.labels)],
              ['policy', `${r.metadata.policyKind}, joints ${r.metadata.jointNames.join(', ')}`],
            ],
          },
        ],
        links: [
          { label: 'model (ONNX)', path: r.modelPath },
          { label: 'training summary (JSON)', path: r.summaryPath },
          { label: 'loss curve (SVG)', path: r.curvePath },
          ...o.data.split(',').filter(Boolean).map((f) => ({ label: `recording ${f}`, path: f })),
        ],
        data: { history: res.history, bestEpoch: res.bestEpoch, selectionScores: res.selectionScores },
      }, stdout);
    }
    return 0;
  },
};
