/**
 * The simulated leader and follower as a loop environment (control/deploy-environment.ts) for the
 * loop worker's teleop and record loops: a SimWorld whose scripted operator moves the leader, both
 * arms served over real ptys (socat) or the in-process binding, and the task (reach, pick-place)
 * scoring the follower. It runs on the loop's worker thread, beside the loop (the simulator's wire timing and the
 * loop share that thread's event loop, as in deploy-sim-env.ts).
 *
 * - teleop: a new scene (and the operator doing the task with `skill`) every `episodeS`; each start
 *   is an episode event (the caller prints it), the task scores every cycle.
 * - record: the recording session's episodes drive the world (`episodes.start` picks a skill from
 *   `mix` and a scene, `episodes.reset` brings the leader back to rest); the task scores the
 *   recorded cycles and its poses are the extra observation (/target_pose; /object_pose, /goal_pose).
 * Fault injection: the leader's or the follower's cable pulled after a time.
 */
import type { LoopEnvironment } from '../control/deploy-environment.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { Skill } from '../sim/operator.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { taskLayout, type TaskName } from '../sim/task.ts';
import { PosePerception } from '../sim/perception.ts';
import type { SimBench } from './sim-bench.ts';
import { SimWorld } from '../sim/world.ts';
import { serveSimArm, type SimPort } from './sim-port.ts';

export const SIM_ARMS_ENVIRONMENT = new URL('./sim-arms-env.ts', import.meta.url).href;

export interface SimArmsEnvParams {
  readonly arm: SimArmKind;
  readonly mode: 'teleop' | 'record';
  /** Default reach. */
  readonly task?: TaskName;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  /** teleop: the operator's skill (default expert) and the length of each scene's episode, s (default: the task's plus 1). */
  readonly skill?: Skill;
  readonly episodeS?: number;
  /** record: skills and their weights. */
  readonly mix?: Partial<Record<Skill, number>>;
  /** Fault injection: pull the leader's / follower's cable this many seconds into the loop. */
  readonly unplugLeaderAfterS?: number;
  readonly unplugFollowerAfterS?: number;
  /** The bench (record): scene, what is observed besides the arm, perception noise and latency, rewards or labels. */
  readonly bench?: SimBench;
}

/** Where the simulated operator rests the leader between recorded episodes. */
export const REST_POSE: Readonly<Record<SimArmKind, readonly number[]>> = {
  so101: [0, -0.2, 0.3, 0.4, 0, 0.5],
  koch: [0, -0.2, 0.3, -0.5, 0, -0.4],
};

/** The line a caller prints for an episode's start event from this environment. */
export function describeEpisodeStart(e: { episode: number; detail?: Record<string, unknown> }): string {
  const d = e.detail ?? {};
  const point = (k: string) => (Array.isArray(d[k]) ? `${k} (${(d[k] as number[]).map((v) => v.toFixed(3)).join(', ')})` : undefined);
  const where = ['target', 'object', 'goal'].map(point).filter(Boolean).join(', ') || 'target (?)';
  return `episode ${e.episode}: ${where} m, operator ${String(d.skill)}${d.failure && d.failure !== 'none' ? ` (${String(d.failure)})` : ''}\n`;
}

export async function createLoopEnvironment(raw: unknown): Promise<LoopEnvironment> {
  const p = raw as SimArmsEnvParams;
  const bench = p.bench ?? {};
  const world = new SimWorld({ arm: p.arm, seed: p.seed ?? 1, task: p.task, scene: bench.scene });
  const perception = new PosePerception(world.task, { noiseM: bench.poseNoiseM, latencyMs: bench.poseLatencyMs, seed: p.seed ?? 1 });
  const labelsOnly = bench.rewards === 'labels';
  const ports: SimPort[] = [];
  try {
    for (const sim of [world.leader, world.follower]) ports.push(await serveSimArm(sim, p.transport ?? 'pty'));
  } catch (e) {
    for (const port of ports) await port.close();
    world.close();
    throw e;
  }
  const [leaderPort, followerPort] = ports as [SimPort, SimPort];
  const busTimeoutMs = followerPort.transport === 'pty' ? 100 : 20;
  const mix = p.mix ?? { expert: 1 };
  const pickSkill = (): Skill => world.pickSkill(mix);
  // The task's poses as perceived this cycle (the cube moves while carried): read before the task steps.
  const seen = new Float64Array(world.task.features.length * 3);
  const readPoses = () => {
    seen.set(perception.observe(world.clock.nowUs() / 1000));
    return seen;
  };
  const episodeMs = (p.episodeS ?? world.task.episodeS + 1) * 1000;
  const skill = p.skill ?? 'expert';
  const unplugLeaderMs = p.unplugLeaderAfterS === undefined ? Infinity : p.unplugLeaderAfterS * 1000;
  const unplugFollowerMs = p.unplugFollowerAfterS === undefined ? Infinity : p.unplugFollowerAfterS * 1000;
  let nextEpisodeMs = 0;
  let episodes = 0;
  let successes = 0;
  let success = false;
  let rewardSum = 0;
  let rewardN = 0;
  let events: EpisodeEvent[] = [];
  const NONE: readonly EpisodeEvent[] = Object.freeze([]);
  const start = (s: Skill) => {
    perception.reset();
    const e = world.startEpisode(s);
    const detail = { skill: s, failure: e.plan.failure, ...e.scene };
    return { index: e.index, detail };
  };
  const faults = (tMs: number) => {
    if (tMs >= unplugLeaderMs && !world.leader.bus.disconnected) world.leader.bus.disconnect();
    if (tMs >= unplugFollowerMs && !world.follower.bus.disconnected) world.follower.bus.disconnect();
  };
  return {
    path: followerPort.path,
    binding: followerPort.binding,
    busTimeoutMs,
    leader: { path: leaderPort.path, binding: leaderPort.binding, busTimeoutMs },
    transport: followerPort.transport === 'pty' ? `real ptys (${leaderPort.path} → ${followerPort.path})` : 'the in-process binding',
    // Both arms run on the loop's thread; only the follower is written to (the leader is read).
    settle: (budgetMs) => followerPort.settle(budgetMs),
    // --observe arm: the joints only, as a leader/follower recording without perception holds.
    extra: bench.observe === 'arm' ? undefined : { layout: taskLayout(world.task), read: readPoses },
    episodes:
      p.mode === 'record'
        ? {
            start: () => {
              const s = pickSkill();
              const e = start(s);
              episodes++;
              return { operator: `scripted-${s}`, detail: e.detail };
            },
            reset: () => {
              world.operator.start(REST_POSE[p.arm], 'expert');
            },
          }
        : undefined,
    onCycle(c) {
      faults(c.tMs);
      if (p.mode === 'teleop' && c.tMs >= nextEpisodeMs) {
        if (episodes > 0 && success) successes++;
        const e = start(skill);
        events.push({ event: 'start', episode: e.index, operator: `scripted-${skill}`, detail: e.detail });
        episodes++;
        success = false;
        nextEpisodeMs += episodeMs;
      }
      const ev = world.evaluate();
      rewardSum += ev.reward;
      rewardN++;
      success = ev.success;
      // Labels: the judge's verdict reaches the episode's label (as a person's s/f key would), no reward is logged.
      return labelsOnly ? { success: ev.success } : { reward: ev.reward, success: ev.success };
    },
    takeEvents() {
      if (events.length === 0) return NONE;
      const out = events;
      events = [];
      return out;
    },
    summary: () => ({ transport: followerPort.transport, episodes, successes: successes + (p.mode === 'teleop' && success ? 1 : 0), meanReward: rewardN ? rewardSum / rewardN : NaN }),
    async close() {
      for (const port of ports.reverse()) await port.close();
      world.close();
    },
  };
}
