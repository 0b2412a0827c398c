// An immutable zone snapshot and its builder (RFC 1034 4.2, RFC 1035 5.2, RFC 2181, RFC 4592, RFC 6672).
//
// A snapshot is built aside (ZoneBuilder from records, ZoneEditor from an older snapshot and its
// differences, both in builder.ts), checked, and only then published (by the zone table). Nothing
// mutates a published snapshot; a new serial is a new snapshot, which may share untouched subtrees
// with the one before.

import { Type } from '../wire/constants.js';
import { labelCount, nameToLower, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { ZoneBuilder } from './builder.js';
import { ZoneDnssec } from './dnssec.js';
import { childAt, childByKey, childCount, firstRdata, getRRset, nodeKey, nodeName, type RRset, type ZoneNode } from './node.js';

export { ZoneBuilder } from './builder.js';

export class ZoneError extends Error {
  readonly code = 'ERR_ZONE';
  constructor(
    readonly zone: string,
    message: string,
  ) {
    super(`zone ${zone}: ${message}`);
    this.name = 'ZoneError';
  }
}

/** A record whose owner is not at or below the zone's apex. */
export class OutOfZoneError extends ZoneError {
  constructor(
    zone: string,
    /** The owner, in presentation form. */
    readonly owner: string,
  ) {
    super(zone, `record ${owner} is outside the zone`);
    this.name = 'OutOfZoneError';
  }
}

/** The key of a wire name in zone tables: its lower-cased wire form as a latin1 string. */
export function nameKey(name: Uint8Array): string {
  return nameToLower(name).toString("latin1");
}

export class Zone {
  /** Number of records (RRSIGs included). */
  readonly records: number;
  readonly soa: RRset;
  /** Negative caching TTL: min(SOA TTL, SOA MINIMUM) (RFC 2308 5). */
  readonly negativeTtl: number;
  /** Number of zone cuts and DNAME owners (nodes flagged NODE_DELEGATION or NODE_DNAME). */
  readonly cuts: number;
  /** Number of labels of the origin (root not counted). */
  readonly labels: number;

  constructor(
    /** Zone name in its configured spelling, wire form. */
    readonly origin: Buffer,
    readonly apex: ZoneNode,
    records: number,
    cuts: number,
  ) {
    const soa = getRRset(apex, Type.SOA);
    if (!soa) throw new ZoneError(nameToText(origin), 'no SOA at the apex');
    this.soa = soa;
    this.records = records;
    this.cuts = cuts;
    this.labels = labelCount(origin);
    const rd = firstRdata(soa);
    const minimum = rd.readUInt32BE(rd.length - 4);
    this.negativeTtl = Math.min(soa.ttl, minimum);
  }

  private dnssecInfo: ZoneDnssec | undefined;

  /**
   * Signed or not, NSEC or NSEC3, and the NSEC3 chain: derived on first use and kept with this
   * snapshot (a new snapshot, e.g. after an IXFR, derives its own).
   */
  get dnssec(): ZoneDnssec {
    return (this.dnssecInfo ??= new ZoneDnssec(this.apex));
  }

  /** Whether the zone has zone cuts or DNAMEs, for quick checks during descent. */
  get hasCuts(): boolean {
    return this.cuts > 0;
  }

  get serial(): number {
    const soa = this.soa;
    const d = soa.data;
    const p = soa.start;
    return d.readUInt32BE(p + 2 + ((d[p]! << 8) | d[p + 1]!) - 20);
  }

  get name(): string {
    return nameToText(this.origin);
  }

  /** Every record of the zone in canonical order, SOA first (for transfers and dumps). */
  *allRecords(): Generator<ResourceRecord> {
    const soa = this.soa;
    yield { owner: nodeName(this.apex), type: Type.SOA, class: 1, ttl: soa.ttl, rdata: firstRdata(soa) };
    // Depth first in canonical order, each node's children taken one at a time (the apex of a flat
    // zone has a million: pushing them all at once would be one long step of whoever iterates).
    const path: ZoneNode[] = [];
    const next: number[] = [];
    let node: ZoneNode | undefined = this.apex;
    while (node !== undefined) {
      const owner = node.sets === null ? undefined : nodeName(node);
      for (let rrset = node.sets; rrset !== null; rrset = rrset.next) {
        const type = rrset.type;
        if (node === this.apex && type === Type.SOA) continue;
        // Views of the records in the RRset's run.
        const d = rrset.data;
        let p = rrset.start;
        for (let i = rrset.count; i > 0; i--) {
          const n = (d[p]! << 8) | d[p + 1]!;
          yield { owner: owner!, type, class: 1, ttl: rrset.ttl, rdata: d.subarray(p + 2, p + 2 + n) };
          p += 2 + n;
        }
      }
      path.push(node);
      next.push(0);
      node = undefined;
      while (node === undefined && path.length > 0) {
        const top = path.length - 1;
        const parent = path[top]!;
        const i = next[top]!;
        if (i < childCount(parent)) {
          next[top] = i + 1;
          node = childAt(parent, i);
        } else {
          path.pop();
          next.pop();
        }
      }
    }
  }

  /**
   * The node with the greatest name that is <= `labels` (lower-case keys, leftmost first) in canonical
   * order (RFC 4034 6.1): what NSEC denial needs. `labels` are relative to the apex.
   */
  predecessor(labels: string[]): ZoneNode {
    let node = this.apex;
    for (let i = labels.length - 1; i >= 0; i--) {
      const key = labels[i]!;
      const next = childByKey(node, key);
      if (next) {
        node = next;
        continue;
      }
      // No such child: the predecessor is the last descendant of the greatest smaller sibling, or node.
      const n = childCount(node);
      let lo = 0;
      let hi = n; // first index with key > target
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (nodeKey(childAt(node, mid)) < key) lo = mid + 1;
        else hi = mid;
      }
      if (lo === 0) return node;
      let last = childAt(node, lo - 1);
      for (let c = childCount(last); c > 0; c = childCount(last)) last = childAt(last, c - 1);
      return last;
    }
    return node;
  }
}

/**
 * Build a zone snapshot from records. Checks (as Knot and BIND do at load): every owner at or below
 * the origin, exactly one SOA and it at the apex, NS at the apex, CNAME alone at its name (RRSIG/NSEC
 * aside) and single, one DNAME per name. Duplicate records are dropped; differing TTLs inside an
 * RRset are reduced to the first one seen (RFC 2181 5.2). A thin wrapper over ZoneBuilder, which
 * also takes the records a few at a time (AXFR, message by message).
 */
export function buildZone(origin: Buffer, records: Iterable<ResourceRecord>): Zone {
  const b = new ZoneBuilder(origin);
  for (const rr of records) b.add(rr);
  return b.finish();
}
