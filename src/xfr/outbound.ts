// Outbound zone transfers, the primary's side: AXFR (RFC 5936 2.2) and IXFR (RFC 1995 2, 4) answers
// as a stream of response messages, produced one at a time from an immutable snapshot.
//
//   request ─► planIxfr (client serial vs. ours and the history) ─► the records of the answer
//           ─► packMessages: records into messages of at most `maxSize` octets, names compressed
//              per message ─► (the driver signs each with TSIG and writes it with backpressure)
//
// Message layout (what Knot and BIND send): the question echoed in every message, answer records
// only, an OPT when the request had one. AA is set (RFC 5936 2.2.1 requires it with NOERROR; Knot
// 3.2 leaves it clear, which clients ignore). 16 KiB messages keep every offset reachable by a
// compression pointer and cost clients little; a record bigger than that gets a message of its own
// up to 64 KiB. No sockets, no clock, no logging here.

import { NameCompressor } from '../wire/compress.js';
import { Flag, Type } from '../wire/constants.js';
import type { ResourceRecord } from '../wire/record.js';
import { serialCompare } from '../wire/serial.js';
import type { Changeset } from '../zone/changeset.js';
import { firstRdata, nodeName } from '../zone/node.js';
import type { Zone } from '../zone/zone.js';

/** Default size of one transfer message (octets, before TSIG). */
export const TRANSFER_MESSAGE_SIZE = 16384;
const MAX_MESSAGE = 65535;
const HEADER = 12;

/** What of the request every response message repeats. */
export interface ResponseHeader {
  id: number;
  /** RD of the request (echoed). */
  rd: boolean;
  /** The question section as received: name (uncompressed), type, class. */
  question: Buffer;
  /** Add an OPT record with this UDP payload size (the request had EDNS); undefined: none. */
  ednsPayload?: number | undefined;
  /** DO bit of the request's OPT, echoed (RFC 3225). */
  ednsDo?: boolean | undefined;
}

/** Write an OPT record (RFC 6891 6.1.2, no options) at `n`; returns the offset after it. */
function writeOpt(buf: Buffer, n: number, header: ResponseHeader): number {
  buf[n] = 0;
  buf.writeUInt16BE(Type.OPT, n + 1);
  buf.writeUInt16BE(header.ednsPayload!, n + 3);
  buf.writeUInt32BE(header.ednsDo ? 0x8000 : 0, n + 5);
  buf.writeUInt16BE(0, n + 9);
  return n + 11;
}

export interface PackOptions {
  /** Soft limit of one message (default TRANSFER_MESSAGE_SIZE). */
  maxSize?: number;
  /** Octets kept free in every message for what the driver appends (the TSIG RR). */
  reserve?: number;
}

/** The SOA of a snapshot as a record. */
export function soaRecord(zone: Zone): ResourceRecord {
  return { owner: nodeName(zone.apex), type: Type.SOA, class: 1, ttl: zone.soa.ttl, rdata: firstRdata(zone.soa) };
}

/** AXFR (RFC 5936 2.2): SOA, every other record, SOA again. Also the AXFR form of an IXFR answer. */
export function* axfrRecords(zone: Zone): Generator<ResourceRecord> {
  yield* zone.allRecords();
  yield soaRecord(zone);
}

/**
 * IXFR in incremental form (RFC 1995 4): the new SOA, then per changeset the old SOA, its deletions,
 * the new SOA, its additions; then the new SOA again. `changesets` lead from the client's version
 * to `zone`, oldest first.
 */
export function* ixfrRecords(zone: Zone, changesets: readonly Changeset[]): Generator<ResourceRecord> {
  const soa = soaRecord(zone);
  yield soa;
  for (const cs of changesets) {
    yield cs.fromSoa;
    yield* cs.removed;
    yield cs.toSoa;
    yield* cs.added;
  }
  yield soa;
}

/** What an IXFR request gets (RFC 1995 2, 4). */
export type IxfrPlan =
  /** The client is current (or claims a newer serial): one message with our SOA. */
  | { kind: 'current' }
  /** The changesets from the client's serial to ours, oldest first. */
  | { kind: 'incremental'; changesets: readonly Changeset[] }
  /** No history from the client's serial: the whole zone, AXFR form. */
  | { kind: 'axfr' };

/** Decide how to answer an IXFR from `clientSerial`, given what `history` can chain to `zone`. */
export function planIxfr(zone: Zone, clientSerial: number, history: { chain(from: number, to: number): readonly Changeset[] | undefined } | undefined): IxfrPlan {
  const cmp = serialCompare(clientSerial, zone.serial);
  // Equal, or newer than ours (a client that moved on, or serials we cannot order): nothing to send
  // that would help; Knot answers with its SOA too.
  if (cmp === 0 || cmp === 1 || cmp === undefined) return { kind: 'current' };
  const chain = history?.chain(clientSerial, zone.serial);
  return chain !== undefined && chain.length > 0 ? { kind: 'incremental', changesets: chain } : { kind: 'axfr' };
}

/**
 * Pack `records` into response messages: each at most `maxSize - reserve` octets unless a single
 * record needs more, names compressed within each message. Yields each message as a new Buffer as
 * soon as it is full, so a caller can write and wait between messages.
 */
export function* packMessages(records: Iterable<ResourceRecord>, header: ResponseHeader, opts: PackOptions = {}): Generator<Buffer> {
  const opt = header.ednsPayload === undefined ? 0 : 11;
  const reserve = (opts.reserve ?? 0) + opt;
  const soft = Math.min(opts.maxSize ?? TRANSFER_MESSAGE_SIZE, MAX_MESSAGE) - reserve;
  const hard = MAX_MESSAGE - reserve;
  if (HEADER + header.question.length >= soft) throw new RangeError('no room for records in a transfer message');
  // Room for a whole message and one record past its limit (a record is at most 255 + 10 + 65535).
  const buf = Buffer.alloc(MAX_MESSAGE + 66000);
  const c = new NameCompressor();
  let o = 0;
  let count = 0;

  const begin = (): void => {
    c.reset();
    buf.writeUInt16BE(header.id, 0);
    buf.writeUInt16BE(Flag.QR | Flag.AA | (header.rd ? Flag.RD : 0), 2);
    buf.writeUInt16BE(1, 4);
    buf.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT (ANCOUNT written at the end)
    buf.writeUInt16BE(0, 10);
    header.question.copy(buf, HEADER);
    c.remember(buf, HEADER);
    o = HEADER + header.question.length;
    count = 0;
  };
  const end = (): Buffer => {
    buf.writeUInt16BE(count, 6);
    let n = o;
    if (header.ednsPayload !== undefined) {
      n = writeOpt(buf, n, header);
      buf.writeUInt16BE(1, 10);
    }
    return Buffer.from(buf.subarray(0, n));
  };
  const write = (rr: ResourceRecord): number => {
    let p = c.writeName(buf, o, rr.owner, true);
    buf.writeUInt16BE(rr.type, p);
    buf.writeUInt16BE(rr.class, p + 2);
    buf.writeUInt32BE(rr.ttl >>> 0, p + 4);
    const rdStart = p + 10;
    p = c.writeRdata(buf, rdStart, rr.type, rr.rdata);
    buf.writeUInt16BE(p - rdStart, rdStart - 2);
    return p;
  };

  begin();
  for (const rr of records) {
    let next = write(rr);
    if (next > soft && count > 0) {
      // Full: send what we have; the record opens the next message (the compressor forgets the
      // targets past the rolled-back position, so its names are written afresh).
      yield end();
      begin();
      next = write(rr);
    }
    if (next > hard) throw new RangeError('a record does not fit in a DNS message');
    o = next;
    if (++count === 0xffff) {
      yield end();
      begin();
    }
  }
  if (count > 0) yield end();
}

/** One message with no records: the header, the question, the rcode, OPT when asked (refusals, as Knot). */
export function bareResponse(header: ResponseHeader, rcode: number, opcode = 0): Buffer {
  const opt = header.ednsPayload !== undefined;
  const b = Buffer.alloc(HEADER + header.question.length + (opt ? 11 : 0));
  b.writeUInt16BE(header.id, 0);
  b.writeUInt16BE(Flag.QR | (opcode << 11) | (header.rd ? Flag.RD : 0) | (rcode & 0xf), 2);
  b.writeUInt16BE(header.question.length > 0 ? 1 : 0, 4);
  header.question.copy(b, HEADER);
  if (opt) {
    writeOpt(b, HEADER + header.question.length, header);
    b.writeUInt16BE(1, 10);
  }
  return b;
}
