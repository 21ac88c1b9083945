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
import { RateLoop } from '../arm/rate-loop.ts';
import { SafetyFilter, safetyStopFor, type SafetySummary } from '../arm/safety-filter.ts';
import { SampleWindow } from '../arm/sample-window.ts';
import { wallNs, type Recorder, type Topic } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';
import type { OnnxPolicy } from './onnx-policy.ts';

export interface DeployOptions {
  readonly follower: Arm;
  readonly policy: OnnxPolicy;
  readonly rateHz: number;
  readonly durationS?: number;
  /** Ends the run normally. */
  readonly signal?: AbortSignal;
  /** Emergency stop: hold, torque off, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Observation features after the follower's joint positions (e.g. the task's target point). */
  readonly observeExtra?: () => ArrayLike<number>;
  /** Consecutive late cycles after which a cycle holds. Default 3. */
  readonly overrunBudget?: number;
  /** Follower speed limit, rad/s. Default 2. */
  readonly maxSpeed?: number;
  readonly readTimeoutMs?: number;
  readonly holdAfterMs?: number;
  readonly torqueOffAfterMs?: number;
  /** Run log (same topics as recordings, plus /policy/action and /control/inference_us). */
  readonly recorder?: Recorder;
  readonly onCycle?: (c: { index: number; tMs: number; state: Float64Array | null; command: Float64Array; status: string }) => void;
}

export interface DeployResult {
  readonly cycles: number;
  readonly seconds: number;
  readonly achievedHz: number;
  readonly overruns: number;
  readonly budgetHolds: number;
  readonly latenessUs: readonly number[];
  readonly inferenceUs: readonly number[];
  /** Read start → write handed to the port, µs. */
  readonly cycleUs: readonly number[];
  readonly safety: SafetySummary;
  readonly stop: 'duration' | 'signal';
}

export async function runDeploy(options: DeployOptions): Promise<DeployResult> {
  const { follower, policy } = options;
  const n = follower.size;
  const filter = new SafetyFilter({
    names: follower.names,
    lower: follower.lower,
    upper: follower.upper,
    maxStep: (options.maxSpeed ?? 2) / options.rateHz,
    holdAfterMs: options.holdAfterMs ?? 50,
    torqueOffAfterMs: options.torqueOffAfterMs ?? 250,
  });
  const readCall = { timeoutMs: options.readTimeoutMs ?? Math.max(5, 2000 / options.rateHz), retries: 0 };
  filter.reset(await follower.enableTorqueHolding());
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
  const loop = new RateLoop(options.rateHz);
  const inferenceUs = new SampleWindow();
  const cycleUs = new SampleWindow();
  let lateStreak = 0;
  let budgetHolds = 0;
  let lastError: unknown;
  let lastStatus = 'ok';
  let lastInferenceUs = 0;
  const t0 = performance.now();
  const endMs = options.durationS === undefined ? Infinity : t0 + options.durationS * 1000;
  let stop: DeployResult['stop'] = 'duration';
  const onEstop = () => filter.estop('interrupted (Ctrl-C / SIGTERM)');
  if (options.estop?.aborted) onEstop();
  options.estop?.addEventListener('abort', onEstop, { once: true });
  try {
    for (let index = 0; ; index++) {
      const late = await loop.next();
      const start = performance.now();
      if (start >= endMs) break;
      if (options.signal?.aborted) {
        stop = 'signal';
        break;
      }
      lateStreak = late > loop.periodMs ? lateStreak + 1 : 0;
      let desired: ArrayLike<number> | null = null;
      let raw: Float32Array | undefined;
      const fresh = await follower.read(state, readCall).then(
        () => true,
        (e: unknown) => ((lastError = e), false),
      );
      if (fresh) {
        filter.markFresh();
        for (let i = 0; i < n; i++) obs[i] = state[i]!;
        if (options.observeExtra) obs.set(options.observeExtra(), n);
        const ti = performance.now();
        raw = await policy.infer(obs);
        lastInferenceUs = (performance.now() - ti) * 1000;
        inferenceUs.push(lastInferenceUs);
        desired = lateStreak >= budget ? null : raw;
        if (lateStreak >= budget) budgetHolds++;
      }
      const { status, command } = filter.filter(desired);
      if (status === 'fault') throw safetyStopFor(filter, lastError);
      await follower.write(command).catch((e: unknown) => (lastError = e));
      cycleUs.push((performance.now() - start) * 1000);
      if (rec && topics) {
        const t = wallNs(start);
        if (fresh) rec.log(topics.follower!, js(t, 'follower', state), t);
        rec.log(topics.action!, js(t, 'action', command), t);
        if (raw) {
          rec.log(topics.raw!, js(t, 'policy', raw), t);
          rec.log(topics.inference!, { data: lastInferenceUs }, t);
        }
        if (status !== lastStatus) rec.log(topics.safety!, { data: JSON.stringify({ status, summary: filter.summary() }) }, t);
      }
      lastStatus = status;
      options.onCycle?.({ index, tMs: start - t0, state: fresh ? state : null, command, status });
    }
  } catch (e) {
    await follower.torqueOffAll();
    throw e;
  } finally {
    options.estop?.removeEventListener('abort', onEstop);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    cycles: loop.stats.cycles - 1,
    seconds,
    achievedHz: (loop.stats.cycles - 1) / seconds,
    overruns: loop.stats.overruns,
    budgetHolds,
    latenessUs: loop.stats.latenessUs.toArray(),
    inferenceUs: inferenceUs.toArray(),
    cycleUs: cycleUs.toArray(),
    safety: filter.summary(),
    stop,
  };
}
