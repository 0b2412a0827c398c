// Zone differences and their application: the changesets of an incremental transfer (RFC 1995 4;
// RFC 1982 for the serial chain), applied to a snapshot to build the next one aside.
//
// The snapshot being served is never touched: applyChangesets returns a new Zone, and any error
// leaves the caller with the old one and a typed ChangesetError (the refresh code then falls back to
// AXFR). The rules are strict, as Knot's are: a deletion of a record we do not hold, or an addition
// of one we already hold, means our copy and the primary's history disagree, so our copy may be
// wrong in places the changeset does not mention either; a full transfer repairs that, while
// skipping the record would keep serving a zone nobody published. Records match on owner
// (case-insensitive), type and canonical RDATA (RFC 4034 6.2); TTLs do not take part, so a TTL
// change is a deletion plus an addition of the same record.

import { Class, Type } from '../wire/constants.js';
import { isSubdomain, LOWER, nameEquals, nameToText } from '../wire/name.js';
import { canonicalRdata } from '../wire/rdata.js';
import type { ResourceRecord } from '../wire/record.js';
import { serialCompare, serialGt } from '../wire/serial.js';
import { ZoneEditor } from './builder.js';
import { childByKey, getRRset, rdataOf, type RRset, type ZoneNode } from './node.js';
import { nameKey, ZoneError } from './zone.js';
import type { Zone } from './zone.js';

/** One step of a zone's history: the records that go from version `fromSerial` to `toSerial`. */
export interface Changeset {
  fromSerial: number;
  toSerial: number;
  /** SOA of the version the changes apply to. */
  fromSoa: ResourceRecord;
  /** SOA of the version they produce. */
  toSoa: ResourceRecord;
  /** Records deleted (SOA excluded: it is `fromSoa`). */
  removed: ResourceRecord[];
  /** Records added (SOA excluded: it is `toSoa`). */
  added: ResourceRecord[];
}

export type ChangesetErrorReason =
  /** A changeset does not start at the serial the previous one (or the zone) ends at, or goes backwards. */
  | 'serial-chain'
  /** A from/to SOA is not the zone's SOA, or its serial is not the changeset's. */
  | 'soa-mismatch'
  /** A deletion of a record that is not in the zone. */
  | 'missing-record'
  /** An addition of a record already in the zone. */
  | 'duplicate-record'
  /** A record outside the zone, of another class, or an SOA among the deletions/additions. */
  | 'bad-record'
  /** The result fails the checks every snapshot must pass (buildZone). */
  | 'zone-check';

export class ChangesetError extends Error {
  readonly code = 'ERR_CHANGESET';
  constructor(
    readonly reason: ChangesetErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChangesetError';
  }
}

/** What happened to one record (owner, type, canonical RDATA) across all the changesets so far. */
interface Delta {
  /** The rrset of the current zone holding it, if it is there. */
  base: RRset | undefined;
  /** The record as first seen in a changeset. */
  record: ResourceRecord;
  /** Key of its RRset (owner and type). */
  rrsetKey: string;
  canon: string;
  removedBase: boolean;
  added: ResourceRecord | undefined;
}

/** One RRset the changesets change, with its records deleted (canonical RDATA) and added. */
interface Group {
  owner: Buffer;
  type: number;
  gone: Set<string>;
  added: ResourceRecord[];
}

function soaSerial(rr: ResourceRecord): number {
  return rr.rdata.readUInt32BE(rr.rdata.length - 20);
}

/** The node of `owner` (at or below the apex) in the snapshot, or undefined. */
function findNode(zone: Zone, owner: Buffer): ZoneNode | undefined {
  const starts: number[] = [];
  const stop = owner.length - zone.origin.length;
  for (let i = 0; i < stop; i += owner[i]! + 1) starts.push(i);
  let node: ZoneNode | undefined = zone.apex;
  for (let k = starts.length - 1; k >= 0 && node; k--) {
    const s = starts[k]!;
    let key = '';
    for (let j = s + 1; j <= s + owner[s]!; j++) key += String.fromCharCode(LOWER[owner[j]!]!);
    node = childByKey(node, key);
  }
  return node;
}

/**
 * Build the snapshot that `changesets` (oldest first) turn `zone` into. Throws ChangesetError; `zone`
 * is never modified. No changesets: `zone` itself is returned.
 *
 * Cost: O(change), not O(zone). Each changed RRset is rebuilt whole and the nodes on the path from
 * the apex to its name are copied (ZoneEditor); every other node and RRset is shared with `zone`.
 * Lookups of the changed records go through the trie and, for big RRsets, a set built once. The
 * zone checks run on the changed names (CNAME and other data, one CNAME, one DNAME, NS at the apex),
 * and the occlusion flags below a cut that appears or goes away are recomputed for its subtree.
 */
export function applyChangesets(zone: Zone, changesets: readonly Changeset[]): Zone {
  if (changesets.length === 0) return zone;
  const origin = zone.origin;
  const where = nameToText(origin);

  // The serial chain first: it is cheap and its failure is the usual one (a primary that diffed from
  // another version than ours).
  let serial = zone.serial;
  let prevTo: ResourceRecord | undefined;
  changesets.forEach((cs, i) => {
    for (const [soa, s, what] of [[cs.fromSoa, cs.fromSerial, 'from'], [cs.toSoa, cs.toSerial, 'to']] as const) {
      if (soa.type !== Type.SOA || !nameEquals(soa.owner, origin) || soa.rdata.length < 22) {
        throw new ChangesetError('soa-mismatch', `changeset ${i}: the ${what} SOA is not an SOA of ${where}`);
      }
      if (serialCompare(soaSerial(soa), s) !== 0) {
        throw new ChangesetError('soa-mismatch', `changeset ${i}: the ${what} SOA has serial ${soaSerial(soa)}, not ${s}`);
      }
    }
    if (serialCompare(cs.fromSerial, serial) !== 0) {
      throw new ChangesetError('serial-chain', `changeset ${i} starts at serial ${cs.fromSerial}, expected ${serial}`);
    }
    if (!serialGt(cs.toSerial, cs.fromSerial)) {
      throw new ChangesetError('serial-chain', `changeset ${i} goes from serial ${cs.fromSerial} to ${cs.toSerial}, which is not newer`);
    }
    // Within one transfer the SOA that closes a step is the one that opens the next, field for field.
    if (prevTo && !canonicalRdata(prevTo.rdata, Type.SOA).equals(canonicalRdata(cs.fromSoa.rdata, Type.SOA))) {
      throw new ChangesetError('soa-mismatch', `changeset ${i}: its from SOA differs from the to SOA of changeset ${i - 1}`);
    }
    prevTo = cs.toSoa;
    serial = cs.toSerial;
  });

  // Net effect of all changesets per record. Only changed records are looked at here: O(change).
  const deltas = new Map<string, Delta>();
  const bigSets = new Map<RRset, Set<string>>();
  const inBase = (rrset: RRset | undefined, canon: string): boolean => {
    if (!rrset) return false;
    if (rrset.count <= 8) return rdataOf(rrset).some((d) => canonicalRdata(d, rrset.type).toString('latin1') === canon);
    let set = bigSets.get(rrset);
    if (!set) {
      set = new Set(rdataOf(rrset).map((d) => canonicalRdata(d, rrset.type).toString('latin1')));
      bigSets.set(rrset, set);
    }
    return set.has(canon);
  };
  const deltaOf = (rr: ResourceRecord, i: number, what: string): Delta => {
    if (rr.type === Type.SOA) throw new ChangesetError('bad-record', `changeset ${i}: SOA among the ${what} records`);
    if (rr.class !== Class.IN) throw new ChangesetError('bad-record', `changeset ${i}: record of class ${rr.class} among the ${what}`);
    if (!isSubdomain(rr.owner, origin)) throw new ChangesetError('bad-record', `changeset ${i}: ${nameToText(rr.owner)} is outside ${where}`);
    const canon = canonicalRdata(rr.rdata, rr.type).toString('latin1');
    // Owner keys are self-delimiting (they end in the root label), so this concatenation is unambiguous.
    const rrsetKey = nameKey(rr.owner) + String.fromCharCode(rr.type >>> 8, rr.type & 0xff);
    const key = rrsetKey + canon;
    let d = deltas.get(key);
    if (!d) {
      const node = findNode(zone, rr.owner);
      const rrset = node && getRRset(node, rr.type);
      d = { base: inBase(rrset, canon) ? rrset : undefined, record: rr, rrsetKey, canon, removedBase: false, added: undefined };
      deltas.set(key, d);
    }
    return d;
  };
  const describe = (rr: ResourceRecord): string => `${nameToText(rr.owner)} type ${rr.type}`;

  changesets.forEach((cs, i) => {
    for (const rr of cs.removed) {
      const d = deltaOf(rr, i, 'deleted');
      if (d.added) d.added = undefined;
      else if (d.base && !d.removedBase) d.removedBase = true;
      else throw new ChangesetError('missing-record', `changeset ${i} (serial ${cs.fromSerial} to ${cs.toSerial}) deletes ${describe(rr)}, which is not in the zone`);
    }
    for (const rr of cs.added) {
      const d = deltaOf(rr, i, 'added');
      if (d.added || (d.base && !d.removedBase)) {
        throw new ChangesetError('duplicate-record', `changeset ${i} (serial ${cs.fromSerial} to ${cs.toSerial}) adds ${describe(rr)}, which is already in the zone`);
      }
      d.added = rr;
    }
  });

  // The RRsets that change, each rebuilt whole: the additions first (so that, where an RRset ends up
  // mixing both, it takes the TTL of the new records: RFC 2181 5.2, one TTL per RRset), then what is
  // left of the old one. Everything else is shared with the old snapshot (ZoneEditor).
  const groups = new Map<string, Group>();
  for (const d of deltas.values()) {
    if (!d.removedBase && !d.added) continue;
    let g = groups.get(d.rrsetKey);
    if (!g) {
      const rr = d.added ?? d.record;
      g = { owner: rr.owner, type: rr.type, gone: new Set(), added: [] };
      groups.set(d.rrsetKey, g);
    }
    if (d.removedBase) g.gone.add(d.canon);
    if (d.added) g.added.push(d.added);
  }

  const editor = new ZoneEditor(zone);
  for (const g of groups.values()) {
    const node = findNode(zone, g.owner);
    const old = node && getRRset(node, g.type);
    const rdata = g.added.map((rr) => editor.copy(rr.rdata));
    if (old) {
      for (const d of rdataOf(old)) if (g.gone.size === 0 || !g.gone.has(canonicalRdata(d, old.type).toString('latin1'))) rdata.push(d);
    }
    editor.put(g.owner, g.type, g.added.length > 0 ? g.added[0]!.ttl : old!.ttl, rdata);
  }
  const finalSoa = changesets[changesets.length - 1]!.toSoa;
  editor.put(origin, Type.SOA, finalSoa.ttl, [editor.copy(finalSoa.rdata)]);

  try {
    return editor.finish();
  } catch (err) {
    if (err instanceof ZoneError) throw new ChangesetError('zone-check', `after the changes, ${err.message}`, { cause: err });
    throw err;
  }
}
