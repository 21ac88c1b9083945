/**
 * The simulated follower as a deploy environment (see control/deploy-environment.ts): a SimWorld
 * whose follower starts where the demonstrations started, served over a real pty (socat) or the
 * in-process binding, and the task (reach: a new target; pick-place: a new cube and goal) drawing a
 * new scene every `episodeS`, publishing its poses after the joints and scoring each cycle. Each
 * scene is an episode (start / end events with success and reward sum), so the run log is a
 * recording that trains.
 *
 * Between episodes the environment drives the follower back to the pose it started the run in (the
 * start pose of the demonstrations and of `eval`) for `returnS`, through the loop's SafetyFilter:
 * a ramp at RETURN_SPEED, then held. That time is no episode (not scored, no reward, no /policy/action
 * in the run log); the next episode's start event says how close the return came. Measured with a
 * BC pick-and-place model, episodes that start where the last one ended succeed less often
 * (docs/learning.md, "deploy --sim"). `returnS: 0`: no return, each episode starts where the last ended.
 * It runs on whichever thread runs the loop (the deploy worker, or the caller's).
 */
import type { DeployEnvironment } from '../control/deploy-environment.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { taskLayout, type TaskName } from '../sim/task.ts';
import { FIXED_SCENE_SEED, SimWorld, type SceneMode } from '../sim/world.ts';
import { PosePerception, type ObserveMode } from '../sim/perception.ts';
import { Rng } from '../sim/random.ts';
import { featureSpec } from '../dataset/features.ts';
import { DeployEnvironmentError } from '../control/errors.ts';

const ENVIRONMENT = new URL(import.meta.url).href;
import { serveSimArm } from './sim-port.ts';
import { moveToStartPose } from './sim-rollout.ts';

export interface SimDeployEnvParams {
  readonly arm: SimArmKind;
  /** Default reach. */
  readonly task?: TaskName;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  readonly episodeS?: number;
  /** Time to bring the follower back to its start pose between episodes, s (default RETURN_S; 0: none). */
  readonly returnS?: number;
  /** The bench: the same scene every episode or a new one; the poses observed (with perception noise and latency) or the arm only. */
  readonly scene?: SceneMode;
  readonly observe?: ObserveMode;
  readonly poseNoiseM?: number;
  readonly poseLatencyMs?: number;
  /** The model's observation layout (joints first): which of the task's poses it observes, in its order. Default: every pose the task publishes. */
  readonly observation?: readonly { readonly name: string; readonly size: number }[];
}

/** Default time of the return between episodes, s: the ramp at RETURN_SPEED covers 2.25 rad, then the servos settle. */
export const RETURN_S = 2;
/** Speed of the return ramp, rad/s (gripper: units/s); the SafetyFilter's own limit still applies. */
export const RETURN_SPEED = 1.5;

export async function createDeployEnvironment(raw: unknown): Promise<DeployEnvironment> {
  const p = raw as SimDeployEnvParams;
  const world = new SimWorld({ arm: p.arm, seed: p.seed ?? 9, task: p.task, scene: p.scene });
  const task = world.task;
  const perception = new PosePerception(task, { noiseM: p.poseNoiseM, latencyMs: p.poseLatencyMs, seed: p.seed ?? 9 });
  const drawScene = () => {
    perception.reset();
    return task.newEpisode(p.scene === 'fixed' ? new Rng(FIXED_SCENE_SEED) : world.rng);
  };
  // The poses the model observes, in its order, among those the task publishes (perceived as the bench says).
  const observed = (p.observation ?? [{ name: 'follower.position', size: 0 }, ...taskLayout(task)]).filter((f) => f.name !== 'follower.position');
  const poseIndex = observed.map((f) => {
    const spec = featureSpec(f.name);
    const i = spec && f.size === 3 ? task.features.findIndex((t) => t.topic === spec.topic) : -1;
    if (i < 0) throw new DeployEnvironmentError(ENVIRONMENT, `the model observes ${f.name}[${f.size}], which the simulated ${task.name} task does not publish (it publishes ${task.features.map((t) => t.name).join(', ')})`);
    return i;
  });
  const perceive = () => {
    const all = perception.observe(world.clock.nowUs() / 1000);
    return poseIndex.flatMap((i) => [all[3 * i]!, all[3 * i + 1]!, all[3 * i + 2]!]);
  };
  // The environment's reset: the follower starts where the demonstrations started.
  moveToStartPose(world.follower);
  const port = await serveSimArm(world.follower, p.transport ?? 'pty').catch((e: unknown) => {
    world.close();
    throw e;
  });
  const episodeMs = (p.episodeS ?? task.episodeS) * 1000;
  const returnMs = (p.returnS ?? RETURN_S) * 1000;
  let scene = drawScene();
  // What the policy observes after the joints (and the run log records): updated after each cycle's scoring.
  let seen = perceive();
  let nextMs = episodeMs;
  let episodes = 1;
  let successes = 0;
  let success = false;
  let rewardSum = 0;
  let rewardN = 0;
  let episodeReward = 0;
  let events: EpisodeEvent[] = [];
  const NONE: readonly EpisodeEvent[] = [];
  // The return between episodes: the pose the run started in (the first state the loop read), the
  // ramp's current command, and when the return ends (-1: an episode is running).
  let home: Float64Array | undefined;
  let ramp: Float64Array | undefined;
  let lastMs = 0;
  let returnEndMs = -1;
  let returns = 0;
  let returnWorstRad = 0;
  const start = (episode: number, returned?: Record<string, unknown>) => events.push({ event: 'start', episode, operator: 'policy', detail: { ...scene, ...(returned ? { returned } : {}) } });
  // The task labels each episode by its success, as the simulated recordings do.
  const end = (reason: 'time' | 'stop') =>
    events.push({ event: 'end', episode: episodes - 1, success, reward_sum: episodeReward, reason }, { event: 'label', episode: episodes - 1, outcome: success ? 'success' : 'failure' });
  // Episodes and returns keep to the schedule (episode k starts at k × (episodeS + returnS)), whichever cycle sees a boundary first.
  const next = (startMs: number, returned?: Record<string, unknown>) => {
    scene = drawScene();
    nextMs = startMs + episodeMs;
    episodes++;
    episodeReward = 0;
    success = false;
    start(episodes - 1, returned);
  };
  start(0);
  return {
    path: port.path,
    binding: port.binding,
    busTimeoutMs: port.transport === 'pty' ? 100 : 20,
    transport: port.transport === 'pty' ? `a real pty (${port.path})` : 'the in-process binding',
    // The simulated servos run on the loop's thread: let each command reach them before it blocks.
    settle: (budgetMs) => port.settle(budgetMs),
    // --observe arm (a joint-only model): nothing after the joints.
    extra: p.observe === 'arm' || observed.length === 0 ? undefined : { layout: observed.map((f) => ({ name: f.name, size: 3 })), read: () => seen },
    drive(state) {
      home ??= Float64Array.from(state);
      if (returnEndMs < 0 || !ramp) return null;
      // A ramp from where the episode ended towards home, at most RETURN_SPEED per joint, then held.
      const step = (RETURN_SPEED * Math.max(0, performance.now() - lastMs)) / 1000;
      for (let i = 0; i < ramp.length; i++) ramp[i] = ramp[i]! + Math.max(-step, Math.min(step, home[i]! - ramp[i]!));
      lastMs = performance.now();
      return ramp;
    },
    onCycle(c) {
      if (returnEndMs >= 0) {
        // Returning: not an episode, not scored.
        if (c.tMs >= returnEndMs) {
          const worst = c.state && home ? Math.max(...Array.from(c.state, (v, i) => Math.abs(v - home![i]!))) : NaN;
          returnWorstRad = Math.max(returnWorstRad, Number.isFinite(worst) ? worst : Infinity);
          const startMs = returnEndMs;
          returnEndMs = -1;
          ramp = undefined;
          next(startMs, { to: 'start pose', s: returnMs / 1000, max_error_rad: Number.isFinite(worst) ? Number(worst.toFixed(4)) : null });
          seen = perceive();
        }
        return {};
      }
      const ev = world.evaluate();
      rewardSum += ev.reward;
      episodeReward += ev.reward;
      rewardN++;
      success = ev.success;
      const sample = { reward: ev.reward, success: ev.success };
      if (c.tMs >= nextMs) {
        if (success) successes++;
        end('time');
        if (returnMs > 0 && c.state && home) {
          // The next cycles drive the arm home; the next scene comes when that is over.
          returns++;
          returnEndMs = nextMs + returnMs;
          ramp = Float64Array.from(c.state);
          lastMs = performance.now();
          // The episode is over: no open episode until the return ends.
          success = false;
          episodeReward = 0;
          return sample;
        }
        next(nextMs);
      }
      seen = perceive();
      return sample;
    },
    takeEvents() {
      if (events.length === 0) return NONE;
      const out = events;
      events = [];
      return out;
    },
    end() {
      // A run that stops during a return has no open episode.
      if (returnEndMs < 0) end('stop');
    },
    summary: () => ({
      transport: port.transport,
      episodes,
      successes: successes + (returnEndMs < 0 && success ? 1 : 0),
      meanReward: rewardN ? rewardSum / rewardN : NaN,
      returns,
      returnS: returnMs / 1000,
      returnWorstRad,
    }),
    async close() {
      await port.close();
      world.close();
    },
  };
}
