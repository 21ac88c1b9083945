import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { MissingFeatureError } from '../../src/dataset/errors.ts';
import { main } from '../../src/cli/main.ts';
import { CorruptRecordingError } from '../../src/record/errors.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { ReplayMissingTopicError } from '../../src/replay/errors.ts';
import { replayAgainstPolicy } from '../../src/replay/offline.ts';
import { replayToArm } from '../../src/replay/to-arm.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { serveSimArm } from '../../src/workflows/sim-port.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';
import { openSimArm, shippedCalibration } from '../helpers/arms.ts';
import { hasSocat } from '../helpers/socat.ts';

describe.skipIf(!hasSocat)('replay --to arm on the simulator over a real pty (socat)', () => {
  it('reproduces the recorded follower trajectory and reports the tracking error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-pty-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 12, episodes: 2, episodeS: 2, rateHz: 25, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    const port = await serveSimArm(createSimArm({ arm: 'so101', role: 'follower' }), 'pty');
    expect(port.transport).toBe('pty');
    const calibration = await shippedCalibration('so101', 'follower');
    const arm = await Arm.open({ profile: armProfile('so101', 'follower'), calibration, path: port.path, bus: { timeoutMs: 100 } });
    try {
      const r = await replayToArm({ file: data, episode: 1, arm, calibration });
      expect(r.sent).toBe(50);
      const t = r.tracking!;
      expect(t.samples + r.failedReads).toBe(50);
      expect(t.samples).toBeGreaterThanOrEqual(40); // a read may time out on a loaded machine: that cycle has no sample
      expect(t.perJoint.map((j) => j.joint)).toEqual([...arm.names]);
      // The demonstration moved the arm by tenths of a radian; the replay follows it within a few hundredths.
      expect(t.meanAbsRad).toBeLessThan(0.05);
      expect(t.p95AbsRad).toBeLessThan(0.12);
      expect(r.safety.faults).toBe(0);
      // …and the error is small against how far the recorded follower moved.
      const { readRecording, decodeMessage } = await import('../../src/record/read.ts');
      const { episodesOf } = await import('../../src/record/episodes.ts');
      const rec = await readRecording(data);
      const ep = episodesOf(rec)[1]!;
      const traj = rec.messages.filter((m) => m.topic === '/follower/joint_states' && m.logTimeNs >= ep.startNs && m.logTimeNs <= ep.endNs!).map((m) => Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, m).position));
      const travel = Math.max(...[0, 1, 2, 3].map((i) => Math.max(...traj.map((p) => p[i]!)) - Math.min(...traj.map((p) => p[i]!))));
      expect(travel).toBeGreaterThan(20 * t.meanAbsRad);
      expect(travel).toBeGreaterThan(0.1);
      console.log(`pty replay tracking error: mean ${t.meanAbsRad.toFixed(4)} rad, p95 ${t.p95AbsRad.toFixed(4)} rad, max ${t.maxAbsRad.toFixed(4)} rad over ${t.samples} samples; largest joint travel ${travel.toFixed(3)} rad`);
    } finally {
      await arm.close();
      await port.close();
    }
  }, 60_000);
});

describe('replay: bad input', () => {
  it('refuses a recording without /action, naming what it has, and a corrupt file with the recorder\'s error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-bad-'));
    const states = join(dir, 'states-only.mcap');
    const rec = await Recorder.create({ path: states }, { arm: 'so101' });
    const topic = await rec.topic('/follower/joint_states', 'sensor_msgs/msg/JointState');
    rec.log(topic, { header: { stamp: { sec: 1, nanosec: 0 }, frame_id: '' }, name: ['a'], position: [0], velocity: [], effort: [] }, 1_000_000_000n);
    await rec.close();
    const junk = join(dir, 'junk.mcap');
    await writeFile(junk, new Uint8Array(64).fill(7));
    const cal = await shippedCalibration('so101', 'follower');
    const { arm, close } = await openSimArm('so101', 'follower', cal);
    try {
      const err = await replayToArm({ file: states, episode: 0, arm, calibration: cal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReplayMissingTopicError);
      expect((err as Error).message).toMatch(/no messages on \/action, which replay --to arm needs \(it has: \/follower\/joint_states\)/);
      await expect(replayToArm({ file: junk, episode: 0, arm, calibration: cal })).rejects.toBeInstanceOf(CorruptRecordingError);
      // Offline replay: the same file lacks the target and the action; junk is refused the same way.
      await expect(replayAgainstPolicy(states, 'unused.onnx', join(dir, 'r'))).rejects.toMatchObject({ code: 'MISSING_FEATURE', message: expect.stringMatching(/has no \/(target_pose|action) messages/) });
      await expect(replayAgainstPolicy(junk, 'unused.onnx', join(dir, 'r'))).rejects.toBeInstanceOf(CorruptRecordingError);
    } finally {
      await close();
    }
  });

  it('replays a model against what it observes, and refuses a recording that lacks it (offline replay), in the API and the CLI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-model-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 2, episodes: 3, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    // A joint-only model reads the joints of a recording that also holds the target.
    const joints = await trainFromRecordings({ data: [data], out: join(dir, 'm'), algo: 'bc', hidden: [8], epochs: 1, seed: 1, backend: 'cpu', valFraction: 0.34, load: { observation: ['follower.position'] } });
    expect((await replayAgainstPolicy(data, joints.modelPath, join(dir, 'r0'))).episodes).toBeGreaterThan(0);
    // A model that observes the target, against a recording of the arm only (--observe arm): refused, naming the topic.
    const target = await trainFromRecordings({ data: [data], out: join(dir, 'mt'), algo: 'bc', hidden: [8], epochs: 1, seed: 1, backend: 'cpu', valFraction: 0.34 });
    const armOnly = join(dir, 'arm.mcap');
    await rollout({ arm: 'so101', seed: 2, episodes: 2, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: armOnly, bench: { observe: 'arm' } });
    const err = await replayAgainstPolicy(armOnly, target.modelPath, join(dir, 'r')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFeatureError);
    expect((err as Error).message).toMatch(/has no \/target_pose messages, which the observation feature "target.position" needs/);
    let text = '';
    const sink = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const code = await main(['replay', armOnly, '--to', 'policy', '--model', target.modelPath, '--out', join(dir, 'r2')], { stdout: sink as unknown as typeof process.stdout, stderr: sink as unknown as typeof process.stderr });
    expect(code).toBe(1);
    expect(text).toMatch(/\/target_pose.*\[MISSING_FEATURE\]/);
  }, 60_000);
});

describe('replay --to arm from the CLI', () => {
  it('plays an episode on the simulated follower and prints the tracking error per joint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-cli-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 6, episodes: 2, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const code = await main(['replay', data, '--to', 'arm', '--sim', '--episode', '1', '--speed', '2'], { stdout: sink as unknown as typeof process.stdout, stderr: sink as unknown as typeof process.stderr });
    expect(code, out).toBe(0);
    expect(out).toMatch(/played episode 1: 20 commands in .* s \(speed ×2\)/);
    expect(out).toMatch(/tracking error, reproduced vs recorded follower \(\d+ samples\): mean 0\.\d{4} rad, p95 0\.\d{4} rad, max \d\.\d{4} rad/);
    expect(out).toMatch(/elbow_flex\s+0\.\d{4}\s+0\.\d{4}/);
  }, 60_000);
});
