/**
 * `armbridge recover`: rewrites a recording that was cut (killed, power loss, full disk) into a
 * valid, indexed MCAP file with everything that survived, and reports what was kept.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { RecordingExistsError, RecordingWriteError } from './errors.ts';
import { StreamingMcapWriter } from './mcap-stream-writer.ts';
import { readRecording } from './read.ts';

export interface RecoverReport {
  readonly input: string;
  readonly output: string;
  readonly wasComplete: boolean;
  readonly messages: number;
  readonly channels: number;
  readonly firstNs: bigint | undefined;
  readonly lastNs: bigint | undefined;
  readonly droppedBytes: number;
  readonly problems: readonly string[];
}

export function defaultRecoveredPath(input: string): string {
  return input.replace(/(\.mcap)?$/, '.recovered.mcap');
}

export async function recoverRecording(input: string, output = defaultRecoveredPath(input), options: { overwrite?: boolean } = {}): Promise<RecoverReport> {
  const rec = await readRecording(input);
  const tmp = `${output}.tmp-${process.pid}`;
  let handle;
  try {
    handle = await open(tmp, 'w');
  } catch (e) {
    throw new RecordingWriteError(output, (e as Error).message, { cause: e });
  }
  try {
    if (!options.overwrite && (await open(output, 'r').then((h) => (h.close(), true)).catch(() => false))) throw new RecordingExistsError(output);
    const w = new StreamingMcapWriter({
      write: async (b) => {
        for (let off = 0; off < b.byteLength; ) off += (await handle.write(b, off, b.byteLength - off)).bytesWritten;
      },
    });
    await w.start(rec.profile, rec.library);
    for (const [name, values] of rec.metadata) await w.addMetadata({ name, metadata: values });
    if (!rec.complete) {
      await w.addMetadata({
        name: 'armbridge.recovered',
        metadata: new Map([
          ['from', input],
          ['dropped_bytes', String(rec.unreadBytes)],
          ['problems', rec.problems.join('; ')],
        ]),
      });
    }
    const schemaIds = new Map<string, number>();
    const channelIds = new Map<number, number>();
    for (const c of [...rec.channels.values()].sort((a, b) => a.id - b.id)) {
      let sid = schemaIds.get(c.schemaName);
      if (sid === undefined) {
        sid = await w.registerSchema({ name: c.schemaName, encoding: 'ros2msg', data: new TextEncoder().encode(c.schemaText) });
        schemaIds.set(c.schemaName, sid);
      }
      channelIds.set(c.id, await w.registerChannel({ schemaId: sid, topic: c.topic, messageEncoding: c.messageEncoding, metadata: new Map() }));
    }
    let n = 0;
    for (const m of rec.messages) {
      w.addMessage({ channelId: channelIds.get(m.channelId)!, sequence: 0, logTime: m.logTimeNs, publishTime: m.logTimeNs, data: m.data });
      if (++n % 2000 === 0) await w.flushChunk();
    }
    await w.end();
    await handle.close();
    await rename(tmp, output);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const times = rec.messages.map((m) => m.logTimeNs);
  return {
    input,
    output,
    wasComplete: rec.complete,
    messages: rec.messages.length,
    channels: rec.channels.size,
    firstNs: times.length ? times.reduce((a, b) => (a < b ? a : b)) : undefined,
    lastNs: times.length ? times.reduce((a, b) => (a > b ? a : b)) : undefined,
    droppedBytes: rec.unreadBytes,
    problems: rec.problems,
  };
}
