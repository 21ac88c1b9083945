/**
 * `armbridge ros deploy`: the control loop with ROS topics as the arm. At a fixed rate (absolute
 * deadlines) the latest sensor_msgs/msg/JointState of the arm and the poses the model observes
 * (target, object, goal: each the latest geometry_msgs/msg/PoseStamped of its topic, or a fixed
 * value; see deploy-poses.ts) form the observation in the model's order, the ONNX policy acts, the
 * SafetyFilter (the arm's calibrated limits, a speed limit, finite values, the watchdog on state
 * age) filters, and the command goes out as a std_msgs/msg/Float64MultiArray on the arm's
 * forward-command topic. Until every pose topic has delivered, the node holds (repeats the arm's
 * current position) and counts the cycle in `waitingForPoses`.
 *
 * Faults: no state for `holdAfterMs` → the last command is repeated; for `torqueOffAfterMs`, an
 * e-stop (signal) or a policy that cannot run → the node stops commanding and ends with
 * SafetyStopError. Over ROS there is no standard torque-off: the arm's controller holds the last
 * command it received (pair it with `ros bridge`, whose /armbridge/estop cuts torque).
 */
import { estopReasonOf } from '../arm/estop.ts';
import { RateLoop } from '../arm/rate-loop.ts';
import { SafetyFilter, safetyStopFor, type SafetySummary } from '../arm/safety-filter.ts';
import { SampleWindow } from '../arm/sample-window.ts';
import { resolveControlRate, type ControlRate } from '../control/control-rate.ts';
import type { OnnxPolicy } from '../control/onnx-policy.ts';
import { ArmbridgeError } from '../errors.ts';
import { planObservation, type ObservationPlan, type PoseName, type PoseSources } from './deploy-poses.ts';
import type { RosGraph } from './graph.ts';
import { float64MultiArrayMessage, positionFromPoseStamped, positionsFromJointState, QOS, TOPICS, TYPES } from './mapping.ts';

export class RosStateTimeoutError extends ArmbridgeError {
  constructor(readonly topic: string, readonly waitedMs: number) {
    super('ROS_STATE_TIMEOUT', `no sensor_msgs/msg/JointState with the model's joints on ${topic} within ${waitedMs} ms: is the arm's driver (or armbridge ros bridge) running, and are its joint names the model's?`);
  }
}

export interface RosDeployOptions {
  readonly graph: RosGraph;
  readonly policy: OnnxPolicy;
  readonly jointNames: readonly string[];
  /** Calibrated limits, joint order. */
  readonly lower: ArrayLike<number>;
  readonly upper: ArrayLike<number>;
  /** Control rate, Hz. Default: the model's own (its `armbridge.rate_hz` metadata), else 200. */
  readonly rateHz?: number;
  /** Run at `rateHz` even when the model cannot follow it (see control/control-rate.ts). */
  readonly force?: boolean;
  /** Told the rate decision's note (another rate than the model's, forced, or the fallback). */
  readonly onNote?: (line: string) => void;
  readonly durationS?: number;
  readonly signal?: AbortSignal;
  readonly estop?: AbortSignal;
  /** rad/s. Default 2. */
  readonly maxSpeed?: number;
  readonly stateTopic?: string;
  readonly commandTopic?: string;
  /**
   * Where each pose the model observes comes from: a PoseStamped topic or a fixed value. A pose the
   * model observes without one takes its default topic (object: /object_pose, goal: /goal_pose);
   * the target has none. Refused before subscribing (deploy-poses.ts): a pose the model observes
   * without a source, a source for a pose it does not observe.
   */
  readonly poses?: PoseSources;
  readonly stateTimeoutMs?: number;
  readonly holdAfterMs?: number;
  readonly torqueOffAfterMs?: number;
}

export interface RosDeployResult {
  readonly cycles: number;
  readonly seconds: number;
  readonly achievedHz: number;
  readonly overruns: number;
  readonly published: number;
  /** Cycles held because a pose topic had not delivered yet. */
  readonly waitingForPoses: number;
  /** Where each part of the observation came from, in the model's order. */
  readonly observation: ObservationPlan;
  readonly inferenceUs: readonly number[];
  readonly safety: SafetySummary;
  readonly refused: number;
  /** The rate the loop ran at, and where it came from. */
  readonly rate: ControlRate;
}

export async function runRosDeploy(o: RosDeployOptions): Promise<RosDeployResult> {
  const n = o.jointNames.length;
  // Decided before subscribing: a model observing what this node cannot provide is refused here.
  const plan = planObservation(o.policy.path, o.policy.metadata.observation, n, o.poses);
  // Decided before subscribing: a rate the model cannot follow is refused before anything moves.
  const rate = resolveControlRate(o.policy.path, o.policy.metadata, o.rateHz, o.force);
  if (rate.note) o.onNote?.(rate.note);
  const rateHz = rate.rateHz;
  const stateTopic = o.stateTopic ?? TOPICS.jointStates;
  const filter = new SafetyFilter({ names: o.jointNames, lower: o.lower, upper: o.upper, maxStep: (o.maxSpeed ?? 2) / rateHz, holdAfterMs: o.holdAfterMs ?? 100, torqueOffAfterMs: o.torqueOffAfterMs ?? 500 });
  const state = new Float64Array(n);
  let haveState = false;
  let refused = 0;
  o.graph.subscribe(stateTopic, TYPES.jointState, QOS.state, (msg) => {
    try {
      state.set(positionsFromJointState(msg, stateTopic, o.jointNames).positions);
      haveState = true;
      filter.markFresh();
    } catch {
      refused++;
    }
  });
  // The observation vector in the model's order: fixed poses written once, topic poses as they arrive.
  const obs = new Float32Array(o.policy.obsSize);
  const jointsAt = plan.parts.find((p) => p.kind === 'joints')!.offset;
  const pending = new Set<string>();
  for (const part of plan.parts) {
    if (part.kind !== 'pose') continue;
    const { source, offset, pose } = part;
    if ('value' in source) {
      obs.set(source.value, offset);
      continue;
    }
    pending.add(pose);
    o.graph.subscribe(source.topic, TYPES.poseStamped, QOS.command, (msg) => {
      try {
        obs.set(positionFromPoseStamped(msg, source.topic), offset);
        pending.delete(pose);
      } catch {
        refused++;
      }
    });
  }
  const pub = o.graph.publisher(o.commandTopic ?? TOPICS.forwardCommands, TYPES.float64MultiArray, QOS.command);
  const waitMs = o.stateTimeoutMs ?? 5000;
  const t0 = performance.now();
  while (!haveState) {
    if (o.signal?.aborted || o.estop?.aborted) break;
    if (performance.now() - t0 > waitMs) throw new RosStateTimeoutError(stateTopic, waitMs);
    await new Promise((r) => setTimeout(r, 5));
  }
  filter.reset(state);
  const loop = new RateLoop(rateHz);
  const inferenceUs = new SampleWindow();
  let published = 0;
  let waitingForPoses = 0;
  const start = performance.now();
  const onEstop = () => filter.estop(estopReasonOf(o.estop!));
  if (o.estop?.aborted) onEstop();
  o.estop?.addEventListener('abort', onEstop, { once: true });
  let lastError: unknown;
  try {
    while (!o.signal?.aborted && (o.durationS === undefined || performance.now() - start < o.durationS * 1000)) {
      await loop.next();
      let desired: ArrayLike<number> | null = null;
      if (pending.size > 0) waitingForPoses++;
      else {
        obs.set(state, jointsAt);
        const ti = performance.now();
        try {
          desired = await o.policy.infer(obs);
        } catch (e) {
          lastError = e;
          filter.estop(`the policy failed: ${(e as Error).message}`);
        }
        inferenceUs.push((performance.now() - ti) * 1000);
      }
      const { status, command } = filter.filter(desired);
      if (status === 'fault') throw safetyStopFor(filter, lastError);
      pub.publish(float64MultiArrayMessage(command));
      published++;
    }
  } finally {
    o.estop?.removeEventListener('abort', onEstop);
  }
  const seconds = (performance.now() - start) / 1000;
  const cycles = loop.stats.cycles;
  return { cycles, seconds, achievedHz: cycles / seconds, overruns: loop.stats.overruns, published, waitingForPoses, observation: plan, inferenceUs: inferenceUs.toArray(), safety: filter.summary(), refused, rate };
}
