import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { metadataToProps, propsToMetadata } from '../../src/dataset/policy-metadata.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { improve } from '../../src/workflows/improve.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { ModelFolderError, trainFromRecordings } from '../../src/workflows/train.ts';

let dir: string;
let demos: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-learnwf-'));
  demos = join(dir, 'demos.mcap');
  await rollout({ arm: 'so101', seed: 3, episodes: 12, episodeS: 2, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1, poor: 1 } }, out: demos });
}, 60_000);

describe('virtual-time rollouts', () => {
  it('the scripted expert reaches and holds the targets; poor operators mostly do not', async () => {
    const expert = await rollout({ arm: 'so101', seed: 11, episodes: 8, episodeS: 3, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } } });
    const poor = await rollout({ arm: 'so101', seed: 11, episodes: 8, episodeS: 3, rateHz: 20, driver: { kind: 'operator', mix: { poor: 1 } } });
    expect(expert.successRate).toBeGreaterThanOrEqual(0.75);
    expect(poor.successRate).toBeLessThan(expert.successRate);
    expect(expert.meanReturn).toBeGreaterThan(poor.meanReturn);
  });

  it('writes a recording the dataset tools read: episodes, labels, returns', async () => {
    const r = await inspectRecording(demos);
    expect(r.episodes).toHaveLength(12);
    expect(r.metadata.virtual_time).toBe('true');
    for (const e of r.episodes) {
      expect(['success', 'failure']).toContain(e.outcome);
      expect(e.samples).toBe(40);
      expect(Number.isFinite(e.return)).toBe(true);
    }
    // The return rewards doing the task: successful episodes score above failed ones.
    const mean = (o: string) => {
      const v = r.episodes.filter((e) => e.outcome === o).map((e) => e.return!);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    if (r.episodes.some((e) => e.outcome === 'failure') && r.episodes.some((e) => e.outcome === 'success')) expect(mean('success')).toBeGreaterThan(mean('failure'));
  });
});

describe('train → ONNX → evaluate', () => {
  it('writes policy.onnx with the metadata contract, a curve and a summary, and the policy runs on the task', async () => {
    const out = join(dir, 'model');
    const m = await trainFromRecordings({ data: [demos], out, algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, hidden: [32, 32], epochs: 5, seed: 1, backend: 'cpu' });
    const session = await ort.InferenceSession.create(m.modelPath);
    expect(session.inputNames).toEqual(['observation']);
    await session.release();
    expect(m.metadata).toMatchObject({ format: 'armbridge.policy/1', arm: 'so101', algo: 'rwr-exp', policyKind: 'mlp-deterministic', trainingBackend: 'cpu' });
    expect(m.metadata.observation).toEqual([{ name: 'follower.position', size: 6 }, { name: 'target.position', size: 3 }]);
    expect(m.metadata.dataDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(propsToMetadata(metadataToProps(m.metadata))).toEqual(m.metadata);
    expect(propsToMetadata({ 'armbridge.format': 'something/else' })).toBeUndefined();
    const { readFile } = await import('node:fs/promises');
    const curve = await readFile(m.curvePath, 'utf8');
    expect(curve).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
    expect(curve).toContain(`kept: epoch ${m.result.bestEpoch}`);
    expect(JSON.parse(await readFile(m.summaryPath, 'utf8'))).toMatchObject({ backend: 'cpu', bestEpoch: m.result.bestEpoch });
    const ev = await rollout({ arm: 'so101', seed: 99, episodes: 3, episodeS: 1, rateHz: 20, driver: { kind: 'policy', model: m.modelPath } });
    expect(ev.episodes).toHaveLength(3);
    ev.episodes.forEach((e) => expect(Number.isFinite(e.return)).toBe(true));
  });

  it('refuses an unwritable model folder with ModelFolderError naming it', async () => {
    const file = join(dir, 'not-a-folder');
    await writeFile(file, '');
    await chmod(file, 0o444);
    const err = await trainFromRecordings({ data: [demos], out: join(file, 'model'), algo: 'bc', epochs: 1, backend: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as Error).message).toMatch(/cannot write the model folder .*not-a-folder\/model/);
  });

  it('improve: rounds of roll out → add → retrain, each evaluated', async () => {
    const rounds = await improve({ arm: 'so101', data: [demos], out: join(dir, 'improve'), algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, hidden: [16], epochs: 3, iterations: 1, rollouts: 4, evalEpisodes: 3, episodeS: 1, rateHz: 20, backend: 'cpu' });
    expect(rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(rounds[1]!.dataFiles).toBe(2);
    expect(rounds[1]!.trainEpisodes).toBeGreaterThan(rounds[0]!.trainEpisodes);
  }, 60_000);

  it('improve: later rounds fine-tune the kept model (its epochs), or retrain from scratch with fineTune false', async () => {
    const common = { arm: 'so101', data: [demos], algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, hidden: [16], epochs: 3, iterations: 1, rollouts: 4, evalEpisodes: 2, acceptEpisodes: 0, episodeS: 1, rateHz: 20, backend: 'cpu' } as const;
    const tuned = await improve({ ...common, out: join(dir, 'improve-tune'), fineTune: { epochs: 2, learningRate: 1e-4 } });
    expect(tuned.map((r) => [r.fineTunedFrom, r.epochs])).toEqual([[undefined, 3], [0, 2]]);
    const scratch = await improve({ ...common, out: join(dir, 'improve-scratch'), fineTune: false });
    expect(scratch.map((r) => [r.fineTunedFrom, r.epochs])).toEqual([[undefined, 3], [undefined, 3]]);
  }, 60_000);

  it('improve: a round whose model does worse on the acceptance scenes than the best so far is not handed on', async () => {
    const rounds = await improve({ arm: 'so101', data: [demos], out: join(dir, 'improve-accept'), algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, hidden: [16], epochs: 3, iterations: 2, rollouts: 4, evalEpisodes: 2, acceptEpisodes: 3, episodeS: 1, rateHz: 20, backend: 'cpu' });
    expect(rounds.map((r) => r.round)).toEqual([0, 1, 2]);
    expect(rounds[0]!.accepted).toBe(true);
    rounds.forEach((r, k) => {
      expect(Number.isFinite(r.acceptReturn)).toBe(true);
      const bestBefore = Math.max(...rounds.slice(0, k).filter((x) => x.accepted).map((x) => x.acceptReturn!));
      // Kept when at least as good as the best kept before it; otherwise the best earlier model goes on.
      expect(r.accepted).toBe(k === 0 || r.acceptReturn! >= bestBefore);
      const kept = rounds[r.kept.round]!;
      expect(kept.accepted).toBe(true);
      expect(r.kept.model).toBe(kept.model);
      expect(r.kept.eval).toBe(kept.eval);
      expect(kept.acceptReturn).toBe(Math.max(...rounds.slice(0, k + 1).filter((x) => x.accepted).map((x) => x.acceptReturn!)));
      if (r.accepted) expect(r.kept.round).toBe(k);
      else expect(r.kept.round).toBeLessThan(k);
    });
    // Without acceptance every round is kept.
    const all = await improve({ arm: 'so101', data: [demos], out: join(dir, 'improve-all'), algo: 'rwr', rwr: { kind: 'exp', beta: 2 }, hidden: [16], epochs: 3, iterations: 1, rollouts: 4, evalEpisodes: 2, acceptEpisodes: 0, episodeS: 1, rateHz: 20, backend: 'cpu' });
    expect(all.map((r) => [r.accepted, r.kept.round, r.acceptReturn])).toEqual([[true, 0, undefined], [true, 1, undefined]]);
  }, 120_000);
});
