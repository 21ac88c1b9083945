import { describe, expect, it } from 'vitest';
import { ft, toHex } from '../../src/protocol/index.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import type { SimHost } from '../../src/sim/sim-bus.ts';

function collector() {
  const chunks: { atMs: number; bytes: Uint8Array }[] = [];
  const host: SimHost = { deliver: (bytes) => chunks.push({ atMs: performance.now(), bytes }), disconnect: () => undefined };
  return { chunks, host };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulated bus wire', () => {
  it('takes a copy of what the host writes: a reused Buffer cannot change bytes already on the wire', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const { chunks, host } = collector();
    arm.bus.attach(host);
    const buf = Buffer.from(ft.ping(1));
    arm.bus.hostWrite(buf.subarray(0, buf.length), 1_000_000);
    buf.fill(0); // the caller reuses its buffer at once, as serial read loops do
    await settle(20);
    expect(chunks.map((c) => toHex(c.bytes))).toEqual([toHex(ft.status(1, 0))]);
    arm.bus.close();
  });

  it('delivers a reply no earlier than the request and reply wire time at the servo baud rate', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const { chunks, host } = collector();
    arm.bus.attach(host);
    const t0 = performance.now();
    arm.bus.hostWrite(ft.syncRead(56, 2, [1, 2, 3, 4, 5, 6]), 1_000_000);
    await settle(30);
    expect(chunks).toHaveLength(6);
    // 14 request bytes + 6 × 8 reply bytes at 10 µs each = 620 µs at least.
    expect(chunks[5]!.atMs - t0).toBeGreaterThanOrEqual(0.62);
    arm.bus.close();
  });

  it('times replies from when the request reached the servos, not from when the simulator got to run', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const { chunks, host } = collector();
    arm.bus.attach(host);
    const t0 = performance.now() * 1000;
    arm.bus.hostWrite(ft.syncRead(56, 2, [1, 2, 3, 4, 5, 6]), 1_000_000);
    // The thread is busy for 3 ms (the host's own work, a GC pause): the servos still answered on time.
    const busyUntil = performance.now() + 3;
    while (performance.now() < busyUntil) {
      // busy
    }
    await settle(10);
    expect(chunks).toHaveLength(6);
    // 14 request bytes, then 6 × (20 µs processing + 8 reply bytes): the line is free 740 µs after the write, not 3 ms later.
    expect(arm.bus.lineFreeAtUs - t0).toBeGreaterThanOrEqual(740);
    expect(arm.bus.lineFreeAtUs - t0).toBeLessThan(1500);
    arm.bus.close();
  });

  it('stays silent to a host at another baud rate', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const { chunks, host } = collector();
    arm.bus.attach(host);
    arm.bus.hostWrite(ft.ping(1), 57_600);
    await settle(20);
    expect(chunks).toHaveLength(0);
    arm.bus.close();
  });

  it('echoes the host its own bytes when the adapter has no echo cancelling', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const { chunks, host } = collector();
    arm.bus.attach(host);
    arm.bus.echo = true;
    arm.bus.hostWrite(ft.ping(2), 1_000_000);
    await settle(20);
    expect(chunks.map((c) => toHex(c.bytes))).toEqual([toHex(ft.ping(2)), toHex(ft.status(2, 0))]);
    arm.bus.close();
  });
});
