import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/dataset/load.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { readRecording } from '../../src/record/read.ts';
import { deploySim } from '../../src/workflows/deploy-sim.ts';
import { identityPolicy } from '../helpers/models.ts';
import { hasSocat } from '../helpers/socat.ts';

describe('deploying on the simulated task: the run log is training data', () => {
  it.each(['worker', 'main'] as const)('%s thread: episodes per target with outcome and return, targets and rewards beside every action; loads as a dataset', async (thread) => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-dsim-'));
    const log = join(dir, 'run.mcap');
    // No return between episodes (returnS 0): every cycle belongs to an episode.
    const r = await deploySim({ arm: 'so101', model: await identityPolicy(dir, { withTarget: true }), rateHz: 100, durationS: 1.6, episodeS: 0.5, returnS: 0, transport: 'in-process', thread, log });
    expect(r.thread).toBe(thread);
    expect(r.episodes).toBeGreaterThanOrEqual(3);
    const rec = await readRecording(log);
    const episodes = episodesOf(rec);
    expect(episodes.length).toBe(r.episodes);
    expect(episodes.every((e) => e.endNs !== undefined && e.operator === 'policy')).toBe(true);
    // The identity policy holds still: it never reaches a target.
    expect(episodes.every((e) => e.outcome === 'failure' && (e.return ?? 0) < 0)).toBe(true);
    const count = (t: string) => rec.messages.filter((m) => m.topic === t).length;
    expect(count('/target_pose')).toBe(count('/policy/action'));
    expect(count('/reward')).toBe(count('/action'));
    const data = await loadDataset([log]);
    expect(data.layout.observation).toEqual([{ name: 'follower.position', size: 6 }, { name: 'target.position', size: 3 }]);
    expect(data.episodes.length).toBe(r.episodes);
    const total = data.episodes.reduce((n, e) => n + e.length, 0);
    expect(total).toBeGreaterThan(0.8 * r.cycles);
    // The observation's target is the one the episode started with.
    const first = data.episodes[0]!;
    const startTarget = (episodes[0]!.detail as { target: number[] }).target;
    expect(Array.from(first.observations.slice(6, 9)).map((v) => v.toFixed(4))).toEqual(startTarget.map((v) => Math.fround(v).toFixed(4)));
  });

  it.skipIf(!hasSocat)('the worker serves the simulator on a real pty beside the loop (tty binding on both ends)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-dsim-'));
    const r = await deploySim({ arm: 'so101', model: await identityPolicy(dir, { withTarget: true }), rateHz: 100, durationS: 0.8, episodeS: 0.4, returnS: 0, transport: 'pty', thread: 'worker' });
    expect(r.transport).toBe('pty');
    expect(r.cycles).toBeGreaterThan(20);
    expect(r.episodes).toBeGreaterThanOrEqual(2);
  });
});
