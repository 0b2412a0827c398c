// Nodes of the zone's name trie and the RRsets they own (RFC 1034 3.6, RFC 2181 5).
//
// Children are ordered and searched by the octets of their lower-cased label (RFC 4034 6.1 canonical
// order), read from the node's owner name: no key string per node.
//
// Memory is what limits the zones we can hold (a node is built per name, an RRset per owner and
// type), so there is no object per record and no spare field: a node is 4 fields (children, first
// RRset, name slab, name offset + flags), an RRset 6 (signatures, next RRset of the node, type +
// record count, TTL, slab, offset). Records, as [RDLENGTH][RDATA] runs, and owner names live in big
// slabs of the zone's (builder.ts). A node's children are null, the one child itself, or an array
// in canonical order that lookups binary-search, kept at its exact length. No parent pointer lets a
// new snapshot share untouched subtrees with the old one (IXFR path copying, see builder.ts): a
// shared node would otherwise point at the old snapshot's parent. (A 1M-record zone: about 130
// octets per record, V8 heap and slabs; see bench/zone-build.ts and bench/heap-profile.ts.)

import { LOWER } from '../wire/name.js';

/** Records an RRset may hold (Knot's limit too: its record count is 16 bits). */
export const MAX_RECORDS = 0xffff;

/** An empty run of records (an RRset being built has no bytes yet). */
const EMPTY = Buffer.alloc(0);

/**
 * One RRset. Its records are a run of `count` entries [RDLENGTH u16][RDATA] in `data` from `start`:
 * no object per record. `data` is a slab shared by many RRsets (a zone's, filled as it is built;
 * see builder.ts), never written once the RRset is in a published snapshot. The responder reads the
 * run directly; the `rdata` accessor (views, allocated on each call) is for cold paths only.
 */
export class RRset {
  /** RRSIGs covering this RRset (RFC 4034 3), attached when the zone is built. */
  sigs: RRset | undefined = undefined;
  /** The next RRset of the same node (a node's RRsets are a chain: no array per node). */
  next: RRset | null = null;
  /** The type (low 16 bits) and the number of records (high 16 bits) in one small integer field. */
  private tc: number;
  constructor(
    type: number,
    public ttl: number,
    public data: Buffer = EMPTY,
    public start = 0,
    count = 0,
  ) {
    this.tc = (type & 0xffff) | (count << 16);
  }

  get type(): number {
    return this.tc & 0xffff;
  }

  /**
   * Number of records (at most MAX_RECORDS): de-duplicated, in the order first seen (RRSIGs grouped
   * by type covered).
   */
  get count(): number {
    return this.tc >>> 16;
  }

  set count(n: number) {
    this.tc = (this.tc & 0xffff) | (n << 16);
  }

  /** An RRset of its own holding `rdata` (copied into one small Buffer). */
  static of(type: number, ttl: number, rdata: readonly Uint8Array[]): RRset {
    const data = packRuns(rdata);
    return new RRset(type, ttl, data, 0, rdata.length);
  }

  /** A copy of this RRset (records and signatures shared) followed by `next`. */
  withNext(next: RRset | null): RRset {
    const c = new RRset(this.type, this.ttl, this.data, this.start, this.count);
    c.sigs = this.sigs;
    c.next = next;
    return c;
  }

  /** Offset just past the run in `data`. */
  get end(): number {
    const d = this.data;
    let p = this.start;
    for (let i = 0; i < this.count; i++) p += 2 + ((d[p]! << 8) | d[p + 1]!);
    return p;
  }

  /** RDATA of each record as views into `data`. Allocates: not for the query path. */
  get rdata(): Buffer[] {
    const d = this.data;
    const out = new Array<Buffer>(this.count);
    let p = this.start;
    for (let i = 0; i < this.count; i++) {
      const n = (d[p]! << 8) | d[p + 1]!;
      out[i] = d.subarray(p + 2, p + 2 + n);
      p += 2 + n;
    }
    return out;
  }

  /** RDATA of the first record, as a view (cold paths). */
  first(): Buffer {
    const d = this.data;
    const p = this.start;
    return d.subarray(p + 2, p + 2 + ((d[p]! << 8) | d[p + 1]!));
  }
}

/** Octets `rdata` takes as a run of [RDLENGTH][RDATA]. */
export function runsLength(rdata: readonly Uint8Array[]): number {
  let n = 0;
  for (const r of rdata) n += 2 + r.length;
  return n;
}

/** Write `rdata` as a run of [RDLENGTH][RDATA] into `out` at `o` (runsLength(rdata) octets). */
export function writeRuns(out: Uint8Array, o: number, rdata: readonly Uint8Array[]): void {
  for (const r of rdata) {
    out[o] = r.length >>> 8;
    out[o + 1] = r.length & 0xff;
    out.set(r, o + 2);
    o += 2 + r.length;
  }
}

/** `rdata` as one run of [RDLENGTH][RDATA] in a new Buffer of its own. */
export function packRuns(rdata: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafeSlow(runsLength(rdata));
  writeRuns(out, 0, rdata);
  return out;
}

/** Node flags. */
export const NODE_APEX = 1;
/** Has NS and is not the apex: a zone cut (RFC 1034 4.2.1). */
export const NODE_DELEGATION = 2;
/** Owns a DNAME (RFC 6672). */
export const NODE_DNAME = 4;
/** Below a zone cut or a DNAME: not authoritative data, only glue. */
export const NODE_OCCLUDED = 8;
/** Has a '*' child (RFC 4592 source of synthesis): saves a search on every name error. */
export const NODE_WILDCARD = 16;

const FLAG_BITS = 5;
const FLAG_MASK = (1 << FLAG_BITS) - 1;

/** The rrsets of a node that owns none (an empty non-terminal): shared, never mutated. */
export const NO_RRSETS: readonly RRset[] = Object.freeze([]);

/** Children arrays up to this length are searched linearly (no string ordering needed). */
const LINEAR = 8;

export class ZoneNode {
  /** Children: none, one (the node itself), or two or more in canonical order. */
  kids: ZoneNode | ZoneNode[] | null = null;
  /**
   * The first RRset (null: none), the others chained by RRset.next, in the order they were added
   * (no array per node). Never mutated in a published snapshot: a change relinks copies (see the
   * rrsets setter).
   */
  sets: RRset | null = null;
  /** nameStart (high bits) and the flags (low FLAG_BITS bits) in one small integer field. */
  private sf: number;

  constructor(
    /**
     * The buffer holding the full owner name (wire form, original spelling) at `nameStart`: a slab
     * of the zone's, shared with other names (no Buffer object per node).
     */
    readonly nameData: Buffer,
    nameStart: number,
  ) {
    if (nameStart >= 1 << (31 - FLAG_BITS)) throw new RangeError('name offset out of range');
    this.sf = nameStart << FLAG_BITS;
  }

  get nameStart(): number {
    return this.sf >>> FLAG_BITS;
  }

  /** NODE_* bits. */
  get flags(): number {
    return this.sf & FLAG_MASK;
  }

  set flags(f: number) {
    this.sf = (this.sf & ~FLAG_MASK) | (f & FLAG_MASK);
  }

  /**
   * Lower-cased label (latin1), '' for the apex: a new string each time (tries are searched by the
   * octets of the name, see find(); this is for cold paths).
   */
  get key(): string {
    if (this.flags & NODE_APEX) return '';
    const d = this.nameData;
    const s = this.nameStart;
    let key = '';
    for (let i = s + 1; i <= s + d[s]!; i++) key += String.fromCharCode(LOWER[d[i]!]!);
    return key;
  }

  /** The owner name, as a view (allocates: not for the query path, which uses nameData/nameStart). */
  get name(): Buffer {
    const d = this.nameData;
    const s = this.nameStart;
    let p = s;
    while (p < d.length && d[p] !== 0) p += d[p]! + 1;
    return d.subarray(s, p + 1);
  }

  /** The RRsets as a new array (allocates: not for the query path, which follows `sets`). */
  get rrsets(): readonly RRset[] {
    const out: RRset[] = [];
    for (let r = this.sets; r !== null; r = r.next) out.push(r);
    return out.length === 0 ? NO_RRSETS : out;
  }

  /**
   * Make `list` the RRsets. The chain is built from the end: an RRset already followed by what
   * must follow it is used as it is, any other is copied (withNext), so no RRset that may be in a
   * published snapshot is modified, and an unchanged tail stays shared.
   */
  set rrsets(list: readonly RRset[]) {
    let next: RRset | null = null;
    for (let i = list.length - 1; i >= 0; i--) {
      let r = list[i]!;
      if (r.next !== next) r = r.withNext(next);
      next = r;
    }
    this.sets = next;
  }

  get rrsetCount(): number {
    let n = 0;
    for (let r = this.sets; r !== null; r = r.next) n++;
    return n;
  }

  get(type: number): RRset | undefined {
    for (let r = this.sets; r !== null; r = r.next) if (r.type === type) return r;
    return undefined;
  }

  /** The child whose label is `key` (lower-cased, latin1). */
  child(key: string): ZoneNode | undefined {
    if (key.length > 63) return undefined;
    KEY[0] = key.length;
    KEY.write(key, 1, 'latin1');
    return this.find(KEY, 0);
  }

  /** The child whose label is the lower-cased label at `s` of `lower` (length octet, then the label). */
  find(lower: Uint8Array, s: number): ZoneNode | undefined {
    const k = this.kids;
    if (k === null) return undefined;
    if (!Array.isArray(k)) return sameLabel(k, lower, s) ? k : undefined;
    const n = k.length;
    if (n <= LINEAR) {
      for (let i = 0; i < n; i++) if (sameLabel(k[i]!, lower, s)) return k[i];
      return undefined;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = k[mid]!;
      const cmp = compareLabel(c, lower, s);
      if (cmp === 0) return c;
      if (cmp < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  /** The '*' child, if any (RFC 4592 source of synthesis). */
  get wildcard(): ZoneNode | null {
    return this.flags & NODE_WILDCARD ? (this.find(STAR, 0) ?? null) : null;
  }

  /** Whether this node's label is '*' (a source of synthesis, RFC 4592). */
  get isWildcard(): boolean {
    const d = this.nameData;
    const s = this.nameStart;
    return d[s] === 1 && d[s + 1] === 0x2a && !(this.flags & NODE_APEX);
  }

  /** Number of children. */
  get childCount(): number {
    const k = this.kids;
    return k === null ? 0 : Array.isArray(k) ? k.length : 1;
  }

  /** The i-th child in canonical order (0 <= i < childCount). */
  childAt(i: number): ZoneNode {
    const k = this.kids!;
    return Array.isArray(k) ? k[i]! : k;
  }

  /** Number of children whose label sorts before the lower-cased label at `s` of `lower`. */
  lowerBound(lower: Uint8Array, s: number): number {
    const k = this.kids;
    if (k === null) return 0;
    if (Array.isArray(k)) return lowerBound(k, lower, s);
    return compareLabel(k, lower, s) < 0 ? 1 : 0;
  }

  /** Number of children whose label sorts before `node`'s: the index of `node` if it is a child. */
  indexOf(node: ZoneNode): number {
    const k = this.kids;
    if (k === null) return 0;
    if (Array.isArray(k)) return lowerBoundNode(k, node);
    return compareNodes(k, node) < 0 ? 1 : 0;
  }

  /** An empty non-terminal owns no records but has descendants (RFC 4592 2.2.2). */
  get isEmpty(): boolean {
    return this.sets === null;
  }
}

/** Scratch for child(key). */
const KEY = Buffer.alloc(64);
/** The label '*'. */
export const STAR = Buffer.from([1, 0x2a]);

/** Whether `node`'s label is the lower-cased label at `s` of `lower` (case-insensitively). */
function sameLabel(node: ZoneNode, lower: Uint8Array, s: number): boolean {
  const d = node.nameData;
  const p = node.nameStart;
  const n = d[p]!;
  if (n !== lower[s]) return false;
  for (let i = 1; i <= n; i++) if (LOWER[d[p + i]!] !== lower[s + i]) return false;
  return true;
}

/**
 * `node`'s label against the lower-cased label at `s` of `lower` in canonical order (RFC 4034 6.1:
 * octets of the lower-cased labels, a prefix first): negative, 0 or positive.
 */
export function compareLabel(node: ZoneNode, lower: Uint8Array, s: number): number {
  const d = node.nameData;
  const p = node.nameStart;
  const n = d[p]!;
  const m = lower[s]!;
  const len = n < m ? n : m;
  for (let i = 1; i <= len; i++) {
    const a = LOWER[d[p + i]!]!;
    const b = lower[s + i]!;
    if (a !== b) return a - b;
  }
  return n - m;
}

/** The labels of two nodes in canonical order: negative, 0 or positive (a comparator for sort()). */
export function compareNodes(a: ZoneNode, b: ZoneNode): number {
  const d = a.nameData;
  const p = a.nameStart;
  const e = b.nameData;
  const q = b.nameStart;
  const n = d[p]!;
  const m = e[q]!;
  const len = n < m ? n : m;
  for (let i = 1; i <= len; i++) {
    const x = LOWER[d[p + i]!]!;
    const y = LOWER[e[q + i]!]!;
    if (x !== y) return x - y;
  }
  return n - m;
}

/** Index of the first of `kids` (sorted) whose label is >= the lower-cased label at `s` of `lower`, within [lo, hi). */
export function lowerBound(kids: readonly ZoneNode[], lower: Uint8Array, s: number, lo = 0, hi = kids.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareLabel(kids[mid]!, lower, s) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first of `kids` (sorted) whose label is >= that of `node`. */
export function lowerBoundNode(kids: readonly ZoneNode[], node: ZoneNode, lo = 0, hi = kids.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNodes(kids[mid]!, node) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
