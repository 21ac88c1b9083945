/**
 * Recording demonstrations: the teleop loop, with episodes. Each episode records the leader and
 * follower states, the action actually sent (after the SafetyFilter) and the task topics at the
 * measured time of each cycle; between episodes a reset period records nothing. Keys end an episode
 * early, re-record (discard) it, or stop; a label (success / failure / score) follows each episode.
 * The recorder's queue keeps disk I/O off the loop.
 *
 * This runs the loop on the calling thread (`recordSession`); the loop worker (control/loop-host.ts,
 * `runRecordInWorker`) runs the same EpisodeControl beside the loop in its thread and the same
 * RecordLog on the main thread.
 */
import type { Arm } from '../arm/arm.ts';
import type { SafetySummary } from '../arm/safety-filter.ts';
import { runTeleop } from '../arm/teleop.ts';
import { EpisodeControl, type ControlKey, type EndedEpisode } from './episode-control.ts';
import { RecordLog, type EpisodeLabel, type TaskSample } from './record-log.ts';
import { wallNs, type Recorder } from './recorder.ts';

export type { ControlKey, EpisodeLabel, TaskSample };

export interface EpisodeHooks {
  /** An episode starts (the simulator picks a target and an operator skill). */
  start?(index: number): { operator?: string; detail?: Record<string, unknown> } | void;
  /** The reset period starts (the simulator's operator brings the leader back). */
  reset?(): void;
  /** Task topics, sampled every recorded cycle. */
  task?(): TaskSample;
  /** Topics of `TaskSample.poses` (e.g. /object_pose, /goal_pose). */
  readonly poseTopics?: readonly string[];
  /**
   * The episode's label, asked after it ends; undefined leaves it unlabelled. `done` aborts when
   * the session ends: a label still pending then must resolve (to undefined) at once.
   */
  label?(episode: EndedEpisode, done: AbortSignal): Promise<EpisodeLabel | undefined>;
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
  const log = await RecordLog.open(recorder, follower.names, { task: hooks?.task !== undefined, poseTopics: hooks?.poseTopics, label: hooks?.label?.bind(hooks) });
  const episodes = new EpisodeControl({ episodes: options.episodes, episodeS: options.episodeS, resetS: options.resetS }, { start: hooks?.start?.bind(hooks), reset: hooks?.reset?.bind(hooks) });
  const stop = new AbortController();
  let stoppedBy: RecordSessionResult['stoppedBy'] = 'done';
  let pendingEstop = false;
  let lastProgress = -Infinity;
  let cyclesSinceProgress = 0;
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
        const key = options.keys?.();
        if (key === 'estop') pendingEstop = true;
        let task: TaskSample | undefined;
        const recorded = episodes.step(c.tMs, key, hooks?.task ? () => (task = hooks.task!()) : undefined);
        const events = episodes.takeEvents();
        // A start event comes before the cycle it starts with; end and discard after the last one.
        for (const e of events) if (e.event === 'start') log.event(t, e);
        if (recorded) log.cycle(t, c.leader, c.follower, c.command, task);
        for (const e of events) if (e.event !== 'start') log.event(t, e);
        for (const e of episodes.takeEnded()) log.askLabel(e);
        if (episodes.stopped) {
          stoppedBy = episodes.stopped;
          stop.abort();
        }
        cyclesSinceProgress++;
        if (options.onProgress && c.tMs - lastProgress >= 250) {
          options.onProgress({
            episode: episodes.episode,
            kept: episodes.kept,
            phase: episodes.phase === 'reset' ? 'reset' : 'episode',
            phaseLeftS: episodes.phaseLeftS(c.tMs),
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
    episodes.cut();
    for (const ev of episodes.takeEvents()) log.event(wallNs(performance.now()), ev);
    await log.finish();
    throw e;
  }
  await log.finish();
  if ((stoppedBy as string) === 'error' && recorder.writeError) throw recorder.writeError;
  return {
    kept: episodes.kept,
    discarded: episodes.discarded,
    cycles: result.cycles,
    recordedCycles: episodes.recordedCycles,
    achievedHz: result.achievedHz,
    overruns: result.overruns,
    latenessUs: result.latenessUs,
    safety: result.safety,
    stoppedBy,
  };
}
