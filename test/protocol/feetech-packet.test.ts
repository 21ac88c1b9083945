import { describe, expect, it } from 'vitest';
import {
  FeetechFramer,
  STS3215,
  STS_TABLE,
  decodeRegister,
  describeFtError,
  encodeRegister,
  fromHex,
  ft,
  toHex,
} from '../../src/protocol/index.ts';

const le = (v: number): number[] => [v & 0xff, v >> 8];

// Every row of ../shared/PROTOCOLS.md B6.
const vectors: [string, Uint8Array, string][] = [
  ['ping', ft.ping(1), 'FF FF 01 02 01 FB'],
  ['ping status', ft.status(1, 0), 'FF FF 01 02 00 FC'],
  ['read present position', ft.read(1, 0x38, 2), 'FF FF 01 04 02 38 02 BE'],
  ['read status 1304', ft.status(1, 0, le(1304)), 'FF FF 01 04 00 18 05 DD'],
  ['read model number', ft.read(1, 3, 2), 'FF FF 01 04 02 03 02 F3'],
  ['model status 777', ft.status(1, 0, le(777)), 'FF FF 01 04 00 09 03 EE'],
  ['write pos/time/speed', ft.write(1, 0x2a, [...le(2048), ...le(0), ...le(1000)]), 'FF FF 01 09 03 2A 00 08 00 00 E8 03 D5'],
  ['write torque 1', ft.write(1, 0x28, [1]), 'FF FF 01 04 03 28 01 CE'],
  [
    'sync write 6 bytes ids 1-4',
    ft.syncWrite(0x2a, 6, [1, 2, 3, 4].map((id) => ({ id, data: [...le(2048), 0, 0, ...le(1000)] }))),
    'FF FF FE 20 83 2A 06 01 00 08 00 00 E8 03 02 00 08 00 00 E8 03 03 00 08 00 00 E8 03 04 00 08 00 00 E8 03 58',
  ],
  ['sync write 2 bytes', ft.syncWrite(0x2a, 2, [1, 2].map((id) => ({ id, data: le(2048) }))), 'FF FF FE 0A 83 2A 02 01 00 08 02 00 08 35'],
  ['sync read ids 1-6', ft.syncRead(0x38, 2, [1, 2, 3, 4, 5, 6]), 'FF FF FE 0A 82 38 02 01 02 03 04 05 06 26'],
  ['action', ft.action(), 'FF FF FE 02 05 FA'],
  ['reset', ft.reset(1), 'FF FF 01 02 0A F2'],
  ['broadcast ping', ft.ping(0xfe), 'FF FF FE 02 01 FE'],
  ['read firmware major', ft.read(1, 0, 1), 'FF FF 01 04 02 00 01 F7'],
  ['read firmware minor', ft.read(1, 1, 1), 'FF FF 01 04 02 01 01 F6'],
  ['torque off', ft.write(1, 0x28, [0]), 'FF FF 01 04 03 28 00 CF'],
  ['lock 0', ft.write(1, 0x37, [0]), 'FF FF 01 04 03 37 00 C0'],
  ['lock 1', ft.write(1, 0x37, [1]), 'FF FF 01 04 03 37 01 BF'],
  ['return delay 0', ft.write(1, 0x07, [0]), 'FF FF 01 04 03 07 00 F0'],
  ['max acceleration 254', ft.write(1, 0x55, [254]), 'FF FF 01 04 03 55 FE A4'],
  ['read phase', ft.read(1, 0x12, 1), 'FF FF 01 04 02 12 01 E5'],
  ['status 2047', ft.status(1, 0, le(2047)), 'FF FF 01 04 00 FF 07 F4'],
  ['overload status', ft.status(1, 0x20), 'FF FF 01 02 20 DC'],
];

describe('Feetech SCS/STS packets', () => {
  it.each(vectors)('encodes %s exactly as the manual', (_name, bytes, hex) => {
    expect(toHex(bytes)).toBe(hex);
  });

  it.each(vectors)('decodes %s to id, code and parameters', (_name, _bytes, hex) => {
    const raw = fromHex(hex);
    const framer = new FeetechFramer();
    framer.append(raw);
    const p = framer.next()!;
    expect(toHex(p.raw)).toBe(hex);
    expect(p.id).toBe(raw[2]);
    expect(p.code).toBe(raw[4]);
    expect(toHex(p.params)).toBe(toHex(raw.subarray(5, raw.length - 1)));
    expect(framer.next()).toBeUndefined();
  });

  it('encodes Homing_Offset −100 as sign-magnitude with sign bit 11', () => {
    const data = new Uint8Array(2);
    encodeRegister(STS_TABLE.Homing_Offset, -100, data, 0, 'little');
    expect(toHex(ft.write(1, 0x1f, data))).toBe('FF FF 01 05 03 1F 64 08 6B');
    expect(decodeRegister(STS_TABLE.Homing_Offset, data, 0, 'little')).toBe(-100);
  });

  it('decodes Present_Position with sign bit 15 and refuses values that do not fit', () => {
    expect(decodeRegister(STS_TABLE.Present_Position, fromHex('05 80'), 0, 'little')).toBe(-5);
    expect(() => encodeRegister(STS_TABLE.Homing_Offset, 2048, new Uint8Array(2), 0, 'little')).toThrow(RangeError);
  });

  it('reads big-endian values for SCS servos', () => {
    expect(decodeRegister(STS_TABLE.Goal_Position, fromHex('02 00'), 0, 'big')).toBe(512);
    const out = new Uint8Array(2);
    encodeRegister(STS_TABLE.Goal_Position, 512, out, 0, 'big');
    expect(toHex(out)).toBe('02 00');
    expect(STS3215.endianness).toBe('little');
  });

  it('names status error bits', () => {
    expect(describeFtError(0x20)).toEqual(['overload']);
    expect(describeFtError(0x24)).toEqual(['overheat', 'overload']);
  });
});
