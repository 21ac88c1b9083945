import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxMetadataProps } from '../../src/control/onnx-metadata.ts';
import { DEFAULT_LABEL_HORIZON, deriveActionLabels, describeLabels, LabelHorizonError, NoRecordedActionsError } from '../../src/dataset/action-labels.ts';
import { MissingFeatureError } from '../../src/dataset/errors.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { propsToMetadata } from '../../src/dataset/policy-metadata.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { stripActions } from '../../src/record/strip-actions.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { trainFromRecordings } from '../../src/workflows/train.ts';
import { runCli } from '../helpers/cli.ts';

let dir: string;
let teleop: string;
let kinesthetic: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-labels-'));
  teleop = join(dir, 'teleop.mcap');
  kinesthetic = join(dir, 'kinesthetic.mcap');
  // The same seed: the same targets and the same hand paths, once through the leader, once on the follower.
  await rollout({ arm: 'so101', seed: 5, episodes: 6, episodeS: 1.5, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: teleop });
  await rollout({ arm: 'so101', seed: 5, episodes: 6, episodeS: 1.5, rateHz: 20, driver: { kind: 'kinesthetic', mix: { expert: 1 } }, out: kinesthetic });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deriveActionLabels: the follower state a fixed horizon ahead', () => {
  const size = 2;
  const states = Float32Array.from([0, 10, 1, 11, 2, 12, 3, 13, 4, 14]);
  const period = 50e6;

  it('takes the state k periods ahead, and the last state where the episode ends sooner', () => {
    const times = BigInt64Array.from([0n, 50_000_000n, 100_000_000n, 150_000_000n, 200_000_000n]);
    expect(Array.from(deriveActionLabels(states, times, size, 1, period))).toEqual([1, 11, 2, 12, 3, 13, 4, 14, 4, 14]);
    expect(Array.from(deriveActionLabels(states, times, size, 2, period))).toEqual([2, 12, 3, 13, 4, 14, 4, 14, 4, 14]);
  });

  it('keeps the horizon in time when a sample is missing (a failed read), and tolerates jitter', () => {
    // The sample at 100 ms is missing; times jitter by a few ms.
    const times = BigInt64Array.from([0n, 52_000_000n, 148_000_000n, 201_000_000n, 249_000_000n]);
    const labels = deriveActionLabels(states, times, size, 2, period);
    // t=0: 100 ms ahead → the first sample at or after 75 ms is the one at 148 ms (row 2).
    expect(labels[0]).toBe(2);
    // t=52 ms: ahead to ≥ 127 ms → row 2 (148 ms), not row 3 as a row offset would say.
    expect(labels[2]).toBe(2);
  });

  it('refuses a horizon that is not a whole number of steps ≥ 1 (LabelHorizonError)', () => {
    const times = BigInt64Array.from([0n, 1n, 2n, 3n, 4n]);
    for (const bad of [0, -1, 1.5]) {
      const err = (() => {
        try {
          deriveActionLabels(states, times, size, bad, period);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(LabelHorizonError);
      expect(err).toMatchObject({ code: 'LABEL_HORIZON' });
      expect((err as Error).message).toMatch(/--label-horizon/);
    }
  });
});

describe('loading recordings without /action', () => {
  it('a kinesthetic recording holds follower states and the task, no /action and no leader', async () => {
    const r = await inspectRecording(kinesthetic);
    const topics = r.topics.map((t) => t.topic);
    expect(topics).toContain('/follower/joint_states');
    expect(topics).toContain('/target_pose');
    expect(topics).not.toContain('/action');
    expect(topics).not.toContain('/leader/joint_states');
    expect(r.metadata.demonstration).toBe('kinesthetic');
  });

  it('labels every sample with the follower position k steps ahead, and says so', async () => {
    const ds = await loadDataset([kinesthetic], { labelHorizon: 3 });
    expect(ds.labels).toEqual({ source: 'derived', recordedEpisodes: 0, derivedEpisodes: 6, horizonSteps: 3, horizonMs: 150 });
    expect(describeLabels(ds.labels)).toBe('action labels: derived from the states, follower.position 3 steps (150 ms) ahead (6 episodes without /action)');
    for (const e of ds.episodes) {
      expect(e.labels).toBe('derived');
      expect(e.length).toBe(30);
      for (let t = 0; t < e.length; t++) {
        const ahead = Math.min(t + 3, e.length - 1);
        for (let j = 0; j < 6; j++) expect(e.actions[t * 6 + j]).toBe(e.observations[ahead * 9 + j]);
      }
    }
  });

  it('uses the recorded /action where it exists, derives the rest (mixed data), or ignores /action when told', async () => {
    const mixed = join(dir, 'mixed.mcap');
    const s = await stripActions(teleop, mixed, (e) => e % 2 === 1);
    expect(s.stripped).toBe(3);
    const rec = await loadDataset([teleop]);
    const mix = await loadDataset([mixed]);
    expect(rec.labels.source).toBe('recorded');
    expect(mix.labels).toMatchObject({ source: 'mixed', recordedEpisodes: 3, derivedEpisodes: 3, horizonSteps: DEFAULT_LABEL_HORIZON });
    // Same episodes, same samples: even episodes keep the recorded actions byte for byte.
    mix.episodes.forEach((e, i) => {
      expect(e.labels).toBe(i % 2 === 1 ? 'derived' : 'recorded');
      expect(Array.from(e.observations)).toEqual(Array.from(rec.episodes[i]!.observations));
      if (i % 2 === 0) expect(Array.from(e.actions)).toEqual(Array.from(rec.episodes[i]!.actions));
      else expect(Array.from(e.actions)).not.toEqual(Array.from(rec.episodes[i]!.actions));
    });
    const ignored = await loadDataset([teleop], { labels: 'derived' });
    expect(ignored.labels.source).toBe('derived');
    // The recorded action leads the follower: the derived label (the follower ahead) is close to it.
    const e = ignored.episodes[0]!;
    const r = rec.episodes[0]!;
    let err = 0;
    for (let k = 0; k < e.actions.length; k++) err = Math.max(err, Math.abs(e.actions[k]! - r.actions[k]!));
    expect(err).toBeLessThan(0.25);
  });

  it('--labels recorded refuses a file without /action (NoRecordedActionsError); no follower states at all is MissingFeatureError', async () => {
    const err = await loadDataset([kinesthetic], { labels: 'recorded' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoRecordedActionsError);
    expect(err).toMatchObject({ code: 'NO_RECORDED_ACTIONS' });
    expect((err as Error).message).toMatch(/kinesthetic\.mcap has no \/action messages.*--labels auto/);
    const targetOnly = await loadDataset([kinesthetic], { observation: ['target.position'] });
    expect(targetOnly.labels.source).toBe('derived');
    await expect(loadDataset([kinesthetic], { labelHorizon: 0 })).rejects.toBeInstanceOf(LabelHorizonError);
    await expect(loadDataset([kinesthetic], { observation: ['leader.position'] })).rejects.toBeInstanceOf(MissingFeatureError);
  });
});

describe('training without recorded actions', () => {
  it('a recording without /action trains; the model metadata and train output name the derived labels', async () => {
    const out = join(dir, 'model-kin');
    const r = await runCli('train', kinesthetic, '--algo', 'bc', '--out', out, '--epochs', '2', '--hidden', '16', '--select', 'off', '--backend', 'cpu', '--label-horizon', '3', '--no-report');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/action labels: derived from the states, follower\.position 3 steps \(150 ms\) ahead \(\d episodes without \/action\)/);
    const props = onnxMetadataProps(new Uint8Array(await readFile(join(out, 'policy.onnx'))));
    expect(props['armbridge.action_labels']).toBe('derived');
    expect(props['armbridge.action_label_horizon_steps']).toBe('3');
    expect(props['armbridge.action_labels_derived_from']).toBe('follower.position +3 steps');
    expect(propsToMetadata(props)).toMatchObject({ actionLabels: 'derived', labelHorizonSteps: 3, actionMode: 'relative', rateHz: 20 });
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { actionLabels: { source: string; description: string } };
    expect(summary.actionLabels.source).toBe('derived');
  });

  it('mixed data trains and says mixed; recorded data says recorded', async () => {
    const mixed = join(dir, 'mixed-train.mcap');
    await stripActions(teleop, mixed, (e) => e < 3);
    const m = await trainFromRecordings({ data: [mixed], out: join(dir, 'model-mixed'), algo: 'rwr', rwr: { kind: 'exp', beta: 0.5 }, epochs: 2, hidden: [16], selectOnSim: false, backend: 'cpu' });
    expect(m.metadata).toMatchObject({ actionLabels: 'mixed', labelHorizonSteps: DEFAULT_LABEL_HORIZON });
    expect(m.labels).toMatchObject({ recordedEpisodes: expect.any(Number), derivedEpisodes: expect.any(Number) });
    expect(m.labels.recordedEpisodes + m.labels.derivedEpisodes).toBe(6);
    const rec = await trainFromRecordings({ data: [teleop], out: join(dir, 'model-rec'), algo: 'bc', epochs: 1, hidden: [16], selectOnSim: false, backend: 'cpu' });
    expect(rec.metadata.actionLabels).toBe('recorded');
    expect(rec.metadata.labelHorizonSteps).toBeUndefined();
  });
});
