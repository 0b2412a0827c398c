// An immutable zone snapshot and its builder (RFC 1034 4.2, RFC 1035 5.2, RFC 2181, RFC 4592, RFC 6672).
//
// A snapshot is built aside from a list of records, checked, frozen, and only then published (by the
// zone table). Nothing mutates a published snapshot; a new serial is a new snapshot.

import { Type } from '../wire/constants.js';
import { isSubdomain, labelCount, LOWER, nameToLower, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { NODE_APEX, NODE_DELEGATION, NODE_DNAME, NODE_OCCLUDED, RRset, ZoneNode } from './node.js';

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
  /** Positions of the zone cuts and DNAMEs, for quick checks during descent. */
  readonly hasCuts: boolean;
  /** Number of labels of the origin (root not counted). */
  readonly labels: number;

  constructor(
    /** Zone name in its configured spelling, wire form. */
    readonly origin: Buffer,
    readonly apex: ZoneNode,
    records: number,
    hasCuts: boolean,
  ) {
    const soa = apex.get(Type.SOA);
    if (!soa) throw new ZoneError(nameToText(origin), 'no SOA at the apex');
    this.soa = soa;
    this.records = records;
    this.hasCuts = hasCuts;
    this.labels = labelCount(origin);
    const rd = soa.rdata[0]!;
    const minimum = rd.readUInt32BE(rd.length - 4);
    this.negativeTtl = Math.min(soa.ttl, minimum);
  }

  get serial(): number {
    const rd = this.soa.rdata[0]!;
    return rd.readUInt32BE(rd.length - 20);
  }

  get name(): string {
    return nameToText(this.origin);
  }

  /** Every record of the zone in canonical order, SOA first (for transfers and dumps). */
  *allRecords(): Generator<ResourceRecord> {
    const soa = this.soa;
    yield { owner: this.apex.name, type: Type.SOA, class: 1, ttl: soa.ttl, rdata: soa.rdata[0]! };
    const stack: ZoneNode[] = [this.apex];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const rrset of node.rrsets) {
        if (node === this.apex && rrset.type === Type.SOA) continue;
        for (const rdata of rrset.rdata) yield { owner: node.name, type: rrset.type, class: 1, ttl: rrset.ttl, rdata };
      }
      if (node.sorted) for (let i = node.sorted.length - 1; i >= 0; i--) stack.push(node.sorted[i]!);
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
      const next = node.child(key);
      if (next) {
        node = next;
        continue;
      }
      // No such child: the predecessor is the last descendant of the greatest smaller sibling, or node.
      const sorted = node.sorted;
      if (!sorted) return node;
      let lo = 0;
      let hi = sorted.length; // first index with key > target
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid]!.key < key) lo = mid + 1;
        else hi = mid;
      }
      if (lo === 0) return node;
      let last = sorted[lo - 1]!;
      while (last.sorted && last.sorted.length > 0) last = last.sorted[last.sorted.length - 1]!;
      return last;
    }
    return node;
  }
}

/** Lower-cased labels of `name` below `origin`, leftmost first, as latin1 keys. */
function relativeKeys(name: Buffer, originLength: number): string[] {
  const keys: string[] = [];
  const stop = name.length - originLength;
  for (let i = 0; i < stop; i += name[i]! + 1) {
    const len = name[i]!;
    let k = '';
    for (let j = i + 1; j <= i + len; j++) k += String.fromCharCode(LOWER[name[j]!]!);
    keys.push(k);
  }
  return keys;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
}

/**
 * Build a zone snapshot from records. Checks (as Knot and BIND do at load): every owner at or below
 * the origin, exactly one SOA and it at the apex, NS at the apex, CNAME alone at its name (RRSIG/NSEC
 * aside) and single, one DNAME per name. Duplicate records are dropped; differing TTLs inside an
 * RRset are reduced to the first one seen (RFC 2181 5.2).
 */
export function buildZone(origin: Buffer, records: Iterable<ResourceRecord>): Zone {
  const zoneText = nameToText(origin);
  const apex = new ZoneNode(origin, '', null);
  apex.flags |= NODE_APEX;
  let count = 0;
  const sigs: { node: ZoneNode; ttl: number; rdata: Buffer }[] = [];
  for (const rr of records) {
    if (!isSubdomain(rr.owner, origin)) throw new ZoneError(zoneText, `record ${nameToText(rr.owner)} is outside the zone`);
    let node = apex;
    const keys = relativeKeys(rr.owner, origin.length);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      let next = node.child(key);
      if (!next) {
        // The node's name is the owner's suffix from label i on, in the spelling first seen.
        let start = 0;
        for (let k = 0; k < i; k++) start += rr.owner[start]! + 1;
        next = new ZoneNode(rr.owner.subarray(start), key, node);
        if (node.children === null) node.children = new Map();
        node.children.set(key, next);
        if (key === '*') node.wildcard = next;
      }
      node = next;
    }
    if (rr.type === Type.RRSIG) sigs.push({ node, ttl: rr.ttl, rdata: rr.rdata });
    let rrset = node.get(rr.type);
    if (!rrset) {
      rrset = new RRset(rr.type, rr.ttl, [rr.rdata]);
      node.rrsets.push(rrset);
      count++;
    } else if (!rrset.rdata.some((d) => sameBytes(d, rr.rdata))) {
      rrset.rdata.push(rr.rdata);
      count++;
    }
  }
  const soa = apex.get(Type.SOA);
  if (!soa) throw new ZoneError(zoneText, 'no SOA record at the zone apex');
  if (soa.rdata.length !== 1) throw new ZoneError(zoneText, 'more than one SOA record');
  if (!apex.get(Type.NS)) throw new ZoneError(zoneText, 'no NS records at the zone apex');
  // RRSIGs are grouped per covered type and attached to the RRset they cover (RFC 4035 3.1).
  for (const s of sigs) {
    const covered = s.rdata.readUInt16BE(0);
    const target = s.node.get(covered);
    if (!target) continue;
    if (!target.sigs) target.sigs = new RRset(Type.RRSIG, s.ttl, []);
    target.sigs.rdata.push(s.rdata);
  }
  let hasCuts = false;
  // Walk the tree: set flags, check per-node rules, sort children.
  const stack: { node: ZoneNode; occluded: boolean }[] = [{ node: apex, occluded: false }];
  while (stack.length > 0) {
    const { node, occluded } = stack.pop()!;
    const where = nameToText(node.name);
    if (node !== apex && node.get(Type.SOA)) throw new ZoneError(zoneText, `SOA record at ${where} is not at the apex`);
    const cname = node.get(Type.CNAME);
    if (cname) {
      if (cname.rdata.length > 1) throw new ZoneError(zoneText, `more than one CNAME at ${where}`);
      for (const r of node.rrsets) {
        if (r.type !== Type.CNAME && r.type !== Type.RRSIG && r.type !== Type.NSEC) {
          throw new ZoneError(zoneText, `CNAME and other data at ${where}`);
        }
      }
    }
    const dname = node.get(Type.DNAME);
    if (dname && dname.rdata.length > 1) throw new ZoneError(zoneText, `more than one DNAME at ${where}`);
    if (occluded) node.flags |= NODE_OCCLUDED;
    if (node !== apex && node.get(Type.NS)) {
      node.flags |= NODE_DELEGATION;
      hasCuts = true;
    }
    if (dname) {
      node.flags |= NODE_DNAME;
      hasCuts = true;
    }
    if (node.children) {
      node.sorted = [...node.children.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const below = occluded || (node.flags & (NODE_DELEGATION | NODE_DNAME)) !== 0;
      for (const c of node.sorted) stack.push({ node: c, occluded: below });
    }
  }
  return new Zone(origin, apex, count, hasCuts);
}
