/**
 * `npm run bench:learn`: the learning comparison on the simulated reach task, one seeded command.
 * Demonstrations of mixed quality are generated in virtual time (scripted operator: expert, noisy
 * and systematically poor episodes), every method trains on the same recordings, and each policy is
 * evaluated on the same ≥ 50 held-out targets: success rate and mean return (± std).
 *
 *   npm run bench:learn -- --episodes 1000 --good 0.5 --seed 1   (the defaults)
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainConfig } from '../src/learn/trainer.ts';
import { improve } from '../src/workflows/improve.ts';
import { rollout, type RolloutResult } from '../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../src/workflows/train.ts';
import { table } from '../src/workflows/table.ts';

const args = process.argv.slice(2);
const arg = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const episodes = arg('episodes', 1000);
const good = arg('good', 0.5);
const seed = arg('seed', 1);
const evalEpisodes = arg('eval', 50);
const rateHz = arg('rate', 20);
const epochs = arg('epochs', 100);
const iterations = arg('iterations', 2);
const hidden = [128, 128];
const dir = mkdtempSync(join(tmpdir(), 'armbridge-learn-'));
const log = (s: string) => process.stderr.write(s);
const t0 = performance.now();

const mix = { expert: good, noisy: (1 - good) / 3, poor: ((1 - good) * 2) / 3 };
const data = join(dir, 'demos.mcap');
log(`generating ${episodes} demonstrations (mix ${JSON.stringify(mix)}), seed ${seed}…\n`);
const demos = await rollout({ arm: 'so101', seed, episodes, episodeS: 3, rateHz, driver: { kind: 'operator', mix }, out: data });
const evalOf = (model: string) => rollout({ arm: 'so101', seed: 100_000 + seed, episodes: evalEpisodes, episodeS: 3, rateHz, driver: { kind: 'policy', model } });
const base: Omit<TrainConfig, 'algo'> = { hidden, epochs, patience: 10, batchSize: 256, seed };

const rows: { method: string; r: RolloutResult; samples?: number; seconds: number }[] = [];
let t = performance.now();
rows.push({ method: 'expert operator (scripted)', r: await rollout({ arm: 'so101', seed: 100_000 + seed, episodes: evalEpisodes, episodeS: 3, rateHz, driver: { kind: 'operator', mix: { expert: 1 } } }), seconds: 0 });
rows.push({ method: 'demonstrations as recorded', r: demos, seconds: 0 });
const methods: [string, TrainConfig, object?][] = [
  ['BC, all data', { ...base, algo: 'bc' }],
  ['BC, successful episodes only', { ...base, algo: 'bc' }, { outcomes: ['success'] }],
  ['RWR, linear', { ...base, algo: 'rwr', rwr: { kind: 'linear' } }],
  ['RWR, exp (β = 2)', { ...base, algo: 'rwr', rwr: { kind: 'exp', beta: 2 } }],
  ['AWR (β = 1, λ = 0.95)', { ...base, algo: 'awr', awr: { beta: 1, lambda: 0.95 } }],
];
for (const [name, cfg, load] of methods) {
  log(`${name}…\n`);
  t = performance.now();
  const m = await trainFromRecordings({ ...cfg, data: [data], out: join(dir, name.replace(/\W+/g, '-')), load: load as never });
  rows.push({ method: name, r: await evalOf(m.modelPath), samples: m.result.trainSamples, seconds: (performance.now() - t) / 1000 });
}
log(`iterated RWR (exp), ${iterations} rounds…\n`);
t = performance.now();
const rounds = await improve({ ...base, algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, arm: 'so101', data: [data], out: join(dir, 'improve'), iterations, rollouts: Math.round(episodes / 3), evalEpisodes, evalSeed: 100_000 + seed, rateHz, log });
const last = rounds[rounds.length - 1]!;
rows.push({ method: `iterated RWR, after ${iterations} rounds`, r: last.eval, seconds: (performance.now() - t) / 1000 });

const fmt = (r: RolloutResult) => [`${(r.successRate * 100).toFixed(0)} %`, `${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)}`];
const out = table(
  ['method', 'success', 'return (mean ± std)', 'train samples', 'train+eval s'],
  rows.map((x) => [x.method, ...fmt(x.r), x.samples ?? '', x.seconds ? x.seconds.toFixed(0) : '']),
);
process.stdout.write(
  `\nreach task, so101, seed ${seed}: ${episodes} demonstrations at ${rateHz} Hz (${(good * 100).toFixed(0)} % expert, the rest noisy or systematically poor), ` +
    `evaluation on ${evalEpisodes} held-out targets; MLP ${hidden.join('×')}, ≤ ${epochs} epochs, early stopping (patience 10)\n\n${out}` +
    `\n(${((performance.now() - t0) / 1000).toFixed(0)} s in all)\n`,
);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/learn.json', JSON.stringify({ seed, episodes, good, rateHz, evalEpisodes, hidden, epochs, iterations, rows: rows.map((x) => ({ method: x.method, successRate: x.r.successRate, meanReturn: x.r.meanReturn, stdReturn: x.r.stdReturn, samples: x.samples })) }, null, 2));
