/**
 * Measures record against `armbridge sim --pair` with the scripted person (test/helpers/person.ts):
 * how many expert episodes the world judges successful, the labels the person gave, the record rate.
 *   npx tsx scripts/measure-pair-record.ts [reach|pick-place] [episodes] [episode_s] [reset_s] [arm]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { episodesOf } from '../src/record/episodes.ts';
import { inspectParsed } from '../src/record/inspect.ts';
import { decodeMessage, readRecording } from '../src/record/read.ts';
import { simCalibrationPath } from '../src/workflows/paths.ts';
import { PairServerProcess, playPersonAt } from '../test/helpers/person.ts';

const [task = 'reach', n = '10', episodeS = '4', resetS = '2', arm = 'so101'] = process.argv.slice(2);
const dir = await mkdtemp(join(tmpdir(), 'armbridge-pair-measure-'));
const [leader, follower, out] = [join(dir, 'leader'), join(dir, 'follower'), join(dir, 'pair.mcap')];
const cal = { leader: simCalibrationPath(arm, 'leader'), follower: simCalibrationPath(arm, 'follower') };
let pair: PairServerProcess | undefined;
try {
  pair = await PairServerProcess.start(['--arm', arm, '--task', task, '--scene', 'fixed', '--mix', 'expert:1', '--seed', '1', '--leader-link', leader, '--follower-link', follower, '--leader-calibration', cal.leader, '--follower-calibration', cal.follower, '--realtime-priority', '40']);
  const run = await playPersonAt(pair, ['record', '--arm', arm, '--leader', leader, '--follower', follower, '--leader-calibration', cal.leader, '--follower-calibration', cal.follower, '--episodes', n, '--episode-s', episodeS, '--reset-s', resetS, '--out', out], (Number(n) * (Number(episodeS) + Number(resetS)) + 60) * 1000);
  if (run.code !== 0) { (await import("node:fs")).writeFileSync("/tmp/wtc-measure/fail.txt", run.output); console.error("FAILED, output in /tmp/wtc-measure/fail.txt"); }
  const rec = await readRecording(out);
  const eps = episodesOf(rec);
  const report = inspectParsed(rec);
  const labelled = eps.filter((e) => e.outcome !== 'unlabelled').length;
  const ok = run.labels.filter((l) => l.judged.success).length;
  const labelLagMs = eps.map((e) => {
    const label = rec.messages.find((m) => m.topic === '/episode' && m.logTimeNs > e.startNs && (JSON.parse(decodeMessage<{ data: string }>(rec, m).data) as { event: string; episode: number }).event === 'label' && (JSON.parse(decodeMessage<{ data: string }>(rec, m).data) as { episode: number }).episode === e.index);
    return label && e.endNs ? Number(label.logTimeNs - e.endNs) / 1e6 : NaN;
  });
  const hz = report.episodes.map((e) => e.achievedHz);
  console.log(JSON.stringify({
    arm, task, episodes: eps.length, exit: run.code, judgedSuccessful: ok, labelled,
    outcomes: run.labels.map((l) => l.judged.outcome),
    finalDistanceMm: run.labels.map((l) => +(l.judged.distanceM * 1000).toFixed(1)),
    labelLagMs: labelLagMs.map((x) => +x.toFixed(0)),
    recordHz: { min: +Math.min(...hz).toFixed(1), max: +Math.max(...hz).toFixed(1) },
    droppedCycles: report.episodes.reduce((a, e) => a + e.droppedCycles, 0),
    longestGapMs: +Math.max(...report.episodes.map((e) => e.longestGapMs)).toFixed(1),
  }));
} finally {
  await pair?.close();
  await rm(dir, { recursive: true, force: true });
}
