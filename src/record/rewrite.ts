/**
 * Writes a new recording from messages already encoded (taken from other recordings, or built by an
 * importer) without ever touching an existing file in place: everything goes to a temporary file in
 * the output's folder, which is renamed over the output only once it is complete (a rename within a
 * folder is atomic on POSIX file systems). On any failure the temporary file is removed, so no
 * partial output is left behind.
 *
 * Message payloads (`data`) and log times are written exactly as given: tools that keep a message
 * keep its bytes.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RecordingExistsError, RecordingWriteError } from './errors.ts';
import { SameInputOutputError } from './edit-errors.ts';
import { StreamingMcapWriter } from './mcap-stream-writer.ts';

export interface OutputChannel {
  readonly topic: string;
  readonly schemaName: string;
  /** ros2msg schema text. */
  readonly schemaText: string;
  readonly messageEncoding: string;
}

export interface OutputMessage {
  readonly topic: string;
  readonly logTimeNs: bigint;
  readonly data: Uint8Array;
}

export interface RecordingContent {
  readonly profile: string;
  readonly library: string;
  /** Metadata records in file order (name → key/value). */
  readonly metadata: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly channels: readonly OutputChannel[];
  readonly messages: Iterable<OutputMessage>;
}

export interface WriteOptions {
  /** Replace an existing output. Default: refuse with RecordingExistsError. */
  readonly overwrite?: boolean;
  /** Input files: writing over one of them needs `overwrite` (then it is replaced atomically). */
  readonly inputs?: readonly string[];
  /** Messages per MCAP chunk. */
  readonly chunkMessages?: number;
}

/** A unique temporary path next to `path` (same folder, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Refuses an existing output (unless `overwrite`) and an output that is one of the inputs (unless `overwrite`). */
export async function checkOutput(path: string, options: WriteOptions): Promise<void> {
  const out = resolve(path);
  if ((options.inputs ?? []).some((i) => resolve(i) === out) && !options.overwrite) throw new SameInputOutputError(path);
  if (!options.overwrite && (await pathExists(path))) throw new RecordingExistsError(path);
}

/** Writes `content` to a temporary file beside `path`; returns the temporary path (caller renames or removes it). */
export async function writeRecordingTemp(path: string, content: RecordingContent, options: WriteOptions = {}): Promise<string> {
  const tmp = tempPathFor(path);
  let handle;
  try {
    handle = await open(tmp, 'wx');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'ENOENT' ? 'the folder does not exist' : err.code === 'EACCES' ? 'no permission to write there' : err.message;
    throw new RecordingWriteError(path, hint, { cause: e });
  }
  const h = handle;
  try {
    const w = new StreamingMcapWriter({
      write: async (b) => {
        for (let off = 0; off < b.byteLength; ) off += (await h.write(b, off, b.byteLength - off)).bytesWritten;
      },
    });
    await w.start(content.profile, content.library);
    for (const [name, values] of content.metadata) await w.addMetadata({ name, metadata: new Map(values) });
    const schemaIds = new Map<string, number>();
    const channelIds = new Map<string, number>();
    for (const c of content.channels) {
      if (channelIds.has(c.topic)) continue;
      const key = `${c.schemaName}\n${c.schemaText}`;
      let sid = schemaIds.get(key);
      if (sid === undefined) {
        sid = await w.registerSchema({ name: c.schemaName, encoding: 'ros2msg', data: new TextEncoder().encode(c.schemaText) });
        schemaIds.set(key, sid);
      }
      channelIds.set(c.topic, await w.registerChannel({ schemaId: sid, topic: c.topic, messageEncoding: c.messageEncoding, metadata: new Map() }));
    }
    const perChunk = options.chunkMessages ?? 2000;
    let n = 0;
    for (const m of content.messages) {
      const id = channelIds.get(m.topic);
      if (id === undefined) throw new RecordingWriteError(path, `message on topic ${m.topic}, which has no channel`);
      w.addMessage({ channelId: id, sequence: 0, logTime: m.logTimeNs, publishTime: m.logTimeNs, data: m.data });
      if (++n % perChunk === 0) await w.flushChunk();
    }
    await w.end();
    await h.close();
    return tmp;
  } catch (e) {
    await h.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (e instanceof RecordingWriteError) throw e;
    throw new RecordingWriteError(path, (e as Error).message, { cause: e });
  }
}

/** Writes a complete recording to `path` atomically (temporary file + rename). */
export async function writeRecordingAtomic(path: string, content: RecordingContent, options: WriteOptions = {}): Promise<void> {
  await checkOutput(path, options);
  const tmp = await writeRecordingTemp(path, content, options);
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new RecordingWriteError(path, (e as Error).message, { cause: e });
  }
}
