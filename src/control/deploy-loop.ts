/**
 * The deployment loop: at a fixed rate (absolute deadlines), read the follower (one sync read),
 * build the observation, run the ONNX policy, pass its action through the SafetyFilter, write the
 * follower (one sync write), and hand the cycle to the run log without waiting for the disk.
 *
 * Faults: `overrunBudget` consecutive late cycles → the cycle holds instead of acting on a stale
 * observation; a failed read → hold, then the watchdog cuts torque and the run ends with
 * SafetyStopError; an e-stop (signal) → hold, torque off, SafetyStopError; NaN or out-of-range
 * actions → the filter refuses or clamps them and counts it.
 *
 * This runs on the calling thread. `runDeployInWorker` (loop-host.ts) runs the same loop in
 * a worker thread with a blocking sleeper, and logs from the main thread.
 */
import type { Arm } from '../arm/arm.ts';
import { loopSettings, runControlLoop, type ControlLoopResult, type LoopSettings } from '../arm/control-loop.ts';
import { SampleWindow } from '../arm/sample-window.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { Recorder } from '../record/recorder.ts';
import type { DeployEnvironment, TaskSample } from './deploy-environment.ts';
import { DeployLog } from './deploy-log.ts';
import type { OnnxPolicy } from './onnx-policy.ts';

/** What every cycle hands to `onCycle`. The arrays are reused: copy what you keep. */
export interface DeployCycle {
  readonly index: number;
  /** ms since the loop started. */
  readonly tMs: number;
  /** performance.now() of the cycle start, on the loop's thread. */
  readonly perfMs: number;
  readonly state: Float64Array | null;
  readonly command: Float64Array;
  /** The policy's action before the filter; null when no inference ran (failed read). */
  readonly raw: Float32Array | null;
  readonly inferenceUs: number;
  /** Cycle start → write handed to the port, µs. */
  readonly latencyUs: number;
  readonly status: string;
  readonly overruns: number;
  /** Observation features after the joints as the policy saw them (null: none, or no inference). */
  readonly extra: ArrayLike<number> | null;
  /** The environment's score of this cycle (empty without an environment). */
  readonly task: TaskSample;
}

export interface DeployOptions extends LoopSettings {
  readonly follower: Arm;
  readonly policy: OnnxPolicy;
  /** Observation features after the follower's joint positions (e.g. the task's target point). */
  readonly observeExtra?: () => ArrayLike<number>;
  /**
   * What the arm is part of (its extra observations, a task scoring each cycle, episodes): its
   * `extra` replaces `observeExtra`; its scores and episode events go to the run log, so a run is
   * training data. Its `path`/`binding` are the caller's business (the arm is already open).
   */
  readonly environment?: DeployEnvironment;
  /** Consecutive late cycles after which a cycle holds. Default 3. */
  readonly overrunBudget?: number;
  /**
   * Run the policy once on the last observation while the read's last reply is on the wire
   * (CallOptions.beforeLastReply), so its code is in the core's caches when the reply comes: the
   * first inference after a read was 2–4× slower than back to back (onnx-policy.ts). Default true.
   */
  readonly warmBeforeReply?: boolean;
  /** Follower speed limit, rad/s. Default 2. */
  readonly maxSpeed?: number;
  readonly readTimeoutMs?: number;
  /** Run log (same topics as recordings, plus /policy/action and /control/inference_us). */
  readonly recorder?: Recorder;
  readonly onCycle?: (c: DeployCycle) => void;
  /** Episode events of the environment, with the performance.now() they belong to (also when the run ends or fails). */
  readonly onEpisodeEvents?: (perfMs: number, events: readonly EpisodeEvent[]) => void;
}

export interface DeployResult extends ControlLoopResult {
  /** Cycles held because too many before them woke late. */
  readonly budgetHolds: number;
  readonly inferenceUs: readonly number[];
}

const NO_TASK: TaskSample = Object.freeze({});
const NO_EVENTS: readonly EpisodeEvent[] = Object.freeze([]);

export async function runDeploy(options: DeployOptions): Promise<DeployResult> {
  const { follower, policy } = options;
  const n = follower.size;
  const readCall = {
    timeoutMs: options.readTimeoutMs ?? Math.max(5, 2000 / options.rateHz),
    retries: 0,
    beforeLastReply: options.warmBeforeReply === false ? undefined : () => policy.warm(),
  };
  const state = new Float64Array(n);
  const obs = new Float32Array(policy.obsSize);
  const budget = options.overrunBudget ?? 3;
  const env = options.environment;
  const observeExtra = env?.extra ? env.extra.read.bind(env.extra) : options.observeExtra;
  const drive = env?.drive ? env.drive.bind(env) : undefined;
  const log = options.recorder ? await DeployLog.open(options.recorder, follower.names, env?.extra?.layout ?? []) : undefined;
  let extra: ArrayLike<number> | null = null;
  const inferenceUs = new SampleWindow();
  let lateStreak = 0;
  let budgetHolds = 0;
  let fresh = false;
  let raw: Float32Array | null = null;
  let lastInferenceUs = 0;
  const episodeEvents = (perfMs: number) => {
    const events = env?.takeEvents?.() ?? NO_EVENTS;
    if (events.length === 0) return;
    log?.episodeEvents(DeployLog.stamp(perfMs), events);
    options.onEpisodeEvents?.(perfMs, events);
  };
  let result: ControlLoopResult;
  try {
    result = await runControlLoop({
      ...loopSettings(options),
      follower,
      maxStep: (options.maxSpeed ?? 2) / options.rateHz,
      sense: async (_index, lateMs, periodMs) => {
        lateStreak = lateMs > periodMs ? lateStreak + 1 : 0;
        raw = null;
        extra = null;
        try {
          await follower.read(state, readCall);
        } catch (error) {
          fresh = false;
          return { fresh: false, desired: null, error };
        }
        fresh = true;
        // The environment drives the arm this cycle (a scene's reset): no inference, the filter still applies.
        const driven = drive ? drive(state) : null;
        if (driven) return { fresh: true, desired: driven };
        for (let i = 0; i < n; i++) obs[i] = state[i]!;
        if (observeExtra) {
          extra = observeExtra();
          obs.set(extra, n);
        }
        const ti = performance.now();
        // Synchronous where the runtime allows it: an await would let queued microtasks run inside the cycle's inference.
        raw = policy.inferSync(obs) ?? (await policy.infer(obs));
        lastInferenceUs = (performance.now() - ti) * 1000;
        inferenceUs.push(lastInferenceUs);
        // Too many late cycles in a row: the observation is stale, hold instead of acting on it.
        if (lateStreak >= budget) {
          budgetHolds++;
          return { fresh: true, desired: null };
        }
        return { fresh: true, desired: raw };
      },
      after: (c) => {
        const cycle: DeployCycle = {
          index: c.index,
          tMs: c.tMs,
          perfMs: c.perfMs,
          state: fresh ? state : null,
          command: c.command,
          raw,
          inferenceUs: raw ? lastInferenceUs : NaN,
          latencyUs: c.latencyUs,
          status: c.status,
          overruns: c.overruns,
          extra,
          task: NO_TASK,
        };
        const task = env?.onCycle?.(cycle) ?? NO_TASK;
        log?.log({ stampNs: DeployLog.stamp(c.perfMs), state: fresh ? state : null, command: c.command, raw, inferenceUs: lastInferenceUs, status: c.status, extra, reward: task.reward, success: task.success });
        episodeEvents(c.perfMs);
        options.onCycle?.(task === NO_TASK ? cycle : { ...cycle, task });
      },
    });
  } finally {
    // The open episode ends with the run, also when a fault ended it.
    env?.end?.();
    episodeEvents(performance.now());
  }
  return { ...result, budgetHolds, inferenceUs: inferenceUs.toArray() };
}
