/** Byte-level helpers shared by the codecs. Pure: no I/O, no Node APIs (runs in a browser or worker). */

export type Endianness = 'little' | 'big';

/** Reads an unsigned integer of `size` bytes (1, 2 or 4). */
export function readUint(bytes: Uint8Array, offset: number, size: number, endian: Endianness): number {
  let v = 0;
  if (endian === 'little') {
    for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[offset + i]!;
  } else {
    for (let i = 0; i < size; i++) v = v * 256 + bytes[offset + i]!;
  }
  return v;
}

/** Writes the low `size` bytes of a non-negative integer. */
export function writeUint(out: Uint8Array, offset: number, size: number, value: number, endian: Endianness): void {
  let v = value;
  for (let i = 0; i < size; i++) {
    const b = v % 256;
    v = Math.floor(v / 256);
    out[endian === 'little' ? offset + i : offset + size - 1 - i] = b;
  }
}

/** Feetech sign-magnitude: bit `signBit` is the sign, lower bits the magnitude. */
export function decodeSignMagnitude(raw: number, signBit: number): number {
  const sign = 2 ** signBit;
  const magnitude = raw % sign;
  return Math.floor(raw / sign) % 2 === 1 ? -magnitude : magnitude;
}

export function encodeSignMagnitude(value: number, signBit: number): number {
  const sign = 2 ** signBit;
  const magnitude = Math.abs(value);
  if (magnitude >= sign) throw new RangeError(`${value} does not fit sign-magnitude with sign bit ${signBit}`);
  return value < 0 ? sign + magnitude : magnitude;
}

/** Two's complement of a `size`-byte register. */
export function decodeTwosComplement(raw: number, size: number): number {
  const bits = size * 8;
  return raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
}

export function encodeTwosComplement(value: number, size: number): number {
  const bits = size * 8;
  if (value < -(2 ** (bits - 1)) || value >= 2 ** (bits - 1)) {
    throw new RangeError(`${value} does not fit a signed ${bits}-bit register`);
  }
  return value < 0 ? value + 2 ** bits : value;
}

/** `FF FF 01` style hex, for messages and tests. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new RangeError(`odd number of hex digits in "${hex}"`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Time one byte takes on a UART with 8N1 framing (start + 8 data + stop = 10 bits), in µs. */
export function byteTimeUs(baud: number): number {
  return 10_000_000 / baud;
}
