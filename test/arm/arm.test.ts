import { describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { ArmMismatchError } from '../../src/arm/errors.ts';
import { parkArm } from '../../src/arm/park.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { SafetyFilter } from '../../src/arm/safety-filter.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { openSimArm, shippedCalibration } from '../helpers/arms.ts';

describe('Arm on the simulated SO-101 and Koch', () => {
  it.each(['so101', 'koch'] as const)('%s: writes the calibration into the servos and reads joints in radians around the range middle', async (kind) => {
    const cal = await shippedCalibration(kind, 'follower');
    const { arm, sim, close } = await openSimArm(kind, 'follower', cal);
    try {
      expect(sim.bus.servos.map((s) => [s.get('Homing_Offset'), s.get('Min_Position_Limit'), s.get('Max_Position_Limit')])).toEqual(
        Object.values(cal.joints).map((j) => [j.homing_offset, j.range_min, j.range_max]),
      );
      const q = await arm.read();
      // The presets power up with every joint at its physical zero. 0 rad is the middle of the
      // calibrated range, so a joint reads −(middle of its travel): 0 for symmetric travel.
      sim.joints.slice(0, 5).forEach((j, i) => expect(q[i]).toBeCloseTo(-(j.lowerRad + j.upperRad) / 2, 2));
      expect(q[5]).toBeGreaterThanOrEqual(0);
      expect(q[5]).toBeLessThanOrEqual(1);
    } finally {
      await close();
    }
  });

  it('enables torque without a jump, moves through the filter, parks and closes with torque off', async () => {
    const { arm, sim, close } = await openSimArm('so101', 'follower');
    const before = sim.bus.servos.map((s) => s.positionCounts);
    const held = await arm.enableTorqueHolding();
    await new Promise((r) => setTimeout(r, 50));
    sim.bus.servos.forEach((s, i) => expect(Math.abs(s.positionCounts - before[i]!)).toBeLessThan(2));
    const f = new SafetyFilter({ names: arm.names, lower: arm.lower, upper: arm.upper, maxStep: 0.02 });
    f.reset(held);
    const target = Float64Array.from(held, (v, i) => (i === 1 ? v - 0.3 : v));
    for (let k = 0; k < 40; k++) {
      f.markFresh();
      await arm.write(f.filter(target).command);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await arm.read())[1]).toBeCloseTo(held[1]! - 0.3, 1);
    const parked = await parkArm(arm, { speed: 2, rateHz: 100 });
    expect(parked.reached).toBe(true);
    expect(sim.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    await arm.setTorque(true);
    await close();
    expect(sim.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    expect(arm.bus.isOpen).toBe(false);
  });

  it('refuses a bus whose servos are not what the profile says, and releases the port', async () => {
    const sim = createSimArm({ arm: 'koch', role: 'leader' });
    const binding = new SimBinding();
    binding.register('/sim/x', sim.bus);
    const err = await Arm.open({ profile: armProfile('koch', 'follower'), calibration: await shippedCalibration('koch', 'follower'), path: '/sim/x', binding }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArmMismatchError);
    expect((err as Error).message).toMatch(/joint "shoulder_pan": servo id 1 is a xl330-m077, the koch profile expects a xl430-w250/);
    // the port was released: it can be opened again
    const again = await Arm.open({ profile: armProfile('koch', 'leader'), calibration: await shippedCalibration('koch', 'leader'), path: '/sim/x', binding });
    await again.close();
    sim.bus.close();
  });

  it('names a joint whose servo does not answer', async () => {
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    sim.bus.servo(4).faults.silent = true;
    const binding = new SimBinding();
    binding.register('/sim/y', sim.bus);
    const err = await Arm.open({ profile: armProfile('so101', 'follower'), calibration: await shippedCalibration('so101', 'follower'), path: '/sim/y', binding, bus: { timeoutMs: 30 } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/joint "wrist_flex": servo id 4 does not answer/);
    sim.bus.close();
  });
});
