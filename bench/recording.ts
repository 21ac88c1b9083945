/**
 * Recording in the loop worker (the loop and the simulated arms in the worker, MCAP encoding and
 * disk on the main thread) at 200, 500 and 1000 Hz on the in-process simulator: achieved rate,
 * dropped cycles, period jitter and file size per minute, against the same loop without recording
 * (same run); at 200 and 500 Hz also the wake lateness against the idle-thread floor.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectRecording } from '../src/record/inspect.ts';
import { runSimTeleop } from '../src/workflows/teleop-sim.ts';
import { recordSim } from '../src/workflows/record-sim.ts';
import { floorRow, idleFloor } from './floor.ts';
import { jitterOf } from './teleop-loop.ts';
import type { BenchRow } from './stats.ts';

/** Cycles lost the way `inspect` counts them: consecutive cycle starts more than 1.5 periods apart. */
export function droppedCyclesOf(latenessUs: readonly number[], periodUs: number): number {
  let dropped = 0;
  for (let k = 2; k < latenessUs.length; k++) {
    const dt = periodUs + latenessUs[k]! - latenessUs[k - 1]!;
    if (dt > 1.5 * periodUs) dropped += Math.round(dt / periodUs) - 1;
  }
  return dropped;
}

export async function benchRecording(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-rec-'));
  try {
    for (const rate of [200, 500, 1000]) {
      log(`  record ${rate} Hz for ${seconds} s (loop worker, MCAP on the main thread)…\n`);
      const out = join(dir, `r${rate}.mcap`);
      // A run the safety layer stopped (a thread stalled past the watchdog on a busy machine) is a row too.
      const failed = (what: string) => (e: unknown) => {
        rows.push({ section: 'record', case: `so101 in-process ${rate} Hz, ${seconds} s: ${what}`, metric: 'run', value: NaN, unit: '', note: `stopped: ${(e as Error).message}` });
        return undefined;
      };
      const r = await recordSim({ arm: 'so101', out, rateHz: rate, episodes: 1, episodeS: seconds, resetS: 0, transport: 'in-process', seed: 2, realtimePriority: 50 }).catch(failed('recording'));
      log(`  same loop without recording…\n`);
      const base = await runSimTeleop({ arm: 'so101', rateHz: rate, durationS: seconds, transport: 'in-process', seed: 2, realtimePriority: 50 }).catch(failed('no recording'));
      if (!r || !base) continue;
      const size = (await stat(out)).size;
      const ep = (await inspectRecording(out)).episodes[0]!;
      const jr = jitterOf(r.latenessUs);
      const jb = jitterOf(base.latenessUs);
      const droppedBase = droppedCyclesOf(base.latenessUs, 1e6 / rate);
      const c = `so101 in-process ${rate} Hz, ${seconds} s, worker ${r.realtime?.granted ? 'SCHED_FIFO' : 'normal priority'}`;
      rows.push({ section: 'record', case: c, metric: 'achieved rate', value: r.achievedHz, unit: 'Hz', baseline: { name: 'no recording', value: base.achievedHz }, ratio: r.achievedHz / base.achievedHz, note: `asked ${rate}` });
      rows.push({
        section: 'record',
        case: c,
        metric: 'dropped cycles',
        value: ep.droppedCycles,
        unit: '',
        baseline: { name: 'no recording', value: droppedBase },
        ratio: ep.droppedCycles / Math.max(1, droppedBase),
        note: `in the file (loop gaps and ring overflow: ${r.logDropped ?? 0}); limit 1.1 × without + 2 = ${(1.1 * droppedBase + 2).toFixed(1)}: ${ep.droppedCycles <= 1.1 * droppedBase + 2 ? 'met' : 'not met'}; ${ep.gaps} gaps, longest ${ep.longestGapMs.toFixed(1)} ms; ${r.recorder.dropped} samples dropped by the writer`,
      });
      rows.push({ section: 'record', case: c, metric: 'period jitter p99', value: jr.p99, unit: 'µs', baseline: { name: 'no recording', value: jb.p99 }, ratio: jr.p99 / Math.max(1, jb.p99), note: `ratio = recording / none (limit 1.25); p50 ${jr.p50.toFixed(0)} vs ${jb.p50.toFixed(0)} µs` });
      rows.push({ section: 'record', case: c, metric: 'file size per minute', value: (size / 1e6) * (60 / seconds), unit: 'MB', note: `${r.recorder.written} messages, ${r.recorder.chunks} chunks, longest flush ${r.recorder.maxFlushMs.toFixed(1)} ms` });
      if (rate <= 500) {
        log(`  idle deadline floor ${rate} Hz…\n`);
        const fl = await idleFloor(rate, Math.min(seconds, 10), r.realtime?.detail.startsWith('SCHED_FIFO') ?? false);
        rows.push(floorRow('record', c, r.latenessUs, fl));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
