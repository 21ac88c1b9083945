/**
 * Reads a recording with the MCAP stream reader, which tolerates a file cut anywhere: it returns
 * every complete record before the cut and says whether the file was complete (footer present),
 * how many bytes at the end could not be used, and what went wrong where.
 */
import { readFile } from 'node:fs/promises';
import { McapStreamReader, type McapTypes } from '@mcap/core';
import { CorruptRecordingError } from './errors.ts';
import { cdrReader } from './ros-schemas.ts';

export interface RecordedChannel {
  readonly id: number;
  readonly topic: string;
  readonly schemaName: string;
  readonly schemaText: string;
  readonly messageEncoding: string;
}

export interface RecordedMessage {
  readonly channelId: number;
  readonly topic: string;
  readonly logTimeNs: bigint;
  readonly data: Uint8Array;
}

export interface Recording {
  readonly path: string;
  readonly profile: string;
  readonly library: string;
  readonly metadata: Map<string, Map<string, string>>;
  readonly channels: Map<number, RecordedChannel>;
  readonly messages: RecordedMessage[];
  /** The footer was found: the file was closed properly. */
  readonly complete: boolean;
  /** Bytes at the end that did not form complete records (a cut chunk). */
  readonly unreadBytes: number;
  readonly problems: string[];
}

export async function readRecording(path: string): Promise<Recording> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CorruptRecordingError(path, `cannot read the file (${(e as Error).message})`, { cause: e });
  }
  return parseRecording(path, bytes);
}

export function parseRecording(path: string, bytes: Uint8Array): Recording {
  const reader = new McapStreamReader({ validateCrcs: true });
  const schemas = new Map<number, McapTypes.Schema>();
  const channels = new Map<number, RecordedChannel>();
  const metadata = new Map<string, Map<string, string>>();
  const messages: RecordedMessage[] = [];
  const problems: string[] = [];
  let header: McapTypes.Header | undefined;
  let complete = false;
  const STEP = 1 << 20;
  try {
    outer: for (let off = 0; off < bytes.byteLength || off === 0; off += STEP) {
      reader.append(bytes.subarray(off, Math.min(bytes.byteLength, off + STEP)));
      for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
        switch (r.type) {
          case 'Header':
            header = r;
            break;
          case 'Schema':
            schemas.set(r.id, r);
            break;
          case 'Channel': {
            const s = schemas.get(r.schemaId);
            channels.set(r.id, {
              id: r.id,
              topic: r.topic,
              schemaName: s?.name ?? '',
              schemaText: s ? new TextDecoder().decode(s.data) : '',
              messageEncoding: r.messageEncoding,
            });
            break;
          }
          case 'Message': {
            const c = channels.get(r.channelId);
            if (!c) {
              problems.push(`message on unknown channel ${r.channelId}`);
              break;
            }
            messages.push({ channelId: r.channelId, topic: c.topic, logTimeNs: r.logTime, data: r.data });
            break;
          }
          case 'Metadata':
            metadata.set(r.name, r.metadata);
            break;
          case 'Footer':
            complete = true;
            break outer;
          default:
            break;
        }
      }
      if (bytes.byteLength === 0) break;
    }
  } catch (e) {
    problems.push(`corrupt data after ${messages.length} messages: ${(e as Error).message}`);
  }
  if (!header) {
    const detail = bytes.byteLength < 8 ? `only ${bytes.byteLength} bytes` : problems[0] ?? 'no MCAP header (not an MCAP file, or cut inside its first record)';
    throw new CorruptRecordingError(path, detail);
  }
  const unreadBytes = complete ? 0 : reader.bytesRemaining();
  if (!complete) problems.push(`no footer: the recording was not closed (killed or cut); ${unreadBytes} bytes at the end were not complete records`);
  return { path, profile: header.profile, library: header.library, metadata, channels, messages, complete, unreadBytes, problems };
}

/** Decodes a CDR message with its channel's schema. */
export function decodeMessage<T = Record<string, unknown>>(recording: Recording, message: RecordedMessage): T {
  const c = recording.channels.get(message.channelId)!;
  return cdrReader(c.schemaText).readMessage<T>(message.data);
}
