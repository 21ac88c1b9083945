/**
 * The main thread's side of the loop engine: runs a loop (deploy, teleop, record) in the worker
 * thread (loop-worker.ts) and does everything that may stall here — the log (MCAP encoding and
 * disk), the live status line, keys, labels, signals. The loop's thread only reads, infers, filters
 * and writes; each cycle reaches this side through a shared ring (cycle-ring.ts), drained every
 * `drainEveryMs`; a full ring overwrites its oldest records and counts them (`logDropped`), it never
 * makes the loop wait. Stop and e-stop go the other way through the control word, which also wakes
 * the loop if it is sleeping; a recording session's keys (next, re-record, stop) through its key slot.
 *
 *   const r = await runDeployInWorker({ arm: { kind: 'so101', calibration, path: '/dev/ttyACM0' },
 *     model: 'models/x/policy.onnx', rateHz: 500, durationS: 30, recorder, estop: signal });
 *   const t = await runTeleopInWorker({ arm: { kind: 'so101', calibration, path: '/dev/ttyACM0' },
 *     leader: { calibration: leaderCal, path: '/dev/ttyACM1' }, rateHz: 200, estop: signal });
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ArmMismatchError, CalibrationMismatchError, SafetyStopError } from '../arm/errors.ts';
import { armProfile } from '../arm/profiles.ts';
import type { TeleopCycle } from '../arm/teleop.ts';
import { ArmbridgeError, InvalidArgumentError } from '../errors.ts';
import type { ControlKey, EndedEpisode } from '../record/episode-control.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import { RecordLog, type LabelEpisode } from '../record/record-log.ts';
import { featureSpec } from '../dataset/features.ts';
import type { Recorder } from '../record/recorder.ts';
import { estopReasonOf } from '../arm/estop.ts';
import { CycleRing, LoopCommand, LoopControl, LoopKey, type CycleRecord } from './cycle-ring.ts';
import { DeployLog } from './deploy-log.ts';
import { DeployEnvironmentError, LoopSpecError, ModelLoadError, ModelMismatchError } from './errors.ts';
import type { LoopResult, LoopWorkerMessage, LoopWorkerSpec } from './loop-worker.ts';
import { dropRealtimePriority, type RealtimeStatus } from './realtime-priority.ts';
import { reviveError } from './worker-errors.ts';

/** The worker exited without reporting a result (crashed, or killed). */
export class LoopWorkerError extends ArmbridgeError {
  constructor(detail: string, options?: ErrorOptions) {
    super('LOOP_WORKER', `the control-loop worker ended without a result: ${detail}; the follower's torque state is unknown, check the arm`, options);
  }
}

/** Once a second (by default): what the loop did since the last status. */
export interface LoopStatus {
  readonly cycles: number;
  readonly rateHz: number;
  /** |period − nominal| p99 over the window, µs. */
  readonly periodJitterP99Us: number;
  readonly inferenceP99Us: number;
  readonly overruns: number;
  /** Cycles the filter held or clamped, since the start. */
  readonly interventions: number;
}

export type ReadyInfo = Extract<LoopWorkerMessage, { type: 'ready' }>;

/** What the main thread does with the cycles and episode events (a run log, a recording). */
export interface LoopSink {
  /** Before the first cycle is drained (topics are registered here). */
  open(ready: ReadyInfo): Promise<void>;
  cycle(r: CycleRecord, stampNs: bigint): void;
  events(stampNs: bigint, events: readonly EpisodeEvent[], ended: readonly EndedEpisode[]): void;
  /** After the last cycle, also after a failure. */
  finish(): Promise<void>;
}

export interface LoopHostOptions extends Omit<LoopWorkerSpec, 'ringCapacity'> {
  readonly sink?: LoopSink;
  /** Ends the run normally (then the worker parks the arm, unless `park: false`). */
  readonly signal?: AbortSignal;
  /** Emergency stop: hold, torque off, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Polled on the main thread every drain: keys as from the keyboard (a recording's next / re-record go to its session). */
  readonly control?: () => ControlKey | undefined;
  /** Called once the ports are open (and the model loaded), before the first cycle. */
  readonly onReady?: (info: ReadyInfo) => void;
  readonly onStatus?: (s: LoopStatus) => void;
  readonly statusEveryMs?: number;
  /** Every cycle, on the main thread, in order (after the sink got it). */
  readonly onRecord?: (r: CycleRecord) => void;
  /** Episode events (start, end, …) as the loop's thread produced them, after the sink got them. */
  readonly onEvents?: (epochMs: number, events: readonly EpisodeEvent[]) => void;
  /** Polled every drain: a reason to stop the run (e.g. the disk failed); the loop stops normally and the run throws it. */
  readonly abortWith?: () => Error | undefined;
  readonly drainEveryMs?: number;
  readonly ringCapacity?: number;
}

export interface WorkerLoopResult extends LoopResult {
  readonly thread: 'worker';
  readonly realtime: RealtimeStatus;
  /** Cycles the main thread could not drain before the ring wrapped (not logged). */
  readonly logDropped: number;
  readonly logged: number;
  readonly environment: Record<string, string | number | boolean> | undefined;
}

const KNOWN_ERRORS = [SafetyStopError, ModelMismatchError, ModelLoadError, ArmMismatchError, CalibrationMismatchError, DeployEnvironmentError, LoopSpecError, InvalidArgumentError];
const BOOT = fileURLToPath(new URL('./worker-boot.mjs', import.meta.url));
const ENTRY = new URL('./loop-worker.ts', import.meta.url).href;
const KEY_CODES = { next: LoopKey.Next, rerecord: LoopKey.Rerecord, stop: LoopKey.Stop } as const;

export function epochNs(ms: number): bigint {
  return BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6));
}

function p99(values: number[]): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil(0.99 * values.length) - 1)]!;
}

export async function runLoopInWorker(o: LoopHostOptions): Promise<WorkerLoopResult> {
  const names = armProfile(o.arm.kind, 'follower').joints.map((j) => j.name);
  const loopControl = new LoopControl();
  const { sink, signal, estop, control, onReady, onStatus, onRecord, onEvents, abortWith, statusEveryMs, drainEveryMs, ringCapacity, ...rest } = o;
  const spec: LoopWorkerSpec = { ...rest, ringCapacity: ringCapacity ?? 8192 };
  // The ring comes with 'ready' (its size depends on the environment's observation); the sink opens then.
  let ring: CycleRing | undefined;
  let sinkReady: Promise<void> = Promise.resolve();
  let sinkOpen = false;
  let abortError: Error | undefined;
  const worker = new Worker(BOOT, { workerData: { entry: ENTRY, spec, control: loopControl.buffer } });

  const keys: LoopKey[] = [];
  let next = 0;
  let logDropped = 0;
  let logged = 0;
  let interventions = 0;
  let window: CycleRecord[] = [];
  let lastStatusMs = performance.now();
  const periodUs = 1e6 / o.rateHz;
  const drain = () => {
    const key = control?.();
    if (key === 'estop') loopControl.send(LoopCommand.Estop);
    else if (key && (o.kind === 'record' || o.kind === 'kinesthetic')) keys.push(KEY_CODES[key]);
    else if (key === 'stop') loopControl.send(LoopCommand.Stop);
    // One key per cycle reaches the session, in order: none is lost when two come between cycles.
    if (keys.length > 0 && loopControl.trySendKey(keys[0]!)) keys.shift();
    if (!abortError) {
      abortError = abortWith?.();
      if (abortError) loopControl.send(LoopCommand.Stop);
    }
    if (!ring || (sink && !sinkOpen)) return;
    const { records, next: after, dropped } = ring.read(next);
    next = after;
    logDropped += dropped;
    for (const r of records) {
      if (r.status !== 'ok') interventions++;
      sink?.cycle(r, epochNs(r.epochMs));
      logged++;
      onRecord?.(r);
    }
    if (onStatus) {
      window.push(...records);
      const now = performance.now();
      if (now - lastStatusMs >= (statusEveryMs ?? 1000) && window.length > 1) {
        const jitter: number[] = [];
        const inference: number[] = [];
        for (let k = 1; k < window.length; k++) jitter.push(Math.abs((window[k]!.epochMs - window[k - 1]!.epochMs) * 1000 - periodUs));
        for (const r of window) if (!Number.isNaN(r.inferenceUs)) inference.push(r.inferenceUs);
        const span = (window.at(-1)!.epochMs - window[0]!.epochMs) / 1000;
        onStatus({ cycles: window.at(-1)!.index + 1, rateHz: (window.length - 1) / span, periodJitterP99Us: p99(jitter), inferenceP99Us: p99(inference), overruns: window.at(-1)!.overruns, interventions });
        window = [];
        lastStatusMs = now;
      }
    }
  };
  const onStop = () => loopControl.send(LoopCommand.Stop);
  const onEstop = () => loopControl.send(LoopCommand.Estop, estopReasonOf(estop!));
  if (signal?.aborted) onStop();
  if (estop?.aborted) onEstop();
  signal?.addEventListener('abort', onStop, { once: true });
  estop?.addEventListener('abort', onEstop, { once: true });
  const timer = setInterval(drain, drainEveryMs ?? 10);
  // The worker's request to leave SCHED_FIFO, run here (see realtime-priority.ts): what it came to.
  let realtimeDrop: Promise<RealtimeStatus | undefined> | undefined;
  try {
    const message = await new Promise<Extract<LoopWorkerMessage, { type: 'done' | 'error' }>>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: LoopWorkerMessage) => {
        if (m.type === 'ready') {
          ring = new CycleRing(names.length, m.extraLayout.reduce((k, f) => k + f.size, 0), spec.ringCapacity, m.ring);
          if (sink) {
            // Topics are created before the first cycle can be drained (drain waits for the sink).
            sinkReady = sink.open(m).then(() => {
              sinkOpen = true;
            });
            sinkReady.catch(reject);
          }
          onReady?.(m);
        } else if (m.type === 'drop-realtime') {
          realtimeDrop = dropRealtimePriority(m.tid).then((now) => (now ? { granted: false, priority: 0, detail: `${m.detail}; now ${now}` } : undefined));
        } else if (m.type === 'events') {
          void sinkReady.then(() => {
            drain(); // the cycles before the boundary first
            sink?.events(epochNs(m.epochMs), m.events, m.ended);
            onEvents?.(m.epochMs, m.events);
          });
        } else {
          settled = true;
          void sinkReady.then(() => resolve(m), reject);
        }
      });
      worker.on('error', (e) => {
        settled = true;
        reject(new LoopWorkerError(e.message, { cause: e }));
      });
      worker.on('exit', (code) => {
        if (!settled) reject(new LoopWorkerError(`exit code ${code}`));
      });
    });
    drain();
    if (message.type === 'error') throw reviveError(message.error, KNOWN_ERRORS);
    if (abortError) throw abortError;
    const dropped = await realtimeDrop;
    return { ...message.result, thread: 'worker', realtime: dropped ?? message.realtime, logDropped, logged, environment: message.environment };
  } finally {
    clearInterval(timer);
    // A chrt still running is waited for: no child process outlives the run.
    await realtimeDrop;
    drain();
    signal?.removeEventListener('abort', onStop);
    estop?.removeEventListener('abort', onEstop);
    await worker.terminate();
    if (sinkOpen) await sink?.finish();
  }
}

// ---- deploy --------------------------------------------------------------------------------------

export interface WorkerDeployOptions extends Omit<LoopHostOptions, 'kind' | 'sink' | 'leader' | 'episodes' | 'control' | 'model'> {
  readonly model: string;
  /** Run log (same topics as recordings, plus /policy/action, /control/inference_us and /safety). */
  readonly recorder?: Recorder;
  /** Polled on the main thread every drain: 'stop' or 'estop' as from the keyboard. */
  readonly control?: () => 'stop' | 'estop' | undefined;
}

export type WorkerDeployResult = WorkerLoopResult;

/** The deploy run log as a sink: every cycle and the environment's episode events. */
export function deployLogSink(recorder: Recorder, names: readonly string[]): LoopSink {
  let log: DeployLog | undefined;
  return {
    async open(ready) {
      log = await DeployLog.open(recorder, names, ready.extraLayout);
    },
    cycle(r, stampNs) {
      log!.log({ stampNs, state: r.state, command: r.command, raw: r.raw, inferenceUs: r.inferenceUs, status: r.status, extra: r.extra, reward: r.reward, success: r.success });
    },
    events(stampNs, events) {
      log!.episodeEvents(stampNs, events);
    },
    async finish() {},
  };
}

export async function runDeployInWorker(o: WorkerDeployOptions): Promise<WorkerDeployResult> {
  const { recorder, ...rest } = o;
  const names = armProfile(o.arm.kind, 'follower').joints.map((j) => j.name);
  return runLoopInWorker({ ...rest, kind: 'deploy', sink: recorder ? deployLogSink(recorder, names) : undefined });
}

// ---- teleop --------------------------------------------------------------------------------------

export interface WorkerTeleopOptions extends Omit<LoopHostOptions, 'kind' | 'model' | 'episodes' | 'leader' | 'control'> {
  readonly leader: NonNullable<LoopWorkerSpec['leader']>;
  readonly control?: () => 'stop' | 'estop' | undefined;
}

/** A cycle from the ring as the in-thread teleop loop hands it to `onCycle` (perfMs on this thread's clock). */
export function teleopCycleOf(r: CycleRecord): TeleopCycle {
  return { index: r.index, tMs: r.tMs, perfMs: r.epochMs - performance.timeOrigin, leader: r.leader, follower: r.state, command: r.command, status: r.status as TeleopCycle['status'], latencyUs: r.latencyUs, overruns: r.overruns };
}

export async function runTeleopInWorker(o: WorkerTeleopOptions): Promise<WorkerLoopResult> {
  return runLoopInWorker({ ...o, kind: 'teleop' });
}

// ---- record --------------------------------------------------------------------------------------

export interface WorkerRecordOptions extends Omit<LoopHostOptions, 'kind' | 'model' | 'leader' | 'sink' | 'episodes'> {
  readonly leader: NonNullable<LoopWorkerSpec['leader']>;
  readonly episodes: NonNullable<LoopWorkerSpec['episodes']>;
  readonly recorder: Recorder;
  /** The label of each kept episode, asked on the main thread after it ends. */
  readonly label?: LabelEpisode;
  /** Returns from labels only: no /reward or /task/success logged, no outcome in end events (the simulated bench's --rewards labels). */
  readonly labelsOnly?: boolean;
}

/** The recording as a sink: recorded cycles (leader, follower, action, task topics), episode events, labels. */
export function recordLogSink(recorder: Recorder, names: readonly string[], label: LabelEpisode | undefined, options: { readonly statesOnly?: boolean; readonly labelsOnly?: boolean } = {}): LoopSink {
  let log: RecordLog | undefined;
  let targetAt = -1;
  // The task's other poses among the extra observations (object, goal): their topic and offset.
  const poses: { topic: string; at: number }[] = [];
  return {
    async open(ready) {
      let k = 0;
      for (const f of ready.extraLayout) {
        const spec = featureSpec(f.name);
        if (f.name === 'target.position' && f.size === 3) targetAt = k;
        else if (spec?.kind === 'pose_position' && f.size === 3) poses.push({ topic: spec.topic, at: k });
        k += f.size;
      }
      // labelsOnly: returns come from each episode's label, as on a real arm: no /reward, no /task/success, no outcome in the end event.
      log = await RecordLog.open(recorder, names, { task: ready.task && !options.labelsOnly, target: targetAt >= 0, poseTopics: poses.map((q) => q.topic), label, statesOnly: options.statesOnly });
    },
    cycle(r, stampNs) {
      if (!r.episode?.recorded) return;
      const extra = r.extra;
      const task = extra || !Number.isNaN(r.reward) || r.success !== undefined
        ? {
            targetPosition: extra && targetAt >= 0 ? extra.subarray(targetAt, targetAt + 3) : undefined,
            poses: extra ? poses.map((q) => ({ topic: q.topic, position: extra.subarray(q.at, q.at + 3) })) : undefined,
            reward: Number.isNaN(r.reward) ? undefined : r.reward,
            success: r.success,
          }
        : undefined;
      log!.cycle(stampNs, r.leader, r.state, r.command, task);
    },
    events(stampNs, events, ended) {
      for (const e of events) log!.event(stampNs, options.labelsOnly && e.event === 'end' ? { event: 'end', episode: e.episode, reason: e.reason } : e);
      for (const e of ended) log!.askLabel(e);
    },
    async finish() {
      await log?.finish();
    },
  };
}

/** The progress of a recording session from the ring's cycles, every 250 ms of loop time (a RecordProgress). */
export function progressOfRecords(
  onProgress: (p: { episode: number; kept: number; phase: 'episode' | 'reset'; phaseLeftS: number; achievedHz: number; droppedSamples: number; overruns: number }) => void,
  rateHz: number,
  droppedSamples: () => number,
): (r: CycleRecord) => void {
  let last = -Infinity;
  let since = 0;
  return (c) => {
    since++;
    if (!c.episode || c.tMs - last < 250) return;
    onProgress({
      episode: c.episode.index,
      kept: c.episode.kept,
      phase: c.episode.phase === 'reset' ? 'reset' : 'episode',
      phaseLeftS: c.episode.phaseLeftS,
      achievedHz: last === -Infinity ? rateHz : (since * 1000) / (c.tMs - last),
      droppedSamples: droppedSamples(),
      overruns: c.overruns,
    });
    last = c.tMs;
    since = 0;
  };
}

export async function runRecordInWorker(o: WorkerRecordOptions): Promise<WorkerLoopResult> {
  const { recorder, label, labelsOnly, ...rest } = o;
  const names = armProfile(o.arm.kind, 'follower').joints.map((j) => j.name);
  // The disk failed: stop rather than record episodes that cannot be kept (the run throws the write error).
  return runLoopInWorker({ ...rest, kind: 'record', sink: recordLogSink(recorder, names, label, { labelsOnly }), abortWith: () => recorder.writeError });
}

// ---- kinesthetic ---------------------------------------------------------------------------------

export interface WorkerKinestheticOptions extends Omit<LoopHostOptions, 'kind' | 'model' | 'leader' | 'sink' | 'episodes' | 'commandSlot' | 'takeoverMs'> {
  readonly episodes: NonNullable<LoopWorkerSpec['episodes']>;
  readonly recorder: Recorder;
  /** The label of each kept episode, asked on the main thread after it ends. */
  readonly label?: LabelEpisode;
}

/**
 * Kinesthetic teaching in the loop worker: the worker owns the follower (torque off or damping,
 * acknowledged, before the first cycle; held, then parked at the end); this thread records its states
 * (no /action, no /leader/joint_states), the task topics and the episode events, and asks the labels.
 */
export async function runKinestheticInWorker(o: WorkerKinestheticOptions): Promise<WorkerLoopResult> {
  const { recorder, label, ...rest } = o;
  const names = armProfile(o.arm.kind, 'follower').joints.map((j) => j.name);
  return runLoopInWorker({ ...rest, kind: 'kinesthetic', sink: recordLogSink(recorder, names, label, { statesOnly: true }), abortWith: () => recorder.writeError });
}
