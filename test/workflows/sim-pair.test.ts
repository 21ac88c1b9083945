/**
 * The pair server's world and control channel (workflows/sim-pair.ts) over real ptys: the world
 * judges the FOLLOWER (a leader at the target does not make a success), scored continuously (reach
 * needs the tool held 0.5 s), and the channel answers every line. Then `sim --pair --cadence` as a
 * process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handlePairCommand, SimPair } from '../../src/workflows/sim-pair.ts';
import { PairServerProcess } from '../helpers/person.ts';
import { hasSocat } from '../helpers/socat.ts';

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasSocat)('SimPair', () => {
  it('judges the follower, held at the target for 0.5 s, not the leader; a fixed scene is the same after reset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-pair-unit-'));
    const pair = await SimPair.start({ arm: 'so101', task: 'reach', scene: 'fixed', mix: { expert: 1 }, seed: 2, leaderLink: join(dir, 'l'), followerLink: join(dir, 'f') });
    try {
      expect(handlePairCommand(pair, 'judge')).toMatchObject({ event: 'error', message: expect.stringMatching(/before any start/) });
      expect(handlePairCommand(pair, 'jump')).toMatchObject({ event: 'error', message: expect.stringMatching(/start, reset, judge, quit/) });
      const started = handlePairCommand(pair, 'start');
      if (started.event !== 'started') throw new Error(JSON.stringify(started));
      expect(started).toMatchObject({ episode: 0, skill: 'expert', failure: 'none' });
      const target = started.scene.target_joints as number[];
      // The operator brings the leader to the target; nobody teleoperates, so the follower stays put.
      await sleep(2600);
      const leaderAt = pair.world.operator.physicalJoints();
      for (let j = 0; j < 3; j++) expect(Math.abs(leaderAt[j]! - target[j]!)).toBeLessThan(0.03);
      const unmoved = handlePairCommand(pair, 'judge');
      expect(unmoved).toMatchObject({ event: 'judged', episode: 0, success: false, outcome: 'not_held', scoring: true });
      expect(unmoved.event === 'judged' && unmoved.ticks).toBeGreaterThan(100);

      // A hand puts the follower at the target: not yet a success after 0.25 s, one after 0.5 s held.
      const f = pair.world.follower;
      f.bus.servos.forEach((s, i) => s.setDriver(() => f.zeroCounts[i]! + target[i]! * COUNTS_PER_RAD));
      await sleep(250);
      expect(handlePairCommand(pair, 'judge')).toMatchObject({ success: false });
      await sleep(450);
      expect(handlePairCommand(pair, 'judge')).toMatchObject({ success: true, outcome: 'success' });

      const reset = handlePairCommand(pair, 'reset');
      expect(reset).toMatchObject({ event: 'reset', episode: 0, scene: started.scene });
      // After reset the verdict stands (scoring stopped), even when the follower leaves the target.
      f.bus.servos.forEach((s, i) => s.setDriver(() => f.zeroCounts[i]!));
      await sleep(100);
      expect(handlePairCommand(pair, 'judge')).toMatchObject({ episode: 0, success: true, scoring: false });
      expect(handlePairCommand(pair, 'start')).toMatchObject({ event: 'started', episode: 1, scene: started.scene });
      expect(handlePairCommand(pair, 'judge')).toMatchObject({ episode: 1, success: false, scoring: true });
    } finally {
      await pair.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('sim --pair --cadence runs episodes on its own clock and judges each; Ctrl-C stops it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-pair-cadence-'));
    const server = await PairServerProcess.start(['--task', 'reach', '--scene', 'random', '--cadence', '1,0.3', '--leader-link', join(dir, 'l'), '--follower-link', join(dir, 'f')]);
    try {
      const deadline = Date.now() + 15_000;
      while (server.events.filter((e) => e.event === 'judged').length < 2 && Date.now() < deadline) await sleep(50);
      const kinds = server.events.map((e) => e.event);
      expect(kinds.slice(0, 7)).toEqual(['ready', 'started', 'reset', 'judged', 'started', 'reset', 'judged']);
      const starts = server.events.filter((e) => e.event === 'started');
      expect(starts[0]!.scene).not.toEqual(starts[1]!.scene); // a random scene: a new target each episode
      const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
      server.child.kill('SIGINT');
      expect(await exited).toBe(130); // main.ts: interrupted
      expect(server.stderr).toMatch(/stopped after \d+ episodes/);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
