/** The servo models armbridge knows, by name and by model number. */
import type { ServoModel, Vendor } from './control-table.ts';
import { STS3215 } from './sts3215.ts';
import { XL330_M077, XL330_M288, XL430_W250, XM430_W350 } from './dynamixel-x.ts';

export const SERVO_MODELS = {
  sts3215: STS3215,
  'xl330-m288': XL330_M288,
  'xl330-m077': XL330_M077,
  'xl430-w250': XL430_W250,
  'xm430-w350': XM430_W350,
} as const;

export type ServoModelName = keyof typeof SERVO_MODELS;

export function isServoModelName(name: string): name is ServoModelName {
  return Object.hasOwn(SERVO_MODELS, name);
}

export function modelByNumber(vendor: Vendor, modelNumber: number): ServoModel | undefined {
  return (Object.values(SERVO_MODELS) as ServoModel[]).find((m) => m.vendor === vendor && m.modelNumber === modelNumber);
}

/** Feetech Baud_Rate register value → bits per second (STS; values ≥ 5 differ between sources, PROTOCOLS.md B5). */
export const STS_BAUD_RATES: Readonly<Record<number, number>> = {
  0: 1_000_000, 1: 500_000, 2: 250_000, 3: 128_000, 4: 115_200, 5: 76_800, 6: 57_600, 7: 38_400,
};
