/**
 * Recorder: writes a crash-safe MCAP file with ROS 2 schemas while a control loop runs.
 *
 * `log()` is what the loop calls: it queues the sample and returns (no encoding, no
 * I/O). Every `chunkIntervalMs` (default 50 ms, so ≤ 100 ms with the write) a flush encodes the queued samples to CDR (a few at a time between the loop's cycles), closes an MCAP
 * chunk and hands it to the OS; a SIGKILL therefore loses at most the samples of the open interval.
 * If the disk falls behind, samples beyond `maxQueued` are dropped and counted, never waited for.
 * A write error (disk full, device gone) stops writing, keeps what is on disk (recoverable with
 * `armbridge recover`), and is raised by `close()` as RecordingWriteError.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { RecordingExistsError, RecordingWriteError } from './errors.ts';
import { StreamingMcapWriter, type ByteSink } from './mcap-stream-writer.ts';
import { cdrWriter, SCHEMAS, type SchemaName } from './ros-schemas.ts';

export const RECORDING_PROFILE = 'ros2';
/** Messages encoded per event-loop turn during a flush. */
const ENCODE_SLICE = 8;
export const ARMBRIDGE_VERSION = '0.1.0';

export interface RecorderOptions {
  readonly path: string;
  /** Replace an existing file. Default: refuse with RecordingExistsError. */
  readonly overwrite?: boolean;
  readonly chunkIntervalMs?: number;
  /** Samples not yet on disk beyond this are dropped (and counted): the loop never waits for the disk. Default 200 000. */
  readonly maxQueued?: number;
  /** fdatasync this often (ms) so a power loss also loses little. Default 1000; 0 = never. */
  readonly syncIntervalMs?: number;
  /** A sink instead of the file (tests: a failing disk). */
  readonly sink?: ByteSink & { close(): Promise<void> };
}

export interface RecorderStats {
  logged: number;
  written: number;
  dropped: number;
  chunks: number;
  bytes: number;
  /** Longest time a flush took, ms. */
  maxFlushMs: number;
}

export interface Topic {
  readonly id: number;
  readonly topic: string;
  readonly schema: SchemaName;
}

interface Queued {
  readonly topic: Topic;
  readonly logTimeNs: bigint;
  readonly message: unknown;
}

/** Wall-clock ns of a monotonic `performance.now()` reading (performance.timeOrigin + perfMs). */
export function wallNs(perfMs: number): bigint {
  const ms = performance.timeOrigin + perfMs;
  return BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6));
}

class FileSink implements ByteSink {
  constructor(
    readonly handle: FileHandle,
    readonly path: string,
  ) {}
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await this.handle.write(bytes, off, bytes.byteLength - off);
      off += bytesWritten;
    }
  }
  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class Recorder {
  readonly path: string;
  readonly stats: RecorderStats = { logged: 0, written: 0, dropped: 0, chunks: 0, bytes: 0, maxFlushMs: 0 };
  readonly #writer: StreamingMcapWriter;
  readonly #sink: ByteSink & { close(): Promise<void> };
  readonly #topics = new Map<string, Topic>();
  readonly #schemaIds = new Map<SchemaName, number>();
  readonly #maxQueued: number;
  #queue: Queued[] = [];
  /** Samples accepted but not yet on disk (queued, or in a batch waiting for the writer). */
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #error: RecordingWriteError | undefined;
  #closed: Promise<void> | undefined;

  private constructor(path: string, sink: ByteSink & { close(): Promise<void> }, options: RecorderOptions) {
    this.path = path;
    this.#sink = sink;
    this.#writer = new StreamingMcapWriter(sink);
    this.#maxQueued = options.maxQueued ?? 200_000;
  }

  static async create(options: RecorderOptions, metadata: Record<string, string>): Promise<Recorder> {
    let sink = options.sink;
    if (!sink) {
      let handle: FileHandle;
      try {
        handle = await open(options.path, options.overwrite ? 'w' : 'wx');
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EEXIST') throw new RecordingExistsError(options.path);
        const hint = err.code === 'ENOENT' ? 'the folder does not exist' : err.code === 'EACCES' ? 'no permission to write there' : err.message;
        throw new RecordingWriteError(options.path, hint, { cause: e });
      }
      sink = new FileSink(handle, options.path);
    }
    const r = new Recorder(options.path, sink, options);
    try {
      await r.#writer.start(RECORDING_PROFILE, `armbridge ${ARMBRIDGE_VERSION}`);
      await r.#writer.addMetadata({ name: 'armbridge', metadata: new Map(Object.entries(metadata)) });
    } catch (e) {
      await sink.close().catch(() => undefined);
      throw new RecordingWriteError(options.path, (e as Error).message, { cause: e });
    }
    r.#timer = setInterval(() => void r.flush(), options.chunkIntervalMs ?? 50);
    const syncMs = options.syncIntervalMs ?? 1000;
    if (syncMs > 0 && sink instanceof FileSink) {
      const handle = sink.handle;
      r.#syncTimer = setInterval(() => {
        r.#chain = r.#chain.then(() => handle.datasync().catch(() => undefined));
      }, syncMs);
    }
    return r;
  }

  /** Registers a topic (before the loop starts). */
  async topic(topic: string, schema: SchemaName): Promise<Topic> {
    const existing = this.#topics.get(topic);
    if (existing) return existing;
    let schemaId = this.#schemaIds.get(schema);
    if (schemaId === undefined) {
      schemaId = await this.#writer.registerSchema({ name: schema, encoding: 'ros2msg', data: new TextEncoder().encode(SCHEMAS[schema]) });
      this.#schemaIds.set(schema, schemaId);
    }
    const id = await this.#writer.registerChannel({ schemaId, topic, messageEncoding: 'cdr', metadata: new Map() });
    const t = { id, topic, schema };
    this.#topics.set(topic, t);
    return t;
  }

  /**
   * Queues one message. `message` must not be mutated afterwards (copy typed arrays you reuse).
   * Never blocks, never throws: a full queue or a failed disk drops and counts.
   */
  log(topic: Topic, message: unknown, logTimeNs: bigint): void {
    this.stats.logged++;
    if (this.#error || this.#closed || this.#pending >= this.#maxQueued) {
      this.stats.dropped++;
      return;
    }
    this.#pending++;
    this.#queue.push({ topic, logTimeNs, message });
  }

  get writeError(): RecordingWriteError | undefined {
    return this.#error;
  }

  /** Encodes what is queued and writes it as one chunk. Serialised; safe to call any time. */
  flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#chain = this.#chain.then(async () => {
      if (this.#error) {
        this.stats.dropped += batch.length;
        this.#pending -= batch.length;
        return;
      }
      const t0 = performance.now();
      try {
        // Encode in small slices, yielding to the event loop between them, so a flush never holds
        // the thread for more than a few tens of µs: the control loop's next deadline always wins.
        for (let i = 0; i < batch.length; i++) {
          const q = batch[i]!;
          const data = cdrWriter(q.topic.schema).writeMessage(q.message);
          this.#writer.addMessage({ channelId: q.topic.id, sequence: 0, logTime: q.logTimeNs, publishTime: q.logTimeNs, data });
          if (i % ENCODE_SLICE === ENCODE_SLICE - 1) await new Promise((r) => setImmediate(r));
        }
        if (batch.length > 0) {
          await this.#writer.flushChunk();
          this.stats.chunks++;
          this.stats.written += batch.length;
        }
        this.stats.bytes = Number(this.#writer.bytesWritten);
      } catch (e) {
        this.stats.dropped += batch.length;
        const err = e as NodeJS.ErrnoException;
        const detail = err.code === 'ENOSPC' ? 'the disk is full' : err.message;
        this.#error = new RecordingWriteError(this.path, `${detail}; what was written before is kept (run armbridge recover ${this.path})`, { cause: e });
      }
      this.#pending -= batch.length;
      this.stats.maxFlushMs = Math.max(this.stats.maxFlushMs, performance.now() - t0);
    });
    return this.#chain;
  }

  async metadata(name: string, values: Record<string, string>): Promise<void> {
    await this.flush();
    this.#chain = this.#chain.then(async () => {
      if (this.#error) return;
      await this.#writer.addMetadata({ name, metadata: new Map(Object.entries(values)) }).catch((e: unknown) => {
        this.#error = new RecordingWriteError(this.path, (e as Error).message, { cause: e });
      });
    });
    await this.#chain;
  }

  /** Flushes, writes the summary and footer, closes the file. Raises a write error seen on the way. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      if (this.#syncTimer) clearInterval(this.#syncTimer);
      try {
        await this.flush();
        if (!this.#error) {
          await this.#writer.end().catch((e: unknown) => {
            this.#error = new RecordingWriteError(this.path, (e as Error).message, { cause: e });
          });
          this.stats.bytes = Number(this.#writer.bytesWritten);
        }
      } finally {
        await this.#sink.close().catch(() => undefined);
      }
      if (this.#error) throw this.#error;
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
