import { describe, expect, it } from 'vitest';
import { DynamixelFramer, decodeDxlFastSyncStatus, dxl, toHex, type DxlPacket } from '../../src/protocol/index.ts';
import { rawWire } from '../helpers/wire.ts';

function wire() {
  const w = rawWire<DxlPacket>('koch', new DynamixelFramer());
  const err = (p: DxlPacket | undefined) => p!.params[0];
  return { ...w, err };
}

const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

describe('simulated Dynamixel X-series firmware (Protocol 2.0)', () => {
  it('answers Ping with model number and firmware, and a broadcast Ping from every servo in id order', async () => {
    const w = wire();
    const [p] = await w.exchange(dxl.ping(3), 1);
    expect(toHex(p!.params)).toBe('00 B0 04 34'); // error 0, model 1200, firmware 52
    const all = await w.exchange(dxl.ping(0xfe), 6);
    expect(all.map((x) => x.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.every((x) => x.raw.length === 14)).toBe(true); // the SDK parses 14-byte steps
    w.close();
  });

  it('gives Access Error (7) for a read past the table, a write to a read-only item or an undefined address', async () => {
    const w = wire();
    expect(w.err((await w.exchange(dxl.read(1, 146, 4), 1))[0])).toBe(7);
    expect(w.err((await w.exchange(dxl.write(1, 0, [1, 2]), 1))[0])).toBe(7);
    expect(w.err((await w.exchange(dxl.write(1, 14, [1]), 1))[0])).toBe(7);
    w.close();
  });

  it('gives Data Length Error (5) for a partial register and Data Range Error (4) for a bad value', async () => {
    const w = wire();
    expect(w.err((await w.exchange(dxl.write(1, 116, [0, 8]), 1))[0])).toBe(5);
    expect(w.err((await w.exchange(dxl.write(1, 11, [2]), 1))[0])).toBe(4); // XL430 has no current mode
    expect(w.err((await w.exchange(dxl.write(1, 7, [253]), 1))[0])).toBe(4);
    w.close();
  });

  it('gates replies by Status Return Level: 0 answers Ping only, 1 adds reads', async () => {
    const w = wire();
    await w.exchange(dxl.write(2, 68, [1]), 1);
    expect(await w.exchange(dxl.write(2, 65, [1]), 0)).toHaveLength(0);
    expect(await w.exchange(dxl.read(2, 65, 1), 1)).toHaveLength(1);
    await w.exchange(dxl.write(2, 68, [0]), 0);
    expect(await w.exchange(dxl.read(2, 65, 1), 0)).toHaveLength(0);
    expect(await w.exchange(dxl.ping(2), 1)).toHaveLength(1);
    w.close();
  });

  it('holds a Reg Write until Action, and answers Action without one with Instruction Error', async () => {
    const w = wire();
    const s = w.arm.bus.servo(4);
    await w.exchange(dxl.regWrite(4, 65, [1]), 1);
    expect(s.get('LED')).toBe(0);
    expect(s.get('Registered_Instruction')).toBe(1);
    await w.exchange(dxl.action(4), 1);
    expect(s.get('LED')).toBe(1);
    expect(w.err((await w.exchange(dxl.action(4), 1))[0])).toBe(2);
    w.close();
  });

  it('answers Sync Read in list order and Fast Sync Read with one combined packet', async () => {
    const w = wire();
    const sync = await w.exchange(dxl.syncRead(132, 4, [5, 3]), 2);
    expect(sync.map((p) => p.id)).toEqual([5, 3]);
    const [fast] = await w.exchange(dxl.fastSyncRead(132, 4, [1, 2, 3]), 1);
    expect(fast!.id).toBe(0xfe);
    const parts = decodeDxlFastSyncStatus(fast!.params, 4);
    expect(parts.map((p) => p.id)).toEqual([1, 2, 3]);
    expect(toHex(parts[1]!.data)).toBe(toHex(sync.length ? new Uint8Array(w.arm.bus.servo(2).memory.slice(132, 136)) : new Uint8Array()));
    w.close();
  });

  it('applies Bulk Write and answers Bulk Read per servo with its own address and length', async () => {
    const w = wire();
    await w.exchange(dxl.bulkWrite([{ id: 1, address: 65, data: [1] }, { id: 2, address: 112, data: u32(100) }]), 0);
    expect(w.arm.bus.servo(1).get('LED')).toBe(1);
    expect(w.arm.bus.servo(2).get('Profile_Velocity')).toBe(100);
    const replies = await w.exchange(dxl.bulkRead([{ id: 1, address: 65, length: 1 }, { id: 2, address: 112, length: 4 }]), 2);
    expect(replies.map((r) => toHex(r.params))).toEqual(['00 01', `00 ${toHex(new Uint8Array(u32(100)))}`]);
    w.close();
  });

  it('reboots: torque off, RAM reset; factory reset keeps the id when asked', async () => {
    const w = wire();
    const s = w.arm.bus.servo(5);
    await w.exchange(dxl.write(5, 64, [1]), 1);
    await w.exchange(dxl.reboot(5), 1);
    expect(s.torqueEnabled).toBe(false);
    await w.exchange(dxl.write(5, 9, [10]), 1);
    await w.exchange(dxl.factoryReset(5, 0x01), 1);
    expect(s.get('Return_Delay_Time')).toBe(250);
    expect(s.id).toBe(5);
    w.close();
  });

  it('refuses Clear with Result Fail while moving', async () => {
    const w = wire();
    const s = w.arm.bus.servo(1);
    await w.exchange(dxl.write(1, 64, [1]), 1);
    await w.exchange(dxl.write(1, 116, u32(s.get('Present_Position') + 400)), 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(w.err((await w.exchange(dxl.clear(1), 1))[0])).toBe(1);
    w.close();
  });

  it('keeps torque off while a hardware error is latched, until a reboot', async () => {
    const w = wire();
    const s = w.arm.bus.servo(6);
    s.injectHardwareError(0x04);
    const [st] = await w.exchange(dxl.write(6, 64, [1]), 1);
    expect(st!.params[0]! & 0x80).toBe(0x80);
    expect(s.torqueEnabled).toBe(false);
    await w.exchange(dxl.reboot(6), 1);
    await w.exchange(dxl.write(6, 64, [1]), 1);
    expect(s.torqueEnabled).toBe(true);
    w.close();
  });
});
