/**
 * What the loop worker needs besides serial port paths, supplied by a module it imports by URL
 * (so `control/` never imports what provides it: a simulated world with its leader and follower, a
 * task publishing targets, a scripted operator). The module exports `createLoopEnvironment(params)`
 * (or, the older name, `createDeployEnvironment`); `params` is JSON (it crosses the thread boundary).
 * Everything here runs on the worker thread, next to the loop.
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { EpisodeWorldHooks } from '../record/episode-control.ts';

/** What the environment sees of each cycle (deploy, teleop, record). Arrays are reused: copy what you keep. */
export interface LoopCycleView {
  readonly index: number;
  /** ms since the loop started. */
  readonly tMs: number;
  /** performance.now() of the cycle start, on the loop's thread. */
  readonly perfMs: number;
  /** The follower's joints (null: its read failed this cycle). */
  readonly state: Float64Array | null;
  readonly command: Float64Array;
  readonly status: string;
}

/** A port the loop opens: a path and the binding to open it with (undefined: the thread's default). */
export interface EnvironmentPort {
  readonly path: string;
  readonly binding?: BindingInterface;
  readonly busTimeoutMs?: number;
}

/** What the task says about a cycle (logged on /reward and /task/success, so a run is training data). */
export interface TaskSample {
  readonly reward?: number;
  readonly success?: boolean;
}

export interface DeployEnvironment {
  /** The follower's port, opened with `binding` (undefined: the OS serial binding). */
  readonly path: string;
  readonly binding?: BindingInterface;
  /** Bus reply timeout for this transport, ms. */
  readonly busTimeoutMs?: number;
  /** Human-readable transport, e.g. "a real pty (/tmp/x)" or "the in-process binding". */
  readonly transport: string;
  /** Observation features after the follower's joints: their layout (checked against the model) and a reader. */
  readonly extra?: { readonly layout: readonly { readonly name: string; readonly size: number }[]; read(): ArrayLike<number> };
  /** The leader's port (teleop, record); absent: the spec's leader path. */
  readonly leader?: EnvironmentPort;
  /** Recording sessions: the world's side of each episode (pick a target, move the operator). */
  readonly episodes?: EpisodeWorldHooks;
  /**
   * Deploy: positions the environment drives the follower to this cycle instead of the policy's
   * action, or null to let the policy act. Called with the fresh state before inference (which is
   * skipped when it drives); what it returns still passes the SafetyFilter. A simulated scene uses
   * it to bring the arm back to its start pose between episodes; a real arm's environment has none
   * (nothing resets a real scene).
   */
  drive?(state: Float64Array): ArrayLike<number> | null;
  /**
   * Devices simulated on the loop's own thread: lets what the loop just wrote reach them (see
   * SimPort.settle), within `budgetMs`. The worker's sleeper calls it before it blocks the thread.
   * A real arm's environment has none.
   */
  settle?(budgetMs: number): Promise<void>;
  /**
   * Called every cycle after the write; may score it. In a recording session it is called for the
   * recorded cycles only (after the episode's start hook).
   */
  onCycle?(c: LoopCycleView): TaskSample | void;
  /** Episode events since the last call (start, end): logged on /episode at the cycle's time. */
  takeEvents?(): readonly EpisodeEvent[];
  /** The run ended: close the open episode (its 'end' event comes from the next takeEvents). */
  end?(): void;
  /** kinesthetic: the arm is held at the end of the recording; the hand (the simulator's) lets go of it. */
  release?(): void;
  /** Figures for the caller after the run (JSON). */
  summary?(): Record<string, string | number | boolean>;
  close(): Promise<void>;
}

export type CreateDeployEnvironment = (params: unknown) => Promise<DeployEnvironment>;
export type LoopEnvironment = DeployEnvironment;
export type CreateLoopEnvironment = CreateDeployEnvironment;

/** Where the worker finds the environment: a module URL and its JSON parameters. */
export interface EnvironmentRef {
  readonly module: string;
  readonly params: unknown;
}
