/** DYNAMIXEL Protocol 2.0 CRC-16: polynomial 0x8005, init 0, no reflection, no final XOR (CRC-16/BUYPASS). */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC over `bytes[start, end)`, continuing from `crc` (0 for a new packet). */
export function dynamixelCrc(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  let c = crc;
  for (let i = start; i < end; i++) c = ((c << 8) ^ TABLE[((c >>> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  return c;
}
