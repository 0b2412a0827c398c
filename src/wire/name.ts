// Domain names (RFC 1035 3.1, 4.1.4; RFC 4343 case; RFC 4034 6.1 canonical order).
//
// A name is held as its uncompressed wire form in a Buffer: length-prefixed labels ending with the
// zero-length root label, in its original spelling. Comparisons are ASCII case-insensitive.

import { NameSyntaxError, WireFormatError } from './errors.js';

export const MAX_NAME_LENGTH = 255;
export const MAX_LABEL_LENGTH = 63;
/** Compression pointers followed while reading one name; a loop or a silly chain stops here. */
const MAX_POINTERS = 126;

export const ROOT: Buffer = Buffer.from([0]);

/** ASCII lower-case table for one octet (RFC 4343: only A-Z fold). */
export const LOWER = new Uint8Array(256);
for (let i = 0; i < 256; i++) LOWER[i] = i >= 0x41 && i <= 0x5a ? i + 0x20 : i;

/** Parse a name in presentation format. Relative names (no final dot) are completed with `origin`;
 * "@" stands for the origin. Handles `\X` and `\DDD` escapes. */
export function nameFromText(text: string, origin?: Buffer): Buffer {
  if (text === '@') {
    if (!origin) throw new NameSyntaxError('"@" used with no origin');
    return origin;
  }
  if (text === '.') return ROOT;
  if (text.length === 0) throw new NameSyntaxError('empty name');
  const out: number[] = [];
  let label: number[] = [];
  let absolute = false;
  const endLabel = (): void => {
    if (label.length === 0) throw new NameSyntaxError(`empty label in "${text}"`);
    if (label.length > MAX_LABEL_LENGTH) throw new NameSyntaxError(`label longer than 63 octets in "${text}"`);
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      endLabel();
      if (i === text.length - 1) absolute = true;
    } else if (c === 0x5c /* \ */) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        const v = Number(d);
        if (v > 255) throw new NameSyntaxError(`escape \\${d} out of range in "${text}"`);
        label.push(v);
        i += 3;
      } else if (/^[0-9]/.test(d)) {
        throw new NameSyntaxError(`escape \\${d.replace(/[^0-9].*$/, '')} needs three digits in "${text}"`);
      } else if (i + 1 < text.length) {
        label.push(text.charCodeAt(i + 1) & 0xff);
        i += 1;
      } else {
        throw new NameSyntaxError(`dangling backslash in "${text}"`);
      }
    } else {
      if (c > 0xff) throw new NameSyntaxError(`non-ASCII character in "${text}"`);
      label.push(c);
    }
  }
  if (!absolute) {
    endLabel();
    if (!origin) throw new NameSyntaxError(`relative name "${text}" with no origin`);
    for (const b of origin) out.push(b);
  } else {
    out.push(0);
  }
  if (out.length > MAX_NAME_LENGTH) throw new NameSyntaxError(`name longer than 255 octets: "${text}"`);
  return Buffer.from(out);
}

/** Presentation format of a wire name, absolute (with the final dot), escaping what needs it. */
export function nameToText(name: Uint8Array, offset = 0): string {
  let s = '';
  let i = offset;
  for (;;) {
    const len = name[i]!;
    if (len === 0) break;
    for (let j = i + 1; j <= i + len; j++) {
      const c = name[j]!;
      if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) {
        s += '\\' + String.fromCharCode(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        s += '\\' + String(c).padStart(3, '0');
      } else {
        s += String.fromCharCode(c);
      }
    }
    s += '.';
    i += len + 1;
  }
  return s === '' ? '.' : s;
}

/** Length in octets of the uncompressed wire name starting at `offset` of `buf`. */
export function nameLength(buf: Uint8Array, offset = 0): number {
  let i = offset;
  while (buf[i] !== 0) i += buf[i]! + 1;
  return i - offset + 1;
}

/** Number of labels, not counting the root. */
export function labelCount(name: Uint8Array): number {
  let n = 0;
  for (let i = 0; name[i] !== 0; i += name[i]! + 1) n++;
  return n;
}

/** A lower-cased copy (the canonical form of RFC 4034 6.2 for names). */
export function nameToLower(name: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(name.length);
  for (let i = 0; i < name.length; i++) out[i] = LOWER[name[i]!]!;
  // Length octets are < 0x41 only when <= 63, so folding them is harmless (63 = 0x3f).
  return out;
}

/** Case-insensitive equality of two wire names. */
export function nameEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (LOWER[a[i]!] !== LOWER[b[i]!]) return false;
  return true;
}

/** True when `name` is `parent` or below it (case-insensitive). */
export function isSubdomain(name: Uint8Array, parent: Uint8Array): boolean {
  if (name.length < parent.length) return false;
  // Walk label boundaries of name until the remaining suffix has parent's length.
  let i = 0;
  while (name.length - i > parent.length) i += name[i]! + 1;
  if (name.length - i !== parent.length) return false;
  for (let j = 0; j < parent.length; j++) if (LOWER[name[i + j]!] !== LOWER[parent[j]!]) return false;
  return true;
}

/**
 * isSubdomain() for the uncompressed names at `start` of `buf` and `parentStart` of `parent` (say
 * inside stored RDATA or a slab of names).
 */
export function isSubdomainAt(buf: Uint8Array, start: number, parent: Uint8Array, parentStart = 0): boolean {
  const end = nameEndAt(buf, start);
  const plen = nameEndAt(parent, parentStart) - parentStart;
  if (end - start < plen) return false;
  let i = start;
  while (end - i > plen) i += buf[i]! + 1;
  if (end - i !== plen) return false;
  for (let j = 0; j < plen; j++) if (LOWER[buf[i + j]!] !== LOWER[parent[parentStart + j]!]) return false;
  return true;
}

/** Offset just past the uncompressed name at `start` of `buf`. */
function nameEndAt(buf: Uint8Array, start: number): number {
  let end = start;
  while (end < buf.length && buf[end] !== 0) end += buf[end]! + 1;
  return end + 1;
}

/** The name with its first `n` labels removed (a view, not a copy). */
export function stripLabels(name: Buffer, n: number): Buffer {
  let i = 0;
  for (let k = 0; k < n && name[i] !== 0; k++) i += name[i]! + 1;
  return name.subarray(i);
}

/** Prepend one label (given as raw octets) to a name. */
export function prependLabel(label: Uint8Array, name: Uint8Array): Buffer {
  if (label.length > MAX_LABEL_LENGTH) throw new NameSyntaxError('label longer than 63 octets');
  const out = Buffer.allocUnsafe(1 + label.length + name.length);
  out[0] = label.length;
  out.set(label, 1);
  out.set(name, 1 + label.length);
  return out;
}

/** Labels of a wire name, left to right, as views. */
export function labels(name: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; name[i] !== 0; i += name[i]! + 1) out.push(name.subarray(i + 1, i + 1 + name[i]!));
  return out;
}

/** RFC 4034 6.1 canonical order: compare label by label from the right, as lower-case octet strings. */
export function canonicalCompare(a: Buffer, b: Buffer): number {
  const la = labels(a);
  const lb = labels(b);
  let i = la.length - 1;
  let j = lb.length - 1;
  for (; i >= 0 && j >= 0; i--, j--) {
    const x = la[i]!;
    const y = lb[j]!;
    const n = Math.min(x.length, y.length);
    for (let k = 0; k < n; k++) {
      const d = LOWER[x[k]!]! - LOWER[y[k]!]!;
      if (d !== 0) return d;
    }
    if (x.length !== y.length) return x.length - y.length;
  }
  return la.length - lb.length;
}

/**
 * Reads possibly compressed names from messages (RFC 1035 4.1.4) into a buffer of the caller's: no
 * allocation per name. Pointers must point strictly backwards (so no loop is possible) and at most
 * MAX_POINTERS are followed; labels are <= 63 octets and the name <= 255.
 */
export class NameReader {
  /** Octets of the last name read (uncompressed, the root label included). */
  length = 0;
  /** Offset just past the last name read, in the message. */
  next = 0;

  /** Read the name at `offset` of `msg` into `out` from `o` (room for MAX_NAME_LENGTH octets needed). */
  read(msg: Uint8Array, offset: number, out: Uint8Array, o: number): void {
    const o0 = o;
    let pos = offset;
    let next = -1;
    let pointers = 0;
    let lowest = offset; // every pointer must go below the start of what we have read so far
    for (;;) {
      if (pos >= msg.length) throw new WireFormatError('name runs past the end of the message');
      const len = msg[pos]!;
      if (len === 0) {
        out[o++] = 0;
        if (next < 0) next = pos + 1;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (pos + 1 >= msg.length) throw new WireFormatError('compression pointer runs past the end');
        const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
        if (target >= lowest) throw new WireFormatError('compression pointer does not point backwards');
        if (++pointers > MAX_POINTERS) throw new WireFormatError('too many compression pointers');
        if (next < 0) next = pos + 2;
        lowest = target;
        pos = target;
        continue;
      }
      if (kind !== 0) throw new WireFormatError('unknown label type');
      if (pos + 1 + len > msg.length) throw new WireFormatError('label runs past the end of the message');
      if (o - o0 + 1 + len + 1 > MAX_NAME_LENGTH) throw new WireFormatError('name longer than 255 octets');
      out[o++] = len;
      for (let k = 1; k <= len; k++) out[o++] = msg[pos + k]!;
      pos += len + 1;
    }
    this.length = o - o0;
    this.next = next;
  }
}

const nameReader = new NameReader();
const nameScratch = Buffer.allocUnsafe(MAX_NAME_LENGTH);

/** Read a possibly compressed name (see NameReader): the name in a Buffer of its own, and the offset just past it. */
export function readName(msg: Uint8Array, offset: number): { name: Buffer; next: number } {
  nameReader.read(msg, offset, nameScratch, 0);
  return { name: Buffer.from(nameScratch.subarray(0, nameReader.length)), next: nameReader.next };
}

/**
 * Offset just past the possibly compressed name at `offset` of `msg`, checking only that its labels
 * and its pointer lie inside the message (NameReader checks the rest when the name is read).
 */
export function skipName(msg: Uint8Array, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= msg.length) throw new WireFormatError('name runs past the end of the message');
    const len = msg[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw new WireFormatError('compression pointer runs past the end');
      return pos + 2;
    }
    if (len & 0xc0) throw new WireFormatError('unknown label type');
    pos += len + 1;
  }
}
