/**
 * Finds Feetech SCS/STS packets in a byte stream with any split, garbage or echo. Never throws on
 * input: bad bytes are counted in `stats`, and after a failed checksum the search resumes one byte
 * later. The 8-bit checksum cannot catch everything: a cut-off packet followed by a good one is
 * recovered unless the mixed bytes happen to sum right (about 1 in 256), which the protocol cannot
 * tell apart from a real packet.
 */
import { FT_MAX_LENGTH, feetechChecksum, type FtPacket } from './feetech-packet.ts';
import { NEED_MORE, PacketFramer, type REJECTED } from './packet-framer.ts';

export class FeetechFramer extends PacketFramer<FtPacket> {
  protected parse(): FtPacket | typeof NEED_MORE | typeof REJECTED {
    const q = this.queue;
    const n = q.length;
    let i = 0;
    while (i + 1 < n && !(q.at(i) === 0xff && q.at(i + 1) === 0xff)) i++;
    if (i + 1 >= n) {
      this.skip(n - (n >= 1 && q.at(n - 1) === 0xff ? 1 : 0));
      return NEED_MORE;
    }
    if (i > 0) this.skip(i);
    if (q.length < 4) return NEED_MORE;
    const id = q.at(2);
    const length = q.at(3);
    if (id === 0xff || length < 2 || length > FT_MAX_LENGTH) return this.badHeader();
    const total = 4 + length;
    const wait = this.incomplete(total);
    if (wait) return wait;
    const view = q.view(0, total);
    if (feetechChecksum(view, 2, total - 1) !== view[total - 1]) return this.badChecksum(id);
    const raw = view.slice();
    q.consume(total);
    return { id, code: raw[4]!, params: raw.subarray(5, total - 1), raw };
  }
}
