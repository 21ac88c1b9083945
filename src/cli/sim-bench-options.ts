/**
 * Options of the simulated bench (record --sim, eval --sim, improve): what the simulated world
 * gives besides the arm, as a real bench would. See SimBench in workflows/sim-rollout.ts.
 */
import { z } from 'zod';
import type { SimBench } from '../workflows/sim-bench.ts';

export const simBenchOptions = {
  scene: z.enum(['random', 'fixed']).optional().describe('--sim: random (a new target, or cube and goal, every episode) or fixed (the same every episode, as on a bench with marked spots) (default random; eval: the model\'s)'),
  observe: z.enum(['arm', 'poses']).optional().describe('--sim: arm (only the joints and gripper, as a leader/follower recording holds) or poses (also the task\'s poses, published as a perception node would) (default poses; eval: what the model observes)'),
  poseNoise: z.coerce.number().min(0).max(1).optional().describe('--sim --observe poses: noise on each perceived position, m (standard deviation per axis, per message; default 0; eval: the model\'s training bench)'),
  poseLatencyMs: z.coerce.number().min(0).max(5000).optional().describe('--sim --observe poses: how late each perceived pose is, ms (default 0; eval: the model\'s training bench)'),
  rewards: z.enum(['sim', 'labels']).default('sim').describe('--sim: sim (the task\'s dense reward on /reward every cycle) or labels (no /reward: each episode gets the success/failure label a person would type at its end, from the simulated judge)'),
};

export function simBenchOf(o: { scene?: 'random' | 'fixed'; observe?: 'arm' | 'poses'; poseNoise?: number; poseLatencyMs?: number; rewards?: 'sim' | 'labels' }): SimBench {
  return { scene: o.scene, observe: o.observe, poseNoiseM: o.poseNoise, poseLatencyMs: o.poseLatencyMs, rewards: o.rewards };
}
