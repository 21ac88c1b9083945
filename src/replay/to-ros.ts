/**
 * Replaying a recording to ROS 2 topics, like `ros2 bag play`: every recorded message (all topics,
 * or the chosen ones; all episodes, or one) is decoded with its recorded ros2msg schema and
 * published under its recorded topic and type, at its original time offset scaled by `speed`.
 * Header stamps are kept as recorded. Publishing goes through a publisher port that the ROS 2 node's
 * graph satisfies (this layer does not import ros/: see DESIGN.md §2).
 */
import { sleepUntil } from '../arm/rate-loop.ts';
import { episodesOf } from '../record/episodes.ts';
import { decodeMessage, readRecording } from '../record/read.ts';
import { EpisodeNotFoundError } from './to-arm.ts';
import { ReplayMissingTopicError } from './errors.ts';

/** What replay needs of a ROS 2 graph (src/ros/graph.ts's RosGraph has it). */
export interface PublisherPort {
  publisher(topic: string, type: string, qos: { readonly reliability: 'reliable'; readonly history: 'keep_last'; readonly depth: number }): { publish(message: object): void };
}

/** rosbag2's playback QoS for our recordings: reliable, keep last 100. */
export const REPLAY_QOS = { reliability: 'reliable', history: 'keep_last', depth: 100 } as const;

export interface ReplayToRosOptions {
  readonly file: string;
  readonly graph: PublisherPort;
  /** Time scale: 2 plays twice as fast. Default 1. */
  readonly speed?: number;
  /** Only these topics (default: all recorded topics). */
  readonly topics?: readonly string[];
  /** Only this episode's time span (default: the whole file). */
  readonly episode?: number;
  readonly signal?: AbortSignal;
}

export interface ReplayToRosResult {
  readonly published: number;
  readonly perTopic: Record<string, number>;
  readonly seconds: number;
  /** Span of the played messages in the recording, s. */
  readonly recordedSeconds: number;
  /** How late each publish was against its scaled schedule, ms: p50 and max. */
  readonly lateMsP50: number;
  readonly lateMsMax: number;
  /** Problems of the file (e.g. cut without footer: what was readable was played). */
  readonly problems: readonly string[];
}

export async function replayToRos(o: ReplayToRosOptions): Promise<ReplayToRosResult> {
  const rec = await readRecording(o.file);
  let messages = rec.messages.filter((m) => rec.channels.get(m.channelId)?.messageEncoding === 'cdr');
  const present = [...new Set(messages.map((m) => m.topic))];
  if (o.topics?.length) {
    const wanted = new Set(o.topics);
    messages = messages.filter((m) => wanted.has(m.topic));
    if (messages.length === 0) throw new ReplayMissingTopicError(o.file, o.topics, 'ros', present);
  }
  if (o.episode !== undefined) {
    const all = episodesOf(rec);
    const ep = all.find((e) => e.index === o.episode && !e.discarded);
    if (!ep) throw new EpisodeNotFoundError(o.file, o.episode, all.filter((e) => !e.discarded).map((e) => e.index));
    const end = ep.endNs ?? BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
    messages = messages.filter((m) => m.logTimeNs >= ep.startNs && m.logTimeNs <= end);
  }
  if (messages.length === 0) throw new ReplayMissingTopicError(o.file, ['any topic'], 'ros', present);
  messages = [...messages].sort((a, b) => (a.logTimeNs < b.logTimeNs ? -1 : a.logTimeNs > b.logTimeNs ? 1 : 0));
  const publishers = new Map<number, { publish(message: object): void }>();
  for (const m of messages) {
    if (!publishers.has(m.channelId)) {
      const c = rec.channels.get(m.channelId)!;
      publishers.set(m.channelId, o.graph.publisher(c.topic, c.schemaName, REPLAY_QOS));
    }
  }
  const speed = o.speed ?? 1;
  const perTopic: Record<string, number> = {};
  const late: number[] = [];
  const first = messages[0]!.logTimeNs;
  const t0 = performance.now();
  let published = 0;
  for (const m of messages) {
    if (o.signal?.aborted) break;
    const due = t0 + Number(m.logTimeNs - first) / 1e6 / speed;
    await sleepUntil(due);
    late.push(performance.now() - due);
    publishers.get(m.channelId)!.publish(decodeMessage<object>(rec, m));
    perTopic[m.topic] = (perTopic[m.topic] ?? 0) + 1;
    published++;
  }
  late.sort((a, b) => a - b);
  return {
    published,
    perTopic,
    seconds: (performance.now() - t0) / 1000,
    recordedSeconds: Number(messages[messages.length - 1]!.logTimeNs - first) / 1e9,
    lateMsP50: late[Math.floor(late.length / 2)] ?? 0,
    lateMsMax: late[late.length - 1] ?? 0,
    problems: rec.problems,
  };
}
