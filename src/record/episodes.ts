/**
 * Episode events, recorded on `/episode` as std_msgs/String JSON, and the episode table derived
 * from a recording: boundaries, outcome, return. The return of an episode is the sum of its
 * `/reward` messages where there are any, else its label (success 1, failure 0, or the score).
 */
import { decodeMessage, type Recording } from './read.ts';

export type Outcome = 'success' | 'failure' | 'score' | 'unlabelled';

export type EpisodeEvent =
  | { event: 'start'; episode: number; operator?: string; detail?: Record<string, unknown> }
  | { event: 'end'; episode: number; success?: boolean; reward_sum?: number; reason?: 'time' | 'next' | 'stop' }
  | { event: 'label'; episode: number; outcome: Exclude<Outcome, 'unlabelled'>; score?: number }
  | { event: 'discard'; episode: number };

export interface EpisodeInfo {
  readonly index: number;
  readonly startNs: bigint;
  /** Undefined when the recording was cut inside the episode. */
  readonly endNs: bigint | undefined;
  readonly operator: string | undefined;
  readonly discarded: boolean;
  readonly outcome: Outcome;
  readonly score: number | undefined;
  readonly rewardSum: number | undefined;
  /** Sum of rewards if any were recorded, else the label's value, else undefined. */
  readonly return: number | undefined;
  readonly detail: Record<string, unknown> | undefined;
}

export function episodesOf(rec: Recording): EpisodeInfo[] {
  type Draft = { index: number; startNs: bigint; endNs?: bigint; operator?: string; discarded: boolean; outcome: Outcome; score?: number; success?: boolean; detail?: Record<string, unknown> };
  const byIndex = new Map<number, Draft>();
  const rewards: { t: bigint; v: number }[] = [];
  for (const m of rec.messages) {
    if (m.topic === '/episode') {
      let ev: EpisodeEvent;
      try {
        ev = JSON.parse(decodeMessage<{ data: string }>(rec, m).data) as EpisodeEvent;
      } catch {
        continue;
      }
      if (ev.event === 'start') byIndex.set(ev.episode, { index: ev.episode, startNs: m.logTimeNs, operator: ev.operator, discarded: false, outcome: 'unlabelled', detail: ev.detail });
      const d = byIndex.get(ev.episode);
      if (!d) continue;
      if (ev.event === 'end') {
        d.endNs = m.logTimeNs;
        d.success = ev.success;
      } else if (ev.event === 'label') {
        d.outcome = ev.outcome;
        d.score = ev.outcome === 'score' ? ev.score : ev.outcome === 'success' ? 1 : 0;
      } else if (ev.event === 'discard') d.discarded = true;
    } else if (m.topic === '/reward') {
      rewards.push({ t: m.logTimeNs, v: decodeMessage<{ data: number }>(rec, m).data });
    }
  }
  return [...byIndex.values()]
    .sort((a, b) => a.index - b.index)
    .map((d) => {
      const end = d.endNs ?? BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
      const within = rewards.filter((r) => r.t >= d.startNs && r.t <= end);
      const rewardSum = within.length ? within.reduce((s, r) => s + r.v, 0) : undefined;
      return {
        index: d.index,
        startNs: d.startNs,
        endNs: d.endNs,
        operator: d.operator,
        discarded: d.discarded,
        outcome: d.outcome,
        score: d.score,
        rewardSum,
        return: rewardSum ?? d.score,
        detail: d.detail,
      };
    });
}
