// What AXFR (RFC 5936) and IXFR (RFC 1995) answers have in common: a stream of response messages
// checked one by one under limits, and an AXFR-form body built into a snapshot up to its closing SOA.

import { Class, Flag, Type } from '../wire/constants.js';
import { isSubdomainAt, nameEquals, nameToText } from '../wire/name.js';
import { canonicalRdata } from '../wire/rdata.js';
import type { Message } from '../wire/message.js';
import type { RecordReader, ResourceRecord } from '../wire/record.js';
import { serialCompare } from '../wire/serial.js';
import { OutOfZoneError, ZoneBuilder, ZoneError } from '../zone/zone.js';
import type { Zone } from '../zone/zone.js';
import { TransferError } from './errors.js';
import type { MessageVerifier } from './errors.js';
import { checkResponse, decodeResponse, finishTsig } from './response.js';

/** Options every transfer session takes. */
export interface TransferOptions {
  /** Zone name (wire form) we asked for. */
  zone: Buffer;
  /** ID of our request. */
  id: number;
  /** Most answer records accepted over the whole transfer (both SOAs and every IXFR SOA count). */
  maxRecords: number;
  /** Most octets accepted over the whole transfer (sum of the messages, TCP length prefixes not counted). */
  maxBytes: number;
  /** TSIG verifier for the transfer, when the primary has a key. */
  verifier?: MessageVerifier;
}

/** Message-level checks and counters of one transfer's response stream. */
export class ResponseStream {
  messages = 0;
  records = 0;
  bytes = 0;

  constructor(
    private readonly o: TransferOptions,
    private readonly qtype: number,
  ) {
    if (!Number.isInteger(o.maxRecords) || o.maxRecords < 1) throw new RangeError('maxRecords must be a positive integer');
    if (!Number.isInteger(o.maxBytes) || o.maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  }

  /**
   * Check the next message of the stream and return it decoded (with `lazyAnswer`, its answer
   * records left for a RecordReader: see DecodeOptions).
   */
  next(raw: Buffer, lazyAnswer = false): Message {
    // The byte limit is checked before decoding so an oversized stream costs us no parsing.
    this.bytes += raw.length;
    if (this.bytes > this.o.maxBytes) throw new TransferError('too-many-bytes', `transfer exceeds ${this.o.maxBytes} octets`);
    const msg = decodeResponse(raw, lazyAnswer);
    // RFC 5936 2.2.1: the first message echoes the question; later ones may leave it out.
    checkResponse(raw, msg, { zone: this.o.zone, id: this.o.id, qtype: this.qtype }, this.o.verifier, this.messages === 0);
    // Transfers run over TCP, where a truncated message can only mean a broken server (RFC 5936 2.2.1).
    if (msg.flags & Flag.TC) throw new TransferError('truncated', 'TC bit set in a transfer message');
    this.messages++;
    this.records += msg.answerCount ?? msg.answer.length;
    if (this.records > this.o.maxRecords) throw new TransferError('too-many-records', `transfer exceeds ${this.o.maxRecords} records`);
    return msg;
  }

  finish(): void {
    finishTsig(this.o.verifier);
  }
}

/**
 * Every transferred record must lie at or below the apex (RFC 1034 4.2: that is what a zone holds);
 * a primary sending anything else is broken or hostile, and we would be serving its data as ours.
 */
export function checkRecord(rr: ResourceRecord, zone: Buffer): void {
  checkFields(rr.owner, rr.type, rr.class, zone);
}

/** checkRecord() for the owner name at the start of `owner`, the record's type and class. */
function checkFields(owner: Uint8Array, type: number, cls: number, zone: Buffer): void {
  if (!isSubdomainAt(owner, 0, zone)) {
    throw new TransferError('out-of-zone', `record ${nameToText(owner)} type ${type} is outside ${nameToText(zone)}`);
  }
  if (cls !== Class.IN) throw new TransferError('malformed', `record ${nameToText(owner)} has class ${cls}, not IN`);
}

export function isApexSoa(rr: ResourceRecord, zone: Buffer): boolean {
  return rr.type === Type.SOA && nameEquals(rr.owner, zone);
}

export function soaSerial(rr: ResourceRecord): number {
  if (rr.rdata.length < 22) throw new TransferError('malformed', `SOA RDATA of ${rr.rdata.length} octets is too short`);
  return rr.rdata.readUInt32BE(rr.rdata.length - 20);
}

/** Serial equality, through RFC 1982 code like every serial comparison. */
export function sameSerial(a: number, b: number): boolean {
  return serialCompare(a, b) === 0;
}

/** Same SOA: every RDATA field, names compared case-insensitively (the TTL does not count). */
export function soaEquals(a: ResourceRecord, b: ResourceRecord): boolean {
  return canonicalRdata(a.rdata, Type.SOA).equals(canonicalRdata(b.rdata, Type.SOA));
}

/** The first record of a transfer (of its first message): the zone's SOA (RFC 5936 2.2, RFC 1995 4). */
export function checkFirst(first: ResourceRecord | undefined, zone: Buffer): ResourceRecord {
  if (!first) throw new TransferError('no-soa', 'the first message of the transfer has no answer records');
  if (!isApexSoa(first, zone)) {
    throw new TransferError('bad-first-record', `the transfer starts with ${nameToText(first.owner)} type ${first.type}, not the SOA of ${nameToText(zone)}`);
  }
  checkRecord(first, zone);
  soaSerial(first);
  return first;
}

/**
 * The records of an AXFR-form answer after its opening SOA, up to the closing SOA. Each record goes
 * straight into a ZoneBuilder, so the work is done message by message as the transfer arrives and
 * the closing SOA leaves only the final checks: no multi-second stall at the end of a big zone, and
 * no array of every record held until then.
 */
export class AxfrBody {
  private builder: ZoneBuilder | undefined;

  constructor(
    private readonly zone: Buffer,
    readonly first: ResourceRecord,
  ) {
    this.builder = new ZoneBuilder(zone);
    this.take(first);
  }

  /** Take one checked record; true when it is the closing SOA. */
  add(rr: ResourceRecord): boolean {
    if (isApexSoa(rr, this.zone)) return this.closing(rr);
    this.take(rr);
    return false;
  }

  /**
   * Check and take the record `reader` has just read (straight from the message: no object per
   * record); true when it is the closing SOA.
   */
  addWire(reader: RecordReader): boolean {
    const type = reader.type;
    if (type === Type.OPT || type === Type.TSIG) throw new TransferError('malformed', `${type === Type.OPT ? 'OPT' : 'TSIG'} record in the answer section`);
    // (The builder checks that the owner is in the zone when it changes: not again for each record.)
    if (reader.class !== Class.IN) checkFields(reader.owner, type, reader.class, this.zone);
    if (type === Type.SOA && reader.ownerLength === this.zone.length && nameEquals(reader.owner.subarray(0, reader.ownerLength), this.zone)) {
      return this.closing(reader.record());
    }
    const builder = this.builder;
    if (!builder) throw new TransferError('malformed', 'record after the end of the transfer');
    try {
      builder.addWire(reader.owner, reader.ownerLength, type, reader.ttl, reader.rdata, reader.rdataStart, reader.rdataLength);
    } catch (err) {
      throw zoneFailure(err);
    }
    return false;
  }

  /** An apex SOA after the first: true when it closes the transfer, else TransferError. */
  private closing(rr: ResourceRecord): true {
    if (soaEquals(rr, this.first)) return true;
    // A zone has one SOA, so a different one is either the primary's zone changing under the
    // transfer (serial moved) or a broken server; neither leaves us a consistent copy.
    const a = soaSerial(this.first);
    const b = soaSerial(rr);
    if (!sameSerial(a, b)) throw new TransferError('serial-mismatch', `the transfer opened with serial ${a} and closed with ${b}`);
    throw new TransferError('malformed', `the closing SOA (serial ${b}) differs from the opening one in other fields`);
  }

  /** Finish the snapshot aside (the served one is untouched whatever happens). */
  build(): Zone {
    const builder = this.builder;
    if (!builder) throw new TransferError('malformed', 'the transferred zone was already built');
    this.builder = undefined;
    return zoneChecked(() => builder.finish());
  }

  private take(rr: ResourceRecord): void {
    const builder = this.builder;
    if (!builder) throw new TransferError('malformed', 'record after the end of the transfer');
    zoneChecked(() => builder.add(rr));
  }
}

/** Run `fn`, turning a failed zone check into TransferError('malformed'). */
function zoneChecked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw zoneFailure(err);
  }
}

/** A record outside the zone as TransferError('out-of-zone'), a failed zone check as 'malformed'; any other error as it is. */
function zoneFailure(err: unknown): unknown {
  if (err instanceof OutOfZoneError) return new TransferError('out-of-zone', `record ${err.owner} is outside ${err.zone}`, undefined, { cause: err });
  return err instanceof ZoneError ? new TransferError('malformed', `transferred zone fails the zone checks: ${err.message}`, undefined, { cause: err }) : err;
}

/** The closing record must be the last of its message, and nothing may follow the last message. */
export function trailing(i: number, msg: Message): void {
  if (i !== msg.answer.length - 1) throw new TransferError('malformed', `${msg.answer.length - 1 - i} records after the closing SOA`);
}
