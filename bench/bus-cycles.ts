/**
 * Bus cycles: sync read of Present_Position + sync write of Goal_Position for six servos, as fast
 * as the bus allows, over the in-process simulator binding and over a real pty (socat). Compared
 * with the wire-time limit computed from the packet sizes, and with a naive driver measured in the
 * same run (six single reads and six acknowledged single writes per cycle).
 */
import { MotorBus } from '../src/bus/motor-bus.ts';
import { codecFor, type Vendor } from '../src/protocol/index.ts';
import { createSimArm, type SimArmKind } from '../src/sim/presets.ts';
import { PtySimServer, SocatMissingError } from '../src/sim/pty-server.ts';
import { SimBinding } from '../src/sim/sim-binding.ts';
import { summarize, type BenchRow } from './stats.ts';

const IDS = [1, 2, 3, 4, 5, 6];
const BAUD = 1_000_000;

/** Cycles per second the wire allows: every byte of both instructions and all replies, 10 bits each. */
export function wireLimitHz(vendor: Vendor, positionBytes: number): number {
  const codec = codecFor(vendor);
  const syncRead = codec.syncRead(0, positionBytes, IDS).length + IDS.length * codec.statusSize(positionBytes);
  const syncWrite = codec.syncWrite(0, positionBytes, IDS.map((id) => ({ id, data: new Uint8Array(positionBytes) }))).length;
  return BAUD / 10 / (syncRead + syncWrite);
}

async function measure(bus: MotorBus, seconds: number, naive: boolean) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let cycles = 0;
  let goal = await bus.syncRead('Present_Position' as never, IDS);
  while (performance.now() < end) {
    const t = performance.now();
    if (naive) {
      const present: number[] = [];
      for (const id of IDS) present.push(await bus.read(id, 'Present_Position' as never));
      for (const [i, id] of IDS.entries()) await bus.write(id, 'Goal_Position' as never, present[i]!);
    } else {
      goal = await bus.syncRead('Present_Position' as never, IDS);
      await bus.syncWrite('Goal_Position' as never, IDS.map((id, i) => [id, goal[i]!] as const));
    }
    latencies.push((performance.now() - t) * 1000);
    cycles++;
  }
  return { hz: cycles / seconds, ...summarize(latencies) };
}

export async function benchBusCycles(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of ['so101', 'koch'] as SimArmKind[]) {
    const vendor: Vendor = kind === 'so101' ? 'feetech' : 'dynamixel';
    const limit = wireLimitHz(vendor, vendor === 'feetech' ? 2 : 4);
    for (const transport of ['in-process', 'pty'] as const) {
      const arm = createSimArm({ arm: kind, role: 'follower' });
      let server: PtySimServer | undefined;
      let path = `/sim/${kind}`;
      const binding = new SimBinding();
      if (transport === 'pty') {
        path = `/tmp/armbridge-bench-${kind}-${process.pid}`;
        try {
          server = await PtySimServer.start({ bus: arm.bus, link: path });
        } catch (e) {
          if (e instanceof SocatMissingError) {
            log(`  skipping pty: ${e.message}\n`);
            arm.bus.close();
            continue;
          }
          throw e;
        }
      } else binding.register(path, arm.bus);
      const bus = await MotorBus.open({ path, binding: server ? undefined : binding, vendor, baud: BAUD, timeoutMs: 200 });
      try {
        for (const id of IDS) await bus.writeRaw(id, vendor === 'feetech' ? 7 : 9, [0]); // Return_Delay_Time 0, as LeRobot configures
        log(`  ${kind} ${transport}: sync cycles…\n`);
        const sync = await measure(bus, seconds, false);
        log(`  ${kind} ${transport}: naive baseline…\n`);
        const naive = await measure(bus, Math.max(1, seconds / 2), true);
        const c = `${kind} ${transport}`;
        rows.push({ section: 'bus', case: c, metric: 'sync read+write cycles', value: sync.hz, unit: 'Hz', baseline: { name: 'wire limit', value: limit }, ratio: sync.hz / limit });
        // The simulated servos take 20 µs to decode each instruction before answering (as real ones
        // take some time): the limit with that turnaround shows our own software overhead alone.
        const withTurnaround = 1e6 / (1e6 / limit + IDS.length * 20);
        rows.push({ section: 'bus', case: c, metric: 'sync read+write cycles', value: sync.hz, unit: 'Hz', baseline: { name: 'wire + servo turnaround', value: withTurnaround }, ratio: sync.hz / withTurnaround });
        rows.push({ section: 'bus', case: c, metric: 'naive 6×read + 6×write', value: naive.hz, unit: 'Hz', baseline: { name: 'sync cycles', value: sync.hz }, ratio: sync.hz / naive.hz, note: 'ratio = sync / naive' });
        rows.push({ section: 'bus', case: c, metric: 'cycle latency p50', value: sync.p50, unit: 'µs', baseline: { name: 'wire time', value: 1e6 / limit }, ratio: sync.p50 / (1e6 / limit) });
        rows.push({ section: 'bus', case: c, metric: 'cycle latency p99', value: sync.p99, unit: 'µs' });
        rows.push({ section: 'bus', case: c, metric: 'cycle latency max', value: sync.max, unit: 'µs' });
      } finally {
        await bus.close();
        await server?.close();
        arm.bus.close();
      }
    }
  }
  return rows;
}
