// Semantic comparison of two DNS responses (RFC 1035 4.1, RFC 6891 OPT): header, question, and sections as sets of RRsets, with short readable diffs.

import dnsPacket from 'dns-packet';

// ---------------------------------------------------------------------------------------------
// A small, independent message parser. It keeps RDATA as bytes and expands compressed names
// inside the RDATA of the types that may carry them (RFC 3597 4: only the RFC 1035 types, plus
// the types that some servers compress anyway), so two encodings of one record compare equal.
// ---------------------------------------------------------------------------------------------

export interface ParsedRR {
  /** Owner in presentation format, original spelling. */
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** RDATA with compressed names expanded (names keep their spelling). */
  rdata: Buffer;
  /** Canonical RDATA: names expanded and, for RFC 4034 6.2 types, lower-cased. */
  canon: Buffer;
}

export interface ParsedEdns {
  payload: number;
  extRcode: number;
  version: number;
  do: boolean;
  /** Flags other than DO. */
  zflags: number;
  options: { code: number; data: Buffer }[];
  /** Owner name of the OPT RR (must be the root). */
  owner: string;
}

export interface ParsedMessage {
  id: number;
  flags: number;
  opcode: number;
  /** Full rcode: header rcode plus EDNS extended bits. */
  rcode: number;
  qr: boolean;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: boolean;
  ad: boolean;
  cd: boolean;
  question: { name: string; type: number; class: number }[];
  answer: ParsedRR[];
  authority: ParsedRR[];
  /** Additional section without OPT (and without TSIG). */
  additional: ParsedRR[];
  edns: ParsedEdns | null;
  /** Bytes after the last record (should be 0). */
  trailing: number;
  size: number;
}

export class ParseError extends Error {
  readonly code = 'ERR_TEST_PARSE';
}

function readName(buf: Buffer, start: number): { name: Buffer; end: number } {
  const out: number[] = [];
  let o = start;
  let end = -1;
  let hops = 0;
  for (;;) {
    if (o >= buf.length) throw new ParseError(`name runs past end at ${o}`);
    const len = buf[o]!;
    if (len === 0) {
      out.push(0);
      if (end < 0) end = o + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= buf.length) throw new ParseError('truncated compression pointer');
      if (end < 0) end = o + 2;
      const ptr = ((len & 0x3f) << 8) | buf[o + 1]!;
      if (++hops > 127 || ptr >= buf.length) throw new ParseError(`bad compression pointer ${ptr}`);
      o = ptr;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new ParseError(`bad label type 0x${len.toString(16)}`);
    if (o + 1 + len > buf.length) throw new ParseError('label runs past end');
    for (let i = o; i <= o + len; i++) out.push(buf[i]!);
    o += 1 + len;
    if (out.length > 255) throw new ParseError('name longer than 255 octets');
  }
  return { name: Buffer.from(out), end };
}

/** Presentation format of an uncompressed wire name. */
export function nameText(wire: Buffer): string {
  if (wire.length === 1) return '.';
  let s = '';
  let o = 0;
  while (wire[o] !== 0) {
    const len = wire[o]!;
    for (let i = o + 1; i <= o + len; i++) {
      const c = wire[i]!;
      if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) s += '\\' + String.fromCharCode(c);
      else if (c <= 0x20 || c >= 0x7f) s += '\\' + String(c).padStart(3, '0');
      else s += String.fromCharCode(c);
    }
    s += '.';
    o += 1 + len;
  }
  return s;
}

function lowerName(wire: Buffer): Buffer {
  const b = Buffer.from(wire);
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x41 && b[i]! <= 0x5a) b[i] = b[i]! + 0x20;
  return b;
}

/**
 * RDATA layouts with embedded names: a list of field kinds. 'N' a domain name, 'n' a domain
 * name that is not case-folded in canonical form, numbers are fixed-size byte fields, 'S' a
 * character-string, '*' the rest as bytes.
 */
const LAYOUTS: Record<number, (string | number)[]> = {
  2: ['N'], // NS
  3: ['N'], // MD
  4: ['N'], // MF
  5: ['N'], // CNAME
  6: ['N', 'N', 20], // SOA
  7: ['N'], // MB
  8: ['N'], // MG
  9: ['N'], // MR
  12: ['N'], // PTR
  14: ['N', 'N'], // MINFO
  15: [2, 'N'], // MX
  17: ['N', 'N'], // RP
  18: [2, 'N'], // AFSDB
  21: [2, 'N'], // RT
  26: [2, 'N', 'N'], // PX
  33: [6, 'N'], // SRV
  35: [4, 'S', 'S', 'S', 'N'], // NAPTR
  36: [2, 'N'], // KX
  39: ['N'], // DNAME
  46: [18, 'N', '*'], // RRSIG
  47: ['n', '*'], // NSEC (not lower-cased since RFC 6840 5.1)
};

function parseRdata(buf: Buffer, type: number, start: number, end: number): { rdata: Buffer; canon: Buffer } {
  const layout = LAYOUTS[type];
  const raw = buf.subarray(start, end);
  if (!layout) return { rdata: Buffer.from(raw), canon: Buffer.from(raw) };
  const parts: Buffer[] = [];
  const canon: Buffer[] = [];
  let o = start;
  for (const f of layout) {
    if (typeof f === 'number') {
      if (o + f > end) throw new ParseError(`RDATA of type ${type} too short`);
      parts.push(buf.subarray(o, o + f));
      canon.push(buf.subarray(o, o + f));
      o += f;
    } else if (f === 'N' || f === 'n') {
      const { name, end: e } = readName(buf, o);
      if (e > end) throw new ParseError(`name in RDATA of type ${type} runs past RDLENGTH`);
      parts.push(name);
      canon.push(f === 'N' ? lowerName(name) : name);
      o = e;
    } else if (f === 'S') {
      if (o >= end || o + 1 + buf[o]! > end) throw new ParseError(`string in RDATA of type ${type} runs past RDLENGTH`);
      const s = buf.subarray(o, o + 1 + buf[o]!);
      parts.push(s);
      canon.push(s);
      o += s.length;
    } else {
      parts.push(buf.subarray(o, end));
      canon.push(buf.subarray(o, end));
      o = end;
    }
  }
  if (o !== end) throw new ParseError(`RDATA of type ${type} has ${end - o} stray bytes`);
  return { rdata: Buffer.concat(parts), canon: Buffer.concat(canon) };
}

/** Parse a DNS message. Throws ParseError on malformed input. */
export function parseMessage(buf: Buffer): ParsedMessage {
  if (buf.length < 12) throw new ParseError(`message of ${buf.length} bytes is shorter than a header`);
  const flags = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let o = 12;
  const question: ParsedMessage['question'] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const { name, end } = readName(buf, o);
    if (end + 4 > buf.length) throw new ParseError('question runs past end');
    question.push({ name: nameText(name), type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) });
    o = end + 4;
  }
  const sections: ParsedRR[][] = [[], [], []];
  let edns: ParsedEdns | null = null;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const { name, end } = readName(buf, o);
      if (end + 10 > buf.length) throw new ParseError('RR header runs past end');
      const type = buf.readUInt16BE(end);
      const klass = buf.readUInt16BE(end + 2);
      const ttl = buf.readUInt32BE(end + 4);
      const rdlen = buf.readUInt16BE(end + 8);
      const rstart = end + 10;
      if (rstart + rdlen > buf.length) throw new ParseError('RDATA runs past end');
      o = rstart + rdlen;
      if (s === 2 && type === 41) {
        if (edns) throw new ParseError('two OPT records');
        const options: ParsedEdns['options'] = [];
        for (let p = rstart; p < o; ) {
          if (p + 4 > o) throw new ParseError('EDNS option header runs past end');
          const code = buf.readUInt16BE(p);
          const len = buf.readUInt16BE(p + 2);
          if (p + 4 + len > o) throw new ParseError('EDNS option runs past end');
          options.push({ code, data: Buffer.from(buf.subarray(p + 4, p + 4 + len)) });
          p += 4 + len;
        }
        edns = {
          payload: klass,
          extRcode: ttl >>> 24,
          version: (ttl >>> 16) & 0xff,
          do: (ttl & 0x8000) !== 0,
          zflags: ttl & 0x7fff,
          options,
          owner: nameText(name),
        };
        continue;
      }
      const { rdata, canon } = parseRdata(buf, type, rstart, o);
      sections[s]!.push({ name: nameText(name), type, class: klass, ttl, rdata, canon });
    }
  }
  return {
    id: buf.readUInt16BE(0),
    flags,
    opcode: (flags >>> 11) & 0xf,
    rcode: (flags & 0xf) | ((edns?.extRcode ?? 0) << 4),
    qr: (flags & 0x8000) !== 0,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    question,
    answer: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
    edns,
    trailing: buf.length - o,
    size: buf.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Presentation of records, for diffs. dns-packet decodes the RDATA of the common types; anything
// it cannot decode is shown in RFC 3597 generic form.
// ---------------------------------------------------------------------------------------------

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 44: 'SSHFP', 46: 'RRSIG', 47: 'NSEC',
  48: 'DNSKEY', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF',
  255: 'ANY', 257: 'CAA', 252: 'AXFR', 251: 'IXFR',
};
export const typeName = (t: number): string => TYPE_NAMES[t] ?? `TYPE${t}`;
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };
export const className = (c: number): string => CLASS_NAMES[c] ?? `CLASS${c}`;
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
export const rcodeName = (r: number): string => RCODE_NAMES[r] ?? (r === 16 ? 'BADVERS' : `RCODE${r}`);

const dnsTypesForDisplay = new Set([1, 2, 5, 6, 12, 13, 15, 16, 28, 33, 35, 39, 43, 44, 257]);

/** RDATA in presentation format (best effort). */
export function rdataText(type: number, rdata: Buffer): string {
  if (type === 1 && rdata.length === 4) return [...rdata].join('.');
  if (dnsTypesForDisplay.has(type)) {
    try {
      const name = typeName(type) as dnsPacket.RecordType;
      const codec = (dnsPacket as unknown as { record(t: string): { decode(b: Buffer, o?: number): unknown } }).record(name);
      // dns-packet's RDATA decoders read a 2-byte RDLENGTH first.
      const withLen = Buffer.alloc(rdata.length + 2);
      withLen.writeUInt16BE(rdata.length, 0);
      rdata.copy(withLen, 2);
      const v = codec.decode(withLen, 0);
      return displayValue(v);
    } catch {
      // fall through to the generic form
    }
  }
  return `\\# ${rdata.length} ${rdata.toString('hex')}`.trimEnd();
}

function displayValue(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map((x) => (Buffer.isBuffer(x) ? JSON.stringify(x.toString('latin1')) : displayValue(x))).join(' ');
  if (v && typeof v === 'object') return Object.values(v as Record<string, unknown>).map(displayValue).join(' ');
  return String(v);
}

export function rrText(rr: ParsedRR): string {
  return `${rr.name} ${rr.ttl} ${className(rr.class)} ${typeName(rr.type)} ${rdataText(rr.type, rr.rdata)}`;
}

/** A whole message in a dig-like text form, for failure messages and debugging. */
export function messageText(buf: Buffer): string {
  let m: ParsedMessage;
  try {
    m = parseMessage(buf);
  } catch (err) {
    return `unparsable (${(err as Error).message}): ${buf.toString('hex')}`;
  }
  const fl = ['qr', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd'].filter((f) => m[f as keyof ParsedMessage]).join(' ');
  const lines = [`;; id ${m.id} opcode ${m.opcode} ${rcodeName(m.rcode)} flags: ${fl} size ${m.size}`];
  if (m.edns) lines.push(`;; EDNS v${m.edns.version} payload ${m.edns.payload}${m.edns.do ? ' do' : ''}${m.edns.options.map((o) => ` opt${o.code}=${o.data.toString('hex')}`).join('')}`);
  for (const q of m.question) lines.push(`;; Q ${q.name} ${className(q.class)} ${typeName(q.type)}`);
  for (const [label, sec] of [['AN', m.answer], ['NS', m.authority], ['AR', m.additional]] as const) for (const rr of sec) lines.push(`${label} ${rrText(rr)}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Comparison.
// ---------------------------------------------------------------------------------------------

export interface CompareOptions {
  /**
   * When to compare the additional section: 'always', 'never', or 'referral' (the default):
   * only when the response is a referral (AA clear, NS in authority).
   */
  additional?: 'always' | 'never' | 'referral';
  /** Compare the message ID too (default false: batch clients choose their own IDs). */
  id?: boolean;
  /** Compare owner-name spelling case-sensitively (default false). */
  ownerCase?: boolean;
  /** Compare names inside RDATA case-sensitively (default false). */
  rdataCase?: boolean;
  /** Also report a different order of RRsets within a section (default false: sets). */
  order?: boolean;
  /** Compare EDNS options by code and content (default true; set false to ignore e.g. NSID). */
  ednsOptions?: boolean;
  /** Compare the exact message size (default false). */
  size?: boolean;
  /** Labels used in diffs for the two sides (default 'a' and 'b'). */
  labels?: [string, string];
}

interface RRsetView {
  key: string;
  display: string;
  /** Sorted "ttl rdata" strings. */
  members: string[];
  spelling: string;
}

function rrsets(rrs: ParsedRR[], o: CompareOptions): RRsetView[] {
  const map = new Map<string, RRsetView>();
  for (const rr of rrs) {
    const owner = o.ownerCase ? rr.name : rr.name.toLowerCase();
    const key = `${owner}|${rr.class}|${rr.type}`;
    let v = map.get(key);
    if (!v) {
      v = { key, display: `${rr.name} ${className(rr.class)} ${typeName(rr.type)}`, members: [], spelling: rr.name };
      map.set(key, v);
    }
    const data = o.rdataCase ? rr.rdata : rr.canon;
    v.members.push(`${rr.ttl} ${data.toString('hex')}`);
  }
  const out = [...map.values()];
  for (const v of out) v.members.sort();
  return out;
}

function memberText(type: number, m: string): string {
  const sp = m.indexOf(' ');
  return `${m.slice(0, sp)} ${rdataText(type, Buffer.from(m.slice(sp + 1), 'hex'))}`;
}

function compareSection(label: string, ra: ParsedRR[], rb: ParsedRR[], o: CompareOptions, out: string[]): void {
  const [la, lb] = o.labels ?? ['a', 'b'];
  const sa = rrsets(ra, o);
  const sb = rrsets(rb, o);
  const mb = new Map(sb.map((v) => [v.key, v]));
  const ma = new Map(sa.map((v) => [v.key, v]));
  for (const va of sa) {
    const vb = mb.get(va.key);
    const type = Number(va.key.slice(va.key.lastIndexOf('|') + 1));
    if (!vb) {
      out.push(`${label}: only ${la} has ${va.display} (${va.members.map((m) => memberText(type, m)).join('; ')})`);
      continue;
    }
    if (va.members.join(',') !== vb.members.join(',')) {
      const ta = new Set(va.members.map((m) => m.slice(0, m.indexOf(' '))));
      const tb = new Set(vb.members.map((m) => m.slice(0, m.indexOf(' '))));
      const da = va.members.map((m) => m.slice(m.indexOf(' ') + 1)).sort();
      const db = vb.members.map((m) => m.slice(m.indexOf(' ') + 1)).sort();
      if (da.join(',') === db.join(',')) {
        out.push(`${label}: ${va.display} TTL ${[...ta].join('/')} (${la}) vs ${[...tb].join('/')} (${lb})`);
      } else {
        const onlyA = va.members.filter((m) => !vb.members.includes(m));
        const onlyB = vb.members.filter((m) => !va.members.includes(m));
        out.push(
          `${label}: ${va.display} differs (${va.members.length} vs ${vb.members.length} RRs)` +
            (onlyA.length ? `; only ${la}: ${onlyA.slice(0, 3).map((m) => memberText(type, m)).join('; ')}${onlyA.length > 3 ? ` (+${onlyA.length - 3})` : ''}` : '') +
            (onlyB.length ? `; only ${lb}: ${onlyB.slice(0, 3).map((m) => memberText(type, m)).join('; ')}${onlyB.length > 3 ? ` (+${onlyB.length - 3})` : ''}` : ''),
        );
      }
    }
  }
  for (const vb of sb) {
    if (ma.has(vb.key)) continue;
    const type = Number(vb.key.slice(vb.key.lastIndexOf('|') + 1));
    out.push(`${label}: only ${lb} has ${vb.display} (${vb.members.map((m) => memberText(type, m)).join('; ')})`);
  }
  if (o.order) {
    const oa = sa.map((v) => v.key).filter((k) => mb.has(k));
    const ob = sb.map((v) => v.key).filter((k) => ma.has(k));
    if (oa.join(',') !== ob.join(',')) out.push(`${label}: RRset order differs: ${oa.map((k) => k.replaceAll('|', ' ')).join(', ')} vs ${ob.map((k) => k.replaceAll('|', ' ')).join(', ')}`);
  }
}

/** Is this response a referral: not authoritative, no answer, NS records in authority? */
export function isReferral(m: ParsedMessage): boolean {
  return !m.aa && m.answer.length === 0 && m.authority.some((rr) => rr.type === 2);
}

/**
 * Compare two responses semantically; [] when they are the same. Each string is one short
 * human-readable difference. Unparsable responses are compared as raw bytes.
 */
export function compareResponses(a: Buffer, b: Buffer, opts: CompareOptions = {}): string[] {
  const [la, lb] = opts.labels ?? ['a', 'b'];
  let ma: ParsedMessage;
  let mb: ParsedMessage;
  try {
    ma = parseMessage(a);
  } catch (err) {
    try {
      parseMessage(b);
    } catch {
      return a.equals(b) ? [] : [`both unparsable and the bytes differ`];
    }
    return [`${la} unparsable: ${(err as Error).message}`];
  }
  try {
    mb = parseMessage(b);
  } catch (err) {
    return [`${lb} unparsable: ${(err as Error).message}`];
  }
  const out: string[] = [];
  const diff = (what: string, x: unknown, y: unknown): void => {
    if (x !== y) out.push(`${what}: ${String(x)} (${la}) vs ${String(y)} (${lb})`);
  };
  if (opts.id) diff('id', ma.id, mb.id);
  diff('rcode', rcodeName(ma.rcode), rcodeName(mb.rcode));
  diff('opcode', ma.opcode, mb.opcode);
  for (const f of ['qr', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd'] as const) diff(`flag ${f.toUpperCase()}`, ma[f], mb[f]);
  const qa = ma.question.map((q) => `${q.name} ${className(q.class)} ${typeName(q.type)}`).join(', ');
  const qb = mb.question.map((q) => `${q.name} ${className(q.class)} ${typeName(q.type)}`).join(', ');
  diff('question', qa || '(none)', qb || '(none)');
  compareSection('answer', ma.answer, mb.answer, opts, out);
  compareSection('authority', ma.authority, mb.authority, opts, out);
  const addMode = opts.additional ?? 'referral';
  if (addMode === 'always' || (addMode === 'referral' && (isReferral(ma) || isReferral(mb)))) {
    compareSection('additional', ma.additional, mb.additional, opts, out);
  }
  if (!ma.edns !== !mb.edns) {
    out.push(`EDNS: ${ma.edns ? 'present' : 'absent'} (${la}) vs ${mb.edns ? 'present' : 'absent'} (${lb})`);
  } else if (ma.edns && mb.edns) {
    diff('EDNS payload', ma.edns.payload, mb.edns.payload);
    diff('EDNS version', ma.edns.version, mb.edns.version);
    diff('EDNS DO', ma.edns.do, mb.edns.do);
    diff('EDNS flags', ma.edns.zflags, mb.edns.zflags);
    if (opts.ednsOptions !== false) {
      const fa = ma.edns.options.map((x) => `${x.code}:${x.data.toString('hex')}`).sort().join(' ');
      const fb = mb.edns.options.map((x) => `${x.code}:${x.data.toString('hex')}`).sort().join(' ');
      diff('EDNS options', fa || '(none)', fb || '(none)');
    }
  }
  if (ma.trailing || mb.trailing) diff('trailing bytes', ma.trailing, mb.trailing);
  if (opts.size) diff('size', ma.size, mb.size);
  return out;
}

/**
 * Check a response against the query that produced it: QR set, same ID, same opcode, RD echoed,
 * question echoed byte for byte (spelling included). Returns problems ([] if fine).
 */
export function checkEcho(queryMsg: Buffer, response: Buffer): string[] {
  const out: string[] = [];
  let r: ParsedMessage;
  let q: ParsedMessage;
  try {
    q = parseMessage(queryMsg);
    r = parseMessage(response);
  } catch (err) {
    return [`unparsable: ${(err as Error).message}`];
  }
  if (!r.qr) out.push('QR not set');
  if (q.rd !== r.rd) out.push('RD not echoed');
  if (q.opcode !== r.opcode) out.push('opcode not echoed');
  const qq = q.question[0];
  const rq = r.question[0];
  if (qq && rq && (qq.name !== rq.name || qq.type !== rq.type || qq.class !== rq.class)) out.push(`question ${rq.name} not an echo of ${qq.name}`);
  return out;
}
