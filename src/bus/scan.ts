/**
 * Finds what is on a serial port: for each protocol and baud rate, a broadcast ping, then a ping
 * per answering id to name its model. Used by `armbridge scan` and by setup flows.
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import type { ServoModelName, Vendor } from '../protocol/index.ts';
import { MotorBus } from './motor-bus.ts';

export interface FoundServo {
  readonly vendor: Vendor;
  readonly baud: number;
  readonly id: number;
  readonly modelNumber: number;
  readonly model: ServoModelName | undefined;
  readonly firmware: string;
}

/** Rates tried, most likely first (LeRobot's 1 Mbps; Dynamixel factory 57600; Feetech alternatives). */
export const SCAN_BAUDS: Readonly<Record<Vendor, readonly number[]>> = {
  feetech: [1_000_000, 500_000, 250_000, 128_000, 115_200, 57_600, 38_400],
  dynamixel: [1_000_000, 57_600, 115_200, 2_000_000, 3_000_000, 4_000_000, 9600],
};

export interface ScanOptions {
  readonly path: string;
  readonly binding?: BindingInterface;
  readonly vendors?: readonly Vendor[];
  readonly bauds?: readonly number[];
  /** How long to collect broadcast-ping answers per rate, ms. */
  readonly windowMs?: number;
  /** Stop after the first rate at which servos answer (per vendor). */
  readonly firstMatch?: boolean;
  /**
   * With `firstMatch`: once servos answered in one protocol, skip the protocols after it. An arm's
   * bus carries one protocol; a pty (the simulator) carries no baud rate, so without `firstMatch`
   * the same servos answer at every rate tried.
   */
  readonly firstVendor?: boolean;
  readonly onProgress?: (vendor: Vendor, baud: number, found: number) => void;
}

export async function scanPort(options: ScanOptions): Promise<FoundServo[]> {
  const found: FoundServo[] = [];
  for (const vendor of options.vendors ?? (['feetech', 'dynamixel'] as const)) {
    const bauds = options.bauds ?? SCAN_BAUDS[vendor];
    const bus = await MotorBus.open({ path: options.path, binding: options.binding, vendor, baud: bauds[0]!, retries: 1, timeoutMs: 20 });
    try {
      for (const baud of bauds) {
        if (baud !== bus.baud) await bus.setBaud(baud);
        const ids = await bus.broadcastPing(options.windowMs ?? 100);
        for (const id of ids) {
          const p = await bus.ping(id).catch(() => undefined);
          if (p) found.push({ vendor, baud, ...p });
        }
        options.onProgress?.(vendor, baud, ids.length);
        if (ids.length > 0 && options.firstMatch) break;
      }
    } finally {
      await bus.close();
    }
    if (found.length > 0 && options.firstMatch && options.firstVendor) break;
  }
  return found;
}
