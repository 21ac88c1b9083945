/**
 * Action labels for recordings without recorded actions (kinesthetic teaching, `ros record` of
 * `/joint_states` alone, a LeRobot dataset without `action`): the label of a sample is where the
 * follower's joints were a fixed horizon later. A recorded `/action` from a leader leads the
 * follower by the servo's lag, so "the position k steps ahead" is what a leader would have
 * commanded; the default horizon is the one measured best by held-out task success (docs/learning.md,
 * "Demonstrations without a leader arm").
 *
 * Units: positions as recorded (radians; gripper 0…1); times in ns.
 */
import { ArmbridgeError } from '../errors.ts';

/**
 * Default horizon, control steps. Measured on the simulated reach task at 20 Hz (BC on 200 expert
 * demonstrations, 100 held-out targets, seed 1; docs/learning.md, "Demonstrations without a leader arm"):
 * k = 1 is what the leader commanded (0.0009 rad from the recorded /action) but the policy trails
 * by the servo's lag (so101: 99 % kinesthetic, 97 % teleop without /action); k = 2 is the smallest
 * horizon with 100 % on both arms and both sources. Larger k raise the return further (k = 5:
 * 3.2 so101, 3.9 koch, against 1.6–2.7 at k = 2) by running ahead of the demonstrated path — faster
 * than the person showed, and on a task with a shaped path, across its corners — so the default
 * stays at the smallest horizon with full success; --label-horizon chooses another.
 */
export const DEFAULT_LABEL_HORIZON = 2;

/** Where a model's action labels came from (travels in its metadata). */
export type LabelSource = 'recorded' | 'derived' | 'mixed';

/** How labels are chosen when loading: 'auto' uses `/action` where an episode has it and derives
 * the rest; 'recorded' refuses episodes without `/action`; 'derived' ignores `/action`. */
export type LabelMode = 'auto' | 'recorded' | 'derived';

export interface LabelSummary {
  readonly source: LabelSource;
  /** Episodes labelled by recorded `/action`, and by derivation from the follower's states. */
  readonly recordedEpisodes: number;
  readonly derivedEpisodes: number;
  /** The horizon of the derived labels (steps of the recording's rate), when any were derived. */
  readonly horizonSteps?: number;
  /** The same horizon in ms (steps / rate), when the rate is known. */
  readonly horizonMs?: number;
}

export class LabelHorizonError extends ArmbridgeError {
  constructor(readonly horizonSteps: number) {
    super('LABEL_HORIZON', `label horizon ${horizonSteps} is not a whole number of steps ≥ 1: give --label-horizon 1, 2, 3 … (control steps ahead of each state)`);
  }
}

export class NoRecordedActionsError extends ArmbridgeError {
  constructor(readonly file: string) {
    super('NO_RECORDED_ACTIONS', `${file} has no /action messages and --labels recorded was asked for: train with --labels auto (labels derived from the follower's states) or record with a leader arm`);
  }
}

/**
 * Labels for one episode's follower states: row t gets the state of the first sample at or after
 * t + horizon·period (half a period of slack for timing jitter), the last sample where the episode
 * ends sooner (a demonstration ends holding its pose). Using the sample times, not row offsets,
 * keeps the horizon in time when a cycle's read failed and its sample is missing.
 *
 * @param states length × size, row-major.
 * @param timesNs one time per row, increasing.
 * @param periodNs the control period of the recording.
 */
export function deriveActionLabels(states: Float32Array, timesNs: BigInt64Array, size: number, horizonSteps: number, periodNs: number): Float32Array {
  if (!Number.isInteger(horizonSteps) || horizonSteps < 1) throw new LabelHorizonError(horizonSteps);
  const n = timesNs.length;
  const out = new Float32Array(n * size);
  const ahead = BigInt(Math.round(horizonSteps * periodNs - periodNs / 2));
  let j = 0;
  for (let t = 0; t < n; t++) {
    const want = timesNs[t]! + ahead;
    if (j < t) j = t;
    while (j < n - 1 && timesNs[j]! < want) j++;
    out.set(states.subarray(j * size, (j + 1) * size), t * size);
  }
  return out;
}

/** The control period of a recording, ns: from its rate, else the median step of the sample times. */
export function periodNsOf(rateHz: number | undefined, timesNs: BigInt64Array): number {
  if (rateHz && rateHz > 0) return 1e9 / rateHz;
  const steps: number[] = [];
  for (let i = 1; i < timesNs.length; i++) steps.push(Number(timesNs[i]! - timesNs[i - 1]!));
  steps.sort((a, b) => a - b);
  return steps.length ? steps[Math.floor(steps.length / 2)]! : 5e7;
}

export function summariseLabels(recordedEpisodes: number, derivedEpisodes: number, horizonSteps: number, rateHz: number | undefined): LabelSummary {
  const source: LabelSource = derivedEpisodes === 0 ? 'recorded' : recordedEpisodes === 0 ? 'derived' : 'mixed';
  return {
    source,
    recordedEpisodes,
    derivedEpisodes,
    ...(derivedEpisodes > 0 ? { horizonSteps, ...(rateHz ? { horizonMs: (horizonSteps * 1000) / rateHz } : {}) } : {}),
  };
}

/** One line for `train`'s log and summaries: which labels it used. */
export function describeLabels(s: LabelSummary): string {
  const ahead = s.horizonSteps !== undefined ? `follower.position ${s.horizonSteps} step${s.horizonSteps === 1 ? '' : 's'}${s.horizonMs !== undefined ? ` (${+s.horizonMs.toFixed(1)} ms)` : ''} ahead` : '';
  if (s.source === 'recorded') return `action labels: recorded /action (${s.recordedEpisodes} episodes)`;
  if (s.source === 'derived') return `action labels: derived from the states, ${ahead} (${s.derivedEpisodes} episodes without /action)`;
  return `action labels: mixed, recorded /action for ${s.recordedEpisodes} episodes, ${ahead} for ${s.derivedEpisodes} without`;
}
