/** Register values ↔ bytes, by the register's size, signedness and the model's endianness. */
import {
  decodeSignMagnitude,
  decodeTwosComplement,
  encodeSignMagnitude,
  encodeTwosComplement,
  readUint,
  writeUint,
  type Endianness,
} from './bytes.ts';
import type { RegisterSpec } from './control-table.ts';

export function decodeRegister(spec: RegisterSpec, bytes: Uint8Array, offset: number, endian: Endianness): number {
  const raw = readUint(bytes, offset, spec.size, endian);
  if (spec.signBit !== undefined) return decodeSignMagnitude(raw, spec.signBit);
  if (spec.signed) return decodeTwosComplement(raw, spec.size);
  return raw;
}

/** Throws RangeError when `value` does not fit the register. */
export function encodeRegister(spec: RegisterSpec, value: number, out: Uint8Array, offset: number, endian: Endianness): void {
  if (!Number.isInteger(value)) throw new RangeError(`${value} is not an integer`);
  let raw: number;
  if (spec.signBit !== undefined) raw = encodeSignMagnitude(value, spec.signBit);
  else if (spec.signed) raw = encodeTwosComplement(value, spec.size);
  else {
    if (value < 0 || value >= 2 ** (8 * spec.size)) throw new RangeError(`${value} does not fit an unsigned ${8 * spec.size}-bit register`);
    raw = value;
  }
  writeUint(out, offset, spec.size, raw, endian);
}
