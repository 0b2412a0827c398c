// Nodes of the zone's name trie and the RRsets they own (RFC 1034 3.6, RFC 2181 5).
//
// Children are keyed by their lower-cased label as a latin1 string (one octet = one UTF-16 unit), so
// JavaScript's plain string order is exactly RFC 4034 6.1 canonical label order.

export class RRset {
  /** RRSIGs covering this RRset (RFC 4034 3), attached when the zone is built. */
  sigs: RRset | undefined = undefined;
  constructor(
    readonly type: number,
    public ttl: number,
    /** Uncompressed RDATA of each record, de-duplicated, in the order first seen. */
    readonly rdata: Buffer[],
  ) {}
}

/** Node flags. */
export const NODE_APEX = 1;
/** Has NS and is not the apex: a zone cut (RFC 1034 4.2.1). */
export const NODE_DELEGATION = 2;
/** Owns a DNAME (RFC 6672). */
export const NODE_DNAME = 4;
/** Below a zone cut or a DNAME: not authoritative data, only glue. */
export const NODE_OCCLUDED = 8;

export class ZoneNode {
  children: Map<string, ZoneNode> | null = null;
  /** Children in canonical order; filled in when the zone is frozen. */
  sorted: ZoneNode[] | null = null;
  rrsets: RRset[] = [];
  flags = 0;
  /** The '*' child, if any (RFC 4592 source of synthesis). */
  wildcard: ZoneNode | null = null;

  constructor(
    /** Full owner name in wire form, original spelling. */
    readonly name: Buffer,
    /** Lower-cased label (latin1), '' for the apex. */
    readonly key: string,
    readonly parent: ZoneNode | null,
  ) {}

  get(type: number): RRset | undefined {
    const r = this.rrsets;
    for (let i = 0; i < r.length; i++) if (r[i]!.type === type) return r[i];
    return undefined;
  }

  child(key: string): ZoneNode | undefined {
    return this.children === null ? undefined : this.children.get(key);
  }

  /** An empty non-terminal owns no records but has descendants (RFC 4592 2.2.2). */
  get isEmpty(): boolean {
    return this.rrsets.length === 0;
  }
}
