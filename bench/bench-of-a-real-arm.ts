/**
 * `npm run bench:real-arm`: learning from what a real bench gives, through the CLI a user runs
 * (`armbridge record --sim --virtual-time …`, `armbridge train`, `armbridge eval --json`, each a
 * child process). Three tables (issue "From a real arm's recording to a policy on that arm"):
 *   1. fixed scene, joints only, labels instead of rewards: BC (CLI defaults) on expert
 *      demonstrations against the expert operator on the same fixed scene, per task and arm;
 *   2. random scenes, poses from a perception node with noise and latency: BC against the same BC
 *      on noiseless poses (same demonstrations' scenes and operator: the noise has its own stream);
 *   3. labels only at 30 % expert (so101 reach): RWR against BC on the same recording.
 * Every policy is evaluated on held-out episodes (eval's seed 100 000 + --eval-seed) of the bench
 * it was trained on. Jobs run two at a time.
 *
 *   npm run bench:real-arm                    (all three; about 20 minutes on 2 cores)
 *   npm run bench:real-arm -- --only fixed    (fixed | noise | labels; comma-separated)
 *   npm run bench:real-arm -- --seeds 2 --demos 200 --eval 100 --json
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../src/workflows/table.ts';

const args = process.argv.slice(2);
const arg = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const json = args.includes('--json');
const demos = Number(arg('demos', '200'));
const evalEpisodes = Number(arg('eval', '100'));
const seeds = Array.from({ length: Number(arg('seeds', '1')) }, (_, i) => i);
const evalSeed = Number(arg('eval-seed', '0'));
const only = arg('only', 'fixed,noise,labels').split(',');
const say = (s: string) => (json ? process.stderr : process.stdout).write(s);

interface Score {
  readonly successRate: number;
  readonly meanReturn: number;
}

const dir = mkdtempSync(join(tmpdir(), 'armbridge-real-arm-bench-'));
/** Runs `armbridge …` in a child process; resolves with its stdout. */
function cli(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`armbridge ${argv.join(' ')} exited ${code}: ${err.slice(-800)}`))));
  });
}

/** Two at a time, in order of submission. */
const queue: (() => Promise<void>)[] = [];
let running = 0;
function job<T>(run: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queue.push(async () => {
      try {
        resolve(await run());
      } catch (e) {
        reject(e as Error);
      }
    });
    const pump = () => {
      while (running < 2 && queue.length) {
        running++;
        void queue.shift()!().finally(() => {
          running--;
          pump();
        });
      }
    };
    pump();
  });
}

const memo = new Map<string, Promise<string>>();
/** A recording made once per distinct argument list. */
function record(name: string, argv: string[]): Promise<string> {
  const key = argv.join(' ');
  if (!memo.has(key)) {
    const out = join(dir, `${name}.mcap`);
    memo.set(key, job(() => cli(['record', '--sim', '--virtual-time', '--episodes', String(demos), '--out', out, '--overwrite', ...argv])).then(() => out));
  }
  return memo.get(key)!;
}

const evalJson = (out: string): Score => {
  const j = JSON.parse(out) as Score;
  return { successRate: j.successRate, meanReturn: j.meanReturn };
};

async function trainEval(data: string, name: string, trainArgs: string[], evalArgs: string[]): Promise<Score> {
  const model = join(dir, `model-${name}`);
  return job(async () => {
    await cli(['train', data, '--out', model, '--no-report', ...trainArgs]);
    return evalJson(await cli(['eval', '--model', model, '--episodes', String(evalEpisodes), '--seed', String(evalSeed), '--json', '--no-report', ...evalArgs]));
  });
}

const operator = (argv: string[]) => job(async () => evalJson(await cli(['eval', '--operator', 'expert', '--episodes', String(evalEpisodes), '--seed', String(evalSeed), '--json', '--no-report', ...argv])));

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const results: Record<string, unknown> = { demos, evalEpisodes, evalSeed, trainSeeds: seeds };
const started = performance.now();

async function fixedTable() {
  const rows = await Promise.all(
    (['reach', 'pick-place'] as const).flatMap((task) =>
      (['so101', 'koch'] as const).map(async (arm) => {
        const bench = ['--arm', arm, '--task', task, '--scene', 'fixed'];
        const data = await record(`fixed-${arm}-${task}`, [...bench, '--observe', 'arm', '--rewards', 'labels', '--mix', 'expert:1', '--seed', '1']);
        const [expert, ...bc] = await Promise.all([operator(bench), ...seeds.map((s) => trainEval(data, `fixed-${arm}-${task}-s${s}`, ['--seed', String(s)], ['--arm', arm]))]);
        const bcSuccess = mean(bc.map((b) => b.successRate));
        return { task, arm, expert, bc, ratio: bcSuccess / expert.successRate };
      }),
    ),
  );
  results.fixed = rows;
  say(`\n1. Fixed scene, joints only (--observe arm), labels (--rewards labels): BC on ${demos} expert demonstrations vs the expert, ${evalEpisodes} held-out episodes, training seeds ${seeds.join(',')}\n`);
  say(table(['task', 'arm', 'expert success', 'BC success (per seed)', 'BC return', 'BC / expert (≥ 0.9)'], rows.map((r) => [r.task, r.arm, pct(r.expert.successRate), r.bc.map((b) => pct(b.successRate)).join(', '), mean(r.bc.map((b) => b.meanReturn)).toFixed(2), r.ratio.toFixed(2)])));
}

async function noiseTable() {
  const rows = await Promise.all(
    (['reach', 'pick-place'] as const).map(async (task) => {
      const bench = ['--arm', 'so101', '--task', task, '--scene', 'random', '--observe', 'poses', '--mix', 'expert:1', '--seed', '1'];
      const noisyArgs = ['--pose-noise', '0.005', '--pose-latency-ms', '50'];
      const clean = await record(`clean-${task}`, bench);
      const noisy = await record(`noisy-${task}`, [...bench, ...noisyArgs]);
      const a = await Promise.all(seeds.map((s) => trainEval(clean, `clean-${task}-s${s}`, ['--seed', String(s)], ['--arm', 'so101'])));
      const b = await Promise.all(seeds.map((s) => trainEval(noisy, `noisy-${task}-s${s}`, ['--seed', String(s)], ['--arm', 'so101'])));
      return { task, clean: a, noisy: b, ratio: mean(b.map((x) => x.successRate)) / mean(a.map((x) => x.successRate)) };
    }),
  );
  results.noise = rows;
  say(`\n2. Random scenes, poses from perception: BC with 5 mm noise and 50 ms latency (trained and evaluated so) vs BC on noiseless poses, so101, ${demos} expert demonstrations\n`);
  say(table(['task', 'BC noiseless success', 'BC noisy success', 'noisy return', 'noisy / noiseless (≥ 0.8)'], rows.map((r) => [r.task, r.clean.map((x) => pct(x.successRate)).join(', '), r.noisy.map((x) => pct(x.successRate)).join(', '), mean(r.noisy.map((x) => x.meanReturn)).toFixed(2), r.ratio.toFixed(2)])));
}

async function labelsTable() {
  const data = await record('labels-30', ['--arm', 'so101', '--task', 'reach', '--rewards', 'labels', '--mix', 'expert:0.3,noisy:0.2,poor:0.5', '--seed', '1']);
  const [bc, rwr, expert] = await Promise.all([
    Promise.all(seeds.map((s) => trainEval(data, `labels-bc-s${s}`, ['--seed', String(s)], ['--arm', 'so101']))),
    Promise.all(seeds.map((s) => trainEval(data, `labels-rwr-s${s}`, ['--seed', String(s), '--algo', 'rwr'], ['--arm', 'so101']))),
    operator(['--arm', 'so101', '--task', 'reach']),
  ]);
  results.labels = { bc, rwr, expert };
  say(`\n3. Labels only (no /reward), so101 reach, ${demos} demonstrations at 30 % expert (20 % noisy, 50 % poor): RWR (defaults) vs BC\n`);
  say(table(['method', 'success (per seed)', 'mean success', 'mean return'], [['expert operator', pct(expert.successRate), pct(expert.successRate), expert.meanReturn.toFixed(2)], ...([['BC', bc], ['RWR', rwr]] as const).map(([n, xs]) => [n, xs.map((x) => pct(x.successRate)).join(', '), pct(mean(xs.map((x) => x.successRate))), mean(xs.map((x) => x.meanReturn)).toFixed(2)])]));
}

try {
  await Promise.all([only.includes('fixed') ? fixedTable() : undefined, only.includes('noise') ? noiseTable() : undefined, only.includes('labels') ? labelsTable() : undefined]);
  results.seconds = (performance.now() - started) / 1000;
  mkdirSync('bench/results', { recursive: true });
  // Sections not run this time keep their last results (--only runs some).
  const file = 'bench/results/real-arm.json';
  const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, `${JSON.stringify({ ...before, ...results }, null, 2)}\n`);
  say(`\n${(results.seconds as number).toFixed(0)} s; bench/results/real-arm.json\n`);
  if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
