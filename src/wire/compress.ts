// Name compression for writing messages (RFC 1035 4.1.4), and RDATA output that compresses only the
// names of the RFC 1035 types (RFC 3597 4; layouts in rdata.ts).
//
// Every suffix of every name written so far is a candidate target. Candidates live in an
// open-addressing hash table keyed by a hash of the suffix's lower-cased octets, so finding the
// longest matching suffix costs one hash pass over the name plus a probe per suffix, with no
// strings or objects allocated. A hit is always confirmed against the octets actually in the output
// buffer (following any pointers there), so the hash is only a filter and a stale entry is harmless:
// a writer may roll its write position back (truncation) and keep using the same compressor, since
// a target at or past the write position is ignored and an overwritten one is used only if its
// octets still spell the name. Only offsets below 0x4000 can be pointed at (14-bit pointers).
//
// Matching is case-insensitive (RFC 4343), as in BIND and Knot: a pointer to "Example.com" stands
// for "example.COM", so a compressed name takes the spelling of the first occurrence.

import { LOWER } from './name.js';
import { COMPRESSIBLE, layoutOf, NAPTR_HEADER, REMAINDER } from './rdata.js';
import type { Layout } from './rdata.js';

/** Highest offset a 14-bit compression pointer can reach. */
export const MAX_POINTER_OFFSET = 0x3fff;
/** A name has at most 127 labels (255 octets, two per label, plus the root). */
const MAX_LABELS = 128;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

export class NameCompressor {
  private readonly mask: number;
  private readonly slotHash: Int32Array;
  private readonly slotOffset: Int32Array;
  /** Generation stamp per slot: reset() bumps the generation instead of clearing the table. */
  private readonly slotGen: Uint32Array;
  private gen = 1;
  private count = 0;
  private readonly maxCount: number;
  /** Scratch: start of each label of the name at hand, and the hash of the suffix from there. */
  private readonly starts = new Int32Array(MAX_LABELS);
  private readonly hashes = new Int32Array(MAX_LABELS);

  /** `slots` (a power of two) bounds the targets remembered: at most half of it, for short probes. */
  constructor(slots = 4096) {
    if (!Number.isInteger(slots) || slots < 16 || (slots & (slots - 1)) !== 0) throw new RangeError('slots must be a power of two >= 16');
    this.mask = slots - 1;
    this.maxCount = slots >>> 1;
    this.slotHash = new Int32Array(slots);
    this.slotOffset = new Int32Array(slots);
    this.slotGen = new Uint32Array(slots);
  }

  /** Forget every target: call before writing a new message. */
  reset(): void {
    this.count = 0;
    if (++this.gen === 0xffffffff) {
      this.slotGen.fill(0);
      this.gen = 1;
    }
  }

  /**
   * Write the uncompressed wire name `name` (from `nameStart`) at `offset` of `buf` and return the
   * offset after it. With `compress`, its longest suffix already in the message becomes a pointer
   * and the suffixes written out become targets; without, the name is written in full and not
   * offered as a target (names inside RDATA that must not be compressed stay invisible too).
   * Throws RangeError when `buf` may be too small or the name is not a valid uncompressed name.
   */
  writeName(buf: Buffer, offset: number, name: Uint8Array, compress: boolean, nameStart = 0): number {
    const starts = this.starts;
    let n = 0;
    let p = nameStart;
    for (;;) {
      const len = name[p];
      if (len === undefined) throw new RangeError('name runs past the end of its buffer');
      if (len === 0) break;
      if (len > 63 || n === MAX_LABELS - 1) throw new RangeError('not an uncompressed wire name');
      starts[n++] = p;
      p += len + 1;
    }
    const nameEnd = p + 1;
    if (nameEnd - nameStart > 255) throw new RangeError('name longer than 255 octets');
    if (offset + (nameEnd - nameStart) > buf.length) throw new RangeError('output buffer too small');
    if (!compress || n === 0) return copyBytes(buf, offset, name, nameStart, nameEnd);
    this.hashLabels(name, n);
    const hashes = this.hashes;
    let match = n; // index of the first label of the matched suffix (n: none)
    let target = -1;
    for (let i = 0; i < n; i++) {
      target = this.lookup(buf, offset, hashes[i]!, name, starts[i]!);
      if (target >= 0) {
        match = i;
        break;
      }
    }
    // Labels before the match are written out; each becomes a target at its new position.
    let o = copyBytes(buf, offset, name, nameStart, match === n ? nameEnd : starts[match]!);
    if (match < n) {
      buf[o++] = 0xc0 | (target >>> 8);
      buf[o++] = target & 0xff;
    }
    for (let i = 0; i < match; i++) {
      const at = offset + starts[i]! - nameStart;
      if (at > MAX_POINTER_OFFSET) break;
      this.insert(hashes[i]!, at);
    }
    return o;
  }

  /**
   * Offer a name already present at `offset` of `buf` (say a question copied from a request) as a
   * target, with all its suffixes. Pointers in it are followed. A malformed name is ignored.
   */
  remember(buf: Uint8Array, offset: number): void {
    const starts = this.starts;
    let n = 0;
    let p = offset;
    let lowest = offset;
    let total = 0;
    for (;;) {
      if (p >= buf.length) return;
      const len = buf[p]!;
      if (len === 0) break;
      if ((len & 0xc0) === 0xc0) {
        if (p + 1 >= buf.length) return;
        const t = ((len & 0x3f) << 8) | buf[p + 1]!;
        if (t >= lowest) return;
        lowest = t;
        p = t;
        continue;
      }
      if (len > 63 || n === MAX_LABELS - 1 || p + len >= buf.length) return;
      total += len + 1;
      if (total > 254) return;
      starts[n++] = p;
      p += len + 1;
    }
    this.hashLabels(buf, n);
    for (let i = 0; i < n; i++) {
      const at = starts[i]!;
      if (at <= MAX_POINTER_OFFSET) this.insert(this.hashes[i]!, at);
    }
  }

  /**
   * Write RDATA of `type` at `off` of `buf`, compressing the names its layout marks COMPRESSIBLE and
   * copying everything else as it is. Returns the offset after it (the caller writes RDLENGTH). The
   * RDATA is `rdata[start, end)` (the whole of it by default).
   */
  writeRdata(buf: Buffer, off: number, type: number, rdata: Uint8Array, start = 0, end = rdata.length): number {
    if (off + (end - start) > buf.length) throw new RangeError('output buffer too small');
    const layout = layoutOf(type);
    if (layout === undefined || !hasCompressible(layout)) return copyBytes(buf, off, rdata, start, end);
    let o = off;
    let p = start;
    for (const field of layout) {
      if (p >= end) break;
      if (field >= 0) {
        const q = Math.min(end, p + field);
        o = copyBytes(buf, o, rdata, p, q);
        p = q;
      } else if (field === REMAINDER || field === NAPTR_HEADER) {
        break; // copied below; no compressible name follows these in any layout
      } else {
        const q = nameEndIn(rdata, p, end);
        if (q < 0) break; // malformed stored RDATA: copy the rest untouched rather than guess
        if (field === COMPRESSIBLE) {
          o = this.writeName(buf, o, rdata, true, p);
        } else {
          o = copyBytes(buf, o, rdata, p, q);
        }
        p = q;
      }
    }
    return p < end ? copyBytes(buf, o, rdata, p, end) : o;
  }

  /** Hash every suffix of the name whose n label starts are in `starts`, right to left. */
  private hashLabels(bytes: Uint8Array, n: number): void {
    const starts = this.starts;
    const hashes = this.hashes;
    let h = FNV_OFFSET;
    for (let i = n - 1; i >= 0; i--) {
      const s = starts[i]!;
      const len = bytes[s]!;
      h = Math.imul(h ^ len, FNV_PRIME);
      for (let k = s + 1; k <= s + len; k++) h = Math.imul(h ^ LOWER[bytes[k]!]!, FNV_PRIME);
      hashes[i] = h;
    }
  }

  /** Offset of a target spelling the suffix of `name` at `s` (case-insensitively), or -1. */
  private lookup(buf: Uint8Array, limit: number, h: number, name: Uint8Array, s: number): number {
    const mask = this.mask;
    for (let slot = h & mask; this.slotGen[slot] === this.gen; slot = (slot + 1) & mask) {
      if (this.slotHash[slot] !== h) continue;
      const t = this.slotOffset[slot]!;
      if (t < limit && sameName(buf, t, limit, name, s)) return t;
    }
    return -1;
  }

  private insert(h: number, at: number): void {
    if (this.count >= this.maxCount) return; // table full: later names are just compressed less
    const mask = this.mask;
    let slot = h & mask;
    while (this.slotGen[slot] === this.gen) slot = (slot + 1) & mask;
    this.slotGen[slot] = this.gen;
    this.slotHash[slot] = h;
    this.slotOffset[slot] = at;
    this.count++;
  }
}

const compressibleCache = new WeakMap<Layout, boolean>();

function hasCompressible(layout: Layout): boolean {
  let v = compressibleCache.get(layout);
  if (v === undefined) {
    v = layout.includes(COMPRESSIBLE);
    compressibleCache.set(layout, v);
  }
  return v;
}

/**
 * Copy src[from, to) to dst at `at`; returns the end. A loop beats a subarray view for a name's few
 * octets, and allocates nothing (a native copy of part of a Buffer makes a view first); unrolled, it
 * copies a 300-octet RRSIG in about 270 ns (a view and a native copy: 75 ns).
 */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  let i = from;
  for (; i + 8 <= to; i += 8, at += 8) {
    dst[at] = src[i]!;
    dst[at + 1] = src[i + 1]!;
    dst[at + 2] = src[i + 2]!;
    dst[at + 3] = src[i + 3]!;
    dst[at + 4] = src[i + 4]!;
    dst[at + 5] = src[i + 5]!;
    dst[at + 6] = src[i + 6]!;
    dst[at + 7] = src[i + 7]!;
  }
  for (; i < to; i++) dst[at++] = src[i]!;
  return at;
}

/** Offset just past the uncompressed name at `p` of `b`, or -1 if it does not end before `end`. */
function nameEndIn(b: Uint8Array, p: number, end: number): number {
  let q = p;
  while (q < end) {
    const len = b[q]!;
    if (len === 0) return q + 1;
    if (len > 63) return -1;
    q += len + 1;
  }
  return -1;
}

/**
 * Whether the (possibly compressed) name at `t` in `buf`, read only below `limit` and with pointers
 * only going backwards as a decoder demands, spells the uncompressed name at `s` of `name`.
 */
function sameName(buf: Uint8Array, t: number, limit: number, name: Uint8Array, s: number): boolean {
  let q = t;
  let lowest = t;
  let i = s;
  for (;;) {
    const len = buf[q]!;
    if ((len & 0xc0) === 0xc0) {
      if (q + 1 >= limit) return false;
      const ptr = ((len & 0x3f) << 8) | buf[q + 1]!;
      if (ptr >= lowest) return false;
      lowest = ptr;
      q = ptr;
      continue;
    }
    if (len !== name[i]) return false; // also rejects 0x40/0x80 label types: name never has them
    if (len === 0) return true;
    if (q + len + 1 >= limit) return false;
    for (let k = 1; k <= len; k++) if (LOWER[buf[q + k]!] !== LOWER[name[i + k]!]) return false;
    q += len + 1;
    i += len + 1;
  }
}
