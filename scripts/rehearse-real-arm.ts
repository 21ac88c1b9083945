/**
 * `npm run rehearse`: the commands of docs/real-arm.md's "A real SO-101 (or Koch), step by step", run verbatim
 * against a simulated bench, as a person with a real leader/follower pair would run them.
 *
 * The bench is `armbridge sim --pair` (its own process): a leader and a follower in one simulated
 * world on two ptys, uncalibrated as out of the box, the same reach target every episode (a fixed
 * scene), a calibration hand at each arm. The script plays the person (test/helpers/person.ts):
 * Enter for calibrate when the hand holds and after it swept, the leader moved for each recorded
 * episode, `s` / `f` typed after each episode of record and eval as the world judged the follower.
 *
 * Verbatim apart from: the ports ($LEADER, $FOLLOWER → the pair's ptys), `npx armbridge` → this
 * checkout's bin/armbridge.js, a scratch working folder (so recordings/, models/, calibration/ land
 * there), and shorter counts (--episodes, --episode-s, --reset-s, --duration-s; listed in the
 * output). It fails when a command exits non-zero (an unknown flag: the guide and the CLI
 * disagree), when the block changes shape (a command it does not know how to play), or when the
 * trained policy does not do the task on the follower (eval's labels, from the world's judge).
 *
 *   npm run rehearse                      (about 4 minutes)
 *   npm run rehearse -- --json            (the steps and results as JSON on stdout)
 *   npm run rehearse -- --keep DIR        (keep the scratch folder at DIR)
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARMBRIDGE_BIN, PairServerProcess, playPersonAt, type PersonRun } from '../test/helpers/person.ts';

const REPO = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const keepAt = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : undefined;
const say = (s: string) => (json ? process.stderr : process.stdout).write(s);

/** Shorter than a person's session, long enough to learn the fixed-scene task. */
const SHORTER: Readonly<Record<string, string>> = { '--episodes': '20', '--episode-s': '4', '--reset-s': '2', '--duration-s': '5' };
/** eval's episodes: fewer than record's. */
const EVAL_EPISODES = '5';
/** The policy must do the fixed-scene task in at least this share of eval's episodes. */
const MIN_EVAL_SUCCESS = 0.8;
const SECTION = '## A real SO-101 (or Koch), step by step';
/** Where the steps are written for people. */
const GUIDE = 'docs/real-arm.md';

interface Step {
  readonly line: string;
  readonly argv: readonly string[];
  readonly code: number | null;
  readonly seconds: number;
  readonly note?: string;
}

/** The block's lines: the variable line and the `npx armbridge …` commands, comments stripped. */
export function readmeSteps(readme: string): { vars: Record<string, string>; commands: string[][] } {
  const at = readme.indexOf(SECTION);
  if (at < 0) throw new Error(`${GUIDE} has no "${SECTION}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`"${SECTION}" has no sh block`);
  const vars: Record<string, string> = {};
  const commands: string[][] = [];
  for (const raw of block[1]!.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    if (words.every((w) => /^[A-Z_]+=\S+$/.test(w))) {
      for (const w of words) vars[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
      continue;
    }
    if (words[0] !== 'npx' || words[1] !== 'armbridge') throw new Error(`a line the rehearsal cannot play: "${line}"`);
    commands.push(words.slice(2));
  }
  return { vars, commands };
}

/** No step of the block takes this long here: one that does is stuck (SIGTERM, then SIGKILL). */
const STEP_TIMEOUT_MS = 10 * 60_000;

function run(argv: readonly string[], cwd: string, input?: NodeJS.ReadableStream): { done: Promise<{ code: number | null; out: string }>; kill(): void } {
  const child = spawn(process.execPath, [ARMBRIDGE_BIN, ...argv], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  };
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    if (input) input.pipe(child.stdin);
    else child.stdin.end();
    const timer = setTimeout(() => {
      out += `\n[rehearsal: no end after ${STEP_TIMEOUT_MS / 60_000} min, stopped]\n`;
      kill();
    }, STEP_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  return { done, kill };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!test()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** calibrate: Enter once the hand holds the arm at mid-range, Enter once it has swept every joint. */
async function calibrate(pair: PairServerProcess, role: 'leader' | 'follower', argv: readonly string[], cwd: string): Promise<{ code: number | null; out: string }> {
  const { PassThrough } = await import('node:stream');
  const enter = new PassThrough();
  // The hand's state as the pair server last reported it (it may already hold an arm that left the factory uncalibrated).
  const state = () => [...pair.stderr.matchAll(new RegExp(`hand at the ${role}: (\\w+)`, 'g'))].at(-1)?.[1];
  const running = run(argv, cwd, enter);
  try {
    await waitFor(() => state() === 'holding', 30_000, `the ${role} hand to hold`);
    await sleep(500);
    enter.write('\n');
    await waitFor(() => state() === 'sweeping', 30_000, `the ${role} hand to sweep`);
    // One round: every joint end to end (about 1.5 s each with the pauses at the ends).
    await sleep(12_000);
    enter.end('\n');
  } catch (e) {
    running.kill();
    const { out } = await running.done;
    return { code: null, out: `${out}\n${(e as Error).message}\n` };
  }
  return running.done;
}

async function main(): Promise<number> {
  const readme = await readFile(join(REPO, GUIDE), 'utf8');
  const { vars, commands } = readmeSteps(readme);
  const dir = keepAt ?? (await mkdtemp(join(tmpdir(), 'armbridge-rehearsal-')));
  await mkdir(dir, { recursive: true });
  const ports: Record<string, string> = { LEADER: join(dir, 'leader.pty'), FOLLOWER: join(dir, 'follower.pty') };
  for (const v of Object.keys(vars)) if (!(v in ports)) throw new Error(`the block sets ${v}, which the rehearsal does not know`);
  let failed: string | undefined;
  const pair = await PairServerProcess.start(['--arm', 'so101', '--task', 'reach', '--scene', 'fixed', '--hand', 'calibrate', '--leader-link', ports.LEADER!, '--follower-link', ports.FOLLOWER!, '--realtime-priority', '40']);
  const steps: Step[] = [];
  let evalRun: PersonRun | undefined;
  const t0 = performance.now();
  try {
    say(`rehearsing ${commands.length} commands of ${GUIDE}'s "${SECTION.slice(3)}" in ${dir}, against armbridge sim --pair (so101, fixed reach target, uncalibrated)\n`);
    for (const words of commands) {
      const argv = words.map((w) => w.replace(/^\$([A-Z_]+)$/, (_m, v: string) => ports[v] ?? w));
      const changed: string[] = [];
      for (let i = 0; i < argv.length - 1; i++) {
        const shorter = argv[0] === 'eval' && argv[i] === '--episodes' ? EVAL_EPISODES : SHORTER[argv[i]!];
        if (shorter !== undefined && argv[i + 1] !== shorter) {
          changed.push(`${argv[i]} ${argv[i + 1]} → ${shorter}`);
          argv[i + 1] = shorter;
        }
      }
      const line = `armbridge ${words.join(' ')}`;
      say(`\n$ ${line}${changed.length ? `   [${changed.join(', ')}]` : ''}\n`);
      const ts = performance.now();
      let code: number | null;
      let out: string;
      let note: string | undefined;
      if (argv[0] === 'calibrate') {
        const role = argv.includes('leader') ? 'leader' : 'follower';
        ({ code, out } = await calibrate(pair, role, argv, dir));
      } else if (argv[0] === 'record' || (argv[0] === 'eval' && argv.includes('--follower'))) {
        const r = await playPersonAt(pair, argv, 20 * 60_000, dir);
        ({ code, output: out } = r);
        note = `${r.labels.filter((l) => l.key === 's').length}/${r.labels.length} labelled success by the person, as the world judged the follower`;
        if (argv[0] === 'eval') evalRun = r;
      } else ({ code, out } = await run(argv, dir).done);
      say(out.split('\n').slice(-6).join('\n'));
      if (note) say(`  → ${note}\n`);
      steps.push({ line, argv, code, seconds: (performance.now() - ts) / 1000, note });
      if (code !== 0) {
        failed = `"${line}" exited ${code}`;
        break;
      }
    }
    if (!failed) {
      const labels = evalRun?.labels ?? [];
      const rate = labels.length ? labels.filter((l) => l.key === 's').length / labels.length : 0;
      if (!evalRun) failed = 'the block has no eval --follower step: nothing checked that the policy does the task';
      else if (rate < MIN_EVAL_SUCCESS) failed = `the trained policy did the fixed-scene task in ${(rate * 100).toFixed(0)} % of eval's episodes on the follower (want ≥ ${MIN_EVAL_SUCCESS * 100} %)`;
      else say(`\nthe trained policy did the task in ${(rate * 100).toFixed(0)} % of eval's ${labels.length} episodes on the follower\n`);
    }
  } catch (e) {
    failed = `the rehearsal itself failed: ${(e as Error).message}`;
  } finally {
    await pair.close();
    // Kept on failure, for a look at what the commands wrote.
    if (!keepAt && !failed) await rm(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  say(failed ? `\nrehearsal FAILED: ${failed}${keepAt ? '' : ` (its folder is kept: ${dir})`}\n` : `\nrehearsal passed: ${steps.length} commands in ${seconds.toFixed(0)} s\n`);
  if (json) process.stdout.write(`${JSON.stringify({ passed: !failed, failure: failed ?? null, seconds, steps, evalLabels: evalRun?.labels.map((l) => l.key) ?? [] })}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
