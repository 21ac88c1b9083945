/**
 * The simulated bench of a real arm's recordings: a fixed scene, the arm only, labels instead of
 * rewards, perceived poses with noise and latency; in real time (the loop worker, in-process
 * serial binding) and in virtual time; and what `train` makes of such recordings.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/dataset/load.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { decodeMessage, readRecording } from '../../src/record/read.ts';
import { recordSim } from '../../src/workflows/record-sim.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { ObservationLayoutError, trainFromRecordings } from '../../src/workflows/train.ts';
import { createDeployEnvironment } from '../../src/workflows/deploy-sim-env.ts';
import { DeployEnvironmentError } from '../../src/control/errors.ts';

describe('the simulated bench of a real arm', () => {
  it('records in real time what a leader/follower pair gives on a fixed scene: joints only, one label per episode, no reward', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-'));
    const out = join(dir, 'rt.mcap');
    const r = await recordSim({ arm: 'so101', out, rateHz: 50, episodes: 2, episodeS: 1, resetS: 0.3, seed: 4, transport: 'in-process', bench: { scene: 'fixed', observe: 'arm', rewards: 'labels' } });
    expect(r.kept).toBe(2);
    const rec = await readRecording(out);
    const topics = new Set([...rec.channels.values()].map((c) => c.topic));
    expect(topics.has('/follower/joint_states') && topics.has('/action')).toBe(true);
    for (const t of ['/reward', '/task/success', '/target_pose']) expect(topics.has(t), t).toBe(false);
    const eps = episodesOf(rec);
    expect(eps.map((e) => e.outcome).every((o) => o === 'success' || o === 'failure')).toBe(true);
    expect(eps.map((e) => e.return)).toEqual(eps.map((e) => (e.outcome === 'success' ? 1 : 0)));
    // The same target both episodes (a fixed scene), as the start events record it.
    expect(eps[0]!.detail!.target).toEqual(eps[1]!.detail!.target);
    const meta = rec.metadata.get('armbridge')!;
    expect([meta.get('scene'), meta.get('observe'), meta.get('rewards')]).toEqual(['fixed', 'arm', 'labels']);
    expect((await loadDataset([out])).layout.observation.map((f) => f.name)).toEqual(['follower.position']);
  }, 60_000);

  it('records perceived poses late and noisy in virtual time, and a model trained on them carries the bench', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-'));
    const noisy = join(dir, 'noisy.mcap');
    const exact = join(dir, 'exact.mcap');
    const common = { arm: 'so101' as const, task: 'pick-place' as const, seed: 5, episodes: 2, episodeS: 8, rateHz: 20, driver: { kind: 'operator' as const, mix: { expert: 1 } } };
    await rollout({ ...common, out: noisy, bench: { poseNoiseM: 0.005, poseLatencyMs: 100, rewards: 'labels' } });
    await rollout({ ...common, out: exact });
    const goals = async (file: string) => {
      const rec = await readRecording(file);
      return rec.messages.filter((m) => m.topic === '/goal_pose').map((m) => decodeMessage<{ pose: { position: { x: number } } }>(rec, m).pose.position.x);
    };
    const [n, e] = [await goals(noisy), await goals(exact)];
    // Same scenes (the noise has its own stream); the static goal jitters by about 5 mm around its place.
    expect(n.length).toBe(e.length);
    const d = n.map((x, i) => x - e[i]!);
    const std = Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length);
    expect(std).toBeGreaterThan(0.0035);
    expect(std).toBeLessThan(0.0065);
    const rec = await readRecording(noisy);
    expect(rec.messages.some((m) => m.topic === '/reward')).toBe(false);
    const m = await trainFromRecordings({ data: [noisy], out: join(dir, 'm'), algo: 'bc', hidden: [16], epochs: 2, seed: 1, backend: 'cpu', valFraction: 0.5, selectOnSim: false });
    expect(m.metadata.sim).toMatchObject({ task: 'pick-place', scene: 'random', observe: 'poses', poseNoiseM: 0.005, poseLatencyMs: 100, rewards: 'labels' });
    expect(m.metadata.observation.map((f) => f.name)).toEqual(['follower.position', 'object.position', 'goal.position']);
  }, 120_000);

  it('trains only observations a deploy path can feed (joints first, then poses), and deploy --sim feeds the poses a model observes in its order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', task: 'pick-place', seed: 6, episodes: 2, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    const train = (observation: string[]) => trainFromRecordings({ data: [data], out: join(dir, 'm'), algo: 'bc', hidden: [8], epochs: 1, seed: 1, backend: 'cpu', valFraction: 0.5, selectOnSim: false, load: { observation } });
    await expect(train(['goal.position', 'follower.position'])).rejects.toBeInstanceOf(ObservationLayoutError);
    await expect(train(['follower.position', 'leader.position'])).rejects.toThrow(/leader.position is not a pose/);
    const goalOnly = await train(['follower.position', 'goal.position']);
    expect(goalOnly.metadata.observation.map((f) => f.name)).toEqual(['follower.position', 'goal.position']);
    const env = await createDeployEnvironment({ arm: 'so101', task: 'pick-place', transport: 'in-process', observation: [{ name: 'follower.position', size: 6 }, { name: 'goal.position', size: 3 }, { name: 'object.position', size: 3 }] });
    try {
      expect(env.extra!.layout.map((f) => f.name)).toEqual(['goal.position', 'object.position']);
      expect(env.extra!.read()).toHaveLength(6);
    } finally {
      await env.close();
    }
    await expect(createDeployEnvironment({ arm: 'so101', task: 'reach', transport: 'in-process', observation: [{ name: 'follower.position', size: 6 }, { name: 'pose:/cup_pose', size: 3 }] })).rejects.toBeInstanceOf(DeployEnvironmentError);
  }, 60_000);
});
