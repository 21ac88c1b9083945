/**
 * What a perception node on a real bench would report of the simulated task's poses (a camera and
 * a detector publishing geometry_msgs/msg/PoseStamped): the task's true positions, seen
 * `latencyMs` late and with Gaussian noise of `noiseM` (metres, per axis, drawn afresh for every
 * report). The simulator's privileged poses are one perception source among others: this is the
 * one the simulated world offers, chosen explicitly with `--observe poses` (and its noise and
 * latency), or not at all with `--observe arm`.
 *
 * The noise comes from its own seeded stream, so the same world seed gives the same scenes and
 * the same operator with and without noise: runs that differ only in perception compare paired.
 */
import { Rng } from './random.ts';
import type { SimTask } from './task.ts';

/** What the simulated world lets the recording and the policy see besides the arm. */
export type ObserveMode = 'arm' | 'poses';
export const OBSERVE_MODES: readonly ObserveMode[] = ['arm', 'poses'];

/** Where an episode's return comes from: the task's dense reward per cycle, or the label a person gives at its end. */
export type RewardMode = 'sim' | 'labels';
export const REWARD_MODES: readonly RewardMode[] = ['sim', 'labels'];

export interface PerceptionOptions {
  /** Standard deviation of the position noise, m (default 0). */
  readonly noiseM?: number;
  /** How late each report is, ms (default 0). */
  readonly latencyMs?: number;
  /** Seed of the noise stream. */
  readonly seed?: number;
}

/** The stream a world seeded `seed` draws its perception noise from (apart from the world's own). */
export const PERCEPTION_SEED_OFFSET = 0x5eed;

export class PosePerception {
  readonly noiseM: number;
  readonly latencyMs: number;
  readonly #task: Pick<SimTask, 'positions' | 'features'>;
  readonly #rng: Rng;
  /** Snapshots of the true positions: time (ms) and the concatenated positions, oldest first. */
  #history: { tMs: number; p: number[] }[] = [];
  readonly #out: Float64Array;

  constructor(task: Pick<SimTask, 'positions' | 'features'>, options: PerceptionOptions = {}) {
    this.noiseM = options.noiseM ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    if (!(this.noiseM >= 0) || !Number.isFinite(this.noiseM)) throw new RangeError(`pose noise must be a finite number of metres ≥ 0, got ${this.noiseM}`);
    if (!(this.latencyMs >= 0) || !Number.isFinite(this.latencyMs)) throw new RangeError(`pose latency must be a finite number of ms ≥ 0, got ${this.latencyMs}`);
    this.#task = task;
    this.#rng = new Rng((options.seed ?? 1) + PERCEPTION_SEED_OFFSET);
    this.#out = new Float64Array(task.features.length * 3);
  }

  /** Forget what was seen (a new episode: the scene changed). */
  reset(): void {
    this.#history = [];
  }

  /**
   * The positions reported at `nowMs` (the task's features concatenated, x y z each, m): the true
   * positions as they were `latencyMs` ago (the oldest seen when the episode is younger), plus noise.
   * The array is reused: copy what you keep.
   */
  observe(nowMs: number): Float64Array {
    const now = this.#task.positions().flatMap((p) => [p[0], p[1], p[2]]);
    this.#history.push({ tMs: nowMs, p: now });
    const due = nowMs - this.latencyMs;
    // Keep the newest snapshot at or before `due` and everything after it.
    let k = 0;
    while (k + 1 < this.#history.length && this.#history[k + 1]!.tMs <= due) k++;
    if (k > 0) this.#history.splice(0, k);
    const seen = this.#history[0]!.p;
    for (let i = 0; i < seen.length; i++) this.#out[i] = seen[i]! + (this.noiseM > 0 ? this.noiseM * this.#rng.normal() : 0);
    return this.#out;
  }
}
