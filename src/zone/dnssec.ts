// What authenticated denial of existence needs from a zone snapshot (RFC 4034 4, 6.1; RFC 4035 2.3,
// 3.1.3; RFC 5155 5, 7.2): whether the zone is signed and with NSEC or NSEC3, the NSEC3 parameters,
// NSEC3 hashing, the NSEC3 chain as a sorted array, and the NSEC that covers a name.
//
// A snapshot is immutable, so what is derived from it is computed once, lazily (the first DO=1 query
// that needs it), and kept on the snapshot (Zone.dnssec): an IXFR builds a new Zone, which starts
// with nothing cached, so nothing can outlive the data it came from.
//
// NSEC3 records live in the trie like any other (so transfers, dumps and changesets need nothing
// special): their owners are children of the apex whose label is the base32hex hash. Since children
// are kept in canonical order, the NSEC3 owners among them are already in hash order; the chain is
// that subsequence, searched by binary search on the 32-character labels.

import { Type } from '../wire/constants.js';
import { childAt, childCount, childIndex, childrenBefore, findChild, firstRdata, getRRset, NODE_DELEGATION, nodeKey, STAR, type ZoneNode } from './node.js';

/** Unsigned (or signed without a denial chain): served as unsigned. */
export const DENIAL_NONE = 0;
/** NSEC chain (RFC 4034 4). */
export const DENIAL_NSEC = 1;
/** NSEC3 chain with the apex's NSEC3PARAM (RFC 5155). */
export const DENIAL_NSEC3 = 2;

/** Hashes remembered per snapshot before the cache is emptied. */
const HASH_CACHE = 50_000;

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** RFC 4648 7 base32hex, lower case, no padding (RFC 5155 3.3: how a hash is written in an owner). */
export function base32hex(b: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b.length; i++) {
    acc = ((acc << 8) | b[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32HEX[(acc >>> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32HEX[(acc << (5 - bits)) & 31];
  return out;
}

// SHA-1 (FIPS 180-4 6.1, RFC 3174) for the short inputs of NSEC3 hashing: a name and a salt, at most
// 510 octets. node:crypto costs about a microsecond a call in crossing to C++ and back, and a name
// takes 1 + iterations calls; this one works in place in preallocated words and allocates nothing.
const SHA1_BLOCKS = new Uint8Array(576);
const SHA1_BLOCK_VIEW = new DataView(SHA1_BLOCKS.buffer);
const SHA1_W = new Int32Array(80);
const SHA1_H = new Int32Array(5);

/** SHA-1 of `input[0, len)` into `out[0, 20)`. */
export function sha1(input: Uint8Array, len: number, out: Uint8Array): void {
  const m = SHA1_BLOCKS;
  const total = ((len + 8) >>> 6) + 1; // 64-octet blocks after padding
  if (total * 64 > m.length) throw new RangeError('sha1: input too long for NSEC3 hashing');
  m.set(input.subarray(0, len), 0);
  m[len] = 0x80;
  m.fill(0, len + 1, total * 64 - 8);
  SHA1_BLOCK_VIEW.setUint32(total * 64 - 8, Math.floor(len / 0x20000000));
  SHA1_BLOCK_VIEW.setUint32(total * 64 - 4, (len * 8) >>> 0);
  const h = SHA1_H;
  h[0] = 0x67452301;
  h[1] = 0xefcdab89 | 0;
  h[2] = 0x98badcfe | 0;
  h[3] = 0x10325476;
  h[4] = 0xc3d2e1f0 | 0;
  const w = SHA1_W;
  for (let blk = 0; blk < total; blk++) {
    const o = blk * 64;
    for (let t = 0; t < 16; t++) w[t] = SHA1_BLOCK_VIEW.getInt32(o + t * 4);
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
  }
  for (let i = 0; i < 5; i++) {
    const v = h[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = (v >>> 16) & 0xff;
    out[i * 4 + 2] = (v >>> 8) & 0xff;
    out[i * 4 + 3] = v & 0xff;
  }
}

const IH_INPUT = new Uint8Array(512);

/**
 * RFC 5155 5: IH(salt, x, 0) = H(x || salt), IH(salt, x, k) = H(IH(salt, x, k-1) || salt), hashed
 * `iterations` times beyond the first, with H = SHA-1 (algorithm 1). `name` is the owner in
 * canonical (lower-case) wire form.
 */
export function nsec3Hash(name: Uint8Array, salt: Uint8Array, iterations: number): Buffer {
  const input = IH_INPUT;
  const out = Buffer.alloc(20);
  input.set(name, 0);
  input.set(salt, name.length);
  sha1(input, name.length + salt.length, out);
  for (let i = 0; i < iterations; i++) {
    input.set(out, 0);
    input.set(salt, 20);
    sha1(input, 20 + salt.length, out);
  }
  return out;
}

/** A node that owns an NSEC3 RRset and nothing below it: a member of the chain, not a name of the zone. */
export function isNsec3Owner(node: ZoneNode): boolean {
  return node.kids === null && getRRset(node, Type.NSEC3) !== undefined;
}

export class ZoneDnssec {
  /** DENIAL_NONE, DENIAL_NSEC or DENIAL_NSEC3. */
  readonly denial: number;
  readonly salt: Buffer = Buffer.alloc(0);
  readonly iterations: number = 0;
  private keys: string[] | undefined;
  private nodes: ZoneNode[] = [];
  private readonly hashes = new Map<string, string>();

  constructor(private readonly apex: ZoneNode) {
    // Signed means a signed SOA (what Knot checks); the denial kind comes from the apex: NSEC3PARAM
    // (RFC 5155 4) names the NSEC3 chain's parameters, an NSEC there means an NSEC chain.
    const soa = getRRset(apex, Type.SOA);
    const paramSet = getRRset(apex, Type.NSEC3PARAM);
    const param = paramSet && firstRdata(paramSet);
    if (soa?.sigs === undefined) {
      this.denial = DENIAL_NONE;
    } else if (param !== undefined && param.length >= 5 && param[0] === 1 && param.length >= 5 + param[4]!) {
      this.denial = DENIAL_NSEC3;
      this.iterations = param.readUInt16BE(2);
      this.salt = Buffer.from(param.subarray(5, 5 + param[4]!));
    } else if (getRRset(apex, Type.NSEC) !== undefined) {
      this.denial = DENIAL_NSEC;
    } else {
      this.denial = DENIAL_NONE;
    }
  }

  /** The base32hex NSEC3 hash of the lower-cased wire name `lower[start, end)` (cached). */
  hash(lower: Buffer, start: number, end: number): string {
    const key = lower.toString('latin1', start, end);
    let h = this.hashes.get(key);
    if (h === undefined) {
      h = base32hex(nsec3Hash(lower.subarray(start, end), this.salt, this.iterations));
      if (this.hashes.size >= HASH_CACHE) this.hashes.clear();
      this.hashes.set(key, h);
    }
    return h;
  }

  /** The NSEC3 owner whose hash is `hash` (RFC 5155 7.2.3: it matches the name), if any. */
  match(hash: string): ZoneNode | undefined {
    const keys = this.chain();
    const i = lowerBoundKeys(keys, hash);
    return i < keys.length && keys[i] === hash ? this.nodes[i] : undefined;
  }

  /**
   * The NSEC3 that covers `hash` (RFC 5155 3.1.7): the greatest owner hash below it, the last one
   * when it is below them all (the chain is a ring). Undefined when `hash` itself is an owner (the
   * name exists: nothing covers it) or the chain is empty.
   */
  cover(hash: string): ZoneNode | undefined {
    const keys = this.chain();
    if (keys.length === 0) return undefined;
    const i = lowerBoundKeys(keys, hash);
    if (i < keys.length && keys[i] === hash) return undefined;
    return this.nodes[i === 0 ? keys.length - 1 : i - 1];
  }

  /** Number of NSEC3 records in the chain (for tests). */
  get chainLength(): number {
    return this.chain().length;
  }

  private chain(): string[] {
    if (this.keys !== undefined) return this.keys;
    const keys: string[] = [];
    const nodes: ZoneNode[] = [];
    const apex = this.apex;
    for (let i = 0, n = childCount(apex); i < n; i++) {
      const c = childAt(apex, i);
      if (c.nameData[c.nameStart] === 32 && isNsec3Owner(c)) {
        keys.push(nodeKey(c));
        nodes.push(c);
      }
    }
    this.nodes = nodes;
    this.keys = keys;
    return keys;
  }
}

function lowerBoundKeys(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Nodes a search for a covering NSEC may look at. In a well-formed NSEC chain a handful do (every
 * name with data owns an NSEC, an empty non-terminal has such a name below it); a zone missing NSECs
 * must not make each query walk it all, so past this the proof is left out.
 */
const NSEC_SEARCH_BUDGET = 1000;
let budget = 0;

/** The last node of `node`'s subtree in canonical order that owns an NSEC (none below a cut do). */
function lastWithNsec(node: ZoneNode): ZoneNode | undefined {
  if (--budget < 0) return undefined;
  if (!(node.flags & NODE_DELEGATION)) {
    for (let j = childCount(node) - 1; j >= 0 && budget >= 0; j--) {
      const r = lastWithNsec(childAt(node, j));
      if (r !== undefined) return r;
    }
  }
  return getRRset(node, Type.NSEC) !== undefined ? node : undefined;
}

/**
 * The node whose NSEC covers or matches a name (RFC 4035 3.1.3): the name's own node when it exists
 * (unless `strict`), else the greatest node before the name in canonical order (RFC 4034 6.1) that
 * owns an NSEC: empty non-terminals and names below cuts own none, so they are stepped over.
 *
 * The name is labels `first` to `count - 1` of the lower-cased wire name `lower` (label offsets in
 * `starts`), the last `zoneLabels` of them the zone's origin; with `star`, a '*' label is put in front
 * (the source of synthesis below that name, RFC 4592). The walk goes down the trie once and then back
 * over the smaller siblings' last descendants: O(depth × log(children)) for a well-formed chain, and
 * never more than NSEC_SEARCH_BUDGET nodes otherwise (undefined then: no proof).
 */
export function nsecCovering(
  apex: ZoneNode,
  lower: Buffer,
  starts: Int32Array,
  first: number,
  count: number,
  zoneLabels: number,
  star: boolean,
  strict: boolean,
): ZoneNode | undefined {
  const path: ZoneNode[] = [apex];
  let node = apex;
  budget = NSEC_SEARCH_BUDGET;
  const rel = count - zoneLabels; // labels first .. rel-1 are below the apex
  let limit = -1;
  for (let i = rel - 1; i >= first - (star ? 1 : 0); i--) {
    // The label: the name's, or '*'.
    const buf = i >= first ? lower : STAR;
    const s = i >= first ? starts[i]! : 0;
    const next = findChild(node, buf, s);
    if (next === undefined) {
      limit = childrenBefore(node, buf, s);
      break;
    }
    node = next;
    path.push(node);
  }
  let self = true;
  if (limit < 0) {
    // The name exists: its own NSEC, or (strict) the one before it.
    if (!strict) return node;
    limit = 0;
    self = false;
  }
  for (let level = path.length - 1; budget >= 0; level--) {
    const n = path[level]!;
    for (let j = limit - 1; j >= 0 && budget >= 0; j--) {
      const r = lastWithNsec(childAt(n, j));
      if (r !== undefined) return r;
    }
    if (budget < 0) break;
    if (self && getRRset(n, Type.NSEC) !== undefined) return n;
    self = true;
    if (level === 0) return undefined;
    limit = childIndex(path[level - 1]!, n);
  }
  return undefined;
}
