// Builders for hand-made transfer responses (RFC 1035 4.1, RFC 5936 2.2, RFC 1995 4) and zone comparison, shared by the xfr tests.

import { Class, Flag, Opcode, Type } from '../../src/wire/constants.js';
import { encodeMessage } from '../../src/wire/message.js';
import type { Message, Question } from '../../src/wire/message.js';
import { nameFromText, nameToLower, nameToText } from '../../src/wire/name.js';
import { canonicalRdata } from '../../src/wire/rdata.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { buildZone } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import { TransferError } from '../../src/xfr/errors.js';
import type { FailureReason } from '../../src/xfr/errors.js';

export const ORIGIN = nameFromText('example.com.');

export interface SoaParts {
  mname?: string;
  rname?: string;
  refresh?: number;
  retry?: number;
  expire?: number;
  minimum?: number;
}

export function soaRdata(serial: number, p: SoaParts = {}): Buffer {
  const b = Buffer.concat([nameFromText(p.mname ?? 'ns1.example.com.'), nameFromText(p.rname ?? 'hostmaster.example.com.'), Buffer.alloc(20)]);
  const o = b.length - 20;
  b.writeUInt32BE(serial >>> 0, o);
  b.writeUInt32BE(p.refresh ?? 7200, o + 4);
  b.writeUInt32BE(p.retry ?? 3600, o + 8);
  b.writeUInt32BE(p.expire ?? 1209600, o + 12);
  b.writeUInt32BE(p.minimum ?? 300, o + 16);
  return b;
}

export function soa(serial: number, p: SoaParts = {}, owner = 'example.com.'): ResourceRecord {
  return { owner: nameFromText(owner), type: Type.SOA, class: Class.IN, ttl: 3600, rdata: soaRdata(serial, p) };
}

export function rr(owner: string, type: number, rdata: Buffer, ttl = 3600): ResourceRecord {
  return { owner: nameFromText(owner, ORIGIN), type, class: Class.IN, ttl, rdata };
}

export const a = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number));
export const A = (owner: string, ip: string, ttl = 3600): ResourceRecord => rr(owner, Type.A, a(ip), ttl);
export const NS = (owner: string, target: string): ResourceRecord => rr(owner, Type.NS, nameFromText(target, ORIGIN));

/** A small valid zone body (no SOA): apex NS and a few names. */
export function body(): ResourceRecord[] {
  return [NS('@', 'ns1'), NS('@', 'ns2'), A('ns1', '192.0.2.1'), A('ns2', '192.0.2.2'), A('www', '192.0.2.80'), A('www', '192.0.2.81'), rr('www', Type.TXT, Buffer.from('\x05hello'))];
}

export interface ResponseOptions {
  qtype?: number;
  /** The question section; default: the zone with `qtype`. null: none. */
  question?: Question[] | null;
  flags?: number;
  rcode?: number;
  opcode?: number;
  authority?: ResourceRecord[];
}

/** One response message with `answer`, encoded. Defaults: QR+AA, NOERROR, the question echoed. */
export function response(id: number, answer: ResourceRecord[], o: ResponseOptions = {}): Buffer {
  const msg: Message = {
    id,
    flags: o.flags ?? Flag.QR | Flag.AA,
    opcode: o.opcode ?? Opcode.QUERY,
    rcode: o.rcode ?? 0,
    question: o.question === null ? [] : (o.question ?? [{ name: ORIGIN, type: o.qtype ?? Type.AXFR, class: Class.IN }]),
    answer,
    authority: o.authority ?? [],
    additional: [],
  };
  return encodeMessage(msg);
}

/** `records` split into messages of `per` answer records; only the first carries the question. */
export function split(id: number, records: ResourceRecord[], per: number, qtype: number = Type.AXFR): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < records.length; i += per) {
    out.push(response(id, records.slice(i, i + per), i === 0 ? { qtype } : { qtype, question: null }));
  }
  return out;
}

/** One line per record in a form that ignores name case and compression: for comparing zones. */
export function recordKey(r: ResourceRecord): string {
  return `${nameToText(nameToLower(r.owner))} ${r.ttl} ${r.class} ${r.type} ${canonicalRdata(r.rdata, r.type).toString('hex')}`;
}

/** The zone's records as sorted keys. */
export function zoneKeys(z: Zone): string[] {
  return [...z.allRecords()].map(recordKey).sort();
}

/** A zone built from records, as sorted keys (duplicates dropped, RRset TTLs unified like the zone does). */
export function recordsKeys(origin: Buffer, records: Iterable<ResourceRecord>): string[] {
  return zoneKeys(buildZone(origin, records));
}

/** The assertions expectReason needs (structural, so any tap Test fits). */
export interface Asserts {
  ok(v: unknown, msg: string): unknown;
  equal(a: unknown, b: unknown, msg: string): unknown;
  fail(msg: string): unknown;
}

/** `fn` must throw a TransferError with reason `want`. Returns the error. */
export function expectReason(t: Asserts, fn: () => unknown, want: FailureReason, msg: string): TransferError | undefined {
  try {
    fn();
    t.fail(`${msg}: no error`);
    return undefined;
  } catch (err) {
    t.ok(err instanceof TransferError, `${msg}: TransferError`);
    t.equal((err as TransferError).reason, want, `${msg}: ${(err as Error).message}`);
    t.equal((err as TransferError).code, 'ERR_TRANSFER', `${msg}: code`);
    return err as TransferError;
  }
}
