/**
 * The arm profiles' servo settings (issue 27 point 6): written on connect with the EEPROM rules,
 * read back, overridable, refused or not held → named errors; on the simulator in process and over
 * a real pty.
 */
import { describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { ServoSettingMismatchError, ServoSettingRefusedError } from '../../src/arm/errors.ts';
import { ARM_PROFILES, armProfile, type ArmKind } from '../../src/arm/profiles.ts';
import { parseServoSettingOverride, readServoSettings, resolveServoSettings, type ServoSettingOverride } from '../../src/arm/servo-settings.ts';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { createSimArm, type SimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { serveSimArm } from '../../src/workflows/sim-port.ts';
import { shippedCalibration } from '../helpers/arms.ts';
import { hasSocat } from '../helpers/socat.ts';

async function open(kind: ArmKind, sim: SimArm, servoSettings?: readonly ServoSettingOverride[]) {
  const binding = new SimBinding();
  binding.register('/sim/settings', sim.bus);
  return Arm.open({ profile: armProfile(kind, 'follower'), calibration: await shippedCalibration(kind, 'follower'), path: '/sim/settings', binding, bus: { timeoutMs: 20 }, servoSettings });
}

const regs = (sim: SimArm, id: number, names: readonly string[]) => names.map((n) => sim.bus.servo(id).get(n));

describe('servo settings in the arm profiles', () => {
  it('every profile setting exists, writable, on the servo of each joint it names, and says why', () => {
    for (const profile of Object.values(ARM_PROFILES)) {
      const resolved = resolveServoSettings(profile);
      expect(resolved.length).toBeGreaterThanOrEqual(profile.servoSettings.length);
      for (const s of profile.servoSettings) expect(s.reason.length, `${profile.kind}-${profile.role} ${s.register}`).toBeGreaterThan(20);
    }
    // EEPROM or RAM from the control table: Feetech EEPROM ends at 40, Dynamixel at 64.
    const so = resolveServoSettings(armProfile('so101', 'follower')).filter((s) => s.joint === 'gripper');
    expect(Object.fromEntries(so.map((s) => [s.register, s.eeprom]))).toMatchObject({ Max_Torque_Limit: true, Protection_Current: true, Torque_Limit: false, Acceleration: false, P_Coefficient: true });
  });

  it('SO-101 follower: written on connect, persisted in EEPROM (a power cycle keeps them), relocked, read back by readServoSettings', async () => {
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    // A servo that came with multi-turn feedback (Phase bit 4), and one left by LeRobot's 25 %.
    sim.bus.servo(3).set('Phase', 12 | 0x10);
    sim.bus.servo(6).set('Overload_Torque', 25);
    const arm = await open('so101', sim);
    try {
      const names = ['Max_Torque_Limit', 'Torque_Limit', 'Protection_Current', 'Overload_Torque', 'P_Coefficient', 'I_Coefficient', 'D_Coefficient', 'Acceleration', 'Lock'];
      expect(regs(sim, 6, names)).toEqual([500, 500, 250, 80, 16, 0, 32, 254, 1]);
      expect(regs(sim, 2, names)).toEqual([1000, 1000, 511, 80, 16, 0, 32, 254, 1]);
      expect(sim.bus.servo(3).get('Phase')).toBe(12); // bit 4 cleared, the others kept
      const rows = await readServoSettings(arm.bus, arm.profile);
      expect(rows.length).toBe(resolveServoSettings(arm.profile).length);
      expect(rows.filter((r) => !r.matches)).toEqual([]);
      sim.bus.servo(6).reboot();
      sim.bus.servo(3).reboot();
      expect(regs(sim, 6, ['Max_Torque_Limit', 'Torque_Limit', 'Protection_Current', 'Overload_Torque', 'P_Coefficient'])).toEqual([500, 500, 250, 80, 16]);
      expect(sim.bus.servo(3).get('Phase')).toBe(12);
    } finally {
      await arm.close();
      sim.bus.close();
    }
  });

  it('Koch follower: current-based position gripper with its current limits, elbow gains, and position mode undoing a LeRobot mode 4', async () => {
    const sim = createSimArm({ arm: 'koch', role: 'follower' });
    sim.bus.servo(1).set('Operating_Mode', 4);
    sim.bus.servo(1).persistEeprom();
    const arm = await open('koch', sim);
    try {
      expect(sim.bus.servos.map((s) => s.get('Operating_Mode'))).toEqual([3, 3, 3, 3, 3, 5]);
      expect(regs(sim, 6, ['Current_Limit', 'Goal_Current'])).toEqual([500, 300]);
      expect(regs(sim, 3, ['Position_P_Gain', 'Position_I_Gain', 'Position_D_Gain'])).toEqual([1500, 0, 600]);
      expect(regs(sim, 4, ['Position_P_Gain', 'Position_D_Gain'])).toEqual([400, 0]); // only the elbow's
      expect((await readServoSettings(arm.bus, arm.profile)).every((r) => r.matches)).toBe(true);
    } finally {
      await arm.close();
      sim.bus.close();
    }
  });

  it.skipIf(!hasSocat)('over a real pty: written and read back', async () => {
    const port = await serveSimArm(createSimArm({ arm: 'so101', role: 'follower' }), 'pty');
    expect(port.transport).toBe('pty');
    const arm = await Arm.open({ profile: armProfile('so101', 'follower'), calibration: await shippedCalibration('so101', 'follower'), path: port.path, binding: port.binding, bus: { timeoutMs: 100 } });
    try {
      expect(regs(port.arm, 6, ['Max_Torque_Limit', 'Protection_Current', 'Overload_Torque', 'P_Coefficient'])).toEqual([500, 250, 80, 16]);
      const rows = await readServoSettings(arm.bus, arm.profile);
      expect(rows.every((r) => r.matches && r.actual !== undefined)).toBe(true);
    } finally {
      await arm.close();
      await port.close();
    }
  });

  it('an override replaces the profile value; scan without it then shows the difference', async () => {
    expect(parseServoSettingOverride('gripper.Max_Torque_Limit=400')).toEqual({ joint: 'gripper', register: 'Max_Torque_Limit', value: 400 });
    expect(() => parseServoSettingOverride('gripper.Max_Torque_Limit')).toThrow(InvalidArgumentError);
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    const arm = await open('so101', sim, [parseServoSettingOverride('gripper.Max_Torque_Limit=400'), parseServoSettingOverride('all.Acceleration=100')]);
    try {
      expect(regs(sim, 6, ['Max_Torque_Limit', 'Torque_Limit', 'Acceleration'])).toEqual([400, 500, 100]);
      expect(sim.bus.servos.map((s) => s.get('Acceleration'))).toEqual([100, 100, 100, 100, 100, 100]);
      const plain = await readServoSettings(arm.bus, arm.profile);
      const off = plain.filter((r) => !r.matches).map((r) => `${r.joint}.${r.register}=${r.actual}≠${r.value}`);
      expect(off).toEqual(['gripper.Max_Torque_Limit=400≠500', ...['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((j) => `${j}.Acceleration=100≠254`)]);
    } finally {
      await arm.close();
      sim.bus.close();
    }
  });

  it('a bad override fails before the port is opened, naming what exists', async () => {
    const sim = createSimArm({ arm: 'koch', role: 'follower' });
    await expect(open('koch', sim, [{ joint: 'shoulder_pan', register: 'Current_Limit', value: 100 }])).rejects.toThrow(/xl430-w250 of joint "shoulder_pan" has no register Current_Limit/);
    await expect(open('koch', sim, [{ joint: 'thumb', register: 'Goal_Current', value: 100 }])).rejects.toThrow(/no joint "thumb" \(joints: shoulder_pan, .*gripper, or all\)/);
    await expect(open('koch', sim, [{ joint: 'gripper', register: 'Present_Current', value: 100 }])).rejects.toThrow(/read-only/);
    sim.bus.close();
  });

  it('a servo that refuses a value: SERVO_SETTING_REFUSED naming joint, register and value; the port is released', async () => {
    const sim = createSimArm({ arm: 'koch', role: 'follower' });
    // Goal_Current beyond Current_Limit (500): the Dynamixel answers Data Limit Error.
    const err = await open('koch', sim, [{ joint: 'gripper', register: 'Goal_Current', value: 800 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServoSettingRefusedError);
    expect((err as ServoSettingRefusedError).code).toBe('SERVO_SETTING_REFUSED');
    expect((err as Error).message).toMatch(/joint "gripper" \(servo id 6\) refused Goal_Current = 800/);
    expect((err as Error).cause).toBeDefined();
    const again = await open('koch', sim);
    await again.close();
    sim.bus.close();
  });

  it('a servo that acknowledges but does not hold a value: SERVO_SETTING_MISMATCH naming joint, register, written and read values', async () => {
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    sim.bus.servo(6).faults.ignoredWrites = ['Max_Torque_Limit'];
    const err = await open('so101', sim).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServoSettingMismatchError);
    expect((err as ServoSettingMismatchError).code).toBe('SERVO_SETTING_MISMATCH');
    expect((err as Error).message).toMatch(/joint "gripper" \(servo id 6\): Max_Torque_Limit was written 500 but reads back 1000/);
    // Relocked on the way out.
    expect(sim.bus.servo(6).get('Lock')).toBe(1);
    sim.bus.close();
  });

  it('CLI --servo-setting: a malformed one, or one with --sim, is a usage error before any port is opened', async () => {
    const run = async (argv: string[]) => {
      let err = '';
      const sink = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as typeof process.stdout;
      const stderr = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) }) as unknown as typeof process.stderr;
      return { code: await main(argv, { stdout: sink, stderr }), err };
    };
    const sim = await run(['teleop', '--sim', '--servo-setting', 'gripper.Max_Torque_Limit=400']);
    expect(sim.code).toBe(2);
    expect(sim.err).toMatch(/--servo-setting applies to a real follower/);
    const bad = await run(['record', '--leader', '/dev/null-leader', '--follower', '/dev/null-follower', '--servo-setting', 'gripper.Max_Torque_Limit', '--out', '/tmp/x.mcap']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/expected joint\.Register=integer/);
  });
});
