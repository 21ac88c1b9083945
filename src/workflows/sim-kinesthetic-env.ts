/**
 * The simulated follower moved by the scripted operator's hand, as a loop environment
 * (control/deploy-environment.ts) for the loop worker's kinesthetic loop: a SimWorld with the hand
 * on the follower, the follower served over a real pty (socat) or the in-process binding, on the
 * loop's worker thread. The recording session's episodes drive the world (`episodes.start` picks a
 * skill from `mix` and a scene, `episodes.reset` brings the arm back to rest by hand); the task
 * scores the recorded cycles and its poses are the extra observation; at the end `release` lets the
 * hand go once the loop holds the arm.
 *
 * It also watches what only the simulator can see, for the caller (`summary`) and tests
 * (`reportPath`, written at close, also after an e-stop): whether any servo held torque while the
 * hand moved the arm, and the torque at close. Fault injection: the follower's servos fall silent
 * after a time (a lost arm).
 */
import { writeFileSync } from 'node:fs';
import type { LoopEnvironment } from '../control/deploy-environment.ts';
import type { Skill } from '../sim/operator.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { taskLayout, taskObservation, type TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { REST_POSE } from './sim-arms-env.ts';
import { serveSimArm } from './sim-port.ts';

export const SIM_KINESTHETIC_ENVIRONMENT = new URL('./sim-kinesthetic-env.ts', import.meta.url).href;

export interface SimKinestheticEnvParams {
  readonly arm: SimArmKind;
  readonly task?: TaskName;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  readonly mix?: Partial<Record<Skill, number>>;
  /** The Torque_Enable every servo must show while the hand moves the arm: 0 (torque off, default) or 2 (Feetech damping). */
  readonly yieldedTorque?: 0 | 2;
  /** Fault injection: every follower servo stops answering this many seconds into the recording. */
  readonly silentFollowerAfterS?: number;
  /** Where to write a SimKinestheticReport at close. */
  readonly reportPath?: string;
}

export interface SimKinestheticReport {
  readonly recordedCycles: number;
  /** Recorded cycles in which some servo's Torque_Enable was not the yielded value. */
  readonly notYieldedCycles: number;
  readonly episodes: number;
  readonly released: boolean;
  readonly torqueOnAtClose: boolean[];
}

export async function createLoopEnvironment(raw: unknown): Promise<LoopEnvironment> {
  const p = raw as SimKinestheticEnvParams;
  const world = new SimWorld({ arm: p.arm, seed: p.seed ?? 1, task: p.task, hand: 'follower' });
  // The follower starts powered, holding where it is (as a previous run may leave a real one): what
  // yields it to the hand is the loop's doing (opening the arm turns torque off while configuring;
  // damping is the session's own write).
  for (const s of world.follower.bus.servos) {
    s.set('Goal_Position', s.get('Present_Position'));
    s.set('Torque_Enable', 1);
  }
  let port;
  try {
    port = await serveSimArm(world.follower, p.transport ?? 'pty');
  } catch (e) {
    world.close();
    throw e;
  }
  const followerPort = port;
  const mix = p.mix ?? { expert: 1 };
  const yielded = p.yieldedTorque ?? 0;
  const silentMs = p.silentFollowerAfterS === undefined ? Infinity : p.silentFollowerAfterS * 1000;
  const seen = new Float64Array(world.task.features.length * 3);
  let recordedCycles = 0;
  let notYieldedCycles = 0;
  let episodes = 0;
  let released = false;
  const report = (): SimKinestheticReport => ({ recordedCycles, notYieldedCycles, episodes, released, torqueOnAtClose: world.follower.bus.servos.map((s) => s.torqueEnabled) });
  return {
    path: followerPort.path,
    binding: followerPort.binding,
    busTimeoutMs: followerPort.transport === 'pty' ? 100 : 20,
    transport: followerPort.transport === 'pty' ? `a real pty (${followerPort.path})` : 'the in-process binding',
    // The task's poses as perceived this cycle (before the task steps).
    extra: { layout: taskLayout(world.task), read: () => (seen.set(taskObservation(world.task)), seen) },
    episodes: {
      start: () => {
        const skill: Skill = world.pickSkill(mix);
        const e = world.startEpisode(skill);
        episodes++;
        return { operator: `scripted-${skill}`, detail: { skill, failure: e.plan.failure, ...e.scene, hand: 'follower' } };
      },
      reset: () => {
        world.operator.start(REST_POSE[p.arm], 'expert');
      },
    },
    onCycle(c) {
      recordedCycles++;
      if (world.follower.bus.servos.some((s) => s.get('Torque_Enable') !== yielded)) notYieldedCycles++;
      if (c.tMs >= silentMs) for (const s of world.follower.bus.servos) s.faults.silent = true;
      const ev = world.evaluate();
      return { reward: ev.reward, success: ev.success };
    },
    release() {
      world.operator.release();
      released = true;
    },
    summary: () => ({ transport: followerPort.transport, recordedCycles, notYieldedCycles, episodes, released }),
    async close() {
      if (p.reportPath) writeFileSync(p.reportPath, JSON.stringify(report()));
      await followerPort.close();
      world.close();
    },
  };
}
