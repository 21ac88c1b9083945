import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { replayAgainstPolicy } from '../../src/replay/offline.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';

describe('replay against a policy (offline evaluation)', () => {
  it('reports per-joint errors and the series to plot; a better-fitting model has smaller errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 5, episodes: 8, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    const short = await trainFromRecordings({ data: [data], out: join(dir, 'm1'), algo: 'bc', hidden: [32], epochs: 1, seed: 1, backend: 'cpu', valFraction: 0.25 });
    const long = await trainFromRecordings({ data: [data], out: join(dir, 'm2'), algo: 'bc', hidden: [32], epochs: 60, patience: 60, learningRate: 3e-3, seed: 1, backend: 'cpu', valFraction: 0.25 });
    const r1 = await replayAgainstPolicy(data, short.modelPath, join(dir, 'r1'));
    const r2 = await replayAgainstPolicy(data, long.modelPath, join(dir, 'r2'));
    expect(r1.samples).toBe(8 * 20);
    expect(r1.joints.map((j) => j.joint)).toEqual(['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);
    expect(r2.series.timeS.length).toBe(8 * 20);
    expect(r2.series.episodeStarts.map((e) => e.timeS)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(r2.series.recorded.map((s) => s.length)).toEqual([160, 160, 160, 160, 160, 160]);
    expect(Array.from(r2.series.predicted[0]!).every(Number.isFinite)).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'r2', 'summary.json'), 'utf8')).joints).toEqual(r2.joints);
    const mean = (r: typeof r1) => r.joints.reduce((a, j) => a + j.meanAbs, 0) / r.joints.length;
    expect(mean(r2)).toBeLessThan(mean(r1));
  }, 60_000);

  it.skipIf(!!process.env.ROS_DISTRO)('the CLI says ROS 2 is not sourced for --to ros', async () => {
    const { Writable } = await import('node:stream');
    let err = '';
    const sink = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
    const code = await main(['replay', 'x.mcap', '--to', 'ros'], { stdout: sink as unknown as typeof process.stdout, stderr: sink as unknown as typeof process.stderr });
    expect(code).toBe(1);
    expect(err).toMatch(/ROS 2 is not sourced: run `source \/opt\/ros\/<distro>\/setup.bash`.*\[ROS_UNAVAILABLE\]/);
  });
});

describe('replay to an arm', () => {
  it('moves slowly to the start pose, then plays the recorded actions; refuses another calibration unless forced', async () => {
    const { replayToArm, ReplayMismatchError, EpisodeNotFoundError } = await import('../../src/replay/to-arm.ts');
    const { openSimArm, shippedCalibration } = await import('../helpers/arms.ts');
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-arm-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 8, episodes: 2, episodeS: 1.5, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    const cal = await shippedCalibration('so101', 'follower');
    const { arm, close } = await openSimArm('so101', 'follower', cal);
    try {
      await expect(replayToArm({ file: data, episode: 7, arm, calibration: cal })).rejects.toBeInstanceOf(EpisodeNotFoundError);
      const other = { ...cal, joints: { ...cal.joints, elbow_flex: { ...cal.joints.elbow_flex!, homing_offset: 300 } } };
      await expect(replayToArm({ file: data, episode: 1, arm, calibration: other })).rejects.toBeInstanceOf(ReplayMismatchError);
      const r = await replayToArm({ file: data, episode: 1, arm, calibration: cal, speed: 2 });
      expect(r.sent).toBe(30);
      expect(r.seconds).toBeGreaterThan(0);
      const { readRecording, decodeMessage } = await import('../../src/record/read.ts');
      const rec = await readRecording(data);
      const acts = rec.messages.filter((m) => m.topic === '/action');
      const last = Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, acts[acts.length - 1]!).position);
      await new Promise((res) => setTimeout(res, 800));
      const now = await arm.read();
      now.slice(0, 5).forEach((v, i) => expect(Math.abs(v - last[i]!)).toBeLessThan(0.05));
    } finally {
      await close();
    }
  }, 60_000);
});
