/**
 * The loop engine's worker thread (started by loop-host.ts): every fixed-rate loop that drives an
 * arm runs here — deploy (follower + ONNX policy), teleop (leader → follower), record (teleop with
 * episodes), replay, and the ROS bridge (external commands from a shared slot, or a leader). The thread owns the ports (follower, and leader when there is one), the model, the
 * episode state machine and the loop, and nothing else: it may block between cycles
 * (`blockingSleeper`: Atomics.wait, then a spin tuned to the machine) and may run at SCHED_FIFO. It
 * never touches the disk or the terminal: each cycle goes into the shared ring for the main thread
 * to log, show and encode.
 *
 * Real ports are opened with the tty binding (bus/tty-binding.ts): @serialport/bindings-cpp cannot be
 * used from a worker thread. This is the one import from `bus/` in `control/`: the transport is the
 * worker's own business, chosen for the thread it runs on.
 *
 * Order matters for safety: the model is checked against the arm's joints and the observation
 * layout before any port is opened, so a model that does not fit never gets torque enabled.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Arm } from '../arm/arm.ts';
import type { Calibration } from '../arm/calibration.ts';
import type { ControlLoopResult } from '../arm/control-loop.ts';
import { parkArm, type ParkOptions } from '../arm/park.ts';
import { armProfile, type ArmKind } from '../arm/profiles.ts';
import type { ServoSettingOverride } from '../arm/servo-settings.ts';
import type { Sleeper } from '../arm/rate-loop.ts';
import { runTeleop, type TeleopCycle } from '../arm/teleop.ts';
import type { Compliance } from '../record/kinesthetic-session.ts';
import { runBridgeLoop } from './bridge-loop.ts';
import { runKinestheticLoop } from './kinesthetic-loop.ts';
import { CommandSlot } from './command-slot.ts';
import { TtyBinding } from '../bus/tty-binding.ts';
import { EpisodeControl, type ControlKey, type EndedEpisode, type EpisodePlan } from '../record/episode-control.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import { CycleRing, type CycleEpisode, LoopCommand, LoopControl, LoopKey } from './cycle-ring.ts';
import type { CreateLoopEnvironment, LoopCycleView, LoopEnvironment, EnvironmentRef, TaskSample } from './deploy-environment.ts';
import { runDeploy } from './deploy-loop.ts';
import { DeployEnvironmentError, LoopSpecError } from './errors.ts';
import { OnnxPolicy } from './onnx-policy.ts';
import { realtimeBudgetShare, requestRealtimePriority, threadCpuMs, threadTaskId, type RealtimeStatus } from './realtime-priority.ts';
import { tunedSleeper, type WakeTuning } from './wake-tuning.ts';
import { serializeError, type SerializedError } from './worker-errors.ts';

/**
 * Which loop: deploy (policy on the follower), teleop (leader drives the follower), record (teleop
 * with episodes), replay (a recorded episode on the follower: its body is a module the worker
 * imports by URL, `spec.body`, so `control/` does not import `replay/`), bridge (the ROS bridge: the
 * follower follows the commands the main thread puts in `spec.commandSlot`, or the leader if given),
 * kinesthetic (no leader, nothing commanded: the hand moves the limp follower, its states are
 * recorded in episodes; held, then parked at the end: kinesthetic-loop.ts).
 */
export type LoopKind = 'deploy' | 'teleop' | 'record' | 'replay' | 'bridge' | 'kinesthetic';

/** What a loop body module (`spec.body`) gets: the open follower, the tuned sleeper, the stop / e-stop word. */
export interface LoopBodyContext {
  readonly follower: Arm;
  readonly calibration: Calibration;
  readonly sleeper: Sleeper;
  control(): 'stop' | 'estop' | undefined;
  /** Why control() said 'estop'. */
  estopReason(): string;
}

/** A loop body module exports `runLoopBody(context, params)`; its result must be JSON (it crosses the thread boundary). */
export type RunLoopBody = (context: LoopBodyContext, params: unknown) => Promise<unknown>;

export interface LoopArmSpec {
  readonly calibration: Calibration;
  /** Serial port; absent: the environment supplies it. */
  readonly path?: string;
  readonly busTimeoutMs?: number;
  /** Overrides of the profile's servo settings (Arm.open). */
  readonly servoSettings?: readonly ServoSettingOverride[];
}

/** Everything the worker needs, as JSON (plus the control word's SharedArrayBuffer). */
export interface LoopWorkerSpec {
  readonly kind: LoopKind;
  /** The follower (the arm every loop drives). */
  readonly arm: LoopArmSpec & { readonly kind: ArmKind };
  /** teleop, record: the leader; bridge: an optional leader. */
  readonly leader?: LoopArmSpec;
  /** bridge: the CommandSlot's buffer the main thread writes external commands into (command-slot.ts). */
  readonly commandSlot?: SharedArrayBuffer;
  /** bridge with a leader: an external command drives the follower for this long after it arrives, ms (default 1000). */
  readonly takeoverMs?: number;
  /** deploy: the ONNX policy. */
  readonly model?: string;
  /** record, kinesthetic: episodes, their length and the reset time between them. */
  readonly episodes?: EpisodePlan;
  /** kinesthetic: how the follower yields to the hand (default torque off). */
  readonly compliance?: Compliance;
  /** kinesthetic: no fresh follower state for this long is a fault, ms (default 250). */
  readonly faultAfterMs?: number;
  /** kinesthetic: after the arm is held at the end, time for a person to let go before it parks, ms. */
  readonly letGoMs?: number;
  /** replay: the module that runs the loop on the open follower (exports runLoopBody) and its JSON parameters. */
  readonly body?: EnvironmentRef;
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
  /** Fixed spin before each deadline, µs; absent: tuned to this machine (wake-tuning.ts). */
  readonly spinUs?: number;
  /** Park after a normal end (not after a fault or e-stop); false: leave the arm where it is. */
  readonly park?: ParkOptions | false;
  /** deploy: run the model once in the spin window before each deadline and while the read's last reply is on the wire (default true; false: the benchmark's comparison). */
  readonly warmInference?: boolean;
  readonly ringCapacity: number;
}

/** What a recording session did (record loops). */
export interface SessionSummary {
  readonly kept: number;
  readonly discarded: number;
  readonly recordedCycles: number;
  readonly stoppedBy: 'done' | 'key';
}

/** A loop's result: the shared core, plus what the kind adds. */
export interface LoopResult extends ControlLoopResult {
  /** deploy: cycles held because too many before them woke late. */
  readonly budgetHolds: number;
  /** deploy: inference time per cycle, µs. */
  readonly inferenceUs: readonly number[];
  /** teleop, record: mean |follower − leader| over revolute joints, rad. */
  readonly trackingErrorRad: number;
  readonly session: SessionSummary | undefined;
  /** After a normal end with parking: whether the follower reached its rest pose. */
  readonly parked: boolean | undefined;
  /** How long parking took, s (NaN: not parked). */
  readonly parkSeconds: number;
  /** The wake strategy the loop used. */
  readonly wake: WakeTuning;
  /** replay: what the body returned. */
  readonly body: unknown;
  /** kinesthetic: cycles whose follower read failed (nothing recorded for them). */
  readonly missedReads: number;
  /** kinesthetic: after a normal end, the arm was taken hold of where the hand left it. */
  readonly held: boolean | undefined;
}

export type LoopWorkerMessage =
  | {
      readonly type: 'ready';
      readonly kind: LoopKind;
      readonly realtime: RealtimeStatus;
      readonly transport: string;
      /** deploy: the model's algorithm and training backend. */
      readonly algo: string;
      readonly backend: string;
      readonly observation: string;
      /** The observation features after the joints (their values travel in the ring). */
      readonly extraLayout: readonly { readonly name: string; readonly size: number }[];
      /** The environment scores cycles (reward, success): the log gets the task topics. */
      readonly task: boolean;
      /** The cycle ring, sized for this run. */
      readonly ring: SharedArrayBuffer;
    }
  /** The loop asks the main thread to take its thread off SCHED_FIFO (`detail`: why, for the result). */
  | { readonly type: 'drop-realtime'; readonly tid: string; readonly detail: string }
  | { readonly type: 'events'; readonly epochMs: number; readonly events: readonly EpisodeEvent[]; readonly ended: readonly EndedEpisode[] }
  | { readonly type: 'done'; readonly result: LoopResult; readonly environment: Record<string, string | number | boolean> | undefined; readonly realtime: RealtimeStatus }
  | { readonly type: 'error'; readonly error: SerializedError; readonly realtime: RealtimeStatus };

/** A FIFO loop that overran more than this share of its cycles over a window gives FIFO up. */
const FIFO_OVERRUN_SHARE = 0.2;
/** … or that ran within this share of the kernel's real-time budget (realtimeBudgetShare): past the budget the kernel stops it for the rest of the second. */
const FIFO_BUDGET_MARGIN = 0.01;
const KEYS: readonly (ControlKey | undefined)[] = [undefined, 'next', 'rerecord', 'stop'];
const NO_EVENTS: readonly EpisodeEvent[] = Object.freeze([]);
const EMPTY_SAFETY: ControlLoopResult['safety'] = { cycles: 0, clampedCycles: 0, stepLimitedCycles: 0, nonFinite: 0, holds: 0, faults: 0, perJoint: {}, estop: undefined, watchdog: undefined };

async function loadEnvironment(ref: EnvironmentRef): Promise<LoopEnvironment> {
  const mod = (await import(ref.module)) as { createLoopEnvironment?: CreateLoopEnvironment; createDeployEnvironment?: CreateLoopEnvironment };
  const create = mod.createLoopEnvironment ?? mod.createDeployEnvironment;
  if (typeof create !== 'function') throw new DeployEnvironmentError(ref.module, 'it does not export createLoopEnvironment(params) (or createDeployEnvironment)');
  return create(ref.params);
}

async function main(spec: LoopWorkerSpec, control: LoopControl): Promise<LoopWorkerMessage> {
  let realtime = requestRealtimePriority(spec.realtimePriority ?? 0);
  const followerProfile = armProfile(spec.arm.kind, 'follower');
  const withLeader = spec.kind === 'teleop' || spec.kind === 'record' || (spec.kind === 'bridge' && spec.leader !== undefined);
  let env: LoopEnvironment | undefined;
  let policy: OnnxPolicy | undefined;
  let follower: Arm | undefined;
  let leader: Arm | undefined;
  let session: EpisodeControl | undefined;
  let epochOffset = performance.timeOrigin;
  /** The ring record of a cycle that drives the follower from a leader or an external command (teleop, record, bridge): no inference. */
  const drivenRecord = (c: TeleopCycle, extra: ArrayLike<number> | null = null, task?: TaskSample, episode?: CycleEpisode) => ({
    epochMs: epochOffset + c.perfMs,
    tMs: c.tMs,
    index: c.index,
    status: c.status,
    inferenceUs: NaN,
    latencyUs: c.latencyUs,
    overruns: c.overruns,
    state: c.follower,
    leader: c.leader,
    command: c.command,
    raw: null,
    extra,
    reward: task?.reward,
    success: task?.success,
    episode,
  });
  try {
    if (spec.kind === 'deploy' && !spec.model) throw new LoopSpecError('deploy', 'a model');
    if (withLeader && !spec.leader) throw new LoopSpecError(spec.kind, 'a leader');
    if ((spec.kind === 'record' || spec.kind === 'kinesthetic') && !spec.episodes) throw new LoopSpecError(spec.kind, 'an episode plan');
    if (spec.kind === 'replay' && !spec.body) throw new LoopSpecError('replay', 'a body module');
    if (spec.kind === 'bridge' && !spec.commandSlot) throw new LoopSpecError('bridge', 'a command slot');
    if (spec.environment) env = await loadEnvironment(spec.environment);
    const path = env?.path ?? spec.arm.path;
    if (!path) throw new DeployEnvironmentError(spec.environment?.module ?? '(none)', 'no follower port: give arm.path, or an environment that supplies one');
    const leaderPort = env?.leader ?? (spec.leader?.path ? { path: spec.leader.path } : undefined);
    if (withLeader && !leaderPort) throw new DeployEnvironmentError(spec.environment?.module ?? '(none)', 'no leader port: give leader.path, or an environment that supplies one');
    const names = followerProfile.joints.map((j) => j.name);
    const extraLayout = env?.extra?.layout ?? [];
    const observation = [{ name: 'follower.position', size: names.length }, ...extraLayout];
    const ring = new CycleRing(names.length, extraLayout.reduce((k, f) => k + f.size, 0), spec.ringCapacity);
    if (spec.kind === 'deploy') policy = await OnnxPolicy.load(spec.model!, { jointNames: names, observation });
    // A real port in this thread needs the tty binding: @serialport/bindings-cpp aborts the process
    // when a worker thread reads a port (see bus/tty-binding.ts).
    const defaultBinding = process.platform === 'linux' ? new TtyBinding() : undefined;
    if (withLeader) {
      leader = await Arm.open({
        profile: armProfile(spec.arm.kind, 'leader'),
        calibration: spec.leader!.calibration,
        path: leaderPort!.path,
        binding: leaderPort!.binding ?? defaultBinding,
        bus: { timeoutMs: leaderPort!.busTimeoutMs ?? spec.leader!.busTimeoutMs ?? 100 },
        servoSettings: spec.leader!.servoSettings,
      });
    }
    follower = await Arm.open({ profile: followerProfile, calibration: spec.arm.calibration, path, binding: env?.binding ?? defaultBinding, bus: { timeoutMs: env?.busTimeoutMs ?? spec.arm.busTimeoutMs ?? 100 }, servoSettings: spec.arm.servoSettings });
    const ctl = control.word;
    // Measured here, on this thread, before the first cycle: how late this machine wakes a thread
    // that waits for deadlines at this rate, and so how long to spin (wake-tuning.ts).
    const tuned = tunedSleeper({ wake: ctl, rateHz: spec.rateHz, fixedSpinUs: spec.spinUs, fifo: realtime.granted, settle: env?.settle ? (ms) => env!.settle!(ms) : undefined });
    const { sleeper } = tuned;
    // Deploy: the model runs once in the spin window before each deadline, so its code and weights
    // are in this core's caches when the cycle infers (onnx-policy.ts).
    if (policy && spec.warmInference !== false) tuned.setWarm(policy.warm.bind(policy));
    parentPort!.postMessage({
      type: 'ready',
      kind: spec.kind,
      realtime,
      transport: env?.transport ?? (leaderPort ? `${leaderPort.path} → ${path}` : path),
      algo: policy?.metadata.algo ?? '',
      backend: policy?.metadata.trainingBackend ?? '',
      observation: observation.map((o) => `${o.name}[${o.size}]`).join(' + '),
      extraLayout,
      task: env?.onCycle !== undefined,
      ring: ring.buffer,
    } satisfies LoopWorkerMessage);
    // FIFO guard, per window of a quarter second's cycles: a FIFO thread that keeps overrunning, or
    // that runs nearly all the time (a loop at the wire's limit never sleeps), is stopped by the
    // kernel's RT throttling for the rest of each second (50 ms by default), which is worse than
    // normal priority: give FIFO up before the budget runs out.
    const window = Math.max(25, Math.round(spec.rateHz / 4));
    const budget = realtimeBudgetShare();
    let windowStart = 0;
    let overrunsAtStart = 0;
    let cpuAtStart = threadCpuMs();
    let wallAtStart = performance.now();
    let dropping = false;
    const fifoGuard = (index: number, tMs: number, overruns: number) => {
      if (!realtime.granted || dropping || index - windowStart < window) return;
      const cpu = budget < 1 ? threadCpuMs() : NaN;
      const wall = performance.now();
      const share = (cpu - cpuAtStart) / (wall - wallAtStart);
      const why =
        overruns - overrunsAtStart > FIFO_OVERRUN_SHARE * window
          ? `the loop overran ${overruns - overrunsAtStart} of ${window} cycles, and a FIFO thread that never sleeps is throttled by the kernel`
          : share > budget - FIFO_BUDGET_MARGIN
            ? `the loop ran ${(100 * Math.min(1, share)).toFixed(0)} % of the time, and the kernel stops a FIFO thread past ${(100 * budget).toFixed(0)} % of each second (sched_rt_runtime_us)`
            : undefined;
      const tid = why ? threadTaskId() : undefined;
      if (why && tid) {
        // The main thread runs chrt: starting a process would block this thread (realtime-priority.ts).
        dropping = true;
        parentPort!.postMessage({ type: 'drop-realtime', tid, detail: `${realtime.detail}, given up after ${(tMs / 1000).toFixed(1)} s: ${why}` } satisfies LoopWorkerMessage);
      }
      windowStart = index;
      overrunsAtStart = overruns;
      cpuAtStart = cpu;
      wallAtStart = wall;
    };
    epochOffset = performance.timeOrigin;
    const command = () => {
      const c = Atomics.load(ctl, 0);
      return c === LoopCommand.Estop ? 'estop' : c === LoopCommand.Stop ? 'stop' : undefined;
    };
    const settings = {
      rateHz: spec.rateHz,
      durationS: spec.durationS,
      maxSpeed: spec.maxSpeed,
      readTimeoutMs: spec.readTimeoutMs,
      holdAfterMs: spec.holdAfterMs,
      torqueOffAfterMs: spec.torqueOffAfterMs,
      sleeper,
      estopReason: () => control.estopReason(),
    };
    let core: ControlLoopResult & { budgetHolds?: number; inferenceUs?: readonly number[]; trackingErrorRad?: number; missedReads?: number; held?: boolean };
    let body: unknown;
    if (spec.kind === 'replay') {
      const mod = (await import(spec.body!.module)) as { runLoopBody?: RunLoopBody };
      if (typeof mod.runLoopBody !== 'function') throw new DeployEnvironmentError(spec.body!.module, 'it does not export runLoopBody(context, params)');
      const t0 = performance.now();
      body = await mod.runLoopBody({ follower, calibration: spec.arm.calibration, sleeper, control: command, estopReason: () => control.estopReason() }, spec.body!.params);
      const seconds = (performance.now() - t0) / 1000;
      core = { cycles: 0, seconds, achievedHz: NaN, overruns: 0, latenessUs: [], latencyUs: [], safety: (body as { safety?: ControlLoopResult['safety'] }).safety ?? EMPTY_SAFETY, stop: 'duration' };
    } else if (spec.kind === 'bridge') {
      // The main thread owns the ROS graph: it writes each accepted command into the slot, drains the
      // cycles off the ring to publish /joint_states and record, and sends an e-stop through the word.
      const slot = new CommandSlot(names.length, spec.commandSlot!);
      core = await runBridgeLoop({
        ...settings,
        follower,
        leader,
        slot,
        takeoverMs: spec.takeoverMs,
        control: command,
        onCycle: (c) => {
          fifoGuard(c.index, c.tMs, c.overruns);
          ring.write(drivenRecord(c));
        },
      });
    } else if (spec.kind === 'kinesthetic') {
      // The hand moves the limp follower; episodes as in a recording, every episode's start marked as
      // a kinesthetic demonstration; the task (if any) scores the recorded cycles.
      const hooks = env?.episodes;
      session = new EpisodeControl(spec.episodes!, {
        start: (i) => {
          const info = hooks?.start?.(i) ?? {};
          return { operator: info.operator, detail: { ...info.detail, demonstration: 'kinesthetic' } };
        },
        reset: () => hooks?.reset?.(),
      });
      const ep = session;
      const extraRead = env?.extra ? env.extra.read.bind(env.extra) : undefined;
      const onCycleEnv = env?.onCycle?.bind(env);
      const noCommand = new Float64Array(names.length).fill(NaN);
      const view: { -readonly [K in keyof LoopCycleView]: LoopCycleView[K] } = { index: 0, tMs: 0, perfMs: 0, state: null, command: noCommand, status: 'ok' };
      const episodeView = { index: 0, phase: 'idle' as const as 'idle' | 'episode' | 'reset', recorded: false, phaseLeftS: 0, kept: 0 };
      core = await runKinestheticLoop({
        follower,
        rateHz: spec.rateHz,
        session: ep,
        compliance: spec.compliance,
        durationS: spec.durationS,
        faultAfterMs: spec.faultAfterMs,
        sleeper,
        control: command,
        estopReason: () => control.estopReason(),
        key: () => KEYS[control.takeKey()],
        sample: onCycleEnv
          ? (c) => {
              view.index = c.index;
              view.tMs = c.tMs;
              view.perfMs = c.perfMs;
              view.state = c.follower;
              return onCycleEnv(view) ?? undefined;
            }
          : undefined,
        release: env?.release?.bind(env),
        letGoMs: spec.letGoMs,
        onCycle: (c) => {
          fifoGuard(c.index, c.tMs, c.overruns);
          const task = ep.task as TaskSample | undefined;
          episodeView.index = ep.episode;
          episodeView.phase = ep.phase;
          episodeView.recorded = c.recorded;
          episodeView.phaseLeftS = ep.phaseLeftS(c.tMs);
          episodeView.kept = ep.kept;
          ring.write({
            epochMs: epochOffset + c.perfMs,
            tMs: c.tMs,
            index: c.index,
            status: 'ok',
            inferenceUs: NaN,
            latencyUs: c.latencyUs,
            overruns: c.overruns,
            state: c.follower,
            leader: null,
            command: noCommand,
            raw: null,
            extra: c.recorded && extraRead ? extraRead() : null,
            reward: task?.reward,
            success: task?.success,
            episode: episodeView,
          });
          const events = ep.takeEvents();
          // Rare (an episode boundary): a message is fine here.
          if (events.length > 0) parentPort!.postMessage({ type: 'events', epochMs: epochOffset + c.perfMs, events, ended: ep.takeEnded() } satisfies LoopWorkerMessage);
        },
      }).catch((e: unknown) => {
        // E-stop or lost arm: the follower is already held and limp; the open episode closes as cut.
        ep.cut();
        const events = ep.takeEvents();
        if (events.length > 0) parentPort!.postMessage({ type: 'events', epochMs: epochOffset + performance.now(), events, ended: [] } satisfies LoopWorkerMessage);
        throw e;
      });
    } else if (spec.kind === 'deploy') {
      core = await runDeploy({
        ...settings,
        follower,
        policy: policy!,
        warmBeforeReply: spec.warmInference !== false,
        overrunBudget: spec.overrunBudget,
        environment: env,
        control: command,
        onCycle: (c) => {
          fifoGuard(c.index, c.tMs, c.overruns);
          ring.write({
            epochMs: epochOffset + c.perfMs,
            tMs: c.tMs,
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
        onEpisodeEvents: (perfMs, events) => parentPort!.postMessage({ type: 'events', epochMs: epochOffset + perfMs, events, ended: [] } satisfies LoopWorkerMessage),
      });
    } else {
      // teleop and record: the leader's joints are the command; the environment (if any) scores and
      // observes; a recording session decides per cycle whether the cycle belongs to an episode.
      if (spec.kind === 'record') session = new EpisodeControl(spec.episodes!, env?.episodes ?? {});
      const ep = session;
      const extraRead = env?.extra ? env.extra.read.bind(env.extra) : undefined;
      const onCycleEnv = env?.onCycle?.bind(env);
      const view: { -readonly [K in keyof LoopCycleView]: LoopCycleView[K] } = { index: 0, tMs: 0, perfMs: 0, state: null, command: new Float64Array(0), status: 'ok' };
      const sample = onCycleEnv ? () => onCycleEnv(view) ?? undefined : undefined;
      const episodeView = { index: 0, phase: 'idle' as const as 'idle' | 'episode' | 'reset', recorded: false, phaseLeftS: 0, kept: 0 };
      const teleopControl = () => command() ?? (ep?.stopped ? 'stop' : undefined);
      core = await runTeleop({
        ...settings,
        leader: leader!,
        follower,
        control: teleopControl,
        onCycle: (c: TeleopCycle) => {
          fifoGuard(c.index, c.tMs, c.overruns);
          view.index = c.index;
          view.tMs = c.tMs;
          view.perfMs = c.perfMs;
          view.state = c.follower;
          view.command = c.command;
          view.status = c.status;
          let task: TaskSample | undefined;
          let events = NO_EVENTS;
          if (ep) {
            const key = KEYS[control.takeKey()];
            const recorded = ep.step(c.tMs, key, sample);
            task = ep.task as TaskSample | undefined;
            events = ep.takeEvents();
            episodeView.index = ep.episode;
            episodeView.phase = ep.phase;
            episodeView.recorded = recorded;
            episodeView.phaseLeftS = ep.phaseLeftS(c.tMs);
            episodeView.kept = ep.kept;
          } else {
            task = sample?.();
            const envEvents = env?.takeEvents?.();
            if (envEvents) events = envEvents;
          }
          ring.write(drivenRecord(c, extraRead ? extraRead() : null, task, ep ? episodeView : undefined));
          // Rare (an episode boundary): a message is fine here.
          if (events.length > 0) parentPort!.postMessage({ type: 'events', epochMs: epochOffset + c.perfMs, events, ended: ep ? ep.takeEnded() : [] } satisfies LoopWorkerMessage);
        },
      }).catch((e: unknown) => {
        // E-stop or lost arm: the follower is already held and limp. A recording closes its open episode as cut.
        if (ep) {
          ep.cut();
          const events = ep.takeEvents();
          if (events.length > 0) parentPort!.postMessage({ type: 'events', epochMs: epochOffset + performance.now(), events, ended: [] } satisfies LoopWorkerMessage);
        }
        throw e;
      });
    }
    let parked: boolean | undefined;
    let parkSeconds = NaN;
    if (spec.park !== false) {
      const p = await parkArm(follower, spec.park ?? {}).catch(() => undefined);
      parked = p?.reached ?? false;
      parkSeconds = p?.seconds ?? NaN;
    }
    const result: LoopResult = {
      ...core,
      budgetHolds: core.budgetHolds ?? 0,
      inferenceUs: core.inferenceUs ?? [],
      trackingErrorRad: core.trackingErrorRad ?? NaN,
      session: session ? { kept: session.kept, discarded: session.discarded, recordedCycles: session.recordedCycles, stoppedBy: session.stopped ?? 'done' } : undefined,
      parked,
      parkSeconds,
      wake: tuned.tuning(),
      body,
      missedReads: core.missedReads ?? 0,
      held: core.held,
    };
    return { type: 'done', result, environment: env?.summary?.(), realtime };
  } catch (e) {
    return { type: 'error', error: serializeError(e), realtime };
  } finally {
    await policy?.close().catch(() => undefined);
    await follower?.close().catch(() => undefined);
    await leader?.close().catch(() => undefined);
    await env?.close().catch(() => undefined);
  }
}

const data = workerData as { spec: LoopWorkerSpec; control: SharedArrayBuffer };
parentPort!.postMessage(await main(data.spec, new LoopControl(data.control)));
