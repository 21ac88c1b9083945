/**
 * Finds DYNAMIXEL Protocol 2.0 packets (instructions and status) in a byte stream with any split,
 * garbage or echo. Never throws on input: bad bytes are counted in `stats` and skipped, and the
 * framer resynchronises one byte after a candidate header whose CRC fails.
 *
 *   const framer = new DynamixelFramer();
 *   framer.append(chunk);
 *   for (let p = framer.next(); p; p = framer.next()) handle(p);
 */
import { dynamixelCrc } from './dynamixel-crc.ts';
import { DXL_MAX_LENGTH, unstuff, type DxlPacket } from './dynamixel-packet.ts';
import { NEED_MORE, PacketFramer, type REJECTED } from './packet-framer.ts';

export class DynamixelFramer extends PacketFramer<DxlPacket> {
  readonly #maxLength: number;

  constructor(options: { maxLength?: number } = {}) {
    super();
    this.#maxLength = options.maxLength ?? DXL_MAX_LENGTH;
  }

  protected parse(): DxlPacket | typeof NEED_MORE | typeof REJECTED {
    const q = this.queue;
    const n = q.length;
    // Find FF FF FD 00.
    let i = 0;
    while (i + 3 < n && !(q.at(i) === 0xff && q.at(i + 1) === 0xff && q.at(i + 2) === 0xfd && q.at(i + 3) === 0x00)) i++;
    if (i + 3 >= n) {
      // Keep a possible partial header at the end.
      let keep = 0;
      if (n >= 1 && q.at(n - 1) === 0xff) keep = 1;
      if (n >= 2 && q.at(n - 2) === 0xff && q.at(n - 1) === 0xff) keep = 2;
      if (n >= 3 && q.at(n - 3) === 0xff && q.at(n - 2) === 0xff && q.at(n - 1) === 0xfd) keep = 3;
      this.skip(n - keep);
      return NEED_MORE;
    }
    if (i > 0) this.skip(i);
    if (q.length < 7) return NEED_MORE;
    const id = q.at(4);
    const length = q.at(5) | (q.at(6) << 8);
    if (id === 0xff || length < 3 || length > this.#maxLength) return this.badHeader();
    const total = 7 + length;
    const wait = this.incomplete(total);
    if (wait) return wait;
    const crc = q.at(total - 2) | (q.at(total - 1) << 8);
    if (dynamixelCrc(q.view(0, total - 2)) !== crc) return this.badChecksum(id);
    const raw = q.view(0, total).slice();
    const body = unstuff(raw.subarray(7, total - 2));
    q.consume(total);
    return { id, instruction: body[0]!, params: body.subarray(1), raw };
  }
}
