// EDNS(0): the OPT pseudo-record and its options (RFC 6891 6.1), the DO bit (RFC 3225), NSID (RFC 5001).
//
// The OPT RR overloads the RR fields: CLASS is the requester's UDP payload size, TTL holds the
// upper 8 bits of the rcode, the version and the flags. Values are kept as received (a payload
// below 512 is not raised here, a version above 0 is not refused here): what to answer is the
// responder's policy, not the codec's.

import { EDNS_DO, Type } from './constants.js';
import { WireFormatError } from './errors.js';
import { ROOT } from './name.js';
import type { ResourceRecord } from './record.js';

export interface EdnsOption {
  code: number;
  data: Buffer;
}

export interface Edns {
  /** Requester's maximum UDP payload (the OPT CLASS field). */
  udpPayload: number;
  /** Upper 8 bits of the 12-bit rcode (RFC 6891 6.1.3); the full rcode is (this << 4) | header rcode. */
  extendedRcode: number;
  version: number;
  /** DNSSEC OK (RFC 3225). The other flag bits are reserved: ignored on input, sent as zero. */
  do: boolean;
  options: EdnsOption[];
}

/** Option codes (IANA "DNS EDNS0 Option Codes"). */
export const EdnsOptionCode = {
  NSID: 3,
  CLIENT_SUBNET: 8,
  EXPIRE: 9,
  COOKIE: 10,
  TCP_KEEPALIVE: 11,
  PADDING: 12,
  EDE: 15,
} as const;

/** Octets the OPT RR of `edns` takes in a message (root owner, fixed fields, options). */
export function optLength(edns: Edns): number {
  let n = 1 + 10;
  for (const o of edns.options) n += 4 + o.data.length;
  return n;
}

/** Option octets (the OPT RDATA) of `edns`. */
export function encodeOptions(options: readonly EdnsOption[]): Buffer {
  let n = 0;
  for (const o of options) {
    if (!Number.isInteger(o.code) || o.code < 0 || o.code > 0xffff) throw new RangeError(`EDNS option code ${o.code} out of range`);
    if (o.data.length > 0xffff) throw new RangeError('EDNS option data longer than 65535 octets');
    n += 4 + o.data.length;
  }
  if (n > 0xffff) throw new RangeError('EDNS options longer than 65535 octets');
  const out = Buffer.allocUnsafe(n);
  let p = 0;
  for (const o of options) {
    out.writeUInt16BE(o.code, p);
    out.writeUInt16BE(o.data.length, p + 2);
    o.data.copy(out, p + 4);
    p += 4 + o.data.length;
  }
  return out;
}

/** The TTL field of an OPT RR: extended rcode, version, flags (RFC 6891 6.1.3). */
export function optTtl(edns: Edns): number {
  return (((edns.extendedRcode & 0xff) << 24) | ((edns.version & 0xff) << 16) | (edns.do ? EDNS_DO : 0)) >>> 0;
}

/** The OPT RR carrying `edns`. */
export function encodeOpt(edns: Edns): ResourceRecord {
  return { owner: ROOT, type: Type.OPT, class: edns.udpPayload & 0xffff, ttl: optTtl(edns), rdata: encodeOptions(edns.options) };
}

/** Parse an OPT RR. Throws WireFormatError when its owner is not the root or its options are cut short. */
export function decodeOpt(rr: ResourceRecord): Edns {
  if (rr.type !== Type.OPT) throw new WireFormatError('not an OPT record');
  if (rr.owner.length !== 1 || rr.owner[0] !== 0) throw new WireFormatError('OPT owner is not the root (RFC 6891 6.1.2)');
  const options: EdnsOption[] = [];
  const d = rr.rdata;
  let p = 0;
  while (p < d.length) {
    if (p + 4 > d.length) throw new WireFormatError('EDNS option header runs past RDLENGTH');
    const code = (d[p]! << 8) | d[p + 1]!;
    const len = (d[p + 2]! << 8) | d[p + 3]!;
    if (p + 4 + len > d.length) throw new WireFormatError(`EDNS option ${code} runs past RDLENGTH`);
    options.push({ code, data: Buffer.from(d.subarray(p + 4, p + 4 + len)) });
    p += 4 + len;
  }
  return {
    udpPayload: rr.class,
    extendedRcode: rr.ttl >>> 24,
    version: (rr.ttl >>> 16) & 0xff,
    do: (rr.ttl & EDNS_DO) !== 0,
    options,
  };
}

/** Data of the first option with `code`, or undefined. */
export function findOption(edns: Edns | undefined, code: number): Buffer | undefined {
  if (!edns) return undefined;
  for (const o of edns.options) if (o.code === code) return o.data;
  return undefined;
}

/** RFC 5001 2.1: a requester asks for the server's identifier with an empty NSID option. */
export function nsidRequested(edns: Edns | undefined): boolean {
  return findOption(edns, EdnsOptionCode.NSID) !== undefined;
}

/** RFC 5001 2.2: the NSID option a server puts in its response; the payload is opaque octets. */
export function nsidOption(id: Buffer | string): EdnsOption {
  const data = typeof id === 'string' ? Buffer.from(id, 'utf8') : id;
  if (data.length > 0xffff) throw new RangeError('NSID longer than 65535 octets');
  return { code: EdnsOptionCode.NSID, data };
}
