/**
 * Recording demonstrations: the teleop loop, with episodes. Each episode records the leader and
 * follower states, the action actually sent (after the SafetyFilter) and the task topics at the
 * measured time of each cycle; between episodes a reset period records nothing. Keys end an episode
 * early, re-record (discard) it, or stop; a label (success / failure / score) follows each episode.
 * The recorder's queue keeps disk I/O off the loop.
 */
import type { Arm } from '../arm/arm.ts';
import type { SafetySummary } from '../arm/safety-filter.ts';
import { runTeleop, type TeleopCycle } from '../arm/teleop.ts';
import type { EpisodeEvent } from './episodes.ts';
import { wallNs, type Recorder, type Topic } from './recorder.ts';
import { rosTime, type JointStateMsg } from './ros-schemas.ts';

export type ControlKey = 'next' | 'rerecord' | 'stop' | 'estop';

export interface TaskSample {
  readonly targetPosition?: readonly [number, number, number];
  /** Other poses the task publishes, each on its topic (declared in `EpisodeHooks.poseTopics`). */
  readonly poses?: readonly { readonly topic: string; readonly position: readonly [number, number, number] }[];
  readonly reward?: number;
  readonly success?: boolean;
}

export interface EpisodeLabel {
  readonly outcome: 'success' | 'failure' | 'score';
  readonly score?: number;
}

export interface EpisodeHooks {
  /** An episode starts (the simulator picks a target and an operator skill). */
  start?(index: number): { operator?: string; detail?: Record<string, unknown> } | void;
  /** The reset period starts (the simulator's operator brings the leader back). */
  reset?(): void;
  /** Task topics, sampled every recorded cycle. */
  task?(): TaskSample;
  /** Topics of `TaskSample.poses` (geometry_msgs/msg/PoseStamped), e.g. /object_pose and /goal_pose. */
  readonly poseTopics?: readonly string[];
  /**
   * The episode's label, asked after it ends; undefined leaves it unlabelled. `done` aborts when
   * the session ends: a label still pending then must resolve (to undefined) at once.
   */
  label?(episode: { index: number; success?: boolean; rewardSum?: number }, done: AbortSignal): Promise<EpisodeLabel | undefined>;
}

export interface RecordProgress {
  readonly episode: number;
  readonly kept: number;
  readonly phase: 'episode' | 'reset';
  readonly phaseLeftS: number;
  readonly achievedHz: number;
  readonly droppedSamples: number;
  readonly overruns: number;
}

export interface RecordSessionOptions {
  readonly leader: Arm;
  readonly follower: Arm;
  readonly recorder: Recorder;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
  readonly hooks?: EpisodeHooks;
  /** Polled once per cycle for a key press. */
  readonly keys?: () => ControlKey | undefined;
  /** Emergency stop (SIGINT): hold, torque off, the open episode is closed as cut, SafetyStopError. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RecordProgress) => void;
}

export interface RecordSessionResult {
  readonly kept: number;
  readonly discarded: number;
  readonly cycles: number;
  readonly recordedCycles: number;
  readonly achievedHz: number;
  readonly overruns: number;
  readonly latenessUs: readonly number[];
  readonly safety: SafetySummary;
  readonly stoppedBy: 'done' | 'key' | 'error';
}

export async function recordSession(options: RecordSessionOptions): Promise<RecordSessionResult> {
  const { recorder, follower, leader, hooks } = options;
  const topics = {
    leader: await recorder.topic('/leader/joint_states', 'sensor_msgs/msg/JointState'),
    follower: await recorder.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
    action: await recorder.topic('/action', 'sensor_msgs/msg/JointState'),
    episode: await recorder.topic('/episode', 'std_msgs/msg/String'),
    target: hooks?.task ? await recorder.topic('/target_pose', 'geometry_msgs/msg/PoseStamped') : undefined,
    reward: hooks?.task ? await recorder.topic('/reward', 'std_msgs/msg/Float64') : undefined,
    success: hooks?.task ? await recorder.topic('/task/success', 'std_msgs/msg/Bool') : undefined,
  };
  const poseTopics = new Map<string, Topic>();
  for (const name of hooks?.poseTopics ?? []) poseTopics.set(name, await recorder.topic(name, 'geometry_msgs/msg/PoseStamped'));
  const names = [...follower.names];
  const joint = (t: bigint, frame: string, position: Float64Array): JointStateMsg => ({
    header: { stamp: rosTime(t), frame_id: frame },
    name: names,
    position: Float64Array.from(position),
    velocity: [],
    effort: [],
  });
  const event = (t: bigint, e: EpisodeEvent) => recorder.log(topics.episode, { data: JSON.stringify(e) }, t);

  const stop = new AbortController();
  let stoppedBy: RecordSessionResult['stoppedBy'] = 'done';
  let phase: 'episode' | 'reset' | 'idle' = 'idle';
  let phaseStart = 0;
  let index = -1;
  let kept = 0;
  let discarded = 0;
  let recordedCycles = 0;
  let rewardSum = 0;
  let rewardN = 0;
  let lastSuccess: boolean | undefined;
  /** The last ended episode may still be discarded (once) during the reset period that follows it. */
  let lastDiscardable = false;
  let pendingEstop = false;
  let lastProgress = -Infinity;
  let cyclesSinceProgress = 0;
  const labels: Promise<void>[] = [];

  const startEpisode = (c: TeleopCycle, t: bigint) => {
    index++;
    phase = 'episode';
    phaseStart = c.tMs;
    rewardSum = 0;
    rewardN = 0;
    lastSuccess = undefined;
    lastDiscardable = false;
    const info = hooks?.start?.(index) ?? {};
    event(t, { event: 'start', episode: index, operator: info.operator, detail: info.detail });
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

  const labelsDone = new AbortController();
  let result;
  try {
   result = await runTeleop({
    leader,
    follower,
    rateHz: options.rateHz,
    signal: stop.signal,
    estop: options.signal,
    control: () => (pendingEstop ? 'estop' : undefined),
    onCycle: (c) => {
      const t = wallNs(c.perfMs);
      if (recorder.writeError) {
        // The disk failed: stop rather than record episodes that cannot be kept.
        stoppedBy = 'error';
        stop.abort();
        return;
      }
      if (phase === 'idle') startEpisode(c, t);
      const key = options.keys?.();
      if (key === 'estop') pendingEstop = true;
      if (phase === 'episode') {
        if (c.leader) recorder.log(topics.leader, joint(t, 'leader', c.leader), t);
        if (c.follower) recorder.log(topics.follower, joint(t, 'follower', c.follower), t);
        recorder.log(topics.action, joint(t, 'action', c.command), t);
        const task = hooks?.task?.();
        if (task && topics.target && topics.reward && topics.success) {
          const p = task.targetPosition;
          if (p) {
            recorder.log(topics.target, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: p[0], y: p[1], z: p[2] }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
          }
          for (const q of task.poses ?? []) {
            const topic = poseTopics.get(q.topic);
            const [x, y, z] = q.position;
            if (topic) recorder.log(topic, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x, y, z }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
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
        recordedCycles++;
        const timeUp = c.tMs - phaseStart >= options.episodeS * 1000;
        if (key === 'rerecord') {
          event(t, { event: 'discard', episode: index });
          discarded++;
          phase = 'reset';
          phaseStart = c.tMs;
          hooks?.reset?.();
        } else if (timeUp || key === 'next' || key === 'stop') {
          endEpisode(t, key === 'stop' ? 'stop' : key === 'next' ? 'next' : 'time');
          if (key === 'stop' || kept >= options.episodes) {
            stoppedBy = key === 'stop' ? 'key' : 'done';
            stop.abort();
          } else {
            phase = 'reset';
            phaseStart = c.tMs;
            hooks?.reset?.();
          }
        }
      } else if (phase === 'reset') {
        if (key === 'rerecord' && lastDiscardable) {
          event(t, { event: 'discard', episode: index });
          kept--;
          discarded++;
          lastDiscardable = false;
        }
        if (key === 'stop') {
          stoppedBy = 'key';
          stop.abort();
        } else if (c.tMs - phaseStart >= options.resetS * 1000 || key === 'next') startEpisode(c, t);
      }
      cyclesSinceProgress++;
      if (options.onProgress && c.tMs - lastProgress >= 250) {
        const left = (phase === 'episode' ? options.episodeS : options.resetS) - (c.tMs - phaseStart) / 1000;
        options.onProgress({
          episode: index,
          kept,
          phase: phase === 'reset' ? 'reset' : 'episode',
          phaseLeftS: Math.max(0, left),
          achievedHz: lastProgress === -Infinity ? options.rateHz : (cyclesSinceProgress * 1000) / (c.tMs - lastProgress),
          droppedSamples: recorder.stats.dropped,
          overruns: c.overruns,
        });
        lastProgress = c.tMs;
        cyclesSinceProgress = 0;
      }
    },
   });
  } catch (e) {
    // E-stop or lost arm: the follower is already held and limp. Close the open episode as cut.
    if ((phase as string) === 'episode') event(wallNs(performance.now()), { event: 'end', episode: index, success: lastSuccess, reason: 'stop' });
    labelsDone.abort();
    throw e;
  }
  labelsDone.abort();
  await Promise.all(labels);
  if ((stoppedBy as string) === 'error' && recorder.writeError) throw recorder.writeError;
  return {
    kept,
    discarded,
    cycles: result.cycles,
    recordedCycles,
    achievedHz: result.achievedHz,
    overruns: result.overruns,
    latenessUs: result.latenessUs,
    safety: result.safety,
    stoppedBy,
  };
}
