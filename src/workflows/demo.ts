/**
 * `npm run demo`: the whole project as it stands, on simulated arms. So far: the servo buses.
 * Starts a simulated SO-101 follower (over a real pty when socat is installed) and a Koch follower,
 * finds their servos by scanning, drives every joint along a trajectory at a fixed rate with sync
 * read + sync write, and prints what it measured.
 */
import { MotorBus } from '../bus/motor-bus.ts';
import { scanPort } from '../bus/scan.ts';
import type { Vendor } from '../protocol/index.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { table } from './table.ts';
import { openSimPort } from './sim-port.ts';

export interface DemoOptions {
  readonly seconds: number;
  readonly rateHz: number;
  readonly out: NodeJS.WritableStream;
  readonly signal?: AbortSignal;
}

export interface BusDemoResult {
  readonly arm: SimArmKind;
  readonly transport: string;
  readonly servos: number;
  readonly cycles: number;
  readonly achievedHz: number;
  readonly trackingErrorCounts: number;
  readonly timeouts: number;
  readonly retries: number;
}

export async function runBusDemo(kind: SimArmKind, options: DemoOptions): Promise<BusDemoResult> {
  const out = options.out;
  const sim = await openSimPort(kind, 'follower', 'pty');
  try {
    out.write(`\n== ${kind} follower, simulated, ${sim.transport === 'pty' ? `served on a real pty at ${sim.path}` : 'in-process serial binding (socat not found, so no pty)'}\n`);
    const vendor: Vendor = kind === 'so101' ? 'feetech' : 'dynamixel';
    const found = await scanPort({ path: sim.path, binding: sim.binding, vendors: [vendor], bauds: [1_000_000], windowMs: 50 });
    out.write(table(['id', 'model', 'model number', 'firmware', 'baud'], found.map((s) => [s.id, s.model ?? '?', s.modelNumber, s.firmware, s.baud])));
    const models = Object.fromEntries(found.map((s) => [s.id, s.model!]));
    const ids = found.map((s) => s.id);
    await using bus = await MotorBus.open({ path: sim.path, binding: sim.binding, vendor, baud: 1_000_000, models });
    for (const id of ids) await bus.writeRaw(id, vendor === 'feetech' ? 7 : 9, [0]); // Return_Delay_Time = 0, as LeRobot configures
    const start = await bus.syncRead('Present_Position', ids);
    for (const id of ids) await bus.writeRaw(id, vendor === 'feetech' ? 40 : 64, [1]); // torque on
    // Every joint but the gripper swings ±150 counts around where it started (0.4 Hz).
    const periodMs = 1000 / options.rateHz;
    const t0 = performance.now();
    let cycles = 0;
    let errSum = 0;
    let next = t0;
    while (performance.now() - t0 < options.seconds * 1000 && !options.signal?.aborted) {
      const t = (performance.now() - t0) / 1000;
      const present = await bus.syncRead('Present_Position', ids);
      const goals = ids.map((id, i) => (i === ids.length - 1 ? start[i]! : Math.round(start[i]! + 150 * Math.sin(2 * Math.PI * 0.4 * t))));
      await bus.syncWrite('Goal_Position', ids.map((id, i) => [id, goals[i]!] as const));
      errSum += present.reduce((s, p, i) => s + Math.abs(p - goals[i]!), 0) / ids.length;
      cycles++;
      next += periodMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const elapsed = (performance.now() - t0) / 1000;
    for (const id of ids) await bus.writeRaw(id, vendor === 'feetech' ? 40 : 64, [0]); // torque off
    const health = [...bus.health.servos.values()];
    const result: BusDemoResult = {
      arm: kind,
      transport: sim.transport,
      servos: ids.length,
      cycles,
      achievedHz: cycles / elapsed,
      trackingErrorCounts: errSum / Math.max(1, cycles),
      timeouts: health.reduce((s, h) => s + h.timeouts, 0),
      retries: health.reduce((s, h) => s + h.retries, 0),
    };
    out.write(
      `drove ${ids.length} joints for ${elapsed.toFixed(1)} s: ${cycles} sync-read + sync-write cycles at ${result.achievedHz.toFixed(0)} Hz ` +
        `(asked ${options.rateHz}), mean |goal − present| ${result.trackingErrorCounts.toFixed(1)} counts, ` +
        `${result.timeouts} timeouts, ${result.retries} retries\n`,
    );
    return result;
  } finally {
    await sim.close();
  }
}

export async function runDemo(options: DemoOptions): Promise<BusDemoResult[]> {
  const out = options.out;
  out.write('armbridge demo: simulated arms speaking the real servo protocols over a real serial stack\n');
  const results: BusDemoResult[] = [];
  for (const kind of ['so101', 'koch'] as const) {
    if (options.signal?.aborted) break;
    results.push(await runBusDemo(kind, options));
  }
  out.write('\nSummary\n');
  out.write(
    table(
      ['arm', 'transport', 'servos', 'cycles', 'rate Hz', 'tracking err (counts)', 'timeouts', 'retries'],
      results.map((r) => [r.arm, r.transport, r.servos, r.cycles, r.achievedHz.toFixed(0), r.trackingErrorCounts.toFixed(1), r.timeouts, r.retries]),
    ),
  );
  return results;
}
