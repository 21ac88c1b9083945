import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCalibration } from '../../src/arm/calibration.ts';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { MotorBus } from '../../src/bus/motor-bus.ts';
import { TtyBinding } from '../../src/bus/tty-binding.ts';
import { runDeployInWorker } from '../../src/control/loop-host.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { PtySimServer } from '../../src/sim/pty-server.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';
import { identityPolicy } from '../helpers/models.ts';
import { hasSocat } from '../helpers/socat.ts';

const IDS = [1, 2, 3, 4, 5, 6];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve() {
  const arm = createSimArm({ arm: 'so101', role: 'follower' });
  const link = join(tmpdir(), `armbridge-tty-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const server = await PtySimServer.start({ bus: arm.bus, link });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
    arm.bus.close();
  };
  cleanups.push(close);
  return { arm, link, close };
}

const identityModel = async () => identityPolicy(await mkdtemp(join(tmpdir(), 'armbridge-tty-')));

describe('TtyBinding (Node tty handles; usable from worker threads)', () => {
  it('refuses a missing path and a file that is not a tty, with the path in the message', async () => {
    await expect(new TtyBinding().open({ path: '/nonexistent/ttyACM9', baudRate: 1_000_000 })).rejects.toThrow(/cannot open \/nonexistent\/ttyACM9/);
    await expect(new TtyBinding().open({ path: '/dev/null', baudRate: 1_000_000 })).rejects.toThrow(/\/dev\/null is not a serial port/);
  });

  it.skipIf(!hasSocat)('a baud rate the line cannot take is refused with the rate and stty\'s reason', async () => {
    const { link } = await serve();
    await expect(new TtyBinding().open({ path: link, baudRate: 12345 })).rejects.toThrow(/cannot set .* to 12345 baud: stty: invalid argument/);
  });

  // pty round trips have multi-ms tails on a loaded machine: generous timeouts.
  it.skipIf(!hasSocat)('drives the simulator over a real pty: ping, sync read, sync write, torque', async () => {
    const { link, arm } = await serve();
    const bus = await MotorBus.open({ path: link, binding: new TtyBinding(), vendor: 'feetech', baud: 1_000_000, timeoutMs: 500 });
    cleanups.push(() => bus.close());
    for (const id of IDS) expect((await bus.ping(id)).modelNumber).toBe(777);
    const start = await bus.syncRead('Present_Position', IDS);
    await bus.syncWrite('Goal_Position', IDS.map((id, i) => [id, start[i]! + 40] as const));
    await bus.write(3, 'Torque_Enable', 1);
    expect(await bus.read(3, 'Torque_Enable')).toBe(1);
    expect(arm.bus.servo(3).torqueEnabled).toBe(true);
    expect(arm.bus.servo(3).get('Goal_Position')).toBe(start[2]! + 40);
  });

  it.skipIf(!hasSocat)('the deploy worker owns a real pty port; pulling it mid-run is a safety stop, not a crash', async () => {
    const { link, arm, close } = await serve();
    const calibration = await loadCalibration(simCalibrationPath('so101', 'follower'));
    const model = await identityModel();
    const r = await runDeployInWorker({ arm: { kind: 'so101', calibration, path: link, busTimeoutMs: 200 }, model, rateHz: 100, durationS: 0.5, readTimeoutMs: 200, park: false });
    expect(r.cycles).toBeGreaterThan(10);
    expect(r.safety.holds).toBeLessThan(r.cycles);
    // Torque was turned off when the worker closed the arm.
    expect(arm.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    let seen = 0;
    const err = await runDeployInWorker({
      arm: { kind: 'so101', calibration, path: link, busTimeoutMs: 200 },
      model,
      rateHz: 100,
      durationS: 20,
      readTimeoutMs: 100,
      onRecord: () => {
        if (++seen === 20) void close();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/lost the arm state/);
  });
});
