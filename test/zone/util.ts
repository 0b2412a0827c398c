// Helpers for the zone trie tests: random zones, a reference builder (the original whole-zone
// algorithm, quadratic and simple), a structural dump of a snapshot, and answers from the Responder.

import { Responder } from '../../src/answer/responder.js';
import { Class, Type } from '../../src/wire/constants.js';
import { encodeMessage } from '../../src/wire/message.js';
import { canonicalCompare, isSubdomain, nameFromText, nameToLower, nameToText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import {
  childAt,
  childByKey,
  childCount,
  CHUNK,
  CHUNK_MAX,
  Chunks,
  NODE_APEX,
  NODE_DELEGATION,
  NODE_DNAME,
  NODE_OCCLUDED,
  NODE_WILDCARD,
  nodeKey,
  nodeName,
  rdataOf,
  rrsetsOf,
} from '../../src/zone/node.js';
import type { ZoneNode } from '../../src/zone/node.js';
import type { Zone } from '../../src/zone/zone.js';
import { ZoneTable } from '../../src/zone/zone-table.js';
import { prng } from '../helpers/prng.js';
export { prng } from '../helpers/prng.js';

export const ORIGIN = nameFromText('Example.COM.');


export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

export function shuffle<T>(rnd: () => number, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function soaRdata(serial: number): Buffer {
  const b = Buffer.concat([nameFromText('ns.example.com.'), nameFromText('h.example.com.'), Buffer.alloc(20)]);
  b.writeUInt32BE(serial >>> 0, b.length - 20);
  b.writeUInt32BE(300, b.length - 4);
  return b;
}

export function rec(owner: string, type: number, rdata: Buffer, ttl = 3600): ResourceRecord {
  return { owner: nameFromText(owner, ORIGIN), type, class: Class.IN, ttl, rdata };
}

export const soaRec = (serial: number): ResourceRecord => rec('@', Type.SOA, soaRdata(serial));

/** RRSIG RDATA covering `covered` (the fixed fields, a signer name, a short signature). */
export function rrsig(covered: number, tag: number): Buffer {
  const fixed = Buffer.alloc(18);
  fixed.writeUInt16BE(covered, 0);
  fixed[2] = 13;
  fixed.writeUInt16BE(tag, 16);
  return Buffer.concat([fixed, nameFromText('example.com.'), Buffer.from([tag & 255, 1, 2, 3])]);
}

const LABELS = ['a', 'b', 'c', '*', 'ns', 'www', 'x-1', 'zz', '\\000', 'm'];

export interface RandomZoneOptions {
  names?: number;
  /** Also make records that break the zone rules (CNAME beside data, second DNAME, ...). */
  broken?: boolean;
  /** Vary the case of owner names. */
  mixedCase?: boolean;
}

/** Owner names relative to the origin, 1 to 3 labels. */
export function randomName(rnd: () => number, mixedCase = false): string {
  const depth = 1 + Math.floor(rnd() * 3);
  const labels: string[] = [];
  for (let i = 0; i < depth; i++) {
    let l = pick(rnd, LABELS);
    if (mixedCase && rnd() < 0.3) l = l.toUpperCase();
    labels.push(l);
  }
  return labels.join('.');
}

/** One random record at `owner` (no SOA). */
export function randomRecord(rnd: () => number, owner: string, broken: boolean): ResourceRecord {
  const ttl = pick(rnd, [60, 300, 3600]);
  const r = rnd();
  if (r < 0.3) return rec(owner, Type.A, Buffer.from([192, 0, 2, Math.floor(rnd() * 4)]), ttl);
  if (r < 0.4) return rec(owner, Type.AAAA, Buffer.alloc(16, Math.floor(rnd() * 3)), ttl);
  if (r < 0.5) return rec(owner, Type.TXT, Buffer.from([1, 0x61 + Math.floor(rnd() * 3)]), ttl);
  if (r < 0.58) return rec(owner, Type.MX, Buffer.concat([Buffer.from([0, 10]), nameFromText(`${pick(rnd, ['www', 'a.b', 'mail.example.net.'])}`, ORIGIN)]), ttl);
  if (r < 0.68) return rec(owner, Type.NS, nameFromText(pick(rnd, ['ns.a', 'ns1.example.net.', `ns.${owner}`]), ORIGIN), ttl);
  if (r < 0.72) return rec(owner, Type.DNAME, nameFromText(pick(rnd, ['example.net.', 'example.org.']), ORIGIN), ttl);
  if (r < 0.75 && broken) return rec(owner, Type.CNAME, nameFromText(pick(rnd, ['www', 'x.example.net.']), ORIGIN), ttl);
  if (r < 0.76 && broken) return rec(owner, Type.SOA, soaRdata(1), ttl);
  return rec(owner, Type.RRSIG, rrsig(pick(rnd, [Type.A, Type.TXT, Type.NS, Type.MX]), Math.floor(rnd() * 3)), ttl);
}

/** A random zone: SOA, apex NS, and `names` names with a few records each (duplicates included). */
export function randomZone(seed: number, o: RandomZoneOptions = {}): ResourceRecord[] {
  const rnd = prng(seed);
  const out: ResourceRecord[] = [soaRec(1), rec('@', Type.NS, nameFromText('ns.example.com.'))];
  const names = o.names ?? 40;
  for (let i = 0; i < names; i++) {
    const owner = randomName(rnd, o.mixedCase);
    const n = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < n; k++) out.push(randomRecord(rnd, owner, o.broken ?? false));
    if (o.mixedCase && rnd() < 0.2) out.push({ ...out[out.length - 1]!, owner: nameFromText(owner.toUpperCase(), ORIGIN) });
  }
  if (o.broken && rnd() < 0.05) out.splice(0, 1);
  if (o.broken && rnd() < 0.05) out.splice(1, 1);
  return out;
}

/**
 * Reorder `records` at random but keep the relative order of the records of each RRset (owner and
 * type), so the zone built (TTLs, RDATA order, RRSIG order) does not depend on the shuffle.
 */
export function stableShuffle(rnd: () => number, records: readonly ResourceRecord[]): ResourceRecord[] {
  const groups = new Map<string, ResourceRecord[]>();
  const order: string[] = [];
  for (const r of records) {
    const k = `${nameToLower(r.owner).toString('hex')}/${r.type}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
    order.push(k);
  }
  const at = new Map<string, number>();
  return shuffle(rnd, order).map((k) => {
    const i = at.get(k) ?? 0;
    at.set(k, i + 1);
    return groups.get(k)![i]!;
  });
}

export interface DumpedRRset {
  type: number;
  ttl: number;
  rdata: string[];
  sigs?: { ttl: number; rdata: string[] };
}

export interface DumpedNode {
  name: string;
  flags: number;
  rrsets: DumpedRRset[];
}

const hex = (b: Buffer): string => b.toString('hex');

/**
 * Everything a snapshot holds, by lower-case name in canonical order, checking the trie's own
 * invariants on the way (children in strictly ascending key order, one child held inline, the
 * wildcard flag matching a '*' child). `sigTtl: false` leaves RRSIG TTLs out.
 */
export function dump(zone: Zone, sigTtl = true): DumpedNode[] {
  const out: DumpedNode[] = [];
  const walk = (node: ZoneNode): void => {
    const sets = [...rrsetsOf(node)].sort((a, b) => a.type - b.type);
    out.push({
      name: nameToText(nodeName(node)),
      flags: node.flags,
      rrsets: sets.map((r) => {
        const d: DumpedRRset = { type: r.type, ttl: r.ttl, rdata: rdataOf(r).map(hex) };
        if (r.sigs) d.sigs = { ttl: sigTtl ? r.sigs.ttl : -1, rdata: rdataOf(r.sigs).map(hex) };
        return d;
      }),
    });
    checkKids(node);
    let prev: string | undefined;
    let star = false;
    for (let i = 0; i < childCount(node); i++) {
      const c = childAt(node, i);
      if (prev !== undefined && !(prev < nodeKey(c))) throw new Error(`${nameToText(nodeName(node))}: children out of order (${prev} then ${nodeKey(c)})`);
      if (childByKey(node, nodeKey(c)) !== c) throw new Error(`${nameToText(nodeName(c))}: not found by child()`);
      if (nodeKey(c) === '*') star = true;
      prev = nodeKey(c);
      walk(c);
    }
    if (star !== Boolean(node.flags & NODE_WILDCARD)) throw new Error(`${nameToText(nodeName(node))}: wildcard flag ${node.flags & NODE_WILDCARD} but '*' child ${star}`);
    if (rrsetsOf(node).length === 0 && childCount(node) === 0 && !(node.flags & NODE_APEX)) throw new Error(`${nameToText(nodeName(node))}: empty leaf`);
  };
  walk(zone.apex);
  return out;
}

/**
 * The shape of `node`'s children: an array of 2 to CHUNK_MAX, or (more than CHUNK) Chunks whose
 * chunks hold 1 to CHUNK_MAX each, with their first children as heads and consistent starts.
 */
function checkKids(node: ZoneNode): void {
  const k = node.kids;
  const where = nameToText(nodeName(node));
  if (Array.isArray(k) && (k.length < 2 || k.length > CHUNK_MAX)) throw new Error(`${where}: children array of ${k.length}`);
  if (!(k instanceof Chunks)) return;
  if (k.size <= CHUNK) throw new Error(`${where}: Chunks of ${k.size} children`);
  if (k.heads.length !== k.parts.length || k.starts.length !== k.parts.length + 1) throw new Error(`${where}: index lengths`);
  let at = 0;
  k.parts.forEach((part, j) => {
    if (part.length < 1 || part.length > CHUNK_MAX) throw new Error(`${where}: chunk ${j} of ${part.length}`);
    if (k.heads[j] !== part[0]) throw new Error(`${where}: head ${j} is not its chunk's first`);
    if (k.starts[j] !== at) throw new Error(`${where}: chunk ${j} starts at ${k.starts[j]}, not ${at}`);
    at += part.length;
  });
  if (k.size !== at) throw new Error(`${where}: size ${k.size}, not ${at}`);
}

/** Every record, byte for byte, in allRecords order. */
export function recordBytes(zone: Zone): string[] {
  return [...zone.allRecords()].map((r) => `${hex(r.owner)} ${r.type} ${r.class} ${r.ttl} ${hex(r.rdata)}`);
}

/**
 * The zone the original whole-zone algorithm builds, as a dump (or the error message it throws):
 * the reference the incremental builder must match.
 */
export function referenceDump(origin: Buffer, records: readonly ResourceRecord[]): DumpedNode[] | string {
  const zone = nameToText(origin);
  interface RNode {
    name: Buffer;
    lower: string;
    rrsets: { type: number; ttl: number; rdata: Buffer[]; sigs?: { ttl: number; rdata: Buffer[] } }[];
    flags: number;
  }
  const nodes = new Map<string, RNode>();
  const key = (n: Buffer): string => nameToLower(n).toString('latin1');
  const apex: RNode = { name: origin, lower: key(origin), rrsets: [], flags: NODE_APEX };
  nodes.set(apex.lower, apex);
  const sigs: { node: RNode; ttl: number; rdata: Buffer }[] = [];
  for (const rr of records) {
    if (!isSubdomain(rr.owner, origin)) return `zone ${zone}: record ${nameToText(rr.owner)} is outside the zone`;
    // The owner and every ancestor down from the apex, first spelling kept.
    for (let i = 0; rr.owner.length - i > origin.length; i += rr.owner[i]! + 1) {
      const n = rr.owner.subarray(i);
      if (!nodes.has(key(n))) nodes.set(key(n), { name: n, lower: key(n), rrsets: [], flags: 0 });
    }
    const node = nodes.get(key(rr.owner))!;
    let rrset = node.rrsets.find((r) => r.type === rr.type);
    if (!rrset) node.rrsets.push((rrset = { type: rr.type, ttl: rr.ttl, rdata: [] }));
    if (rrset.rdata.some((d) => d.equals(rr.rdata))) continue;
    rrset.rdata.push(rr.rdata);
    if (rr.type === Type.RRSIG) sigs.push({ node, ttl: rr.ttl, rdata: rr.rdata });
  }
  const soa = apex.rrsets.find((r) => r.type === Type.SOA);
  if (!soa) return `zone ${zone}: no SOA record at the zone apex`;
  if (soa.rdata.length !== 1) return `zone ${zone}: more than one SOA record`;
  if (!apex.rrsets.some((r) => r.type === Type.NS)) return `zone ${zone}: no NS records at the zone apex`;
  for (const s of sigs) {
    const target = s.node.rrsets.find((r) => r.type === s.rdata.readUInt16BE(0));
    if (!target) continue;
    target.sigs ??= { ttl: s.ttl, rdata: [] };
    target.sigs.rdata.push(s.rdata);
  }
  const sorted = [...nodes.values()].sort((a, b) => canonicalCompare(a.name, b.name));
  for (const node of sorted) {
    const where = nameToText(node.name);
    const has = (t: number) => node.rrsets.find((r) => r.type === t);
    if (node !== apex && has(Type.SOA)) return `zone ${zone}: SOA record at ${where} is not at the apex`;
    const cname = has(Type.CNAME);
    if (cname) {
      if (cname.rdata.length > 1) return `zone ${zone}: more than one CNAME at ${where}`;
      if (node.rrsets.some((r) => r.type !== Type.CNAME && r.type !== Type.RRSIG && r.type !== Type.NSEC)) return `zone ${zone}: CNAME and other data at ${where}`;
    }
    const dname = has(Type.DNAME);
    if (dname && dname.rdata.length > 1) return `zone ${zone}: more than one DNAME at ${where}`;
    if (node !== apex && has(Type.NS)) node.flags |= NODE_DELEGATION;
    if (dname) node.flags |= NODE_DNAME;
    if (node.lower.startsWith('\x01*')) {
      const parent = nodes.get(node.lower.slice(2))!;
      parent.flags |= NODE_WILDCARD;
    }
  }
  // Occluded: strictly below a node with a cut or a DNAME.
  for (const node of sorted) {
    for (let i = 0; node.name.length - i > origin.length; ) {
      i += node.name[i]! + 1;
      const anc = nodes.get(key(node.name.subarray(i)))!;
      if (anc.flags & (NODE_DELEGATION | NODE_DNAME)) node.flags |= NODE_OCCLUDED;
    }
  }
  return sorted.map((n) => ({
    name: nameToText(n.name),
    flags: n.flags,
    rrsets: [...n.rrsets]
      .sort((a, b) => a.type - b.type)
      .map((r) => {
        // An RRSIG RRset keeps its records grouped by type covered, the groups in order of first
        // appearance (each group is the signatures of one RRset, stored once).
        const rdata = r.type === Type.RRSIG ? groupByCovered(r.rdata) : r.rdata;
        const d: DumpedRRset = { type: r.type, ttl: r.ttl, rdata: rdata.map(hex) };
        if (r.sigs) d.sigs = { ttl: r.sigs.ttl, rdata: r.sigs.rdata.map(hex) };
        return d;
      }),
  }));
}

function groupByCovered(rdata: Buffer[]): Buffer[] {
  const cov = (d: Buffer): number => (d.length >= 2 ? d.readUInt16BE(0) : -1);
  const types = [...new Set(rdata.map(cov))];
  return types.flatMap((t) => rdata.filter((d) => cov(d) === t));
}

const QTYPES = [Type.A, Type.AAAA, Type.TXT, Type.NS, Type.MX, Type.CNAME, Type.DNAME, Type.DS, Type.ANY, Type.RRSIG, Type.SOA];

/** Random questions at and around the names of `records` (and names that do not exist). */
export function randomQuestions(seed: number, count: number): { name: Buffer; type: number }[] {
  const rnd = prng(seed);
  const out: { name: Buffer; type: number }[] = [];
  for (let i = 0; i < count; i++) {
    const rel = rnd() < 0.1 ? '@' : rnd() < 0.2 ? `${randomName(rnd)}.q${i}` : randomName(rnd, true);
    out.push({ name: nameFromText(rel, ORIGIN), type: pick(rnd, QTYPES) });
  }
  return out;
}

/** The Responder's answers (bytes, hex) to `questions`, from a table holding only `zone`. */
export function answers(zone: Zone, questions: readonly { name: Buffer; type: number }[]): string[] {
  const table = new ZoneTable();
  table.publish(zone);
  const r = new Responder(table, { udpPayload: 1232 });
  return questions.map((q, i) => {
    const edns = i % 2 === 0 ? { edns: { udpPayload: 1232, extendedRcode: 0, version: 0, do: i % 4 === 0, options: [] } } : {};
    const req = encodeMessage({ id: i & 0xffff, flags: 0, opcode: 0, rcode: 0, question: [{ name: q.name, type: q.type, class: Class.IN }], answer: [], authority: [], additional: [], ...edns });
    const res = r.answer(req, req.length, i % 3 === 0);
    return res === null ? 'drop' : res.toString('hex');
  });
}
