// DNS over TCP stream framing: the two-octet length prefix (RFC 1035 4.2.2, RFC 7766 8).
//
// TCP delivers the stream cut anywhere: a length prefix may straddle two chunks, a chunk may hold
// many messages, and an AXFR answer may be megabytes arriving in small pieces. The framer keeps at
// most one partial message, copying each octet of the stream at most once, so a stream of any size
// costs linear time whatever its chunking.
//
// A zero-length frame is an error, not skipped: no DNS message is shorter than its 12-octet header,
// a frame with no header carries no ID so it cannot be answered (not even with FORMERR), and on a
// transfer stream it means the peer is broken. Skipping would also let a peer keep a connection
// alive with 2-octet frames that never ask anything. A frame longer than `maxMessage` is an error too
// (it is how a server bounds the memory one connection can pin). Either error leaves the stream
// unusable: the caller closes the connection. Messages completed earlier in the same push are lost
// with it, which is harmless since the connection is being torn down.

import { WireFormatError } from './errors.js';

/** Largest DNS message: the length prefix is 16 bits. */
export const MAX_TCP_MESSAGE = 65535;

export class TcpFramer {
  /** Message being assembled across chunks, or null between messages. */
  private partial: Buffer | null = null;
  private filled = 0;
  /** High octet of a length prefix split over two chunks, or -1. */
  private lengthHigh = -1;

  constructor(private readonly maxMessage: number = MAX_TCP_MESSAGE) {
    if (!Number.isInteger(maxMessage) || maxMessage < 1 || maxMessage > MAX_TCP_MESSAGE) {
      throw new RangeError(`maxMessage must be in 1..${MAX_TCP_MESSAGE}`);
    }
  }

  /**
   * Feed the next chunk of the stream; returns the messages it completes, in order. A message lying
   * whole inside `chunk` is returned as a view of it (no copy), so do not reuse a chunk's memory after
   * pushing it. Throws WireFormatError on a zero-length or oversize frame.
   */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = data.length;
    let p = 0;
    while (p < n) {
      const cur = this.partial;
      if (cur !== null) {
        const take = Math.min(n - p, cur.length - this.filled);
        data.copy(cur, this.filled, p, p + take);
        this.filled += take;
        p += take;
        if (this.filled === cur.length) {
          out.push(cur);
          this.partial = null;
          this.filled = 0;
        }
        continue;
      }
      let len: number;
      if (this.lengthHigh >= 0) {
        len = (this.lengthHigh << 8) | data[p]!;
        this.lengthHigh = -1;
        p += 1;
      } else if (n - p >= 2) {
        len = (data[p]! << 8) | data[p + 1]!;
        p += 2;
      } else {
        this.lengthHigh = data[p]!;
        p += 1;
        break;
      }
      if (len === 0) throw new WireFormatError('zero-length message in TCP stream');
      if (len > this.maxMessage) throw new WireFormatError(`TCP message of ${len} octets exceeds the limit of ${this.maxMessage}`);
      if (n - p >= len) {
        out.push(data.subarray(p, p + len));
        p += len;
      } else {
        // Allocate the whole message once; later chunks are copied straight into it.
        const buf = Buffer.allocUnsafe(len);
        data.copy(buf, 0, p, n);
        this.partial = buf;
        this.filled = n - p;
        p = n;
      }
    }
    return out;
  }

  /** True when the stream stopped inside a message or its length prefix (a truncated stream at EOF). */
  get midMessage(): boolean {
    return this.partial !== null || this.lengthHigh >= 0;
  }

  /** Octets held for the message in progress (length prefix included). */
  get buffered(): number {
    if (this.partial !== null) return 2 + this.filled;
    return this.lengthHigh >= 0 ? 1 : 0;
  }
}

/** Prefix a message with its two-octet length for sending over TCP. */
export function frame(msg: Uint8Array): Buffer {
  if (msg.length === 0 || msg.length > MAX_TCP_MESSAGE) {
    throw new RangeError(`cannot frame a message of ${msg.length} octets (1..${MAX_TCP_MESSAGE})`);
  }
  const out = Buffer.allocUnsafe(msg.length + 2);
  out[0] = msg.length >>> 8;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}
