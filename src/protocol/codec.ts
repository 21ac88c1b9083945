/**
 * One interface over both wire protocols, so the bus and tools are written once. Pure: bytes in and
 * out; the framer it creates is fed by the caller.
 */
import type { Vendor } from './control-table.ts';
import { DynamixelFramer } from './dynamixel-framer.ts';
import { DXL_BROADCAST_ID, DxlInstruction, describeDxlError, dxl, type DxlPacket } from './dynamixel-packet.ts';
import { FeetechFramer } from './feetech-framer.ts';
import { FT_BROADCAST_ID, describeFtError, ft, type FtPacket } from './feetech-packet.ts';
import type { FramerStats } from './framer-stats.ts';

/** A packet as the host sees it. `isStatus` is false for instruction packets (e.g. the echo of
 * our own request on a half-duplex adapter) where the protocol can tell. */
export interface Frame {
  readonly id: number;
  readonly isStatus: boolean;
  /** Status ERROR byte (0 for an instruction packet). */
  readonly error: number;
  /** Status parameters (data), after the ERROR byte. */
  readonly params: Uint8Array;
  readonly raw: Uint8Array;
}

export interface FrameReader {
  readonly stats: FramerStats;
  readonly lastChecksumErrorId: number;
  readonly buffered: number;
  append(chunk: Uint8Array): void;
  next(): Frame | undefined;
  /** The line went quiet: skip candidates that cannot complete and return what is found. */
  drain(): Frame[];
  reset(): void;
}

export interface SyncWriteEntry {
  readonly id: number;
  readonly data: ArrayLike<number>;
}

export interface ProtocolCodec {
  readonly vendor: Vendor;
  readonly broadcastId: number;
  /** Protocol overhead of a status packet carrying `n` data bytes. */
  statusSize(dataBytes: number): number;
  ping(id: number): Uint8Array;
  read(id: number, address: number, length: number): Uint8Array;
  write(id: number, address: number, data: ArrayLike<number>): Uint8Array;
  regWrite(id: number, address: number, data: ArrayLike<number>): Uint8Array;
  action(id: number): Uint8Array;
  syncRead(address: number, length: number, ids: readonly number[]): Uint8Array;
  syncWrite(address: number, length: number, entries: readonly SyncWriteEntry[]): Uint8Array;
  createReader(): FrameReader;
  /** What an ERROR byte means, one name per condition. */
  describeError(error: number): string[];
  /** The ERROR byte reports a hardware condition (overload, heat, voltage), not a refused instruction. */
  isHardwareError(error: number): boolean;
}

class DxlReader implements FrameReader {
  readonly #f = new DynamixelFramer();
  get stats() { return this.#f.stats; }
  get lastChecksumErrorId() { return this.#f.lastChecksumErrorId; }
  get buffered() { return this.#f.buffered; }
  append(chunk: Uint8Array): void { this.#f.append(chunk); }
  reset(): void { this.#f.reset(); }
  drain(): Frame[] { return this.#f.drain().map((p) => DxlReader.frame(p)); }
  next(): Frame | undefined {
    const p = this.#f.next();
    return p && DxlReader.frame(p);
  }
  static frame(p: DxlPacket): Frame {
    if (p.instruction !== DxlInstruction.Status) return { id: p.id, isStatus: false, error: 0, params: p.params, raw: p.raw };
    return { id: p.id, isStatus: true, error: p.params[0] ?? 0, params: p.params.subarray(1), raw: p.raw };
  }
}

class FtReader implements FrameReader {
  readonly #f = new FeetechFramer();
  get stats() { return this.#f.stats; }
  get lastChecksumErrorId() { return this.#f.lastChecksumErrorId; }
  get buffered() { return this.#f.buffered; }
  append(chunk: Uint8Array): void { this.#f.append(chunk); }
  reset(): void { this.#f.reset(); }
  drain(): Frame[] { return this.#f.drain().map((p) => FtReader.frame(p)); }
  next(): Frame | undefined {
    const p = this.#f.next();
    return p && FtReader.frame(p);
  }
  static frame(p: FtPacket): Frame {
    return { id: p.id, isStatus: true, error: p.code, params: p.params, raw: p.raw };
  }
}

export const dynamixelCodec: ProtocolCodec = {
  vendor: 'dynamixel',
  broadcastId: DXL_BROADCAST_ID,
  statusSize: (n) => 11 + n,
  ping: dxl.ping,
  read: dxl.read,
  write: dxl.write,
  regWrite: dxl.regWrite,
  action: dxl.action,
  syncRead: dxl.syncRead,
  syncWrite: dxl.syncWrite,
  createReader: () => new DxlReader(),
  describeError: (e) => describeDxlError(e),
  isHardwareError: (e) => (e & 0x80) !== 0 && (e & 0x7f) === 0,
};

export const feetechCodec: ProtocolCodec = {
  vendor: 'feetech',
  broadcastId: FT_BROADCAST_ID,
  statusSize: (n) => 6 + n,
  ping: ft.ping,
  read: ft.read,
  write: ft.write,
  regWrite: ft.regWrite,
  action: ft.action,
  syncRead: ft.syncRead,
  syncWrite: ft.syncWrite,
  createReader: () => new FtReader(),
  describeError: describeFtError,
  isHardwareError: (e) => e !== 0,
};

export function codecFor(vendor: Vendor): ProtocolCodec {
  return vendor === 'dynamixel' ? dynamixelCodec : feetechCodec;
}
