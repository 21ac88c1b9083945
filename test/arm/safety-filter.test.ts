import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JointConverter } from '../../src/arm/calibration.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { describeSafety, SafetyFilter } from '../../src/arm/safety-filter.ts';
import { openSimArm, shippedCalibration } from '../helpers/arms.ts';

const names = ['a', 'b', 'c'];
const lower = [-1, -2, 0];
const upper = [1, 0.5, 1];
const maxStep = 0.05;

/** Hostile values: anything a broken policy or a glitching leader could produce. */
const hostile = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -1e308, 0),
  fc.double({ min: -3, max: 3, noNaN: true }),
);

function makeFilter(now = () => 0) {
  return new SafetyFilter({ names, lower, upper, maxStep, now, holdAfterMs: 50, torqueOffAfterMs: 250 });
}

describe('SafetyFilter', () => {
  it('never leaves the limits, never steps more than maxStep, never emits a non-finite value, for any command sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostile, hostile, hostile), { minLength: 1, maxLength: 200 }), fc.tuple(hostile, hostile, hostile), (commands, start) => {
        const f = makeFilter();
        let prev = Float64Array.from(f.reset(start));
        for (let i = 0; i < 3; i++) {
          expect(prev[i]).toBeGreaterThanOrEqual(lower[i]!);
          expect(prev[i]).toBeLessThanOrEqual(upper[i]!);
        }
        for (const c of commands) {
          f.markFresh();
          const { command } = f.filter(c);
          for (let i = 0; i < 3; i++) {
            expect(Number.isFinite(command[i]!)).toBe(true);
            expect(command[i]).toBeGreaterThanOrEqual(lower[i]!);
            expect(command[i]).toBeLessThanOrEqual(upper[i]!);
            expect(Math.abs(command[i]! - prev[i]!)).toBeLessThanOrEqual(maxStep + 1e-12);
          }
          prev = Float64Array.from(command);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('oscillating commands are slew-limited, not followed', () => {
    const f = makeFilter();
    f.reset([0, 0, 0.5]);
    let maxSeen = 0;
    for (let k = 0; k < 100; k++) {
      const { command } = f.filter(k % 2 ? [1, 0.5, 1] : [-1, -2, 0]);
      maxSeen = Math.max(maxSeen, Math.abs(command[0]!));
    }
    expect(maxSeen).toBeLessThanOrEqual(maxStep + 1e-12);
    expect(f.summary().stepLimitedCycles).toBe(100);
  });

  it('holds the last safe command on NaN and counts it', () => {
    const f = makeFilter();
    f.reset([0.2, 0, 0.5]);
    f.filter([0.21, 0, 0.5]);
    const r = f.filter([Number.NaN, 0, 0.5]);
    expect(r.status).toBe('hold');
    expect(Array.from(r.command)).toEqual([0.21, 0, 0.5]);
    expect(f.summary()).toMatchObject({ nonFinite: 1, holds: 1 });
    expect(describeSafety(f.summary())).toMatch(/1 non-finite commands refused/);
  });

  it('watchdog: holds after 50 ms without fresh state, faults after 250 ms', () => {
    let t = 0;
    const f = makeFilter(() => t);
    f.reset([0, 0, 0.5]);
    t = 40;
    expect(f.filter([0.01, 0, 0.5]).status).toBe('ok');
    t = 60;
    expect(f.filter([0.02, 0, 0.5]).status).toBe('hold');
    t = 300;
    expect(f.filter([0.02, 0, 0.5]).status).toBe('fault');
    expect(f.summary().watchdog).toMatch(/no fresh state for 300 ms/);
    f.markFresh();
    expect(f.filter([0.02, 0, 0.5]).status).toBe('ok');
  });

  it('e-stop latches a fault until cleared', () => {
    const f = makeFilter();
    f.reset([0, 0, 0.5]);
    f.estop('key pressed');
    expect(f.filter([0, 0, 0.5]).status).toBe('fault');
    expect(f.filter([0, 0, 0.5]).status).toBe('fault');
    expect(f.summary().estop).toBe('key pressed');
    f.clearEstop();
    expect(f.filter([0, 0, 0.5]).status).toBe('ok');
  });

  it('refuses to run before reset and rejects inconsistent limits', () => {
    expect(() => makeFilter().filter([0, 0, 0])).toThrow(/reset/);
    expect(() => new SafetyFilter({ names, lower: upper, upper: lower, maxStep })).toThrow(/lower limit above upper/);
  });
});

describe('SafetyFilter + Arm on the simulator', () => {
  it('no tick written to a servo ever leaves the calibrated range, whatever the policy sends', async () => {
    const cal = await shippedCalibration('so101', 'follower');
    const profile = armProfile('so101', 'follower');
    const conv = profile.joints.map((j) => new JointConverter(j, cal.joints[j.name]!));
    const { arm, sim, close } = await openSimArm('so101', 'follower', cal);
    try {
      const f = new SafetyFilter({ names: arm.names, lower: arm.lower, upper: arm.upper, maxStep: 0.2 });
      f.reset(await arm.read());
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(hostile, { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 15 }), async (commands) => {
          for (const c of commands) {
            f.markFresh();
            const { command } = f.filter(c);
            await arm.write(command);
            await new Promise((r) => setTimeout(r, 2)); // the sync write crosses the simulated wire
            sim.bus.servos.forEach((s, i) => {
              const goal = s.get('Goal_Position');
              expect(goal).toBeGreaterThanOrEqual(conv[i]!.rangeMin);
              expect(goal).toBeLessThanOrEqual(conv[i]!.rangeMax);
            });
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      await close();
    }
  });
});
