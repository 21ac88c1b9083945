import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelFile, modelFolder } from '../../src/control/model-path.ts';
import { readRecording } from '../../src/record/read.ts';
import { identityPolicy } from '../helpers/models.ts';
import { runCli as run, onlyJson } from '../helpers/cli.ts';

function expectEvalStats(j: Record<string, unknown>) {
  expect(typeof j.successRate).toBe('number');
  expect(j.successRate as number).toBeGreaterThanOrEqual(0);
  expect(j.successRate as number).toBeLessThanOrEqual(1);
  expect(Number.isFinite(j.meanReturn)).toBe(true);
  expect(Number.isFinite(j.stdReturn)).toBe(true);
  expect(j.stdReturn as number).toBeGreaterThanOrEqual(0);
}

describe('armbridge record --sim --virtual-time', () => {
  it('generates demonstrations in simulated time at 20 Hz and 3 s by default, in the recording format, and prints a summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-verbs-'));
    const out = join(dir, 'demos.mcap');
    const r = await run('record', '--sim', '--virtual-time', '--arm', 'koch', '--task', 'reach', '--episodes', '6', '--mix', 'expert:0.5,noisy:0.2,poor:0.3', '--seed', '2', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/6 episodes: success \d+\.\d % .*mean return -?\d+\.\d+ ± \d+\.\d+ → .*demos\.mcap/);
    const rec = await readRecording(out);
    expect(rec.complete).toBe(true);
    const meta = rec.metadata.get('armbridge')!;
    expect(meta.get('virtual_time')).toBe('true');
    expect(meta.get('rate_hz')).toBe('20');
    expect(meta.get('episode_s')).toBe('3');
    expect(meta.get('arm')).toBe('koch');
    expect(rec.messages.filter((m) => m.topic === '/follower/joint_states')).toHaveLength(6 * 60);
    // An existing file is kept unless --overwrite.
    expect((await run('record', '--sim', '--virtual-time', '--episodes', '1', '--out', out)).code).toBe(1);
    expect((await run('record', '--sim', '--virtual-time', '--episodes', '1', '--out', out, '--overwrite')).code).toBe(0);
  });

  it('refuses --virtual-time without --sim, an unknown task and a bad mix as usage errors', async () => {
    expect(await run('record', '--virtual-time', '--out', '/tmp/x.mcap')).toMatchObject({ code: 2, err: expect.stringMatching(/--virtual-time needs --sim/) });
    expect(await run('record', '--sim', '--virtual-time', '--task', 'stack', '--out', '/tmp/x.mcap')).toMatchObject({ code: 2, err: expect.stringMatching(/--task/) });
    expect(await run('record', '--sim', '--virtual-time', '--mix', 'expert:1,lazy:1', '--out', '/tmp/x.mcap')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown skill "lazy"/) });
  });
});

describe('armbridge eval', () => {
  it('takes a model by its folder (policy.onnx inside) as well as by its file, and says so when a folder has none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-verbs-'));
    await mkdir(join(dir, 'm'));
    await identityPolicy(join(dir, 'm'), { withTarget: true, name: 'policy.onnx' });
    const byFolder = await run('eval', '--sim', '--arm', 'so101', '--task', 'reach', '--model', join(dir, 'm'), '--episodes', '2', '--seed', '1', '--json', '--no-report');
    const byFile = await run('eval', '--sim', '--arm', 'so101', '--task', 'reach', '--model', join(dir, 'm', 'policy.onnx'), '--episodes', '2', '--seed', '1', '--json', '--no-report');
    expect(byFolder.code, byFolder.err).toBe(0);
    expect(onlyJson(byFolder.out)).toEqual(onlyJson(byFile.out));
    await mkdir(join(dir, 'empty'));
    const none = await run('eval', '--sim', '--model', join(dir, 'empty'), '--episodes', '1', '--no-report');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/folder without policy\.onnx.*\[MODEL_LOAD\]/);
    expect(modelFolder(join(dir, 'm', 'policy.onnx'))).toBe(join(dir, 'm'));
    expect(modelFolder(join(dir, 'm'))).toBe(join(dir, 'm'));
    expect(modelFile(join(dir, 'empty'))).toBe(join(dir, 'empty'));
  });

  it("without --task, evaluates a model on the task whose poses it observes (pick-place: object and goal), an operator on reach", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-verbs-'));
    const pick = await identityPolicy(dir, { withObjectAndGoal: true });
    const r = await run('eval', '--sim', '--arm', 'so101', '--model', pick, '--episodes', '2', '--seed', '1', '--json', '--no-report');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/held-out pick-place episodes/);
    // Holding still never grasps the cube: the pick-and-place task's reason, not reach's.
    expect((onlyJson(r.out).episodes as { outcome: string }[]).map((e) => e.outcome)).toEqual(['never_grasped', 'never_grasped']);
    const reach = await run('eval', '--sim', '--arm', 'so101', '--model', await identityPolicy(dir, { withTarget: true }), '--episodes', '1', '--json', '--no-report');
    expect(reach.err).toMatch(/held-out reach episodes/);
    const op = await run('eval', '--sim', '--operator', 'expert', '--episodes', '1', '--json', '--no-report');
    expect(op.err).toMatch(/held-out reach episodes/);
  });

  it('--json prints one object {successRate, meanReturn, stdReturn, episodes} on stdout and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-verbs-'));
    const model = await identityPolicy(dir, { withTarget: true });
    const r = await run('eval', '--sim', '--arm', 'so101', '--task', 'reach', '--model', model, '--episodes', '3', '--seed', '1', '--json');
    expect(r.code, r.err).toBe(0);
    const j = onlyJson(r.out);
    expect(Object.keys(j).sort()).toEqual(['episodes', 'meanReturn', 'stdReturn', 'successRate']);
    expectEvalStats(j);
    const episodes = j.episodes as Record<string, unknown>[];
    expect(episodes).toHaveLength(3);
    episodes.forEach((e, i) => {
      expect(e.index).toBe(i);
      expect(typeof e.success).toBe('boolean');
      expect(Number.isFinite(e.return)).toBe(true);
      expect(Number.isFinite(e.finalDistanceM)).toBe(true);
    });
    // The identity policy holds the start pose: it reaches nothing.
    expect(j.successRate).toBe(0);
    expect(r.err).toMatch(/held-out reach episodes .* at 20 Hz/);
  });

  it('evaluates the scripted operator on the same held-out targets at the same seed, with a per-episode table', async () => {
    const a = onlyJson((await run('eval', '--operator', 'expert', '--episodes', '4', '--seed', '5', '--json')).out);
    const b = onlyJson((await run('eval', '--operator', 'expert', '--episodes', '4', '--seed', '5', '--json')).out);
    expect(a).toEqual(b);
    expect(a.successRate).toBe(1);
    const t = await run('eval', '--operator', 'poor', '--episodes', '3', '--seed', '5');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/episode\s+success\s+return\s+final distance \(cm\)/);
    expect(t.out).toMatch(/^2\s+(yes|no)\s+-?\d+\.\d\d\s+\d+\.\d$/m);
    expect(t.out).toMatch(/success \d+\.\d % \(\d\/3\), mean return -?\d+\.\d\d ± \d+\.\d\d/);
  });

  it('wants exactly one of --model and --operator, and refuses a model that does not fit the task', async () => {
    expect((await run('eval', '--episodes', '1')).code).toBe(2);
    expect((await run('eval', '--operator', 'expert', '--model', 'x.onnx')).code).toBe(2);
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-verbs-'));
    // A joint-only model fits every task (the bench observes the arm only); one that observes a pose
    // the task does not publish, or the arm only when it observes poses, does not.
    const joints = await run('eval', '--model', await identityPolicy(dir), '--episodes', '1', '--json', '--no-report');
    expect(joints.code, joints.err).toBe(0);
    expect(joints.err).toMatch(/observing the arm only/);
    const cup = await identityPolicy(dir, { withTarget: true, meta: { observation: [{ name: 'follower.position', size: 6 }, { name: 'pose:/cup_pose', size: 3 }] } });
    const r = await run('eval', '--model', cup, '--episodes', '1', '--json');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/observes pose:\/cup_pose, which the simulated reach task does not publish.*\[MODEL_MISMATCH\]/);
    const blind = await run('eval', '--model', await identityPolicy(dir, { withTarget: true }), '--observe', 'arm', '--episodes', '1', '--json');
    expect(blind.err).toMatch(/observes target.position, but the bench observes the arm only.*--observe poses.*\[MODEL_MISMATCH\]/);
  });
});

describe('armbridge improve --json', () => {
  let data: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'armbridge-verbs-'));
    data = join(dir, 'demos.mcap');
    expect((await run('record', '--sim', '--virtual-time', '--episodes', '4', '--episode-s', '1', '--mix', 'expert:0.5,poor:0.5', '--seed', '4', '--out', data)).code).toBe(0);
  });

  it('prints one object {rounds: [{round, eval: {successRate, meanReturn, stdReturn}}]} on stdout, round 0 first', async () => {
    const r = await run('improve', '--data', data, '--iterations', '1', '--rollouts', '2', '--eval-episodes', '2', '--epochs', '2', '--fine-tune-epochs', '1', '--out', join(dir, 'improved'), '--json');
    expect(r.code, r.err).toBe(0);
    const j = onlyJson(r.out);
    const rounds = j.rounds as Record<string, unknown>[];
    expect(rounds.map((x) => x.round)).toEqual([0, 1]);
    expect(rounds.map((x) => [x.epochs, x.fineTunedFrom])).toEqual([[2, null], [1, 0]]);
    for (const x of rounds) expectEvalStats(x.eval as Record<string, unknown>);
  }, 60_000);

  it("takes the arm from --model's metadata and refuses a contradicting --arm", async () => {
    const kochData = join(dir, 'koch.mcap');
    expect((await run('record', '--sim', '--virtual-time', '--arm', 'koch', '--episodes', '2', '--episode-s', '0.5', '--mix', 'expert:1', '--out', kochData)).code).toBe(0);
    const tr = await run('train', kochData, '--out', join(dir, 'koch-bc'), '--epochs', '1', '--hidden', '8', '--select', 'off', '--backend', 'cpu', '--val', '0.5');
    expect(tr.code, tr.err).toBe(0);
    const r = await run('improve', '--model', join(dir, 'koch-bc'), '--arm', 'so101', '--out', join(dir, 'x'), '--json');
    expect(r).toMatchObject({ code: 2, out: '', err: expect.stringMatching(/--arm so101, but the model .* was trained on koch/) });
  }, 30_000);
});
