/**
 * Recordings → episodes → aligned arrays. Every recorded cycle logs the follower state, the action
 * sent and the task topics at the same measured time; a cycle becomes a sample when every feature
 * has a message at that time (a cycle whose follower read failed has no state and is skipped).
 * Discarded episodes are left out; episodes can be filtered by outcome and operator.
 *
 * An episode without `/action` (kinesthetic teaching, `ros record` of joint states, a LeRobot
 * dataset without `action`) is a demonstration too: its samples are the follower's states, and its
 * action labels are derived from them (action-labels.ts: the joints a fixed horizon ahead). Files
 * and episodes of both kinds mix; the dataset says which labels it holds.
 */
import { episodesOf, type EpisodeInfo, type Outcome } from '../record/episodes.ts';
import { decodeMessage, readRecording, type RecordedMessage, type Recording } from '../record/read.ts';
import { DEFAULT_LABEL_HORIZON, deriveActionLabels, LabelHorizonError, NoRecordedActionsError, periodNsOf, summariseLabels, type LabelMode, type LabelSummary } from './action-labels.ts';
import { NoEpisodesError, MissingFeatureError, NonFiniteDataError, UnknownFeatureError } from './errors.ts';
import { ACTION_FEATURE, defaultObservation, FEATURE_NAMES_HELP, FEATURES, featureSpec, POSE_SCHEMA, type FeatureSpec, type Layout } from './features.ts';

export interface Episode {
  readonly file: string;
  readonly index: number;
  readonly operator: string | undefined;
  readonly outcome: Outcome;
  /** Return as recorded: sum of rewards, else the label's value (undefined when neither exists). */
  readonly return: number | undefined;
  readonly detail: Record<string, unknown> | undefined;
  readonly length: number;
  /** length × observation size, row-major. */
  readonly observations: Float32Array;
  /** length × action size, row-major. */
  readonly actions: Float32Array;
  /** Per-step reward: the rewards recorded since the previous sample (0 where none was recorded). */
  readonly rewards: Float32Array;
  readonly timesNs: BigInt64Array;
  /** Where the action labels came from: the recorded `/action` (also when absent), or the follower's states ahead. */
  readonly labels?: 'recorded' | 'derived';
}

export interface LoadOptions {
  /** Observation features in order (see features.ts); default: the follower's joints and every recorded pose topic. */
  readonly observation?: readonly string[];
  readonly outcomes?: readonly Outcome[];
  readonly operators?: readonly string[];
  /** 'auto' (default): recorded `/action` where an episode has it, derived labels elsewhere. */
  readonly labels?: LabelMode;
  /** Derived labels: the follower's joints this many control steps ahead (default DEFAULT_LABEL_HORIZON). */
  readonly labelHorizon?: number;
}

export interface Dataset {
  /** Arm type from the recordings' metadata ('' when absent). */
  readonly arm: string;
  /** Control rate the recordings were made at (metadata rate_hz; undefined when absent or when files disagree). */
  readonly rateHz: number | undefined;
  /** Every file was recorded on the simulator (metadata simulated = true). */
  readonly simulated: boolean;
  readonly layout: Layout;
  readonly episodes: Episode[];
  readonly files: readonly string[];
  /** Which action labels the episodes carry (recorded, derived from the states, or both). */
  readonly labels: LabelSummary;
  /**
   * Simulated recordings: the task and the bench they were made on, from the first file's metadata
   * (task, scene, observe, pose_noise_m, pose_latency_ms, rewards); empty for real recordings.
   */
  readonly bench: RecordedBench;
  /** Episode length the first file says it recorded (metadata episode_s), s. */
  readonly episodeS?: number;
}

/** How a simulated recording's world was set up, as its metadata says (fields absent: not said). */
export interface RecordedBench {
  readonly task?: string;
  readonly scene?: string;
  readonly observe?: string;
  readonly poseNoiseM?: number;
  readonly poseLatencyMs?: number;
  readonly rewards?: string;
}

function benchOf(meta: ReadonlyMap<string, string> | undefined): RecordedBench {
  if (!meta || meta.get('simulated') !== 'true') return {};
  const num = (k: string) => {
    const v = Number(meta.get(k));
    return meta.has(k) && Number.isFinite(v) ? v : undefined;
  };
  return { task: meta.get('task'), scene: meta.get('scene'), observe: meta.get('observe'), poseNoiseM: num('pose_noise_m'), poseLatencyMs: num('pose_latency_ms'), rewards: meta.get('rewards') };
}

function values(rec: Recording, feature: FeatureSpec, m: RecordedMessage): number[] {
  if (feature.kind === 'joint_state') return Array.from(decodeMessage<{ position: ArrayLike<number> }>(rec, m).position);
  const p = decodeMessage<{ pose: { position: { x: number; y: number; z: number } } }>(rec, m).pose.position;
  return [p.x, p.y, p.z];
}

function checkFinite(file: string, topic: string, t: bigint, v: readonly number[]): void {
  for (const x of v) if (!Number.isFinite(x)) throw new NonFiniteDataError(file, topic, t, x);
}

export async function loadDataset(files: readonly string[], options: LoadOptions = {}): Promise<Dataset> {
  const featuresOf = (obsNames: readonly string[]) =>
    obsNames.map((n) => {
      const f = featureSpec(n);
      if (!f) throw new UnknownFeatureError(n, FEATURE_NAMES_HELP);
      return f;
    });
  // Without an explicit observation, the first file's topics choose it: the follower's joints and its pose topics.
  let chosen = options.observation ? featuresOf(options.observation) : undefined;
  const labelMode = options.labels ?? 'auto';
  const horizon = options.labelHorizon ?? DEFAULT_LABEL_HORIZON;
  if (!Number.isInteger(horizon) || horizon < 1) throw new LabelHorizonError(horizon);
  const follower = FEATURES['follower.position']!;
  const episodes: Episode[] = [];
  let layout: Layout | undefined;
  let arm = '';
  const rates = new Set<number>();
  let simulated = true;
  let bench: RecordedBench | undefined;
  let episodeS: number | undefined;
  for (const file of files) {
    const rec = await readRecording(file);
    const meta = rec.metadata.get('armbridge');
    const rate = Number(meta?.get('rate_hz'));
    if (Number.isFinite(rate) && rate > 0) rates.add(rate);
    if (meta?.get('simulated') !== 'true') simulated = false;
    bench ??= benchOf(meta);
    if (episodeS === undefined && Number(meta?.get('episode_s')) > 0) episodeS = Number(meta?.get('episode_s'));
    const jointNames = (meta?.get('joint_names') ?? '').split(',').filter(Boolean);
    arm ||= meta?.get('arm') ?? '';
    const byTopic = new Map<string, RecordedMessage[]>();
    for (const m of rec.messages) {
      const list = byTopic.get(m.topic);
      if (list) list.push(m);
      else byTopic.set(m.topic, [m]);
    }
    const poseTopics = new Set([...rec.channels.values()].filter((c) => c.schemaName === POSE_SCHEMA && byTopic.get(c.topic)?.length).map((c) => c.topic));
    const obsFeatures = (chosen ??= featuresOf(defaultObservation(poseTopics)));
    for (const f of obsFeatures) {
      if (!byTopic.get(f.topic)?.length) throw new MissingFeatureError(file, f.name, f.topic);
    }
    const hasActions = labelMode !== 'derived' && !!byTopic.get(ACTION_FEATURE.topic)?.length;
    if (labelMode === 'recorded' && !hasActions) throw new NoRecordedActionsError(file);
    // Derived labels are the follower's states ahead: the follower topic is needed even when the
    // observation does not include it.
    if (!hasActions && !byTopic.get(follower.topic)?.length) throw new MissingFeatureError(file, follower.name, follower.topic);
    const sizeOf = (f: FeatureSpec) => values(rec, f, byTopic.get(f.topic)![0]!).length;
    const fileLayout: Layout = {
      jointNames,
      observation: obsFeatures.map((f) => ({ name: f.name, size: sizeOf(f) })),
      action: [{ name: ACTION_FEATURE.name, size: sizeOf(hasActions ? ACTION_FEATURE : follower) }],
    };
    if (layout && JSON.stringify(layout) !== JSON.stringify(fileLayout)) {
      throw new NoEpisodesError(files, `${file} has a different layout (${JSON.stringify(fileLayout)}) than the files before it`);
    }
    layout = fileLayout;
    const rewardsAt: TimedReward[] = (byTopic.get('/reward') ?? []).map((m) => ({ t: m.logTimeNs, v: decodeMessage<{ data: number }>(rec, m).data }));
    rewardsAt.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    const indexByTime = (f: FeatureSpec) => {
      const at = new Map<bigint, RecordedMessage>();
      for (const m of byTopic.get(f.topic) ?? []) at.set(m.logTimeNs, m);
      return at;
    };
    const obsAt = obsFeatures.map(indexByTime);
    const actionAt = hasActions ? indexByTime(ACTION_FEATURE) : undefined;
    const followerAt = indexByTime(follower);
    const actionTimes = hasActions ? byTopic.get(ACTION_FEATURE.topic)!.map((m) => m.logTimeNs) : [];
    const followerTimes = (byTopic.get(follower.topic) ?? []).map((m) => m.logTimeNs);
    const periodNs = periodNsOf(Number.isFinite(rate) && rate > 0 ? rate : undefined, BigInt64Array.from(followerTimes.length ? followerTimes : actionTimes));
    for (const ep of episodesOf(rec)) {
      if (ep.discarded) continue;
      if (options.outcomes && !options.outcomes.includes(ep.outcome)) continue;
      if (options.operators && !options.operators.includes(ep.operator ?? '')) continue;
      const end = ep.endNs ?? BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
      const inEpisode = (t: bigint) => t >= ep.startNs && t <= end;
      // Per episode: one recorded with a leader keeps its /action; one without is labelled from its states.
      if (actionAt && actionTimes.some(inEpisode)) {
        const times = actionTimes.filter((t) => inEpisode(t) && obsAt.every((at) => at.has(t)));
        episodes.push(buildEpisode(rec, file, ep, times, obsFeatures, obsAt, (t) => values(rec, ACTION_FEATURE, actionAt.get(t)!), rewardsAt, fileLayout, 'recorded'));
      } else if (followerAt.size > 0) {
        const times = followerTimes.filter((t) => inEpisode(t) && obsAt.every((at) => at.has(t)));
        const size = fileLayout.action[0]!.size;
        const states = new Float32Array(times.length * size);
        times.forEach((t, row) => states.set(values(rec, follower, followerAt.get(t)!), row * size));
        const labels = deriveActionLabels(states, BigInt64Array.from(times), size, horizon, periodNs);
        episodes.push(buildEpisode(rec, file, ep, times, obsFeatures, obsAt, (_t, row) => labels.subarray(row * size, (row + 1) * size), rewardsAt, fileLayout, 'derived'));
      }
    }
  }
  const usable = episodes.filter((e) => e.length > 0);
  if (!layout || usable.length === 0) throw new NoEpisodesError(files, 'no episode with samples matched (check --outcome / --operator filters and that the files hold recorded episodes)');
  const rateHz = rates.size === 1 ? [...rates][0] : undefined;
  const derived = usable.filter((e) => e.labels === 'derived').length;
  return { arm, rateHz, simulated, layout, episodes: usable, files, labels: summariseLabels(usable.length - derived, derived, horizon, rateHz), bench: simulated ? (bench ?? {}) : {}, episodeS };
}

function buildEpisode(
  rec: Recording,
  file: string,
  ep: EpisodeInfo,
  times: bigint[],
  features: FeatureSpec[],
  featureAt: Map<bigint, RecordedMessage>[],
  actionOf: (t: bigint, row: number) => ArrayLike<number>,
  rewardsAt: readonly TimedReward[],
  layout: Layout,
  labels: 'recorded' | 'derived',
): Episode {
  const obsSize = layout.observation.reduce((n, p) => n + p.size, 0);
  const actSize = layout.action[0]!.size;
  const observations = new Float32Array(times.length * obsSize);
  const actions = new Float32Array(times.length * actSize);
  const rewards = new Float32Array(times.length);
  times.forEach((t, row) => {
    let o = row * obsSize;
    features.forEach((f, k) => {
      const v = values(rec, f, featureAt[k]!.get(t)!);
      checkFinite(file, f.topic, t, v);
      observations.set(v, o);
      o += v.length;
    });
    const a = Array.from(actionOf(t, row));
    checkFinite(file, labels === 'recorded' ? ACTION_FEATURE.topic : `${FEATURES['follower.position']!.topic} (derived action)`, t, a);
    actions.set(a, row * actSize);
  });
  // Each reward of the episode goes to the first sample at or after it (the last sample for those
  // after it): a cycle whose state read failed has no sample, but its reward still counts, so the
  // per-step rewards add up to the recorded return.
  const end = ep.endNs ?? BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
  let k = 0;
  for (const r of rewardsAt) {
    if (r.t < ep.startNs || r.t > end || !times.length) continue;
    while (k < times.length - 1 && times[k]! < r.t) k++;
    rewards[k] = rewards[k]! + r.v;
  }
  return {
    file,
    index: ep.index,
    operator: ep.operator,
    outcome: ep.outcome,
    return: ep.return,
    detail: ep.detail,
    length: times.length,
    observations,
    actions,
    rewards,
    timesNs: BigInt64Array.from(times),
    labels,
  };
}

interface TimedReward {
  readonly t: bigint;
  readonly v: number;
}

/** Reward-to-go per step: the sum of this and all later rewards of the episode. */
export function rewardToGo(rewards: Float32Array): Float32Array {
  const out = new Float32Array(rewards.length);
  let acc = 0;
  for (let i = rewards.length - 1; i >= 0; i--) {
    acc += rewards[i]!;
    out[i] = acc;
  }
  return out;
}
