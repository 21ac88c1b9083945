/**
 * DYNAMIXEL Protocol 2.0 packets (PROTOCOLS.md A1–A4): encoders for every instruction, the status
 * packet (for the simulator), byte stuffing, and error-byte decoding. Pure functions, bytes in and out.
 */
import { dynamixelCrc } from './dynamixel-crc.ts';
import { X_HARDWARE_ERROR_BITS } from './dynamixel-x.ts';

export const DXL_BROADCAST_ID = 0xfe;
export const DXL_HEADER = [0xff, 0xff, 0xfd, 0x00] as const;
/** Largest LENGTH field the SDK accepts (RXPACKET_MAX_LEN). */
export const DXL_MAX_LENGTH = 1024;

export const DxlInstruction = {
  Ping: 0x01,
  Read: 0x02,
  Write: 0x03,
  RegWrite: 0x04,
  Action: 0x05,
  FactoryReset: 0x06,
  Reboot: 0x08,
  Clear: 0x10,
  Status: 0x55,
  SyncRead: 0x82,
  SyncWrite: 0x83,
  FastSyncRead: 0x8a,
  BulkRead: 0x92,
  BulkWrite: 0x93,
  FastBulkRead: 0x9a,
} as const;

/** One framed packet: `instruction` is 0x55 for a status packet; `params` are un-stuffed. */
export interface DxlPacket {
  readonly id: number;
  readonly instruction: number;
  readonly params: Uint8Array;
  /** The packet exactly as it was on the wire (stuffed, with header and CRC). */
  readonly raw: Uint8Array;
}

/** Inserts `FD` after every `FF FF FD` (A1 "Byte Stuffing"). */
export function stuff(body: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 2; i < body.length; i++) {
    if (body[i] === 0xfd && body[i - 1] === 0xff && body[i - 2] === 0xff) extra++;
  }
  if (extra === 0) return body;
  const out = new Uint8Array(body.length + extra);
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    out[o++] = body[i]!;
    if (i >= 2 && body[i] === 0xfd && body[i - 1] === 0xff && body[i - 2] === 0xff) out[o++] = 0xfd;
  }
  return out;
}

/** Removes the `FD` that follows every `FF FF FD`. */
export function unstuff(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length);
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    out[o++] = body[i]!;
    if (i >= 2 && body[i] === 0xfd && body[i - 1] === 0xff && body[i - 2] === 0xff && body[i + 1] === 0xfd) i++;
  }
  return o === body.length ? body : out.slice(0, o);
}

/** Builds a packet from an un-stuffed body (instruction byte + parameters). */
function packet(id: number, body: Uint8Array): Uint8Array {
  const stuffed = stuff(body);
  const length = stuffed.length + 2;
  const out = new Uint8Array(7 + length);
  out.set(DXL_HEADER, 0);
  out[4] = id;
  out[5] = length & 0xff;
  out[6] = length >> 8;
  out.set(stuffed, 7);
  const crc = dynamixelCrc(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >> 8;
  return out;
}

export function encodeDxlInstruction(id: number, instruction: number, params: ArrayLike<number> = []): Uint8Array {
  const body = new Uint8Array(1 + params.length);
  body[0] = instruction;
  body.set(params, 1);
  return packet(id, body);
}

export function encodeDxlStatus(id: number, error: number, params: ArrayLike<number> = []): Uint8Array {
  const body = new Uint8Array(2 + params.length);
  body[0] = DxlInstruction.Status;
  body[1] = error;
  body.set(params, 2);
  return packet(id, body);
}

const u16 = (v: number): [number, number] => [v & 0xff, (v >> 8) & 0xff];

export const dxl = {
  ping: (id: number) => encodeDxlInstruction(id, DxlInstruction.Ping),
  read: (id: number, address: number, length: number) =>
    encodeDxlInstruction(id, DxlInstruction.Read, [...u16(address), ...u16(length)]),
  write: (id: number, address: number, data: ArrayLike<number>) =>
    encodeDxlInstruction(id, DxlInstruction.Write, [...u16(address), ...Array.from(data)]),
  regWrite: (id: number, address: number, data: ArrayLike<number>) =>
    encodeDxlInstruction(id, DxlInstruction.RegWrite, [...u16(address), ...Array.from(data)]),
  action: (id: number) => encodeDxlInstruction(id, DxlInstruction.Action),
  reboot: (id: number) => encodeDxlInstruction(id, DxlInstruction.Reboot),
  /** option: 0xFF all, 0x01 all but ID, 0x02 all but ID and baud rate. */
  factoryReset: (id: number, option: 0xff | 0x01 | 0x02) => encodeDxlInstruction(id, DxlInstruction.FactoryReset, [option]),
  /** Clears the multi-turn revolution count. */
  clear: (id: number) => encodeDxlInstruction(id, DxlInstruction.Clear, [0x01, 0x44, 0x58, 0x4c, 0x22]),
  syncRead: (address: number, length: number, ids: readonly number[]) =>
    encodeDxlInstruction(DXL_BROADCAST_ID, DxlInstruction.SyncRead, [...u16(address), ...u16(length), ...ids]),
  fastSyncRead: (address: number, length: number, ids: readonly number[]) =>
    encodeDxlInstruction(DXL_BROADCAST_ID, DxlInstruction.FastSyncRead, [...u16(address), ...u16(length), ...ids]),
  syncWrite: (address: number, length: number, entries: readonly { id: number; data: ArrayLike<number> }[]) => {
    const params: number[] = [...u16(address), ...u16(length)];
    for (const e of entries) {
      if (e.data.length !== length) throw new RangeError(`sync write data for id ${e.id} has ${e.data.length} bytes, not ${length}`);
      params.push(e.id, ...Array.from(e.data));
    }
    return encodeDxlInstruction(DXL_BROADCAST_ID, DxlInstruction.SyncWrite, params);
  },
  bulkRead: (entries: readonly { id: number; address: number; length: number }[]) =>
    encodeDxlInstruction(
      DXL_BROADCAST_ID,
      DxlInstruction.BulkRead,
      entries.flatMap((e) => [e.id, ...u16(e.address), ...u16(e.length)]),
    ),
  bulkWrite: (entries: readonly { id: number; address: number; data: ArrayLike<number> }[]) =>
    encodeDxlInstruction(
      DXL_BROADCAST_ID,
      DxlInstruction.BulkWrite,
      entries.flatMap((e) => [e.id, ...u16(e.address), ...u16(e.data.length), ...Array.from(e.data)]),
    ),
  status: encodeDxlStatus,
};

/**
 * The single combined reply to Fast Sync Read: per servo `ERR ID DATA CRC16`, where each CRC is the
 * running CRC of the packet up to that point and the last one is the packet's own CRC. Not stuffed
 * (decoding is positional). LENGTH = 1 + n × (length + 4).
 */
export function encodeDxlFastSyncStatus(entries: readonly { id: number; error: number; data: Uint8Array }[], length: number): Uint8Array {
  const total = 7 + 1 + entries.length * (length + 4);
  const out = new Uint8Array(total);
  out.set(DXL_HEADER, 0);
  out[4] = DXL_BROADCAST_ID;
  const len = 1 + entries.length * (length + 4);
  out[5] = len & 0xff;
  out[6] = len >> 8;
  out[7] = DxlInstruction.Status;
  let o = 8;
  for (const e of entries) {
    out[o++] = e.error;
    out[o++] = e.id;
    out.set(e.data.subarray(0, length), o);
    o += length;
    const crc = dynamixelCrc(out, 0, o);
    out[o++] = crc & 0xff;
    out[o++] = crc >> 8;
  }
  return out;
}

/**
 * Splits a Fast Sync Read status into per-servo parts. `params` are the bytes after 0x55 up to the
 * packet CRC, i.e. starting at the first ERR; the last block's CRC is the packet CRC and not included.
 */
export function decodeDxlFastSyncStatus(params: Uint8Array, length: number): { id: number; error: number; data: Uint8Array }[] {
  const block = length + 4;
  if ((params.length + 2) % block !== 0) {
    throw new RangeError(`fast sync read reply of ${params.length + 2} bytes is not a multiple of ${block}`);
  }
  const out: { id: number; error: number; data: Uint8Array }[] = [];
  for (let o = 0; o < params.length; o += block) {
    out.push({ error: params[o]!, id: params[o + 1]!, data: params.slice(o + 2, o + 2 + length) });
  }
  return out;
}

/** Status ERROR byte numbers (A3). Bit 7 is the Alert flag. */
export const DXL_ERROR_NUMBERS: Readonly<Record<number, string>> = {
  1: 'Result Fail (could not process the instruction)',
  2: 'Instruction Error (undefined instruction, or Action without Reg Write)',
  3: 'CRC Error',
  4: 'Data Range Error (value outside the register range)',
  5: 'Data Length Error (data shorter than the register)',
  6: 'Data Limit Error (value outside a configured limit)',
  7: 'Access Error (read-only, undefined address, or EEPROM write while torque is on)',
};

export const DXL_ALERT = 0x80;

/** Human-readable names of what a status ERROR byte says (empty when it is 0). */
export function describeDxlError(error: number, hardwareErrorStatus?: number): string[] {
  const out: string[] = [];
  const number = error & 0x7f;
  if (number !== 0) out.push(DXL_ERROR_NUMBERS[number] ?? `unknown error number ${number}`);
  if (error & DXL_ALERT) {
    if (hardwareErrorStatus === undefined) out.push('Alert (hardware error: read Hardware_Error_Status, address 70)');
    else for (const name of describeBits(hardwareErrorStatus, X_HARDWARE_ERROR_BITS)) out.push(`Alert: ${name}`);
  }
  return out;
}

export function describeBits(value: number, names: Readonly<Record<number, string>>): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 8; bit++) {
    const mask = 1 << bit;
    if (value & mask) out.push(names[mask] ?? `bit ${bit}`);
  }
  return out;
}
