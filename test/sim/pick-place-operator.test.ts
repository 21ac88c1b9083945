import { describe, expect, it } from 'vitest';
import type { FailureMode } from '../../src/sim/operator.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';

// The scripted operator on the pick-and-place task, through the whole simulated stack (leader
// servos, calibration, SafetyFilter, follower servos), in virtual time.
const ARMS = ['so101', 'koch'] as const;

describe.each(ARMS)('the scripted operator picks and places on the %s', (arm) => {
  it('as an expert, succeeds on (nearly) every scene', async () => {
    const r = await rollout({ arm, task: 'pick-place', seed: 4242, episodes: 20, episodeS: 8, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } } });
    expect(r.episodes.filter((e) => e.success).length).toBeGreaterThanOrEqual(19);
    for (const e of r.episodes.filter((x) => x.success)) {
      expect(e.finalDistanceM).toBeLessThanOrEqual(0.03);
      expect(e.outcome).toBe('success');
    }
  }, 60_000);

  // Each systematic failure fails the task for the reason it names.
  const reasons: [FailureMode, string][] = [
    ['miss_grasp', 'never_grasped'],
    ['drop', 'dropped'],
    ['wrong_spot', 'wrong_spot'],
    ['give_up', 'put_back'],
  ];
  it.each(reasons)('poor with %s fails the task as %s', async (failure, reason) => {
    const r = await rollout({ arm, task: 'pick-place', seed: 77, episodes: 5, episodeS: 8, rateHz: 20, driver: { kind: 'operator', mix: { poor: 1 }, failure } });
    for (const e of r.episodes) {
      expect(e.failure).toBe(failure);
      expect(e.success).toBe(false);
      expect(e.outcome).toBe(reason);
    }
  }, 60_000);
});
