/**
 * `npm run bench:learn`: the learning comparison on the simulated reach task, per arm. Demonstrations
 * of mixed quality (scripted operator: expert, noisy, systematically poor) are generated in virtual
 * time; every method trains on the same recordings with the CLI's defaults and is evaluated on the
 * same held-out targets (seed 100 000 + --seed, as `armbridge eval`). Rows are mean ± std over the
 * training seeds. Also: BC's data efficiency on expert data, and an ablation of the learning-setup
 * changes. Jobs run in child processes, two at a time on two cores.
 *
 *   npm run bench:learn                 (full: about an hour on this 2-core machine)
 *   npm run bench:learn -- --quick      (one arm, one mix, one seed, fewer episodes)
 *   npm run bench:learn -- --json       (the results as JSON on stdout; tables to stderr)
 *   npm run bench:learn -- --only state-only   (only the demonstrations-without-actions table)
 *   npm run bench:learn -- --no-ablation       (without the ablation of the learning setup)
 *   npm run bench:learn -- --only iterated     (only iterated RWR, at 50 % expert: bench/results/learn[-task]-iterated.json)
 *   npm run bench:learn -- --task pick-place   (the same tables on pick and place: 8 s episodes,
 *                                              bench/results/learn-pick-place.json; no state-only table)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimArmKind } from '../src/sim/presets.ts';
import { table } from '../src/workflows/table.ts';
import { createTask } from '../src/sim/create-task.ts';
import type { TaskName } from '../src/sim/task.ts';
import type { TrainConfig } from '../src/learn/trainer.ts';
import type { LearnJob, LearnJobResult, Score } from './learn-job.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const arg = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const quick = flag('quick');
const json = flag('json');
const baseSeed = Number(arg('seed', '1'));
const seeds = Array.from({ length: Number(arg('seeds', quick ? '1' : '3')) }, (_, i) => baseSeed + i);
const arms = arg('arms', quick ? 'so101' : 'so101,koch').split(',') as SimArmKind[];
const goods = arg('good', quick ? '0.5' : '0.2,0.5,0.8').split(',').map(Number);
const demos = Number(arg('demos', quick ? '100' : '200'));
const evalEpisodes = Number(arg('eval', quick ? '50' : '100'));
const iterations = Number(arg('iterations', quick ? '1' : '5'));
const rollouts = Number(arg('rollouts', quick ? '50' : '100'));
const sizes = arg('sizes', quick ? '25,100' : '25,50,100,200,400').split(',').map(Number);
const concurrency = Number(arg('jobs', String(Math.max(1, Math.min(2, availableParallelism())))));
const rateHz = Number(arg('rate', '20'));
const evalSeed = 100_000 + baseSeed;
const iteratedAt = goods.includes(0.5) ? 0.5 : goods[0]!;
const ablationSeeds = seeds.slice(0, Number(arg('ablation-seeds', '1')));
/** --no-ablation: skip the ablation table (the longest part after the methods). */
const ablate = !flag('no-ablation');
/** Seeds of the methods other than BC and RWR exp (the claims): all by default; --minor-seeds 1 for a shorter run. */
const minorSeeds = seeds.slice(0, Number(arg('minor-seeds', String(seeds.length))));
/** Sections: all (default), or only the state-only table (--only state-only). */
const only = arg('only', '');
const onlyIterated = only === 'iterated';
/** The simulated task: reach (default) or pick-place. */
const task = arg('task', 'reach') as TaskName;
const taskEpisodeS = createTask(task, 'so101').episodeS;
/** Derived labels: the follower's joints this many steps ahead (default: the trainer's). */
const labelHorizon = args.includes('--label-horizon') ? Number(arg('label-horizon', '')) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'armbridge-learn-'));
const out = (s: string) => (json ? process.stderr : process.stdout).write(s);
const log = (s: string) => process.stderr.write(s);
const t0 = performance.now();

/** Runs jobs in child processes, `concurrency` at a time. */
let running = 0;
const waiting: (() => void)[] = [];
let done = 0;
let queued = 0;
async function run(job: LearnJob, label: string): Promise<LearnJobResult> {
  queued++;
  if (running >= concurrency) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/learn-job.ts', JSON.stringify({ ...job, task })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    const line = stdout.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) throw new Error(`bench job ${label} failed (${code}): ${stderr.slice(-2000)}`);
    done++;
    const result = JSON.parse(line) as LearnJobResult;
    // Each result as it comes, so a run cut short still says what it measured.
    const got = 'score' in result && Number.isFinite(result.score.successRate) ? `: ${(result.score.successRate * 100).toFixed(0)} % / ${result.score.meanReturn.toFixed(2)}` : '';
    log(`[${done}/${queued}] ${label}${got} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    return result;
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const scoreOf = (r: LearnJobResult): Score => {
  if (!('score' in r)) throw new Error('not a single score');
  return r.score;
};
const mixOf = (good: number) => ({ expert: good, noisy: (1 - good) / 3, poor: ((1 - good) * 2) / 3 });
const meanStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: m, std: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) };
};
const summarise = (scores: Score[]) => ({ success: meanStd(scores.map((s) => s.successRate)), ret: meanStd(scores.map((s) => s.meanReturn)), n: scores.length });
type Summary = ReturnType<typeof summarise>;
const cell = (s: Summary) => `${(s.success.mean * 100).toFixed(0)}${s.n > 1 ? ` ± ${(s.success.std * 100).toFixed(0)}` : ''} % / ${s.ret.mean.toFixed(2)}${s.n > 1 ? ` ± ${s.ret.std.toFixed(2)}` : ''}`;

// The methods, with the CLI's defaults (armbridge train --algo …).
const METHODS: { name: string; main?: true; config: { algo: 'bc' | 'bc-gaussian' | 'rwr' | 'awr' } & Record<string, unknown>; load?: { outcomes: ['success'] } }[] = [
  { name: 'BC', main: true, config: { algo: 'bc' } },
  { name: 'Gaussian BC', config: { algo: 'bc-gaussian' } },
  { name: 'BC, successful episodes only', config: { algo: 'bc' }, load: { outcomes: ['success'] } },
  { name: 'RWR, linear', config: { algo: 'rwr', rwr: { kind: 'linear' } } },
  { name: 'RWR, exp (β = 0.5)', main: true, config: { algo: 'rwr', rwr: { kind: 'exp', beta: 0.5 } } },
  { name: 'AWR (β = 1)', config: { algo: 'awr', awr: { beta: 1 } } },
];

// Ablation: the learning-setup changes one after another (so101, expert data; RWR rows at 50 %).
const OLD = { relativeActions: false, actionStdFloor: 1e-6, patience: 10, epochs: 100, valFraction: 0.2, stateNoise: 0, selectOnSim: false as const };
const ABLATION: { name: string; data: 'expert' | 'mix50'; config: Record<string, unknown> }[] = [
  { name: 'before: absolute actions, no action-std floor, early stopping (patience 10), 20 % validation', data: 'expert', config: { algo: 'bc', ...OLD } },
  { name: '+ action-std floor 0.05', data: 'expert', config: { algo: 'bc', ...OLD, actionStdFloor: undefined } },
  { name: '+ actions relative to the current joints', data: 'expert', config: { algo: 'bc', ...OLD, actionStdFloor: undefined, relativeActions: true } },
  { name: '+ no early stopping (last epoch), 10 % validation', data: 'expert', config: { algo: 'bc', relativeActions: true, stateNoise: 0, selectOnSim: false } },
  { name: '+ state noise 0.03 rad (label-corrected)', data: 'expert', config: { algo: 'bc', stateNoise: 0.03, selectOnSim: false } },
  { name: '+ checkpoint by simulated success', data: 'expert', config: { algo: 'bc', stateNoise: 0.03 } },
  { name: 'state noise 0.01 (= defaults)', data: 'expert', config: { algo: 'bc' } },
  { name: 'defaults, state noise 0.05', data: 'expert', config: { algo: 'bc', stateNoise: 0.05 } },
  { name: 'defaults, hidden 128×128', data: 'expert', config: { algo: 'bc', hidden: [128, 128] } },
  { name: 'defaults, absolute actions', data: 'expert', config: { algo: 'bc', relativeActions: false } },
  { name: 'RWR exp β = 2 on raw returns (before), 50 % expert', data: 'mix50', config: { algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, rwrBaseline: 'none' } },
  { name: 'RWR exp β = 0.5, nearest-start baseline (default), 50 % expert', data: 'mix50', config: { algo: 'rwr', rwr: { kind: 'exp', beta: 0.5 } } },
];

/**
 * Demonstrations without recorded actions: the same expert episodes with and without /action, the
 * same targets and hand paths taught kinesthetically (the hand on the follower, states only), and
 * RWR on the 50 % mix with all, half or none of the episodes' actions. Labels are derived from the
 * follower's states (dataset/action-labels.ts).
 */
const STATE_ONLY: { name: string; data: 'expert' | 'expert-stripped' | 'kinesthetic' | 'mix50' | 'mix50-half' | 'mix50-stripped'; labels: string; algo: 'bc' | 'rwr' }[] = [
  { name: 'BC, expert demonstrations with recorded /action (teleop)', data: 'expert', labels: 'recorded', algo: 'bc' },
  { name: 'BC, the same episodes without /action', data: 'expert-stripped', labels: 'derived', algo: 'bc' },
  { name: 'BC, kinesthetic expert demonstrations (same targets, hand on the follower)', data: 'kinesthetic', labels: 'derived', algo: 'bc' },
  { name: 'RWR exp, 50 % expert with recorded /action', data: 'mix50', labels: 'recorded', algo: 'rwr' },
  { name: 'RWR exp, the same episodes, every second one without /action', data: 'mix50-half', labels: 'mixed', algo: 'rwr' },
  { name: 'RWR exp, the same episodes without /action', data: 'mix50-stripped', labels: 'derived', algo: 'rwr' },
];

async function stateOnlyArm(arm: SimArmKind): Promise<{ name: string; labels: string; summary: Summary }[]> {
  const file = (tag: string) => join(dir, `${arm}-so-${tag}.mcap`);
  await Promise.all([
    run({ type: 'demos', arm, n: demos, mix: { expert: 1 }, seed: baseSeed, rateHz, out: file('expert') }, `${arm}: ${demos} expert demonstrations (teleop)`),
    run({ type: 'demos', arm, n: demos, mix: { expert: 1 }, seed: baseSeed, rateHz, out: file('kinesthetic'), kinesthetic: true }, `${arm}: ${demos} kinesthetic expert demonstrations`),
    run({ type: 'demos', arm, n: demos, mix: mixOf(0.5), seed: baseSeed, rateHz, out: file('mix50') }, `${arm}: ${demos} demonstrations, 50 % expert`),
  ]);
  await Promise.all([
    run({ type: 'strip', data: file('expert'), out: file('expert-stripped'), every: 1 }, `${arm}: expert demonstrations without /action`),
    run({ type: 'strip', data: file('mix50'), out: file('mix50-half'), every: 2 }, `${arm}: 50 % expert, every second episode without /action`),
    run({ type: 'strip', data: file('mix50'), out: file('mix50-stripped'), every: 1 }, `${arm}: 50 % expert without /action`),
  ]);
  return Promise.all(
    STATE_ONLY.map(async (row) => {
      const config: TrainConfig = row.algo === 'rwr' ? { algo: 'rwr', rwr: { kind: 'exp', beta: 0.5 } } : { algo: 'bc' };
      const scores = await Promise.all(
        seeds.map((seed) =>
          run(
            { type: 'train', arm, data: file(row.data), out: join(dir, `${arm}-so-${row.data}-${row.algo}-${seed}`), config: { ...config, seed }, load: labelHorizon ? { labelHorizon } : undefined, evalSeed, episodes: evalEpisodes },
            `${arm}: ${row.name}, seed ${seed}`,
          ).then(scoreOf),
        ),
      );
      return { name: row.name, labels: row.labels, summary: summarise(scores) };
    }),
  );
}

/** One round of iterated RWR: its model's held-out score, and whether it was kept (handed on) or the best earlier round's was. */
interface IteratedRound {
  round: number;
  summary: Summary;
  accepted: boolean;
  keptRound: number;
}

interface ArmResults {
  expert: Score;
  mixes: { good: number; recorded: Score; methods: Record<string, Summary>; iterated: IteratedRound[] }[];
  efficiency: { n: number; summary: Summary }[];
  ablation: { name: string; summary: Summary }[];
}

async function benchArm(arm: SimArmKind): Promise<ArmResults> {
  const demoFile = (tag: string) => join(dir, `${arm}-${tag}.mcap`);
  const expertP = run({ type: 'operator', arm, skill: 'expert', evalSeed, episodes: evalEpisodes, rateHz }, `${arm}: expert operator on held-out targets`);
  const mixData = await Promise.all(
    goods.filter((g) => !onlyIterated || g === iteratedAt).map(async (good) => ({ good, recorded: scoreOf(await run({ type: 'demos', arm, n: demos, mix: mixOf(good), seed: baseSeed, rateHz, out: demoFile(`mix${good}`) }, `${arm}: ${demos} demonstrations, ${good * 100} % expert`)) })),
  );
  const sizeData = await Promise.all((onlyIterated ? [] : sizes).map((n) => run({ type: 'demos', arm, n, mix: { expert: 1 }, seed: baseSeed, rateHz, out: demoFile(`expert${n}`) }, `${arm}: ${n} expert demonstrations`)));
  void sizeData;
  const train = (data: string, config: Record<string, unknown>, seed: number, label: string, load?: { outcomes: ['success'] }) =>
    run({ type: 'train', arm, data, out: join(dir, `${arm}-${label.replace(/\W+/g, '-')}-${seed}`), config: { ...(config as { algo: 'bc' }), seed }, load, evalSeed, episodes: evalEpisodes }, `${arm}: ${label}, seed ${seed}`).then(scoreOf);
  // Iterated RWR at 50 % expert (the first training seed: five rounds of retraining on a growing
  // data set is the costliest row), queued first so the long job overlaps the others.
  const iterFile = mixData.find((m) => m.good === iteratedAt)!;
  const iteratedP = run(
    { type: 'improve', arm, data: demoFile(`mix${iterFile.good}`), out: join(dir, `${arm}-improve-${iterFile.good}-${seeds[0]}`), iterations, rollouts, seed: seeds[0]!, evalSeed, episodes: evalEpisodes, config: { algo: 'rwr', rwr: { kind: 'exp', beta: 0.5 } } },
    `${arm}: iterated RWR @ ${iterFile.good * 100} %, seed ${seeds[0]}`,
  );
  const mixes = await Promise.all(
    mixData.map(async ({ good, recorded }) => {
      const methods: Record<string, Summary> = {};
      await Promise.all(METHODS.filter(() => !onlyIterated).map(async (m) => (methods[m.name] = summarise(await Promise.all((m.main ? seeds : minorSeeds).map((s) => train(demoFile(`mix${good}`), m.config, s, `${m.name} @ ${good * 100} %`, m.load)))))));
      if (good !== iteratedAt) return { good, recorded, methods, iterated: [] as IteratedRound[] };
      const r = await iteratedP;
      const iterated: IteratedRound[] = 'rounds' in r ? r.rounds.map((x) => ({ round: x.round, summary: summarise([x.score]), accepted: x.accepted ?? true, keptRound: x.keptRound ?? x.round })) : [];
      return { good, recorded, methods, iterated };
    }),
  );
  const efficiency = await Promise.all((onlyIterated ? [] : sizes).map(async (n) => ({ n, summary: summarise(await Promise.all(seeds.map((s) => train(demoFile(`expert${n}`), { algo: 'bc' }, s, `BC on ${n} expert demonstrations`)))) })));
  const ablation =
    arm === arms[0] && !quick && ablate && !onlyIterated
      ? await Promise.all(
          ABLATION.map(async (a) => ({
            name: a.name,
            summary: summarise(await Promise.all(ablationSeeds.map((s) => train(a.data === 'expert' ? demoFile(`expert${demos}`) : demoFile('mix0.5'), a.config, s, `ablation: ${a.name}`)))),
          })),
        )
      : [];
  return { expert: scoreOf(await expertP), mixes, efficiency, ablation };
}

try {
  for (const n of [demos]) if (!sizes.includes(n) && !quick) sizes.push(n);
  const results: Record<string, ArmResults> = {};
  const pct = (s: Score) => `${(s.successRate * 100).toFixed(0)} % / ${s.meanReturn.toFixed(2)}`;
  out(
    `\n${task} task, held-out ${task === 'reach' ? 'targets' : 'scenes'}: ${evalEpisodes} episodes (seed ${evalSeed}); demonstrations at ${rateHz} Hz, ${taskEpisodeS} s episodes, ${demos} per mix (data seed ${baseSeed}); ` +
      `training seeds ${seeds.join(', ')} (BC and RWR exp${minorSeeds.length < seeds.length ? `; the other methods ${minorSeeds.join(', ')}` : ', and every other method'}); CLI defaults. Cells: success % / mean return, mean ± std over the training seeds.\n`,
  );
  const print = (arm: SimArmKind) => {
    const r = results[arm]!;
    const hdr = ['method', ...r.mixes.map((m) => `${(m.good * 100).toFixed(0)} % expert`)];
    const rows: (string | number)[][] = [
      ['expert operator (scripted)', ...r.mixes.map(() => pct(r.expert))],
      ['demonstrations as recorded', ...r.mixes.map((m) => pct(m.recorded))],
      ...METHODS.filter((m) => r.mixes.some((x) => x.methods[m.name])).map((m) => [m.name, ...r.mixes.map((x) => (x.methods[m.name] ? cell(x.methods[m.name]!) : ''))]),
      ...Array.from({ length: iterations + 1 }, (_, k) => [
        `iterated RWR, round ${k}${k === 0 ? ' (RWR on the demonstrations)' : ''}`,
        ...r.mixes.map((x) => (x.iterated[k] ? `${cell(x.iterated[k].summary)}${x.iterated[k].accepted ? '' : ` (not kept: round ${x.iterated[k].keptRound}'s model goes on)`}` : '')),
      ]),
      [
        `iterated RWR, the model handed on after round ${iterations}`,
        ...r.mixes.map((x) => {
          const last = x.iterated.at(-1);
          const kept = last && x.iterated.find((i) => i.round === last.keptRound);
          return kept ? `${cell(kept.summary)} (round ${kept.round})` : '';
        }),
      ],
    ];
    out(`\n${arm}: methods by share of expert demonstrations (iterated RWR at ${iteratedAt * 100} % expert, seed ${seeds[0]}, ${rollouts} rollouts per round)\n\n${table(hdr, rows)}`);
    if (r.efficiency.length) out(`\n${arm}: BC data efficiency on expert demonstrations (expert operator ${pct(r.expert)})\n\n${table(['demonstrations', 'BC success / return'], r.efficiency.map((e) => [e.n, cell(e.summary)]))}`);
    if (r.ablation.length) out(`\n${arm}: ablation of the learning setup (BC on ${demos} expert demonstrations unless noted; seeds ${ablationSeeds.join(', ')})\n\n${table(['setup', 'success / return'], r.ablation.map((a) => [a.name, cell(a.summary)]))}`);
  };
  const stateOnly: Record<string, Awaited<ReturnType<typeof stateOnlyArm>>> = {};
  const printStateOnly = (arm: SimArmKind) =>
    out(
      `\n${arm}: demonstrations without recorded actions (labels derived from the follower's states${labelHorizon ? `, ${labelHorizon} steps ahead` : ', default horizon'}; ${demos} demonstrations, seeds ${seeds.join(', ')})\n\n` +
        table(['demonstrations', 'action labels', 'success / return'], stateOnly[arm]!.map((r) => [r.name, r.labels, cell(r.summary)])),
    );
  const resultsFile =
    only === 'state-only' ? 'bench/results/learn-state-only.json' : `bench/results/learn${task === 'reach' ? '' : `-${task}`}${onlyIterated ? '-iterated' : ''}.json`;
  const record = () => ({ task, seeds, minorSeeds, ablationSeeds, evalSeed, evalEpisodes, demos, rateHz, iterations, rollouts, labelHorizon, seconds: (performance.now() - t0) / 1000, results, stateOnly });
  mkdirSync('bench/results', { recursive: true });
  await Promise.all(
    arms.map(async (arm) => {
      // Kinesthetic teaching is simulated for the reach task only: no state-only table for pick-place.
      const [main, so] = await Promise.all([only === 'state-only' ? undefined : benchArm(arm), task === 'reach' && !onlyIterated ? stateOnlyArm(arm) : undefined]);
      if (main) {
        results[arm] = main;
        print(arm);
      }
      if (so) {
        stateOnly[arm] = so;
        printStateOnly(arm);
      }
      writeFileSync(resultsFile, JSON.stringify(record(), null, 2));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  out(`\n(${seconds.toFixed(0)} s in all, ${concurrency} jobs at a time)\n`);
  writeFileSync(resultsFile, JSON.stringify(record(), null, 2));
  if (json) process.stdout.write(`${JSON.stringify(record())}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
