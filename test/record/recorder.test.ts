import fc from 'fast-check';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { McapIndexedReader } from '@mcap/core';
import { describe, expect, it } from 'vitest';
import { CorruptRecordingError, RecordingExistsError, RecordingWriteError } from '../../src/record/errors.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { decodeMessage, parseRecording, readRecording } from '../../src/record/read.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { recoverRecording } from '../../src/record/recover.ts';
import { rosTime, SCHEMAS, type JointStateMsg } from '../../src/record/ros-schemas.ts';

const dir = await mkdtemp(join(tmpdir(), 'armbridge-rec-'));
let n = 0;
const file = () => join(dir, `r${n++}.mcap`);
const names = ['a', 'b', 'c'];

function joint(t: bigint, k: number): JointStateMsg {
  return { header: { stamp: rosTime(t), frame_id: 'follower' }, name: names, position: [k * 0.1, -k, Math.sin(k)], velocity: [], effort: [] };
}

/** A recording of `count` joint states and events at 100 Hz, flushed every `perChunk` samples. */
async function writeSample(path: string, count: number, perChunk = 10) {
  const r = await Recorder.create({ path, chunkIntervalMs: 1e6 }, { arm: 'so101', rate_hz: '100' });
  const js = await r.topic('/follower/joint_states', 'sensor_msgs/msg/JointState');
  const ev = await r.topic('/episode', 'std_msgs/msg/String');
  const t0 = 1_700_000_000_000_000_000n;
  r.log(ev, { data: JSON.stringify({ event: 'start', episode: 0 }) }, t0);
  for (let k = 0; k < count; k++) {
    r.log(js, joint(t0 + BigInt(k) * 10_000_000n, k), t0 + BigInt(k) * 10_000_000n);
    if ((k + 1) % perChunk === 0) await r.flush();
  }
  r.log(ev, { data: JSON.stringify({ event: 'end', episode: 0 }) }, t0 + BigInt(count) * 10_000_000n);
  await r.close();
  return t0;
}

describe('Recorder and MCAP files', () => {
  it('reads back exactly the messages written, with schemas that @foxglove/rosmsg parses', async () => {
    const path = file();
    const t0 = await writeSample(path, 50);
    const rec = await readRecording(path);
    expect(rec.complete).toBe(true);
    expect(rec.profile).toBe('ros2');
    const js = rec.messages.filter((m) => m.topic === '/follower/joint_states');
    expect(js).toHaveLength(50);
    js.forEach((m, k) => {
      expect(m.logTimeNs).toBe(t0 + BigInt(k) * 10_000_000n);
      const msg = decodeMessage<JointStateMsg>(rec, m);
      expect(msg.name).toEqual(names);
      expect(Array.from(msg.position)).toEqual([k * 0.1, -k, Math.sin(k)]);
      expect(msg.header.stamp).toEqual(rosTime(m.logTimeNs));
    });
    for (const c of rec.channels.values()) {
      expect(c.messageEncoding).toBe('cdr');
      expect(parse(c.schemaText, { ros2: true }).length).toBeGreaterThan(0);
      expect(c.schemaText).toBe(SCHEMAS[c.schemaName as keyof typeof SCHEMAS]);
    }
    expect(Object.fromEntries(rec.metadata.get('armbridge')!)).toMatchObject({ arm: 'so101', rate_hz: '100' });
  });

  it('writes a summary and indexes that the indexed MCAP reader accepts', async () => {
    const path = file();
    await writeSample(path, 40, 7);
    const bytes = await readFile(path);
    const reader = await McapIndexedReader.Initialize({
      readable: { size: async () => BigInt(bytes.byteLength), read: async (o: bigint, l: bigint) => bytes.subarray(Number(o), Number(o + l)) },
    });
    expect(reader.chunkIndexes.length).toBe(Math.ceil(40 / 7));
    expect(reader.statistics?.messageCount).toBe(42n);
    let count = 0;
    for await (const _m of reader.readMessages()) count++;
    expect(count).toBe(42);
  });

  it('refuses to overwrite an existing file unless told to', async () => {
    const path = file();
    await writeFile(path, 'keep me');
    await expect(Recorder.create({ path }, {})).rejects.toBeInstanceOf(RecordingExistsError);
    expect(await readFile(path, 'utf8')).toBe('keep me');
    const r = await Recorder.create({ path, overwrite: true }, {});
    await r.close();
    expect((await readRecording(path)).complete).toBe(true);
  });

  it('says why an output path cannot be written', async () => {
    await expect(Recorder.create({ path: join(dir, 'no-such-dir', 'x.mcap') }, {})).rejects.toThrow(/cannot write recording .*the folder does not exist/);
    const notDir = file();
    await writeFile(notDir, '');
    await expect(Recorder.create({ path: join(notDir, 'x.mcap') }, {})).rejects.toBeInstanceOf(RecordingWriteError);
  });

  it('on a full disk stops writing, counts what it drops, keeps what was written, and reports it on close', async () => {
    const path = file();
    let written = 0;
    const chunks: Uint8Array[] = [];
    const sink = {
      write: async (b: Uint8Array) => {
        if (written + b.byteLength > 3000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        written += b.byteLength;
        chunks.push(b.slice());
      },
      close: async () => undefined,
    };
    const r = await Recorder.create({ path, sink, chunkIntervalMs: 1e6 }, { arm: 'so101' });
    const js = await r.topic('/follower/joint_states', 'sensor_msgs/msg/JointState');
    for (let k = 0; k < 100; k++) {
      r.log(js, joint(BigInt(k), k), BigInt(k));
      if (k % 5 === 4) await r.flush();
    }
    expect(r.writeError).toBeInstanceOf(RecordingWriteError);
    const err = await r.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordingWriteError);
    expect((err as Error).message).toMatch(/the disk is full; what was written before is kept \(run armbridge recover/);
    expect(r.stats.dropped).toBeGreaterThan(0);
    expect(r.stats.written + r.stats.dropped).toBe(100);
    const onDisk = new Uint8Array(Buffer.concat(chunks));
    const rec = parseRecording('disk', onDisk);
    expect(rec.messages.length).toBe(r.stats.written);
  });

  it('on /dev/full (a real ENOSPC) fails with RecordingWriteError, not a crash', async () => {
    const err = await (async () => {
      const r = await Recorder.create({ path: '/dev/full', overwrite: true }, {});
      await r.close();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordingWriteError);
  });
});

describe('recover', () => {
  it('rebuilds a file cut inside a chunk: every earlier chunk kept, the cut one dropped', async () => {
    const path = file();
    await writeSample(path, 60, 10);
    const bytes = await readFile(path);
    const cutPath = file();
    await writeFile(cutPath, bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)));
    const before = await inspectRecording(cutPath);
    expect(before.complete).toBe(false);
    expect(before.warnings.join()).toMatch(/no footer/);
    const report = await recoverRecording(cutPath);
    expect(report.wasComplete).toBe(false);
    const rec = await readRecording(report.output);
    expect(rec.complete).toBe(true);
    const js = rec.messages.filter((m) => m.topic === '/follower/joint_states');
    expect(js.length % 10).toBe(0);
    expect(js.length).toBeGreaterThan(0);
    expect(js.length).toBeLessThan(60);
    expect(rec.metadata.get('armbridge.recovered')).toBeDefined();
  });

  it('always recovers or fails with CorruptRecordingError, whatever byte the file is cut at', async () => {
    const path = file();
    await writeSample(path, 30, 3);
    const bytes = await readFile(path);
    const original = (await readRecording(path)).messages;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.byteLength }), async (cut) => {
        const p = file();
        await writeFile(p, bytes.subarray(0, cut));
        try {
          const report = await recoverRecording(p, undefined, { overwrite: true });
          const rec = await readRecording(report.output);
          // What survives is a prefix of what was written.
          rec.messages.forEach((m, i) => {
            expect(m.logTimeNs).toBe(original[i]!.logTimeNs);
            expect(Buffer.from(m.data).equals(Buffer.from(original[i]!.data))).toBe(true);
          });
        } catch (e) {
          expect(e).toBeInstanceOf(CorruptRecordingError);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('refuses garbage with CorruptRecordingError naming the file', async () => {
    const p = file();
    await writeFile(p, 'this is not an mcap file at all');
    await expect(recoverRecording(p)).rejects.toThrow(/is not a readable MCAP recording/);
    expect((await stat(p)).size).toBeGreaterThan(0);
  });
});

describe('every topic type round-trips', () => {
  it('PoseStamped, Float64, Bool and String come back as written', async () => {
    const path = file();
    const r = await Recorder.create({ path }, {});
    const pose = await r.topic('/target_pose', 'geometry_msgs/msg/PoseStamped');
    const rew = await r.topic('/reward', 'std_msgs/msg/Float64');
    const ok = await r.topic('/task/success', 'std_msgs/msg/Bool');
    const ev = await r.topic('/episode', 'std_msgs/msg/String');
    const t = 1_000_000_123n;
    const p = { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: 0.1, y: -0.2, z: 0.3 }, orientation: { x: 0, y: 0, z: 0.5, w: 0.5 } } };
    r.log(pose, p, t);
    r.log(rew, { data: -0.0421 }, t);
    r.log(ok, { data: true }, t);
    r.log(ev, { data: '{"event":"start","episode":0}' }, t);
    await r.close();
    const rec = await readRecording(path);
    const byTopic = Object.fromEntries(rec.messages.map((m) => [m.topic, decodeMessage(rec, m)]));
    expect(byTopic['/target_pose']).toEqual(p);
    expect(byTopic['/reward']).toEqual({ data: -0.0421 });
    expect(byTopic['/task/success']).toEqual({ data: true });
    expect(byTopic['/episode']).toEqual({ data: '{"event":"start","episode":0}' });
  });
});
