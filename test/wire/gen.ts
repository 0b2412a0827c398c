// Seeded random DNS messages for the wire codec tests: valid RDATA for the types whose layout matters
// (RFC 1035 names, RFC 3597 4 decompressible names, DNSSEC types) plus opaque and unknown types.

import { Type } from '../../src/wire/constants.js';
import type { Edns } from '../../src/wire/edns.js';
import type { Message } from '../../src/wire/message.js';
import { FLAGS_MASK } from '../../src/wire/message.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { prng } from '../helpers/prng.js';
export { prng } from '../helpers/prng.js';


export class Gen {
  readonly rnd: () => number;
  constructor(seed: number) {
    this.rnd = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A label from a small pool (so suffixes repeat and compression has work), randomly cased. */
  label(): Buffer {
    const pool = ['www', 'mail', 'ns1', 'example', 'com', 'net', 'a', 'xn--bcher-kva', 'deep', 'x'.repeat(63), 'sub'];
    if (this.int(10) === 0) return this.bytes(1 + this.int(20)); // arbitrary octets, dots and zeros included
    const s = this.pick(pool);
    return Buffer.from([...s].map((ch) => (this.int(3) === 0 ? ch.toUpperCase() : ch)).join(''), 'latin1');
  }

  name(): Buffer {
    const n = this.int(5);
    const parts: number[] = [];
    let len = 1;
    for (let i = 0; i < n; i++) {
      const l = this.label();
      if (len + l.length + 1 > 255) break;
      parts.push(l.length, ...l);
      len += l.length + 1;
    }
    parts.push(0);
    return Buffer.from(parts);
  }

  charString(): Buffer {
    const n = this.int(30);
    return Buffer.concat([Buffer.from([n]), this.bytes(n)]);
  }

  rdata(type: number): Buffer {
    switch (type) {
      case Type.A: return this.bytes(4);
      case Type.AAAA: return this.bytes(16);
      case Type.NS: case Type.CNAME: case Type.PTR: case Type.DNAME: return this.name();
      case Type.MX: case Type.KX: case Type.AFSDB: return Buffer.concat([this.bytes(2), this.name()]);
      case Type.SOA: return Buffer.concat([this.name(), this.name(), this.bytes(20)]);
      case Type.MINFO: case Type.RP: return Buffer.concat([this.name(), this.name()]);
      case Type.SRV: return Buffer.concat([this.bytes(6), this.name()]);
      case Type.TXT: return Buffer.concat(Array.from({ length: 1 + this.int(3) }, () => this.charString()));
      case Type.NAPTR: return Buffer.concat([this.bytes(4), this.charString(), this.charString(), this.charString(), this.name()]);
      case Type.RRSIG: {
        const b = Buffer.concat([this.bytes(18), this.name(), this.bytes(this.int(64))]);
        b.writeUInt16BE(this.pick([Type.A, Type.NS, Type.SOA]), 0);
        return b;
      }
      case Type.NSEC: {
        const len = 1 + this.int(8); // one well-formed window-0 bitmap (RFC 4034 4.1.2)
        return Buffer.concat([this.name(), Buffer.from([0, len]), this.bytes(len)]);
      }
      case Type.DS: return Buffer.concat([this.bytes(4), this.bytes(this.pick([20, 32, 48]))]);
      case Type.CAA: {
        const tag = Buffer.from(this.pick(['issue', 'issuewild', 'iodef']));
        return Buffer.concat([Buffer.from([this.pick([0, 128]), tag.length]), tag, Buffer.from('ca.example.net')]);
      }
      default: return this.bytes(this.int(40));
    }
  }

  record(owner?: Buffer): ResourceRecord {
    const type = this.pick([
      Type.A, Type.AAAA, Type.NS, Type.CNAME, Type.PTR, Type.DNAME, Type.MX, Type.KX, Type.AFSDB, Type.SOA,
      Type.MINFO, Type.RP, Type.SRV, Type.TXT, Type.NAPTR, Type.RRSIG, Type.NSEC, Type.DS, Type.CAA,
      Type.ZONEMD, 65280, 4321,
    ]);
    return {
      owner: owner ?? this.name(),
      type,
      class: this.int(8) === 0 ? this.int(0x10000) : 1,
      ttl: this.int(8) === 0 ? (this.int(0x10000) * 0x10000 + this.int(0x10000)) >>> 0 : this.int(86400),
      rdata: this.rdata(type),
    };
  }

  section(max: number): ResourceRecord[] {
    const out: ResourceRecord[] = [];
    const n = this.int(max + 1);
    while (out.length < n) {
      // Sometimes a small RRset: several records with one owner and type.
      const rr = this.record();
      out.push(rr);
      const more = this.int(4) === 0 ? this.int(3) : 0;
      for (let k = 0; k < more; k++) out.push({ ...rr, rdata: this.rdata(rr.type) });
    }
    return out;
  }

  edns(): Edns {
    return {
      udpPayload: this.pick([512, 1232, 4096, 65535, this.int(0x10000)]),
      extendedRcode: 0,
      version: this.int(4) === 0 ? this.int(256) : 0,
      do: this.int(2) === 0,
      options: Array.from({ length: this.int(3) }, () => ({ code: this.pick([3, 10, 12, 15, this.int(0x10000)]), data: this.bytes(this.int(20)) })),
    };
  }

  message(): Message {
    const edns = this.int(2) === 0 ? this.edns() : undefined;
    const m: Message = {
      id: this.int(0x10000),
      flags: this.int(0x10000) & FLAGS_MASK,
      opcode: this.int(16),
      rcode: edns ? this.int(0x1000) : this.int(16),
      question: Array.from({ length: this.int(3) }, () => ({ name: this.name(), type: this.int(0x10000), class: this.int(0x10000) })),
      answer: this.section(8),
      authority: this.section(4),
      additional: this.section(4),
    };
    if (edns) m.edns = { ...edns, extendedRcode: m.rcode >>> 4 };
    if (this.int(4) === 0) {
      m.tsig = { record: { owner: this.name(), type: Type.TSIG, class: 255, ttl: 0, rdata: this.bytes(20 + this.int(40)) }, offset: 0 };
    }
    return m;
  }
}
