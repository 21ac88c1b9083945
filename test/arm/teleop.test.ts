import { describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { runTeleop } from '../../src/arm/teleop.ts';
import { SimWorld } from '../../src/sim/world.ts';
import { serveSimArm, type SimPort } from '../../src/workflows/sim-port.ts';
import { runSimTeleop } from '../../src/workflows/teleop-sim.ts';
import { shippedCalibration } from '../helpers/arms.ts';
import { hasSocat } from '../helpers/socat.ts';

describe('teleoperation on the simulator', () => {
  it('in-process: the follower tracks the leader moved by the scripted operator', async () => {
    const r = await runSimTeleop({ arm: 'so101', rateHz: 200, durationS: 2.5, transport: 'in-process', episodeS: 2.5 });
    expect(r.cycles).toBeGreaterThan(0);
    expect(r.trackingErrorRad).toBeLessThan(0.03);
    expect(r.safety.faults).toBe(0);
    expect(r.episodes).toBe(1);
    expect(r.parked).toBe(true);
  });

  it.skipIf(!hasSocat)('over real ptys: the follower tracks the leader', async () => {
    const r = await runSimTeleop({ arm: 'so101', rateHz: 100, durationS: 2.5, transport: 'pty', episodeS: 2.5 });
    expect(r.transport).toBe('pty');
    expect(r.trackingErrorRad).toBeLessThan(0.03);
    expect(r.safety.faults).toBe(0);
  });

  it.skipIf(!hasSocat)("over real ptys: pulling the leader's cable makes the follower hold, then cuts its torque, with a clear error", async () => {
    const world = new SimWorld({ arm: 'so101', seed: 3 });
    const ports: SimPort[] = [];
    const arms: Arm[] = [];
    try {
      for (const sim of [world.leader, world.follower]) ports.push(await serveSimArm(sim, 'pty'));
      for (const [i, role] of (['leader', 'follower'] as const).entries()) {
        arms.push(await Arm.open({ profile: armProfile('so101', role), calibration: await shippedCalibration('so101', role), path: ports[i]!.path, bus: { timeoutMs: 100 } }));
      }
      const [leader, follower] = arms as [Arm, Arm];
      world.startEpisode('expert');
      const commandsAfterUnplug: number[][] = [];
      let unpluggedAt = -1;
      const err = await runTeleop({
        leader,
        follower,
        rateHz: 100,
        durationS: 10,
        readTimeoutMs: 50,
        onCycle: (c) => {
          if (unpluggedAt < 0 && c.tMs > 500) {
            unpluggedAt = c.tMs;
            world.leader.bus.disconnect();
          } else if (unpluggedAt >= 0) commandsAfterUnplug.push(Array.from(c.command));
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toMatch(/serial port .* disappeared: the USB cable was unplugged .*the follower was held, then its torque was turned off/);
      // Held: every command after the unplug repeats the last one.
      expect(commandsAfterUnplug.length).toBeGreaterThan(0);
      for (const c of commandsAfterUnplug) expect(c).toEqual(commandsAfterUnplug[0]);
      // Torque off before anything closed the arm.
      expect(world.follower.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    } finally {
      for (const a of arms.reverse()) await a.close({ torqueOff: false });
      for (const p of ports) await p.close();
      world.close();
    }
  });
});
