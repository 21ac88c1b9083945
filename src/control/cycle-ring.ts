/**
 * A single-producer, single-consumer ring of cycle records in a SharedArrayBuffer: the control-loop
 * worker writes one fixed-size record per cycle without allocating or waiting, the main thread
 * drains it on its own schedule (run log, status line). If the reader falls behind by more than the
 * capacity, the oldest records are overwritten and counted as dropped: the loop never waits for it.
 *
 * `LoopControl` is the other direction: the word the main thread uses to stop the loop (see
 * `LoopCommand`); the worker's blocking sleeper waits on it, so `Atomics.notify` wakes the loop at once.
 *
 * Layout: Int32 header [pad, written, pad, pad] then capacity records of `recordSize` float64:
 * [epochMs, index, status, inferenceUs, latencyUs, overruns, fresh, reward, success, tMs,
 * leaderFresh, episode, phase, recorded, phaseLeftMs, kept,
 * state × n, command × n, raw × n, leader × n, extra × m] (NaN: absent; success −1 absent, 0, 1;
 * episode −1 and phase 0 outside a recording session).
 */
import { ESTOP_KEY_REASON } from '../arm/estop.ts';
import { EPISODE_PHASE_CODES, type EpisodePhase } from '../record/episode-control.ts';

export const LoopCommand = {
  Run: 0,
  /** End normally (as at the end of the duration): the caller parks the arm. */
  Stop: 1,
  /** Emergency stop: hold, cut torque, SafetyStopError. */
  Estop: 2,
} as const;
export type LoopCommand = (typeof LoopCommand)[keyof typeof LoopCommand];

/** Keys of a recording session, forwarded to the loop's thread (an e-stop goes through LoopCommand). */
export const LoopKey = { None: 0, Next: 1, Rerecord: 2, Stop: 3 } as const;
export type LoopKey = (typeof LoopKey)[keyof typeof LoopKey];

const REASON_OFFSET = 12;
const REASON_BYTES = 244;

/**
 * The stop / e-stop word, shared by the main thread (writer) and the loop's worker (reader), with the
 * e-stop's reason (UTF-8, written before the word, so a reader that sees Estop sees its reason).
 */
export class LoopControl {
  readonly buffer: SharedArrayBuffer;
  /** Slot 0 holds the LoopCommand: what a blocking sleeper waits on. */
  readonly word: Int32Array;

  /** Slot 1 holds a session key for a recording loop (LoopKey), taken by the loop at its next cycle; slot 2 the reason's length. */
  readonly #keys: Int32Array;
  readonly #reason: Uint8Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(REASON_OFFSET + REASON_BYTES)) {
    if (buffer.byteLength < REASON_OFFSET + REASON_BYTES) throw new RangeError(`a loop control buffer holds ${REASON_OFFSET + REASON_BYTES} bytes, got ${buffer.byteLength}`);
    this.buffer = buffer;
    this.word = new Int32Array(buffer, 0, 1);
    this.#keys = new Int32Array(buffer, 0, 3);
    this.#reason = new Uint8Array(buffer, REASON_OFFSET, REASON_BYTES);
  }

  /** Main thread: a recording-session key (next episode, re-record, stop the session), if the loop took the last one; false: try again later. */
  trySendKey(key: LoopKey): boolean {
    return Atomics.compareExchange(this.#keys, 1, LoopKey.None, key) === LoopKey.None;
  }

  /** Loop thread: the key sent since the last call (LoopKey.None if none), cleared. */
  takeKey(): LoopKey {
    return Atomics.exchange(this.#keys, 1, LoopKey.None) as LoopKey;
  }

  command(): LoopCommand {
    return Atomics.load(this.word, 0) as LoopCommand;
  }

  /**
   * Ask the loop to stop or e-stop, and wake it if it sleeps. An e-stop is never downgraded, and the
   * first e-stop's reason is the one kept (the e-stop key's when none is given).
   */
  send(command: typeof LoopCommand.Stop | typeof LoopCommand.Estop, reason: string = ESTOP_KEY_REASON): void {
    if (command === LoopCommand.Stop) Atomics.compareExchange(this.word, 0, LoopCommand.Run, LoopCommand.Stop);
    else if (Atomics.load(this.word, 0) !== LoopCommand.Estop) {
      // Only the main thread writes: the reason is in place before the word says Estop.
      // Whole characters only: a long reason is cut at a character boundary.
      const bytes = new Uint8Array(REASON_BYTES);
      const { written } = new TextEncoder().encodeInto(reason, bytes);
      this.#reason.set(bytes.subarray(0, written));
      Atomics.store(this.#keys, 2, written);
      Atomics.store(this.word, 0, LoopCommand.Estop);
    }
    Atomics.notify(this.word, 0);
  }

  /** Loop thread: why the loop was e-stopped (meaningful once command() is Estop). */
  estopReason(): string {
    const n = Atomics.load(this.#keys, 2);
    return n > 0 ? new TextDecoder().decode(this.#reason.slice(0, n)) : ESTOP_KEY_REASON;
  }
}

const STATUS_CODES = ['ok', 'hold', 'fault', 'clamped'] as const;
const HEADER_INTS = 4;
const FIXED = 16;

/** The scalar part of a cycle, as written and as read back. */
interface CycleFields {
  /** Wall-clock ms since the epoch (threads have different performance.now() origins). */
  epochMs: number;
  index: number;
  status: string;
  /** NaN when no inference ran. */
  inferenceUs: number;
  latencyUs: number;
  overruns: number;
}

/** Where a recording session stands at a cycle (absent outside one). */
export interface CycleEpisode {
  readonly index: number;
  readonly phase: EpisodePhase;
  /** This cycle belongs to a recorded episode. */
  readonly recorded: boolean;
  readonly phaseLeftS: number;
  readonly kept: number;
}

export interface CycleRecord extends CycleFields {
  /** Null when the read failed this cycle. */
  state: Float64Array | null;
  command: Float64Array;
  /** Null when no inference ran. */
  raw: Float64Array | null;
  /** Observation features after the joints (null: none this cycle). */
  extra: Float64Array | null;
  /** NaN when the task gave none. */
  reward: number;
  success: boolean | undefined;
  /** ms since the loop started. */
  tMs: number;
  /** The leader's joints (teleop, record); null: no leader, or its read failed. */
  leader: Float64Array | null;
  episode: CycleEpisode | undefined;
}

export class CycleRing {
  readonly buffer: SharedArrayBuffer;
  readonly joints: number;
  readonly extras: number;
  readonly capacity: number;
  readonly #ints: Int32Array;
  readonly #data: Float64Array;
  readonly #recordSize: number;

  constructor(joints: number, extras = 0, capacity = 4096, buffer?: SharedArrayBuffer) {
    this.joints = joints;
    this.extras = extras;
    this.capacity = capacity;
    this.#recordSize = FIXED + 4 * joints + extras;
    const bytes = HEADER_INTS * 4 + capacity * this.#recordSize * 8;
    this.buffer = buffer ?? new SharedArrayBuffer(bytes);
    if (this.buffer.byteLength !== bytes) throw new RangeError(`ring buffer of ${this.buffer.byteLength} bytes, expected ${bytes}`);
    this.#ints = new Int32Array(this.buffer, 0, HEADER_INTS);
    this.#data = new Float64Array(this.buffer, HEADER_INTS * 4);
  }

  /** Worker: append one cycle (no allocation). */
  write(
    r: CycleFields & {
      state: ArrayLike<number> | null;
      command: ArrayLike<number>;
      raw: ArrayLike<number> | null;
      extra?: ArrayLike<number> | null;
      reward?: number;
      success?: boolean;
      tMs?: number;
      leader?: ArrayLike<number> | null;
      episode?: { readonly index: number; readonly phase: EpisodePhase; readonly recorded: boolean; readonly phaseLeftS: number; readonly kept: number };
    },
  ): void {
    const seq = Atomics.load(this.#ints, 1);
    const n = this.joints;
    const o = (seq % this.capacity) * this.#recordSize;
    const d = this.#data;
    d[o] = r.epochMs;
    d[o + 1] = r.index;
    d[o + 2] = STATUS_CODES.indexOf(r.status as (typeof STATUS_CODES)[number]);
    d[o + 3] = r.inferenceUs;
    d[o + 4] = r.latencyUs;
    d[o + 5] = r.overruns;
    d[o + 6] = r.state ? 1 : 0;
    d[o + 7] = r.reward ?? NaN;
    d[o + 8] = r.success === undefined ? -1 : r.success ? 1 : 0;
    d[o + 9] = r.tMs ?? NaN;
    d[o + 10] = r.leader ? 1 : 0;
    const ep = r.episode;
    d[o + 11] = ep ? ep.index : -1;
    d[o + 12] = ep ? EPISODE_PHASE_CODES.indexOf(ep.phase) : 0;
    d[o + 13] = ep?.recorded ? 1 : 0;
    d[o + 14] = ep ? ep.phaseLeftS : NaN;
    d[o + 15] = ep ? ep.kept : 0;
    const leader = r.leader;
    for (let i = 0; i < n; i++) {
      d[o + FIXED + i] = r.state ? r.state[i]! : NaN;
      d[o + FIXED + n + i] = r.command[i]!;
      d[o + FIXED + 2 * n + i] = r.raw ? r.raw[i]! : NaN;
      d[o + FIXED + 3 * n + i] = leader ? leader[i]! : NaN;
    }
    const e = o + FIXED + 4 * n;
    for (let i = 0; i < this.extras; i++) d[e + i] = r.extra ? r.extra[i]! : NaN;
    // Publish after the record is complete (Atomics.store orders the plain writes before it).
    Atomics.store(this.#ints, 1, seq + 1);
  }

  /**
   * Reader: records from `from` (a sequence number) up to what is written now. Records the writer has
   * already overwritten are skipped and counted in `dropped`.
   */
  read(from: number): { records: CycleRecord[]; next: number; dropped: number } {
    const end = Atomics.load(this.#ints, 1);
    // Leave a margin of one record: the writer may be filling the slot after `end` right now.
    const oldest = Math.max(0, end - this.capacity + 1);
    const start = Math.max(from, oldest);
    const records: CycleRecord[] = [];
    const n = this.joints;
    for (let seq = start; seq < end; seq++) {
      const o = (seq % this.capacity) * this.#recordSize;
      const d = this.#data;
      const fresh = d[o + 6] === 1;
      const hasRaw = !Number.isNaN(d[o + FIXED + 2 * n]!);
      records.push({
        epochMs: d[o]!,
        index: d[o + 1]!,
        status: STATUS_CODES[d[o + 2]!] ?? 'unknown',
        inferenceUs: d[o + 3]!,
        latencyUs: d[o + 4]!,
        overruns: d[o + 5]!,
        state: fresh ? d.slice(o + FIXED, o + FIXED + n) : null,
        command: d.slice(o + FIXED + n, o + FIXED + 2 * n),
        raw: hasRaw ? d.slice(o + FIXED + 2 * n, o + FIXED + 3 * n) : null,
        extra: this.extras > 0 && !Number.isNaN(d[o + FIXED + 4 * n]!) ? d.slice(o + FIXED + 4 * n, o + FIXED + 4 * n + this.extras) : null,
        reward: d[o + 7]!,
        success: d[o + 8] === -1 ? undefined : d[o + 8] === 1,
        tMs: d[o + 9]!,
        leader: d[o + 10] === 1 ? d.slice(o + FIXED + 3 * n, o + FIXED + 4 * n) : null,
        episode: d[o + 11]! >= 0 ? { index: d[o + 11]!, phase: EPISODE_PHASE_CODES[d[o + 12]!] ?? 'idle', recorded: d[o + 13] === 1, phaseLeftS: d[o + 14]!, kept: d[o + 15]! } : undefined,
      });
    }
    // A slow reader could have been lapped while copying: re-check and drop what was overwritten.
    const after = Atomics.load(this.#ints, 1);
    const overwritten = Math.max(0, after - this.capacity + 1 - start);
    if (overwritten > 0) records.splice(0, Math.min(overwritten, records.length));
    return { records, next: end, dropped: start - from + Math.min(overwritten, end - start) };
  }
}
