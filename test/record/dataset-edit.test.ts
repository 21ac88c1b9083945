import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { splitByEpisode } from '../../src/dataset/split.ts';
import { splitRecording } from '../../src/dataset/split-recording.ts';
import { dropEpisodes, listEpisodes, mergeRecordings, messageDigest, relabelEpisode } from '../../src/record/edit.ts';
import { OverlappingRecordingsError, ProfileMismatchError, RateMismatchError, RecordingNotClosedError, SameInputOutputError, UnknownEpisodeError } from '../../src/record/edit-errors.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { RecordingExistsError } from '../../src/record/errors.ts';
import { decodeMessage, readRecording, type Recording } from '../../src/record/read.ts';
import { recordSim } from '../../src/workflows/record-sim.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';

let dir: string;
let a: string;
let b: string;
let koch: string;
let fast20: string;
let n = 0;
const out = (name = 'out') => join(dir, `${name}-${n++}.mcap`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-edit-'));
  a = join(dir, 'a.mcap');
  b = join(dir, 'b.mcap');
  koch = join(dir, 'koch.mcap');
  fast20 = join(dir, 'fast20.mcap');
  const common = { rateHz: 50, episodes: 3, episodeS: 0.5, resetS: 0.2, transport: 'in-process' as const, mix: { expert: 1, poor: 1 } };
  await recordSim({ arm: 'so101', out: a, seed: 2, ...common });
  await recordSim({ arm: 'so101', out: b, seed: 3, ...common });
  await recordSim({ arm: 'koch', out: koch, seed: 4, ...common, episodes: 1 });
  await rollout({ arm: 'so101', seed: 1, episodes: 2, episodeS: 0.5, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: fast20 });
}, 60_000);

const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

/** The spec of membership, written independently of the tool: events by their JSON, others by time window. */
function owners(rec: Recording): (number | undefined)[] {
  const eps = episodesOf(rec);
  return rec.messages.map((m) => {
    if (m.topic === '/episode') return (JSON.parse(decodeMessage<{ data: string }>(rec, m).data) as { episode: number }).episode;
    return eps.find((e) => m.logTimeNs >= e.startNs && m.logTimeNs <= (e.endNs ?? m.logTimeNs))?.index;
  });
}

function digestsOf(rec: Recording, keep: (episode: number | undefined) => boolean): string[] {
  const own = owners(rec);
  return rec.messages.filter((_, i) => keep(own[i])).map(messageDigest).sort();
}

async function noLeftovers(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes('.tmp-'));
}

describe('dataset list', () => {
  it('lists each episode with duration, samples, outcome, return and operator', async () => {
    const r = await listEpisodes(a);
    expect(r.episodes.map((e) => e.index)).toEqual([0, 1, 2]);
    for (const e of r.episodes) {
      expect(e.durationS).toBeGreaterThan(0.4);
      expect(e.samples).toBeGreaterThan(15);
      expect(['success', 'failure']).toContain(e.outcome);
      expect(typeof e.return).toBe('number');
      expect(e.operator).toMatch(/^scripted-(expert|poor)$/);
    }
  });
});

describe('dataset drop', () => {
  it('removes the episodes and keeps every other message byte-identical; the input is untouched', async () => {
    const before = await sha(a);
    const o = out('drop');
    const r = await dropEpisodes(a, o, [1]);
    expect(await sha(a)).toBe(before);
    const inRec = await readRecording(a);
    const outRec = await readRecording(o);
    expect(digestsOf(outRec, () => true)).toEqual(digestsOf(inRec, (e) => e !== 1));
    expect(episodesOf(outRec).map((e) => e.index)).toEqual([0, 2]);
    expect(r).toMatchObject({ episodesIn: 3, episodesOut: 2 });
    expect(outRec.metadata.get('armbridge')).toEqual(inRec.metadata.get('armbridge'));
    expect(outRec.metadata.get('armbridge.edit.drop')?.get('dropped_episodes')).toBe('1');
  });

  it('refuses an unknown episode, an existing output and the input as output, leaving nothing behind', async () => {
    const o = out('bad');
    await expect(dropEpisodes(a, o, [9])).rejects.toBeInstanceOf(UnknownEpisodeError);
    await expect(dropEpisodes(a, a, [0])).rejects.toBeInstanceOf(SameInputOutputError);
    await expect(dropEpisodes(a, b, [0])).rejects.toBeInstanceOf(RecordingExistsError);
    await expect(stat(o)).rejects.toThrow();
    expect(await noLeftovers()).toEqual([]);
  });

  it('refuses a recording that was not closed (recover it first)', async () => {
    const cut = join(dir, 'cut.mcap');
    await copyFile(a, cut);
    await truncate(cut, (await stat(cut)).size - 500);
    await expect(dropEpisodes(cut, out(), [0])).rejects.toBeInstanceOf(RecordingNotClosedError);
  });
});

describe('dataset split', () => {
  it('splits by episode, byte-identical, with the same episodes train --seed holds out', async () => {
    const trainOut = out('train');
    const valOut = out('val');
    const r = await splitRecording(a, { valFraction: 0.34, seed: 5, trainOut, valOut });
    expect([...r.train, ...r.val].sort()).toEqual([0, 1, 2]);
    expect(r.val).toHaveLength(1);
    const inRec = await readRecording(a);
    const tr = await readRecording(trainOut);
    const va = await readRecording(valOut);
    expect(digestsOf(tr, () => true)).toEqual(digestsOf(inRec, (e) => e !== undefined && r.train.includes(e)));
    expect(digestsOf(va, () => true)).toEqual(digestsOf(inRec, (e) => e !== undefined && r.val.includes(e)));
    const ds = await loadDataset([a]);
    const same = splitByEpisode(ds.episodes, 0.34, 5);
    expect(same.val.map((e) => e.index)).toEqual(r.val);
    await expect(splitRecording(a, { valFraction: 1, seed: 0, trainOut: out(), valOut: out() })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('dataset relabel', () => {
  it('replaces the label of one episode and leaves every other message as it was', async () => {
    const o = out('relabel');
    await relabelEpisode(a, o, 2, 'score', 0.25);
    const inRec = await readRecording(a);
    const outRec = await readRecording(o);
    const ep = episodesOf(outRec).find((e) => e.index === 2)!;
    expect(ep).toMatchObject({ outcome: 'score', score: 0.25 });
    const isLabel2 = (rec: Recording) => (m: Recording['messages'][number]) => m.topic === '/episode' && /"label"/.test(decodeMessage<{ data: string }>(rec, m).data) && /"episode":2/.test(decodeMessage<{ data: string }>(rec, m).data);
    expect(outRec.messages.filter((m) => !isLabel2(outRec)(m)).map(messageDigest).sort()).toEqual(inRec.messages.filter((m) => !isLabel2(inRec)(m)).map(messageDigest).sort());
    expect(outRec.messages.filter(isLabel2(outRec))).toHaveLength(1);
    await expect(relabelEpisode(a, out(), 2, 'score', undefined)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('dataset merge', () => {
  it('merges two sessions: episodes renumbered, every non-event message byte-identical, events equal but for the number', async () => {
    const o = out('merge');
    const r = await mergeRecordings([a, b], o);
    const ra = await readRecording(a);
    const rb = await readRecording(b);
    const m = await readRecording(o);
    const notEvent = (rec: Recording) => rec.messages.filter((x) => x.topic !== '/episode').map(messageDigest);
    expect(notEvent(m).sort()).toEqual([...notEvent(ra), ...notEvent(rb)].sort());
    expect(episodesOf(m).map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.renumbered[1]!.map).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    const events = (rec: Recording, shift: number) => rec.messages.filter((x) => x.topic === '/episode').map((x) => {
      const e = JSON.parse(decodeMessage<{ data: string }>(rec, x).data) as { episode: number };
      return JSON.stringify({ ...e, episode: e.episode + shift, t: String(x.logTimeNs) });
    });
    const merged = m.messages.filter((x) => x.topic === '/episode').map((x) => JSON.stringify({ ...(JSON.parse(decodeMessage<{ data: string }>(m, x).data) as object), t: String(x.logTimeNs) }));
    expect(merged.sort()).toEqual([...events(ra, 0), ...events(rb, 3)].sort());
    const ds = await loadDataset([o]);
    const da = await loadDataset([a]);
    const db = await loadDataset([b]);
    expect(ds.episodes.map((e) => e.length)).toEqual([...da.episodes, ...db.episodes].map((e) => e.length));
  });

  it('refuses another arm unless forced, and another rate even when forced, leaving no output', async () => {
    const o = out('merge-bad');
    await expect(mergeRecordings([a, koch], o)).rejects.toBeInstanceOf(ProfileMismatchError);
    await expect(mergeRecordings([a, fast20], o, { force: true })).rejects.toBeInstanceOf(RateMismatchError);
    await expect(mergeRecordings([a, fast20], o, { force: true })).rejects.toThrow(/20 Hz.*|50 Hz/);
    await expect(mergeRecordings([a, a], o)).rejects.toBeInstanceOf(OverlappingRecordingsError);
    await expect(mergeRecordings([a], o)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(stat(o)).rejects.toThrow();
    expect(await noLeftovers()).toEqual([]);
    const forced = out('merge-forced');
    await mergeRecordings([a, koch], forced, { force: true });
    const m = await readRecording(forced);
    expect(JSON.parse(m.metadata.get('armbridge.merge')!.get('sources')!)).toHaveLength(2);
  });
});

describe('armbridge dataset (CLI)', () => {
  async function run(...argv: string[]) {
    let text = '';
    let err = '';
    const stdout = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const stderr = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
    const code = await main(argv, { stdout: stdout as unknown as typeof process.stdout, stderr: stderr as unknown as typeof process.stderr });
    return { code, out: text, err };
  }

  it('lists, drops and reports errors with their codes', async () => {
    const l = await run('dataset', 'list', a);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/episode\s+duration s\s+samples\s+outcome\s+return\s+operator/);
    const o = out('cli');
    const d = await run('dataset', 'drop', a, '--episodes', '0,2', '--out', o);
    expect(d.code).toBe(0);
    expect((await listEpisodes(o)).episodes.map((e) => e.index)).toEqual([1]);
    expect(await run('dataset', 'drop', a, '--episodes', '7', '--out', out())).toMatchObject({ code: 1, err: expect.stringMatching(/\[UNKNOWN_EPISODE\]/) });
    expect(await run('dataset', 'drop', a, '--episodes', '1')).toMatchObject({ code: 2, err: expect.stringMatching(/needs --out/) });
    expect(await run('dataset', 'shuffle', a)).toMatchObject({ code: 2 });
  });
});
