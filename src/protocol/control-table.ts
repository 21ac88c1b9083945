/**
 * Control tables as typed data (DESIGN.md §4): a register name is checked by the compiler, and the
 * same data drives the bus (encoding values) and the simulator (servo memory, access rules).
 */
import type { Endianness } from './bytes.ts';

export type Access = 'r' | 'rw';

export interface RegisterSpec {
  /** First byte of the register in the servo's memory. */
  readonly address: number;
  readonly size: 1 | 2 | 4;
  readonly access: Access;
  /** Feetech sign-magnitude: this bit is the sign, the lower bits the magnitude. */
  readonly signBit?: number;
  /** Dynamixel: two's complement over the register's size. */
  readonly signed?: boolean;
}

export type ControlTable = Readonly<Record<string, RegisterSpec>>;

export type Vendor = 'feetech' | 'dynamixel';

/** What one servo model is: its wire protocol, identity, memory layout and factory values. */
export interface ServoModel<R extends string = string> {
  /** Our name, as LeRobot spells it (`sts3215`, `xl330-m288`, …). */
  readonly name: string;
  readonly vendor: Vendor;
  readonly modelNumber: number;
  /** Registers this model has (a model may lack some registers of its family's table). */
  readonly table: Readonly<Partial<Record<R, RegisterSpec>>>;
  /** Encoder counts per revolution. */
  readonly resolution: number;
  readonly endianness: Endianness;
  /** Addresses below this are EEPROM (persisted; Dynamixel refuses writes there while torque is on). */
  readonly eepromEnd: number;
  /** Bytes of memory the simulator models; reads beyond this are refused (Dynamixel) or zero (Feetech). */
  readonly memorySize: number;
  /** Factory values the simulator loads at power-up, by register name. */
  readonly initial: Readonly<Partial<Record<R, number>>>;
  /** Maximum no-load speed, counts per second (simulated dynamics). */
  readonly maxSpeedCountsPerS: number;
  /** Maximum acceleration, counts per second² (simulated dynamics). */
  readonly maxAccelCountsPerS2: number;
}

export function registerOf<R extends string>(model: ServoModel<R>, name: R): RegisterSpec | undefined {
  return (model.table as Partial<Record<string, RegisterSpec>>)[name];
}
