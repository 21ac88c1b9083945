/**
 * The path a user with a real leader/follower pair takes, through the real CLI in its own processes
 * over real ptys: two `armbridge sim` processes stand in for the arms (mounted after the shipped
 * calibration files, as a calibrated arm is), then `record --leader --follower`, `train` with its
 * defaults (a leader/follower recording holds joints only, so the policy observes the joints) and
 * `deploy --follower`. Every step must exit 0, and the model must say what it observes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicyMetadata } from '../../src/control/control-rate.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { readRecording } from '../../src/record/read.ts';
import { hasSocat } from '../helpers/socat.ts';
import { REPO, serveSim, type ServedSim } from '../interop/python.ts';

/** `armbridge …` as its own process; resolves with its exit code and output. */
function armbridge(args: readonly string[], input?: string, timeoutMs = 240_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, 'bin', 'armbridge.js'), ...args], { cwd: REPO, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe.skipIf(!hasSocat)('a real leader/follower pair through the CLI (simulated arms on ptys, each its own process)', () => {
  let dir: string;
  let leader: ServedSim;
  let follower: ServedSim;
  const cal = (role: string) => join(REPO, 'calibration', `so101-${role}.sim.json`);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'armbridge-real-path-'));
    leader = await serveSim(['--arm', 'so101', '--role', 'leader', '--calibration', cal('leader')], join(dir, 'leader'));
    follower = await serveSim(['--arm', 'so101', '--role', 'follower', '--calibration', cal('follower')], join(dir, 'follower'));
  }, 60_000);
  afterAll(async () => {
    await leader?.stop();
    await follower?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records with --leader/--follower, trains a joint-only policy with the defaults and deploys it on the follower, each exiting 0', async () => {
    const rec = join(dir, 'demos.mcap');
    const pair = ['--arm', 'so101', '--leader', leader.link, '--follower', follower.link, '--leader-calibration', cal('leader'), '--follower-calibration', cal('follower')];
    const r = await armbridge(['record', ...pair, '--episodes', '2', '--episode-s', '2', '--reset-s', '0.5', '--out', rec]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/2 episodes kept/);
    const ds = await loadDataset([rec]);
    expect(ds.layout.observation).toEqual([{ name: 'follower.position', size: 6 }]);

    const model = join(dir, 'model');
    const t = await armbridge(['train', rec, '--out', model, '--no-report']);
    expect(t.code, t.err).toBe(0);
    const meta = await readPolicyMetadata(join(model, 'policy.onnx'));
    expect(meta.observation).toEqual([{ name: 'follower.position', size: 6 }]);
    expect(meta.sim).toBeUndefined();

    const d = await armbridge(['deploy', '--model', model, '--arm', 'so101', '--follower', follower.link, '--follower-calibration', cal('follower'), '--duration-s', '1.5', '--json']);
    expect(d.code, d.err).toBe(0);
    const summary = JSON.parse(d.out) as { cycles: number; safety: { faults: number } };
    expect(summary.cycles).toBeGreaterThan(50);
    expect(summary.safety.faults).toBe(0);

    // A model that observes a pose is refused on the arm before it moves, naming the flag that supplies it.
    const refused = await armbridge(['deploy', '--model', model, '--follower', follower.link, '--follower-calibration', cal('follower'), '--target', '0.2,0,0.1', '--duration-s', '1']);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/--target is not used by it/);

    // eval on the arm: each episode from the model's start pose, labelled by the person (here typed lines), logged.
    const log = join(dir, 'eval-arm.mcap');
    const e = await armbridge(['eval', '--follower', follower.link, '--follower-calibration', cal('follower'), '--model', model, '--episodes', '2', '--episode-s', '1', '--log', log, '--json'], 's\nf\n');
    expect(e.code, e.err).toBe(0);
    const ej = JSON.parse(e.out) as { successRate: number; meanReturn: number; episodes: { outcome: string; return: number | null }[] };
    expect(ej.successRate).toBe(0.5);
    expect(ej.episodes.map((x) => x.outcome)).toEqual(['success', 'failure']);
    expect(e.err).toMatch(/moving to the start pose/);
    const logged = episodesOf(await readRecording(log));
    expect(logged.map((x) => x.outcome)).toEqual(['success', 'failure']);
    // The run log is training data: it loads as a dataset with the policy's actions.
    expect((await loadDataset([log])).episodes).toHaveLength(2);
    expect(meta.startPose).toHaveLength(6);
    expect(meta.episodeS).toBe(2);
  }, 600_000);
});
