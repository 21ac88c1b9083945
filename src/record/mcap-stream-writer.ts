/**
 * An MCAP writer for recordings that must survive a crash: the caller decides when a chunk is
 * closed (`flushChunk()`, at least every 100 ms), each closed chunk and its message indexes go to
 * the sink at once, and `end()` writes the summary and footer. A file cut anywhere keeps every chunk
 * written before the cut; `recover` rebuilds its summary. (@mcap/core's McapWriter only closes
 * chunks by size, so chunk timing needs this writer built on its record and chunk builders.)
 */
import { crc32 } from '@foxglove/crc';
import { McapChunkBuilder, McapRecordBuilder, type McapTypes } from '@mcap/core';

export interface ByteSink {
  /** Appends bytes; resolves when the OS has them (the writer never writes concurrently). */
  write(bytes: Uint8Array): Promise<void>;
}

export class StreamingMcapWriter {
  readonly #sink: ByteSink;
  readonly #records = new McapRecordBuilder();
  readonly #chunk = new McapChunkBuilder({ useMessageIndex: true });
  readonly #schemas: McapTypes.Schema[] = [];
  readonly #channels: McapTypes.Channel[] = [];
  readonly #chunkIndexes: McapTypes.ChunkIndex[] = [];
  readonly #metadataIndexes: McapTypes.MetadataIndex[] = [];
  readonly #channelCounts = new Map<number, bigint>();
  #position = 0n;
  #messageCount = 0n;
  #messageStart = -1n;
  #messageEnd = 0n;
  #ended = false;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  get bytesWritten(): bigint {
    return this.#position;
  }

  get messagesInOpenChunk(): number {
    return this.#chunk.numMessages;
  }

  async start(profile: string, library: string): Promise<void> {
    this.#records.writeMagic();
    this.#records.writeHeader({ profile, library });
    await this.#emit();
  }

  /** Schemas and channels go into the data section right away (outside chunks), so a reader of a
   * cut file knows every channel that any later chunk refers to. */
  async registerSchema(schema: Omit<McapTypes.Schema, 'id'>): Promise<number> {
    const s = { ...schema, id: this.#schemas.length + 1 };
    this.#schemas.push(s);
    this.#records.writeSchema(s);
    await this.#emit();
    return s.id;
  }

  async registerChannel(channel: Omit<McapTypes.Channel, 'id'>): Promise<number> {
    const c = { ...channel, id: this.#channels.length };
    this.#channels.push(c);
    this.#records.writeChannel(c);
    await this.#emit();
    return c.id;
  }

  /** Buffers a message in the open chunk (nothing is written until `flushChunk`). */
  addMessage(message: McapTypes.Message): void {
    this.#chunk.addMessage(message);
    this.#messageCount++;
    this.#channelCounts.set(message.channelId, (this.#channelCounts.get(message.channelId) ?? 0n) + 1n);
    if (this.#messageStart < 0n || message.logTime < this.#messageStart) this.#messageStart = message.logTime;
    if (message.logTime > this.#messageEnd) this.#messageEnd = message.logTime;
  }

  /** Closes the open chunk and writes it with its message indexes. */
  async flushChunk(): Promise<void> {
    if (this.#chunk.numMessages === 0) return;
    const records = this.#chunk.buffer;
    const chunkStart = this.#position;
    const chunkLength = this.#records.writeChunk({
      messageStartTime: this.#chunk.messageStartTime,
      messageEndTime: this.#chunk.messageEndTime,
      uncompressedSize: BigInt(records.byteLength),
      uncompressedCrc: crc32(records),
      compression: '',
      records,
    });
    const indexStart = chunkStart + chunkLength;
    const messageIndexOffsets = new Map<number, bigint>();
    let offset = indexStart;
    for (const index of this.#chunk.indices) {
      messageIndexOffsets.set(index.channelId, offset);
      offset += this.#records.writeMessageIndex(index);
    }
    this.#chunkIndexes.push({
      messageStartTime: this.#chunk.messageStartTime,
      messageEndTime: this.#chunk.messageEndTime,
      chunkStartOffset: chunkStart,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength: offset - indexStart,
      compression: '',
      compressedSize: BigInt(records.byteLength),
      uncompressedSize: BigInt(records.byteLength),
    });
    this.#chunk.reset();
    await this.#emit();
  }

  async addMetadata(metadata: McapTypes.Metadata): Promise<void> {
    await this.flushChunk();
    const offset = this.#position;
    const length = this.#records.writeMetadata(metadata);
    this.#metadataIndexes.push({ offset, length, name: metadata.name });
    await this.#emit();
  }

  /** Data end, summary (schemas, channels, statistics, chunk and metadata indexes), footer. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.flushChunk();
    this.#records.writeDataEnd({ dataSectionCrc: 0 });
    await this.#emit();
    const summaryStart = this.#position;
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, write: () => void) => {
      const start = this.#position + BigInt(this.#records.length);
      write();
      const end = this.#position + BigInt(this.#records.length);
      if (end > start) offsets.push({ groupOpcode: opcode, groupStart: start, groupLength: end - start });
    };
    group(0x03, () => this.#schemas.forEach((s) => this.#records.writeSchema(s)));
    group(0x04, () => this.#channels.forEach((c) => this.#records.writeChannel(c)));
    group(0x0b, () =>
      this.#records.writeStatistics({
        messageCount: this.#messageCount,
        schemaCount: this.#schemas.length,
        channelCount: this.#channels.length,
        attachmentCount: 0,
        metadataCount: this.#metadataIndexes.length,
        chunkCount: this.#chunkIndexes.length,
        messageStartTime: this.#messageStart < 0n ? 0n : this.#messageStart,
        messageEndTime: this.#messageEnd,
        channelMessageCounts: this.#channelCounts,
      }),
    );
    group(0x08, () => this.#chunkIndexes.forEach((c) => this.#records.writeChunkIndex(c)));
    group(0x0d, () => this.#metadataIndexes.forEach((m) => this.#records.writeMetadataIndex(m)));
    const summaryOffsetStart = this.#position + BigInt(this.#records.length);
    for (const o of offsets) this.#records.writeSummaryOffset(o);
    this.#records.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: 0 });
    this.#records.writeMagic();
    await this.#emit();
  }

  async #emit(): Promise<void> {
    const bytes = this.#records.buffer.slice();
    this.#records.reset();
    this.#position += BigInt(bytes.byteLength);
    await this.#sink.write(bytes);
  }
}
