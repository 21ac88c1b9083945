import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { replayAgainstPolicy } from '../../src/replay/offline.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';

describe('replay against a policy (offline evaluation)', () => {
  it('reports per-joint errors and writes a plot per joint; a better-fitting model has smaller errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 5, episodes: 8, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    const short = await trainFromRecordings({ data: [data], out: join(dir, 'm1'), algo: 'bc', hidden: [32], epochs: 1, seed: 1, backend: 'cpu', valFraction: 0.25 });
    const long = await trainFromRecordings({ data: [data], out: join(dir, 'm2'), algo: 'bc', hidden: [32], epochs: 60, patience: 60, learningRate: 3e-3, seed: 1, backend: 'cpu', valFraction: 0.25 });
    const r1 = await replayAgainstPolicy(data, short.modelPath, join(dir, 'r1'));
    const r2 = await replayAgainstPolicy(data, long.modelPath, join(dir, 'r2'));
    expect(r1.samples).toBe(8 * 20);
    expect(r1.joints.map((j) => j.joint)).toEqual(['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);
    for (const p of r2.plots) expect(await readFile(p, 'utf8')).toMatch(/<svg[\s\S]*polyline[\s\S]*polyline[\s\S]*<\/svg>/);
    expect(existsSync(join(dir, 'r2', 'summary.json'))).toBe(true);
    const mean = (r: typeof r1) => r.joints.reduce((a, j) => a + j.meanAbs, 0) / r.joints.length;
    expect(mean(r2)).toBeLessThan(mean(r1));
  }, 60_000);

  it('the CLI refuses targets that are not built yet with a clear message', async () => {
    const { Writable } = await import('node:stream');
    let err = '';
    const sink = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
    const code = await main(['replay', 'x.mcap', '--to', 'arm'], { stdout: sink as unknown as typeof process.stdout, stderr: sink as unknown as typeof process.stderr });
    expect(code).toBe(1);
    expect(err).toMatch(/replay --to arm is not built yet: use --to policy for offline evaluation \[REPLAY_TARGET_UNAVAILABLE\]/);
  });
});
