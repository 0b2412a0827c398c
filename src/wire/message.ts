// The general DNS message codec (RFC 1035 4.1; EDNS RFC 6891 6.1.1; TSIG placement RFC 8945 5.1;
// truncation RFC 2181 9) for transfers, NOTIFY, SOA checks and tests. The query hot path has its own
// renderer; this one favours strictness and clarity.
//
// Decoding is strict and bounded: counts are checked against the octets left before anything is
// allocated, names go through NameReader (backward pointers only), RDATA through readRdataInto (names of
// RFC 3597 4 types decompressed, lengths exact), and anything malformed throws WireFormatError,
// never another exception type. The OPT and TSIG records are taken out of the additional section
// into `edns` and `tsig`; encoding puts them back, OPT then TSIG, last.

import { NameCompressor } from './compress.js';
import { Type } from './constants.js';
import { decodeOpt, encodeOptions, optTtl } from './edns.js';
import type { Edns } from './edns.js';
import { WireFormatError } from './errors.js';
import { nameEquals, readName } from './name.js';
import { RecordReader, type ResourceRecord } from './record.js';

export interface Question {
  name: Buffer;
  type: number;
  class: number;
}

export interface MessageTsig {
  record: ResourceRecord;
  /** Offset of the TSIG RR (its owner name) in the decoded message: the MAC covers what precedes it. */
  offset: number;
}

export interface Message {
  id: number;
  /**
   * Header flag bits in their places in the second header word (Flag.QR, AA, TC, RD, RA, Z, AD, CD).
   * The OPCODE and RCODE bits are zero here (decode) and ignored (encode): they live in `opcode`
   * and `rcode`, so there is one source of truth for each.
   */
  flags: number;
  opcode: number;
  /** Full rcode: the header's 4 bits plus, with OPT, its 8 extended bits (RFC 6891 6.1.3). */
  rcode: number;
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  /**
   * Additional records other than OPT and TSIG. Encoding writes this list as given (so tests can build
   * broken messages); put OPT and TSIG in `edns` and `tsig` to have them placed and counted right.
   */
  additional: ResourceRecord[];
  edns?: Edns;
  tsig?: MessageTsig;
  /** With DecodeOptions.lazyAnswer: offset of the first answer record, and how many there are. */
  answerStart?: number;
  answerCount?: number;
}

export interface EncodeOptions {
  /**
   * Largest message to produce (UDP payload size). RRsets that do not fit are left out whole and,
   * when they belong to the answer or authority section, TC is set (RFC 2181 9). Without it a message
   * over 65535 octets is an error.
   */
  maxSize?: number;
}

const HEADER = 12;
const MAX_MESSAGE = 65535;
/** Flag bits of the second header word (everything but OPCODE and RCODE). */
export const FLAGS_MASK = 0x87f0;
const TC = 0x0200;

// ------------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------------

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

export interface DecodeOptions {
  /**
   * Leave the answer section undecoded (`answer` empty, its framing checked): its records are read
   * from `answerStart` with a RecordReader, one at a time (a zone transfer's thousand per message).
   */
  lazyAnswer?: boolean;
}

/** decodeMessage's reader (and its RDATA scratch): decoding is synchronous, so one will do. */
const messageReader = new RecordReader();

/** Decode a whole message. Throws WireFormatError (only) for anything malformed. */
export function decodeMessage(buf: Uint8Array, opts: DecodeOptions = {}): Message {
  const len = buf.length;
  if (len < HEADER) throw new WireFormatError(`message of ${len} octets is shorter than the header`);
  const id = u16(buf, 0);
  const word = u16(buf, 2);
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  // The smallest question is 5 octets (root name, type, class), the smallest RR 11: a cheap bound that
  // stops a 12-octet packet from making us allocate arrays for 4 x 65535 entries.
  if (qd * 5 + (an + ns + ar) * 11 > len - HEADER) throw new WireFormatError('section counts exceed the message length');

  let p = HEADER;
  const question: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, p);
    if (next + 4 > len) throw new WireFormatError('question runs past the end of the message');
    question.push({ name, type: u16(buf, next), class: u16(buf, next + 2) });
    p = next + 4;
  }

  const reader = messageReader;
  reader.reset(buf, p);
  const section = (count: number, what: string): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      reader.next();
      if (reader.type === Type.OPT || reader.type === Type.TSIG) {
        throw new WireFormatError(`${reader.type === Type.OPT ? 'OPT' : 'TSIG'} record in the ${what} section`);
      }
      out.push(reader.record());
    }
    return out;
  };

  let answer: ResourceRecord[] = [];
  const answerStart = reader.offset;
  if (opts.lazyAnswer) for (let i = 0; i < an; i++) reader.skip();
  else answer = section(an, 'answer');
  const authority = section(ns, 'authority');
  const additional: ResourceRecord[] = [];
  let edns: Edns | undefined;
  let tsig: MessageTsig | undefined;
  for (let i = 0; i < ar; i++) {
    const start = reader.offset;
    reader.next();
    const rr = reader.record();
    if (rr.type === Type.OPT) {
      if (edns !== undefined) throw new WireFormatError('multiple OPT');
      edns = decodeOpt(rr); // checks the root owner and the option framing
    } else if (rr.type === Type.TSIG) {
      if (i !== ar - 1) throw new WireFormatError('TSIG is not the last record');
      tsig = { record: rr, offset: start };
    } else {
      additional.push(rr);
    }
  }
  p = reader.offset;
  if (p !== len) throw new WireFormatError(`${len - p} octets of trailing garbage after the last record`);

  const msg: Message = {
    id,
    flags: word & FLAGS_MASK,
    opcode: (word >>> 11) & 0xf,
    rcode: (word & 0xf) | (edns ? edns.extendedRcode << 4 : 0),
    question,
    answer,
    authority,
    additional,
  };
  if (opts.lazyAnswer) {
    msg.answerStart = answerStart;
    msg.answerCount = an;
  }
  if (edns) msg.edns = edns;
  if (tsig) msg.tsig = tsig;
  return msg;
}

// ------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------

/** One compressor for all encodes: encodeMessage is synchronous, so it is never shared mid-message. */
const compressor = new NameCompressor();

/** End of the run of records starting at `i` that form one RRset (RRSIGs split by type covered). */
function rrsetEnd(rrs: readonly ResourceRecord[], i: number): number {
  const first = rrs[i]!;
  let j = i + 1;
  for (; j < rrs.length; j++) {
    const r = rrs[j]!;
    if (r.type !== first.type || r.class !== first.class || !nameEquals(r.owner, first.owner)) break;
    if (r.type === Type.RRSIG && (r.rdata[0] !== first.rdata[0] || r.rdata[1] !== first.rdata[1])) break;
  }
  return j;
}

function recordBound(rr: ResourceRecord): number {
  return rr.owner.length + 10 + rr.rdata.length;
}

function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} ${v} is not a 16-bit value`);
}

/**
 * Encode a message with name compression. Throws RangeError for values that cannot be encoded
 * (an rcode above 15 without EDNS, a message over 65535 octets, a maxSize too small for the
 * header, question, OPT and TSIG, which are never dropped).
 */
export function encodeMessage(msg: Message, opts: EncodeOptions = {}): Buffer {
  checkU16(msg.id, 'ID');
  if (msg.rcode < 0 || msg.rcode > 0xfff || (msg.rcode > 0xf && !msg.edns)) {
    throw new RangeError(`rcode ${msg.rcode} cannot be encoded${msg.edns ? '' : ' without EDNS'}`);
  }
  const sections = [msg.answer, msg.authority, msg.additional];
  for (const s of [msg.question, ...sections]) checkU16(s.length, 'section count');
  const arExtra = (msg.edns ? 1 : 0) + (msg.tsig ? 1 : 0);
  checkU16(msg.additional.length + arExtra, 'section count');

  let optRdata: Buffer | undefined;
  let reserve = 0;
  if (msg.edns) {
    checkU16(msg.edns.udpPayload, 'UDP payload size');
    optRdata = encodeOptions(msg.edns.options);
    reserve += 11 + optRdata.length;
  }
  if (msg.tsig) reserve += recordBound(msg.tsig.record);

  let bound = HEADER + reserve;
  for (const q of msg.question) bound += q.name.length + 4;
  for (const s of sections) for (const rr of s) bound += recordBound(rr);

  const limit = Math.min(opts.maxSize ?? MAX_MESSAGE, MAX_MESSAGE);
  const truncating = opts.maxSize !== undefined;
  const buf = Buffer.alloc(bound);
  const c = compressor;
  c.reset();

  let o = HEADER;
  for (const q of msg.question) {
    o = c.writeName(buf, o, q.name, true);
    buf.writeUInt16BE(q.type, o);
    buf.writeUInt16BE(q.class, o + 2);
    o += 4;
  }
  if (o + reserve > limit) {
    throw new RangeError(`header, question, OPT and TSIG take ${o + reserve} octets, more than ${limit}`);
  }

  const avail = limit - reserve;
  const counts = [0, 0, 0];
  let tc = false;
  let full = false;
  for (let s = 0; s < 3 && !full; s++) {
    const rrs = sections[s]!;
    for (let i = 0; i < rrs.length && !full; ) {
      const j = rrsetEnd(rrs, i);
      const mark = o;
      for (let k = i; k < j; k++) o = writeRecord(c, buf, o, rrs[k]!);
      if (o > avail) {
        if (!truncating) throw new RangeError(`message exceeds ${MAX_MESSAGE} octets`);
        // RRsets go whole or not at all, and nothing after a dropped one is sent, so the message is
        // a prefix a client can rely on. Missing additional data alone does not set TC (RFC 2181 9).
        o = mark;
        full = true;
        if (s < 2) tc = true;
      } else {
        counts[s]! += j - i;
        i = j;
      }
    }
  }

  if (msg.edns) {
    const e = msg.edns;
    buf[o++] = 0; // root owner (RFC 6891 6.1.2)
    buf.writeUInt16BE(Type.OPT, o);
    buf.writeUInt16BE(e.udpPayload, o + 2);
    // msg.rcode is the one source of the rcode: its upper bits override e.extendedRcode.
    buf.writeUInt32BE(optTtl({ ...e, extendedRcode: msg.rcode >>> 4 }), o + 4);
    buf.writeUInt16BE(optRdata!.length, o + 8);
    optRdata!.copy(buf, o + 10);
    o += 10 + optRdata!.length;
  }
  if (msg.tsig) {
    // The TSIG owner (key name) is written in full: some verifiers compare it octet for octet.
    const rr = msg.tsig.record;
    o = c.writeName(buf, o, rr.owner, false);
    o = writeFixed(buf, o, rr);
    rr.rdata.copy(buf, o);
    o += rr.rdata.length;
  }

  buf.writeUInt16BE(msg.id, 0);
  buf.writeUInt16BE((msg.flags & FLAGS_MASK) | (tc ? TC : 0) | ((msg.opcode & 0xf) << 11) | (msg.rcode & 0xf), 2);
  buf.writeUInt16BE(msg.question.length, 4);
  buf.writeUInt16BE(counts[0]!, 6);
  buf.writeUInt16BE(counts[1]!, 8);
  buf.writeUInt16BE(counts[2]! + arExtra, 10);
  // Compression can leave much of the worst-case buffer unused; do not pin it behind a small view.
  return bound - o > 4096 ? Buffer.from(buf.subarray(0, o)) : buf.subarray(0, o);
}

/** TYPE, CLASS, TTL and RDLENGTH of `rr` at `o`; returns the offset of its RDATA. */
function writeFixed(buf: Buffer, o: number, rr: ResourceRecord): number {
  checkU16(rr.type, 'type');
  checkU16(rr.class, 'class');
  if (rr.rdata.length > 0xffff) throw new RangeError('RDATA longer than 65535 octets');
  buf.writeUInt16BE(rr.type, o);
  buf.writeUInt16BE(rr.class, o + 2);
  buf.writeUInt32BE(rr.ttl >>> 0, o + 4);
  buf.writeUInt16BE(rr.rdata.length, o + 8);
  return o + 10;
}

function writeRecord(c: NameCompressor, buf: Buffer, o: number, rr: ResourceRecord): number {
  o = c.writeName(buf, o, rr.owner, true);
  const rdStart = writeFixed(buf, o, rr);
  const end = c.writeRdata(buf, rdStart, rr.type, rr.rdata);
  buf.writeUInt16BE(end - rdStart, rdStart - 2);
  return end;
}
