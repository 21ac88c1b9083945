/**
 * The episode state machine of a recording session, fed one control-loop cycle at a time: idle →
 * episode (recorded) → reset (not recorded) → episode …, with the keys (next, re-record, stop) and the
 * episode's task samples (reward sum, last success). No I/O, no clock of its own, no allocation per
 * cycle except for the rare episode event: it runs beside the loop on whichever thread the loop runs
 * (the loop worker, or the caller's), and the caller logs what `step` says.
 *
 *   const ep = new EpisodeControl({ episodes: 10, episodeS: 20, resetS: 5 }, hooks);
 *   const s = ep.step(c.tMs, key, task);     // per cycle: s.record → log this cycle
 *   for (const e of ep.takeEvents()) log(e); // start / end / discard, at this cycle's time
 *   if (ep.stopped) stop the loop (ep.stopped: 'done' | 'key')
 */
import type { EpisodeEvent } from './episodes.ts';

export type ControlKey = 'next' | 'rerecord' | 'stop' | 'estop';

export interface EpisodePlan {
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
}

/** Hooks into the world around the arms (the simulator picks a target and an operator; a person does it by hand). */
export interface EpisodeWorldHooks {
  /** An episode starts. */
  start?(index: number): { operator?: string; detail?: Record<string, unknown> } | void;
  /** The reset period starts. */
  reset?(): void;
}

export type EpisodePhase = 'idle' | 'episode' | 'reset';
export const EPISODE_PHASE_CODES: readonly EpisodePhase[] = ['idle', 'episode', 'reset'];

/** What the task said about the cycle (only its reward and success matter here). */
export interface EpisodeTaskSample {
  readonly reward?: number;
  readonly success?: boolean;
}

/** An episode that ended and was kept: what its label is asked about. */
export interface EndedEpisode {
  readonly index: number;
  readonly success?: boolean;
  readonly rewardSum?: number;
}

export class EpisodeControl {
  readonly plan: EpisodePlan;
  /** The task sample of the last recorded cycle (undefined: not recorded, or no task). */
  task: EpisodeTaskSample | undefined;
  readonly #hooks: EpisodeWorldHooks;
  #phase: EpisodePhase = 'idle';
  #phaseStartMs = 0;
  #index = -1;
  #kept = 0;
  #discarded = 0;
  #recorded = 0;
  #rewardSum = 0;
  #rewardN = 0;
  #lastSuccess: boolean | undefined;
  /** The last ended episode may still be discarded (once) during the reset period that follows it. */
  #lastDiscardable = false;
  #events: EpisodeEvent[] = [];
  #ended: EndedEpisode[] = [];
  #stopped: 'done' | 'key' | undefined;

  constructor(plan: EpisodePlan, hooks: EpisodeWorldHooks = {}) {
    this.plan = plan;
    this.#hooks = hooks;
  }

  get phase(): EpisodePhase {
    return this.#phase;
  }
  get episode(): number {
    return this.#index;
  }
  get kept(): number {
    return this.#kept;
  }
  get discarded(): number {
    return this.#discarded;
  }
  get recordedCycles(): number {
    return this.#recorded;
  }
  /** Set once the plan is done or a stop key ended the session: the caller stops the loop. */
  get stopped(): 'done' | 'key' | undefined {
    return this.#stopped;
  }

  /** Seconds left in the current phase at `tMs`. */
  phaseLeftS(tMs: number): number {
    const len = this.#phase === 'reset' ? this.plan.resetS : this.plan.episodeS;
    return Math.max(0, len - (tMs - this.#phaseStartMs) / 1000);
  }

  /**
   * One cycle at `tMs` (ms since the loop started), with the key pressed since the last cycle.
   * `task` is sampled for a recorded cycle only (after an episode's start hook ran), and kept in
   * `task` until the next step. Returns whether this cycle belongs to a recorded episode.
   */
  step<T extends EpisodeTaskSample>(tMs: number, key: ControlKey | undefined, sample?: () => T | undefined): boolean {
    this.task = undefined;
    if (this.#stopped) return false;
    if (this.#phase === 'idle') this.#start(tMs);
    if (this.#phase === 'episode') {
      const task = sample?.();
      this.task = task;
      if (task?.reward !== undefined) {
        this.#rewardSum += task.reward;
        this.#rewardN++;
      }
      if (task?.success !== undefined) this.#lastSuccess = task.success;
      this.#recorded++;
      const timeUp = tMs - this.#phaseStartMs >= this.plan.episodeS * 1000;
      if (key === 'rerecord') {
        this.#events.push({ event: 'discard', episode: this.#index });
        this.#discarded++;
        this.#toReset(tMs);
      } else if (timeUp || key === 'next' || key === 'stop') {
        this.#end(key === 'stop' ? 'stop' : key === 'next' ? 'next' : 'time');
        if (key === 'stop' || this.#kept >= this.plan.episodes) this.#stopped = key === 'stop' ? 'key' : 'done';
        else this.#toReset(tMs);
      }
      return true;
    }
    // reset
    if (key === 'rerecord' && this.#lastDiscardable) {
      this.#events.push({ event: 'discard', episode: this.#index });
      this.#kept--;
      this.#discarded++;
      this.#lastDiscardable = false;
    }
    if (key === 'stop') this.#stopped = 'key';
    else if (tMs - this.#phaseStartMs >= this.plan.resetS * 1000 || key === 'next') this.#start(tMs);
    return false;
  }

  /** The session ended by a fault or e-stop: an open episode is closed as cut (reason 'stop'). */
  cut(): void {
    if (this.#phase === 'episode' && !this.#stopped) this.#events.push({ event: 'end', episode: this.#index, success: this.#lastSuccess, reason: 'stop' });
    this.#stopped ??= 'key';
  }

  /** Episode events since the last call, in order; they belong to the last stepped cycle's time. */
  takeEvents(): readonly EpisodeEvent[] {
    if (this.#events.length === 0) return NO_EVENTS;
    const out = this.#events;
    this.#events = [];
    return out;
  }

  /** Episodes that ended (kept) since the last call: the caller asks for their labels. */
  takeEnded(): readonly EndedEpisode[] {
    if (this.#ended.length === 0) return NO_ENDED;
    const out = this.#ended;
    this.#ended = [];
    return out;
  }

  #start(tMs: number): void {
    this.#index++;
    this.#phase = 'episode';
    this.#phaseStartMs = tMs;
    this.#rewardSum = 0;
    this.#rewardN = 0;
    this.#lastSuccess = undefined;
    this.#lastDiscardable = false;
    const info = this.#hooks.start?.(this.#index) ?? {};
    this.#events.push({ event: 'start', episode: this.#index, operator: info.operator, detail: info.detail });
  }

  #end(reason: 'time' | 'next' | 'stop'): void {
    const sum = this.#rewardN ? this.#rewardSum : undefined;
    this.#events.push({ event: 'end', episode: this.#index, success: this.#lastSuccess, reward_sum: sum, reason });
    this.#ended.push({ index: this.#index, success: this.#lastSuccess, rewardSum: sum });
    this.#kept++;
    this.#lastDiscardable = true;
  }

  #toReset(tMs: number): void {
    this.#phase = 'reset';
    this.#phaseStartMs = tMs;
    this.#hooks.reset?.();
  }
}

const NO_EVENTS: readonly EpisodeEvent[] = Object.freeze([]);
const NO_ENDED: readonly EndedEpisode[] = Object.freeze([]);
