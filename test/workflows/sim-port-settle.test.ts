import { describe, expect, it } from 'vitest';
import { ft } from '../../src/protocol/feetech-packet.ts';
import { STS_TABLE } from '../../src/protocol/sts3215.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { serveSimArm } from '../../src/workflows/sim-port.ts';

/**
 * A loop that blocks its thread between cycles (the loop engine's worker) with the simulator on
 * that same thread: the command written at the end of a cycle must reach the servos before the
 * thread blocks, or they follow it a period late (pick-and-place BC in deploy --sim over the worker:
 * 0/10 cubes placed before settle, 9/10 after, as on the main thread).
 */
const blockFor = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const goalPacket = (id: number, counts: number) => ft.write(id, STS_TABLE.Goal_Position.address, [counts & 0xff, (counts >> 8) & 0xff]);

describe('SimPort.settle: a command reaches the simulated servos before the loop blocks its thread', () => {
  for (const settle of [false, true]) {
    it(`in process, ${settle ? 'with' : 'without'} settle`, async () => {
      const arm = createSimArm({ arm: 'so101', role: 'follower' });
      const servo = arm.bus.servos[0]!;
      const port = await serveSimArm(arm, 'in-process');
      const open = await port.binding!.open({ path: port.path, baudRate: 1_000_000 });
      try {
        const target = servo.get('Goal_Position') === 2100 ? 2200 : 2100;
        // The write enters the wire synchronously; its bytes reach the servo after their wire time,
        // on this thread's event loop, which a blocking wait does not run.
        await open.write(Buffer.from(goalPacket(servo.id, target)));
        if (settle) await port.settle(20);
        blockFor(5);
        expect(servo.get('Goal_Position') === target).toBe(settle);
        expect(arm.bus.inFlight > 0).toBe(!settle);
      } finally {
        await open.close();
        await port.close();
      }
    });
  }

  it('over a real pty served on the same thread: settle waits for the bytes to arrive and be handled', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const servo = arm.bus.servos[0]!;
    const port = await serveSimArm(arm, 'pty');
    if (port.transport !== 'pty') {
      await port.close();
      return; // no socat here: the in-process cases cover settle
    }
    const { SerialPort } = await import('serialport');
    const sp = new SerialPort({ path: port.path, baudRate: 1_000_000, autoOpen: false });
    await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
    try {
      const target = servo.get('Goal_Position') === 2100 ? 2200 : 2100;
      await new Promise<void>((res, rej) => sp.write(Buffer.from(goalPacket(servo.id, target)), (e) => (e ? rej(e) : res())));
      await port.settle(200);
      blockFor(5);
      expect(servo.get('Goal_Position')).toBe(target);
    } finally {
      await new Promise<void>((res) => sp.close(() => res()));
      await port.close();
    }
  });
});
