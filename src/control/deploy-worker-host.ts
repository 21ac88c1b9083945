/**
 * Runs the deploy loop in a worker thread (deploy-worker.ts) and does everything that may stall on
 * the main thread: the run log (MCAP), the live status line, signals. The loop's thread only reads,
 * infers, filters and writes; each cycle reaches this side through a shared ring (cycle-ring.ts),
 * drained every `drainEveryMs`. Stop and e-stop go the other way through the ring's control word,
 * which also wakes the loop if it is sleeping.
 *
 *   const r = await runDeployInWorker({ arm: { kind: 'so101', calibration, path: '/dev/ttyACM0' },
 *     model: 'models/x/policy.onnx', rateHz: 500, durationS: 30, recorder, estop: signal });
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ArmMismatchError, CalibrationMismatchError, SafetyStopError } from '../arm/errors.ts';
import { armProfile } from '../arm/profiles.ts';
import { ArmbridgeError } from '../errors.ts';
import type { Recorder } from '../record/recorder.ts';
import { CycleRing, LoopCommand, LoopControl, type CycleRecord } from './cycle-ring.ts';
import { DeployLog } from './deploy-log.ts';
import type { DeployResult } from './deploy-loop.ts';
import type { DeployWorkerMessage, DeployWorkerSpec } from './deploy-worker.ts';
import { DeployEnvironmentError, ModelLoadError, ModelMismatchError } from './errors.ts';
import type { RealtimeStatus } from './realtime-priority.ts';
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

export interface WorkerDeployOptions extends Omit<DeployWorkerSpec, 'ringCapacity'> {
  readonly recorder?: Recorder;
  /** Ends the run normally (then the worker parks the arm, unless `park: false`). */
  readonly signal?: AbortSignal;
  /** Emergency stop: hold, torque off, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Polled on the main thread every drain: 'stop' or 'estop' as from the keyboard. */
  readonly control?: () => 'stop' | 'estop' | undefined;
  /** Called once the port is open and the model loaded, before the first cycle. */
  readonly onReady?: (info: Extract<DeployWorkerMessage, { type: 'ready' }>) => void;
  readonly onStatus?: (s: LoopStatus) => void;
  readonly statusEveryMs?: number;
  /** Every cycle, on the main thread, in order (after the run log got it). */
  readonly onRecord?: (r: CycleRecord) => void;
  readonly drainEveryMs?: number;
  readonly ringCapacity?: number;
}

export interface WorkerDeployResult extends DeployResult {
  readonly thread: 'worker';
  readonly realtime: RealtimeStatus;
  /** Cycles the main thread could not drain before the ring wrapped (not logged). */
  readonly logDropped: number;
  readonly logged: number;
  readonly environment: Record<string, string | number | boolean> | undefined;
}

const KNOWN_ERRORS = [SafetyStopError, ModelMismatchError, ModelLoadError, ArmMismatchError, CalibrationMismatchError, DeployEnvironmentError];
const BOOT = fileURLToPath(new URL('./worker-boot.mjs', import.meta.url));
const ENTRY = new URL('./deploy-worker.ts', import.meta.url).href;

function epochNs(ms: number): bigint {
  return BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6));
}

function p99(values: number[]): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil(0.99 * values.length) - 1)]!;
}

export async function runDeployInWorker(o: WorkerDeployOptions): Promise<WorkerDeployResult> {
  const names = armProfile(o.arm.kind, 'follower').joints.map((j) => j.name);
  const loopControl = new LoopControl();
  const { recorder, signal, estop, control, onReady, onStatus, onRecord, statusEveryMs, drainEveryMs, ringCapacity, ...rest } = o;
  const spec: DeployWorkerSpec = { ...rest, ringCapacity: ringCapacity ?? 8192 };
  // The ring and the log's topics come with 'ready': their size depends on the model's observation.
  let ring: CycleRing | undefined;
  let log: DeployLog | undefined;
  let logReady: Promise<void> = Promise.resolve();
  const worker = new Worker(BOOT, { workerData: { entry: ENTRY, spec, control: loopControl.buffer } });

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
    else if (key === 'stop') loopControl.send(LoopCommand.Stop);
    if (!ring) return;
    const { records, next: after, dropped } = ring.read(next);
    next = after;
    logDropped += dropped;
    for (const r of records) {
      if (r.status !== 'ok') interventions++;
      log?.log({ stampNs: epochNs(r.epochMs), state: r.state, command: r.command, raw: r.raw, inferenceUs: r.inferenceUs, status: r.status, extra: r.extra, reward: r.reward, success: r.success });
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
  const onEstop = () => loopControl.send(LoopCommand.Estop);
  if (signal?.aborted) onStop();
  if (estop?.aborted) onEstop();
  signal?.addEventListener('abort', onStop, { once: true });
  estop?.addEventListener('abort', onEstop, { once: true });
  const timer = setInterval(drain, drainEveryMs ?? 10);
  try {
    const message = await new Promise<Extract<DeployWorkerMessage, { type: 'done' | 'error' }>>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: DeployWorkerMessage) => {
        if (m.type === 'ready') {
          ring = new CycleRing(names.length, m.extraLayout.reduce((k, f) => k + f.size, 0), spec.ringCapacity, m.ring);
          if (recorder) {
            // Topics are created before the first cycle can be drained (drain waits for `log`).
            const pending = ring;
            ring = undefined;
            logReady = DeployLog.open(recorder, names, m.extraLayout).then((l) => {
              log = l;
              ring = pending;
            });
            logReady.catch(reject);
          }
          onReady?.(m);
        } else if (m.type === 'events') {
          void logReady.then(() => {
            drain(); // the cycles before the boundary first
            log?.episodeEvents(epochNs(m.epochMs), m.events);
          });
        } else {
          settled = true;
          void logReady.then(() => resolve(m), reject);
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
    return { ...message.result, thread: 'worker', realtime: message.realtime, logDropped, logged, environment: message.environment };
  } finally {
    clearInterval(timer);
    drain();
    signal?.removeEventListener('abort', onStop);
    estop?.removeEventListener('abort', onEstop);
    await worker.terminate();
  }
}
