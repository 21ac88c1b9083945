/**
 * `armbridge inspect`: what a recording holds, per episode: duration, samples, achieved rate, gaps
 * and dropped cycles (from the measured log times against the nominal rate), outcome and return;
 * and a warning for every corrupt or missing part.
 */
import { episodesOf, type EpisodeInfo } from './episodes.ts';
import { readRecording, type Recording } from './read.ts';

export interface EpisodeReport extends EpisodeInfo {
  readonly durationS: number;
  readonly samples: number;
  readonly achievedHz: number;
  /** Intervals longer than 1.5 periods. */
  readonly gaps: number;
  /** Cycles missing inside those gaps. */
  readonly droppedCycles: number;
  readonly longestGapMs: number;
}

export interface InspectReport {
  readonly path: string;
  readonly complete: boolean;
  readonly rateHz: number | undefined;
  readonly metadata: Record<string, string>;
  readonly topics: { topic: string; schema: string; messages: number }[];
  readonly episodes: EpisodeReport[];
  readonly warnings: string[];
}

/**
 * The gaps in a series of cycle times (any unit): intervals longer than 1.5 periods, the cycles
 * missing inside them, and the longest interval. Without a period only the longest is known.
 */
export function gapsIn(times: readonly number[], period: number | undefined): { gaps: number; dropped: number; longest: number } {
  let gaps = 0;
  let dropped = 0;
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    const dt = times[i]! - times[i - 1]!;
    longest = Math.max(longest, dt);
    if (period && dt > 1.5 * period) {
      gaps++;
      dropped += Math.round(dt / period) - 1;
    }
  }
  return { gaps, dropped, longest };
}

export function inspectParsed(rec: Recording): InspectReport {
  const meta = Object.fromEntries(rec.metadata.get('armbridge') ?? new Map<string, string>());
  const rateHz = meta.rate_hz ? Number(meta.rate_hz) : undefined;
  const counts = new Map<number, number>();
  for (const m of rec.messages) counts.set(m.channelId, (counts.get(m.channelId) ?? 0) + 1);
  const topics = [...rec.channels.values()].map((c) => ({ topic: c.topic, schema: c.schemaName, messages: counts.get(c.id) ?? 0 }));
  const state = rec.messages.filter((m) => m.topic === '/follower/joint_states').map((m) => m.logTimeNs);
  const lastNs = rec.messages.reduce((a, m) => (m.logTimeNs > a ? m.logTimeNs : a), 0n);
  const warnings = [...rec.problems];
  const episodes = episodesOf(rec).map((e): EpisodeReport => {
    const end = e.endNs ?? lastNs;
    const ts = state.filter((t) => t >= e.startNs && t <= end);
    const durationS = Number(end - e.startNs) / 1e9;
    const g = gapsIn(
      ts.map((t) => Number(t - (ts[0] ?? 0n))),
      rateHz ? 1e9 / rateHz : undefined,
    );
    if (e.endNs === undefined) warnings.push(`episode ${e.index} has no end: the recording stopped inside it (kept up to ${(durationS * 1000).toFixed(0)} ms)`);
    return { ...e, durationS, samples: ts.length, achievedHz: ts.length > 1 ? (ts.length - 1) / (Number(ts[ts.length - 1]! - ts[0]!) / 1e9) : 0, gaps: g.gaps, droppedCycles: g.dropped, longestGapMs: g.longest / 1e6 };
  });
  return { path: rec.path, complete: rec.complete, rateHz, metadata: meta, topics, episodes, warnings };
}

export async function inspectRecording(path: string): Promise<InspectReport> {
  return inspectParsed(await readRecording(path));
}
