import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDatasetDemo } from '../../src/workflows/demo-dataset.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';

describe('dataset demo stage', () => {
  it('lists, splits, exports to LeRobot, imports back and reports a round trip within tolerance', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'armbridge-demo-ds-'));
    const recordingFile = join(runDir, 'demonstrations.mcap');
    await rollout({ arm: 'so101', seed: 4, episodes: 4, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1, poor: 1 } }, out: recordingFile });
    let text = '';
    const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const r = await runDatasetDemo({ recordingFile, runDir, out, fast: true });
    expect(r).toMatchObject({ episodes: 4, frames: 80, fps: 20, units: 'degrees', boundariesMatch: true });
    expect([...r.trainEpisodes, ...r.valEpisodes].sort()).toEqual([0, 1, 2, 3]);
    expect(r.roundTripMaxErrorRad).toBeLessThanOrEqual(1e-5);
    expect(r.returnMaxError).toBeLessThan(1e-4);
    expect((await stat(join(r.lerobotDir, 'meta/info.json'))).isFile()).toBe(true);
    expect(text).toMatch(/round trip .* episodes and lengths identical/);
  });
});
