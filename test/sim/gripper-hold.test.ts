/**
 * The effect of the profiles' gripper settings in the simulator: a follower gripper commanded
 * closed on an object (an obstacle between its jaws) for a whole pick-and-place episode draws
 * limited current and never trips its protection with the settings; with the factory values it
 * draws its full stall current and trips (Feetech: overload bit in every reply; Dynamixel: torque
 * cut). Arms opened through Arm.open on the in-process binding; the episode's 8 s are skipped by
 * moving the simulator's clock forward once the gripper has stalled.
 */
import { describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { armProfile, type ArmKind } from '../../src/arm/profiles.ts';
import { ServoStatusError } from '../../src/bus/errors.ts';
import type { SimClock } from '../../src/sim/clock.ts';
import { PickPlaceTask } from '../../src/sim/pick-place-task.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { shippedCalibration } from '../helpers/arms.ts';

/** Wall time plus jumps. */
class JumpClock implements SimClock {
  readonly realTime = true;
  offsetUs = 0;
  nowUs(): number {
    return performance.now() * 1000 + this.offsetUs;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EPISODE_S = new PickPlaceTask({ arm: 'so101' }).episodeS;

async function holdClosedOnObject(kind: ArmKind, withSettings: boolean) {
  const clock = new JumpClock();
  const sim = createSimArm({ arm: kind, role: 'follower', clock });
  const binding = new SimBinding();
  binding.register('/sim/hold', sim.bus);
  const profile = armProfile(kind, 'follower');
  const arm = await Arm.open({
    profile: withSettings ? profile : { ...profile, servoSettings: [] },
    calibration: await shippedCalibration(kind, 'follower'),
    path: '/sim/hold',
    binding,
    bus: { timeoutMs: 20 },
  });
  const gripper = arm.joints[5]!;
  const servo = sim.bus.servo(6);
  try {
    await arm.enableTorqueHolding();
    const openTicks = gripper.toTicks(0.6);
    const closedTicks = gripper.toTicks(0);
    await arm.bus.write(6, 'Goal_Position', openTicks);
    await sleep(400);
    // The object: a little way closed from the open jaws (counts move with ticks on both vendors).
    const closing = Math.sign(closedTicks - openTicks);
    const at = servo.positionCounts + closing * 30;
    servo.setObstacle(closing < 0 ? { min: at } : { max: at });
    await arm.bus.write(6, 'Goal_Position', closedTicks);
    await sleep(300);
    const stalledAt = servo.positionCounts;
    const currentStalled = Math.abs(await arm.bus.read(6, 'Present_Current'));
    clock.offsetUs += EPISODE_S * 1e6;
    servo.update();
    const afterEpisode = {
      hardwareError: servo.hardwareError,
      torque: servo.torqueEnabled,
      // Dynamixel's is signed (closing is negative on the Koch gripper): the magnitude is the draw.
      current: Math.abs(servo.get('Present_Current')),
      read: await arm.bus.read(6, 'Present_Current').then(Math.abs, (e: unknown) => e),
    };
    return { blockedAt: at, stalledAt, currentStalled, afterEpisode };
  } finally {
    await arm.close();
    sim.bus.close();
  }
}

describe('a follower gripper closed on an object for a whole episode', () => {
  it('SO-101: with the settings it stalls at half torque (≈ 1 A, under Protection_Current) and never trips; the factory values draw full current and latch overload', async () => {
    const guarded = await holdClosedOnObject('so101', true);
    expect(guarded.stalledAt).toBeCloseTo(guarded.blockedAt, 6); // blocked by the object
    expect(guarded.currentStalled).toBe(150); // 6.5 mA units: 50 % of the sim's full-load 300
    expect(guarded.currentStalled).toBeLessThan(250); // Protection_Current
    expect(guarded.afterEpisode).toMatchObject({ hardwareError: 0, torque: true, current: 150, read: 150 });

    const factory = await holdClosedOnObject('so101', false);
    expect(factory.currentStalled).toBe(300);
    expect(factory.afterEpisode.hardwareError & 0x20).toBe(0x20); // overload, after Protection_Time (2 s)
    // Every reply now carries the bit: armbridge's bus raises.
    expect(factory.afterEpisode.read).toBeInstanceOf(ServoStatusError);
  });

  it('Koch: with the settings (current-based position, Goal_Current 300 mA) it holds at 300 mA and never trips; in factory position mode it stalls at full load and overload cuts its torque', async () => {
    const guarded = await holdClosedOnObject('koch', true);
    expect(guarded.stalledAt).toBeCloseTo(guarded.blockedAt, 6);
    expect(guarded.currentStalled).toBe(300);
    expect(guarded.afterEpisode).toMatchObject({ hardwareError: 0, torque: true, current: 300, read: 300 });

    const factory = await holdClosedOnObject('koch', false);
    expect(factory.currentStalled).toBe(1000);
    expect(factory.afterEpisode.hardwareError & 0x20).toBe(0x20);
    expect(factory.afterEpisode.torque).toBe(false);
  });

  it('an override lowering the SO-101 gripper’s Protection_Current below its stall current trips over-current protection (torque cut)', async () => {
    const clock = new JumpClock();
    const sim = createSimArm({ arm: 'so101', role: 'follower', clock });
    const binding = new SimBinding();
    binding.register('/sim/oc', sim.bus);
    const arm = await Arm.open({
      profile: armProfile('so101', 'follower'),
      calibration: await shippedCalibration('so101', 'follower'),
      path: '/sim/oc',
      binding,
      bus: { timeoutMs: 20 },
      servoSettings: [{ joint: 'gripper', register: 'Protection_Current', value: 100 }],
    });
    const servo = sim.bus.servo(6);
    try {
      await arm.enableTorqueHolding();
      const closing = Math.sign(arm.joints[5]!.toTicks(0) - arm.joints[5]!.toTicks(0.6));
      await arm.bus.write(6, 'Goal_Position', arm.joints[5]!.toTicks(0.6));
      await sleep(400);
      const at = servo.positionCounts + closing * 30;
      servo.setObstacle(closing < 0 ? { min: at } : { max: at });
      await arm.bus.write(6, 'Goal_Position', arm.joints[5]!.toTicks(0));
      await sleep(300);
      expect(servo.hardwareError).toBe(0); // 150 > 100, but not yet for Over_Current_Protection_Time (2 s)
      clock.offsetUs += 3e6;
      servo.update();
      expect(servo.hardwareError & 0x08).toBe(0x08);
      expect(servo.torqueEnabled).toBe(false);
    } finally {
      await arm.close();
      sim.bus.close();
    }
  });
});
