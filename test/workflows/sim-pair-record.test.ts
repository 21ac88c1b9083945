/**
 * The real-arm `armbridge record` against `armbridge sim --pair` (two real ptys, one world), with a
 * person (test/helpers/person.ts) at the bench: moving the leader when an episode starts, resetting
 * the scene, labelling each episode from the world's judgement of the follower.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { episodesOf } from '../../src/record/episodes.ts';
import { inspectParsed } from '../../src/record/inspect.ts';
import { decodeMessage, readRecording } from '../../src/record/read.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';
import { PairServerProcess, playPersonAt } from '../helpers/person.ts';
import { hasSocat } from '../helpers/socat.ts';

describe.skipIf(!hasSocat)('record against a simulated leader/follower pair, with a scripted person', () => {
  it('records three labelled reach episodes on a fixed scene; the follower ends at the target and the world judges the expert successful', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-pair-'));
    const leader = join(dir, 'leader');
    const follower = join(dir, 'follower');
    const out = join(dir, 'pair.mcap');
    const cal = { leader: simCalibrationPath('so101', 'leader'), follower: simCalibrationPath('so101', 'follower') };
    let pair: PairServerProcess | undefined;
    try {
      pair = await PairServerProcess.start([
        '--arm', 'so101', '--task', 'reach', '--scene', 'fixed', '--mix', 'expert:1', '--seed', '3',
        '--leader-link', leader, '--follower-link', follower,
        '--leader-calibration', cal.leader, '--follower-calibration', cal.follower,
        // The servos answer in time on a loaded machine, as hardware does (record's loop runs at 50).
        '--realtime-priority', '40',
      ]);
      const run = await playPersonAt(
        pair,
        ['record', '--arm', 'so101', '--leader', leader, '--follower', follower, '--leader-calibration', cal.leader, '--follower-calibration', cal.follower,
          '--episodes', '3', '--episode-s', '4', '--reset-s', '2', '--operator', 'person-harness', '--out', out],
        90_000,
      );
      expect(run.code, run.output).toBe(0);

      // The person started three episodes on the same (fixed) scene and labelled each from the judgement.
      expect(run.started.map((s) => s.episode)).toEqual([0, 1, 2]);
      const target = run.started[0]!.scene.target_joints as number[];
      for (const s of run.started) expect(s.scene).toEqual(run.started[0]!.scene);
      expect(run.labels.map((l) => l.episode)).toEqual([0, 1, 2]);
      for (const l of run.labels) {
        expect(l.judged.skill).toBe('expert');
        expect(l.judged.scoring).toBe(false);
        expect(l.judged.ticks).toBeGreaterThan(100); // scored every 10 ms for most of a 4 s episode
        expect(l.key).toBe(l.judged.success ? 's' : 'f');
      }
      const successes = run.labels.filter((l) => l.judged.success).length;
      expect(successes, JSON.stringify(run.labels.map((l) => l.judged))).toBe(3);

      const rec = await readRecording(out);
      const episodes = episodesOf(rec);
      expect(episodes.map((e) => e.index)).toEqual([0, 1, 2]);
      expect(episodes.map((e) => e.outcome)).toEqual(run.labels.map((l) => (l.key === 's' ? 'success' : 'failure')));
      const report = inspectParsed(rec);
      for (const e of report.episodes) {
        expect(e.durationS).toBeGreaterThan(3.9);
        // A real-time recording (the rate is measured, not asserted tightly: tests share the machine).
        expect(e.achievedHz).toBeGreaterThan(50);
      }
      console.log(`person-played record: ${successes}/3 judged successful; ${report.episodes.map((e) => `${e.achievedHz.toFixed(1)} Hz, ${e.droppedCycles} dropped`).join('; ')}`);

      // Each episode's recorded follower ends at the fixed target's joints (radians; the gripper is 0…1, not compared).
      for (const e of episodes) {
        const states = rec.messages.filter((m) => m.topic === '/follower/joint_states' && m.logTimeNs >= e.startNs && m.logTimeNs <= e.endNs!);
        const first = decodeMessage<{ position: Float64Array }>(rec, states[0]!).position;
        const last = decodeMessage<{ position: Float64Array }>(rec, states.at(-1)!).position;
        for (let j = 0; j < 4; j++) {
          expect(Math.abs(last[j]! - target[j]!), `episode ${e.index} joint ${j}`).toBeLessThan(0.05);
        }
        // It moved there during the episode (from rest, far from the target).
        expect(Math.hypot(...[0, 1, 2].map((j) => first[j]! - target[j]!))).toBeGreaterThan(0.3);
      }
    } finally {
      await pair?.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
