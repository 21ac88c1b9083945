import { describe, expect, it } from 'vitest';
import {
  DynamixelFramer,
  decodeDxlFastSyncStatus,
  describeDxlError,
  dxl,
  dynamixelCrc,
  encodeDxlFastSyncStatus,
  fromHex,
  stuff,
  toHex,
  unstuff,
} from '../../src/protocol/index.ts';

// Every Protocol 2.0 row of ../shared/PROTOCOLS.md A4, byte for byte.
const vectors: [string, Uint8Array, string][] = [
  ['ping id 1', dxl.ping(1), 'FF FF FD 00 01 03 00 01 19 4E'],
  ['ping status', dxl.status(1, 0, [0x06, 0x04, 0x26]), 'FF FF FD 00 01 07 00 55 00 06 04 26 65 5D'],
  ['broadcast ping', dxl.ping(0xfe), 'FF FF FD 00 FE 03 00 01 31 42'],
  ['read 132 len 4', dxl.read(1, 132, 4), 'FF FF FD 00 01 07 00 02 84 00 04 00 1D 15'],
  ['read status 166', dxl.status(1, 0, [0xa6, 0, 0, 0]), 'FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0'],
  ['write 116 = 512', dxl.write(1, 116, [0, 2, 0, 0]), 'FF FF FD 00 01 09 00 03 74 00 00 02 00 00 CA 89'],
  ['empty status', dxl.status(1, 0), 'FF FF FD 00 01 04 00 55 00 A1 0C'],
  ['sync read', dxl.syncRead(132, 4, [1, 2]), 'FF FF FD 00 FE 09 00 82 84 00 04 00 01 02 CE FA'],
  [
    'sync write',
    dxl.syncWrite(116, 4, [
      { id: 1, data: [0x96, 0, 0, 0] },
      { id: 2, data: [0xaa, 0, 0, 0] },
    ]),
    'FF FF FD 00 FE 11 00 83 74 00 04 00 01 96 00 00 00 02 AA 00 00 00 82 87',
  ],
  ['action', dxl.action(1), 'FF FF FD 00 01 03 00 05 02 CE'],
  ['reboot', dxl.reboot(1), 'FF FF FD 00 01 03 00 08 2F 4E'],
  ['factory reset', dxl.factoryReset(1, 0x01), 'FF FF FD 00 01 04 00 06 01 A1 E6'],
  ['broadcast ping status id 2', dxl.status(2, 0, [0x06, 0x04, 0x26]), 'FF FF FD 00 02 07 00 55 00 06 04 26 6F 6D'],
  ['sync read status id 2', dxl.status(2, 0, [0x1f, 0x08, 0, 0]), 'FF FF FD 00 02 08 00 55 00 1F 08 00 00 BA BE'],
  ['reg write', dxl.regWrite(1, 104, [200, 0, 0, 0]), 'FF FF FD 00 01 09 00 04 68 00 C8 00 00 00 AE 8E'],
  ['clear', dxl.clear(1), 'FF FF FD 00 01 08 00 10 01 44 58 4C 22 B1 DC'],
  [
    'bulk read',
    dxl.bulkRead([
      { id: 1, address: 144, length: 2 },
      { id: 2, address: 146, length: 1 },
    ]),
    'FF FF FD 00 FE 0D 00 92 01 90 00 02 00 02 92 00 01 00 1A 05',
  ],
  ['bulk read status id 1', dxl.status(1, 0, [0x77, 0]), 'FF FF FD 00 01 06 00 55 00 77 00 C3 69'],
  ['bulk read status id 2', dxl.status(2, 0, [0x24]), 'FF FF FD 00 02 05 00 55 00 24 8B A9'],
  [
    'bulk write',
    dxl.bulkWrite([
      { id: 1, address: 32, data: [0xa0, 0] },
      { id: 2, address: 31, data: [0x50] },
    ]),
    'FF FF FD 00 FE 10 00 93 01 20 00 02 00 A0 00 02 1F 00 01 00 50 B7 68',
  ],
  ['access error status', dxl.status(1, 7), 'FF FF FD 00 01 04 00 55 07 B0 8C'],
  ['stuffed write', dxl.write(1, 116, [0xff, 0xff, 0xfd, 0x00]), 'FF FF FD 00 01 0A 00 03 74 00 FF FF FD FD 00 21 E7'],
  ['stuffed status', dxl.status(1, 0, [0xff, 0xff, 0xfd, 0x00]), 'FF FF FD 00 01 09 00 55 00 FF FF FD FD 00 D8 9C'],
];

describe('Dynamixel Protocol 2.0 packets', () => {
  it.each(vectors)('encodes %s exactly as the e-Manual', (_name, bytes, hex) => {
    expect(toHex(bytes)).toBe(hex);
  });

  it.each(vectors)('decodes %s back to its id, instruction and un-stuffed parameters', (_name, _bytes, hex) => {
    const raw = fromHex(hex);
    const framer = new DynamixelFramer();
    framer.append(raw);
    const p = framer.next();
    expect(p).toBeDefined();
    expect(toHex(p!.raw)).toBe(hex);
    expect(p!.id).toBe(raw[4]);
    expect(p!.instruction).toBe(raw[7]);
    // Re-encoding the decoded parameters gives the same bytes (stuffing is undone and redone).
    const again = p!.instruction === 0x55 ? dxl.status(p!.id, p!.params[0]!, p!.params.subarray(1)) : null;
    if (again) expect(toHex(again)).toBe(hex);
    expect(framer.next()).toBeUndefined();
    expect(framer.stats.garbageBytes).toBe(0);
  });

  it('computes the CRC-16/BUYPASS check value', () => {
    // Standard check input "123456789" → 0xFEE8 for CRC-16/BUYPASS.
    expect(dynamixelCrc(new TextEncoder().encode('123456789'))).toBe(0xfee8);
  });

  it('stuffs and un-stuffs every FF FF FD', () => {
    const body = fromHex('03 74 00 FF FF FD 00 FF FF FD');
    const stuffed = stuff(body);
    expect(toHex(stuffed)).toBe('03 74 00 FF FF FD FD 00 FF FF FD FD');
    expect(toHex(unstuff(stuffed))).toBe(toHex(body));
    expect(toHex(unstuff(stuff(fromHex('FF FF FD FD'))))).toBe('FF FF FD FD');
  });

  it('builds and splits a Fast Sync Read reply with running CRCs', () => {
    const entries = [
      { id: 1, error: 0, data: fromHex('A6 00 00 00') },
      { id: 2, error: 0, data: fromHex('1F 08 00 00') },
    ];
    const bytes = encodeDxlFastSyncStatus(entries, 4);
    const framer = new DynamixelFramer();
    framer.append(bytes);
    const p = framer.next()!;
    expect(p.id).toBe(0xfe);
    expect(p.instruction).toBe(0x55);
    const parts = decodeDxlFastSyncStatus(p.params, 4);
    expect(parts.map((e) => e.id)).toEqual([1, 2]);
    expect(toHex(parts[1]!.data)).toBe('1F 08 00 00');
    // The first block's CRC is the running CRC of the packet through its data.
    const firstCrc = dynamixelCrc(bytes, 0, 8 + 2 + 4);
    expect(bytes[14]! | (bytes[15]! << 8)).toBe(firstCrc);
  });

  it('names the error number and the alert flag', () => {
    expect(describeDxlError(0)).toEqual([]);
    expect(describeDxlError(7)[0]).toMatch(/Access Error/);
    expect(describeDxlError(0x80 | 4, 0x20)).toEqual([expect.stringMatching(/Data Range/), 'Alert: overload']);
  });
});
