/**
 * `npm run bench`: one table of every benchmark, each with a baseline measured in the same run and
 * the ratio; also written to bench/results/latest.json. Never asserts time: it reports it.
 *   npm run bench -- --seconds 1     shorter runs
 *   npm run bench -- --full          recording benchmark at 60 s per rate, as the issue asks
 *   npm run bench -- --deploy-seconds 5   shorter deployment cases (default 30 s each)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchBusCycles } from './bus-cycles.ts';
import { benchDeploy } from './deploy-loop.ts';
import { benchRecording } from './recording.ts';
import { benchTeleop } from './teleop-loop.ts';
import { benchTraining } from './train-throughput.ts';
import { formatRows, type BenchRow } from './stats.ts';

const args = process.argv.slice(2);
const secondsArg = args.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 3;

const log = (s: string) => process.stderr.write(s);
const rows: BenchRow[] = [];
log(`armbridge bench (${cpus().length} cores, node ${process.version}, ${seconds} s per case)\n`);
log('bus cycles (sync read + sync write, 6 servos, 1 Mbps)\n');
rows.push(...(await benchBusCycles(seconds, log)));
log('teleop loop (leader → SafetyFilter → follower, in-process simulator)\n');
rows.push(...(await benchTeleop(seconds, log)));
const recordSeconds = args.includes('--full') ? 60 : seconds;
log(`recording (${recordSeconds} s per rate; --full for 60 s)\n`);
rows.push(...(await benchRecording(recordSeconds, log)));
const deployArg = args.indexOf('--deploy-seconds');
const deploySeconds = deployArg >= 0 ? Number(args[deployArg + 1]) : 30;
log(`deployment loop (ONNX policy, in-process simulator, ${deploySeconds} s per case; --deploy-seconds N to change)\n`);
rows.push(...(await benchDeploy(deploySeconds, log)));
log('training throughput (tfjs backends vs PyTorch)\n');
rows.push(...(await benchTraining(seconds, log)));

process.stdout.write('\n' + formatRows(rows));
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/latest.json',
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, seconds, rows }, null, 2),
);
process.stdout.write('\nwritten to bench/results/latest.json\n');
