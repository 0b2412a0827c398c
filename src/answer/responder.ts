// The authoritative answer algorithm (RFC 1034 4.3.2 with RFC 2181, 2308, 4592, 6672, 8482, 6891).
//
//   parse ─► classify (opcode, class, EDNS) ─► find zone (longest match; DS one label up)
//         ─► descend the trie from the apex:  cut on the way ─► referral (no AA)
//                                             DNAME on the way ─► synthesize CNAME, follow
//             exact node ─► CNAME? follow : RRset or NODATA
//             no node    ─► wildcard at the closest encloser? synthesize : NXDOMAIN
//         ─► negative answers get the SOA (TTL = min(SOA TTL, MINIMUM)); NS/MX/SRV get A/AAAA
//            additionals; whole RRsets that do not fit set TC.
//
// Where the RFCs leave a choice it does what Knot DNS does, so the two give identical answers: a CNAME
// or DNAME chain is followed inside the zone for at most 5 steps; ANY (RFC 8482 4.1) gets the one RRset
// of the lowest type at the name; a truncated answer (TC) keeps only the question and OPT; AA is on
// every answer from a zone except referrals; RD is echoed, CD is not.
// No sockets here: bytes in, bytes out.

import { Class, Flag, Opcode, Rcode, Type } from '../wire/constants.js';
import { isSubdomain, LOWER, MAX_NAME_LENGTH } from '../wire/name.js';
import { NODE_DELEGATION, NODE_DNAME, type RRset, type ZoneNode } from '../zone/node.js';
import type { Zone } from '../zone/zone.js';
import { UnservedZone, type ZoneTable } from '../zone/zone-table.js';
import { PARSE_DROP, PARSE_FORMERR, Query } from './query.js';
import { ResponseWriter } from './render.js';

export interface ResponderOptions {
  /** Largest UDP payload we send (RFC 6891 6.2.5); 1232 by default (DNS flag day 2020). */
  udpPayload: number;
  /** NSID (RFC 5001) and CH TXT id.server / hostname.bind; off when undefined. */
  identity?: string | undefined;
}

/** Counters the server reads for metrics; plain numbers, bumped on the hot path. */
export class ResponderStats {
  queries = 0;
  /** Of `queries`, those that came over TCP. */
  tcpQueries = 0;
  cacheHits = 0;
  malformed = 0;
  dropped = 0;
  /** Responses by rcode (0..23, 23 = any higher): UDP at [rcode], TCP at [24 + rcode]. */
  readonly rcodes = new Float64Array(48);
}

const ANSWER = 1;
const AUTHORITY = 2;
const ADDITIONAL = 3;

/** Outcome of resolving one name in a zone. */
const HIT = 0;
const NODATA = 1;
const NXDOMAIN = 2;
const REFERRAL = 3;
const TRUNCATED = 4;
const FOLLOW = 5;

/** Cached responses kept before the cache is emptied (about 100 MB at worst for 1232-octet answers). */
const CACHE_ENTRIES = 100_000;

/** CNAME/DNAME steps followed for one query (Knot's limit; RFC 1034 leaves it to the server). */
const MAX_CHAIN = 5;

/** Extended DNS Error 20 (RFC 8914 4.21): the name is in none of our zones. */
const EDE_NOT_AUTHORITATIVE = 20;

/** A lower-cased name with its label offsets, for walking the trie. */
class LowerName {
  readonly lower = Buffer.alloc(MAX_NAME_LENGTH + 1);
  readonly starts = new Int32Array(128);
  count = 0;
  length = 0;

  set(name: Uint8Array): void {
    let n = 0;
    let p = 0;
    const lower = this.lower;
    for (;;) {
      const l = name[p]!;
      if (l === 0) break;
      this.starts[n++] = p;
      lower[p] = l;
      for (let k = 1; k <= l; k++) lower[p + k] = LOWER[name[p + k]!]!;
      p += l + 1;
    }
    lower[p] = 0;
    this.count = n;
    this.length = p + 1;
  }

  labelKey(i: number): string {
    const s = this.starts[i]!;
    return this.lower.toString('latin1', s + 1, s + 1 + this.lower[s]!);
  }
}

export class Responder {
  readonly query = new Query();
  readonly writer = new ResponseWriter();
  readonly stats = new ResponderStats();
  private readonly cursor = new LowerName();
  /** Scratch: CNAME/DNAME RRsets already in the answer (a loop check), and the steps followed. */
  private readonly chain: RRset[] = [];
  private steps = 0;
  /** Targets whose A/AAAA go into the additional section (NS, MX, SRV in answer and authority). */
  private readonly extraNames: Buffer[] = [];
  private readonly optTemplate: Buffer;
  /** Encoded answers by question (see cacheKey), valid while the zone table's generation holds. */
  private readonly cache = new Map<string, { bytes: Buffer; rcode: number; generation: number }>();
  private readonly identity: Buffer | undefined;
  /** Where this query's rcode is counted in stats.rcodes (by transport). */
  private rcodeBase = 0;

  constructor(
    private readonly table: ZoneTable,
    private readonly options: ResponderOptions,
  ) {
    this.identity = options.identity ? Buffer.from(options.identity, 'latin1') : undefined;
    this.optTemplate = Buffer.alloc(11);
    this.optTemplate.writeUInt16BE(Type.OPT, 1);
    this.optTemplate.writeUInt16BE(options.udpPayload, 3);
  }

  /**
   * Answer one request. Returns the response (a buffer of its own, never written to again: send it
   * as it is) or null when the packet is to be dropped.
   */
  answer(req: Buffer, len: number, tcp: boolean): Buffer | null {
    const q = this.query;
    const w = this.writer;
    this.stats.queries++;
    this.rcodeBase = tcp ? 24 : 0;
    if (tcp) this.stats.tcpQueries++;
    const verdict = q.parse(req, len);
    if (verdict === PARSE_DROP) {
      this.stats.dropped++;
      return null;
    }
    if (verdict === PARSE_FORMERR) {
      this.stats.malformed++;
      return this.bare(req, Rcode.FORMERR, q.hasQuestion);
    }
    let rdFlags = q.flags & Flag.RD;
    if (q.opcode !== Opcode.QUERY) return this.bare(req, q.opcode === Opcode.NOTIFY ? Rcode.NOTAUTH : Rcode.NOTIMP, true);
    // EDNS: version 0 only (RFC 6891 6.1.3); payload below 512 counts as 512.
    let limit = 512;
    let optLen = 0;
    if (q.edns) {
      optLen = 11 + (q.nsid && this.identity ? 4 + this.identity.length : 0);
      if (q.ednsVersion !== 0) {
        w.begin(req, q.questionEnd, 65535);
        this.putOpt(Rcode.BADVERS);
        return this.done(Rcode.NOERROR, rdFlags, Rcode.BADVERS);
      }
      limit = Math.max(512, Math.min(q.ednsPayload, this.options.udpPayload));
    }
    if (tcp) limit = 65535;

    // The answer depends on the lower-cased name, type, class, size limit and EDNS bits only: the
    // request's own spelling of the name is copied in (owners point at it), and its ID and RD.
    const key = this.cacheKey(limit, q.edns);
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.generation === this.table.generation) {
      this.stats.cacheHits++;
      const b = Buffer.allocUnsafe(cached.bytes.length);
      cached.bytes.copy(b, 0);
      req.copy(b, 0, 0, 2);
      b[2] = (b[2]! & ~0x01) | (req[2]! & 0x01); // RD
      req.copy(b, 12, 12, q.questionEnd);
      this.stats.rcodes[this.rcodeBase + cached.rcode]!++;
      return b;
    }

    w.begin(req, q.questionEnd, limit - optLen);
    let rcode: number = Rcode.NOERROR;
    let ede = -1;
    if (q.qclass !== Class.IN && q.qclass !== Class.ANY) {
      rcode = q.qclass === Class.CH ? this.chaos() : Rcode.REFUSED;
    } else if (q.qtype === 0) {
      rcode = Rcode.NOTIMP;
    } else if (q.qtype === Type.AXFR || q.qtype === Type.IXFR) {
      // Transfers are served by the transfer code (net/xfr-server.ts) where the server has it; one
      // that reaches us is not allowed (NOTAUTH, as Knot answers). AXFR over UDP is not a thing at
      // all (RFC 5936 4.2; Knot: NOTIMP, unsigned even for a signed request).
      rcode = !tcp && q.qtype === Type.AXFR ? Rcode.NOTIMP : Rcode.NOTAUTH;
    } else {
      const zone =
        (q.qtype === Type.DS && q.labelCount > 0 ? this.table.find(q.lower, q.labelStarts, q.labelCount, q.qnameLength, 1) : undefined) ??
        this.table.find(q.lower, q.labelStarts, q.labelCount, q.qnameLength);
      if (zone === undefined) {
        rcode = Rcode.REFUSED;
        ede = EDE_NOT_AUTHORITATIVE;
      } else if (zone instanceof UnservedZone) {
        rcode = Rcode.SERVFAIL; // ours, but not loaded yet or expired
      } else {
        const r = this.resolve(zone);
        rcode = r & 0xff;
        rdFlags |= r & 0xff00;
      }
    }
    if (q.edns) this.putOpt(rcode, ede);
    const out = this.done(rcode, rdFlags, rcode);
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear(); // crude, but bounded and rare
    // Shared by the cache and the caller: neither writes to it (a hit copies it first).
    this.cache.set(key, { bytes: out, rcode, generation: this.table.generation });
    return out;
  }

  /** Response cache key: the lower-cased qname, then type, class, size limit and EDNS bits, as one string. */
  private cacheKey(limit: number, edns: boolean): string {
    const q = this.query;
    const b = q.lower;
    const n = q.qnameLength;
    b.writeUInt16BE(q.qtype, n);
    b.writeUInt16BE(q.qclass, n + 2);
    b.writeUInt16BE(limit, n + 4);
    b[n + 6] = (edns ? 1 : 0) | (q.dnssecOk ? 2 : 0) | (q.nsid ? 4 : 0);
    return b.toString('latin1', 0, n + 7);
  }

  /** Resolve the question in `zone`; returns rcode | header flag bits (AA, TC). */
  private resolve(zone: Zone): number {
    const q = this.query;
    const w = this.writer;
    this.chain.length = 0;
    this.steps = 0;
    this.extraNames.length = 0;
    this.yxdomain = false;
    let state = this.solve(q.lower, q.labelStarts, q.labelCount, zone, null);
    const aa = state === REFERRAL ? 0 : Flag.AA;
    while (state === FOLLOW) {
      const target = this.nextName!;
      if (!isSubdomain(target, zone.origin)) {
        state = HIT;
        break;
      }
      const c = this.cursor;
      c.set(target);
      state = this.solve(c.lower, c.starts, c.count, zone, target);
    }
    let rcode: number = this.yxdomain ? Rcode.YXDOMAIN : Rcode.NOERROR;
    if (state === NXDOMAIN || state === NODATA) {
      if (state === NXDOMAIN) rcode = Rcode.NXDOMAIN;
      if (!w.putRRset(AUTHORITY, zone.origin, zone.soa, zone.negativeTtl)) state = TRUNCATED;
    } else if (state === REFERRAL) {
      const ns = this.cut!.get(Type.NS)!;
      if (!w.putRRset(AUTHORITY, this.cut!.name, ns)) state = TRUNCATED;
      else this.noteExtras(ns);
    }
    if (state === TRUNCATED) {
      // RFC 2181 9: a truncated answer is not to be used; Knot keeps only the question (and OPT).
      w.truncate();
      return rcode | aa | Flag.TC;
    }
    // In-bailiwick glue that does not fit sets TC (RFC 9471); other additionals are just left out.
    const glueMissing = this.putAdditional(zone, state === REFERRAL ? this.cut!.name : null);
    return rcode | aa | (glueMissing ? Flag.TC : 0);
  }

  /** Set by solve(): the name to follow (CNAME/DNAME target), the cut of a referral, YXDOMAIN. */
  private nextName: Buffer | null = null;
  private cut: ZoneNode | null = null;
  private yxdomain = false;

  /**
   * Find `name` (lower-cased labels in `lower` at `starts`, `count` labels) in `zone` and put what
   * answers it. `owner` is the name as it should appear in the answer (null: the question name).
   */
  private solve(lower: Buffer, starts: Int32Array, count: number, zone: Zone, owner: Buffer | null): number {
    const apex = zone.apex;
    // Labels of the name below the apex have indexes rel-1 (next to the apex) down to 0.
    const rel = count - zone.labels;
    let node = apex;
    let i = rel - 1;
    for (; i >= 0; i--) {
      const s = starts[i]!;
      const next = node.child(lower.toString('latin1', s + 1, s + 1 + lower[s]!));
      if (next === undefined) break;
      node = next;
      if (i > 0) {
        if (node.flags & NODE_DELEGATION) return this.referral(node);
        if (node.flags & NODE_DNAME) return this.dname(node, owner, starts, i);
      }
    }
    const qtype = this.query.qtype;
    if (i >= 0) {
      // Not found: `node` is the closest encloser (RFC 4592 3.3.1).
      const wc = node.wildcard;
      if (wc === null) return NXDOMAIN;
      return this.found(wc, owner, qtype, true);
    }
    if (node.flags & NODE_DELEGATION && qtype !== Type.DS) return this.referral(node);
    return this.found(node, owner, qtype, false);
  }

  private found(node: ZoneNode, owner: Buffer | null, qtype: number, wildcard: boolean): number {
    const w = this.writer;
    if (wildcard && node.flags & NODE_DELEGATION) return this.referral(node);
    const cname = node.get(Type.CNAME);
    if (cname !== undefined && qtype !== Type.CNAME && qtype !== Type.RRSIG && qtype !== Type.NSEC && qtype !== Type.ANY) {
      if (++this.steps > MAX_CHAIN) return HIT;
      // A loop: what is in the answer is the answer. (A wildcard CNAME has a new owner each time.)
      if (!wildcard && this.chain.includes(cname)) return HIT;
      if (!w.putRRset(ANSWER, owner, cname)) return TRUNCATED;
      this.chain.push(cname);
      this.nextName = cname.rdata[0]!;
      return FOLLOW;
    }
    let rrset: RRset | undefined;
    if (qtype === Type.ANY) {
      // RFC 8482 4.1: one RRset, the one of the lowest type (Knot's pick), whatever the transport.
      for (const r of node.rrsets) if (rrset === undefined || r.type < rrset.type) rrset = r;
    } else {
      rrset = node.get(qtype);
    }
    if (rrset === undefined) return NODATA;
    if (!w.putRRset(ANSWER, owner, rrset)) return TRUNCATED;
    this.noteExtras(rrset);
    return HIT;
  }

  private referral(cut: ZoneNode): number {
    this.cut = cut;
    return REFERRAL;
  }

  /**
   * DNAME substitution (RFC 6672 3.2): put the DNAME, then a CNAME from the current name to the name
   * with the DNAME owner's suffix replaced by the target; YXDOMAIN when that is too long.
   */
  private dname(node: ZoneNode, owner: Buffer | null, starts: Int32Array, i: number): number {
    const w = this.writer;
    const dname = node.get(Type.DNAME)!;
    if (++this.steps > MAX_CHAIN) return HIT;
    // The DNAME goes in once; the CNAMEs it synthesizes differ at each step.
    if (!this.chain.includes(dname)) {
      if (!w.putRRset(ANSWER, node.name, dname)) return TRUNCATED;
      this.chain.push(dname);
    }
    const current = owner ?? this.questionName();
    // The labels of the current name left of the DNAME owner end where label i starts.
    const prefixEnd = starts[i]!;
    const target = dname.rdata[0]!;
    if (prefixEnd + target.length > MAX_NAME_LENGTH) {
      this.yxdomain = true; // RFC 6672 2.2
      return HIT;
    }
    const synthesized = Buffer.concat([current.subarray(0, prefixEnd), target]);
    const cname: RRset = { type: Type.CNAME, ttl: dname.ttl, rdata: [synthesized], sigs: undefined };
    if (!w.putRRset(ANSWER, owner, cname)) return TRUNCATED;
    if (this.query.qtype === Type.CNAME) return HIT;
    this.nextName = synthesized;
    return FOLLOW;
  }

  /** The question name in its original spelling, copied out of the response. */
  private questionName(): Buffer {
    return Buffer.from(this.writer.buf.subarray(12, 12 + this.query.qnameLength));
  }

  private noteExtras(rrset: RRset): void {
    const t = rrset.type;
    if (t === Type.NS) for (const rd of rrset.rdata) this.extraNames.push(rd);
    else if (t === Type.MX) for (const rd of rrset.rdata) this.extraNames.push(rd.subarray(2));
    else if (t === Type.SRV) for (const rd of rrset.rdata) this.extraNames.push(rd.subarray(6));
  }

  /**
   * A and AAAA of the noted targets that the zone holds (glue below cuts and wildcard expansions
   * included), A before AAAA; an RRset that does not fit is left out. In-bailiwick glue of a referral
   * that does not fit ends the section and sets TC (RFC 9471); returns true then.
   */
  private putAdditional(zone: Zone, cut: Buffer | null): boolean {
    const names = this.extraNames;
    const seen: ZoneNode[] = [];
    const w = this.writer;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      if (!isSubdomain(name, zone.origin)) continue;
      const c = this.cursor;
      c.set(name);
      const node = this.lookupAdditional(zone, c);
      if (node === undefined || seen.includes(node)) continue;
      seen.push(node);
      const glue = cut !== null && isSubdomain(name, cut);
      const a = node.get(Type.A);
      if (a !== undefined && !w.putRRset(ADDITIONAL, name, a) && glue) return true;
      const aaaa = node.get(Type.AAAA);
      if (aaaa !== undefined && !w.putRRset(ADDITIONAL, name, aaaa) && glue) return true;
    }
    return false;
  }

  /** The node holding the addresses of `c`: the exact name (through cuts: glue), else a wildcard. */
  private lookupAdditional(zone: Zone, c: LowerName): ZoneNode | undefined {
    let node = zone.apex;
    for (let i = c.count - zone.labels - 1; i >= 0; i--) {
      const next = node.child(c.labelKey(i));
      if (next === undefined) return node.wildcard ?? undefined;
      node = next;
    }
    return node;
  }

  /** CH class (RFC 4892): id.server and hostname.bind give the identity; anything else is refused. */
  private chaos(): number {
    const q = this.query;
    if (this.identity === undefined || q.qtype !== Type.TXT && q.qtype !== Type.ANY) return Rcode.REFUSED;
    const name = q.lower.toString('latin1', 0, q.qnameLength);
    if (name !== '\x02id\x06server\x00' && name !== '\x08hostname\x04bind\x00') return Rcode.REFUSED;
    const txt = Buffer.concat([Buffer.from([this.identity.length]), this.identity]);
    const rrset: RRset = { type: Type.TXT, ttl: 0, rdata: [txt], sigs: undefined };
    const w = this.writer;
    const o = w.o;
    if (!w.putRRset(ANSWER, null, rrset)) return Rcode.NOERROR;
    w.buf.writeUInt16BE(Class.CH, o + 4); // class of the record follows the question's
    return Rcode.NOERROR;
  }

  /** The OPT record (RFC 6891 6.1.2): our payload, extended rcode, DO echoed, NSID, Extended DNS Error. */
  private putOpt(rcode: number, ede = -1): void {
    const w = this.writer;
    const b = w.buf;
    const start = w.o;
    this.optTemplate.copy(b, start);
    b[start + 5] = rcode >> 4; // extended rcode (RFC 6891 6.1.3)
    b.writeUInt16BE(this.query.dnssecOk ? 0x8000 : 0, start + 7);
    let o = start + 11;
    if (this.query.nsid && this.identity !== undefined) {
      const id = this.identity;
      b.writeUInt16BE(3, o);
      b.writeUInt16BE(id.length, o + 2);
      id.copy(b, o + 4);
      o += 4 + id.length;
    }
    if (ede >= 0) {
      // RFC 8914: INFO-CODE only, no EXTRA-TEXT (as Knot sends it).
      b.writeUInt16BE(15, o);
      b.writeUInt16BE(2, o + 2);
      b.writeUInt16BE(ede, o + 4);
      o += 6;
    }
    b.writeUInt16BE(o - start - 11, start + 9);
    w.o = o;
    w.counts[3]!++;
  }

  /** A response with no records: header and (when it parsed) the question. */
  private bare(req: Buffer, rcode: number, withQuestion: boolean): Buffer {
    const w = this.writer;
    w.begin(req, withQuestion ? this.query.questionEnd : 12, 65535);
    return this.done(rcode, this.query.flags & Flag.RD, rcode);
  }

  private done(rcode: number, flags: number, counted: number): Buffer {
    const q = this.query;
    const w = this.writer;
    this.stats.rcodes[this.rcodeBase + (counted < 24 ? counted : 23)]!++;
    const word = Flag.QR | (q.opcode << 11) | flags | (rcode & 0xf);
    const len = w.finish(q.id, word);
    return Buffer.from(w.buf.subarray(0, len));
  }
}
