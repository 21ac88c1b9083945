import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { readRecording } from '../../src/record/read.ts';
import { recordKinestheticSimInWorker } from '../../src/workflows/record-kinesthetic.ts';
import type { SimKinestheticReport } from '../../src/workflows/sim-kinesthetic-env.ts';
import { count, handles } from '../helpers/handles.ts';
import { hasSocat } from '../helpers/socat.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-kin-worker-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The first worker thread of a process opens a pipe for the threads' stdio that stays: open it before counting. */
async function firstWorker(): Promise<void> {
  const w = new Worker('0', { eval: true });
  await new Promise((r) => w.once('exit', r));
}
const readReport = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as SimKinestheticReport;

describe.skipIf(!hasSocat)('record --kinesthetic in the loop worker (the hand on the simulated follower, over a real pty served beside the loop)', () => {
  it('at 50 Hz: torque off on every servo before the first cycle and while the hand moves the arm, states without /action, then held, released and parked', async () => {
    await firstWorker();
    const before = count(handles());
    const out = join(dir, 'kin.mcap');
    const reportPath = join(dir, 'kin.json');
    const r = await recordKinestheticSimInWorker({ arm: 'so101', out, rateHz: 50, episodes: 2, episodeS: 1.5, resetS: 0.3, seed: 4, transport: 'pty', env: { reportPath } });
    expect(r.thread).toBe('worker');
    expect(r.transport).toBe('pty');
    expect(r.kept).toBe(2);
    expect(r.stoppedBy).toBe('done');
    expect(r.logDropped).toBe(0);
    const seen = await readReport(reportPath);
    // Every recorded cycle, from the first: Torque_Enable 0 on every servo (the simulator's side of the wire).
    expect(seen.recordedCycles).toBe(r.recordedCycles);
    expect(seen.recordedCycles).toBeGreaterThan(50);
    expect(seen.notYieldedCycles).toBe(0);
    // The end: held where the hand left it, the hand let go, parked at the rest pose, then torque off.
    expect(r.park).toMatchObject({ held: true, reached: true });
    expect(r.park.seconds).toBeGreaterThan(0);
    expect(seen.released).toBe(true);
    expect(seen.torqueOnAtClose.every((t) => !t)).toBe(true);

    const rec = await inspectRecording(out);
    const topics = Object.fromEntries(rec.topics.map((t) => [t.topic, t.messages]));
    expect(topics['/action']).toBeUndefined();
    expect(topics['/leader/joint_states']).toBeUndefined();
    expect(topics['/follower/joint_states']).toBe(r.recordedCycles - r.missedReads);
    expect(topics['/target_pose']).toBe(r.recordedCycles);
    expect(rec.metadata).toMatchObject({ demonstration: 'kinesthetic', simulated: 'true', rate_hz: '50' });
    expect(rec.episodes.map((e) => e.operator)).toEqual(['scripted-expert', 'scripted-expert']);
    const raw = await readRecording(out);
    expect(episodesOf(raw).map((e) => e.outcome)).toEqual(expect.arrayContaining(['success']));
    // The recorded states are what the servos reported over the wire while the hand moved them.
    const ds = await loadDataset([out]);
    expect(ds.labels).toMatchObject({ source: 'derived', derivedEpisodes: 2 });
    const pans = ds.episodes.flatMap((e) => Array.from({ length: e.length }, (_, t) => e.observations[t * 9]!));
    expect(Math.max(...pans) - Math.min(...pans)).toBeGreaterThan(0.05);

    await new Promise((res) => setTimeout(res, 50));
    const after = count(handles());
    for (const kind of Object.keys(after)) expect(after[kind], kind).toBeLessThanOrEqual(before[kind] ?? 0);
    // Measured, not asserted (a shared machine): what the loop did.
    console.log(`kinesthetic 50 Hz over a pty in the worker: ${r.achievedHz.toFixed(1)} Hz, ${r.missedReads} missed reads of ${r.cycles}, ${r.overruns} overruns, lateness p99 ${r.latenessP99Us.toFixed(0)} µs`);
  }, 30_000);

  it('a stop from the main thread ends the open episode (kept), then holds and parks', async () => {
    const out = join(dir, 'kin-stop.mcap');
    const stop = new AbortController();
    let n = 0;
    const r = await recordKinestheticSimInWorker({ arm: 'so101', out, rateHz: 50, episodes: 3, episodeS: 5, resetS: 0.3, transport: 'pty', stop: stop.signal, onProgress: () => ++n === 3 && stop.abort() });
    expect(r.stoppedBy).toBe('signal');
    expect(r.kept).toBe(1);
    expect(r.park).toMatchObject({ held: true, reached: true });
    const eps = episodesOf(await readRecording(out));
    expect(eps).toHaveLength(1);
    expect(eps[0]!.endNs).toBeDefined();
  }, 30_000);

  it('e-stop: the open episode is closed as cut, the arm is held then its torque cut, SafetyStopError', async () => {
    const out = join(dir, 'kin-estop.mcap');
    const reportPath = join(dir, 'kin-estop.json');
    // Mid-episode: after the second progress report (every 250 ms of the loop).
    let reports = 0;
    const err = await recordKinestheticSimInWorker({ arm: 'koch', out, rateHz: 50, episodes: 3, episodeS: 2, resetS: 0.3, transport: 'pty', env: { reportPath }, onProgress: () => void reports++, keys: () => (reports >= 2 ? 'estop' : undefined) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/e-stop/);
    expect((await readReport(reportPath)).torqueOnAtClose.every((t) => !t)).toBe(true);
    const rec = await readRecording(out);
    expect(rec.complete).toBe(true);
    const eps = episodesOf(rec);
    expect(eps).toHaveLength(1);
    expect(eps[0]!.endNs).toBeDefined();
  }, 30_000);

  it('a follower silent for 250 ms is a lost arm: SafetyStopError, the open episode cut, torque off', async () => {
    const out = join(dir, 'kin-silent.mcap');
    const reportPath = join(dir, 'kin-silent.json');
    const err = await recordKinestheticSimInWorker({ arm: 'so101', out, rateHz: 50, episodes: 3, episodeS: 5, resetS: 0.3, transport: 'pty', env: { reportPath, silentFollowerAfterS: 0.6 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/lost the arm state: no answer from the follower for \d+ ms/);
    const seen = await readReport(reportPath);
    expect(seen.torqueOnAtClose.every((t) => !t)).toBe(true);
    const eps = episodesOf(await readRecording(out));
    expect(eps).toHaveLength(1);
    expect(eps[0]!.endNs).toBeDefined();
  }, 30_000);

  it('Feetech damping: every servo in damping mode (Torque_Enable 2) while the hand moves the arm, then held and parked', async () => {
    const out = join(dir, 'kin-damping.mcap');
    const reportPath = join(dir, 'kin-damping.json');
    const r = await recordKinestheticSimInWorker({ arm: 'so101', out, rateHz: 50, episodes: 1, episodeS: 1, resetS: 0.2, transport: 'pty', compliance: 'damping', env: { reportPath } });
    const seen = await readReport(reportPath);
    expect(seen.recordedCycles).toBeGreaterThan(20);
    expect(seen.notYieldedCycles).toBe(0);
    expect(r.park).toMatchObject({ held: true, reached: true });
    expect(seen.torqueOnAtClose.every((t) => !t)).toBe(true);
  }, 30_000);
});
