/**
 * STS3215 overload protection as Feetech documents it (memory table regs 34/35/36/19, ST-3215
 * datasheet §7-11; sim-servo.ts header): stalled above Overload_Torque for Protection_Time → Status
 * bit 5, output limited to Protective_Torque with torque still on; a new position command or a power
 * cycle clears it. Driven through the firmware with a manual clock, as the wire would.
 */
import { describe, expect, it } from 'vitest';
import { FtInstruction, STS3215 } from '../../src/protocol/index.ts';
import { ManualClock } from '../../src/sim/clock.ts';
import { FeetechFirmware } from '../../src/sim/feetech-firmware.ts';
import { SimServo } from '../../src/sim/sim-servo.ts';

const fw = new FeetechFirmware();

function stalled(clock: ManualClock) {
  // Joint free between 1800 and 2200 counts; id 6 like the SO-101 gripper.
  return new SimServo({ model: STS3215, id: 6, clock, positionCounts: 2000, travel: { min: 1800, max: 2200 } });
}

function send(servo: SimServo, instruction: number, params: number[] = []) {
  return fw.handle({ id: servo.id, instruction, params: Uint8Array.from(params) }, [servo]);
}
/** The ERROR byte of the status packet the servo answers a ping with. */
const pingError = (s: SimServo) => send(s, FtInstruction.Ping)[0]!.bytes[4];
const write = (s: SimServo, address: number, ...data: number[]) => send(s, FtInstruction.Write, [address, ...data]);
const goal = (s: SimServo, counts: number) => write(s, 42, counts & 0xff, counts >> 8);

describe('STS3215 overload protection (documented behaviour)', () => {
  it('trips only after the load stays above Overload_Torque (80 %) for Protection_Time (2 s), then keeps torque on at Protective_Torque (20 %)', () => {
    const clock = new ManualClock();
    const s = stalled(clock);
    write(s, 40, 1);
    goal(s, 2600); // 400 counts past the hard stop at 2200: full load once stalled
    clock.advanceMs(400);
    s.update();
    expect(s.positionCounts).toBe(2200);
    clock.advanceMs(1500);
    expect(pingError(s)).toBe(0); // stalled ≈ 1.9 s: not yet
    clock.advanceMs(300);
    expect(pingError(s)).toBe(0x20);
    expect(s.overloadProtected).toBe(true);
    expect(s.torqueEnabled).toBe(true);
    expect(Math.abs(s.get('Present_Load'))).toBeLessThanOrEqual(200); // 0.1 % units: ≤ 20 %
  });

  it('takes threshold and time from its registers: LeRobot’s gripper setting Overload_Torque = 25 trips on a push the default 80 % tolerates', () => {
    const clock = new ManualClock();
    const lenient = stalled(clock);
    const strict = stalled(clock);
    write(strict, 36, 25);
    write(strict, 35, 50); // 0.5 s
    for (const s of [lenient, strict]) {
      write(s, 40, 1);
      goal(s, 2240); // 40 counts past the stop: about 40 % load
    }
    clock.advanceMs(3000);
    expect(pingError(lenient)).toBe(0);
    expect(pingError(strict)).toBe(0x20);
  });

  it('answers every packet, a ping included, with the overload bit until a new position command clears it', () => {
    const clock = new ManualClock();
    const s = stalled(clock);
    write(s, 40, 1);
    goal(s, 2600);
    clock.advanceMs(3000);
    expect(pingError(s)).toBe(0x20);
    expect(write(s, 40, 0)[0]!.bytes[4]).toBe(0x20); // a status-checked torque-off still reports it
    expect(pingError(s)).toBe(0x20);
    write(s, 40, 1);
    const [reply] = goal(s, 2100); // inside the travel
    expect(reply!.bytes[4]).toBe(0); // the write's own status already comes back clean
    expect(s.overloadProtected).toBe(false);
    clock.advanceMs(3000);
    expect(pingError(s)).toBe(0);
    expect(Math.abs(s.positionCounts - 2100)).toBeLessThanOrEqual(1);
  });

  it('trips again when the new command pushes against the stop once more', () => {
    const clock = new ManualClock();
    const s = stalled(clock);
    write(s, 40, 1);
    goal(s, 2600);
    clock.advanceMs(3000);
    expect(pingError(s)).toBe(0x20);
    goal(s, 2601);
    expect(pingError(s)).toBe(0);
    clock.advanceMs(2500);
    expect(pingError(s)).toBe(0x20);
  });

  it('is cleared by a power cycle, as LeRobot users recover a gripper that went into overload', () => {
    const clock = new ManualClock();
    const s = stalled(clock);
    write(s, 40, 1);
    goal(s, 2600);
    clock.advanceMs(3000);
    expect(pingError(s)).toBe(0x20);
    s.reboot();
    expect(pingError(s)).toBe(0);
    expect(s.overloadProtected).toBe(false);
  });

  it('with the overload bit out of Unloading_Condition latches the bit but keeps full output', () => {
    const clock = new ManualClock();
    const s = stalled(clock);
    write(s, 55, 0);
    write(s, 19, 0x0c);
    write(s, 40, 1);
    goal(s, 2600);
    clock.advanceMs(3000);
    expect(pingError(s)).toBe(0x20);
    expect(s.overloadProtected).toBe(false);
    expect(s.get('Present_Load')).toBe(1000);
  });
});
