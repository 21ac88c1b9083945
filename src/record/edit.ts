/**
 * Editing tools for recordings (`armbridge dataset list | merge | drop | relabel`). Every tool
 * reads its inputs, builds a new file beside the output and renames it into place: an input is
 * never modified in place, and a failure leaves no partial output.
 *
 * Which message belongs to which episode: an `/episode` event belongs to the episode its JSON
 * names; any other message to the episode whose [start, end] log-time window holds it (an episode
 * cut by a crash runs to the end of the file). Messages outside every episode (between episodes)
 * belong to none. Kept messages are copied byte for byte with their log times; the only message
 * ever re-encoded is an `/episode` event whose episode number changes (merge) or a label that is
 * replaced (relabel).
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.ts';
import { episodesOf, type EpisodeEvent, type EpisodeInfo, type Outcome } from './episodes.ts';
import { OverlappingRecordingsError, ProfileMismatchError, RateMismatchError, RecordingNotClosedError, UnknownEpisodeError } from './edit-errors.ts';
import { inspectParsed, type EpisodeReport } from './inspect.ts';
import { decodeMessage, readRecording, type RecordedMessage, type Recording } from './read.ts';
import { writeRecordingAtomic, type OutputChannel, type OutputMessage, type RecordingContent } from './rewrite.ts';
import { cdrWriter } from './ros-schemas.ts';

export const EPISODE_TOPIC = '/episode';

/** Reads a recording for editing: it must have been closed properly (else: recover it first). */
export async function readForEdit(path: string): Promise<Recording> {
  const rec = await readRecording(path);
  if (!rec.complete) throw new RecordingNotClosedError(path);
  return rec;
}

function eventOf(rec: Recording, m: RecordedMessage): EpisodeEvent | undefined {
  try {
    return JSON.parse(decodeMessage<{ data: string }>(rec, m).data) as EpisodeEvent;
  } catch {
    return undefined;
  }
}

/** For each message of `rec` (same order), the episode it belongs to, or undefined. */
export function assignEpisodes(rec: Recording, episodes: readonly EpisodeInfo[] = episodesOf(rec)): (number | undefined)[] {
  const windows = [...episodes].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  return rec.messages.map((m) => {
    if (m.topic === EPISODE_TOPIC) return eventOf(rec, m)?.episode;
    for (const w of windows) if (m.logTimeNs >= w.startNs && (w.endNs === undefined || m.logTimeNs <= w.endNs)) return w.index;
    return undefined;
  });
}

export function channelsOf(rec: Recording): OutputChannel[] {
  return [...rec.channels.values()].sort((a, b) => a.id - b.id).map((c) => ({ topic: c.topic, schemaName: c.schemaName, schemaText: c.schemaText, messageEncoding: c.messageEncoding }));
}

/** A content-preserving digest of one message: topic, log time and payload bytes. */
export function messageDigest(m: { topic: string; logTimeNs: bigint; data: Uint8Array }): string {
  return createHash('sha256').update(m.topic).update('\0').update(m.logTimeNs.toString()).update('\0').update(m.data).digest('hex');
}

function encodeEvent(e: EpisodeEvent): Uint8Array {
  return cdrWriter('std_msgs/msg/String').writeMessage({ data: JSON.stringify(e) });
}

export interface EpisodeRow {
  readonly index: number;
  readonly durationS: number;
  readonly samples: number;
  readonly outcome: Outcome;
  readonly return: number | undefined;
  readonly operator: string | undefined;
  readonly note: string;
}

export interface ListReport {
  readonly path: string;
  readonly complete: boolean;
  readonly rateHz: number | undefined;
  readonly arm: string | undefined;
  readonly episodes: EpisodeRow[];
}

export async function listEpisodes(path: string): Promise<ListReport> {
  const rec = await readRecording(path);
  const r = inspectParsed(rec);
  return {
    path,
    complete: r.complete,
    rateHz: r.rateHz,
    arm: r.metadata.arm,
    episodes: r.episodes.map((e: EpisodeReport) => ({
      index: e.index,
      durationS: e.durationS,
      samples: e.samples,
      outcome: e.outcome,
      return: e.return,
      operator: e.operator,
      note: e.discarded ? 'discarded' : e.endNs === undefined ? 'cut' : '',
    })),
  };
}

export interface EditResult {
  readonly output: string;
  readonly episodesIn: number;
  readonly episodesOut: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
}

export interface OutputOptions {
  readonly overwrite?: boolean;
}

function contentOf(rec: Recording, messages: Iterable<OutputMessage>, extraMetadata?: [string, Map<string, string>]): RecordingContent {
  const metadata = new Map<string, ReadonlyMap<string, string>>(rec.metadata);
  if (extraMetadata) metadata.set(extraMetadata[0], extraMetadata[1]);
  return { profile: rec.profile, library: rec.library, metadata, channels: channelsOf(rec), messages };
}

function checkKnown(path: string, episodes: readonly EpisodeInfo[], wanted: readonly number[]): void {
  const known = episodes.map((e) => e.index);
  for (const w of wanted) if (!known.includes(w)) throw new UnknownEpisodeError(path, w, known);
}

/** A copy of `input` without the given episodes (every message of every other episode kept byte-identical). */
export async function dropEpisodes(input: string, output: string, drop: readonly number[], options: OutputOptions = {}): Promise<EditResult> {
  const rec = await readForEdit(input);
  const episodes = episodesOf(rec);
  checkKnown(input, episodes, drop);
  const owner = assignEpisodes(rec, episodes);
  const dropped = new Set(drop);
  const kept = rec.messages.filter((_, i) => owner[i] === undefined || !dropped.has(owner[i]!));
  const note = new Map([
    ['from', input],
    ['dropped_episodes', [...dropped].sort((a, b) => a - b).join(',')],
  ]);
  await writeRecordingAtomic(output, contentOf(rec, kept, ['armbridge.edit.drop', note]), { overwrite: options.overwrite, inputs: [input] });
  return { output, episodesIn: episodes.length, episodesOut: episodes.length - dropped.size, messagesIn: rec.messages.length, messagesOut: kept.length };
}

export type RelabelOutcome = Exclude<Outcome, 'unlabelled'>;

/**
 * A copy of `input` where episode `episode` carries one label: `outcome` (with `score` for
 * 'score'). Its earlier label events are replaced; the new one takes the first old label's place,
 * or follows the episode's end event when it had none.
 */
export async function relabelEpisode(input: string, output: string, episode: number, outcome: RelabelOutcome, score: number | undefined, options: OutputOptions = {}): Promise<EditResult> {
  const rec = await readForEdit(input);
  const episodes = episodesOf(rec);
  checkKnown(input, episodes, [episode]);
  if (outcome === 'score' && (score === undefined || !Number.isFinite(score))) {
    throw new InvalidArgumentError('a score label needs a finite score (--score VALUE)');
  }
  const label: EpisodeEvent = outcome === 'score' ? { event: 'label', episode, outcome, score } : { event: 'label', episode, outcome };
  const data = encodeEvent(label);
  const out: OutputMessage[] = [];
  let placed = false;
  let afterEnd = -1;
  for (const m of rec.messages) {
    const ev = m.topic === EPISODE_TOPIC ? eventOf(rec, m) : undefined;
    if (ev?.episode === episode && ev.event === 'label') {
      if (!placed) out.push({ topic: m.topic, logTimeNs: m.logTimeNs, data });
      placed = true;
      continue;
    }
    out.push(m);
    if (ev?.episode === episode && (ev.event === 'end' || ev.event === 'start')) afterEnd = out.length;
  }
  if (!placed) {
    const anchor = out[afterEnd - 1]!;
    out.splice(afterEnd, 0, { topic: EPISODE_TOPIC, logTimeNs: anchor.logTimeNs, data });
  }
  const note = new Map([
    ['from', input],
    ['episode', String(episode)],
    ['outcome', outcome],
    ['score', score === undefined ? '' : String(score)],
  ]);
  await writeRecordingAtomic(output, contentOf(rec, out, ['armbridge.edit.relabel', note]), { overwrite: options.overwrite, inputs: [input] });
  return { output, episodesIn: episodes.length, episodesOut: episodes.length, messagesIn: rec.messages.length, messagesOut: out.length };
}

export interface MergeOptions extends OutputOptions {
  /** Merge despite different arm, joints or calibration. Never overrides a rate mismatch. */
  readonly force?: boolean;
}

export interface MergeResult extends EditResult {
  /** Per input: old episode index → new one. */
  readonly renumbered: { file: string; map: [number, number][] }[];
}

function meta(rec: Recording, key: string): string {
  return rec.metadata.get('armbridge')?.get(key) ?? '';
}

/** Checks that recordings can share one file: same rate (always), same arm/joints/calibration (unless forced), disjoint in time. */
export function checkMergeable(recs: readonly Recording[], force: boolean): void {
  const rates = recs.map((r) => ({ path: r.path, rateHz: meta(r, 'rate_hz') || '?' }));
  if (new Set(rates.map((r) => r.rateHz)).size > 1) throw new RateMismatchError(rates);
  const first = recs[0]!;
  if (!force) {
    for (const r of recs.slice(1)) {
      for (const [key, what] of [
        ['arm', 'arm type'],
        ['joint_names', 'joint list'],
        ['follower_calibration', 'follower calibration'],
      ] as const) {
        if (meta(r, key) !== meta(first, key)) throw new ProfileMismatchError(first.path, r.path, what);
      }
    }
  }
  const spans = recs.map((r) => {
    const t = r.messages.map((m) => m.logTimeNs);
    return { path: r.path, lo: t.reduce((a, b) => (b < a ? b : a), t[0] ?? 0n), hi: t.reduce((a, b) => (b > a ? b : a), t[0] ?? 0n), n: t.length };
  });
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!;
      const b = spans[j]!;
      if (a.n && b.n && a.lo <= b.hi && b.lo <= a.hi) throw new OverlappingRecordingsError(a.path, b.path);
    }
  }
}

/**
 * Merges recordings into one: the first file's metadata, then every file's messages in order.
 * Episodes of later files are renumbered after those before them (only their `/episode` events
 * are re-encoded; every other message is copied byte for byte). A metadata record
 * `armbridge.merge` lists the sources, their renumbering and their calibrations.
 */
export async function mergeRecordings(inputs: readonly string[], output: string, options: MergeOptions = {}): Promise<MergeResult> {
  if (inputs.length < 2) throw new InvalidArgumentError('merge needs at least two recordings');
  const recs: Recording[] = [];
  for (const i of inputs) recs.push(await readForEdit(i));
  checkMergeable(recs, options.force ?? false);
  const channels: OutputChannel[] = [];
  for (const r of recs) for (const c of channelsOf(r)) if (!channels.some((x) => x.topic === c.topic)) channels.push(c);
  const messages: OutputMessage[] = [];
  const renumbered: MergeResult['renumbered'] = [];
  let next = 0;
  let episodesIn = 0;
  for (const r of recs) {
    const eps = episodesOf(r);
    episodesIn += eps.length;
    const offset = eps.length && Math.min(...eps.map((e) => e.index)) >= next ? 0 : next;
    const map = new Map(eps.map((e) => [e.index, e.index + offset]));
    renumbered.push({ file: r.path, map: [...map] });
    for (const m of r.messages) {
      if (m.topic === EPISODE_TOPIC && offset !== 0) {
        const ev = eventOf(r, m);
        if (ev && map.has(ev.episode)) {
          messages.push({ topic: m.topic, logTimeNs: m.logTimeNs, data: encodeEvent({ ...ev, episode: map.get(ev.episode)! }) });
          continue;
        }
      }
      messages.push(m);
    }
    next = Math.max(next, ...[...map.values()].map((v) => v + 1));
  }
  const first = recs[0]!;
  const metadata = new Map<string, ReadonlyMap<string, string>>(first.metadata);
  metadata.set(
    'armbridge.merge',
    new Map([
      ['sources', JSON.stringify(recs.map((r, k) => ({ file: r.path, episodes: renumbered[k]!.map, arm: meta(r, 'arm'), rate_hz: meta(r, 'rate_hz'), follower_calibration: meta(r, 'follower_calibration') })))],
      ['forced', String(options.force ?? false)],
    ]),
  );
  await writeRecordingAtomic(output, { profile: first.profile, library: first.library, metadata, channels, messages }, { overwrite: options.overwrite, inputs });
  return { output, episodesIn, episodesOut: episodesIn, messagesIn: recs.reduce((n, r) => n + r.messages.length, 0), messagesOut: messages.length, renumbered };
}
