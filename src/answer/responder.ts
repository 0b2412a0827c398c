// The authoritative answer algorithm (RFC 1034 4.3.2 with RFC 2181, 2308, 4592, 6672, 8482, 6891).
//
//   parse ─► classify (opcode, class, EDNS) ─► find zone (longest match; DS one label up)
//         ─► descend the trie from the apex:  cut on the way ─► referral (no AA)
//                                             DNAME on the way ─► synthesize CNAME, follow
//             exact node ─► CNAME? follow : RRset or NODATA
//             no node    ─► wildcard at the closest encloser? synthesize : NXDOMAIN
//         ─► negative answers get the SOA (TTL = min(SOA TTL, MINIMUM)); NS/MX/SRV get A/AAAA
//            additionals; whole RRsets that do not fit set TC.
//         ─► DO=1 and a signed zone (RFC 3225, RFC 4035 3.1): the RRSIGs of every RRset at the end of
//            its section; NSEC/NSEC3 proofs for NXDOMAIN, NODATA, wildcards and referrals (DS or
//            its absence), RFC 4035 3.1.3 and RFC 5155 7.2.
//
// Where the RFCs leave a choice it does what Knot DNS does, so the two give identical answers: a CNAME
// or DNAME chain is followed inside the zone for at most 5 steps; ANY (RFC 8482 4.1) gets the one RRset
// of the lowest type at the name (RRSIG: the signatures of the lowest signed type); a truncated answer
// (TC) keeps the RRsets that fitted before the one that did not, and stops there; AA is on every
// answer from a zone except referrals; RD is echoed, CD is not.
// With DNSSEC, likewise: RRSIGs follow their section (those of the answer and authority must fit or
// the response is truncated; those of the additional section are left out from the first that does
// not fit), NSEC3 owners are not names of the zone (a query for one is NXDOMAIN), a closest encloser
// is the deepest existing name (an empty non-terminal included), and a proof already in the message
// is not repeated.
// No sockets here: bytes in, bytes out.

import { Class, Flag, Opcode, Rcode, Type } from '../wire/constants.js';
import { isSubdomainAt, LOWER, MAX_NAME_LENGTH } from '../wire/name.js';
import { DENIAL_NONE, DENIAL_NSEC3, isNsec3Owner, nsecCovering, type ZoneDnssec } from '../zone/dnssec.js';
import { findChild, getRRset, isWildcard, newRRset, NODE_DELEGATION, NODE_DNAME, type RRset, rrsetOf, wildcardChild, type ZoneNode } from '../zone/node.js';
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

/** A wildcard that answered (RFC 4035 3.1.3.3, RFC 5155 7.2.6): what its proof needs, copied. */
interface WildcardVisit {
  node: ZoneNode;
  /** The name it answered (lower-cased wire form), its label offsets and count. */
  lower: Buffer;
  starts: Int32Array;
  count: number;
  end: number;
  /** Labels below the apex of the closest encloser (the wildcard's parent). */
  depth: number;
}

/** A lower-cased name with its label offsets, for walking the trie. */
class LowerName {
  readonly lower = Buffer.alloc(MAX_NAME_LENGTH + 1);
  readonly starts = new Int32Array(128);
  count = 0;
  length = 0;

  /** Take the name at `start` of `name`. */
  set(name: Uint8Array, start = 0): void {
    let n = 0;
    let p = 0;
    let q = start;
    const lower = this.lower;
    for (;;) {
      const l = name[q]!;
      if (l === 0) break;
      this.starts[n++] = p;
      lower[p] = l;
      for (let k = 1; k <= l; k++) lower[p + k] = LOWER[name[q + k]!]!;
      p += l + 1;
      q += l + 1;
    }
    lower[p] = 0;
    this.count = n;
    this.length = p + 1;
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
  /** Targets whose A/AAAA go into the additional section (NS, MX, SRV in answer and authority): names at extraStarts[k] of extraNames[k] (stored RDATA). */
  private readonly extraNames: Uint8Array[] = [];
  private readonly extraStarts: number[] = [];
  private readonly optTemplate: Buffer;
  /** Encoded answers by question (see cacheKey), valid while the zone table's generation holds. */
  private readonly cache = new Map<string, { bytes: Buffer; rcode: number; generation: number }>();
  private readonly identity: Buffer | undefined;
  private identityTxt: RRset | undefined;
  /** Where this query's rcode is counted in stats.rcodes (by transport). */
  private rcodeBase = 0;

  /** This answer carries DNSSEC records: DO set and the zone signed (RFC 3225, RFC 4035 3.1). */
  private signed = false;
  private dnssec: ZoneDnssec | null = null;
  /** RRSIGs waiting for the end of their section: owners (null: the question name) and sets. */
  private readonly sigOwners: (Uint8Array | null)[] = [];
  private readonly sigOwnerStarts: number[] = [];
  private readonly sigSets: RRset[] = [];
  /** A TTL they may not exceed, or -1 (the SOA's in a negative answer, RFC 2308 5). */
  private readonly sigTtls: number[] = [];
  private sigCount = 0;
  /** Nodes whose NSEC/NSEC3 is in the message already. */
  private readonly proofs: ZoneNode[] = [];
  private readonly wildcards: WildcardVisit[] = [];
  /**
   * What the last solve() went through: path[k] is the node k labels below the apex, path[depth]
   * the deepest one reached (the closest encloser, the cut of a referral, the node found), `match`
   * the node that gave NODATA (a wildcard's own node when one answered), the name in `name*`.
   */
  private readonly path: ZoneNode[] = [];
  private depth = 0;
  private match: ZoneNode | null = null;
  private nameLower: Buffer = Buffer.alloc(0);
  private nameStarts: Int32Array = new Int32Array(0);
  private nameCount = 0;
  private nameEnd = 0;
  /** Scratch for names built for hashing ('*' + closest encloser). */
  private readonly scratch = Buffer.alloc(MAX_NAME_LENGTH + 2);

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
    this.extraStarts.length = 0;
    this.yxdomain = false;
    const ds = zone.dnssec;
    this.dnssec = ds;
    this.signed = q.dnssecOk && ds.denial !== DENIAL_NONE;
    if (this.signed) {
      this.sigCount = 0;
      this.proofs.length = 0;
      this.wildcards.length = 0;
    }
    this.nameEnd = q.qnameLength;
    let state = this.solve(q.lower, q.labelStarts, q.labelCount, zone, null);
    const aa = state === REFERRAL ? 0 : Flag.AA;
    while (state === FOLLOW) {
      const target = this.nextName!;
      const at = this.nextStart;
      if (!isSubdomainAt(target, at, zone.origin)) {
        state = HIT;
        break;
      }
      const c = this.cursor;
      c.set(target, at);
      this.nameEnd = c.length;
      state = this.solve(c.lower, c.starts, c.count, zone, target, at);
    }
    // Truncation (RFC 2181 9) as Knot does it: the RRset that does not fit is left out, the message
    // ends there with what it has, TC set; the sections after are not started.
    const yx = this.yxdomain ? Rcode.YXDOMAIN : Rcode.NOERROR;
    if (state === TRUNCATED) return yx | aa | Flag.TC;
    // RFC 4035 3.1.1: the answer's RRSIGs, all of them, or the answer does not fit.
    if (this.signed && !this.flushSigs(ANSWER, false)) return yx | aa | Flag.TC;
    let rcode: number = yx;
    if (state === NXDOMAIN || state === NODATA) {
      if (state === NXDOMAIN) rcode = Rcode.NXDOMAIN;
      // The SOA is optional to Knot: one that does not fit ends the message without TC.
      if (!w.putRRset(AUTHORITY, zone.origin, zone.soa, zone.negativeTtl)) return rcode | aa;
      if (this.signed) this.queueSigs(zone.origin, zone.soa, zone.negativeTtl);
    } else if (state === REFERRAL) {
      const cut = this.cut!;
      const ns = getRRset(cut, Type.NS)!;
      if (!w.putRRset(AUTHORITY, cut.nameData, ns, -1, cut.nameStart)) return rcode | aa | Flag.TC;
      this.noteExtras(ns);
      if (this.signed) this.queueSigs(cut.nameData, ns, -1, cut.nameStart);
    }
    if (this.signed && !this.prove(zone, state)) return rcode | aa | Flag.TC;
    // In-bailiwick glue that does not fit sets TC (RFC 9471); other additionals are just left out.
    const glueMissing = this.putAdditional(zone, state === REFERRAL ? this.cut : null);
    return rcode | aa | (glueMissing ? Flag.TC : 0);
  }

  /** Set by solve(): the name to follow (CNAME/DNAME target, at nextStart), the cut of a referral, YXDOMAIN. */
  private nextName: Uint8Array | null = null;
  private nextStart = 0;
  /** Where the owner name given to solve() starts in its buffer. */
  private ownerStart = 0;
  private cut: ZoneNode | null = null;
  private yxdomain = false;

  /**
   * Find `name` (lower-cased labels in `lower` at `starts`, `count` labels) in `zone` and put what
   * answers it. `owner` is the name as it should appear in the answer (null: the question name).
   */
  private solve(lower: Buffer, starts: Int32Array, count: number, zone: Zone, owner: Uint8Array | null, ownerStart = 0): number {
    this.ownerStart = ownerStart;
    const apex = zone.apex;
    // Labels of the name below the apex have indexes rel-1 (next to the apex) down to 0.
    const rel = count - zone.labels;
    const path = this.path;
    let node = apex;
    let d = 0;
    path[0] = apex;
    this.nameLower = lower;
    this.nameStarts = starts;
    this.nameCount = count;
    this.match = null;
    let i = rel - 1;
    for (; i >= 0; i--) {
      const s = starts[i]!;
      const next = findChild(node, lower, s);
      if (next === undefined) break;
      // NSEC3 records are not names of the zone (RFC 5155 7.2.8 hashed owners; Knot keeps them apart).
      if (d === 0 && next.kids === null && this.dnssec!.denial === DENIAL_NSEC3 && isNsec3Owner(next)) break;
      node = next;
      path[++d] = node;
      this.depth = d;
      if (i > 0) {
        if (node.flags & NODE_DELEGATION) return this.referral(node);
        if (node.flags & NODE_DNAME) return this.dname(node, owner, starts, i);
      }
    }
    this.depth = d;
    const qtype = this.query.qtype;
    if (i >= 0) {
      // Not found: `node` is the closest encloser (RFC 4592 3.3.1).
      const wc = wildcardChild(node);
      if (wc === null) return NXDOMAIN;
      return this.found(wc, owner, qtype, true);
    }
    if (node.flags & NODE_DELEGATION && qtype !== Type.DS) return this.referral(node);
    return this.found(node, owner, qtype, false);
  }

  private found(node: ZoneNode, owner: Uint8Array | null, qtype: number, wildcard: boolean): number {
    const os = this.ownerStart;
    const w = this.writer;
    this.match = node;
    if (wildcard && this.signed) this.visitWildcard(node);
    if (wildcard && node.flags & NODE_DELEGATION) return this.referral(node);
    const cname = getRRset(node, Type.CNAME);
    if (cname !== undefined && qtype !== Type.CNAME && qtype !== Type.RRSIG && qtype !== Type.NSEC && qtype !== Type.ANY) {
      if (++this.steps > MAX_CHAIN) return HIT;
      // A loop: what is in the answer is the answer. (A wildcard CNAME has a new owner each time.)
      if (!wildcard && this.chain.includes(cname)) return HIT;
      if (!w.putRRset(ANSWER, owner, cname, -1, os)) return TRUNCATED;
      if (this.signed) this.queueSigs(owner, cname, -1, os);
      this.chain.push(cname);
      this.nextName = cname.data;
      this.nextStart = cname.start + 2;
      return FOLLOW;
    }
    let rrset: RRset | undefined;
    if (qtype === Type.ANY) {
      // RFC 8482 4.1: one RRset, the one of the lowest type (Knot's pick), whatever the transport.
      for (let r = node.sets; r !== null; r = r.next) if (rrset === undefined || r.type < rrset.type) rrset = r;
    } else if (qtype === Type.RRSIG) {
      // Likewise for RRSIG (RFC 8482 7 leaves it open): the signatures of one RRset, the signed
      // one of the lowest type, as Knot answers.
      let signed: RRset | undefined;
      for (let r = node.sets; r !== null; r = r.next) if (r.sigs !== undefined && (signed === undefined || r.type < signed.type)) signed = r;
      rrset = signed?.sigs;
    } else {
      rrset = getRRset(node, qtype);
    }
    if (rrset === undefined) return NODATA;
    if (!w.putRRset(ANSWER, owner, rrset, -1, os)) return TRUNCATED;
    if (this.signed) {
      this.queueSigs(owner, rrset, -1, os);
      // An NSEC in the answer is not repeated as a proof (Knot's duplicate check, by RRset).
      if (rrset.type === Type.NSEC) this.proofs.push(node);
    }
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
  private dname(node: ZoneNode, owner: Uint8Array | null, starts: Int32Array, i: number): number {
    const w = this.writer;
    const dname = getRRset(node, Type.DNAME)!;
    if (++this.steps > MAX_CHAIN) return HIT;
    // The DNAME goes in once; the CNAMEs it synthesizes differ at each step.
    if (!this.chain.includes(dname)) {
      if (!w.putRRset(ANSWER, node.nameData, dname, -1, node.nameStart)) return TRUNCATED;
      if (this.signed) this.queueSigs(node.nameData, dname, -1, node.nameStart);
      this.chain.push(dname);
    }
    // The current name: the owner given, or the question's in the response (its spelling).
    const current = owner ?? this.writer.buf;
    const os = owner === null ? 12 : this.ownerStart;
    // The labels of the current name left of the DNAME owner end where label i starts.
    const prefixEnd = starts[i]!;
    const d = dname.data;
    const targetLength = (d[dname.start]! << 8) | d[dname.start + 1]!;
    const targetStart = dname.start + 2;
    if (prefixEnd + targetLength > MAX_NAME_LENGTH) {
      this.yxdomain = true; // RFC 6672 2.2
      return HIT;
    }
    // The CNAME's one record, [RDLENGTH][name], as an RRset of its own.
    const n = prefixEnd + targetLength;
    const run = Buffer.allocUnsafe(2 + n);
    run[0] = n >>> 8;
    run[1] = n & 0xff;
    for (let k = 0; k < prefixEnd; k++) run[2 + k] = current[os + k]!;
    d.copy(run, 2 + prefixEnd, targetStart, targetStart + targetLength);
    const cname = newRRset(Type.CNAME, dname.ttl, run, 0, 1);
    if (!w.putRRset(ANSWER, owner, cname, -1, this.ownerStart)) return TRUNCATED;
    if (this.query.qtype === Type.CNAME) return HIT;
    this.nextName = run;
    this.nextStart = 2;
    return FOLLOW;
  }

  private noteExtras(rrset: RRset): void {
    const t = rrset.type;
    // Offset of the name in the RDATA (RFC 1035 3.3.11, 3.3.9; RFC 2782).
    const skip = t === Type.NS ? 0 : t === Type.MX ? 2 : t === Type.SRV ? 6 : -1;
    if (skip < 0) return;
    const d = rrset.data;
    let p = rrset.start;
    for (let i = 0; i < rrset.count; i++) {
      const len = (d[p]! << 8) | d[p + 1]!;
      if (len > skip) {
        this.extraNames.push(d);
        this.extraStarts.push(p + 2 + skip);
      }
      p += 2 + len;
    }
  }

  /**
   * A and AAAA of the noted targets that the zone holds (glue below cuts and wildcard expansions
   * included), A before AAAA; an RRset that does not fit is left out. In-bailiwick glue of a referral
   * that does not fit ends the section and sets TC (RFC 9471); returns true then.
   */
  private putAdditional(zone: Zone, cut: ZoneNode | null): boolean {
    const names = this.extraNames;
    const at = this.extraStarts;
    const seen: ZoneNode[] = [];
    const w = this.writer;
    const signed = this.signed;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      const s = at[k]!;
      if (!isSubdomainAt(name, s, zone.origin)) continue;
      const c = this.cursor;
      c.set(name, s);
      const node = this.lookupAdditional(zone, c);
      if (node === undefined || seen.includes(node)) continue;
      seen.push(node);
      const glue = cut !== null && isSubdomainAt(name, s, cut.nameData, cut.nameStart);
      const a = getRRset(node, Type.A);
      if (a !== undefined) {
        if (w.putRRset(ADDITIONAL, name, a, -1, s)) {
          if (signed) this.queueSigs(name, a, -1, s);
        } else if (glue) return true;
      }
      const aaaa = getRRset(node, Type.AAAA);
      if (aaaa !== undefined) {
        if (w.putRRset(ADDITIONAL, name, aaaa, -1, s)) {
          if (signed) this.queueSigs(name, aaaa, -1, s);
        } else if (glue) return true;
      }
    }
    // RFC 4035 3.1.1: RRSIGs of additional data are optional; those that do not fit are left out.
    if (signed) this.flushSigs(ADDITIONAL, true);
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // DNSSEC (RFC 4035 3.1, RFC 5155 7.2).
  // ---------------------------------------------------------------------------------------------

  /** Note the RRSIGs of `rrset` (written with owner `owner`) for the end of the section. */
  private queueSigs(owner: Uint8Array | null, rrset: RRset, ttl = -1, ownerStart = 0): void {
    const sigs = rrset.sigs;
    if (sigs === undefined) return;
    const n = this.sigCount++;
    this.sigOwners[n] = owner;
    this.sigOwnerStarts[n] = ownerStart;
    this.sigSets[n] = sigs;
    this.sigTtls[n] = ttl;
  }

  /**
   * Put the queued RRSIGs in `section`. Mandatory ones (answer, authority) must all fit: false when
   * one does not. Optional ones stop at the first that does not fit.
   */
  private flushSigs(section: number, optional: boolean): boolean {
    const w = this.writer;
    const n = this.sigCount;
    this.sigCount = 0;
    for (let k = 0; k < n; k++) {
      if (!w.putRRset(section, this.sigOwners[k]!, this.sigSets[k]!, this.sigTtls[k]!, this.sigOwnerStarts[k]!)) return optional;
    }
    return true;
  }

  /** Record a wildcard that answered, with what its proof will need (copies: the buffers are reused). */
  private visitWildcard(node: ZoneNode): void {
    for (const v of this.wildcards) if (v.node === node) return;
    const end = this.nameEnd;
    this.wildcards.push({
      node,
      lower: Buffer.from(this.nameLower.subarray(0, end)),
      starts: this.nameStarts.slice(0, this.nameCount),
      count: this.nameCount,
      end,
      depth: this.depth,
    });
  }

  /**
   * The authority section's DNSSEC part for `state`, then the RRSIGs of everything in it; false
   * when it does not fit. RFC 4035 3.1.3 (NSEC), RFC 5155 7.2 (NSEC3), RFC 4035 3.1.4 (referrals).
   */
  private prove(zone: Zone, state: number): boolean {
    const nsec3 = this.dnssec!.denial === DENIAL_NSEC3;
    let ok = true;
    if (state === NXDOMAIN) {
      ok = nsec3 ? this.nxdomain3(zone) : this.nxdomain(zone);
    } else if (state === NODATA) {
      ok = this.nodata(zone, this.match!);
    } else if (state === REFERRAL) {
      // RFC 4035 3.1.4: the DS RRset and its RRSIGs, or the proof that there is none.
      const cut = this.cut!;
      const dsSet = getRRset(cut, Type.DS);
      if (dsSet !== undefined) {
        if (!this.writer.putRRset(AUTHORITY, cut.nameData, dsSet, -1, cut.nameStart)) return false;
        this.queueSigs(cut.nameData, dsSet, -1, cut.nameStart);
      } else {
        ok = this.nodata(zone, cut);
      }
    }
    // RFC 4035 3.1.3.3 / RFC 5155 7.2.6: a wildcard answer proves that the name itself is not there.
    if (ok && state !== REFERRAL) {
      for (const v of this.wildcards) {
        if (!(ok = this.wildcardProof(zone, v))) break;
      }
    }
    return ok && this.flushSigs(AUTHORITY, false);
  }

  /** Put the NSEC (or NSEC3) RRset of `node`, once per message, with its RRSIGs for later. */
  private putProof(node: ZoneNode | undefined, type: number): boolean {
    if (node === undefined) return true;
    const rrset = getRRset(node, type);
    if (rrset === undefined || this.proofs.includes(node)) return true;
    this.proofs.push(node);
    if (!this.writer.putRRset(AUTHORITY, node.nameData, rrset, -1, node.nameStart)) return false;
    this.queueSigs(node.nameData, rrset, -1, node.nameStart);
    return true;
  }

  /** Offset in the name buffer where the suffix `k` labels below the apex starts. */
  private suffixAt(k: number, zone: Zone): number {
    const idx = this.nameCount - zone.labels - k;
    return idx < this.nameCount ? this.nameStarts[idx]! : this.nameEnd - 1;
  }

  /**
   * RFC 4035 3.1.3.2: an NSEC covering the name, and one covering (or matching) the wildcard at the
   * closest encloser.
   */
  private nxdomain(zone: Zone): boolean {
    const rel = this.nameCount - zone.labels;
    if (!this.putProof(this.nsecBefore(zone), Type.NSEC)) return false;
    const wc = nsecCovering(zone.apex, this.nameLower, this.nameStarts, rel - this.depth, this.nameCount, zone.labels, true, false);
    return this.putProof(wc, Type.NSEC);
  }

  /** The node of the NSEC before the current name in canonical order (it covers the name). */
  private nsecBefore(zone: Zone): ZoneNode | undefined {
    return nsecCovering(zone.apex, this.nameLower, this.nameStarts, 0, this.nameCount, zone.labels, false, true);
  }

  /**
   * RFC 5155 7.2.2: the closest encloser proof (7.2.1) and the NSEC3 covering the wildcard at the
   * closest (provable) encloser.
   */
  private nxdomain3(zone: Zone): boolean {
    const ds = this.dnssec!;
    const cpe = this.encloser3(zone, this.depth);
    if (!this.closestEncloserProof(zone, cpe)) return false;
    const n = this.wildcardName(zone, cpe);
    return this.putProof(ds.cover(ds.hash(this.scratch, 0, n)), Type.NSEC3);
  }

  /**
   * NODATA at `match` (RFC 4035 3.1.3.1: its NSEC; an empty non-terminal has none, so as for a name
   * error; RFC 5155 7.2.3-7.2.5: the NSEC3 matching it, plus a closest encloser proof when a
   * wildcard answered or the name is an Opt-Out delegation without an NSEC3 of its own).
   */
  private nodata(zone: Zone, match: ZoneNode): boolean {
    const ds = this.dnssec!;
    if (ds.denial !== DENIAL_NSEC3) {
      // An empty non-terminal owns no NSEC: the one before it covers it (RFC 4035 3.1.3.2). Knot
      // stops there (no wildcard NSEC: a wildcard below the name would have to be its child).
      if (match.sets === null) return this.putProof(this.nsecBefore(zone), Type.NSEC);
      return this.putProof(match, Type.NSEC);
    }
    const synthesized = isWildcard(match) && match !== this.path[this.depth];
    let hash: string;
    if (synthesized) {
      const n = this.wildcardName(zone, this.depth);
      hash = ds.hash(this.scratch, 0, n);
    } else {
      hash = ds.hash(this.nameLower, this.suffixAt(this.depth, zone), this.nameEnd);
    }
    const own = ds.match(hash);
    if (!this.putProof(own, Type.NSEC3)) return false;
    // No NSEC3 of its own: left out by Opt-Out (an insecure delegation, or an empty non-terminal
    // with only such below it, RFC 5155 7.1), so it is proved to lie in an Opt-Out span (7.2.4).
    const optOut = own === undefined;
    if ((synthesized && !this.questionIsWildcard()) || optOut) {
      return this.closestEncloserProof(zone, this.encloser3(zone, this.depth));
    }
    return true;
  }

  /** The current name's first label is '*' (a wildcard asked for by name: not an expansion). */
  private questionIsWildcard(): boolean {
    const lower = this.nameLower;
    const s = this.nameStarts[0]!;
    return this.nameCount > 0 && lower[s] === 1 && lower[s + 1] === 0x2a;
  }

  /**
   * RFC 5155 7.2.1: the NSEC3 matching the closest provable encloser (`cpe` labels below the apex)
   * and the one covering the next closer name.
   */
  private closestEncloserProof(zone: Zone, cpe: number): boolean {
    const ds = this.dnssec!;
    const end = this.nameEnd;
    if (!this.putProof(ds.match(ds.hash(this.nameLower, this.suffixAt(cpe, zone), end)), Type.NSEC3)) return false;
    if (cpe >= this.nameCount - zone.labels) return true;
    return this.putProof(ds.cover(ds.hash(this.nameLower, this.suffixAt(cpe + 1, zone), end)), Type.NSEC3);
  }

  /**
   * The closest provable encloser (RFC 5155 7.2.1) from `path[depth]` up: the first name with an
   * NSEC3 (Opt-Out leaves insecure delegations and the empty non-terminals above only them out).
   */
  private encloser3(zone: Zone, depth: number): number {
    const ds = this.dnssec!;
    let k = depth;
    while (k > 0 && ds.match(ds.hash(this.nameLower, this.suffixAt(k, zone), this.nameEnd)) === undefined) k--;
    return k;
  }

  /** '*' + the name `k` labels below the apex, into the scratch buffer; returns its length. */
  private wildcardName(zone: Zone, k: number): number {
    const b = this.scratch;
    b[0] = 1;
    b[1] = 0x2a;
    const from = this.suffixAt(k, zone);
    this.nameLower.copy(b, 2, from, this.nameEnd);
    return 2 + this.nameEnd - from;
  }

  /**
   * The proof for a wildcard expansion (RFC 4035 3.1.3.3: the NSEC covering the name; RFC 5155
   * 7.2.6: the NSEC3 covering the next closer name). Not for a name that is itself a wildcard.
   */
  private wildcardProof(zone: Zone, v: WildcardVisit): boolean {
    // The name buffers are the visit's from here on (prove() runs once the answer is complete).
    this.nameLower = v.lower;
    this.nameStarts = v.starts;
    this.nameCount = v.count;
    this.nameEnd = v.end;
    if (this.questionIsWildcard()) return true;
    if (this.dnssec!.denial !== DENIAL_NSEC3) {
      return this.putProof(nsecCovering(zone.apex, v.lower, v.starts, 0, v.count, zone.labels, false, true), Type.NSEC);
    }
    const ds = this.dnssec!;
    const cpe = this.encloser3(zone, v.depth);
    if (cpe >= v.count - zone.labels) return true;
    return this.putProof(ds.cover(ds.hash(v.lower, this.suffixAt(cpe + 1, zone), v.end)), Type.NSEC3);
  }

  /** The node holding the addresses of `c`: the exact name (through cuts: glue), else a wildcard. */
  private lookupAdditional(zone: Zone, c: LowerName): ZoneNode | undefined {
    let node = zone.apex;
    for (let i = c.count - zone.labels - 1; i >= 0; i--) {
      const next = findChild(node, c.lower, c.starts[i]!);
      if (next === undefined) return wildcardChild(node) ?? undefined;
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
    // The identity as one TXT string (made once).
    const rrset = (this.identityTxt ??= rrsetOf(Type.TXT, 0, [Buffer.concat([Buffer.from([this.identity.length]), this.identity])]));
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
