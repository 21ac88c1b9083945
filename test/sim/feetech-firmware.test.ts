import { describe, expect, it } from 'vitest';
import { FeetechFramer, ft, toHex, type FtPacket } from '../../src/protocol/index.ts';
import { rawWire } from '../helpers/wire.ts';

function wire() {
  return rawWire<FtPacket>('so101', new FeetechFramer());
}

describe('simulated Feetech bus: what LeRobot does on connect, calibrate and configure (PROTOCOLS.md B8)', () => {
  it('answers the handshake: Ping, Model_Number 777, identical firmware on all six', async () => {
    const w = wire();
    for (let id = 1; id <= 6; id++) {
      const [ping] = await w.exchange(ft.ping(id), 1);
      expect(toHex(ping!.raw)).toBe(toHex(ft.status(id, 0)));
      const [model] = await w.exchange(ft.read(id, 3, 2), 1);
      expect(toHex(model!.params)).toBe('09 03');
      const [major] = await w.exchange(ft.read(id, 0, 1), 1);
      const [minor] = await w.exchange(ft.read(id, 1, 1), 1);
      expect([major!.params[0], minor!.params[0]]).toEqual([3, 10]);
    }
    w.close();
  });

  it('acknowledges with ERROR 0 every status-checked write LeRobot makes, EEPROM ones with Lock = 0', async () => {
    const w = wire();
    const writes: [number, number[]][] = [
      [40, [0]], [55, [0]], [33, [0]], [31, [0, 0]], [9, [0, 0]], [11, [0xff, 0x0f]], [7, [0]], [85, [254]], [41, [254]],
      [21, [16]], [23, [0]], [22, [32]], [16, [0xf4, 0x01]], [28, [250, 0]], [36, [25]], [18, [12]], [40, [1]], [55, [1]],
    ];
    for (const [address, data] of writes) {
      const [status] = await w.exchange(ft.write(6, address, data), 1);
      expect(status!.code).toBe(0);
    }
    expect(w.arm.bus.servo(6).get('Maximum_Acceleration')).toBe(254);
    expect(w.arm.bus.servo(6).get('Max_Torque_Limit')).toBe(500);
    w.close();
  });

  it('makes half-turn homing read back 2047: Present = Actual − Homing_Offset', async () => {
    const w = wire();
    const [raw] = await w.exchange(ft.read(2, 56, 2), 1);
    const present = raw!.params[0]! | (raw!.params[1]! << 8);
    const offset = present - 2047;
    const mag = Math.abs(offset);
    await w.exchange(ft.write(2, 55, [0]), 1);
    await w.exchange(ft.write(2, 31, [mag & 0xff, ((mag >> 8) & 0x07) | (offset < 0 ? 0x08 : 0)]), 1);
    const [after] = await w.exchange(ft.read(2, 56, 2), 1);
    expect(after!.params[0]! | (after!.params[1]! << 8)).toBe(2047);
    w.close();
  });

  it('answers Sync Read in list order, one 8-byte status per id, and applies Sync Write silently', async () => {
    const w = wire();
    const replies = await w.exchange(ft.syncRead(56, 2, [3, 1, 2]), 3);
    expect(replies.map((r) => r.id)).toEqual([3, 1, 2]);
    expect(replies.every((r) => r.raw.length === 8)).toBe(true);
    const none = await w.exchange(ft.syncWrite(42, 2, [{ id: 1, data: [0x00, 0x08] }]), 0);
    expect(none).toHaveLength(0);
    expect(w.arm.bus.servo(1).get('Goal_Position')).toBe(2048);
    w.close();
  });

  it('answers a broadcast Ping from every servo, each exactly FF FF id 02 err chk', async () => {
    const w = wire();
    const replies = await w.exchange(ft.ping(0xfe), 6);
    expect(replies.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(replies.every((r) => r.raw.length === 6)).toBe(true);
    w.close();
  });

  it('replies to an ID change with the old id, then answers to the new one', async () => {
    const w = wire();
    await w.exchange(ft.write(6, 40, [0]), 1);
    const [status] = await w.exchange(ft.write(6, 5, [9]), 1);
    expect(status!.id).toBe(6);
    const [ping] = await w.exchange(ft.ping(9), 1);
    expect(ping!.id).toBe(9);
    w.close();
  });

  it('replies to a baud change at the old rate, then is silent at the old rate', async () => {
    const w = wire();
    const [status] = await w.exchange(ft.write(1, 6, [1]), 1);
    expect(status!.code).toBe(0);
    expect(await w.exchange(ft.ping(1), 1, 1_000_000)).toHaveLength(0);
    expect(await w.exchange(ft.ping(1), 1, 500_000)).toHaveLength(1);
    w.close();
  });

  it('keeps EEPROM writes made under Lock = 1 only until a reboot', async () => {
    const w = wire();
    const s = w.arm.bus.servo(3);
    await w.exchange(ft.write(3, 11, [0x00, 0x0c]), 1); // Max_Position_Limit = 3072 while locked
    expect(s.get('Max_Position_Limit')).toBe(3072);
    s.reboot();
    expect(s.get('Max_Position_Limit')).toBe(4095);
    await w.exchange(ft.write(3, 55, [0]), 1);
    await w.exchange(ft.write(3, 11, [0x00, 0x0c]), 1);
    s.reboot();
    expect(s.get('Max_Position_Limit')).toBe(3072);
    w.close();
  });

  it('clamps Goal_Position into the position limits', async () => {
    const w = wire();
    await w.exchange(ft.write(4, 55, [0]), 1);
    await w.exchange(ft.write(4, 11, [0x00, 0x0a]), 1); // max 2560
    await w.exchange(ft.write(4, 42, [0xff, 0x0f]), 1); // goal 4095
    expect(w.arm.bus.servo(4).get('Goal_Position')).toBe(2560);
    w.close();
  });
});
