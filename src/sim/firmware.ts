/** What a simulated servo firmware does with one instruction packet: which servos answer, with what. */
import type { SimServo } from './sim-servo.ts';

export interface SimReply {
  /** The servo that transmits (its return delay applies). */
  readonly servo: SimServo;
  readonly bytes: Uint8Array;
  /** Baud the reply leaves at: the servo's rate when the instruction arrived (a baud change applies after). */
  readonly baud: number;
}

/** An instruction as the servos see it: `instruction` is the instruction byte. */
export interface SimInstruction {
  readonly id: number;
  readonly instruction: number;
  readonly params: Uint8Array;
}

export interface Firmware {
  /** Finds instruction packets in the bytes that reach the servos. */
  createReader(): { append(chunk: Uint8Array): void; next(): SimInstruction | undefined };
  /** Executes one instruction on the servos that heard it; returns the replies in transmit order. */
  handle(packet: SimInstruction, servos: readonly SimServo[]): SimReply[];
  /** Bits per second for a servo, from its Baud_Rate register. */
  baudOf(servo: SimServo): number;
}

/** Applies the configured reply faults (corrupted checksum, cut-off packet). */
export function applyReplyFaults(servo: SimServo, bytes: Uint8Array): Uint8Array {
  if (servo.faults.corruptReplies > 0) {
    servo.faults.corruptReplies--;
    const c = bytes.slice();
    c[c.length - 1] = c[c.length - 1]! ^ 0x5a;
    return c;
  }
  if (servo.faults.truncateReplies > 0) {
    servo.faults.truncateReplies--;
    return bytes.slice(0, Math.max(1, Math.floor(bytes.length / 2)));
  }
  return bytes;
}

/** Which registers a write of `length` bytes at `address` touches, and whether it covers them whole. */
export function touchedRegisters(servo: SimServo, address: number, length: number) {
  const touched: { name: string; whole: boolean }[] = [];
  for (const [name, spec] of Object.entries(servo.model.table)) {
    if (!spec) continue;
    const end = spec.address + spec.size;
    if (spec.address < address + length && end > address) {
      touched.push({ name, whole: spec.address >= address && end <= address + length });
    }
  }
  return touched;
}
