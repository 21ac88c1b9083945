/**
 * Teleoperation on simulated arms: the scripted operator moves the simulated leader, our driver
 * reads it over a serial port (a real pty when socat is present) and drives the simulated follower
 * through the SafetyFilter; the reach task scores the follower. What `armbridge teleop --sim` runs.
 */
import { Arm } from '../arm/arm.ts';
import { loadCalibration } from '../arm/calibration.ts';
import { parkArm } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { runTeleop, type TeleopCycle, type TeleopResult } from '../arm/teleop.ts';
import { runTeleopInWorker, teleopCycleOf } from '../control/loop-host.ts';
import type { RealtimeStatus } from '../control/realtime-priority.ts';
import type { WakeTuning } from '../control/wake-tuning.ts';
import { describeEpisodeStart, SIM_ARMS_ENVIRONMENT, type SimArmsEnvParams } from './sim-arms-env.ts';
import type { Skill } from '../sim/operator.ts';
import type { SimArmKind } from '../sim/presets.ts';
import type { TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { simCalibrationPath } from './paths.ts';
import { serveSimArm, type SimPort } from './sim-port.ts';

export interface SimTeleopOptions {
  readonly arm: SimArmKind;
  /** The simulated task (default reach). */
  readonly task?: TaskName;
  readonly rateHz: number;
  readonly durationS: number;
  readonly skill?: Skill;
  readonly seed?: number;
  /** Seconds per episode (a new target each time). Default 4. */
  readonly episodeS?: number;
  readonly transport?: 'pty' | 'in-process';
  /** Ends the run normally (then the follower parks). */
  readonly signal?: AbortSignal;
  /** Emergency stop: hold, torque off, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Fault injection: pull the leader's cable this many seconds in. */
  readonly unplugLeaderAfterS?: number;
  /** Fault injection: pull the follower's cable this many seconds in. */
  readonly unplugFollowerAfterS?: number;
  readonly onCycle?: (cycle: TeleopCycle) => void;
  readonly log?: (line: string) => void;
  /** Where the loop runs: the loop worker (default on Linux; the simulated arms run there too) or this thread. */
  readonly thread?: 'worker' | 'main';
  /** SCHED_FIFO priority for the loop worker (0: normal priority). */
  readonly realtimePriority?: number;
}

export interface SimTeleopResult extends TeleopResult {
  readonly transport: 'pty' | 'in-process';
  readonly episodes: number;
  readonly successes: number;
  readonly meanReward: number;
  readonly parked: boolean;
  readonly thread: 'worker' | 'main';
  readonly realtime?: RealtimeStatus;
  readonly wake?: WakeTuning;
  /** Cycles the main thread could not take from the ring in time (worker). */
  readonly logDropped?: number;
}

/** Teleop with the simulated arms and the loop in the loop worker (control/loop-host.ts). */
async function runSimTeleopInWorker(options: SimTeleopOptions): Promise<SimTeleopResult> {
  const log = options.log ?? (() => undefined);
  const params: SimArmsEnvParams = {
    arm: options.arm,
    mode: 'teleop',
    task: options.task,
    seed: options.seed ?? 1,
    transport: options.transport ?? 'pty',
    skill: options.skill ?? 'expert',
    episodeS: options.episodeS,
    unplugLeaderAfterS: options.unplugLeaderAfterS,
    unplugFollowerAfterS: options.unplugFollowerAfterS,
  };
  let unplugSaid = false;
  const r = await runTeleopInWorker({
    arm: { kind: options.arm, calibration: await loadCalibration(simCalibrationPath(options.arm, 'follower')) },
    leader: { calibration: await loadCalibration(simCalibrationPath(options.arm, 'leader')) },
    rateHz: options.rateHz,
    durationS: options.durationS,
    signal: options.signal,
    estop: options.estop,
    readTimeoutMs: 50,
    environment: { module: SIM_ARMS_ENVIRONMENT, params },
    realtimePriority: options.realtimePriority,
    park: { rateHz: 100, speed: 1.5, timeoutS: 5 },
    onReady: (i) => log(`simulated ${options.arm} leader and follower over ${i.transport}, loop in a worker thread at ${i.realtime.detail}\n`),
    onEvents: (_t, events) => {
      for (const e of events) if (e.event === 'start') log(describeEpisodeStart(e));
    },
    onRecord: (c) => {
      const unplugAt = options.unplugLeaderAfterS ?? options.unplugFollowerAfterS;
      if (!unplugSaid && unplugAt !== undefined && c.tMs >= unplugAt * 1000) {
        unplugSaid = true;
        log(`fault injection: pulling the ${options.unplugLeaderAfterS !== undefined ? 'leader' : 'follower'} cable\n`);
      }
      options.onCycle?.(teleopCycleOf(c));
    },
  });
  const env = r.environment ?? {};
  return {
    ...r,
    transport: env.transport === 'pty' ? 'pty' : 'in-process',
    episodes: Number(env.episodes),
    successes: Number(env.successes),
    meanReward: Number(env.meanReward),
    parked: r.parked ?? false,
  };
}

export async function runSimTeleop(options: SimTeleopOptions): Promise<SimTeleopResult> {
  if ((options.thread ?? (process.platform === 'linux' ? 'worker' : 'main')) === 'worker') return runSimTeleopInWorker(options);
  const world = new SimWorld({ arm: options.arm, seed: options.seed ?? 1, task: options.task });
  const ports: SimPort[] = [];
  const arms: Arm[] = [];
  const log = options.log ?? (() => undefined);
  try {
    const leaderPort = await serveSimArm(world.leader, options.transport ?? 'pty');
    ports.push(leaderPort);
    const followerPort = await serveSimArm(world.follower, options.transport ?? 'pty');
    ports.push(followerPort);
    log(`simulated ${options.arm} leader at ${leaderPort.path}, follower at ${followerPort.path} (${leaderPort.transport})\n`);
    const busOptions = leaderPort.transport === 'pty' ? { timeoutMs: 100 } : { timeoutMs: 20 };
    const leader = await Arm.open({
      profile: armProfile(options.arm, 'leader'),
      calibration: await loadCalibration(simCalibrationPath(options.arm, 'leader')),
      path: leaderPort.path,
      binding: leaderPort.binding,
      bus: busOptions,
    });
    arms.push(leader);
    const follower = await Arm.open({
      profile: armProfile(options.arm, 'follower'),
      calibration: await loadCalibration(simCalibrationPath(options.arm, 'follower')),
      path: followerPort.path,
      binding: followerPort.binding,
      bus: busOptions,
    });
    arms.push(follower);

    const episodeS = options.episodeS ?? world.task.episodeS + 1;
    let episodes = 0;
    let successes = 0;
    let rewardSum = 0;
    let rewardN = 0;
    let episodeSuccess = false;
    let nextEpisodeMs = 0;
    const unplugAt = options.unplugLeaderAfterS === undefined ? Infinity : options.unplugLeaderAfterS * 1000;
    let unplugged = false;
    const skill = options.skill ?? 'expert';
    const result = await runTeleop({
      leader,
      follower,
      rateHz: options.rateHz,
      durationS: options.durationS,
      signal: options.signal,
      estop: options.estop,
      readTimeoutMs: 50,
      onCycle: (c) => {
        if (c.tMs >= nextEpisodeMs) {
          if (episodes > 0 && episodeSuccess) successes++;
          const e = world.startEpisode(skill);
          episodes++;
          episodeSuccess = false;
          nextEpisodeMs += episodeS * 1000;
          log(describeEpisodeStart({ episode: e.index, detail: { skill: e.plan.skill, failure: e.plan.failure, ...e.scene } }));
        }
        const ev = world.evaluate();
        rewardSum += ev.reward;
        rewardN++;
        episodeSuccess = ev.success;
        if (!unplugged && c.tMs >= unplugAt) {
          unplugged = true;
          log('fault injection: pulling the leader cable\n');
          world.leader.bus.disconnect();
        }
        options.onCycle?.(c);
      },
    });
    if (episodeSuccess) successes++;
    const park = await parkArm(follower, { rateHz: 100, speed: 1.5, timeoutS: 5 });
    return { ...result, transport: leaderPort.transport, episodes, successes, meanReward: rewardN ? rewardSum / rewardN : NaN, parked: park.reached, thread: 'main' };
  } finally {
    for (const a of arms.reverse()) await a.close();
    for (const p of ports) await p.close();
    world.close();
  }
}
