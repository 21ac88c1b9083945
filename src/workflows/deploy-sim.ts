/**
 * Deploying a policy on the simulated follower: the task publishes a new scene every `episodeS`
 * (reach: a target; pick-place: a cube and a goal), the policy sees the follower's joints and the
 * task's poses, the loop runs at `rateHz`
 * through the SafetyFilter, and each episode is scored by the task. Between episodes the arm is
 * driven back to its start pose for `returnS` (as `eval` starts every episode there; not scored).
 * What `armbridge deploy --sim` runs.
 *
 * `thread: 'worker'` (default) runs the loop, the simulated arm and the task in the deploy worker
 * (control/loop-host.ts) and logs from this thread; `'main'` runs it all on this thread.
 */
import { Arm } from '../arm/arm.ts';
import { loadCalibration } from '../arm/calibration.ts';
import { parkArm } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { readPolicyMetadata, resolveControlRate, type ControlRate } from '../control/control-rate.ts';
import { runDeploy, type DeployResult } from '../control/deploy-loop.ts';
import { runDeployInWorker, type LoopStatus } from '../control/loop-host.ts';
import { OnnxPolicy } from '../control/onnx-policy.ts';
import type { RealtimeStatus } from '../control/realtime-priority.ts';
import type { WakeTuning } from '../control/wake-tuning.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../record/recorder.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { createTask } from '../sim/create-task.ts';
import type { TaskName } from '../sim/task.ts';
import { createDeployEnvironment, type SimDeployEnvParams } from './deploy-sim-env.ts';
import { simCalibrationPath } from './paths.ts';
import { benchMetadata, modelBench } from './sim-bench.ts';

export interface SimDeployOptions {
  readonly arm: SimArmKind;
  /** The simulated task (default reach). */
  readonly task?: TaskName;
  readonly model: string;
  /** Control rate, Hz. Default: the model's own (its `armbridge.rate_hz` metadata), else 200. */
  readonly rateHz?: number;
  /** Run at `rateHz` even when the model cannot follow it (see control/control-rate.ts). */
  readonly force?: boolean;
  readonly durationS: number;
  readonly episodeS?: number;
  /** Time to bring the follower back to its start pose between episodes, through the SafetyFilter, not scored, s (default 2; 0: none). */
  readonly returnS?: number;
  readonly seed?: number;
  /** The same scene every episode or a new one (default: the bench the model was trained on, else random). */
  readonly scene?: 'random' | 'fixed';
  readonly transport?: 'pty' | 'in-process';
  readonly log?: string;
  readonly estop?: AbortSignal;
  readonly signal?: AbortSignal;
  readonly thread?: 'worker' | 'main';
  /** SCHED_FIFO priority for the worker (0: normal priority). */
  readonly realtimePriority?: number;
  /** The worker's spin before each deadline, µs (default: tuned to the machine, control/wake-tuning.ts). */
  readonly spinUs?: number;
  /** Run the model once in the spin window before each deadline and while the read's last reply is on the wire (default true; control/onnx-policy.ts). */
  readonly warmInference?: boolean;
  readonly say?: (line: string) => void;
  readonly onStatus?: (s: LoopStatus) => void;
}

export interface SimDeployResult extends DeployResult {
  readonly transport: 'pty' | 'in-process';
  readonly thread: 'worker' | 'main';
  readonly realtime: RealtimeStatus | undefined;
  /** The worker's wake strategy (absent on the main thread). */
  readonly wake?: WakeTuning;
  readonly episodes: number;
  readonly successes: number;
  readonly meanReward: number;
  /** Returns to the start pose between episodes, each `returnS` long, and the worst distance from it any ended at (rad). */
  readonly returns: { readonly count: number; readonly returnS: number; readonly worstErrorRad: number };
  /** The rate the loop was asked to run at, and where it came from. */
  readonly rate: ControlRate;
}

const ENV_MODULE = new URL('./deploy-sim-env.ts', import.meta.url).href;

export async function deploySim(options: SimDeployOptions): Promise<SimDeployResult> {
  const say = options.say ?? (() => undefined);
  // The rate is decided (and a rate the model cannot follow refused) before any port opens.
  const rate = resolveControlRate(options.model, await readPolicyMetadata(options.model), options.rateHz, options.force);
  if (rate.note) say(rate.note);
  const rateHz = rate.rateHz;
  // The bench the model was trained on (scene, perception) unless told; a joint-only model observes the arm only.
  const meta = await readPolicyMetadata(options.model);
  const params: SimDeployEnvParams = {
    arm: options.arm,
    task: options.task,
    seed: options.seed ?? 9,
    transport: options.transport ?? 'pty',
    episodeS: options.episodeS ?? meta.episodeS ?? createTask(options.task ?? 'reach', options.arm).episodeS,
    returnS: options.returnS,
    ...modelBench(meta, { scene: options.scene }),
    observation: meta.observation,
  };
  const calibration = await loadCalibration(simCalibrationPath(options.arm, 'follower'));
  const recorder = options.log
    ? await Recorder.create({ path: options.log, overwrite: true }, { arm: options.arm, task: options.task ?? 'reach', rate_hz: String(rateHz), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: `policy ${options.model}`, simulated: 'true', joint_names: armProfile(options.arm, 'follower').joints.map((j) => j.name).join(','), episode_s: String(params.episodeS), ...benchMetadata({ scene: params.scene, observe: params.observe, poseNoiseM: params.poseNoiseM, poseLatencyMs: params.poseLatencyMs }) })
    : undefined;
  try {
    // Worker by default where it can open ports (Linux: the tty binding); elsewhere the main thread.
    if ((options.thread ?? (process.platform === 'linux' ? 'worker' : 'main')) === 'worker') {
      const r = await runDeployInWorker({
        arm: { kind: options.arm, calibration },
        model: options.model,
        rateHz,
        durationS: options.durationS,
        environment: { module: ENV_MODULE, params },
        realtimePriority: options.realtimePriority,
        spinUs: options.spinUs,
        warmInference: options.warmInference,
        park: { speed: 1.5, timeoutS: 5 },
        recorder,
        estop: options.estop,
        signal: options.signal,
        onStatus: options.onStatus,
        onReady: (i) =>
          say(`deploying ${options.model} (${i.algo}, trained on ${i.backend}) on the simulated ${options.arm} follower at ${rateHz} Hz over ${i.transport}, loop in a worker thread at ${i.realtime.detail}\n`),
      });
      const env = r.environment ?? {};
      return { ...r, transport: env.transport === 'pty' ? 'pty' : 'in-process', episodes: Number(env.episodes), successes: Number(env.successes), meanReward: Number(env.meanReward), returns: returnsOf(env), rate };
    }
    const env = await createDeployEnvironment(params);
    let arm: Arm | undefined;
    let policy: OnnxPolicy | undefined;
    try {
      const profile = armProfile(options.arm, 'follower');
      policy = await OnnxPolicy.load(options.model, { jointNames: profile.joints.map((j) => j.name), observation: [{ name: 'follower.position', size: profile.joints.length }, ...(env.extra?.layout ?? [])] });
      arm = await Arm.open({ profile, calibration, path: env.path, binding: env.binding, bus: { timeoutMs: env.busTimeoutMs } });
      say(`deploying ${options.model} (${policy.metadata.algo}, trained on ${policy.metadata.trainingBackend}) on the simulated ${options.arm} follower at ${rateHz} Hz over ${env.transport}, loop on the main thread\n`);
      const result = await runDeploy({ follower: arm, policy, rateHz, durationS: options.durationS, estop: options.estop, signal: options.signal, recorder, environment: env, warmBeforeReply: options.warmInference !== false });
      await parkArm(arm, { speed: 1.5, timeoutS: 5 }).catch(() => undefined);
      const s = env.summary?.() ?? {};
      return { ...result, thread: 'main', realtime: undefined, transport: s.transport === 'pty' ? 'pty' : 'in-process', episodes: Number(s.episodes), successes: Number(s.successes), meanReward: Number(s.meanReward), returns: returnsOf(s), rate };
    } finally {
      await policy?.close();
      await arm?.close();
      await env.close();
    }
  } finally {
    await recorder?.close().catch(() => undefined);
  }
}

function returnsOf(s: Record<string, string | number | boolean>): SimDeployResult['returns'] {
  return { count: Number(s.returns ?? 0), returnS: Number(s.returnS ?? 0), worstErrorRad: Number(s.returnWorstRad ?? 0) };
}
