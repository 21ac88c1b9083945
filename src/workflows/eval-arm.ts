/**
 * `armbridge eval --follower PORT`: a policy judged on a real arm, episode by episode, as a person
 * judges it. Each episode: the arm moves slowly to the model's start pose (where its training
 * episodes started), the policy runs for the episode's length through the SafetyFilter, the arm
 * holds where it ended, and the person labels it (s / f / a score, as after each episode of
 * `record`). Every episode goes to the run log with its start, end and label events, so the run
 * is training data (iterated RWR on a real arm: retrain on the demonstrations and these runs).
 * The summary has the shape of `eval --sim`'s; what a person cannot see (the final distance) is null.
 */
import type { Arm } from '../arm/arm.ts';
import { parkArm } from '../arm/park.ts';
import { runDeploy, type DeployResult } from '../control/deploy-loop.ts';
import { DeployLog } from '../control/deploy-log.ts';
import type { OnnxPolicy } from '../control/onnx-policy.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import type { EpisodeLabel } from '../record/record-log.ts';
import type { Recorder } from '../record/recorder.ts';

export interface ArmEvalOptions {
  readonly follower: Arm;
  readonly policy: OnnxPolicy;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  /** Where each episode starts (radians; gripper 0…1). */
  readonly startPose: readonly number[];
  /** Speed of the move to the start pose, rad/s (default 0.6, as park). */
  readonly startSpeed?: number;
  /** Fixed observations after the joints (poses given on the command line), in the model's order. */
  readonly extra?: { readonly layout: readonly { readonly name: string; readonly size: number }[]; readonly values: readonly number[] };
  /** Asks the person for the label of episode `index` after it ended; undefined: unlabelled. */
  readonly label: (index: number) => Promise<EpisodeLabel | undefined>;
  readonly recorder?: Recorder;
  /** E-stop (Ctrl-C, the e-stop key): the follower holds, torque off, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Polled every cycle (the person's keys): 'stop' ends this episode and the evaluation after its label; 'estop' as `estop`. */
  readonly control?: () => 'stop' | 'estop' | undefined;
  readonly say?: (line: string) => void;
}

export interface ArmEvalEpisode {
  readonly index: number;
  readonly outcome: 'success' | 'failure' | 'score' | 'unlabelled';
  /** success 1, failure 0, the score, or null when unlabelled. */
  readonly return: number | null;
  readonly startReached: boolean;
  readonly cycles: number;
  readonly achievedHz: number;
  readonly holds: number;
}

export interface ArmEvalResult {
  readonly episodes: readonly ArmEvalEpisode[];
  /** Successes over labelled success/failure episodes (NaN when none). */
  readonly successRate: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
}

export async function evalOnArm(o: ArmEvalOptions): Promise<ArmEvalResult> {
  const say = o.say ?? (() => undefined);
  const log = o.recorder ? await DeployLog.open(o.recorder, o.follower.names, o.extra?.layout ?? []) : undefined;
  const event = (e: EpisodeEvent) => log?.episodeEvents(DeployLog.stamp(performance.now()), [e]);
  const extra = o.extra ? Float32Array.from(o.extra.values) : undefined;
  const episodes: ArmEvalEpisode[] = [];
  let stopAsked = false;
  const control = () => {
    const c = o.control?.();
    if (c === 'stop') stopAsked = true;
    return c;
  };
  for (let k = 0; k < o.episodes && !stopAsked; k++) {
    if (o.estop?.aborted) break;
    say(`episode ${k + 1}/${o.episodes}: moving to the start pose…\n`);
    const start = await parkArm(o.follower, { pose: o.startPose, speed: o.startSpeed ?? 0.6, keepTorque: true, timeoutS: 15, stop: () => o.estop?.aborted === true });
    if (o.estop?.aborted) break;
    say(`episode ${k + 1}/${o.episodes}: the policy runs for ${o.episodeS} s\n`);
    event({ event: 'start', episode: k, operator: 'policy', detail: { start_reached: start.reached } });
    let r: DeployResult;
    try {
      r = await runDeploy({ follower: o.follower, policy: o.policy, rateHz: o.rateHz, durationS: o.episodeS, estop: o.estop, control, recorder: o.recorder, observeExtra: extra ? () => extra : undefined });
    } finally {
      event({ event: 'end', episode: k, reason: o.estop?.aborted ? 'stop' : stopAsked ? 'next' : 'time' });
    }
    // The arm holds where the policy left it while the person judges.
    say(`episode ${k + 1}/${o.episodes} ended (the arm holds): s = success, f = failure, or type a score and Enter\n`);
    const l = await o.label(k);
    if (l) event({ event: 'label', episode: k, outcome: l.outcome, score: l.score });
    const value = !l ? null : l.outcome === 'score' ? (l.score ?? null) : l.outcome === 'success' ? 1 : 0;
    episodes.push({ index: k, outcome: l?.outcome ?? 'unlabelled', return: value, startReached: start.reached, cycles: r.cycles, achievedHz: r.achievedHz, holds: r.safety.holds });
    say(`episode ${k + 1}: ${l ? (l.outcome === 'score' ? `score ${l.score}` : l.outcome) : 'unlabelled'}\n`);
  }
  const judged = episodes.filter((e) => e.outcome === 'success' || e.outcome === 'failure');
  const values = episodes.map((e) => e.return).filter((v): v is number => v !== null);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length));
  return {
    episodes,
    successRate: judged.length ? judged.filter((e) => e.outcome === 'success').length / judged.length : NaN,
    meanReturn: values.length ? mean : NaN,
    stdReturn: values.length ? std : NaN,
  };
}
