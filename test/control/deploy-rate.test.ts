import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPolicyMetadata, resolveControlRate } from '../../src/control/control-rate.ts';
import { RateMismatchError } from '../../src/control/errors.ts';
import { ArmbridgeError } from '../../src/errors.ts';
import { readRecording } from '../../src/record/read.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { PtySimServer } from '../../src/sim/pty-server.ts';
import { deploySim } from '../../src/workflows/deploy-sim.ts';
import { identityPolicy } from '../helpers/models.ts';
import { runCli as run, onlyJson } from '../helpers/cli.ts';
import { hasSocat } from '../helpers/socat.ts';

function expectDeploySummary(j: Record<string, unknown>) {
  for (const k of ['achievedHz', 'cycles', 'seconds', 'overruns', 'rateHz']) expect(typeof j[k], k).toBe('number');
  expect(j.cycles as number).toBeGreaterThan(0);
  expect(j).toHaveProperty('episodes');
  expect(j).toHaveProperty('successes');
  expect(j).toHaveProperty('meanReward');
  expect(typeof j.safety).toBe('object');
}

describe('the control rate travels with the model', () => {
  let dir: string;
  let model: string;

  // A tiny virtual-time recording at 25 Hz and a tiny model trained on it with the CLI.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'armbridge-rate-'));
    const data = join(dir, 'demos.mcap');
    const rec = await run('record', '--sim', '--virtual-time', '--arm', 'so101', '--task', 'reach', '--episodes', '4', '--episode-s', '1', '--rate', '25', '--mix', 'expert:1', '--seed', '3', '--out', data);
    expect(rec.code, rec.err).toBe(0);
    const tr = await run('train', data, '--algo', 'bc', '--out', join(dir, 'm'), '--epochs', '2', '--hidden', '16', '--batch-size', '32', '--select', 'off', '--backend', 'cpu', '--val', '0.25');
    expect(tr.code, tr.err).toBe(0);
    model = join(dir, 'm', 'policy.onnx');
  }, 60_000);

  it('writes the recording rate into the model metadata', async () => {
    const rec = await readRecording(join(dir, 'demos.mcap'));
    expect(rec.metadata.get('armbridge')?.get('rate_hz')).toBe('25');
    expect(rec.metadata.get('armbridge')?.get('virtual_time')).toBe('true');
    const meta = await readPolicyMetadata(model);
    expect(meta.rateHz).toBe(25);
    expect(meta.actionMode).toBe('relative');
  });

  it('deploys at the model rate when --rate is not given, and prints one JSON summary with --json', async () => {
    const r = await run('deploy', '--model', model, '--sim', '--in-process', '--duration-s', '0.8', '--rt-priority', '0', '--json');
    expect(r.code, r.err).toBe(0);
    const j = onlyJson(r.out);
    expectDeploySummary(j);
    expect(j.rateHz).toBe(25);
    expect(j.rateSource).toBe('model');
    expect(j.modelRateHz).toBe(25);
    expect(j.achievedHz as number).toBeGreaterThan(20);
    expect(j.achievedHz as number).toBeLessThan(30);
    expect(typeof j.episodes).toBe('number');
    expect(typeof j.successes).toBe('number');
    expect(typeof j.meanReward).toBe('number');
    expect(j.successRate).toBe((j.successes as number) / (j.episodes as number));
    // The human-readable report went to stderr.
    expect(r.err).toMatch(/at 25 Hz/);
    expect(r.err).toMatch(/task: \d+\/\d+ targets/);
  });

  it('refuses a rate the model cannot follow (much slower than its own) with a typed error that mentions --force', async () => {
    const r = await run('deploy', '--model', model, '--sim', '--in-process', '--duration-s', '0.5', '--rt-priority', '0', '--rate', '10');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/trained at 25 Hz and cannot follow 10 Hz.*--force.*\[RATE_MISMATCH\]/);
    expect(r.out).not.toMatch(/cycles/);
    const e = await deploySim({ arm: 'so101', model, rateHz: 10, durationS: 0.5, transport: 'in-process', thread: 'main' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RateMismatchError);
    expect(e).toBeInstanceOf(ArmbridgeError);
    expect((e as RateMismatchError).code).toBe('RATE_MISMATCH');
    expect(e).toMatchObject({ modelHz: 25, askedHz: 10 });
  });

  it('runs at a refused rate with --force, and at a faster rate with a warning', async () => {
    const forced = await run('deploy', '--model', model, '--sim', '--in-process', '--duration-s', '1', '--rt-priority', '0', '--rate', '10', '--force', '--json');
    expect(forced.code, forced.err).toBe(0);
    const j = onlyJson(forced.out);
    expect(j.rateHz).toBe(10);
    expect(j.rateSource).toBe('asked');
    expect(j.achievedHz as number).toBeGreaterThan(8);
    expect(j.achievedHz as number).toBeLessThan(12);
    expect(forced.err).toMatch(/warning: --force: running .* at 10 Hz although it was trained at 25 Hz/);
    const faster = await run('deploy', '--model', model, '--sim', '--in-process', '--duration-s', '0.5', '--rt-priority', '0', '--rate', '100');
    expect(faster.code, faster.err).toBe(0);
    expect(faster.out).toMatch(/warning: model .* was trained at 25 Hz; running it at 100 Hz as asked/);
    expect(faster.out).toMatch(/\(asked 100\)/);
  });
});

describe('the rate rule', () => {
  it('uses the model rate, falls back to 200 Hz for models without one, warns for another rate and refuses one below 2/3 of the model rate', () => {
    expect(resolveControlRate('m', { rateHz: 20 })).toMatchObject({ rateHz: 20, source: 'model', note: undefined });
    expect(resolveControlRate('m', {})).toMatchObject({ rateHz: 200, source: 'fallback', note: expect.stringMatching(/does not say its control rate.*200 Hz/) });
    expect(resolveControlRate('m', {}, 50)).toMatchObject({ rateHz: 50, source: 'asked', note: undefined });
    expect(resolveControlRate('m', { rateHz: 20 }, 20)).toMatchObject({ rateHz: 20, source: 'model', note: undefined });
    expect(resolveControlRate('m', { rateHz: 20 }, 1000).note).toMatch(/warning/);
    expect(resolveControlRate('m', { rateHz: 30 }, 20).note).toMatch(/warning/);
    expect(() => resolveControlRate('m', { rateHz: 30 }, 19.9)).toThrow(RateMismatchError);
    expect(() => resolveControlRate('m', { rateHz: 20 }, 10)).toThrow(/cannot follow 10 Hz.*--force/);
    expect(resolveControlRate('m', { rateHz: 20 }, 10, true)).toMatchObject({ rateHz: 10, note: expect.stringMatching(/--force/) });
  });
});

describe('armbridge deploy --json on a port (the real-arm path)', () => {
  it.skipIf(!hasSocat)('prints the summary with null task fields, the rest on stderr', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-rate-'));
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    const link = join(dir, 'follower');
    const server = await PtySimServer.start({ bus: sim.bus, link });
    try {
      const m = await identityPolicy(dir, { withTarget: true, meta: { rateHz: 50, actionMode: 'absolute' } });
      const r = await run('deploy', '--model', m, '--follower', link, '--target', '0.3,0,0.2', '--duration-s', '0.6', '--rt-priority', '0', '--follower-calibration', 'calibration/so101-follower.sim.json', '--json');
      expect(r.code, r.err).toBe(0);
      const j = onlyJson(r.out);
      expectDeploySummary(j);
      expect(j).toMatchObject({ rateHz: 50, rateSource: 'model', episodes: null, successes: null, successRate: null, meanReward: null, sim: false });
      expect(r.err).toMatch(/\(asked 50\)/);
    } finally {
      await server.close();
      sim.bus.close();
    }
  });
});
