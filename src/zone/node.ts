// Nodes of the zone's name trie and the RRsets they own (RFC 1034 3.6, RFC 2181 5).
//
// Children are ordered and searched by the octets of their lower-cased label (RFC 4034 6.1 canonical
// order), read from the node's owner name: no key string per node.
//
// Memory is what limits the zones we can hold (a node is built per name, an RRset per owner and
// type), so there is no object per record and no spare field: a node is 5 fields (children, first
// RRset, name slab, name offset, flags), an RRset 7 (signatures, next RRset of the node, type,
// record count, TTL, slab, offset). Records, as [RDLENGTH][RDATA] runs, and owner names live in big
// slabs of the zone's (builder.ts).
//
// Nodes and RRsets are plain objects, each kind made by one object literal (newNode, newRRset) and
// read by the functions here, not class instances: V8 tracks where literals are allocated and, once
// most objects of a site survive its minor GCs, allocates them in the old generation directly. A
// 1M-record transfer builds 1.75M of them that all survive; as class instances each was copied twice
// by minor GCs (139 minor GCs, 212 ms, in a 1M-record AXFR; 14 and 39 ms as literals). No parent pointer lets a new snapshot share untouched subtrees
// with the old one (IXFR path copying, see builder.ts): a shared node would otherwise point at the
// old snapshot's parent. (A 1M-record zone: about 130 octets per record, V8 heap and slabs; see
// bench/zone-build.ts and bench/heap-profile.ts.)
//
// A node's children are null, the one child itself, an array in canonical order that lookups
// binary-search, kept at its exact length, or, for a wide node (more than CHUNK_MAX children),
// Chunks: that order cut into arrays of at most CHUNK_MAX, found by a binary search over the first
// child of each, then one inside the chunk. A path copy of a wide node copies only its index of
// chunks, a change to its children only the chunk it changes: an IXFR adding a name under a node of
// 750k children copies a few thousand references, not 750k (bench/ixfr-apply.ts).

import { LOWER } from '../wire/name.js';

/** Records an RRset may hold (Knot's limit too: its record count is 16 bits). */
export const MAX_RECORDS = 0xffff;

/** An empty run of records (an RRset being built has no bytes yet). */
const EMPTY = Buffer.alloc(0);

/**
 * One RRset (made by newRRset). Its records are a run of `count` entries [RDLENGTH u16][RDATA] in
 * `data` from `start`: no object per record. `data` is a slab shared by many RRsets (a zone's,
 * filled as it is built; see builder.ts), never written once the RRset is in a published snapshot.
 * The responder reads the run directly; rdataOf() (views, allocated on each call) is for cold paths.
 */
export interface RRset {
  /** RRSIGs covering this RRset (RFC 4034 3), attached when the zone is built. */
  sigs: RRset | undefined;
  /** The next RRset of the same node (a node's RRsets are a chain: no array per node). */
  next: RRset | null;
  readonly type: number;
  /**
   * Number of records (at most MAX_RECORDS): de-duplicated, in the order first seen (RRSIGs grouped
   * by type covered).
   */
  count: number;
  ttl: number;
  data: Buffer;
  start: number;
}

/** A new RRset (its `count` records at `start` of `data`), followed by nothing and unsigned. */
export function newRRset(type: number, ttl: number, data: Buffer = EMPTY, start = 0, count = 0): RRset {
  return { sigs: undefined, next: null, type, count, ttl, data, start };
}

/** An RRset of its own holding `rdata` (copied into one small Buffer). */
export function rrsetOf(type: number, ttl: number, rdata: readonly Uint8Array[]): RRset {
  return newRRset(type, ttl, packRuns(rdata), 0, rdata.length);
}

/** A copy of `r` (records and signatures shared) followed by `next`. */
function withNext(r: RRset, next: RRset | null): RRset {
  const c = newRRset(r.type, r.ttl, r.data, r.start, r.count);
  c.sigs = r.sigs;
  c.next = next;
  return c;
}

/** Offset just past the run of `r` in its `data`. */
export function runEnd(r: RRset): number {
  const d = r.data;
  let p = r.start;
  for (let i = 0; i < r.count; i++) p += 2 + ((d[p]! << 8) | d[p + 1]!);
  return p;
}

/** RDATA of each record of `r` as views into its `data`. Allocates: not for the query path. */
export function rdataOf(r: RRset): Buffer[] {
  const d = r.data;
  const out = new Array<Buffer>(r.count);
  let p = r.start;
  for (let i = 0; i < r.count; i++) {
    const n = (d[p]! << 8) | d[p + 1]!;
    out[i] = d.subarray(p + 2, p + 2 + n);
    p += 2 + n;
  }
  return out;
}

/** RDATA of the first record of `r`, as a view (cold paths). */
export function firstRdata(r: RRset): Buffer {
  const d = r.data;
  const p = r.start;
  return d.subarray(p + 2, p + 2 + ((d[p]! << 8) | d[p + 1]!));
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

/** The rrsets of a node that owns none (an empty non-terminal): shared, never mutated. */
export const NO_RRSETS: readonly RRset[] = Object.freeze([]);

/** Children arrays up to this length are searched linearly (no string ordering needed). */
const LINEAR = 8;

/** A node of the trie (made by newNode), read by the functions below. */
export interface ZoneNode {
  /** Children: none, one (the node itself), two or more in canonical order, or a wide node's chunks. */
  kids: ZoneNode | ZoneNode[] | Chunks | null;
  /**
   * The first RRset (null: none), the others chained by RRset.next, in the order they were added
   * (no array per node). Never mutated in a published snapshot: a change relinks copies (see
   * setRRsets).
   */
  sets: RRset | null;
  /**
   * The buffer holding the full owner name (wire form, original spelling) at `nameStart`: a slab
   * of the zone's, shared with other names (no Buffer object per node).
   */
  readonly nameData: Buffer;
  readonly nameStart: number;
  /** NODE_* bits. */
  flags: number;
}

/** A new node without children or RRsets, its owner name at `nameStart` of `nameData`. */
export function newNode(nameData: Buffer, nameStart: number, flags = 0): ZoneNode {
  return { kids: null, sets: null, nameData, nameStart, flags };
}

/**
 * Lower-cased label of `node` (latin1), '' for the apex: a new string each time (tries are searched
 * by the octets of the name, see findChild(); this is for cold paths).
 */
export function nodeKey(node: ZoneNode): string {
  if (node.flags & NODE_APEX) return '';
  const d = node.nameData;
  const s = node.nameStart;
  let key = '';
  for (let i = s + 1; i <= s + d[s]!; i++) key += String.fromCharCode(LOWER[d[i]!]!);
  return key;
}

/** The owner name of `node`, as a view (allocates: not for the query path, which uses nameData/nameStart). */
export function nodeName(node: ZoneNode): Buffer {
  const d = node.nameData;
  const s = node.nameStart;
  let p = s;
  while (p < d.length && d[p] !== 0) p += d[p]! + 1;
  return d.subarray(s, p + 1);
}

/** The RRsets of `node` as a new array (allocates: not for the query path, which follows `sets`). */
export function rrsetsOf(node: ZoneNode): readonly RRset[] {
  const out: RRset[] = [];
  for (let r = node.sets; r !== null; r = r.next) out.push(r);
  return out.length === 0 ? NO_RRSETS : out;
}

/**
 * Make `list` the RRsets of `node`. The chain is built from the end: an RRset already followed by
 * what must follow it is used as it is, any other is copied (withNext), so no RRset that may be in a
 * published snapshot is modified, and an unchanged tail stays shared.
 */
export function setRRsets(node: ZoneNode, list: readonly RRset[]): void {
  let next: RRset | null = null;
  for (let i = list.length - 1; i >= 0; i--) {
    let r = list[i]!;
    if (r.next !== next) r = withNext(r, next);
    next = r;
  }
  node.sets = next;
}

/** The RRset of `type` at `node`. */
export function getRRset(node: ZoneNode, type: number): RRset | undefined {
  for (let r = node.sets; r !== null; r = r.next) if (r.type === type) return r;
  return undefined;
}

/** The child of `node` whose label is `key` (lower-cased, latin1). */
export function childByKey(node: ZoneNode, key: string): ZoneNode | undefined {
  if (key.length > 63) return undefined;
  KEY[0] = key.length;
  KEY.write(key, 1, 'latin1');
  return findChild(node, KEY, 0);
}

/** The child of `node` whose label is the lower-cased label at `s` of `lower` (length octet, then the label). */
export function findChild(node: ZoneNode, lower: Uint8Array, s: number): ZoneNode | undefined {
  const k = node.kids;
  if (k === null) return undefined;
  if (Array.isArray(k)) {
    const n = k.length;
    if (n <= LINEAR) {
      for (let i = 0; i < n; i++) if (sameLabel(k[i]!, lower, s)) return k[i];
      return undefined;
    }
    const i = search(k, lower, s);
    return i < 0 ? undefined : k[i];
  }
  if (!isChunks(k)) return sameLabel(k, lower, s) ? k : undefined;
  const i = search(k.heads, lower, s);
  if (i >= 0) return k.heads[i];
  if (i === -1) return undefined;
  // In the last chunk whose first child is before the label.
  const part = k.parts[-i - 2]!;
  const at = search(part, lower, s);
  return at < 0 ? undefined : part[at];
}

/** The '*' child of `node`, if any (RFC 4592 source of synthesis). */
export function wildcardChild(node: ZoneNode): ZoneNode | null {
  return node.flags & NODE_WILDCARD ? (findChild(node, STAR, 0) ?? null) : null;
}

/** Whether the label of `node` is '*' (a source of synthesis, RFC 4592). */
export function isWildcard(node: ZoneNode): boolean {
  const d = node.nameData;
  const s = node.nameStart;
  return d[s] === 1 && d[s + 1] === 0x2a && !(node.flags & NODE_APEX);
}

/** Number of children of `node`. */
export function childCount(node: ZoneNode): number {
  const k = node.kids;
  return k === null ? 0 : Array.isArray(k) ? k.length : isChunks(k) ? k.size : 1;
}

/** The i-th child of `node` in canonical order (0 <= i < childCount). */
export function childAt(node: ZoneNode, i: number): ZoneNode {
  const k = node.kids!;
  if (Array.isArray(k)) return k[i]!;
  if (!isChunks(k)) return k;
  const j = k.chunkAt(i);
  return k.parts[j]![i - k.starts[j]!]!;
}

/** Number of children of `node` whose label sorts before the lower-cased label at `s` of `lower`. */
export function childrenBefore(node: ZoneNode, lower: Uint8Array, s: number): number {
  const k = node.kids;
  if (k === null) return 0;
  if (Array.isArray(k)) return lowerBound(k, lower, s);
  if (!isChunks(k)) return compareLabel(k, lower, s) < 0 ? 1 : 0;
  // The last chunk whose first child is <= the label.
  const i = search(k.heads, lower, s);
  const j = i >= 0 ? i : -i - 2;
  return j < 0 ? 0 : k.starts[j]! + lowerBound(k.parts[j]!, lower, s);
}

/** Number of children of `parent` whose label sorts before `node`'s: the index of `node` if it is one. */
export function childIndex(parent: ZoneNode, node: ZoneNode): number {
  const k = parent.kids;
  if (k === null) return 0;
  if (Array.isArray(k)) return lowerBoundNode(k, node);
  if (!isChunks(k)) return compareNodes(k, node) < 0 ? 1 : 0;
  const j = k.chunkFor(node);
  return k.starts[j]! + lowerBoundNode(k.parts[j]!, node);
}

/** Scratch for childByKey(). */
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
 * The index in `kids` (sorted) of the node whose label is the lower-cased label at `s` of `lower`;
 * if there is none, -1 - the index where it would go.
 */
function search(kids: readonly ZoneNode[], lower: Uint8Array, s: number): number {
  let lo = 0;
  let hi = kids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareLabel(kids[mid]!, lower, s);
    if (cmp === 0) return mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1 - lo;
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

/** Children arrays longer than this are kept as Chunks, and no chunk is longer. */
export const CHUNK_MAX = 1024;
/**
 * Length of the chunks Chunks.of makes (at most) and a split leaves; a wide node left with no more
 * children than this goes back to one array.
 */
export const CHUNK = CHUNK_MAX / 2;

/**
 * Whether `kids` are a wide node's Chunks. (Not `instanceof`, which V8 does not inline there: in
 * findChild() it cost about 50 ns a call, a sixth of a whole search of 750k children.)
 */
export function isChunks(kids: ZoneNode | ZoneNode[] | Chunks | null): kids is Chunks {
  return kids !== null && kids.constructor === Chunks;
}

/** A new exact-length copy of `arr` with `x` inserted at `pos`. */
export function insertAt<T>(arr: readonly T[], pos: number, x: T): T[] {
  const n = arr.length;
  const out = new Array<T>(n + 1);
  for (let i = 0; i < pos; i++) out[i] = arr[i]!;
  out[pos] = x;
  for (let i = pos; i < n; i++) out[i + 1] = arr[i]!;
  return out;
}

/** A new exact-length copy of `arr` without its element at `pos`. */
function removeAt<T>(arr: readonly T[], pos: number): T[] {
  const n = arr.length - 1;
  const out = new Array<T>(n);
  for (let i = 0; i < pos; i++) out[i] = arr[i]!;
  for (let i = pos; i < n; i++) out[i] = arr[i + 1]!;
  return out;
}

/** Children `kids` (sorted) as a node keeps them: an exact-length copy, or Chunks past CHUNK_MAX. */
export function packChildren(kids: readonly ZoneNode[]): ZoneNode[] | Chunks {
  return kids.length > CHUNK_MAX ? Chunks.of(kids) : kids.slice();
}

/**
 * The children of a wide node in canonical order, cut into chunks: `parts[j]` holds 1 to CHUNK_MAX
 * of them, `heads[j]` is its first (what findChild() searches first), `starts[j]` the index of that one
 * among all the children; one more entry of `starts` is their number.
 *
 * Like everything in a published snapshot, a Chunks and its chunks are never modified. An editor
 * (ZoneEditor) changes a copy() of a node's Chunks, which shares the chunks: set(), insert() and
 * remove() copy the one chunk they change unless it is in `owned`, the chunks the editor made (which
 * they add to), and change those in place. A chunk is split in two when it grows past CHUNK_MAX; one
 * that shrinks goes when it is left empty, or joins its smaller neighbour when the two fit in CHUNK,
 * so that deletions do not leave a trail of small chunks.
 */
export class Chunks {
  private constructor(
    readonly parts: ZoneNode[][],
    readonly heads: ZoneNode[],
    readonly starts: number[],
  ) {}

  /** `kids` (sorted, more than CHUNK) cut into chunks of CHUNK / 2 to CHUNK, of their own. */
  static of(kids: readonly ZoneNode[]): Chunks {
    const n = kids.length;
    const m = Math.ceil(n / CHUNK);
    const parts: ZoneNode[][] = [];
    const heads: ZoneNode[] = [];
    const starts: number[] = [];
    for (let j = 0; j < m; j++) {
      const a = Math.floor((j * n) / m);
      parts.push(kids.slice(a, Math.floor(((j + 1) * n) / m)));
      heads.push(kids[a]!);
      starts.push(a);
    }
    starts.push(n);
    return new Chunks(parts, heads, starts);
  }

  /** Number of children. */
  get size(): number {
    return this.starts[this.parts.length]!;
  }

  /** The chunk holding the i-th child (0 <= i < size). */
  chunkAt(i: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = this.parts.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** The chunk where the child with `node`'s label is or would go: the last whose head is <= it, or the first. */
  chunkFor(node: ZoneNode): number {
    const heads = this.heads;
    let lo = 1;
    let hi = heads.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareNodes(heads[mid]!, node) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** A copy of the index (parts, heads, starts) sharing the chunks: an editor's, see above. */
  copy(): Chunks {
    return new Chunks(this.parts.slice(), this.heads.slice(), this.starts.slice());
  }

  /** Put `child` in place of the child with the same label. */
  set(child: ZoneNode, owned: Set<ZoneNode[]>): void {
    const j = this.chunkFor(child);
    let part = this.parts[j]!;
    if (!owned.has(part)) {
      part = this.parts[j] = part.slice();
      owned.add(part);
    }
    const i = lowerBoundNode(part, child);
    part[i] = child;
    if (i === 0) this.heads[j] = child;
  }

  /** Add a new child. */
  insert(child: ZoneNode, owned: Set<ZoneNode[]>): void {
    const j = this.chunkFor(child);
    let part = this.parts[j]!;
    const i = lowerBoundNode(part, child);
    if (owned.has(part)) {
      part.splice(i, 0, child);
    } else {
      part = this.parts[j] = insertAt(part, i, child);
      owned.add(part);
    }
    this.heads[j] = part[0]!;
    const starts = this.starts;
    for (let x = j + 1; x < starts.length; x++) starts[x]++;
    if (part.length > CHUNK_MAX) {
      const rest = part.splice(CHUNK);
      owned.add(rest);
      this.parts.splice(j + 1, 0, rest);
      this.heads.splice(j + 1, 0, rest[0]!);
      starts.splice(j + 1, 0, starts[j]! + CHUNK);
    }
  }

  /** Remove the child `child`. */
  remove(child: ZoneNode, owned: Set<ZoneNode[]>): void {
    const { parts, heads, starts } = this;
    const j = this.chunkFor(child);
    let part = parts[j]!;
    const i = lowerBoundNode(part, child);
    if (owned.has(part)) {
      part.splice(i, 1);
    } else {
      part = parts[j] = removeAt(part, i);
      owned.add(part);
    }
    for (let x = j + 1; x < starts.length; x++) starts[x]--;
    // The smaller neighbour.
    const other = j + 1 < parts.length && (j === 0 || parts[j + 1]!.length < parts[j - 1]!.length) ? j + 1 : j - 1;
    if (part.length === 0) {
      parts.splice(j, 1);
      heads.splice(j, 1);
      starts.splice(j, 1);
    } else if (other >= 0 && part.length + parts[other]!.length <= CHUNK) {
      const a = Math.min(j, other);
      const joined = parts[a]!.concat(parts[a + 1]!);
      owned.add(joined);
      parts.splice(a, 2, joined);
      heads.splice(a, 2, joined[0]!);
      starts.splice(a + 1, 1);
    } else {
      heads[j] = part[0]!;
    }
  }
}
