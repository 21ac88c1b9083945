import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MissingFeatureError, NoEpisodesError, NonFiniteDataError, UnknownFeatureError } from '../../src/dataset/errors.ts';
import { loadDataset, rewardToGo, type Episode } from '../../src/dataset/load.ts';
import { computeNormalization } from '../../src/dataset/normalization.ts';
import { splitByEpisode } from '../../src/dataset/split.ts';
import { CorruptRecordingError } from '../../src/record/errors.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { rosTime } from '../../src/record/ros-schemas.ts';
import { recordSim } from '../../src/workflows/record-sim.ts';

let dir: string;
let simFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-ds-'));
  simFile = join(dir, 'sim.mcap');
  await recordSim({ arm: 'so101', out: simFile, rateHz: 50, episodes: 4, episodeS: 1, resetS: 0.2, mix: { expert: 1, poor: 1 }, transport: 'in-process', seed: 4 });
}, 60_000);

/** A hand-made recording: one episode of `n` cycles, with a NaN at `nanAt` if given. */
async function handMade(path: string, n: number, opts: { nanAt?: number; withTarget?: boolean; lostReadAt?: number } = {}) {
  const r = await Recorder.create({ path }, { joint_names: 'a,b', rate_hz: '10' });
  const fol = await r.topic('/follower/joint_states', 'sensor_msgs/msg/JointState');
  const act = await r.topic('/action', 'sensor_msgs/msg/JointState');
  const ev = await r.topic('/episode', 'std_msgs/msg/String');
  const tgt = opts.withTarget === false ? undefined : await r.topic('/target_pose', 'geometry_msgs/msg/PoseStamped');
  const rew = await r.topic('/reward', 'std_msgs/msg/Float64');
  const js = (t: bigint, p: number[]) => ({ header: { stamp: rosTime(t), frame_id: '' }, name: ['a', 'b'], position: p, velocity: [], effort: [] });
  r.log(ev, { data: JSON.stringify({ event: 'start', episode: 0 }) }, 1n);
  for (let k = 0; k < n; k++) {
    const t = BigInt(10 + k * 100);
    if (k !== opts.lostReadAt) r.log(fol, js(t, [k, k === opts.nanAt ? Number.NaN : -k]), t);
    r.log(act, js(t, [k + 1, -k - 1]), t);
    if (tgt) r.log(tgt, { header: { stamp: rosTime(t), frame_id: '' }, pose: { position: { x: 1, y: 2, z: 3 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
    r.log(rew, { data: -k }, t);
  }
  r.log(ev, { data: JSON.stringify({ event: 'end', episode: 0 }) }, BigInt(10 + n * 100));
  r.log(ev, { data: JSON.stringify({ event: 'label', episode: 0, outcome: 'success' }) }, BigInt(20 + n * 100));
  await r.close();
}

describe('loadDataset', () => {
  it('turns a simulated recording into aligned episodes: follower + target → action', async () => {
    const ds = await loadDataset([simFile]);
    const report = await inspectRecording(simFile);
    expect(ds.episodes.map((e) => e.index)).toEqual(report.episodes.map((e) => e.index));
    expect(ds.layout.observation).toEqual([
      { name: 'follower.position', size: 6 },
      { name: 'target.position', size: 3 },
    ]);
    expect(ds.layout.action).toEqual([{ name: 'action.position', size: 6 }]);
    expect(ds.layout.jointNames).toEqual(['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);
    for (const e of ds.episodes) {
      expect(e.observations.length).toBe(e.length * 9);
      expect(e.actions.length).toBe(e.length * 6);
      const ins = report.episodes.find((x) => x.index === e.index)!;
      expect(e.length).toBeLessThanOrEqual(ins.samples);
      expect(e.return).toBeCloseTo(Array.from(e.rewards).reduce((a, b) => a + b, 0), 2);
      expect(['success', 'failure']).toContain(e.outcome);
    }
  });

  it('gives the reward of a cycle whose state read failed to the next sample, so per-step rewards add up to the return', async () => {
    const p = join(dir, 'lost-read.mcap');
    await handMade(p, 5, { lostReadAt: 2 });
    const [e] = (await loadDataset([p])).episodes;
    expect(e!.length).toBe(4);
    expect(Array.from(e!.rewards)).toEqual([0, -1, -2 - 3, -4]);
    expect(Array.from(e!.rewards).reduce((a, b) => a + b, 0)).toBe(-10);
  });

  it('aligns by measured time, sums rewards to go, and filters by outcome', async () => {
    const p = join(dir, 'hand.mcap');
    await handMade(p, 5);
    const ds = await loadDataset([p]);
    const e = ds.episodes[0]!;
    expect(e.length).toBe(5);
    expect(Array.from(e.observations.slice(0, 5))).toEqual([0, -0, 1, 2, 3]); // row 0: follower (a, b), target (x, y, z)
    expect(Array.from(e.actions.slice(2, 4))).toEqual([2, -2]);
    expect(Array.from(rewardToGo(e.rewards))).toEqual([-10, -10, -9, -7, -4]);
    expect(e.outcome).toBe('success');
    await expect(loadDataset([p], { outcomes: ['failure'] })).rejects.toBeInstanceOf(NoEpisodesError);
  });

  it('names the file, topic and time of a NaN in the data', async () => {
    const p = join(dir, 'nan.mcap');
    await handMade(p, 5, { nanAt: 3 });
    const err = await loadDataset([p]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteDataError);
    expect((err as Error).message).toMatch(new RegExp(`${p}: /follower/joint_states at t=310 ns holds NaN`));
  });

  it('names a missing observation feature and the file, and the flag that chooses the observation', async () => {
    const p = join(dir, 'notarget.mcap');
    await handMade(p, 3, { withTarget: false });
    const err = await loadDataset([p], { observation: ['follower.position', 'target.position'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFeatureError);
    expect((err as Error).message).toMatch(/has no \/target_pose messages, which the observation feature "target.position" needs: .*--obs follower.position/);
  });

  it('builds the observation from what was recorded: the joints alone when no pose was recorded, the poses when they were', async () => {
    const p = join(dir, 'jointsonly.mcap');
    await handMade(p, 3, { withTarget: false });
    const joints = await loadDataset([p]);
    expect(joints.layout.observation.map((f) => f.name)).toEqual(['follower.position']);
    const n = joints.layout.jointNames.length;
    expect(joints.layout.observation[0]!.size).toBe(n);
    expect(joints.episodes[0]!.observations.length).toBe(joints.episodes[0]!.length * n);
    const withTarget = join(dir, 'withtarget.mcap');
    await handMade(withTarget, 3);
    expect((await loadDataset([withTarget])).layout.observation.map((f) => f.name)).toEqual(['follower.position', 'target.position']);
    // pose:/topic names any PoseStamped topic; the usual topics keep their usual names.
    expect((await loadDataset([withTarget], { observation: ['follower.position', 'pose:/target_pose'] })).layout.observation.map((f) => f.name)).toEqual(['follower.position', 'target.position']);
    await expect(loadDataset([withTarget], { observation: ['follower.position', 'pose:/cup_pose'] })).rejects.toBeInstanceOf(MissingFeatureError);
    await expect(loadDataset([withTarget], { observation: ['follower.velocity'] })).rejects.toBeInstanceOf(UnknownFeatureError);
  });

  it('refuses empty, corrupt and episode-less inputs with named errors', async () => {
    await expect(loadDataset([])).rejects.toBeInstanceOf(NoEpisodesError);
    const bad = join(dir, 'bad.mcap');
    await writeFile(bad, 'nope');
    await expect(loadDataset([bad])).rejects.toBeInstanceOf(CorruptRecordingError);
    const empty = join(dir, 'empty.mcap');
    await (await Recorder.create({ path: empty }, {})).close();
    await expect(loadDataset([empty])).rejects.toBeInstanceOf(MissingFeatureError);
  });
});

describe('splitByEpisode', () => {
  const fake = (n: number): Episode[] =>
    Array.from({ length: n }, (_, i) => ({ file: 'f', index: i, length: 1 }) as unknown as Episode);

  it('never puts an episode in both sets, keeps every episode, and is reproducible', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 0.9, noNaN: true }), fc.integer(), (n, frac, seed) => {
        const eps = fake(n);
        const { train, val } = splitByEpisode(eps, frac, seed);
        const t = new Set(train.map((e) => e.index));
        expect(val.every((e) => !t.has(e.index))).toBe(true);
        expect(train.length + val.length).toBe(n);
        expect(splitByEpisode(eps, frac, seed).val.map((e) => e.index)).toEqual(val.map((e) => e.index));
      }),
    );
  });
});

describe('normalization', () => {
  it('computes per-column mean and std, with a floor for constant columns', () => {
    const n = computeNormalization([Float32Array.from([1, 5, 3, 5]), Float32Array.from([5, 5])], 2);
    expect(Array.from(n.mean)).toEqual([3, 5]);
    expect(n.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 5);
    expect(n.std[1]).toBeCloseTo(1e-6, 9);
  });
});
