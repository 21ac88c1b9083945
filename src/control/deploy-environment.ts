/**
 * What the deploy worker needs besides a serial port path, supplied by a module it imports by URL
 * (so `control/` never imports what provides it: a simulated world, a task publishing targets).
 * The module exports `createDeployEnvironment(params)`; `params` is JSON (it crosses the thread
 * boundary). Everything here runs on the worker thread, next to the loop.
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { DeployCycle } from './deploy-loop.ts';

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
  /** Called every cycle after the write; may score it. */
  onCycle?(c: DeployCycle): TaskSample | void;
  /** Episode events since the last call (start, end): logged on /episode at the cycle's time. */
  takeEvents?(): readonly EpisodeEvent[];
  /** The run ended: close the open episode (its 'end' event comes from the next takeEvents). */
  end?(): void;
  /** Figures for the caller after the run (JSON). */
  summary?(): Record<string, string | number | boolean>;
  close(): Promise<void>;
}

export type CreateDeployEnvironment = (params: unknown) => Promise<DeployEnvironment>;

/** Where the worker finds the environment: a module URL and its JSON parameters. */
export interface EnvironmentRef {
  readonly module: string;
  readonly params: unknown;
}
