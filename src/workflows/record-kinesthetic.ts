/**
 * `record --sim --kinesthetic` in real time: kinesthetic teaching on the simulated follower. The
 * scripted operator's hand moves the follower itself (torque off; its servos still report where it
 * is over the wire), the follower is served as a real serial port (a pty, else the in-process
 * binding) and recorded by the same kinesthetic session as a real arm (record/kinesthetic-session.ts);
 * every episode is scored by the task. At the end the arm is held, the hand lets go, and it parks.
 */
import { readFile } from 'node:fs/promises';
import { Arm } from '../arm/arm.ts';
import { loadCalibration, type Calibration } from '../arm/calibration.ts';
import { progressOfRecords, runKinestheticInWorker } from '../control/loop-host.ts';
import type { RealtimeStatus } from '../control/realtime-priority.ts';
import { armProfile } from '../arm/profiles.ts';
import { endKinesthetic, recordKinesthetic, type Compliance, type KinestheticSessionOptions, type KinestheticSessionResult } from '../record/kinesthetic-session.ts';
import type { ControlKey, EpisodeLabel, RecordProgress } from '../record/record-session.ts';
import { ARMBRIDGE_VERSION, Recorder, type RecorderStats } from '../record/recorder.ts';
import type { Skill } from '../sim/operator.ts';
import type { SimArmKind } from '../sim/presets.ts';
import type { TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { simCalibrationPath } from './paths.ts';
import type { SkillMix } from './record-sim.ts';
import { SIM_KINESTHETIC_ENVIRONMENT, type SimKinestheticEnvParams } from './sim-kinesthetic-env.ts';
import { serveSimArm, type SimPort } from './sim-port.ts';

type SessionSettings = Pick<KinestheticSessionOptions, 'rateHz' | 'episodes' | 'episodeS' | 'resetS' | 'compliance' | 'stop' | 'signal' | 'keys' | 'onProgress'>;

/** The session settings both kinesthetic paths (simulated and real arm) pass through unchanged. */
function sessionSettings(o: SessionSettings): SessionSettings {
  return { rateHz: o.rateHz, episodes: o.episodes, episodeS: o.episodeS, resetS: o.resetS, compliance: o.compliance, stop: o.stop, signal: o.signal, keys: o.keys, onProgress: o.onProgress };
}

export interface KinestheticSimOptions {
  readonly arm: SimArmKind;
  readonly out: string;
  readonly overwrite?: boolean;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
  /** Torque off (default) or the Feetech damping mode while the hand moves the arm. */
  readonly compliance?: Compliance;
  readonly mix?: SkillMix;
  readonly seed?: number;
  /** The simulated task (default reach). */
  readonly task?: TaskName;
  readonly transport?: 'pty' | 'in-process';
  /** Ends the recording normally (then hold and park). */
  readonly stop?: AbortSignal;
  /** E-stop: hold, torque off, SafetyStopError. */
  readonly signal?: AbortSignal;
  readonly keys?: () => ControlKey | undefined;
  readonly label?: (e: { index: number; success?: boolean; rewardSum?: number }) => Promise<EpisodeLabel | undefined>;
  readonly onProgress?: (p: RecordProgress) => void;
  /** Every cycle, with the simulated world (tests look at the servos behind the wire). */
  readonly probe?: (world: SimWorld) => void;
  readonly log?: (line: string) => void;
}

export interface KinestheticSimResult extends KinestheticSessionResult {
  readonly path: string;
  readonly recorder: RecorderStats;
  readonly transport: 'pty' | 'in-process';
  /** The end: held where the hand left it, then parked (reached the rest pose within the timeout). */
  readonly park: { readonly held: boolean; readonly reached: boolean; readonly seconds: number };
}

/** Where the hand brings the arm between episodes (physical radians), as teleop's operator does. */
const REST: Readonly<Record<SimArmKind, readonly number[]>> = {
  so101: [0, -0.2, 0.3, 0.4, 0, 0.5],
  koch: [0, -0.2, 0.3, -0.5, 0, -0.4],
};

export async function recordKinestheticSim(options: KinestheticSimOptions): Promise<KinestheticSimResult> {
  const world = new SimWorld({ arm: options.arm, seed: options.seed ?? 1, task: options.task, hand: 'follower' });
  const mix = options.mix ?? { expert: 1 };
  const pickSkill = (): Skill => world.pickSkill(mix);
  const log = options.log ?? (() => undefined);
  let port: SimPort | undefined;
  let follower: Arm | undefined;
  let recorder: Recorder | undefined;
  try {
    port = await serveSimArm(world.follower, options.transport ?? 'pty');
    const cal = await loadCalibration(simCalibrationPath(options.arm, 'follower'));
    follower = await Arm.open({ profile: armProfile(options.arm, 'follower'), calibration: cal, path: port.path, binding: port.binding, bus: port.transport === 'pty' ? { timeoutMs: 100 } : { timeoutMs: 20 } });
    recorder = await Recorder.create(
      { path: options.out, overwrite: options.overwrite },
      {
        arm: options.arm,
        rate_hz: String(options.rateHz),
        software: `armbridge ${ARMBRIDGE_VERSION}`,
        operator: `scripted, kinesthetic (mix ${JSON.stringify(mix)})`,
        demonstration: 'kinesthetic',
        compliance: options.compliance ?? 'torque-off',
        actions: 'none (states only: train derives labels from them)',
        simulated: 'true',
        seed: String(options.seed ?? 1),
        joint_names: follower.names.join(','),
        units: 'radians; gripper 0 (closed) … 1 (open)',
        follower_profile: JSON.stringify(follower.profile),
        follower_calibration: JSON.stringify(cal),
        episode_s: String(options.episodeS),
        reset_s: String(options.resetS),
        schema_version: '1',
        package_json_version: JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string,
      },
    );
    log(`recording ${options.episodes} kinesthetic episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out} (${port.transport}): the follower's torque is off, the hand moves it\n`);
    const session = await recordKinesthetic({
      follower,
      recorder,
      ...sessionSettings(options),
      onCycle: () => options.probe?.(world),
      hooks: {
        start: () => {
          const skill = pickSkill();
          const e = world.startEpisode(skill);
          log(`episode ${e.index}: ${options.task ?? 'reach'}, the hand on the follower, ${skill}${e.plan.failure === 'none' ? '' : ` (${e.plan.failure})`}\n`);
          return { operator: `scripted-${skill}`, detail: { skill, failure: e.plan.failure, ...e.scene, hand: 'follower' } };
        },
        reset: () => {
          world.operator.start(REST[options.arm], 'expert');
        },
        // Poses as perceived this cycle (before the task steps), as teleop recording does.
        task: () => {
          const seen = world.task.positions().map((q, i) => ({ topic: world.task.features[i]!.topic, position: [q[0], q[1], q[2]] as [number, number, number] }));
          const ev = world.evaluate();
          return { targetPosition: seen.find((q) => q.topic === '/target_pose')?.position, poses: seen.filter((q) => q.topic !== '/target_pose'), reward: ev.reward, success: ev.success };
        },
        poseTopics: world.task.features.map((f) => f.topic).filter((t) => t !== '/target_pose'),
        label: options.label ?? (async (e) => ({ outcome: e.success ? 'success' : 'failure' })),
      },
    });
    await recorder.close();
    // Held where the hand left it, then the hand lets go, then the park.
    const park = await endKinesthetic(follower, () => world.operator.release(), { speed: 1.5, timeoutS: 5 });
    return { ...session, path: options.out, recorder: recorder.stats, transport: port.transport, park };
  } finally {
    await recorder?.close().catch(() => undefined);
    await follower?.close();
    await port?.close();
    world.close();
  }
}

export interface KinestheticArmOptions {
  readonly arm: SimArmKind;
  /** The follower's serial port, e.g. /dev/ttyACM0. */
  readonly port: string;
  readonly calibration: string;
  readonly out: string;
  readonly overwrite?: boolean;
  readonly operator?: string;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
  readonly compliance?: Compliance;
  readonly stop?: AbortSignal;
  readonly signal?: AbortSignal;
  readonly keys?: () => ControlKey | undefined;
  readonly label?: (e: { index: number; success?: boolean; rewardSum?: number }, done: AbortSignal) => Promise<EpisodeLabel | undefined>;
  readonly onProgress?: (p: RecordProgress) => void;
  readonly log?: (line: string) => void;
}

/** `record --kinesthetic` on a real follower: torque off while a person moves it, then held and parked. */
export async function recordKinestheticArm(options: KinestheticArmOptions): Promise<KinestheticSessionResult & { readonly park: KinestheticSimResult['park'] }> {
  const cal = await loadCalibration(options.calibration);
  await using follower = await Arm.open({ profile: armProfile(options.arm, 'follower'), calibration: cal, path: options.port });
  await using recorder = await Recorder.create(
    { path: options.out, overwrite: options.overwrite },
    {
      arm: options.arm,
      rate_hz: String(options.rateHz),
      software: `armbridge ${ARMBRIDGE_VERSION}`,
      operator: options.operator ?? 'unknown',
      demonstration: 'kinesthetic',
      compliance: options.compliance ?? 'torque-off',
      actions: 'none (states only: train derives labels from them)',
      simulated: 'false',
      joint_names: follower.names.join(','),
      units: 'radians; gripper 0 (closed) … 1 (open)',
      follower_profile: JSON.stringify(follower.profile),
      follower_calibration: JSON.stringify(cal),
      episode_s: String(options.episodeS),
      reset_s: String(options.resetS),
      schema_version: '1',
    },
  );
  options.log?.(`the follower's torque is off: move it by hand. Recording ${options.episodes} episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out}\n`);
  const session = await recordKinesthetic({
    follower,
    recorder,
    ...sessionSettings(options),
    hooks: options.label ? { label: options.label } : {},
  });
  await recorder.close();
  options.log?.('\nholding the arm: let go of it; it parks in 1 s\n');
  const park = await endKinesthetic(follower, () => undefined, { letGoMs: 1000 });
  return { ...session, park };
}

// ---- in the loop worker (Linux) ------------------------------------------------------------------

/** What a kinesthetic recording run in the loop worker adds: where the loop ran and what it missed. */
export interface KinestheticWorkerExtras {
  readonly thread: 'worker';
  readonly realtime: RealtimeStatus;
  /** Cycles the main thread could not drain before the ring wrapped (not recorded). */
  readonly logDropped: number;
  /** Wake lateness of the loop, µs (p99 over the run). */
  readonly latenessP99Us: number;
  /** Wake lateness of each cycle, µs (the last ones of a long run). */
  readonly latenessUs: readonly number[];
}

function p99(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil(0.99 * v.length) - 1)]!;
}

function kinestheticMetadata(o: { arm: SimArmKind; rateHz: number; compliance?: Compliance; episodeS: number; resetS: number }, cal: Calibration, extra: Record<string, string>): Record<string, string> {
  const profile = armProfile(o.arm, 'follower');
  return {
    arm: o.arm,
    rate_hz: String(o.rateHz),
    software: `armbridge ${ARMBRIDGE_VERSION}`,
    demonstration: 'kinesthetic',
    compliance: o.compliance ?? 'torque-off',
    actions: 'none (states only: train derives labels from them)',
    joint_names: profile.joints.map((j) => j.name).join(','),
    units: 'radians; gripper 0 (closed) … 1 (open)',
    follower_profile: JSON.stringify(profile),
    follower_calibration: JSON.stringify(cal),
    episode_s: String(o.episodeS),
    reset_s: String(o.resetS),
    schema_version: '1',
    ...extra,
  };
}

/** The session result in the shape of the in-thread session's. */
function sessionOf(r: Awaited<ReturnType<typeof runKinestheticInWorker>>, stopped: boolean): KinestheticSessionResult {
  return {
    kept: r.session?.kept ?? 0,
    discarded: r.session?.discarded ?? 0,
    cycles: r.cycles,
    recordedCycles: r.session?.recordedCycles ?? 0,
    achievedHz: r.achievedHz,
    overruns: r.overruns,
    missedReads: r.missedReads,
    stoppedBy: stopped || r.stop === 'signal' ? 'signal' : (r.session?.stoppedBy ?? 'done'),
  };
}

export interface KinestheticSimWorkerOptions extends Omit<KinestheticSimOptions, 'probe' | 'label'> {
  readonly label?: (e: { index: number; success?: boolean; rewardSum?: number }) => Promise<EpisodeLabel | undefined>;
  /** Fault injection and the simulator's report for tests (sim-kinesthetic-env.ts). */
  readonly env?: Pick<SimKinestheticEnvParams, 'silentFollowerAfterS' | 'reportPath'>;
  readonly realtimePriority?: number;
}

/**
 * `record --sim --kinesthetic` with the loop in the loop worker: the simulated world (the hand on the
 * follower) and the follower's pty live on the worker thread beside the loop (sim-kinesthetic-env.ts);
 * this thread records, labels and shows progress. Same result as `recordKinestheticSim`.
 */
export async function recordKinestheticSimInWorker(options: KinestheticSimWorkerOptions): Promise<KinestheticSimResult & KinestheticWorkerExtras> {
  const cal = await loadCalibration(simCalibrationPath(options.arm, 'follower'));
  const mix = options.mix ?? { expert: 1 };
  const log = options.log ?? (() => undefined);
  const transport = options.transport ?? 'pty';
  const recorder = await Recorder.create(
    { path: options.out, overwrite: options.overwrite },
    kinestheticMetadata(options, cal, {
      operator: `scripted, kinesthetic (mix ${JSON.stringify(mix)})`,
      simulated: 'true',
      seed: String(options.seed ?? 1),
      package_json_version: JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string,
    }),
  );
  try {
    const params: SimKinestheticEnvParams = { arm: options.arm, task: options.task, seed: options.seed ?? 1, transport, mix, yieldedTorque: options.compliance === 'damping' ? 2 : 0, ...options.env };
    const label = options.label ?? (async (e: { success?: boolean }) => ({ outcome: e.success ? 'success' : 'failure' }) as EpisodeLabel);
    const r = await runKinestheticInWorker({
      arm: { kind: options.arm, calibration: cal },
      environment: { module: SIM_KINESTHETIC_ENVIRONMENT, params },
      rateHz: options.rateHz,
      episodes: { episodes: options.episodes, episodeS: options.episodeS, resetS: options.resetS },
      compliance: options.compliance,
      realtimePriority: options.realtimePriority,
      park: { speed: 1.5, timeoutS: 5 },
      recorder,
      label: (e) => label(e),
      signal: options.stop,
      estop: options.signal,
      control: options.keys,
      onReady: (i) => log(`recording ${options.episodes} kinesthetic episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out} (${i.transport}, loop in a worker thread at ${i.realtime.detail}): the follower's torque is off, the hand moves it\n`),
      onEvents: (_t, events) => {
        for (const e of events) if (e.event === 'start') log(`episode ${e.episode}: ${options.task ?? 'reach'}, the hand on the follower, ${String(e.detail?.skill)}${e.detail?.failure && e.detail.failure !== 'none' ? ` (${String(e.detail.failure)})` : ''}\n`);
      },
      onRecord: options.onProgress ? progressOfRecords(options.onProgress, options.rateHz, () => recorder.stats.dropped) : undefined,
    });
    await recorder.close();
    return {
      ...sessionOf(r, options.stop?.aborted ?? false),
      path: options.out,
      recorder: recorder.stats,
      transport: r.environment?.transport === 'in-process' ? 'in-process' : 'pty',
      park: { held: r.held ?? false, reached: r.parked ?? false, seconds: r.parkSeconds },
      thread: 'worker',
      realtime: r.realtime,
      logDropped: r.logDropped,
      latenessP99Us: p99(r.latenessUs),
      latenessUs: r.latenessUs,
    };
  } finally {
    await recorder.close().catch(() => undefined);
  }
}

/** `record --kinesthetic` on a real follower with the loop in the loop worker (Linux): same as `recordKinestheticArm`. */
export async function recordKinestheticArmInWorker(options: KinestheticArmOptions & { readonly realtimePriority?: number }): Promise<KinestheticSessionResult & { readonly park: KinestheticSimResult['park'] } & KinestheticWorkerExtras> {
  const cal = await loadCalibration(options.calibration);
  const recorder = await Recorder.create({ path: options.out, overwrite: options.overwrite }, kinestheticMetadata(options, cal, { operator: options.operator ?? 'unknown', simulated: 'false' }));
  try {
    const r = await runKinestheticInWorker({
      arm: { kind: options.arm, calibration: cal, path: options.port },
      rateHz: options.rateHz,
      episodes: { episodes: options.episodes, episodeS: options.episodeS, resetS: options.resetS },
      compliance: options.compliance,
      realtimePriority: options.realtimePriority ?? 50,
      // A person needs a moment to take their hands off before the arm moves.
      letGoMs: 1000,
      park: {},
      recorder,
      label: options.label,
      signal: options.stop,
      estop: options.signal,
      control: options.keys,
      onReady: (i) => options.log?.(`the follower's torque is off: move it by hand. Recording ${options.episodes} episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out} (loop in a worker thread at ${i.realtime.detail}); at the end the arm is held: let go of it, it parks 1 s later\n`),
      onRecord: options.onProgress ? progressOfRecords(options.onProgress, options.rateHz, () => recorder.stats.dropped) : undefined,
    });
    await recorder.close();
    return { ...sessionOf(r, options.stop?.aborted ?? false), park: { held: r.held ?? false, reached: r.parked ?? false, seconds: r.parkSeconds }, thread: 'worker', realtime: r.realtime, logDropped: r.logDropped, latenessP99Us: p99(r.latenessUs), latenessUs: r.latenessUs };
  } finally {
    await recorder.close().catch(() => undefined);
  }
}
