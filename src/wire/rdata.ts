// RDATA layouts: where the domain names sit inside the RDATA of each type (RFC 3597 section 4).
//
// Every type is stored as opaque uncompressed RDATA; this table only says which names may be
// compressed on output (RFC 1035 types, as Knot and BIND do), which must be decompressed on input
// (RFC 3597 4: the RFC 1035 types, plus RP, AFSDB, RT, SIG, PX, NXT, NAPTR, SRV), and which are
// lower-cased in canonical form (RFC 4034 6.2, RFC 6840 5.1).

import { Type } from './constants.js';
import { WireFormatError } from './errors.js';
import { LOWER, MAX_NAME_LENGTH, type NameReader } from './name.js';

/** Fields of an RDATA layout: a fixed number of octets, or one of the markers below. */
export const COMPRESSIBLE = -1; // a name we compress on output and decompress on input
export const DECOMPRESSIBLE = -2; // a name we decompress on input but never compress on output
export const PLAIN_NAME = -3; // a name that is never compressed (RRSIG signer, NSEC next, DNAME, KX...)
export const NAPTR_HEADER = -4; // order, preference, flags, services, regexp
export const REMAINDER = -5; // the rest, opaque

export type Layout = readonly number[];

const layouts = new Map<number, Layout>([
  [Type.NS, [COMPRESSIBLE]],
  [Type.MD, [DECOMPRESSIBLE]],
  [Type.MF, [DECOMPRESSIBLE]],
  [Type.CNAME, [COMPRESSIBLE]],
  [Type.SOA, [COMPRESSIBLE, COMPRESSIBLE, 20]],
  [Type.MB, [DECOMPRESSIBLE]],
  [Type.MG, [DECOMPRESSIBLE]],
  [Type.MR, [DECOMPRESSIBLE]],
  [Type.PTR, [COMPRESSIBLE]],
  [Type.MINFO, [COMPRESSIBLE, COMPRESSIBLE]],
  [Type.MX, [2, COMPRESSIBLE]],
  [Type.RP, [DECOMPRESSIBLE, DECOMPRESSIBLE]],
  [Type.AFSDB, [2, DECOMPRESSIBLE]],
  [Type.RT, [2, DECOMPRESSIBLE]],
  [Type.SIG, [18, DECOMPRESSIBLE, REMAINDER]],
  [Type.PX, [2, DECOMPRESSIBLE, DECOMPRESSIBLE]],
  [Type.NXT, [DECOMPRESSIBLE, REMAINDER]],
  [Type.SRV, [6, DECOMPRESSIBLE]],
  [Type.NAPTR, [NAPTR_HEADER, DECOMPRESSIBLE]],
  [Type.KX, [2, PLAIN_NAME]],
  [Type.DNAME, [PLAIN_NAME]],
  [Type.RRSIG, [18, PLAIN_NAME, REMAINDER]],
  [Type.NSEC, [PLAIN_NAME, REMAINDER]],
  [Type.LP, [2, PLAIN_NAME]],
]);

/** Types whose embedded names are lower-cased in canonical form (RFC 4034 6.2 as amended by 6840). */
const CANONICAL_LOWER: ReadonlySet<number> = new Set([
  Type.NS, Type.MD, Type.MF, Type.CNAME, Type.SOA, Type.MB, Type.MG, Type.MR, Type.PTR, Type.MINFO,
  Type.MX, Type.RP, Type.AFSDB, Type.RT, Type.SIG, Type.PX, Type.NXT, Type.NAPTR, Type.KX, Type.SRV,
  Type.DNAME, Type.RRSIG,
]);

/** The layout of a type, or undefined for types whose RDATA holds no domain name. */
export function layoutOf(type: number): Layout | undefined {
  return layouts.get(type);
}

/** Octets of a NAPTR header (2 + 2 + three character-strings) at `off`, bounded by `end`. */
function naptrHeaderLength(buf: Uint8Array, off: number, end: number): number {
  let p = off + 4;
  for (let k = 0; k < 3; k++) {
    if (p >= end) throw new WireFormatError('NAPTR RDATA too short');
    p += 1 + buf[p]!;
  }
  if (p > end) throw new WireFormatError('NAPTR RDATA too short');
  return p - off;
}

/** Most octets RDATA with names decompressed can take: RDLENGTH is 16 bits. */
const MAX_RDATA = 0xffff;
/** Room readRdataInto() needs in its output: a name may grow by up to 253 octets when decompressed. */
export const RDATA_SCRATCH = MAX_RDATA + 2 * MAX_NAME_LENGTH;

/**
 * Uncompressed RDATA of a type with names in it (layoutOf(type) defined) written into `out` from 0
 * (RDATA_SCRATCH octets), decompressing the names the layout marks (RFC 3597 4) and checking that the
 * RDATA in the message is exactly `rdlen` octets long: returns the octets written.
 */
export function readRdataInto(msg: Uint8Array, off: number, rdlen: number, layout: Layout, out: Uint8Array, names: NameReader, type: number): number {
  const end = off + rdlen;
  if (end > msg.length) throw new WireFormatError('RDATA runs past the end of the message');
  let p = off;
  let o = 0;
  for (const field of layout) {
    if (field >= 0 || field === REMAINDER || field === NAPTR_HEADER) {
      const n = field >= 0 ? field : field === REMAINDER ? end - p : naptrHeaderLength(msg, p, end);
      if (p + n > end) throw new WireFormatError(`RDATA of type ${type} too short`);
      for (let k = 0; k < n; k++) out[o + k] = msg[p + k]!;
      o += n;
      p += n;
    } else {
      // A name must end inside the RDATA; pointers may reach back anywhere before it in the message.
      names.read(msg, p, out, o);
      if (names.next > end) throw new WireFormatError(`name in RDATA of type ${type} runs past RDLENGTH`);
      o += names.length;
      p = names.next;
    }
  }
  if (p !== end) throw new WireFormatError(`RDATA of type ${type} has ${end - p} trailing octets`);
  if (o > MAX_RDATA) throw new WireFormatError(`RDATA of type ${type} is longer than ${MAX_RDATA} octets once decompressed`);
  return o;
}

/** Call `fn(offset, field)` for every name inside uncompressed RDATA (for compression and case folding). */
export function forEachRdataName(rdata: Uint8Array, type: number, fn: (offset: number, field: number) => void): void {
  const layout = layouts.get(type);
  if (!layout) return;
  let p = 0;
  for (const field of layout) {
    if (p >= rdata.length) return;
    if (field >= 0) p += field;
    else if (field === REMAINDER) return;
    else if (field === NAPTR_HEADER) p += naptrHeaderLength(rdata, p, rdata.length);
    else {
      fn(p, field);
      // Stored RDATA is well formed, but never loop past its end if it is not.
      while (p < rdata.length && rdata[p] !== 0) p += rdata[p]! + 1;
      p += 1;
    }
  }
}

/** RFC 4034 6.2 canonical RDATA: names of the listed types lower-cased. Returns the input when unchanged. */
export function canonicalRdata(rdata: Buffer, type: number): Buffer {
  if (!CANONICAL_LOWER.has(type)) return rdata;
  let out: Buffer | undefined;
  forEachRdataName(rdata, type, (off) => {
    for (let p = off; rdata[p] !== 0; p += rdata[p]! + 1) {
      for (let k = p + 1; k <= p + rdata[p]!; k++) {
        const l = LOWER[rdata[k]!]!;
        if (l !== rdata[k]) {
          out ??= Buffer.from(rdata);
          out[k] = l;
        }
      }
    }
  });
  return out ?? rdata;
}
