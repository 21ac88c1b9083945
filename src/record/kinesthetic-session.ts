/**
 * Kinesthetic teaching: no leader arm. The follower's torque is off (or, on Feetech servos, in
 * their damping mode) while a person moves it by hand; at a fixed rate its states (and the task topics, where there is a task) are recorded into
 * the usual layout, without `/action` and without `/leader/joint_states` (training derives action
 * labels from the states: dataset/action-labels.ts). Episodes, keys and labels are as in
 * teleoperated recording (record-session.ts).
 *
 * Safety: nothing is ever commanded during the recording. How it ends:
 *   - normally (every episode done, `q`, the stop signal): `endKinesthetic` takes hold of the arm
 *     where it is (torque on, goal = present: no jump), then parks it slowly, then torque off at
 *     the rest pose. Never dropped from where the hand left it.
 *   - e-stop (`e`/space, the e-stop signal) or a lost arm (no answer for `faultAfterMs`): hold where
 *     it is, then torque off (as teleop's e-stop), the open episode is closed as cut, SafetyStopError.
 *
 * Ownership: the caller opens and closes the arm and the recorder; this module only reads the arm
 * during the recording and writes the torque registers at its start and its end.
 */
import type { Arm } from '../arm/arm.ts';
import { SafetyStopError } from '../arm/errors.ts';
import { ESTOP_KEY_REASON, estopReasonOf } from '../arm/estop.ts';
import { parkArm, type ParkOptions } from '../arm/park.ts';
import { RateLoop } from '../arm/rate-loop.ts';
import type { EpisodeEvent } from './episodes.ts';
import { ComplianceUnsupportedError } from './errors.ts';
import type { ControlKey, EpisodeHooks, RecordProgress } from './record-session.ts';
import { wallNs, type Recorder, type Topic } from './recorder.ts';
import { rosTime, type JointStateMsg } from './ros-schemas.ts';

/**
 * The follower of a hand-moved arm, read once a cycle at the rate's pace: a failed read is counted;
 * one that leaves the arm silent for `faultAfterMs` ends the session with SafetyStopError
 * (`consequence` says what was done about it). Shared by the main-thread session and the loop worker.
 */
export class FollowerWatch {
  readonly present: Float64Array;
  missedReads = 0;
  readonly #follower: Arm;
  readonly #readCall: { readonly timeoutMs: number; readonly retries: number };
  readonly #faultAfterMs: number;
  readonly #consequence: string;
  #lastFreshMs = 0;

  constructor(follower: Arm, rateHz: number, faultAfterMs: number, consequence = '') {
    this.#follower = follower;
    this.present = new Float64Array(follower.size);
    this.#readCall = { timeoutMs: Math.max(5, 2000 / rateHz), retries: 0 };
    this.#faultAfterMs = faultAfterMs;
    this.#consequence = consequence;
  }

  /** Reads the follower into `present` at `tMs` since the start; false: this cycle's read failed. */
  async read(tMs: number): Promise<boolean> {
    try {
      await this.#follower.read(this.present, this.#readCall);
      this.#lastFreshMs = tMs;
      return true;
    } catch (e) {
      this.missedReads++;
      const silentMs = tMs - this.#lastFreshMs;
      if (silentMs >= this.#faultAfterMs) throw new SafetyStopError(`lost the arm state: no answer from the follower for ${Math.round(silentMs)} ms (${(e as Error).message})${this.#consequence}`, { cause: e });
      return false;
    }
  }
}

export interface KinestheticSessionOptions {
  readonly follower: Arm;
  readonly recorder: Recorder;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
  /**
   * How the arm yields to the hand: 'torque-off' (default: every servo limp), or 'damping' (Feetech
   * STS Torque_Enable = 2: the output only resists motion, so an arm let go mid-demonstration sinks
   * slowly instead of falling; moving it by hand is heavier). Dynamixel: torque-off only.
   */
  readonly compliance?: Compliance;
  readonly hooks?: EpisodeHooks;
  /** Polled once per cycle for a key press. */
  readonly keys?: () => ControlKey | undefined;
  /** Ends the recording normally (the caller then holds and parks: `endKinesthetic`). */
  readonly stop?: AbortSignal;
  /** Emergency stop: hold, torque off, the open episode is closed as cut, SafetyStopError. */
  readonly signal?: AbortSignal;
  /** A recording with no fresh state for this long is a fault (SafetyStopError). Default 250 ms. */
  readonly faultAfterMs?: number;
  readonly onProgress?: (p: RecordProgress) => void;
  /** Called every cycle after the state was logged (tests and live displays). */
  readonly onCycle?: (c: { readonly index: number; readonly tMs: number; readonly follower: Float64Array | null }) => void;
}

export interface KinestheticSessionResult {
  readonly kept: number;
  readonly discarded: number;
  readonly cycles: number;
  readonly recordedCycles: number;
  readonly achievedHz: number;
  readonly overruns: number;
  /** Cycles whose follower read failed (no sample recorded). */
  readonly missedReads: number;
  readonly stoppedBy: 'done' | 'key' | 'signal' | 'error';
}

/** A follower silent this long ends a kinesthetic session (hold, then torque off), ms. */
export const FAULT_AFTER_MS = 250;

export type Compliance = 'torque-off' | 'damping';

/** Makes the arm movable by hand: torque off, or the Feetech damping mode; acknowledged by every servo. */
export async function yieldToHand(follower: Arm, compliance: Compliance = 'torque-off'): Promise<void> {
  if (compliance === 'damping') {
    if (follower.profile.vendor !== 'feetech') throw new ComplianceUnsupportedError(compliance, follower.profile.vendor);
    for (const id of follower.ids) await follower.bus.write(id, 'Torque_Enable', 2);
  } else {
    await follower.setTorque(false);
  }
}

export async function recordKinesthetic(options: KinestheticSessionOptions): Promise<KinestheticSessionResult> {
  const { recorder, follower, hooks } = options;
  // Torque off (or damping) on every servo, acknowledged (each write waits for the servo's status):
  // the hand must be able to move the arm. A servo that does not confirm fails the start.
  await yieldToHand(follower, options.compliance);
  const topics = {
    follower: await recorder.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
    episode: await recorder.topic('/episode', 'std_msgs/msg/String'),
    target: hooks?.task ? await recorder.topic('/target_pose', 'geometry_msgs/msg/PoseStamped') : undefined,
    reward: hooks?.task ? await recorder.topic('/reward', 'std_msgs/msg/Float64') : undefined,
    success: hooks?.task ? await recorder.topic('/task/success', 'std_msgs/msg/Bool') : undefined,
  };
  const poseTopics = new Map<string, Topic>();
  for (const name of hooks?.poseTopics ?? []) poseTopics.set(name, await recorder.topic(name, 'geometry_msgs/msg/PoseStamped'));
  const pose = (t: bigint, p: ArrayLike<number>) => ({ header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: p[0]!, y: p[1]!, z: p[2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });
  const names = [...follower.names];
  const joint = (t: bigint, position: Float64Array): JointStateMsg => ({ header: { stamp: rosTime(t), frame_id: 'follower' }, name: names, position: Float64Array.from(position), velocity: [], effort: [] });
  const event = (t: bigint, e: EpisodeEvent) => recorder.log(topics.episode, { data: JSON.stringify(e) }, t);
  const watch = new FollowerWatch(follower, options.rateHz, options.faultAfterMs ?? FAULT_AFTER_MS);
  const present = watch.present;
  const loop = new RateLoop(options.rateHz);
  const labelsDone = new AbortController();
  const labels: Promise<void>[] = [];

  let phase = 'idle' as 'episode' | 'reset' | 'idle';
  let phaseStart = 0;
  let index = -1;
  let kept = 0;
  let discarded = 0;
  let recordedCycles = 0;
  let rewardSum = 0;
  let rewardN = 0;
  let lastSuccess: boolean | undefined;
  let lastDiscardable = false;
  let lastProgress = -Infinity;
  let cyclesSinceProgress = 0;
  let stoppedBy: KinestheticSessionResult['stoppedBy'] | undefined;
  let estop: string | undefined;
  let cycles = 0;
  const t0 = performance.now();

  const startEpisode = (tMs: number, t: bigint) => {
    index++;
    phase = 'episode';
    phaseStart = tMs;
    rewardSum = 0;
    rewardN = 0;
    lastSuccess = undefined;
    lastDiscardable = false;
    const info = hooks?.start?.(index) ?? {};
    event(t, { event: 'start', episode: index, operator: info.operator, detail: { ...info.detail, demonstration: 'kinesthetic' } });
  };
  const endEpisode = (t: bigint, reason: 'time' | 'next' | 'stop') => {
    const ep = index;
    const sum = rewardN ? rewardSum : undefined;
    event(t, { event: 'end', episode: ep, success: lastSuccess, reward_sum: sum, reason });
    kept++;
    lastDiscardable = true;
    if (hooks?.label) {
      const success = lastSuccess;
      labels.push(
        hooks.label({ index: ep, success, rewardSum: sum }, labelsDone.signal).then((l) => {
          if (l) event(wallNs(performance.now()), { event: 'label', episode: ep, outcome: l.outcome, score: l.score });
        }),
      );
    }
  };
  const toReset = (tMs: number) => {
    phase = 'reset';
    phaseStart = tMs;
    hooks?.reset?.();
  };

  try {
    while (stoppedBy === undefined) {
      await loop.next();
      const perfMs = performance.now();
      const tMs = perfMs - t0;
      const t = wallNs(perfMs);
      cycles++;
      if (options.signal?.aborted) {
        estop = estopReasonOf(options.signal);
        break;
      }
      if (recorder.writeError) {
        stoppedBy = 'error';
        break;
      }
      const fresh = await watch.read(tMs);
      if (phase === 'idle') startEpisode(tMs, t);
      const key = options.keys?.();
      if (key === 'estop') {
        estop = ESTOP_KEY_REASON;
        break;
      }
      const stopNow = key === 'stop' || !!options.stop?.aborted;
      if (phase === 'episode') {
        if (fresh) recorder.log(topics.follower, joint(t, present), t);
        const task = hooks?.task?.();
        if (task && topics.target && topics.reward && topics.success) {
          const p = task.targetPosition;
          if (p) recorder.log(topics.target, pose(t, p), t);
          for (const q of task.poses ?? []) {
            const topic = poseTopics.get(q.topic);
            if (topic) recorder.log(topic, pose(t, q.position), t);
          }
          if (task.reward !== undefined) {
            recorder.log(topics.reward, { data: task.reward }, t);
            rewardSum += task.reward;
            rewardN++;
          }
          if (task.success !== undefined) {
            recorder.log(topics.success, { data: task.success }, t);
            lastSuccess = task.success;
          }
        }
        if (fresh) recordedCycles++;
        const timeUp = tMs - phaseStart >= options.episodeS * 1000;
        if (key === 'rerecord') {
          event(t, { event: 'discard', episode: index });
          discarded++;
          toReset(tMs);
        } else if (timeUp || key === 'next' || stopNow) {
          endEpisode(t, stopNow ? 'stop' : key === 'next' ? 'next' : 'time');
          if (stopNow) stoppedBy = key === 'stop' ? 'key' : 'signal';
          else if (kept >= options.episodes) stoppedBy = 'done';
          else toReset(tMs);
        }
      } else if (phase === 'reset') {
        if (key === 'rerecord' && lastDiscardable) {
          event(t, { event: 'discard', episode: index });
          kept--;
          discarded++;
          lastDiscardable = false;
        }
        if (stopNow) stoppedBy = key === 'stop' ? 'key' : 'signal';
        else if (tMs - phaseStart >= options.resetS * 1000 || key === 'next') startEpisode(tMs, t);
      }
      options.onCycle?.({ index: cycles - 1, tMs, follower: fresh ? present : null });
      cyclesSinceProgress++;
      if (options.onProgress && tMs - lastProgress >= 250) {
        const left = (phase === 'episode' ? options.episodeS : options.resetS) - (tMs - phaseStart) / 1000;
        options.onProgress({
          episode: index,
          kept,
          phase: phase === 'reset' ? 'reset' : 'episode',
          phaseLeftS: Math.max(0, left),
          achievedHz: lastProgress === -Infinity ? options.rateHz : (cyclesSinceProgress * 1000) / (tMs - lastProgress),
          droppedSamples: recorder.stats.dropped,
          overruns: loop.stats.overruns,
        });
        lastProgress = tMs;
        cyclesSinceProgress = 0;
      }
    }
    if (estop) throw new SafetyStopError(`e-stop: ${estop}`);
  } catch (e) {
    // E-stop or lost arm: hold where it is (if it still answers), then torque off, as teleop does.
    if (phase === 'episode') event(wallNs(performance.now()), { event: 'end', episode: index, success: lastSuccess, reason: 'stop' });
    labelsDone.abort();
    await follower.enableTorqueHolding().catch(() => undefined);
    await follower.torqueOffAll();
    throw e;
  }
  labelsDone.abort();
  await Promise.all(labels);
  if (stoppedBy === 'error' && recorder.writeError) throw recorder.writeError;
  const seconds = (performance.now() - t0) / 1000;
  return { kept, discarded, cycles, recordedCycles, achievedHz: cycles / Math.max(1e-9, seconds), overruns: loop.stats.overruns, missedReads: watch.missedReads, stoppedBy: stoppedBy ?? 'done' };
}

/**
 * The safe end of a kinesthetic recording: take hold of the arm where the hand left it (torque on,
 * goal = present position, no jump), let `release` run (the person, or the simulator's hand, lets
 * go; `letGoMs` gives a person time to), then park slowly and turn torque off at the rest pose.
 */
export async function endKinesthetic(follower: Arm, release: () => void = () => undefined, park: ParkOptions & { readonly letGoMs?: number } = {}): Promise<{ held: boolean; reached: boolean; seconds: number }> {
  let held = false;
  try {
    await follower.enableTorqueHolding();
    held = true;
  } finally {
    release();
  }
  // A person needs a moment to take their hands off before the arm moves.
  if (park.letGoMs) await new Promise((r) => setTimeout(r, park.letGoMs));
  const r = await parkArm(follower, park);
  return { held, ...r };
}
