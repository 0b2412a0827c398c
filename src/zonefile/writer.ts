// Master-file writer (RFC 1035 5, RFC 3597 5): records as `owner TTL CLASS TYPE rdata` lines that
// BIND 9 and Knot DNS both load and that our reader turns back into identical RDATA.
//
// A type gets its presentation format when BIND and Knot both know it and the RDATA can be expressed
// in it; anything else (unknown types, MB/MG/MR/PX that Knot lacks, NULL, RDATA the text form cannot
// carry) is written as `TYPEnnn \# LEN HEX`, which every RFC 3597 parser accepts.

import { Type, classToText } from '../wire/constants.js';
import { LOWER, nameEquals, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { codecOf, genericRdataText, presentRdata, typeText } from './rdata-text.js';

/** `TYPE<tab>RDATA` of a record: presentation format when portable and possible, else RFC 3597. */
export function formatTypeAndRdata(type: number, rdata: Buffer): string {
  const codec = codecOf(type);
  if (codec?.portable) {
    const text = presentRdata(type, rdata);
    if (text !== undefined) return text === '' ? typeText(type) : `${typeText(type)}\t${text}`;
  }
  return `${typeText(type)}\t${genericRdataText(rdata)}`;
}

/** One record as a master-file line (no newline), owner absolute. */
export function formatRecord(rr: ResourceRecord): string {
  return `${nameToText(rr.owner)}\t${rr.ttl}\t${classToText(rr.class)}\t${formatTypeAndRdata(rr.type, rr.rdata)}`;
}

// Canonical keys are built here and read out as latin1 strings: comparing those strings with `<`
// compares the octets, and is much cheaper than Buffer.compare over a million owners.
const keyScratch = Buffer.allocUnsafe(2 * 255 + 128);

/**
 * A sort key whose order is the RFC 4034 6.1 canonical name order: labels from the right,
 * lower-cased, each octet escaped so that 0x00 can end a label (0x00 -> 01 01, 0x01 -> 01 02).
 * Two names have the same key exactly when they are equal ignoring case.
 */
function canonicalKey(name: Buffer): string {
  const starts: number[] = [];
  for (let i = 0; name[i] !== 0; i += name[i]! + 1) starts.push(i);
  let o = 0;
  for (let k = starts.length - 1; k >= 0; k--) {
    const s = starts[k]!;
    for (let j = s + 1; j <= s + name[s]!; j++) {
      const c = LOWER[name[j]!]!;
      if (c <= 1) {
        keyScratch[o++] = 1;
        keyScratch[o++] = c + 1;
      } else keyScratch[o++] = c;
    }
    keyScratch[o++] = 0;
  }
  return keyScratch.toString('latin1', 0, o);
}

interface OwnerGroup {
  key: string;
  owner: Buffer;
  records: ResourceRecord[];
}

/**
 * The lines of a zone in master-file form: a `$ORIGIN` line for readers' comfort, the apex SOA
 * first, then every other record in canonical name order, grouped by type (RDATA order within an
 * RRset kept). Names are absolute, so the text does not depend on the $ORIGIN line.
 */
export function* zoneLines(records: readonly ResourceRecord[], origin: Buffer): Generator<string> {
  const soa: ResourceRecord[] = [];
  const groups = new Map<string, OwnerGroup>();
  let lastOwner: Buffer | undefined;
  let last: OwnerGroup | undefined;
  for (const rr of records) {
    if (rr.type === Type.SOA && nameEquals(rr.owner, origin)) {
      soa.push(rr);
      continue;
    }
    // Records of one owner usually share one Buffer and come together: skip the key then.
    if (rr.owner !== lastOwner || !last) {
      const key = canonicalKey(rr.owner);
      last = groups.get(key);
      if (!last) groups.set(key, (last = { key, owner: rr.owner, records: [] }));
      lastOwner = rr.owner;
    }
    last.records.push(rr);
  }
  const sorted = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  yield `$ORIGIN ${nameToText(origin)}`;
  for (const rr of soa) yield formatRecord(rr);
  for (const g of sorted) {
    const owner = nameToText(g.owner);
    // Array.prototype.sort is stable: RDATA order within an RRset is kept.
    const rrs = g.records.length > 1 ? g.records.sort((a, b) => a.type - b.type) : g.records;
    for (const rr of rrs) {
      // The group is case-insensitive; a record spelled differently keeps its own spelling.
      const text = rr.owner === g.owner || rr.owner.equals(g.owner) ? owner : nameToText(rr.owner);
      yield `${text}\t${rr.ttl}\t${classToText(rr.class)}\t${formatTypeAndRdata(rr.type, rr.rdata)}`;
    }
  }
}

/** A whole zone as master-file text (see zoneLines for the order). */
export function formatZone(records: readonly ResourceRecord[], origin: Buffer): string {
  return formatZoneBuffer(records, origin).toString('latin1');
}

/**
 * The same as octets (every line is ASCII: names and strings are escaped). Lines are copied into
 * one growing buffer: with a million records, concatenating strings costs more than formatting.
 */
export function formatZoneBuffer(records: readonly ResourceRecord[], origin: Buffer): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(4096, records.length * 48));
  let o = 0;
  for (const line of zoneLines(records, origin)) {
    if (o + line.length + 1 > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, o + line.length + 1));
      buf.copy(bigger, 0, 0, o);
      buf = bigger;
    }
    o += buf.write(line, o, 'latin1');
    buf[o++] = 0x0a;
  }
  return buf.subarray(0, o);
}
