import { createSimArm, type SimArmKind } from '../../src/sim/presets.ts';
import type { SimHost } from '../../src/sim/sim-bus.ts';

/**
 * Talks raw bytes to a simulated bus, as a vendor SDK would, and collects what comes back through
 * `framer` (a DynamixelFramer or FeetechFramer).
 */
export function rawWire<P>(kind: SimArmKind, framer: { append(b: Uint8Array): void; next(): P | undefined }) {
  const arm = createSimArm({ arm: kind, role: 'follower' });
  const got: P[] = [];
  const host: SimHost = {
    deliver: (b) => {
      framer.append(b);
      for (let p = framer.next(); p; p = framer.next()) got.push(p);
    },
    disconnect: () => undefined,
  };
  arm.bus.attach(host);
  const exchange = async (tx: Uint8Array, replies: number, baud = 1_000_000) => {
    got.length = 0;
    arm.bus.hostWrite(tx, baud);
    const end = Date.now() + 200;
    while (got.length < replies && Date.now() < end) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, replies === 0 ? 10 : 0));
    return [...got];
  };
  return { arm, exchange, close: () => arm.bus.close() };
}
