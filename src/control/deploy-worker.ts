/**
 * The deploy loop's worker thread (started by deploy-worker-host.ts). It owns the follower's port,
 * the ONNX session and the loop, and nothing else: its thread may block between cycles
 * (`blockingSleeper`: Atomics.wait, then a short spin) and may run at SCHED_FIFO. It never touches
 * the disk or the terminal: each cycle goes into the shared ring for the main thread to log.
 *
 * Real ports are opened with the tty binding (bus/tty-binding.ts): @serialport/bindings-cpp cannot be
 * used from a worker thread. This is the one import from `bus/` in `control/`: the transport is the
 * worker's own business, chosen for the thread it runs on.
 *
 * Order matters for safety: the model is checked against the arm's joints and the observation
 * layout before the port is opened, so a model that does not fit never gets torque enabled.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Arm } from '../arm/arm.ts';
import type { Calibration } from '../arm/calibration.ts';
import { parkArm, type ParkOptions } from '../arm/park.ts';
import { armProfile, type ArmKind } from '../arm/profiles.ts';
import { blockingSleeper } from '../arm/rate-loop.ts';
import { TtyBinding } from '../bus/tty-binding.ts';
import { CycleRing, LoopCommand, LoopControl } from './cycle-ring.ts';
import type { CreateDeployEnvironment, DeployEnvironment, EnvironmentRef } from './deploy-environment.ts';
import { runDeploy, type DeployResult } from './deploy-loop.ts';
import { DeployEnvironmentError } from './errors.ts';
import { OnnxPolicy } from './onnx-policy.ts';
import { dropRealtimePriority, requestRealtimePriority, type RealtimeStatus } from './realtime-priority.ts';
import { serializeError, type SerializedError } from './worker-errors.ts';
import type { EpisodeEvent } from '../record/episodes.ts';

/** Everything the worker needs, as JSON (plus the ring's SharedArrayBuffer). */
export interface DeployWorkerSpec {
  readonly arm: { readonly kind: ArmKind; readonly calibration: Calibration; readonly path?: string; readonly busTimeoutMs?: number };
  readonly model: string;
  readonly rateHz: number;
  readonly durationS?: number;
  readonly overrunBudget?: number;
  readonly maxSpeed?: number;
  readonly readTimeoutMs?: number;
  readonly holdAfterMs?: number;
  readonly torqueOffAfterMs?: number;
  readonly environment?: EnvironmentRef;
  /** SCHED_FIFO priority to ask for (1–99); 0 or absent: normal priority. */
  readonly realtimePriority?: number;
  readonly spinUs?: number;
  /** Park after a normal end (not after a fault or e-stop); false: leave the arm where it is. */
  readonly park?: ParkOptions | false;
  readonly ringCapacity: number;
}

export type DeployWorkerMessage =
  | {
      readonly type: 'ready';
      readonly realtime: RealtimeStatus;
      readonly transport: string;
      readonly algo: string;
      readonly backend: string;
      readonly observation: string;
      /** The observation features after the joints (their values travel in the ring). */
      readonly extraLayout: readonly { readonly name: string; readonly size: number }[];
      /** The cycle ring, sized for this run's observation. */
      readonly ring: SharedArrayBuffer;
    }
  | { readonly type: 'events'; readonly epochMs: number; readonly events: readonly EpisodeEvent[] }
  | { readonly type: 'done'; readonly result: DeployResult; readonly environment: Record<string, string | number | boolean> | undefined; readonly realtime: RealtimeStatus }
  | { readonly type: 'error'; readonly error: SerializedError };

/** A FIFO loop that overran more than this share of its cycles over a window gives FIFO up. */
const FIFO_OVERRUN_SHARE = 0.2;

async function main(spec: DeployWorkerSpec, control: LoopControl): Promise<DeployWorkerMessage> {
  let realtime = requestRealtimePriority(spec.realtimePriority ?? 0);
  const profile = armProfile(spec.arm.kind, 'follower');
  let env: DeployEnvironment | undefined;
  let policy: OnnxPolicy | undefined;
  let arm: Arm | undefined;
  try {
    if (spec.environment) {
      const mod = (await import(spec.environment.module)) as { createDeployEnvironment?: CreateDeployEnvironment };
      if (typeof mod.createDeployEnvironment !== 'function') throw new DeployEnvironmentError(spec.environment.module, 'it does not export createDeployEnvironment(params)');
      env = await mod.createDeployEnvironment(spec.environment.params);
    }
    const path = env?.path ?? spec.arm.path;
    if (!path) throw new DeployEnvironmentError(spec.environment?.module ?? '(none)', 'no follower port: give arm.path, or an environment that supplies one');
    const names = profile.joints.map((j) => j.name);
    const extraLayout = env?.extra?.layout ?? [];
    const observation = [{ name: 'follower.position', size: names.length }, ...extraLayout];
    const ring = new CycleRing(names.length, extraLayout.reduce((k, f) => k + f.size, 0), spec.ringCapacity);
    policy = await OnnxPolicy.load(spec.model, { jointNames: names, observation });
    // A real port in this thread needs the tty binding: @serialport/bindings-cpp aborts the process
    // when a worker thread reads a port (see bus/tty-binding.ts).
    const binding = env?.binding ?? (process.platform === 'linux' ? new TtyBinding() : undefined);
    arm = await Arm.open({ profile, calibration: spec.arm.calibration, path, binding, bus: { timeoutMs: env?.busTimeoutMs ?? spec.arm.busTimeoutMs ?? 100 } });
    parentPort!.postMessage({
      type: 'ready',
      realtime,
      transport: env?.transport ?? path,
      algo: policy.metadata.algo,
      backend: policy.metadata.trainingBackend,
      observation: observation.map((o) => `${o.name}[${o.size}]`).join(' + '),
      extraLayout,
      ring: ring.buffer,
    } satisfies DeployWorkerMessage);
    const ctl = control.word;
    const epochOffset = performance.timeOrigin;
    // Overrun guard for FIFO: count overruns per window of one second's cycles.
    const window = Math.max(50, Math.round(spec.rateHz));
    let windowStart = 0;
    let overrunsAtStart = 0;
    const result = await runDeploy({
      follower: arm,
      policy,
      rateHz: spec.rateHz,
      durationS: spec.durationS,
      overrunBudget: spec.overrunBudget,
      maxSpeed: spec.maxSpeed,
      readTimeoutMs: spec.readTimeoutMs,
      holdAfterMs: spec.holdAfterMs,
      torqueOffAfterMs: spec.torqueOffAfterMs,
      // Spin the last ~0.5 ms (a quarter period at most): on virtual machines a sleeping thread can
      // take hundreds of µs to run again, but a FIFO thread that spins most of its period is
      // throttled by the kernel (sched_rt_runtime_us) for tens of ms.
      sleeper: blockingSleeper({ wake: ctl, spinUs: spec.spinUs ?? Math.min(500, 250_000 / spec.rateHz) }),
      environment: env,
      control: () => {
        const c = Atomics.load(ctl, 0);
        return c === LoopCommand.Estop ? 'estop' : c === LoopCommand.Stop ? 'stop' : undefined;
      },
      onCycle: (c) => {
        if (realtime.granted && c.index - windowStart >= window) {
          if (c.overruns - overrunsAtStart > FIFO_OVERRUN_SHARE * window && dropRealtimePriority()) {
            realtime = { granted: false, priority: 0, detail: `${realtime.detail}, given up after ${(c.tMs / 1000).toFixed(1)} s: the loop overran ${c.overruns - overrunsAtStart} of ${window} cycles, and a FIFO thread that never sleeps is throttled by the kernel` };
          }
          windowStart = c.index;
          overrunsAtStart = c.overruns;
        }
        ring.write({
          epochMs: epochOffset + c.perfMs,
          index: c.index,
          status: c.status,
          inferenceUs: c.inferenceUs,
          latencyUs: c.latencyUs,
          overruns: c.overruns,
          state: c.state,
          command: c.command,
          raw: c.raw,
          extra: c.extra,
          reward: c.task.reward,
          success: c.task.success,
        });
      },
      // Rare (an episode boundary): a message is fine here.
      onEpisodeEvents: (perfMs, events) => parentPort!.postMessage({ type: 'events', epochMs: epochOffset + perfMs, events } satisfies DeployWorkerMessage),
    });
    if (spec.park !== false) await parkArm(arm, spec.park ?? {}).catch(() => undefined);
    return { type: 'done', result, environment: env?.summary?.(), realtime };
  } catch (e) {
    return { type: 'error', error: serializeError(e) };
  } finally {
    await policy?.close().catch(() => undefined);
    await arm?.close().catch(() => undefined);
    await env?.close().catch(() => undefined);
  }
}

const data = workerData as { spec: DeployWorkerSpec; control: SharedArrayBuffer };
parentPort!.postMessage(await main(data.spec, new LoopControl(data.control)));
