/**
 * The newcomer's path (issue 27, point 4) on a simulator served over a real pty, as on an arm:
 * scan finds the arm once, calibrate succeeds with the simulator's hand, a closed input ends
 * calibrate cleanly, errors name the arm and port, and a port is clean when opened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Arm } from '../../src/arm/arm.ts';
import { checkCalibration, loadCalibration } from '../../src/arm/calibration.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { MotorBus } from '../../src/bus/motor-bus.ts';
import { calibrateCommand } from '../../src/cli/commands/calibrate.ts';
import { ArmbridgeError } from '../../src/errors.ts';
import { codecFor } from '../../src/protocol/index.ts';
import { CalibrationHand, type CalibrationHandState } from '../../src/sim/calibration-hand.ts';
import { createSimArm, type SimArm } from '../../src/sim/presets.ts';
import { PtySimServer } from '../../src/sim/pty-server.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { runCli } from '../helpers/cli.ts';
import { hasSocat } from '../helpers/socat.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(): Promise<{ arm: SimArm; link: string; dir: string }> {
  const arm = createSimArm({ arm: 'so101', role: 'follower' });
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-newcomer-'));
  const link = join(dir, 'so101-follower');
  const server = await PtySimServer.start({ bus: arm.bus, link });
  cleanups.push(async () => {
    await server.close();
    arm.bus.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { arm, link, dir };
}

/** Runs `calibrate --port link` in-process with `stdin` as the person's keyboard. */
async function calibrate(link: string, out: string, stdin: NodeJS.ReadableStream, signal = new AbortController().signal) {
  let text = '';
  const sink = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  try {
    const code = await calibrateCommand.run({ arm: 'so101', role: 'follower', port: link, sim: false, out }, { stdout: sink, stderr: sink, stdin, signal });
    return { code, text, error: undefined };
  } catch (e) {
    return { code: -1, text, error: e as ArmbridgeError };
  }
}

const waitFor = async (what: () => boolean, timeoutMs: number) => {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.skipIf(!hasSocat)('the newcomer path over a real pty', () => {
  it('scan stops at the first protocol and rate that answer (6 servos, not 42); --all-bauds sweeps every rate', async () => {
    const { link } = await serve();
    const first = await runCli('scan', '--port', link, '--window-ms', '30');
    expect(first.code).toBe(0);
    expect(first.out.match(/^feetech\s+1000000\s+\d\s+sts3215/gm)).toHaveLength(6);
    expect(first.out).toMatch(/6 servo\(s\) answered: feetech at 1000000 baud; stopped at the first protocol and rate that answered \(--all-bauds/);
    expect(first.err).not.toMatch(/dynamixel/);
    const all = await runCli('scan', '--port', link, '--protocol', 'feetech', '--all-bauds', '--window-ms', '30');
    expect(all.code).toBe(0);
    // A pty carries no baud rate: the same six answer at each of the seven Feetech rates.
    expect(all.out.match(/^feetech\s+\d+\s+\d\s+sts3215/gm)).toHaveLength(42);
  });

  it('calibrate --port succeeds with the simulator hand, and the calibration opens the arm', async () => {
    const { arm, link, dir } = await serve();
    const states: CalibrationHandState[] = [];
    const hand = new CalibrationHand(arm.bus, { secondsPerJoint: 0.25, onState: (s) => states.push(s) });
    cleanups.push(() => hand.stop());
    const keyboard = new PassThrough();
    const out = join(dir, 'so101-follower.json');
    const run = calibrate(link, out, keyboard);
    // The person waits for the hand, presses Enter, waits for one full round of the sweep, presses Enter.
    await waitFor(() => hand.state === 'holding' && arm.bus.servos.every((s) => s.get('Torque_Enable') === 0), 5000);
    await new Promise((r) => setTimeout(r, 300));
    keyboard.write('\n');
    await waitFor(() => hand.state === 'sweeping', 5000);
    await new Promise((r) => setTimeout(r, 6 * 250 + 400));
    keyboard.write('\n');
    const r = await run;
    expect(r.error).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/calibration written to .* and to the servos/);
    await waitFor(() => hand.state === 'idle', 2000);
    expect(states).toEqual(['holding', 'sweeping', 'idle']);

    const cal = await loadCalibration(out);
    const profile = armProfile('so101', 'follower');
    checkCalibration(cal, profile);
    // Each calibrated range spans the joint's mechanical travel (the sweep went stop to stop).
    arm.bus.servos.forEach((s, i) => {
      const j = cal.joints[profile.joints[i]!.name]!;
      expect(Math.abs(j.range_max - j.range_min - (s.travel.max - s.travel.min))).toBeLessThan(40);
    });
    // What teleop and record do with it: open the arm, configure it, read it.
    const opened = await Arm.open({ profile, calibration: cal, path: link, bus: { timeoutMs: 500 } });
    try {
      const q = await opened.read();
      q.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(opened.lower[i]! - 0.05));
    } finally {
      await opened.close();
    }
  }, 30_000);

  it('without the hand, calibrate over the port fails naming the fix (--hand calibrate) and the port', async () => {
    const { link, dir } = await serve();
    const keyboard = new PassThrough();
    const run = calibrate(link, join(dir, 'c.json'), keyboard);
    await new Promise((r) => setTimeout(r, 300));
    keyboard.write('\n');
    await new Promise((r) => setTimeout(r, 300));
    keyboard.write('\n');
    const r = await run;
    expect(r.error?.code).toBe('CALIBRATION_FAILED');
    expect(r.error?.message).toContain(`follower on ${link}: `);
    expect(r.error?.message).toContain('armbridge sim … --hand calibrate');
  }, 15_000);

  it.each(['the middle pose', 'the sweep'] as const)(
    'calibrate stops with STDIN_CLOSED when its input ends before Enter (%s), servos left torque off and uncalibrated',
    async (step) => {
      const { arm, link, dir } = await serve();
      const keyboard = new PassThrough();
      const started = Date.now();
      const run = calibrate(link, join(dir, 'c.json'), keyboard);
      await new Promise((r) => setTimeout(r, 300));
      if (step === 'the sweep') {
        keyboard.write('\n');
        await waitFor(() => arm.bus.servos.some((s) => s.get('Homing_Offset') !== 0), 3000);
      }
      keyboard.end();
      const r = await run;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.error?.code).toBe('STDIN_CLOSED');
      expect(r.error?.message).toContain(`stdin closed before Enter (${step})`);
      expect(r.error?.message).toMatch(/torque off and no calibration in them/);
      for (const s of arm.bus.servos) {
        expect([s.get('Torque_Enable'), s.get('Homing_Offset'), s.get('Min_Position_Limit'), s.get('Max_Position_Limit'), s.get('Lock')]).toEqual([0, 0, 0, 4095, 1]);
      }
    },
    15_000,
  );

  it('calibrate stops with INTERRUPTED on Ctrl-C before Enter', async () => {
    const { link, dir } = await serve();
    const stop = new AbortController();
    const run = calibrate(link, join(dir, 'c.json'), new PassThrough(), stop.signal);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    const r = await run;
    expect(r.error?.code).toBe('INTERRUPTED');
  }, 15_000);

  it('an error while opening an arm names its role and port', async () => {
    const { arm, link } = await serve();
    arm.bus.servo(3).injectHardwareError(0x20);
    const profile = armProfile('so101', 'follower');
    const cal = await loadCalibration('calibration/so101-follower.sim.json');
    const e = await Arm.open({ profile, calibration: cal, path: link, bus: { timeoutMs: 500 } }).catch((x: unknown) => x as ArmbridgeError);
    expect(e).toBeInstanceOf(ArmbridgeError);
    expect((e as ArmbridgeError).code).toBe('SERVO_STATUS');
    expect((e as ArmbridgeError).message).toMatch(new RegExp(`^follower on ${link}: servo 3 reports`));
  });
});

describe('MotorBus.open', () => {
  // A process killed mid-transaction: its read of servo 1 is still on the line when the next opens.
  async function staleReplyThenOpen(settleMs: number | undefined) {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const binding = new SimBinding();
    binding.register('/sim/stale', arm.bus);
    arm.bus.hostWrite(new Uint8Array(500), 1_000_000); // 5 ms of line time before it
    arm.bus.hostWrite(codecFor('feetech').read(1, 56, 2), 1_000_000);
    const bus = await MotorBus.open({ path: '/sim/stale', binding, vendor: 'feetech', baud: 1_000_000, settleMs });
    try {
      return await bus.ping(1).then(
        (p) => p.model,
        (e: ArmbridgeError) => e.code,
      );
    } finally {
      await bus.close();
      arm.bus.close();
    }
  }

  it('drops the replies a killed process left on the line (without settling they shift the first ping into SERVO_STATUS)', async () => {
    expect(await staleReplyThenOpen(0)).toBe('SERVO_STATUS');
    expect(await staleReplyThenOpen(undefined)).toBe('sts3215');
  });
});
