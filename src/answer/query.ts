// Hot-path query parsing straight from the packet (RFC 1035 4.1, RFC 6891 6.1.1, RFC 8945 5.1).
//
// One reusable Query object per server; parsing allocates nothing. Every bound is checked here, once:
// a packet either parses or gets a typed verdict (drop / FORMERR), never an exception.

import { Class, Type } from '../wire/constants.js';
import { LOWER, MAX_LABEL_LENGTH, MAX_NAME_LENGTH } from '../wire/name.js';

/** What to do with a packet that did not parse as a query we answer normally. */
export const PARSE_OK = 0;
/** Not worth a reply: too short for a header, or a response (QR=1). */
export const PARSE_DROP = 1;
/** Malformed: answer FORMERR (with the question if it parsed). */
export const PARSE_FORMERR = 2;

export class Query {
  id = 0;
  /** The flags word of the request. */
  flags = 0;
  opcode = 0;
  /** Lower-cased wire qname in `lower[0..qnameLength)`; room after it for a cache key's tail. */
  readonly lower = Buffer.alloc(MAX_NAME_LENGTH + 16);
  qnameLength = 0;
  /** Offset of each label in `lower`, leftmost first. */
  readonly labelStarts = new Int32Array(128);
  labelCount = 0;
  qtype = 0;
  qclass = 0;
  /** True when the question section parsed (so a FORMERR can echo it). */
  hasQuestion = false;
  /** Offset just past the question in the request (12 + qname + 4). */
  questionEnd = 0;
  /** EDNS (RFC 6891): present, requested payload, version, DO bit, NSID option asked for. */
  edns = false;
  ednsPayload = 0;
  ednsVersion = 0;
  dnssecOk = false;
  nsid = false;
  /** A TSIG record is present (RFC 8945); its offset in the request. */
  tsigOffset = -1;
  /** Why the packet was rejected, for debug logs and metrics. */
  reason = '';

  /** Key of the lower-cased qname from label `i` on, for hash lookups. */
  suffixKey(i: number): string {
    return this.lower.toString('latin1', i < this.labelCount ? this.labelStarts[i]! : this.qnameLength - 1, this.qnameLength);
  }

  /** The lower-cased label `i` as a latin1 key. */
  labelKey(i: number): string {
    const s = this.labelStarts[i]!;
    return this.lower.toString('latin1', s + 1, s + 1 + this.lower[s]!);
  }

  /**
   * Parse `msg[0..len)` into this object. Returns PARSE_OK, PARSE_DROP or PARSE_FORMERR.
   * Accepts exactly one question with an uncompressed name (a compressed QNAME cannot point anywhere
   * valid); skips answer/authority records; reads OPT and notes TSIG in the additional section.
   */
  parse(msg: Buffer, len: number): number {
    this.hasQuestion = false;
    this.edns = false;
    this.dnssecOk = false;
    this.nsid = false;
    this.tsigOffset = -1;
    this.ednsPayload = 0;
    this.ednsVersion = 0;
    this.reason = '';
    if (len < 12) return this.fail(PARSE_DROP, 'short header');
    this.id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    this.flags = flags;
    this.opcode = (flags >> 11) & 0xf;
    if (flags & 0x8000) return this.fail(PARSE_DROP, 'QR set');
    const qd = msg.readUInt16BE(4);
    const an = msg.readUInt16BE(6);
    const ns = msg.readUInt16BE(8);
    const ar = msg.readUInt16BE(10);
    if (qd !== 1) return this.fail(PARSE_FORMERR, qd === 0 ? 'no question' : 'more than one question');
    // Question name, lower-cased as we copy it.
    let p = 12;
    let o = 0;
    let labels = 0;
    const lower = this.lower;
    const starts = this.labelStarts;
    for (;;) {
      if (p >= len) return this.fail(PARSE_FORMERR, 'question name runs past the end');
      const l = msg[p]!;
      if (l === 0) {
        lower[o++] = 0;
        p++;
        break;
      }
      if (l > MAX_LABEL_LENGTH) return this.fail(PARSE_FORMERR, 'compressed or bad label in question');
      if (p + 1 + l > len) return this.fail(PARSE_FORMERR, 'question label runs past the end');
      if (o + l + 2 > MAX_NAME_LENGTH) return this.fail(PARSE_FORMERR, 'question name longer than 255');
      starts[labels++] = o;
      lower[o++] = l;
      for (let k = 1; k <= l; k++) lower[o++] = LOWER[msg[p + k]!]!;
      p += l + 1;
    }
    if (p + 4 > len) return this.fail(PARSE_FORMERR, 'question truncated');
    this.qnameLength = o;
    this.labelCount = labels;
    this.qtype = msg.readUInt16BE(p);
    this.qclass = msg.readUInt16BE(p + 2);
    p += 4;
    this.questionEnd = p;
    this.hasQuestion = true;
    // Answer and authority: skipped, but they must be well formed.
    for (let i = 0; i < an + ns; i++) {
      p = skipRecord(msg, p, len);
      if (p < 0) return this.fail(PARSE_FORMERR, 'malformed record');
    }
    for (let i = 0; i < ar; i++) {
      const start = p;
      const owner = p;
      p = skipName(msg, p, len);
      if (p < 0 || p + 10 > len) return this.fail(PARSE_FORMERR, 'malformed additional record');
      const type = msg.readUInt16BE(p);
      const rdlen = msg.readUInt16BE(p + 8);
      const rdata = p + 10;
      if (rdata + rdlen > len) return this.fail(PARSE_FORMERR, 'RDATA runs past the end');
      if (this.tsigOffset >= 0) return this.fail(PARSE_FORMERR, 'TSIG is not the last record');
      if (type === Type.OPT) {
        if (this.edns) return this.fail(PARSE_FORMERR, 'more than one OPT');
        if (msg[owner] !== 0) return this.fail(PARSE_FORMERR, 'OPT owner is not the root');
        this.edns = true;
        this.ednsPayload = msg.readUInt16BE(p + 2);
        this.ednsVersion = msg[p + 5]!;
        this.dnssecOk = (msg.readUInt16BE(p + 6) & 0x8000) !== 0;
        // Options: each code(2) len(2) data; they must exactly fill the RDATA.
        let q = rdata;
        while (q < rdata + rdlen) {
          if (q + 4 > rdata + rdlen) return this.fail(PARSE_FORMERR, 'truncated EDNS option');
          const code = msg.readUInt16BE(q);
          const olen = msg.readUInt16BE(q + 2);
          if (q + 4 + olen > rdata + rdlen) return this.fail(PARSE_FORMERR, 'EDNS option runs past RDATA');
          if (code === 3) this.nsid = true;
          q += 4 + olen;
        }
      } else if (type === Type.TSIG) {
        this.tsigOffset = start;
      }
      p = rdata + rdlen;
    }
    if (p !== len) return this.fail(PARSE_FORMERR, 'trailing data after the message');
    return PARSE_OK;
  }

  get isIn(): boolean {
    return this.qclass === Class.IN;
  }

  private fail(verdict: number, reason: string): number {
    this.reason = reason;
    return verdict;
  }
}

/** Offset just past a (possibly compressed) name, or -1. Only walks the bytes; pointers end the name. */
function skipName(msg: Buffer, p: number, len: number): number {
  for (let n = 0; n < 128; n++) {
    if (p >= len) return -1;
    const l = msg[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= len ? p + 2 : -1;
    if (l > MAX_LABEL_LENGTH) return -1;
    p += l + 1;
  }
  return -1;
}

function skipRecord(msg: Buffer, p: number, len: number): number {
  p = skipName(msg, p, len);
  if (p < 0 || p + 10 > len) return -1;
  const end = p + 10 + msg.readUInt16BE(p + 8);
  return end <= len ? end : -1;
}
