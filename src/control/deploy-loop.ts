/**
 * The deployment loop: at a fixed rate (absolute deadlines), read the follower (one sync read),
 * build the observation, run the ONNX policy, pass its action through the SafetyFilter, write the
 * follower (one sync write), and hand the cycle to the run log without waiting for the disk.
 *
 * Faults: `overrunBudget` consecutive late cycles → the cycle holds instead of acting on a stale
 * observation; a failed read → hold, then the watchdog cuts torque and the run ends with
 * SafetyStopError; an e-stop (signal) → hold, torque off, SafetyStopError; NaN or out-of-range
 * actions → the filter refuses or clamps them and counts it.
 */
import type { Arm } from '../arm/arm.ts';
import { runControlLoop, type ControlLoopResult, type LoopSettings } from '../arm/control-loop.ts';
import { SampleWindow } from '../arm/sample-window.ts';
import { wallNs, type Recorder, type Topic } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';
import type { OnnxPolicy } from './onnx-policy.ts';

export interface DeployOptions extends LoopSettings {
  readonly follower: Arm;
  readonly policy: OnnxPolicy;
  /** Observation features after the follower's joint positions (e.g. the task's target point). */
  readonly observeExtra?: () => ArrayLike<number>;
  /** Consecutive late cycles after which a cycle holds. Default 3. */
  readonly overrunBudget?: number;
  /** Follower speed limit, rad/s. Default 2. */
  readonly maxSpeed?: number;
  readonly readTimeoutMs?: number;
  /** Run log (same topics as recordings, plus /policy/action and /control/inference_us). */
  readonly recorder?: Recorder;
  readonly onCycle?: (c: { index: number; tMs: number; state: Float64Array | null; command: Float64Array; status: string }) => void;
}

export interface DeployResult extends ControlLoopResult {
  /** Cycles held because too many before them woke late. */
  readonly budgetHolds: number;
  readonly inferenceUs: readonly number[];
}

export async function runDeploy(options: DeployOptions): Promise<DeployResult> {
  const { follower, policy } = options;
  const n = follower.size;
  const readCall = { timeoutMs: options.readTimeoutMs ?? Math.max(5, 2000 / options.rateHz), retries: 0 };
  const state = new Float64Array(n);
  const obs = new Float32Array(policy.obsSize);
  const budget = options.overrunBudget ?? 3;
  const rec = options.recorder;
  const topics: Record<string, Topic> | undefined = rec
    ? {
        follower: await rec.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
        action: await rec.topic('/action', 'sensor_msgs/msg/JointState'),
        raw: await rec.topic('/policy/action', 'sensor_msgs/msg/JointState'),
        inference: await rec.topic('/control/inference_us', 'std_msgs/msg/Float64'),
        safety: await rec.topic('/safety', 'std_msgs/msg/String'),
      }
    : undefined;
  const names = [...follower.names];
  const js = (t: bigint, frame: string, p: ArrayLike<number>) => ({ header: { stamp: rosTime(t), frame_id: frame }, name: names, position: Float64Array.from(p), velocity: [], effort: [] });
  const inferenceUs = new SampleWindow();
  let lateStreak = 0;
  let budgetHolds = 0;
  let fresh = false;
  let raw: Float32Array | undefined;
  let lastInferenceUs = 0;
  let lastStatus = 'ok';
  const result = await runControlLoop({
    follower,
    rateHz: options.rateHz,
    maxStep: (options.maxSpeed ?? 2) / options.rateHz,
    durationS: options.durationS,
    signal: options.signal,
    estop: options.estop,
    control: options.control,
    holdAfterMs: options.holdAfterMs,
    torqueOffAfterMs: options.torqueOffAfterMs,
    sense: async (_index, lateMs, periodMs) => {
      lateStreak = lateMs > periodMs ? lateStreak + 1 : 0;
      raw = undefined;
      try {
        await follower.read(state, readCall);
      } catch (error) {
        fresh = false;
        return { fresh: false, desired: null, error };
      }
      fresh = true;
      for (let i = 0; i < n; i++) obs[i] = state[i]!;
      if (options.observeExtra) obs.set(options.observeExtra(), n);
      const ti = performance.now();
      raw = await policy.infer(obs);
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
      if (rec && topics) {
        const t = wallNs(c.perfMs);
        if (fresh) rec.log(topics.follower!, js(t, 'follower', state), t);
        rec.log(topics.action!, js(t, 'action', c.command), t);
        if (raw) {
          rec.log(topics.raw!, js(t, 'policy', raw), t);
          rec.log(topics.inference!, { data: lastInferenceUs }, t);
        }
        if (c.status !== lastStatus) rec.log(topics.safety!, { data: JSON.stringify({ status: c.status }) }, t);
      }
      lastStatus = c.status;
      options.onCycle?.({ index: c.index, tMs: c.tMs, state: fresh ? state : null, command: c.command, status: c.status });
    },
  });
  return { ...result, budgetHolds, inferenceUs: inferenceUs.toArray() };
}
