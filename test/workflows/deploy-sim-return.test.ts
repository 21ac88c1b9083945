import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeployEnvironment as fixedEnvironment } from '../../src/control/fixed-environment.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { decodeMessage, readRecording, type Recording } from '../../src/record/read.ts';
import { deploySim } from '../../src/workflows/deploy-sim.ts';
import { identityPolicy } from '../helpers/models.ts';

/** The follower's joints (or the filtered commands) in the run log, with their log times. */
function series(rec: Recording, topic: string): { t: bigint; q: number[] }[] {
  return rec.messages.filter((m) => m.topic === topic).map((m) => ({ t: m.logTimeNs, q: Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, m).position) }));
}

const far = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('deploy --sim between episodes: the arm goes back to its start pose, as eval starts every episode', () => {
  it.each(['main', 'worker'] as const)('%s thread: a drifting policy is brought back through the safety filter, not scored, and the log says so', async (thread) => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-dsim-return-'));
    const log = join(dir, 'run.mcap');
    // action = joints + 0.01 on every joint: the arm drifts up to 1 rad/s away from where it started.
    const model = await identityPolicy(dir, { withTarget: true, bias: 0.01 });
    const r = await deploySim({ arm: 'so101', model, rateHz: 100, durationS: 1.6, episodeS: 0.5, returnS: 0.4, transport: 'in-process', thread, realtimePriority: 0, log });
    expect(r.episodes).toBeGreaterThanOrEqual(2);
    expect(r.returns.count).toBeGreaterThanOrEqual(1);
    expect(r.returns.count).toBeLessThanOrEqual(r.episodes);
    expect(r.returns.returnS).toBe(0.4);
    expect(r.safety.faults).toBe(0);

    const rec = await readRecording(log);
    const episodes = episodesOf(rec);
    expect(episodes.length).toBe(r.episodes);
    const follower = series(rec, '/follower/joint_states');
    const at = (t: bigint) => follower.find((s) => s.t >= t)!.q;
    const before = (t: bigint) => follower.filter((s) => s.t <= t).at(-1)!.q;
    const home = follower[0]!.q;
    // The first episode ends away from home; the second starts back there.
    expect(far(before(episodes[0]!.endNs!), home)).toBeGreaterThan(0.1);
    expect(far(at(episodes[1]!.startNs), home)).toBeLessThan(0.03);
    const returned = episodes[1]!.detail!.returned as { to: string; s: number; max_error_rad: number };
    expect(returned).toMatchObject({ to: 'start pose', s: 0.4 });
    expect(returned.max_error_rad).toBeLessThan(0.03);
    expect(r.returns.worstErrorRad).toBeLessThan(0.03);
    // Between the two: no policy ran, nothing was scored, and every command passed the filter's step limit (2 rad/s).
    const gap = (t: bigint) => t > episodes[0]!.endNs! && t < episodes[1]!.startNs;
    const count = (topic: string) => rec.messages.filter((m) => m.topic === topic && gap(m.logTimeNs)).length;
    expect(count('/action')).toBeGreaterThan(20);
    expect(count('/policy/action')).toBe(0);
    expect(count('/reward')).toBe(0);
    const commands = series(rec, '/action').map((s) => s.q);
    for (let k = 1; k < commands.length; k++) expect(far(commands[k]!, commands[k - 1]!)).toBeLessThanOrEqual(2 / 100 + 1e-9);
  }, 30_000);

  it('returnS 0: each episode starts where the last ended', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-dsim-return-'));
    const log = join(dir, 'run.mcap');
    const r = await deploySim({ arm: 'so101', model: await identityPolicy(dir, { withTarget: true, bias: 0.01 }), rateHz: 100, durationS: 1.1, episodeS: 0.5, returnS: 0, transport: 'in-process', thread: 'main', log });
    expect(r.returns.count).toBe(0);
    const rec = await readRecording(log);
    const episodes = episodesOf(rec);
    expect(episodes.length).toBeGreaterThanOrEqual(2);
    expect(episodes[1]!.detail!.returned).toBeUndefined();
    const home = series(rec, '/follower/joint_states')[0]!.q;
    const second = series(rec, '/follower/joint_states').find((s) => s.t >= episodes[1]!.startNs)!.q;
    expect(far(second, home)).toBeGreaterThan(0.1);
  }, 30_000);

  it('a real arm\'s environment (fixed poses) never drives the arm: nothing resets a real scene', async () => {
    const env = await fixedEnvironment({ path: '/dev/ttyACM0', extra: { layout: [{ name: 'target.position', size: 3 }], values: [0.2, 0, 0.1] } });
    expect(env.drive).toBeUndefined();
    await env.close();
  });
});
