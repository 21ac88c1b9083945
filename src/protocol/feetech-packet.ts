/**
 * Feetech SCS/STS packets (PROTOCOLS.md B1–B3): `FF FF ID LEN INSTR|ERROR params… CHK`,
 * CHK = ~(ID + LEN + INSTR + params) & 0xFF, no byte stuffing, 1-byte addresses and lengths.
 * Pure functions, bytes in and out.
 */
import { STS_ERROR_BITS } from './sts3215.ts';
import { describeBits } from './dynamixel-packet.ts';

export const FT_BROADCAST_ID = 0xfe;
/** Largest LEN the SDK accepts. */
export const FT_MAX_LENGTH = 250;

export const FtInstruction = {
  Ping: 0x01,
  Read: 0x02,
  Write: 0x03,
  RegWrite: 0x04,
  Action: 0x05,
  FactoryReset: 0x06,
  Reboot: 0x08,
  Reset: 0x0a,
  SyncRead: 0x82,
  SyncWrite: 0x83,
} as const;

/** One framed packet. Instructions and status packets look alike on the wire: `code` is the
 * instruction byte of an instruction and the ERROR byte of a status; the reader knows which. */
export interface FtPacket {
  readonly id: number;
  readonly code: number;
  readonly params: Uint8Array;
  readonly raw: Uint8Array;
}

export function feetechChecksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += bytes[i]!;
  return ~sum & 0xff;
}

function packet(id: number, code: number, params: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(6 + params.length);
  out[0] = 0xff;
  out[1] = 0xff;
  out[2] = id;
  out[3] = params.length + 2;
  out[4] = code;
  out.set(params, 5);
  out[out.length - 1] = feetechChecksum(out, 2, out.length - 1);
  return out;
}

export const encodeFtInstruction = (id: number, instruction: number, params: ArrayLike<number> = []): Uint8Array =>
  packet(id, instruction, params);

export const encodeFtStatus = (id: number, error: number, params: ArrayLike<number> = []): Uint8Array =>
  packet(id, error, params);

export const ft = {
  ping: (id: number) => packet(id, FtInstruction.Ping, []),
  read: (id: number, address: number, length: number) => packet(id, FtInstruction.Read, [address, length]),
  write: (id: number, address: number, data: ArrayLike<number>) => packet(id, FtInstruction.Write, [address, ...Array.from(data)]),
  regWrite: (id: number, address: number, data: ArrayLike<number>) =>
    packet(id, FtInstruction.RegWrite, [address, ...Array.from(data)]),
  action: (id: number = FT_BROADCAST_ID) => packet(id, FtInstruction.Action, []),
  reset: (id: number) => packet(id, FtInstruction.Reset, []),
  reboot: (id: number) => packet(id, FtInstruction.Reboot, []),
  syncRead: (address: number, length: number, ids: readonly number[]) =>
    packet(FT_BROADCAST_ID, FtInstruction.SyncRead, [address, length, ...ids]),
  syncWrite: (address: number, length: number, entries: readonly { id: number; data: ArrayLike<number> }[]) => {
    const params: number[] = [address, length];
    for (const e of entries) {
      if (e.data.length !== length) throw new RangeError(`sync write data for id ${e.id} has ${e.data.length} bytes, not ${length}`);
      params.push(e.id, ...Array.from(e.data));
    }
    return packet(FT_BROADCAST_ID, FtInstruction.SyncWrite, params);
  },
  status: encodeFtStatus,
};

/** Names of the bits set in a status ERROR byte (empty when it is 0). */
export function describeFtError(error: number): string[] {
  return describeBits(error, STS_ERROR_BITS);
}
