// Nodes of the zone's name trie and the RRsets they own (RFC 1034 3.6, RFC 2181 5).
//
// Children are keyed by their lower-cased label as a latin1 string (one octet = one UTF-16 unit), so
// JavaScript's plain string order is exactly RFC 4034 6.1 canonical label order.
//
// Memory is what limits the zones we can hold (a node is built per name, an RRset per owner and
// type), so a node keeps no Map, no parent pointer and no spare fields: its children are null, the
// one child itself, or an array in canonical order that lookups binary-search. Arrays are kept at
// their exact length where they are small (most are), since a grown V8 array carries 16 spare slots.
// No parent pointer also lets a new snapshot share untouched subtrees with the old one (IXFR path
// copying, see builder.ts): a shared node would otherwise point at the old snapshot's parent.

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
  constructor(
    readonly type: number,
    public ttl: number,
    public data: Buffer = EMPTY,
    public start = 0,
    /** Number of records: de-duplicated, in the order first seen (RRSIGs grouped by type covered). */
    public count = 0,
  ) {}

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

/** `rdata` as one run of [RDLENGTH][RDATA] in a new Buffer of its own. */
export function packRuns(rdata: readonly Uint8Array[]): Buffer {
  let n = 0;
  for (const r of rdata) n += 2 + r.length;
  const out = Buffer.allocUnsafeSlow(n);
  let o = 0;
  for (const r of rdata) {
    out[o] = r.length >>> 8;
    out[o + 1] = r.length & 0xff;
    out.set(r, o + 2);
    o += 2 + r.length;
  }
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

export class ZoneNode {
  /** Children: none, one (the node itself), or two or more in canonical order. */
  kids: ZoneNode | ZoneNode[] | null = null;
  /**
   * The first RRset (null: none), the others chained by RRset.next, in the order they were added
   * (no array per node). Never mutated in a published snapshot: a change relinks copies (see the
   * rrsets setter).
   */
  sets: RRset | null = null;
  flags = 0;

  constructor(
    /**
     * The buffer holding the full owner name (wire form, original spelling) at `nameStart`: a slab
     * of the zone's, shared with other names (no Buffer object per node).
     */
    readonly nameData: Buffer,
    readonly nameStart: number,
    /** Lower-cased label (latin1), '' for the apex. */
    readonly key: string,
  ) {}

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

  child(key: string): ZoneNode | undefined {
    const k = this.kids;
    if (k === null) return undefined;
    if (!Array.isArray(k)) return k.key === key ? k : undefined;
    const n = k.length;
    if (n <= LINEAR) {
      for (let i = 0; i < n; i++) if (k[i]!.key === key) return k[i];
      return undefined;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = k[mid]!;
      const mk = c.key;
      if (mk === key) return c;
      if (mk < key) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  /** The '*' child, if any (RFC 4592 source of synthesis). */
  get wildcard(): ZoneNode | null {
    return this.flags & NODE_WILDCARD ? (this.child('*') ?? null) : null;
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

  /** An empty non-terminal owns no records but has descendants (RFC 4592 2.2.2). */
  get isEmpty(): boolean {
    return this.sets === null;
  }
}

/** Index of the first child whose key is >= `key` in `kids` (sorted), within [lo, hi). */
export function lowerBound(kids: readonly ZoneNode[], key: string, lo = 0, hi = kids.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (kids[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
