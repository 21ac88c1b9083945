/**
 * The simulated follower as a deploy environment (see control/deploy-environment.ts): a SimWorld
 * whose follower starts where the demonstrations started, served over a real pty (socat) or the
 * in-process binding, and the task (reach: a new target; pick-place: a new cube and goal) drawing a
 * new scene every `episodeS`, publishing its poses after the joints and scoring each cycle. Each
 * scene is an episode (start / end events with success and reward sum), so the run log is a
 * recording that trains. The follower is not reset between episodes: each starts where the last ended. It runs on whichever thread runs the loop (the deploy worker, or the caller's).
 */
import type { DeployEnvironment } from '../control/deploy-environment.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { taskLayout, taskObservation, type TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { serveSimArm } from './sim-port.ts';
import { moveToStartPose } from './sim-rollout.ts';

export interface SimDeployEnvParams {
  readonly arm: SimArmKind;
  /** Default reach. */
  readonly task?: TaskName;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  readonly episodeS?: number;
}

export async function createDeployEnvironment(raw: unknown): Promise<DeployEnvironment> {
  const p = raw as SimDeployEnvParams;
  const world = new SimWorld({ arm: p.arm, seed: p.seed ?? 9, task: p.task });
  const task = world.task;
  // The environment's reset: the follower starts where the demonstrations started.
  moveToStartPose(world.follower);
  const port = await serveSimArm(world.follower, p.transport ?? 'pty').catch((e: unknown) => {
    world.close();
    throw e;
  });
  const episodeMs = (p.episodeS ?? task.episodeS) * 1000;
  let scene = task.newEpisode(world.rng);
  // What the policy observes after the joints (and the run log records): updated after each cycle's scoring.
  let seen = taskObservation(task);
  let nextMs = episodeMs;
  let episodes = 1;
  let successes = 0;
  let success = false;
  let rewardSum = 0;
  let rewardN = 0;
  let episodeReward = 0;
  let events: EpisodeEvent[] = [];
  const NONE: readonly EpisodeEvent[] = [];
  const start = (episode: number) => events.push({ event: 'start', episode, operator: 'policy', detail: { ...scene } });
  // The task labels each episode by its success, as the simulated recordings do.
  const end = (reason: 'time' | 'stop') =>
    events.push({ event: 'end', episode: episodes - 1, success, reward_sum: episodeReward, reason }, { event: 'label', episode: episodes - 1, outcome: success ? 'success' : 'failure' });
  start(0);
  return {
    path: port.path,
    binding: port.binding,
    busTimeoutMs: port.transport === 'pty' ? 100 : 20,
    transport: port.transport === 'pty' ? `a real pty (${port.path})` : 'the in-process binding',
    extra: { layout: taskLayout(task), read: () => seen },
    onCycle(c) {
      const ev = world.evaluate();
      rewardSum += ev.reward;
      episodeReward += ev.reward;
      rewardN++;
      success = ev.success;
      const sample = { reward: ev.reward, success: ev.success };
      if (c.tMs >= nextMs) {
        if (success) successes++;
        end('time');
        scene = task.newEpisode(world.rng);
        nextMs += episodeMs;
        episodes++;
        episodeReward = 0;
        success = false;
        start(episodes - 1);
      }
      seen = taskObservation(task);
      return sample;
    },
    takeEvents() {
      if (events.length === 0) return NONE;
      const out = events;
      events = [];
      return out;
    },
    end() {
      end('stop');
    },
    summary: () => ({ transport: port.transport, episodes, successes: successes + (success ? 1 : 0), meanReward: rewardN ? rewardSum / rewardN : NaN }),
    async close() {
      await port.close();
      world.close();
    },
  };
}
