import { describe, expect, it } from 'vitest';
import { STS3215, XL330_M288 } from '../../src/protocol/index.ts';
import { ManualClock } from '../../src/sim/clock.ts';
import { SimServo } from '../../src/sim/sim-servo.ts';

describe('Feetech damping mode (Torque_Enable = 2): a hand moves the joint, nothing drives it', () => {
  it('follows a hand like a limp servo, reports where it is, and does not chase its goal', () => {
    const clock = new ManualClock();
    const s = new SimServo({ model: STS3215, id: 1, clock, positionCounts: 2048 });
    s.set('Goal_Position', 3000);
    s.set('Torque_Enable', 2);
    expect(s.damping).toBe(true);
    clock.advanceMs(500);
    s.update();
    expect(s.positionCounts).toBeCloseTo(2048, 0); // no position control toward 3000
    s.setDriver((now) => 2048 + now / 1000); // 1 count per ms
    clock.advanceMs(200);
    s.update();
    expect(s.positionCounts).toBeCloseTo(2048 + clock.nowUs() / 1000, 0);
    expect(s.get('Present_Position')).toBe(Math.round(s.positionCounts) % 4096);
    expect(s.get('Present_Load')).toBe(0);
    // Torque on (1): the controller takes over (it brakes the hand's motion and comes back to its
    // goal) and the hand, still on the joint, no longer moves it.
    s.set('Goal_Position', s.get('Present_Position'));
    s.set('Torque_Enable', 1);
    const goal = s.positionCounts;
    clock.advanceMs(1000);
    expect(Math.abs(s.positionCounts - goal)).toBeLessThan(2);
  });

  it('Dynamixel has no damping value: 2 is torque on', () => {
    const clock = new ManualClock();
    const s = new SimServo({ model: XL330_M288, id: 1, clock, positionCounts: 2048 });
    s.set('Torque_Enable', 1);
    expect(s.damping).toBe(false);
  });
});
