/**
 * Replaying a recorded episode on an arm: the recorded actions (the commands that were sent, after
 * safety) go through a SafetyFilter again, with the original timing scaled by `speed`, after a slow
 * move to the episode's start pose. A recording made with another arm profile or calibration is
 * refused unless forced: the same numbers would mean different poses.
 *
 * Each cycle reads the arm before writing (as the recording loop did), so the reproduced follower
 * trajectory can be compared with the recorded one, sample by sample at the same time offset: the
 * tracking error says how faithfully the replay reproduced the demonstration.
 */
import type { Arm } from '../arm/arm.ts';
import type { Calibration } from '../arm/calibration.ts';
import { ESTOP_KEY_REASON } from '../arm/estop.ts';
import { parkArm } from '../arm/park.ts';
import { eventLoopSleeper, type Sleeper } from '../arm/rate-loop.ts';
import { SafetyFilter, safetyStopFor, type SafetySummary } from '../arm/safety-filter.ts';
import { ArmbridgeError } from '../errors.ts';
import { episodesOf } from '../record/episodes.ts';
import { decodeMessage, readRecording, type RecordedMessage } from '../record/read.ts';
import { ReplayMissingTopicError } from './errors.ts';

export class ReplayMismatchError extends ArmbridgeError {
  constructor(readonly file: string, detail: string) {
    super('REPLAY_MISMATCH', `${file} was not recorded with this arm: ${detail}; pass --force to replay anyway`);
  }
}

export class EpisodeNotFoundError extends ArmbridgeError {
  constructor(readonly file: string, readonly episode: number, available: readonly number[]) {
    super('EPISODE_NOT_FOUND', `${file} has no episode ${episode} with actions (episodes: ${available.join(', ') || 'none'})`);
  }
}

export interface ReplayToArmOptions {
  readonly file: string;
  readonly episode: number;
  readonly arm: Arm;
  readonly calibration: Calibration;
  /** Time scale: 0.5 plays at half speed. Default 1. */
  readonly speed?: number;
  readonly force?: boolean;
  /** Speed limit of the replayed commands, rad/s. Default 2. */
  readonly maxSpeed?: number;
  readonly signal?: AbortSignal;
  /** Polled before each command: 'stop' ends the replay there, 'estop' holds, cuts torque and throws SafetyStopError. */
  readonly control?: () => 'stop' | 'estop' | undefined;
  /** Why `control` said 'estop' (default: the e-stop key). */
  readonly estopReason?: () => string;
  /** How to wait for each command's time (default: the event-loop sleeper; the loop worker passes its tuned blocking one). */
  readonly sleeper?: Sleeper;
}

/** Reproduced vs recorded follower positions (rad; gripper 0…1), over the cycles that read both. */
export interface TrackingError {
  readonly samples: number;
  /** Mean |reproduced − recorded| over samples and revolute joints, rad. */
  readonly meanAbsRad: number;
  /** 95th percentile over cycles of the cycle's mean |error| over revolute joints, rad. */
  readonly p95AbsRad: number;
  /** Largest |error| of any revolute joint in any cycle, rad. */
  readonly maxAbsRad: number;
  readonly perJoint: readonly { readonly joint: string; readonly meanAbs: number; readonly maxAbs: number }[];
}

export interface ReplayToArmResult {
  readonly sent: number;
  readonly seconds: number;
  readonly safety: SafetySummary;
  /** Undefined when the recording has no follower states in the episode. */
  readonly tracking: TrackingError | undefined;
  /**
   * The episode as replayed, for plots: per tracked cycle its time (s from the episode's first
   * action, recording time) and the recorded and reproduced follower positions, [joint][sample].
   */
  readonly trajectory: { readonly timeS: readonly number[]; readonly recorded: readonly (readonly number[])[]; readonly reproduced: readonly (readonly number[])[] };
  /** Reads that failed during the replay (each skips one tracking sample). */
  readonly failedReads: number;
}

export async function replayToArm(o: ReplayToArmOptions): Promise<ReplayToArmResult> {
  const rec = await readRecording(o.file);
  const meta = rec.metadata.get('armbridge');
  if (!o.force) {
    if (meta?.get('arm') && meta.get('arm') !== o.arm.profile.kind) throw new ReplayMismatchError(o.file, `it is from a ${meta.get('arm')} arm, this is a ${o.arm.profile.kind}`);
    const cal = meta?.get('follower_calibration');
    if (cal && JSON.stringify((JSON.parse(cal) as Calibration).joints) !== JSON.stringify(o.calibration.joints)) {
      throw new ReplayMismatchError(o.file, 'its follower calibration differs from the one this arm was opened with');
    }
  }
  const present = [...new Set(rec.messages.map((m) => m.topic))];
  if (!present.includes('/action')) throw new ReplayMissingTopicError(o.file, ['/action'], 'arm', present);
  const episodes = episodesOf(rec);
  const ep = episodes.find((e) => e.index === o.episode && !e.discarded);
  const end = ep?.endNs ?? BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
  const within = (m: RecordedMessage) => ep !== undefined && m.logTimeNs >= ep.startNs && m.logTimeNs <= end;
  const actions = rec.messages.filter((m) => m.topic === '/action' && within(m));
  if (!ep || actions.length === 0) throw new EpisodeNotFoundError(o.file, o.episode, episodes.filter((e) => !e.discarded).map((e) => e.index));
  const positions = actions.map((m) => Float64Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, m).position));
  // The recorded follower state of each cycle (logged at the same time as that cycle's action).
  const followerAt = new Map<bigint, Float64Array>();
  for (const m of rec.messages) if (m.topic === '/follower/joint_states' && within(m)) followerAt.set(m.logTimeNs, Float64Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, m).position));
  // Slowly to where the episode started, torque kept on.
  await parkArm(o.arm, { pose: Array.from(positions[0]!), speed: 0.5, keepTorque: true, timeoutS: 15, stop: o.control ? () => o.control!() !== undefined : undefined });
  const speed = o.speed ?? 1;
  // Step limit per command from the speed limit and the recording's intervals (scaled): the 95th
  // percentile, capped at 3 typical intervals, so a cycle dropped while recording (its action
  // moved two cycles' worth) replays unclipped while a long pause does not open the limit.
  const gaps = actions.slice(1).map((m, k) => Number(m.logTimeNs - actions[k]!.logTimeNs) / 1e9).sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)] ?? 0.01;
  const dt = Math.min(3 * median, gaps[Math.min(gaps.length - 1, Math.floor(0.95 * gaps.length))] ?? median) / speed;
  const filter = new SafetyFilter({ names: o.arm.names, lower: o.arm.lower, upper: o.arm.upper, maxStep: (o.maxSpeed ?? 2) * dt, holdAfterMs: 1e9, torqueOffAfterMs: 2e9 });
  filter.reset(await o.arm.read());
  const n = o.arm.size;
  const revolute = o.arm.joints.map((j) => j.kind === 'revolute');
  const sum = new Float64Array(n);
  const max = new Float64Array(n);
  const errors: number[] = [];
  let samples = 0;
  let failedReads = 0;
  const measured = new Float64Array(n);
  const trajectory = { timeS: [] as number[], recorded: o.arm.names.map(() => [] as number[]), reproduced: o.arm.names.map(() => [] as number[]) };
  // A slow read delays only this cycle's write: the schedule is absolute, later cycles do not wait.
  const readCall = { timeoutMs: Math.max(50, (1.5 * median * 1000) / speed), retries: 0 };
  const t0 = performance.now();
  const first = actions[0]!.logTimeNs;
  const sleep = o.sleeper ?? eventLoopSleeper;
  const now = () => performance.now();
  for (let k = 0; k < actions.length; k++) {
    if (o.signal?.aborted) break;
    await sleep(t0 + Number(actions[k]!.logTimeNs - first) / 1e6 / speed, now);
    const key = o.control?.();
    if (key === 'stop') break;
    if (key === 'estop') {
      // Hold (nothing more is written), then torque off everywhere.
      filter.estop(o.estopReason?.() ?? ESTOP_KEY_REASON);
      await o.arm.torqueOffAll();
      throw safetyStopFor(filter, undefined);
    }
    const recorded = followerAt.get(actions[k]!.logTimeNs);
    if (recorded) {
      try {
        await o.arm.read(measured, readCall);
        let cycleSum = 0;
        let cycleN = 0;
        for (let i = 0; i < n; i++) {
          const e = Math.abs(measured[i]! - recorded[i]!);
          sum[i] = sum[i]! + e;
          max[i] = Math.max(max[i]!, e);
          if (revolute[i]) {
            cycleSum += e;
            cycleN++;
          }
        }
        errors.push(cycleSum / Math.max(1, cycleN));
        samples++;
        trajectory.timeS.push(Number(actions[k]!.logTimeNs - first) / 1e9);
        for (let i = 0; i < n; i++) {
          trajectory.recorded[i]!.push(recorded[i]!);
          trajectory.reproduced[i]!.push(measured[i]!);
        }
      } catch {
        failedReads++;
      }
    }
    filter.markFresh();
    await o.arm.write(filter.filter(positions[k]!).command);
  }
  const seconds = (performance.now() - t0) / 1000;
  let tracking: TrackingError | undefined;
  if (samples > 0) {
    const perJoint = o.arm.names.map((joint, i) => ({ joint, meanAbs: sum[i]! / samples, maxAbs: max[i]! }));
    const rev = perJoint.filter((_j, i) => revolute[i]);
    const sorted = [...errors].sort((a, b) => a - b);
    tracking = {
      samples,
      meanAbsRad: rev.reduce((a, j) => a + j.meanAbs, 0) / Math.max(1, rev.length),
      p95AbsRad: sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!,
      maxAbsRad: Math.max(...rev.map((j) => j.maxAbs)),
      perJoint,
    };
  }
  return { sent: actions.length, seconds, safety: filter.summary(), tracking, failedReads, trajectory };
}
