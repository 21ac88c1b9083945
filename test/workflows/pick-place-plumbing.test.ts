import { describe, expect, it } from 'vitest';
import { createTask, taskForObservation } from '../../src/sim/create-task.ts';
import { createDeployEnvironment } from '../../src/workflows/deploy-sim-env.ts';
import { runCli } from '../helpers/cli.ts';

describe('--task pick-place through the workflows', () => {
  it('names the task from a model observation layout', () => {
    expect(taskForObservation(['follower.position', 'target.position'])).toBe('reach');
    expect(taskForObservation(['follower.position', 'object.position', 'goal.position'])).toBe('pick-place');
    expect(taskForObservation(['follower.position'])).toBeUndefined();
    expect(createTask('pick-place', 'koch').features.map((f) => f.topic)).toEqual(['/object_pose', '/goal_pose']);
  });

  it('deploy --sim publishes the cube and the goal after the joints, as models observe them', async () => {
    const env = await createDeployEnvironment({ arm: 'so101', task: 'pick-place', transport: 'in-process', seed: 3 });
    try {
      expect(env.extra?.layout).toEqual([{ name: 'object.position', size: 3 }, { name: 'goal.position', size: 3 }]);
      const v = Array.from(env.extra!.read());
      expect(v).toHaveLength(6);
      expect(v[2]).toBeCloseTo(0.0125, 4);
      expect(v[5]).toBeCloseTo(0.0125, 4);
      expect(Math.hypot(v[0]! - v[3]!, v[1]! - v[4]!)).toBeGreaterThanOrEqual(0.08);
      const start = env.takeEvents?.()[0];
      expect(start).toMatchObject({ event: 'start', detail: { object: v.slice(0, 3), goal: v.slice(3) } });
    } finally {
      await env.close();
    }
  });

  it('eval --task pick-place scores the scripted operator on held-out scenes', async () => {
    const r = await runCli('eval', '--sim', '--arm', 'koch', '--task', 'pick-place', '--operator', 'poor', '--episodes', '3', '--seed', '2', '--json', '--no-report');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { successRate: number; episodes: { failure: string; outcome: string }[] };
    expect(j.successRate).toBe(0);
    expect(j.episodes.every((e) => ['miss_grasp', 'drop', 'wrong_spot', 'give_up'].includes(e.failure))).toBe(true);
  }, 60_000);
});
