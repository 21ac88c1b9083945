/**
 * Recording demonstrations on the simulator: the scripted operator (with a mix of skills) drives
 * the simulated leader, the follower follows through the SafetyFilter, and every episode is scored
 * by the reach task. Without a terminal nothing waits for a key: outcomes come from the task.
 */
import { readFile } from 'node:fs/promises';
import { Arm } from '../arm/arm.ts';
import { loadCalibration } from '../arm/calibration.ts';
import { parkArm } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { recordSession, type ControlKey, type EpisodeLabel, type RecordProgress, type RecordSessionResult } from '../record/record-session.ts';
import { ARMBRIDGE_VERSION, Recorder, type RecorderStats } from '../record/recorder.ts';
import type { Skill } from '../sim/operator.ts';
import type { SimArmKind } from '../sim/presets.ts';
import type { TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { progressOfRecords, runRecordInWorker } from '../control/loop-host.ts';
import type { RealtimeStatus } from '../control/realtime-priority.ts';
import type { WakeTuning } from '../control/wake-tuning.ts';
import type { Calibration } from '../arm/calibration.ts';
import { describeEpisodeStart, REST_POSE, SIM_ARMS_ENVIRONMENT, type SimArmsEnvParams } from './sim-arms-env.ts';
import { simCalibrationPath } from './paths.ts';
import { InvalidArgumentError } from '../errors.ts';
import { benchMetadata, type SimBench } from './sim-bench.ts';
import { serveSimArm, type SimPort } from './sim-port.ts';

export type SkillMix = Partial<Record<Skill, number>>;

/** "expert:0.5,noisy:0.2,poor:0.3" → weights. */
export function parseSkillMix(text: string): SkillMix {
  const mix: SkillMix = {};
  for (const part of text.split(',')) {
    const [k, v] = part.split(':');
    if (k !== 'expert' && k !== 'noisy' && k !== 'poor') throw new RangeError(`unknown skill "${k}" in --mix (expert, noisy, poor)`);
    const w = Number(v ?? 1);
    if (!(w >= 0)) throw new RangeError(`bad weight "${v}" for ${k} in --mix`);
    mix[k] = w;
  }
  return mix;
}

export interface SimRecordOptions {
  readonly arm: SimArmKind;
  /** The simulated task (default reach). */
  readonly task?: TaskName;
  readonly out: string;
  readonly overwrite?: boolean;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
  readonly mix?: SkillMix;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  /** The bench: scene, what is observed besides the arm (with perception noise and latency), rewards or labels (loop worker only). */
  readonly bench?: SimBench;
  readonly signal?: AbortSignal;
  readonly keys?: () => ControlKey | undefined;
  readonly label?: (e: { index: number; success?: boolean; rewardSum?: number }) => Promise<EpisodeLabel | undefined>;
  readonly onProgress?: (p: RecordProgress) => void;
  readonly log?: (line: string) => void;
  /** Where the loop runs: the loop worker (default on Linux; the simulated arms run there too) or this thread. */
  readonly thread?: 'worker' | 'main';
  /** SCHED_FIFO priority for the loop worker (0: normal priority). */
  readonly realtimePriority?: number;
}

export interface SimRecordResult extends RecordSessionResult {
  readonly path: string;
  readonly recorder: RecorderStats;
  readonly transport: 'pty' | 'in-process';
  readonly thread: 'worker' | 'main';
  readonly realtime?: RealtimeStatus;
  readonly wake?: WakeTuning;
  /** Cycles the main thread could not take from the ring in time (worker; not recorded). */
  readonly logDropped?: number;
}

const REST = REST_POSE;

async function recordingMetadata(options: SimRecordOptions, mix: SkillMix, cals: { leader: Calibration; follower: Calibration }): Promise<Record<string, string>> {
  const profile = armProfile(options.arm, 'follower');
  return {
    arm: options.arm,
    task: options.task ?? 'reach',
    rate_hz: String(options.rateHz),
    software: `armbridge ${ARMBRIDGE_VERSION}`,
    operator: `scripted (mix ${JSON.stringify(mix)})`,
    simulated: 'true',
    seed: String(options.seed ?? 1),
    joint_names: profile.joints.map((j) => j.name).join(','),
    units: 'radians; gripper 0 (closed) … 1 (open)',
    follower_profile: JSON.stringify(profile),
    follower_calibration: JSON.stringify(cals.follower),
    leader_calibration: JSON.stringify(cals.leader),
    episode_s: String(options.episodeS),
    reset_s: String(options.resetS),
    schema_version: '1',
    ...benchMetadata(options.bench ?? {}),
    package_json_version: JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string,
  };
}

/** Recording with the simulated arms and the loop in the loop worker (control/loop-host.ts); MCAP encoding stays on this thread. */
async function recordSimInWorker(options: SimRecordOptions): Promise<SimRecordResult> {
  const mix = options.mix ?? { expert: 1 };
  const log = options.log ?? (() => undefined);
  const cals = { leader: await loadCalibration(simCalibrationPath(options.arm, 'leader')), follower: await loadCalibration(simCalibrationPath(options.arm, 'follower')) };
  const params: SimArmsEnvParams = { arm: options.arm, mode: 'record', task: options.task, seed: options.seed ?? 1, transport: options.transport ?? 'pty', mix, bench: options.bench };
  const recorder = await Recorder.create({ path: options.out, overwrite: options.overwrite }, await recordingMetadata(options, mix, cals));
  try {
    const r = await runRecordInWorker({
      arm: { kind: options.arm, calibration: cals.follower },
      leader: { calibration: cals.leader },
      rateHz: options.rateHz,
      episodes: { episodes: options.episodes, episodeS: options.episodeS, resetS: options.resetS },
      recorder,
      environment: { module: SIM_ARMS_ENVIRONMENT, params },
      realtimePriority: options.realtimePriority,
      estop: options.signal,
      control: options.keys,
      // The simulated judge labels each episode as a person would (s / f) when no terminal does.
      label: options.label ?? (async (e) => ({ outcome: e.success ? 'success' : 'failure' })),
      labelsOnly: options.bench?.rewards === 'labels',
      park: { speed: 1.5, timeoutS: 5 },
      onReady: (i) => log(`recording ${options.episodes} episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out} (${i.transport}; loop in a worker thread at ${i.realtime.detail})\n`),
      onEvents: (_t, events) => {
        for (const e of events) if (e.event === 'start') log(describeEpisodeStart(e));
      },
      onRecord: options.onProgress ? progressOfRecords(options.onProgress, options.rateHz, () => recorder.stats.dropped) : undefined,
    });
    await recorder.close();
    const s = r.session!;
    return {
      kept: s.kept,
      discarded: s.discarded,
      cycles: r.cycles,
      recordedCycles: s.recordedCycles,
      achievedHz: r.achievedHz,
      overruns: r.overruns,
      latenessUs: r.latenessUs,
      safety: r.safety,
      stoppedBy: s.stoppedBy,
      path: options.out,
      recorder: recorder.stats,
      transport: r.environment?.transport === 'pty' ? 'pty' : 'in-process',
      thread: 'worker',
      realtime: r.realtime,
      wake: r.wake,
      logDropped: r.logDropped,
    };
  } finally {
    await recorder.close().catch(() => undefined);
  }
}

export async function recordSim(options: SimRecordOptions): Promise<SimRecordResult> {
  if ((options.thread ?? (process.platform === 'linux' ? 'worker' : 'main')) === 'worker') return recordSimInWorker(options);
  const b = options.bench ?? {};
  if (b.scene === 'fixed' || b.observe === 'arm' || b.poseNoiseM || b.poseLatencyMs || b.rewards === 'labels') {
    throw new InvalidArgumentError(`--scene, --observe, --pose-noise, --pose-latency-ms and --rewards labels need the loop worker (Linux) for a real-time recording; use --virtual-time here`);
  }
  const world = new SimWorld({ arm: options.arm, seed: options.seed ?? 1, task: options.task });
  const mix = options.mix ?? { expert: 1 };
  const pickSkill = (): Skill => world.pickSkill(mix);
  const log = options.log ?? (() => undefined);
  const ports: SimPort[] = [];
  const arms: Arm[] = [];
  let recorder: Recorder | undefined;
  try {
    for (const sim of [world.leader, world.follower]) ports.push(await serveSimArm(sim, options.transport ?? 'pty'));
    const bus = ports[0]!.transport === 'pty' ? { timeoutMs: 100 } : { timeoutMs: 20 };
    const cals = { leader: await loadCalibration(simCalibrationPath(options.arm, 'leader')), follower: await loadCalibration(simCalibrationPath(options.arm, 'follower')) };
    for (const [i, role] of (['leader', 'follower'] as const).entries()) {
      arms.push(await Arm.open({ profile: armProfile(options.arm, role), calibration: cals[role], path: ports[i]!.path, binding: ports[i]!.binding, bus }));
    }
    const [leader, follower] = arms as [Arm, Arm];
    recorder = await Recorder.create({ path: options.out, overwrite: options.overwrite }, await recordingMetadata(options, mix, cals));
    log(`recording ${options.episodes} episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out} (${ports[0]!.transport})\n`);
    const session = await recordSession({
      leader,
      follower,
      recorder,
      rateHz: options.rateHz,
      episodes: options.episodes,
      episodeS: options.episodeS,
      resetS: options.resetS,
      signal: options.signal,
      keys: options.keys,
      onProgress: options.onProgress,
      hooks: {
        start: () => {
          const skill = pickSkill();
          const e = world.startEpisode(skill);
          const detail = { skill, failure: e.plan.failure, ...e.scene };
          log(describeEpisodeStart({ episode: e.index, detail }));
          return { operator: `scripted-${skill}`, detail };
        },
        reset: () => {
          world.operator.start(REST[options.arm], 'expert');
        },
        // Poses as perceived this cycle (before the task steps: the cube moves while carried);
        // the session records /target_pose itself (targetPosition), other poses on their own topics.
        task: () => {
          const seen = world.task.positions().map((q, i) => ({ topic: world.task.features[i]!.topic, position: [q[0], q[1], q[2]] }));
          const ev = world.evaluate();
          return { targetPosition: seen.find((q) => q.topic === '/target_pose')?.position, poses: seen.filter((q) => q.topic !== '/target_pose'), reward: ev.reward, success: ev.success };
        },
        poseTopics: world.task.features.map((f) => f.topic).filter((t) => t !== '/target_pose'),
        label: options.label ?? (async (e) => ({ outcome: e.success ? 'success' : 'failure' })),
      },
    });
    await recorder.close();
    await parkArm(follower, { speed: 1.5, timeoutS: 5 }).catch(() => undefined);
    return { ...session, path: options.out, recorder: recorder.stats, transport: ports[0]!.transport, thread: 'main' };
  } finally {
    await recorder?.close().catch(() => undefined);
    for (const a of arms.reverse()) await a.close();
    for (const p of ports) await p.close();
    world.close();
  }
}
