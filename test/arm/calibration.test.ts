import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { calibrateArm, type CalibrationPrompts } from '../../src/arm/calibrate.ts';
import { checkCalibration, importLeRobotCalibration, JointConverter, loadCalibration, toLeRobotCalibration, type Calibration } from '../../src/arm/calibration.ts';
import { CalibrationError, CalibrationFileError, CalibrationMismatchError } from '../../src/arm/errors.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { markSafe } from '../../src/arm/safe-command.ts';
import { MotorBus } from '../../src/bus/motor-bus.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { simCalibrationHand } from '../../src/workflows/sim-calibration.ts';
import { openSimArm, shippedCalibration } from '../helpers/arms.ts';

const so101 = armProfile('so101', 'follower');

async function calibrateSim(kind: 'so101' | 'koch', role: 'follower' | 'leader', hand?: (arm: ReturnType<typeof createSimArm>) => CalibrationPrompts) {
  const sim = createSimArm({ arm: kind, role });
  const binding = new SimBinding();
  binding.register('/sim/c', sim.bus);
  const profile = armProfile(kind, role);
  const bus = await MotorBus.open({ path: '/sim/c', binding, vendor: profile.vendor, baud: 1_000_000, models: Object.fromEntries(profile.joints.map((j) => [j.id, j.model])) });
  try {
    const cal = await calibrateArm(bus, profile, hand ? hand(sim) : simCalibrationHand(sim, { secondsPerJoint: 0.8 }));
    return { cal, sim, bus };
  } catch (e) {
    await bus.close();
    sim.bus.close();
    throw e;
  }
}

describe('ticks ↔ calibrated units', () => {
  it('round-trips every tick of the range, both directions and the gripper', async () => {
    const cal = await shippedCalibration('so101', 'follower');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.constantFrom(0 as const, 1 as const), fc.double({ min: 0, max: 1, noNaN: true }), (j, drive, f) => {
        const spec = so101.joints[j]!;
        const jc = { ...cal.joints[spec.name]!, drive_mode: drive };
        const conv = new JointConverter(spec, jc);
        const ticks = Math.round(jc.range_min + f * (jc.range_max - jc.range_min));
        expect(conv.toTicks(conv.toUnits(ticks))).toBe(ticks);
      }),
    );
  });

  it('puts 0 rad at the middle of the range and the limits at ±half the span; the gripper at 0…1', async () => {
    const cal = await shippedCalibration('so101', 'follower');
    const pan = new JointConverter(so101.joints[0]!, cal.joints.shoulder_pan!);
    expect(pan.toUnits((cal.joints.shoulder_pan!.range_min + cal.joints.shoulder_pan!.range_max) / 2)).toBeCloseTo(0, 9);
    expect(pan.upper).toBeCloseTo(((cal.joints.shoulder_pan!.range_max - cal.joints.shoulder_pan!.range_min) / 2) * ((2 * Math.PI) / 4096), 9);
    const grip = new JointConverter(so101.joints[5]!, cal.joints.gripper!);
    expect([grip.toUnits(cal.joints.gripper!.range_min), grip.toUnits(cal.joints.gripper!.range_max)]).toEqual([0, 1]);
    expect(grip.toTicks(7)).toBe(cal.joints.gripper!.range_max);
    expect(pan.toTicks(Number.NaN)).toBeGreaterThanOrEqual(cal.joints.shoulder_pan!.range_min);
  });
});

describe('calibration files', () => {
  it('refuses a file whose id or model does not match, naming the joint', async () => {
    const cal = await shippedCalibration('so101', 'follower');
    const badId: Calibration = { ...cal, joints: { ...cal.joints, elbow_flex: { ...cal.joints.elbow_flex!, id: 9 } } };
    expect(() => checkCalibration(badId, so101)).toThrow(CalibrationMismatchError);
    expect(() => checkCalibration(badId, so101)).toThrow(/joint "elbow_flex": the file says servo id 9, the arm has id 3/);
    const badModel: Calibration = { ...cal, joints: { ...cal.joints, gripper: { ...cal.joints.gripper!, model: 'xl330-m288' } } };
    expect(() => checkCalibration(badModel, so101)).toThrow(/joint "gripper": the file says a xl330-m288, the arm has a sts3215/);
    const koch = await shippedCalibration('koch', 'follower');
    expect(() => checkCalibration(koch, so101)).toThrow(/for a koch arm, this is a so101/);
    const leader = await shippedCalibration('so101', 'leader');
    expect(() => checkCalibration(leader, so101)).toThrow(/the file is for the leader arm, this is the follower/);
  });

  it('refuses, when opening the arm, a calibration whose ids or models do not match the connected arm', async () => {
    const sim = createSimArm({ arm: 'koch', role: 'follower' });
    const binding = new SimBinding();
    binding.register('/sim/k', sim.bus);
    const kochCal = await shippedCalibration('koch', 'follower');
    const wrong: Calibration = { ...kochCal, joints: { ...kochCal.joints, wrist_flex: { ...kochCal.joints.wrist_flex!, model: 'xl330-m077' } } };
    const err = await Arm.open({ profile: armProfile('koch', 'follower'), calibration: wrong, path: '/sim/k', binding }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationMismatchError);
    expect(err).toMatchObject({ code: 'CALIBRATION_MISMATCH', joint: 'wrist_flex' });
    expect((err as Error).message).toMatch(/"wrist_flex": the file says a xl330-m077, the arm has a xl330-m288/);
    // nothing was left open: the arm opens with the right file
    const ok = await Arm.open({ profile: armProfile('koch', 'follower'), calibration: kochCal, path: '/sim/k', binding });
    await ok.close();
    sim.bus.close();
  });

  it('says what is wrong with a missing, broken or LeRobot-format file', async () => {
    await expect(loadCalibration('/nonexistent/cal.json')).rejects.toThrow(/cannot read it .*calibrate first/);
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/cal-');
    await writeFile(`${dir}/broken.json`, '{"format": ');
    await expect(loadCalibration(`${dir}/broken.json`)).rejects.toThrow(CalibrationFileError);
    const cal = await shippedCalibration('so101', 'follower');
    await writeFile(`${dir}/lerobot.json`, JSON.stringify(toLeRobotCalibration(cal)));
    await expect(loadCalibration(`${dir}/lerobot.json`)).rejects.toThrow(/looks like a LeRobot calibration file: import it/);
  });

  it('imports a LeRobot calibration that then drives the simulated arm exactly as our own file', async () => {
    const ours = await shippedCalibration('so101', 'follower');
    const imported = importLeRobotCalibration(JSON.parse(JSON.stringify(toLeRobotCalibration(ours))), so101);
    expect(imported.source).toBe('lerobot');
    const goals: number[][] = [];
    for (const cal of [ours, imported]) {
      const { arm, sim, close } = await openSimArm('so101', 'follower', cal);
      const q = await arm.read();
      const before = sim.bus.servos.map((s) => s.get('Goal_Position')).join();
      await arm.write(markSafe(Float64Array.from(q, (v, i) => v + (i === 5 ? 0.2 : 0.1))));
      // The sync write has no reply: wait until it has crossed the simulated wire.
      for (let k = 0; k < 200 && sim.bus.servos.map((s) => s.get('Goal_Position')).join() === before; k++) await new Promise((r) => setTimeout(r, 5));
      goals.push(sim.bus.servos.map((s) => s.get('Goal_Position')));
      expect(sim.bus.servos.map((s) => s.get('Homing_Offset'))).toEqual(Object.values(cal.joints).map((j) => j.homing_offset));
      await close();
    }
    expect(goals[1]).toEqual(goals[0]);
  });
});

describe('a calibration file made by LeRobot', () => {
  it('imports and drives the simulated arm like our own calibration of the same arm', async () => {
    // What LeRobot's calibrate() writes for this arm (ARMS.md §3): the person holds the arm at the
    // physical middle, half-turn homing makes that read 2047 (offset = raw − 2047), the sweep
    // records each joint's stops; wrist_roll gets the fixed range 0…4095.
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    const leRobot: Record<string, { id: number; drive_mode: number; homing_offset: number; range_min: number; range_max: number }> = {};
    sim.joints.forEach((j, i) => {
      const s = sim.bus.servos[i]!;
      const middle = Math.round((s.travel.min + s.travel.max) / 2);
      const wrapped = (((middle - 2047) % 4096) + 4096) % 4096;
      const offset = wrapped > 2047 ? wrapped - 4096 : wrapped; // sign-magnitude holds ±2047
      const present = (raw: number) => (((Math.round(raw) - offset) % 4096) + 4096) % 4096;
      leRobot[j.name] =
        j.name === 'wrist_roll'
          ? { id: j.id, drive_mode: 0, homing_offset: offset, range_min: 0, range_max: 4095 }
          : { id: j.id, drive_mode: 0, homing_offset: offset, range_min: present(s.travel.min), range_max: present(s.travel.max) };
    });
    sim.bus.close();
    const imported = importLeRobotCalibration(leRobot, so101, 'lerobot.json');
    const ours = await shippedCalibration('so101', 'follower');
    // Command the same pose in calibrated units with each file; the physical result must agree.
    const physical: number[][] = [];
    for (const cal of [ours, imported]) {
      const { arm, sim: s, close } = await openSimArm('so101', 'follower', cal);
      const held = await arm.enableTorqueHolding();
      const target = Float64Array.from(held, (_v, i) => [0.3, -0.4, 0.5, -0.2, held[4]!, 0.5][i]!);
      const f = new (await import('../../src/arm/safety-filter.ts')).SafetyFilter({ names: arm.names, lower: arm.lower, upper: arm.upper, maxStep: 0.05 });
      f.reset(held);
      for (let k = 0; k < 40; k++) {
        f.markFresh();
        await arm.write(f.filter(target).command);
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 400));
      physical.push(s.bus.servos.slice(0, 4).map((x) => x.positionCounts));
      await close();
    }
    physical[0]!.forEach((p, i) => expect(Math.abs(p - physical[1]![i]!)).toBeLessThanOrEqual(3));
  });
});

describe('the calibration procedure on the simulator', () => {
  it('reproduces the shipped calibration files of the simulated arms', async () => {
    for (const [kind, role] of [['so101', 'follower'], ['koch', 'leader']] as const) {
      const { cal, sim, bus } = await calibrateSim(kind, role);
      const shipped = await shippedCalibration(kind, role);
      for (const [name, j] of Object.entries(shipped.joints)) {
        const got = cal.joints[name]!;
        expect([got.id, got.model]).toEqual([j.id, j.model]);
        expect(Math.abs(got.homing_offset - j.homing_offset)).toBeLessThanOrEqual(2);
        expect(Math.abs(got.range_min - j.range_min)).toBeLessThanOrEqual(2);
        expect(Math.abs(got.range_max - j.range_max)).toBeLessThanOrEqual(2);
      }
      await bus.close();
      sim.bus.close();
    }
  });

  it('keeps the encoder wrap outside the travel of a joint whose raw travel crosses it (so101 wrist_roll)', async () => {
    const { cal, sim, bus } = await calibrateSim('so101', 'follower');
    const roll = sim.bus.servo(5);
    const { min, max } = roll.travel;
    expect(Math.floor(min / 4096)).not.toBe(Math.floor(max / 4096)); // the raw travel really crosses 4095 → 0
    const t0 = sim.bus.clock.nowUs();
    roll.setDriver((now) => min + ((max - min) * Math.min(1, (now - t0) / 400_000)));
    const seen: number[] = [];
    while (sim.bus.clock.nowUs() - t0 < 450_000) {
      seen.push(await bus.read(5, 'Present_Position'));
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 1; i < seen.length; i++) expect(Math.abs(seen[i]! - seen[i - 1]!)).toBeLessThan(400);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(cal.joints.wrist_roll!.range_min - 2);
    expect(Math.max(...seen)).toBeLessThanOrEqual(cal.joints.wrist_roll!.range_max + 2);
    await bus.close();
    sim.bus.close();
  });

  it('names a joint that was not moved during the sweep', async () => {
    const err = await calibrateSim('so101', 'follower', (sim) => ({
      middle: async () => undefined,
      sweep: async () => {
        for (const s of sim.bus.servos) if (s.id !== 3) s.moveTo(s.travel.min);
        await new Promise((r) => setTimeout(r, 30));
        for (const s of sim.bus.servos) if (s.id !== 3) s.moveTo(s.travel.max);
        await new Promise((r) => setTimeout(r, 30));
      },
    })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationError);
    expect((err as Error).message).toMatch(/joint "elbow_flex" failed: it moved only \d+ ticks/);
  });
});
