/**
 * Recording in the loop worker (the loop and the simulated arms in the worker, MCAP encoding and
 * disk on the main thread) at 200, 500 and 1000 Hz on the in-process simulator: achieved rate,
 * dropped cycles, period jitter and file size per minute, against the same loop without recording
 * (same run); at 200 and 500 Hz also the wake lateness against the idle-thread floor.
 *
 * One run of either kind is decided by this VM's stalls (a few ms, a few times a minute, with or
 * without recording), so each rate runs `pairs` pairs, interleaved A B B A … so slow drift in the
 * machine's load falls on both, and the rows compare the pooled runs: dropped cycles summed, jitter
 * p99 over every cycle of every run. Each pair's own numbers are in the row's note.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gapsIn, inspectRecording } from '../src/record/inspect.ts';
import { runSimTeleop } from '../src/workflows/teleop-sim.ts';
import { recordSim } from '../src/workflows/record-sim.ts';
import { floorRow, idleFloor } from './floor.ts';
import { summarize, type BenchRow } from './stats.ts';
import { jitterSamples } from './teleop-loop.ts';

/**
 * When each cycle started (µs from the first), rebuilt from the loop's lateness the way RateLoop
 * schedules: the next deadline is one period after the last, or one period after the wake when a
 * cycle woke more than a period late (the schedule then starts again from there).
 */
export function cycleStartsOf(latenessUs: readonly number[], periodUs: number): number[] {
  const starts = [0];
  let deadline = periodUs;
  for (let k = 1; k < latenessUs.length; k++) {
    const t = deadline + latenessUs[k]!;
    starts.push(t);
    deadline = latenessUs[k]! > periodUs ? t + periodUs : deadline + periodUs;
  }
  return starts;
}

/** Cycles lost the way `inspect` counts them in a file (`gapsIn`), from the first cycle on. */
export function droppedCyclesOf(latenessUs: readonly number[], periodUs: number): number {
  return gapsIn(cycleStartsOf(latenessUs, periodUs), periodUs).dropped;
}

interface RunNumbers {
  readonly hz: number;
  readonly dropped: number;
  readonly jitter: number[];
  readonly lateness: readonly number[];
}

export async function benchRecording(seconds: number, log: (s: string) => void, pairs = 3, rates: readonly number[] = [200, 500, 1000]): Promise<BenchRow[]> {
  if (!Number.isInteger(pairs) || pairs < 1) throw new RangeError(`pairs must be a whole number ≥ 1, got ${pairs}`);
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-rec-'));
  try {
    for (const rate of rates) {
      const periodUs = 1e6 / rate;
      const rec: RunNumbers[] = [];
      const base: RunNumbers[] = [];
      const fileDetail: string[] = [];
      let size = 0;
      let realtime = '';
      let fifo = false;
      // The recordings' writer statistics, over the runs.
      const w = { written: 0, chunks: 0, maxFlushMs: 0, logDropped: 0, writerDropped: 0 };
      let stopped: string | undefined;
      const recordRun = async (p: number) => {
        log(`  record ${rate} Hz for ${seconds} s, pair ${p + 1} of ${pairs} (loop worker, MCAP on the main thread)…\n`);
        const out = join(dir, `r${rate}-${p}.mcap`);
        const r = await recordSim({ arm: 'so101', out, rateHz: rate, episodes: 1, episodeS: seconds, resetS: 0, transport: 'in-process', seed: 2, realtimePriority: 50 });
        const ep = (await inspectRecording(out)).episodes[0]!;
        size += (await stat(out)).size;
        await rm(out, { force: true });
        realtime = r.realtime?.granted ? 'SCHED_FIFO' : 'normal priority';
        fifo ||= r.realtime?.detail.startsWith('SCHED_FIFO') ?? false;
        w.written += r.recorder.written;
        w.chunks += r.recorder.chunks;
        w.maxFlushMs = Math.max(w.maxFlushMs, r.recorder.maxFlushMs);
        w.logDropped += r.logDropped ?? 0;
        w.writerDropped += r.recorder.dropped;
        fileDetail.push(`${ep.gaps} gaps, longest ${ep.longestGapMs.toFixed(1)} ms`);
        rec.push({ hz: r.achievedHz, dropped: ep.droppedCycles, jitter: jitterSamples(r.latenessUs), lateness: r.latenessUs });
      };
      const baseRun = async (p: number) => {
        log(`  same loop without recording, pair ${p + 1} of ${pairs}…\n`);
        const b = await runSimTeleop({ arm: 'so101', rateHz: rate, durationS: seconds, transport: 'in-process', seed: 2, realtimePriority: 50 });
        base.push({ hz: b.achievedHz, dropped: droppedCyclesOf(b.latenessUs, periodUs), jitter: jitterSamples(b.latenessUs), lateness: b.latenessUs });
      };
      try {
        for (let p = 0; p < pairs; p++) {
          // A B, then B A: a machine getting busier or quieter through the runs weighs on both.
          if (p % 2 === 0) {
            await recordRun(p);
            await baseRun(p);
          } else {
            await baseRun(p);
            await recordRun(p);
          }
        }
      } catch (e) {
        // A run the safety layer stopped (a thread stalled past the watchdog on a busy machine) is a row too.
        stopped = (e as Error).message;
      }
      if (stopped !== undefined) {
        rows.push({ section: 'record', case: `so101 in-process ${rate} Hz, ${seconds} s`, metric: 'run', value: NaN, unit: '', note: `stopped: ${stopped}` });
        continue;
      }
      const n = rec.length;
      const c = `so101 in-process ${rate} Hz, ${n} × ${seconds} s, worker ${realtime}`;
      const mean = (xs: readonly RunNumbers[]) => xs.reduce((a, x) => a + x.hz, 0) / xs.length;
      const sum = (xs: readonly RunNumbers[]) => xs.reduce((a, x) => a + x.dropped, 0);
      const pooled = (xs: readonly RunNumbers[]) => summarize(xs.flatMap((x) => x.jitter));
      const hzR = mean(rec);
      const hzB = mean(base);
      const dR = sum(rec);
      const dB = sum(base);
      const limit = 1.1 * dB + 2 * n;
      const jr = pooled(rec);
      const jb = pooled(base);
      const perPair = (f: (x: RunNumbers) => string) => rec.map((x, i) => `${f(x)} vs ${f(base[i]!)}`).join('; ');
      rows.push({ section: 'record', case: c, metric: 'achieved rate', value: hzR, unit: 'Hz', baseline: { name: 'no recording', value: hzB }, ratio: hzR / hzB, note: `asked ${rate}; mean of ${n} runs each` });
      rows.push({
        section: 'record',
        case: c,
        metric: 'dropped cycles',
        value: dR,
        unit: '',
        baseline: { name: 'no recording', value: dB },
        ratio: dR / Math.max(1, dB),
        note: `in the files, summed over ${n} runs (loop: cycle starts more than 1.5 periods apart); limit 1.1 × without + 2 per run = ${limit.toFixed(1)}: ${dR <= limit ? 'met' : 'not met'}; per pair ${perPair((x) => String(x.dropped))}; ${fileDetail.join(', ')}; ring overflow ${w.logDropped}, writer dropped ${w.writerDropped}`,
      });
      rows.push({ section: 'record', case: c, metric: 'period jitter p99', value: jr.p99, unit: 'µs', baseline: { name: 'no recording', value: jb.p99 }, ratio: jr.p99 / Math.max(1, jb.p99), note: `over every cycle of the ${n} runs; ratio = recording / none (limit 1.25): ${jr.p99 <= 1.25 * Math.max(1, jb.p99) ? 'met' : 'not met'}; p50 ${jr.p50.toFixed(0)} vs ${jb.p50.toFixed(0)} µs; per pair p99 ${perPair((x) => summarize(x.jitter).p99.toFixed(0))} µs` });
      rows.push({ section: 'record', case: c, metric: 'file size per minute', value: (size / n / 1e6) * (60 / seconds), unit: 'MB', note: `${w.written} messages, ${w.chunks} chunks in ${n} files, longest flush ${w.maxFlushMs.toFixed(1)} ms` });
      if (rate <= 500) {
        log(`  idle deadline floor ${rate} Hz…\n`);
        const fl = await idleFloor(rate, Math.min(seconds, 10), fifo);
        rows.push(floorRow('record', c, rec.flatMap((x) => x.lateness.slice(1)), fl));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
