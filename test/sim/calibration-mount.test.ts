/**
 * `armbridge sim --calibration FILE`: the simulated arm mounted after a user's own calibration, so
 * that LeRobot's SO101Follower, given that file, finds the arm calibrated and drives every joint
 * across its whole calibrated range without a servo going into overload.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FT_BROADCAST_ID, FtInstruction } from '../../src/protocol/index.ts';
import { main } from '../../src/cli/main.ts';
import { MOUNT_MARGIN_COUNTS } from '../../src/sim/calibration-mount.ts';
import { ManualClock } from '../../src/sim/clock.ts';
import { SimMountError } from '../../src/sim/errors.ts';
import { FeetechFirmware } from '../../src/sim/feetech-firmware.ts';
import { createSimArm, type SimArm } from '../../src/sim/presets.ts';
import type { SimServo } from '../../src/sim/sim-servo.ts';
import { loadMountCalibration, mountOf } from '../../src/cli/commands/sim.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';
import { importLeRobotCalibration } from '../../src/arm/calibration.ts';
import { armProfile } from '../../src/arm/profiles.ts';

/** A calibration as LeRobot's lerobot-calibrate writes it for a real SO-101 follower (its own
 * mounting: offsets and ranges unlike the simulator's default arm; the gripper's range reaches
 * below the default arm's closed stop). */
const USER_CALIBRATION = {
  shoulder_pan: { id: 1, drive_mode: 0, homing_offset: -1321, range_min: 760, range_max: 3410 },
  shoulder_lift: { id: 2, drive_mode: 0, homing_offset: 934, range_min: 820, range_max: 3220 },
  elbow_flex: { id: 3, drive_mode: 0, homing_offset: -612, range_min: 870, range_max: 3080 },
  wrist_flex: { id: 4, drive_mode: 0, homing_offset: 1290, range_min: 890, range_max: 3190 },
  wrist_roll: { id: 5, drive_mode: 0, homing_offset: -45, range_min: 0, range_max: 4095 },
  gripper: { id: 6, drive_mode: 0, homing_offset: 1566, range_min: 2010, range_max: 3470 },
};

const fw = new FeetechFirmware();
const magSign11 = (v: number) => Math.abs(v) | (v < 0 ? 0x800 : 0);
const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];

function send(arm: SimArm, id: number, instruction: number, params: number[] = []) {
  return fw.handle({ id, instruction, params: Uint8Array.from(params) }, arm.bus.servos);
}
const write = (arm: SimArm, id: number, address: number, data: number[]) => send(arm, id, FtInstruction.Write, [address, ...data]);
const pingError = (arm: SimArm, id: number) => send(arm, id, FtInstruction.Ping)[0]?.bytes[4];
const syncWriteGoals = (arm: SimArm, goals: Record<number, number>) =>
  send(arm, FT_BROADCAST_ID, FtInstruction.SyncWrite, [42, 2, ...Object.entries(goals).flatMap(([id, g]) => [Number(id), ...le16(g)])]);

/**
 * What LeRobot's SO101Follower does with a calibration file (PROTOCOLS.md B8): if the servos do not
 * hold it, write_calibration (torque off, Lock 0: Homing_Offset, Min/Max_Position_Limit); then
 * configure (the gripper gets Max_Torque_Limit 500, Protection_Current 250, Overload_Torque 25) and
 * torque on; then teleoperation sends goals. Here: every joint to each end of its range, held 3 s;
 * the ping error bytes after each end.
 */
function leRobotSession(arm: SimArm, clock: ManualClock): { errors: number[][]; reached: boolean[] } {
  const cal = Object.values(USER_CALIBRATION);
  const servo = (id: number): SimServo => arm.bus.servo(id);
  const holds = cal.every((c) => servo(c.id).get('Homing_Offset') === c.homing_offset && servo(c.id).get('Min_Position_Limit') === c.range_min);
  for (const c of cal) {
    write(arm, c.id, 40, [0]);
    write(arm, c.id, 55, [0]);
    if (!holds) {
      write(arm, c.id, 31, le16(magSign11(c.homing_offset)));
      write(arm, c.id, 9, le16(c.range_min));
      write(arm, c.id, 11, le16(c.range_max));
    }
  }
  write(arm, 6, 16, le16(500));
  write(arm, 6, 28, le16(250));
  write(arm, 6, 36, [25]);
  for (const c of cal) {
    write(arm, c.id, 40, [1]);
    write(arm, c.id, 55, [1]);
  }
  clock.advanceMs(3000);
  const reached = cal.map(() => true);
  const errors: number[][] = [];
  for (const end of ['range_min', 'range_max'] as const) {
    syncWriteGoals(arm, Object.fromEntries(cal.map((c) => [c.id, c[end]])));
    for (let t = 0; t < 30; t++) {
      clock.advanceMs(100);
      for (const c of cal) servo(c.id).update();
    }
    cal.forEach((c, i) => {
      if (Math.abs(servo(c.id).get('Present_Position') - c[end]) > 3) reached[i] = false;
    });
    errors.push(cal.map((c) => pingError(arm, c.id) ?? -1));
  }
  return { errors, reached };
}

describe('a simulated arm mounted after a user’s calibration', () => {
  const mount = mountOf(importLeRobotCalibration(USER_CALIBRATION, armProfile('so101', 'follower')));

  it('holds the calibration in EEPROM from power-up, reads inside every range, and has the range (plus a margin) as travel', () => {
    const clock = new ManualClock();
    const arm = createSimArm({ arm: 'so101', role: 'follower', clock, mount });
    for (const [name, c] of Object.entries(USER_CALIBRATION)) {
      const s = arm.bus.servo(c.id);
      expect([s.get('Homing_Offset'), s.get('Min_Position_Limit'), s.get('Max_Position_Limit')], name).toEqual([c.homing_offset, c.range_min, c.range_max]);
      const present = s.get('Present_Position');
      expect(present, name).toBeGreaterThanOrEqual(c.range_min);
      expect(present, name).toBeLessThanOrEqual(c.range_max);
      expect(s.get('Goal_Position'), `${name}: goal = where the joint is`).toBe(present);
      const margin = name === 'wrist_roll' ? 0 : MOUNT_MARGIN_COUNTS;
      expect(s.travel, name).toEqual({ min: c.range_min + c.homing_offset - margin, max: c.range_max + c.homing_offset + margin });
    }
    // A power cycle keeps it (EEPROM).
    arm.bus.servo(6).reboot();
    expect(arm.bus.servo(6).get('Homing_Offset')).toBe(USER_CALIBRATION.gripper.homing_offset);
  });

  it('lets LeRobot’s session drive every joint to both ends of its range with no servo in overload (the default arm’s gripper ends in overload)', () => {
    const clockMounted = new ManualClock();
    const mounted = leRobotSession(createSimArm({ arm: 'so101', role: 'follower', clock: clockMounted, mount }), clockMounted);
    expect(mounted.errors).toEqual([
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ]);
    expect(mounted.reached).toEqual([true, true, true, true, true, true]);

    // The same file on the default mounting: the gripper's calibrated range reaches past its hard
    // stop, it stalls there with LeRobot's 25 % overload threshold, and every reply carries the bit.
    const clockDefault = new ManualClock();
    const unmounted = leRobotSession(createSimArm({ arm: 'so101', role: 'follower', clock: clockDefault }), clockDefault);
    // (The next goal, inside its travel, clears it again: a new position command.)
    expect(unmounted.errors[0]![5]).toBe(0x20);
    expect(unmounted.reached[5]).toBe(false);
  });

  it('refuses a calibration whose ids, joints or ranges cannot fit, naming the joint', () => {
    const bad = (patch: Partial<(typeof mount)[number]>, name = 'elbow_flex') => mount.map((m) => (m.name === name ? { ...m, ...patch } : m));
    expect(() => createSimArm({ arm: 'so101', role: 'follower', mount: bad({ id: 9 }) })).toThrow(SimMountError);
    expect(() => createSimArm({ arm: 'so101', role: 'follower', mount: bad({ rangeMin: 3000, rangeMax: 2000 }) })).toThrow(/elbow_flex: range 3000…2000/);
    expect(() => createSimArm({ arm: 'so101', role: 'follower', mount: bad({ homingOffset: 2100 }) })).toThrow(/does not fit/);
    expect(() => createSimArm({ arm: 'so101', role: 'follower', mount: mount.filter((m) => m.name !== 'gripper') })).toThrow(/gripper: the calibration has no such joint/);
  });

  it('takes an armbridge calibration file as well (the shipped Koch one): the servos hold it', async () => {
    const cal = await loadMountCalibration(simCalibrationPath('koch', 'follower'), 'koch', 'follower');
    const arm = createSimArm({ arm: 'koch', role: 'follower', clock: new ManualClock(), mount: mountOf(cal) });
    for (const [name, c] of Object.entries(cal.joints)) {
      const s = arm.bus.servo(c.id);
      expect([s.get('Homing_Offset'), s.get('Min_Position_Limit'), s.get('Max_Position_Limit')], name).toEqual([c.homing_offset, c.range_min, c.range_max]);
      expect(s.get('Present_Position'), name).toBeGreaterThanOrEqual(c.range_min);
      expect(s.get('Present_Position'), name).toBeLessThanOrEqual(c.range_max);
    }
    await expect(loadMountCalibration(simCalibrationPath('koch', 'follower'), 'so101', 'follower')).rejects.toThrow(/koch/);
  });

  it('armbridge sim --calibration refuses a LeRobot file for another arm before serving anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-mount-'));
    const file = join(dir, 'koch.json');
    await writeFile(file, JSON.stringify({ ...USER_CALIBRATION, elbow: USER_CALIBRATION.elbow_flex }));
    let err = '';
    const code = await main(['sim', '--arm', 'so101', '--link', join(dir, 'link'), '--calibration', file], {
      stdout: new Writable({ write: (_c, _e, cb) => cb() }) as unknown as typeof process.stdout,
      stderr: new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) }) as unknown as typeof process.stderr,
    });
    expect(code).not.toBe(0);
    expect(err).toMatch(/elbow/);
  });
});
