/**
 * `npm run bench`: one table of every benchmark, each with a baseline measured in the same run and
 * the ratio; also written to bench/results/latest.json (rows {section, case, metric, value, unit,
 * baseline: {name, value}, ratio}). Never asserts time: it reports it.
 *   npm run bench -- --section deploy    one section: bus | teleop | record | deploy | train | learn |
 *                                        bridge | kinesthetic
 *                                        (comma-separated for several); the other sections' rows in
 *                                        latest.json are kept from their last run
 *   npm run bench -- --seconds 1         shorter runs
 *   npm run bench -- --record-seconds 20 recording runs of 20 s (default: --seconds; --full: 60)
 *   npm run bench -- --record-pairs 3    interleaved pairs of runs with / without recording per rate
 *                                        (default 3; the rows compare the pooled runs)
 *   npm run bench -- --record-rates 1000 the recording rates (default 200,500,1000)
 *   npm run bench -- --deploy-seconds 5  shorter deployment cases (default 30 s each)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseRecordPairs, parseRecordRates } from './record-args.ts';
import { formatRows, type BenchRow } from './stats.ts';

const SECTIONS = ['bus', 'teleop', 'record', 'deploy', 'train', 'learn', 'bridge', 'kinesthetic'] as const;
type Section = (typeof SECTIONS)[number];

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seconds = Number(arg('seconds') ?? 3);
const recordSeconds = Number(arg('record-seconds') ?? (args.includes('--full') ? 60 : seconds));
let recordPairs = 3;
let recordRates: number[] = [];
try {
  recordPairs = parseRecordPairs(arg('record-pairs'));
  recordRates = parseRecordRates(arg('record-rates'));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
const deploySeconds = Number(arg('deploy-seconds') ?? 30);
const asked = (arg('section') ?? SECTIONS.filter((s) => s !== 'learn').join(',')).split(',');
for (const s of asked) {
  if (!SECTIONS.includes(s as Section)) {
    process.stderr.write(`unknown --section ${s}: one of ${SECTIONS.join(', ')} (comma-separated for several)\n`);
    process.exit(2);
  }
}
const sections = asked as Section[];

const log = (s: string) => process.stderr.write(s);
const rows: BenchRow[] = [];
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
log(`armbridge bench (${cpus().length} cores, node ${process.version}, ${seconds} s per case; sections ${sections.join(', ')}; load average ${load()})\n`);
mkdirSync('bench/results', { recursive: true });
const path = 'bench/results/latest.json';
// Rows of sections not run this time stay as they were (with the date of their run).
let kept: (BenchRow & { date?: string })[] = [];
if (existsSync(path)) {
  try {
    const old = JSON.parse(readFileSync(path, 'utf8')) as { date?: string; rows?: (BenchRow & { date?: string })[] };
    kept = (old.rows ?? []).filter((r) => !sections.includes(r.section as Section)).map((r) => ({ ...r, date: r.date ?? old.date }));
  } catch {
    kept = [];
  }
}
const date = new Date().toISOString();
/** Written after every section, so a later section that fails leaves the earlier ones on disk. */
function save(): void {
  writeFileSync(
    path,
    JSON.stringify({ date, node: process.version, cores: cpus().length, seconds, sections, loadAverage: loadavg(), rows: [...kept, ...rows.map((r) => ({ ...r, date }))] }, null, 2),
  );
}

// Heavy modules are imported by the section that needs them, so one section starts quickly.
for (const section of sections) {
  const before = rows.length;
  if (section === 'bus') {
    log('bus cycles (sync read + sync write, 6 servos, 1 Mbps)\n');
    rows.push(...(await (await import('./bus-cycles.ts')).benchBusCycles(seconds, log)));
  } else if (section === 'teleop') {
    log('teleop loop (leader → SafetyFilter → follower, loop worker)\n');
    rows.push(...(await (await import('./teleop-loop.ts')).benchTeleop(seconds, log)));
  } else if (section === 'record') {
    log(`recording (${recordPairs} pairs of ${recordSeconds} s runs with and without recording per rate; --record-seconds N or --full for 60 s, --record-pairs N)\n`);
    rows.push(...(await (await import('./recording.ts')).benchRecording(recordSeconds, log, recordPairs, recordRates)));
  } else if (section === 'deploy') {
    log(`deployment loop (ONNX policy, in-process simulator, ${deploySeconds} s per case; --deploy-seconds N to change)\n`);
    rows.push(...(await (await import('./deploy-loop.ts')).benchDeploy(deploySeconds, log)));
  } else if (section === 'bridge') {
    log('ros bridge (the follower over a pty; loop worker vs main thread)\n');
    rows.push(...(await (await import('./loop-kinds.ts')).benchBridge(seconds, log)));
  } else if (section === 'kinesthetic') {
    log(`kinesthetic recording (the follower over a pty, 50 Hz, ${Math.max(seconds, 5)} s; loop worker vs main thread)\n`);
    rows.push(...(await (await import('./loop-kinds.ts')).benchKinesthetic(Math.max(seconds, 5), log)));
  } else if (section === 'train') {
    log('training throughput (tfjs backends vs PyTorch)\n');
    rows.push(...(await (await import('./train-throughput.ts')).benchTraining(seconds, log)));
  } else {
    // The learning comparison is its own benchmark (npm run bench:learn, about an hour); here its quick mode.
    log('learning comparison: npm run bench:learn (here its --quick mode; tables below, results in bench/results/learn.json)\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', new URL('./learn.ts', import.meta.url).pathname, '--quick'], { stdio: 'inherit' });
    if (r.status !== 0) log(`bench:learn --quick exited with ${r.status ?? r.signal}\n`);
  }
  log(`  (load average after ${section}: ${load()})\n`);
  if (rows.length > before) log('\n' + formatRows(rows.slice(before)) + '\n');
  save();
}

process.stdout.write('\n' + formatRows(rows));
process.stdout.write(`\nwritten to ${path}${kept.length ? ` (${kept.length} rows of other sections kept from earlier runs)` : ''}\n`);

