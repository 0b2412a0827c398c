// Response rendering into one reused buffer, with name compression (RFC 1035 4.1.4) and truncation
// by whole RRsets (RFC 2181 9). RDATA is stored uncompressed; only the names RFC 1035 types carry
// are compressed (src/wire/compress.ts), the way Knot and BIND do, so our sizes match theirs.

import { Type } from '../wire/constants.js';
import { NameCompressor } from '../wire/compress.js';
import type { RRset } from '../zone/node.js';

export class ResponseWriter {
  /** Big enough for any TCP message plus one oversize record we then roll back. */
  readonly buf = Buffer.alloc(65535 * 2 + 1024);
  /** Current end of the message. */
  o = 0;
  /** Octets the message may take (UDP payload or 65535), minus what the OPT record will need. */
  limit = 512;
  /** Records per section: question, answer, authority, additional. */
  readonly counts = [0, 0, 0, 0];
  private readonly compressor = new NameCompressor(1024);

  /** Start a response: the request's header and question are copied; the caller writes the header last. */
  begin(req: Buffer, questionEnd: number, limit: number): void {
    this.compressor.reset();
    this.counts[0] = this.counts[1] = this.counts[2] = this.counts[3] = 0;
    this.limit = limit;
    req.copy(this.buf, 0, 0, questionEnd);
    if (questionEnd > 12) {
      this.counts[0] = 1;
      this.compressor.remember(this.buf, 12);
    }
    this.o = questionEnd;
  }

  /**
   * Append an RRset to `section` (1 answer, 2 authority, 3 additional) with owner `owner` (a wire name
   * from `ownerStart`, or null for "the question name"). Returns false, leaving the message as it
   * was, when the RRset does not fit in `limit`. An RRSIG goes out with the TTL it was signed with (its
   * Original TTL field, RFC 4034 3.1.4), each record its own, as Knot sends them, or `ttl` if that is
   * less. The records are read from the RRset's run of octets as they are stored.
   */
  putRRset(section: number, owner: Uint8Array | null, rrset: RRset, ttl = -1, ownerStart = 0): boolean {
    const mark = this.o;
    const b = this.buf;
    const c = this.compressor;
    const type = rrset.type;
    const sig = type === Type.RRSIG;
    if (ttl < 0) ttl = sig ? 0xffffffff : rrset.ttl;
    const d = rrset.data;
    const n = rrset.count;
    let p = rrset.start;
    let o = mark;
    for (let i = 0; i < n; i++) {
      if (owner === null) {
        b[o++] = 0xc0;
        b[o++] = 12;
      } else {
        o = c.writeName(b, o, owner, true, ownerStart);
      }
      b.writeUInt16BE(type, o);
      b.writeUInt16BE(1, o + 2);
      const len = (d[p]! << 8) | d[p + 1]!;
      const rd = p + 2;
      p = rd + len;
      b.writeUInt32BE(!sig ? ttl : len >= 8 ? Math.min(ttl, d.readUInt32BE(rd + 4)) : rrset.ttl, o + 4);
      const rdStart = o + 10;
      o = c.writeRdata(b, rdStart, type, d, rd, p);
      b.writeUInt16BE(o - rdStart, rdStart - 2);
      // The compressor ignores targets past the write position, so rolling back is safe.
      if (o > this.limit) return false;
    }
    this.o = o;
    this.counts[section]! += n;
    return true;
  }

  /** Write the header word and counts; returns the final length. */
  finish(id: number, flags: number): number {
    const b = this.buf;
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(flags, 2);
    b.writeUInt16BE(this.counts[0]!, 4);
    b.writeUInt16BE(this.counts[1]!, 6);
    b.writeUInt16BE(this.counts[2]!, 8);
    b.writeUInt16BE(this.counts[3]!, 10);
    return this.o;
  }
}
