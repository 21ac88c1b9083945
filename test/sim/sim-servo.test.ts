import { describe, expect, it } from 'vitest';
import { STS3215, XL330_M288 } from '../../src/protocol/index.ts';
import { ManualClock } from '../../src/sim/clock.ts';
import { SimServo } from '../../src/sim/sim-servo.ts';

function sts(clock: ManualClock, extra: Partial<ConstructorParameters<typeof SimServo>[0]> = {}) {
  return new SimServo({ model: STS3215, id: 1, clock, positionCounts: 2048, ...extra });
}

describe('simulated servo dynamics', () => {
  it('moves to the goal no faster than its speed limit and settles there', () => {
    const clock = new ManualClock();
    const s = sts(clock);
    s.set('Goal_Velocity', 1000);
    s.set('Goal_Position', 2048 + 500);
    s.set('Torque_Enable', 1);
    clock.advanceMs(100);
    s.update();
    // 100 ms at ≤ 1000 counts/s covers at most 100 counts.
    expect(s.get('Present_Position') - 2048).toBeLessThanOrEqual(101);
    expect(s.get('Present_Position') - 2048).toBeGreaterThan(50);
    expect(s.get('Moving')).toBe(1);
    expect(s.get('Present_Velocity')).toBeGreaterThan(900);
    clock.advanceMs(1500);
    s.update();
    expect(Math.abs(s.get('Present_Position') - 2548)).toBeLessThanOrEqual(1);
    expect(s.get('Moving')).toBe(0);
  });

  it('holds still with torque off and can be moved by hand', () => {
    const clock = new ManualClock();
    const s = sts(clock);
    s.set('Goal_Position', 3000);
    clock.advanceMs(500);
    s.update();
    expect(s.get('Present_Position')).toBe(2048);
    s.moveTo(2300);
    expect(s.get('Present_Position')).toBe(2300);
  });

  it('stops at its mechanical hard stop and trips overload protection when pushed against it', () => {
    const clock = new ManualClock();
    const s = sts(clock, { travel: { min: 1800, max: 2200 } });
    s.set('Goal_Position', 3000);
    s.set('Torque_Enable', 1);
    clock.advanceMs(500);
    s.update();
    expect(s.positionCounts).toBe(2200);
    expect(s.torqueEnabled).toBe(true);
    clock.advanceMs(2000);
    s.update();
    expect(s.hardwareError & 0x20).toBe(0x20);
    // Unloading_Condition includes overload: output limited to Protective_Torque, torque stays on.
    expect(s.torqueEnabled).toBe(true);
    expect(s.overloadProtected).toBe(true);
    expect(s.statusErrorBits()).toBe(0x20);
    s.reboot();
    expect(s.hardwareError).toBe(0);
  });

  it('keeps pushing against a hard stop when overload does not cut torque, latching the error without recursing', () => {
    // A clock that moves a little on every reading, as real time does between calls.
    const clock = new (class extends ManualClock {
      override nowUs(): number {
        this.advanceMs(0.001);
        return super.nowUs();
      }
    })();
    const s = sts(clock, { travel: { min: 1800, max: 2200 } });
    s.set('Unloading_Condition', 0);
    s.set('Goal_Position', 3000);
    s.set('Torque_Enable', 1);
    for (let k = 0; k < 10; k++) {
      clock.advanceMs(1000);
      expect(() => s.update()).not.toThrow();
    }
    expect(s.hardwareError & 0x20).toBe(0x20);
    expect(s.torqueEnabled).toBe(true);
  });

  it('applies Feetech Homing_Offset as Present = Actual − Offset (wrapping in 0…4095)', () => {
    const clock = new ManualClock();
    const s = sts(clock, { positionCounts: 100 });
    s.set('Homing_Offset', 200);
    s.update();
    clock.advanceMs(1);
    s.update();
    expect(s.get('Present_Position')).toBe(4096 - 100);
  });

  it('applies Dynamixel Homing_Offset as Present = Actual + Offset', () => {
    const clock = new ManualClock();
    const s = new SimServo({ model: XL330_M288, id: 3, clock, positionCounts: 1000 });
    s.set('Homing_Offset', 1047);
    clock.advanceMs(1);
    s.update();
    expect(s.get('Present_Position')).toBe(2047);
  });

  it('keeps EEPROM across a reboot only when persisted, resets RAM', () => {
    const clock = new ManualClock();
    const s = sts(clock);
    s.set('Max_Position_Limit', 3000);
    s.set('Torque_Enable', 1);
    s.reboot();
    expect(s.get('Max_Position_Limit')).toBe(4095);
    expect(s.get('Torque_Enable')).toBe(0);
    s.set('Max_Position_Limit', 3000);
    s.persistEeprom();
    s.reboot();
    expect(s.get('Max_Position_Limit')).toBe(3000);
  });

  it('powers up with Goal_Position at the present position so torque-on does not jump', () => {
    const clock = new ManualClock();
    const s = sts(clock, { positionCounts: 1234 });
    expect(s.get('Goal_Position')).toBe(1234);
    s.set('Torque_Enable', 1);
    clock.advanceMs(200);
    expect(Math.round(s.positionCounts)).toBe(1234);
  });
});

describe('simulated servo after a long idle time', () => {
  it('catches up an hour of rest in one step (a first request after idling is answered at once)', () => {
    const clock = new ManualClock();
    const s = new SimServo({ model: STS3215, id: 1, clock, positionCounts: 2048 });
    s.set('Torque_Enable', 1);
    clock.advanceMs(1);
    s.update();
    const before = s.substeps;
    clock.advanceMs(3_600_000);
    s.update();
    expect(s.substeps - before).toBeLessThanOrEqual(1); // not 7.2 million 500 µs steps
    expect(s.get('Present_Position')).toBe(2048);
  });

  it('still finishes a motion that was under way when the idle gap began', () => {
    const clock = new ManualClock();
    const s = new SimServo({ model: STS3215, id: 1, clock, positionCounts: 2048 });
    s.set('Goal_Position', 2548);
    s.set('Torque_Enable', 1);
    clock.advanceMs(600_000);
    s.update();
    expect(Math.abs(s.get('Present_Position') - 2548)).toBeLessThanOrEqual(1);
  });
});
