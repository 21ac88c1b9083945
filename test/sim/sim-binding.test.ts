import { SerialPortStream } from '@serialport/stream';
import { describe, expect, it } from 'vitest';
import { MotorBus } from '../../src/bus/motor-bus.ts';
import { PortOpenError } from '../../src/bus/errors.ts';
import { ft } from '../../src/protocol/index.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';

function setup() {
  const arm = createSimArm({ arm: 'so101', role: 'follower' });
  const binding = new SimBinding();
  binding.register('/sim/a', arm.bus);
  return { arm, binding };
}

describe('SimBinding (the serialport binding contract)', () => {
  it('lists its ports and refuses an unknown path with a message naming it', async () => {
    const { binding, arm } = setup();
    expect((await binding.list()).map((p) => p.path)).toEqual(['/sim/a']);
    const err = await MotorBus.open({ path: '/sim/nope', binding, vendor: 'feetech', baud: 1_000_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortOpenError);
    expect((err as Error).message).toMatch(/cannot open serial port \/sim\/nope .*no such port/);
    arm.bus.close();
  });

  it('locks a port like the OS does: a second open fails until the first closes', async () => {
    const { binding, arm } = setup();
    const a = await binding.open({ path: '/sim/a', baudRate: 1_000_000 });
    await expect(binding.open({ path: '/sim/a', baudRate: 1_000_000 })).rejects.toThrow(/Cannot lock port/);
    await a.close();
    const b = await binding.open({ path: '/sim/a', baudRate: 1_000_000 });
    await b.close();
    arm.bus.close();
  });

  it('rejects an in-flight read with canceled = true when the port closes', async () => {
    const { binding, arm } = setup();
    const port = await binding.open({ path: '/sim/a', baudRate: 1_000_000 });
    const read = port.read(Buffer.alloc(64), 0, 64).catch((e: { canceled?: boolean }) => e);
    await port.close();
    expect(await read).toMatchObject({ canceled: true });
    arm.bus.close();
  });

  it('rejects an in-flight read as a disconnect (not canceled) when the cable is pulled', async () => {
    const { binding, arm } = setup();
    const port = await binding.open({ path: '/sim/a', baudRate: 1_000_000 });
    const read = port.read(Buffer.alloc(64), 0, 64).catch((e: { canceled?: boolean; disconnected?: boolean }) => e);
    arm.bus.disconnect();
    expect(await read).toMatchObject({ canceled: false, disconnected: true });
    await expect(port.write(Buffer.from(ft.ping(1)))).rejects.toThrow(/unplugged/);
    await port.close();
  });

  it('works under a plain SerialPortStream: bytes in, reply bytes out', async () => {
    const { binding, arm } = setup();
    const stream = new SerialPortStream({ binding, path: '/sim/a', baudRate: 1_000_000 });
    const reply = await new Promise<Buffer>((resolve) => {
      stream.once('data', (d: Buffer) => resolve(d));
      stream.write(Buffer.from(ft.ping(3)));
    });
    expect([...reply]).toEqual([...ft.status(3, 0)]);
    await new Promise<void>((r) => stream.close(() => r()));
    arm.bus.close();
  });

  it('changes baud rate with update(): servos at 1 Mbps then stop answering', async () => {
    const { binding, arm } = setup();
    const bus = await MotorBus.open({ path: '/sim/a', binding, vendor: 'feetech', baud: 1_000_000, timeoutMs: 200 });
    expect((await bus.ping(1)).id).toBe(1);
    await bus.setBaud(57_600);
    await expect(bus.ping(1, { timeoutMs: 20, retries: 0 })).rejects.toMatchObject({ code: 'SERVO_TIMEOUT' });
    await bus.close();
    arm.bus.close();
  });
});

describe('no leaked handles', () => {
  it('leaves no timers, immediates or ports behind after many open/transact/close cycles', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    for (let i = 0; i < 20; i++) {
      const { binding, arm } = setup();
      await using bus = await MotorBus.open({ path: '/sim/a', binding, vendor: 'feetech', baud: 1_000_000 });
      await bus.syncRead('Present_Position', [1, 2, 3, 4, 5, 6]);
      arm.bus.servo(2).faults.silent = true;
      await expect(bus.read(2, 'ID', { timeoutMs: 2, retries: 0 })).rejects.toMatchObject({ code: 'SERVO_TIMEOUT' });
      arm.bus.close();
    }
    await new Promise((r) => setTimeout(r, 20));
    const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const count = (list: string[], kind: string) => list.filter((r) => r === kind).length;
    for (const kind of ['Timeout', 'Immediate']) expect(count(after, kind)).toBeLessThanOrEqual(count(before, kind));
  });
});
