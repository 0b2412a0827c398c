// Presentation formats of RDATA, text <-> uncompressed wire, one table entry per type (RFC 1035 3.3/5,
// RFC 3596, 2782, 3403, 1876, 4034, 5155, 4255, 6698, 8162, 7929, 7553, 8659, 8976, 9460, 4398, 7477,
// 4701, 4025, 7043, 6742, 3123, 2163, 1183) and the RFC 3597 generic form `\# LEN HEX` for every type.
//
// Each type is declared once as a list of fields (or a hand-written codec where the grammar is not a
// plain sequence: LOC, SVCB, APL, IPSECKEY); the same declaration parses text and formats wire, so
// the reader and the writer cannot drift apart.

import { Type, typeFromText, typeToText } from '../wire/constants.js';
import { NameSyntaxError, WireFormatError } from '../wire/errors.js';
import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH, nameFromText, nameToText } from '../wire/name.js';
import {
  base32hexToBytes,
  base64ToBytes,
  bytesToBase32hex,
  bytesToIpv4,
  bytesToIpv6,
  escapeText,
  hexToBytes,
  ipv4ToBytes,
  ipv6ToBytes,
  parseDuration,
  parseSigTime,
  parseUint,
  sigTimeToText,
  unescapeText,
} from './encoding.js';
import { RdataTextError, UnpresentableError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

const MAX_RDATA = 0xffff;

// --- the two cursors --------------------------------------------------------------------------

// RDATA is assembled in one scratch buffer and copied out once per record: parsing is synchronous,
// so one buffer serves every call.
const scratch = Buffer.allocUnsafe(MAX_RDATA);

/** Reads RDATA tokens and writes wire octets. Field parsers call `next()` and the `put*` methods. */
export class RdataParser {
  o = 0;
  constructor(
    readonly tokens: readonly Token[],
    public i: number,
    readonly origin: Buffer | undefined,
  ) {}

  more(): boolean {
    return this.i < this.tokens.length;
  }
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  /** The next token; a missing one is an error located just after the entry (token undefined). */
  next(what: string): Token {
    const t = this.tokens[this.i];
    if (!t) throw new RdataTextError(`missing ${what}`);
    this.i++;
    return t;
  }
  fail(message: string, token?: Token): never {
    throw new RdataTextError(message, token);
  }
  private room(n: number, at?: Token): void {
    if (this.o + n > MAX_RDATA) this.fail('RDATA longer than 65535 octets', at);
  }
  u8(v: number): void {
    this.room(1);
    scratch[this.o++] = v;
  }
  u16(v: number): void {
    this.room(2);
    scratch.writeUInt16BE(v, this.o);
    this.o += 2;
  }
  u32(v: number): void {
    this.room(4);
    scratch.writeUInt32BE(v, this.o);
    this.o += 4;
  }
  put(b: Uint8Array, at?: Token): void {
    this.room(b.length, at);
    scratch.set(b, this.o);
    this.o += b.length;
  }
  /** Overwrite one octet already written (length prefixes known only afterwards). */
  patch8(at: number, v: number): void {
    scratch[at] = v;
  }
  patch16(at: number, v: number): void {
    scratch.writeUInt16BE(v, at);
  }
  /** A decimal number token in [0, max]. */
  uint(what: string, max: number): number {
    const t = this.next(what);
    const v = t.quoted ? undefined : parseUint(t.text, max);
    if (v === undefined) this.fail(`bad ${what} "${t.text}" (a number from 0 to ${max})`, t);
    return v;
  }
  /** A domain name token, relative names completed with the origin. */
  name(what: string): Buffer {
    const t = this.next(what);
    try {
      return nameFromText(t.text, this.origin);
    } catch (err) {
      if (err instanceof NameSyntaxError) this.fail(`bad ${what}: ${err.message}`, t);
      throw err;
    }
  }
  /** The concatenated text of every remaining token (base64 and hex may be split over blanks). */
  restJoined(): { text: string; first: Token | undefined } {
    const first = this.tokens[this.i];
    let s = '';
    for (; this.i < this.tokens.length; this.i++) s += this.tokens[this.i]!.text;
    return { text: s, first };
  }
  result(): Buffer {
    return Buffer.from(scratch.subarray(0, this.o));
  }
}

/** Reads uncompressed wire RDATA for formatters; running past the end is a WireFormatError. */
export class RdataCursor {
  p = 0;
  constructor(readonly b: Buffer) {}
  get left(): number {
    return this.b.length - this.p;
  }
  private need(n: number): void {
    if (this.p + n > this.b.length) throw new WireFormatError('RDATA too short');
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.p);
    this.p += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  rest(): Buffer {
    return this.bytes(this.left);
  }
  /** An uncompressed name: labels of <= 63 octets, <= 255 octets in all, inside the RDATA. */
  name(): Buffer {
    const start = this.p;
    for (;;) {
      const len = this.u8();
      if (len === 0) break;
      if (len > MAX_LABEL_LENGTH) throw new WireFormatError('bad label length in RDATA name');
      this.bytes(len);
      if (this.p - start > MAX_NAME_LENGTH) throw new WireFormatError('RDATA name longer than 255 octets');
    }
    return this.b.subarray(start, this.p);
  }
  charString(): Buffer {
    return this.bytes(this.u8());
  }
}

// --- fields -----------------------------------------------------------------------------------

/** One piece of a presentation format: parse tokens into wire octets, or format wire back to text. */
export interface Field {
  parse(p: RdataParser): void;
  /** Text of the field, or '' when it has nothing to show (an optional trailing field). */
  format(r: RdataCursor): string;
}

export interface RdataCodec {
  /** BIND 9 and Knot DNS both know this mnemonic and format: the writer may use it. */
  portable: boolean;
  /** No presentation format (NULL): only the generic form, both ways. */
  opaque?: boolean;
  parse(p: RdataParser): void;
  format(r: RdataCursor): string;
}

const uint = (bytes: 1 | 2 | 4, what: string): Field => {
  const max = bytes === 1 ? 0xff : bytes === 2 ? 0xffff : 0xffffffff;
  return {
    parse(p: RdataParser) {
      const v = p.uint(what, max);
      if (bytes === 1) p.u8(v);
      else if (bytes === 2) p.u16(v);
      else p.u32(v);
    },
    format(r: RdataCursor) {
      return String(bytes === 1 ? r.u8() : bytes === 2 ? r.u16() : r.u32());
    },
  };
};
const u8 = (what: string): Field => uint(1, what);
const u16 = (what: string): Field => uint(2, what);
const u32 = (what: string): Field => uint(4, what);

/** A 32-bit duration (SOA timers, RRSIG original TTL): seconds or BIND units like 1h30m. */
const duration = (what: string): Field => ({
  parse(p: RdataParser) {
    const t = p.next(what);
    const v = t.quoted ? undefined : parseDuration(t.text);
    if (v === undefined) p.fail(`bad ${what} "${t.text}"`, t);
    p.u32(v);
  },
  format(r: RdataCursor) {
    return String(r.u32());
  },
});

/** An 8-bit number that may also be written as a mnemonic (DNSSEC algorithms and the like). */
const mnemonic8 = (what: string, names: Record<string, number>): Field => ({
  parse(p: RdataParser) {
    const t = p.next(what);
    const v = names[t.text.toUpperCase()] ?? (t.quoted ? undefined : parseUint(t.text, 0xff));
    if (v === undefined) p.fail(`bad ${what} "${t.text}"`, t);
    p.u8(v);
  },
  format(r: RdataCursor) {
    return String(r.u8());
  },
});

// RFC 8624 / IANA "DNS Security Algorithm Numbers" mnemonics, as BIND accepts them.
const ALGORITHMS: Record<string, number> = {
  RSAMD5: 1, DH: 2, DSA: 3, RSASHA1: 5, 'DSA-NSEC3-SHA1': 6, 'RSASHA1-NSEC3-SHA1': 7, RSASHA256: 8,
  RSASHA512: 10, 'ECC-GOST': 12, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15, ED448: 16,
  INDIRECT: 252, PRIVATEDNS: 253, PRIVATEOID: 254,
};
const algorithm = mnemonic8('algorithm', ALGORITHMS);

const name = (what: string): Field => ({
  parse(p: RdataParser) {
    p.put(p.name(what));
  },
  format(r: RdataCursor) {
    return nameToText(r.name());
  },
});

const ipv4: Field = {
  parse(p: RdataParser) {
    const t = p.next('IPv4 address');
    const b = t.quoted ? undefined : ipv4ToBytes(t.text);
    if (!b) p.fail(`bad IPv4 address "${t.text}"`, t);
    p.put(b);
  },
  format(r: RdataCursor) {
    return bytesToIpv4(r.bytes(4));
  },
};

const ipv6: Field = {
  parse(p: RdataParser) {
    const t = p.next('IPv6 address');
    const b = t.quoted ? undefined : ipv6ToBytes(t.text);
    if (!b) p.fail(`bad IPv6 address "${t.text}"`, t);
    p.put(b);
  },
  format(r: RdataCursor) {
    return bytesToIpv6(r.bytes(16));
  },
};

function textBytes(p: RdataParser, t: Token): Buffer {
  try {
    return unescapeText(t.text);
  } catch (err) {
    return p.fail(`bad text: ${(err as Error).message}`, t);
  }
}

/** One <character-string> (RFC 1035 3.3): at most 255 octets, quoted or not. */
const charString = (what: string): Field => ({
  parse(p: RdataParser) {
    const t = p.next(what);
    const b = textBytes(p, t);
    if (b.length > 255) p.fail(`${what} longer than 255 octets (${b.length})`, t);
    p.u8(b.length);
    p.put(b);
  },
  format(r: RdataCursor) {
    return `"${escapeText(r.charString())}"`;
  },
});

/** One or more <character-string>s to the end (TXT, SPF). */
const charStrings: Field = {
  parse(p: RdataParser) {
    const s = charString('text');
    s.parse(p);
    while (p.more()) s.parse(p);
  },
  format(r: RdataCursor) {
    // Empty TXT RDATA is seen in the wild; the text form cannot say it, so it goes out as \# 0.
    if (r.left === 0) throw new UnpresentableError('no character-string');
    const out: string[] = [];
    while (r.left > 0) out.push(`"${escapeText(r.charString())}"`);
    return out.join(' ');
  },
};

/** Hex to the end of the RDATA, possibly split over several tokens; required unless `optional`. */
const hexRest = (what: string, optional = false): Field => ({
  parse(p: RdataParser) {
    const { text, first } = p.restJoined();
    if (!first) {
      if (optional) return;
      p.fail(`missing ${what}`);
    }
    const b = hexToBytes(text);
    if (!b) p.fail(`bad ${what}: not an even number of hex digits`, first);
    p.put(b, first);
  },
  format(r: RdataCursor) {
    const b = r.rest();
    if (b.length === 0 && !optional) throw new UnpresentableError(`empty ${what}`);
    return b.toString('hex').toUpperCase();
  },
});

/** Base64 to the end of the RDATA, possibly split over several tokens. */
const base64Rest = (what: string, optional = false): Field => ({
  parse(p: RdataParser) {
    const { text, first } = p.restJoined();
    if (!first) {
      if (optional) return;
      p.fail(`missing ${what}`);
    }
    const b = base64ToBytes(text);
    if (!b || b.length === 0) p.fail(`bad ${what}: not base64`, first);
    p.put(b, first);
  },
  format(r: RdataCursor) {
    const b = r.rest();
    if (b.length === 0 && !optional) throw new UnpresentableError(`empty ${what}`);
    return b.toString('base64');
  },
});

/** Type mnemonic as the writer prints it: the mnemonic only where BIND and Knot both know it. */
export function typeText(type: number): string {
  return CODECS.get(type)?.portable ? typeToText(type) : `TYPE${type}`;
}

function parseTypeToken(p: RdataParser, t: Token): number {
  const v = t.quoted ? undefined : typeFromText(t.text);
  if (v === undefined) p.fail(`unknown type "${t.text}"`, t);
  return v;
}

const typeCovered: Field = {
  parse(p: RdataParser) {
    p.u16(parseTypeToken(p, p.next('type covered')));
  },
  format(r: RdataCursor) {
    return typeText(r.u16());
  },
};

const sigTime = (what: string): Field => ({
  parse(p: RdataParser) {
    const t = p.next(what);
    const v = t.quoted ? undefined : parseSigTime(t.text);
    if (v === undefined) p.fail(`bad ${what} "${t.text}" (YYYYMMDDHHmmSS or seconds)`, t);
    p.u32(v);
  },
  format(r: RdataCursor) {
    return sigTimeToText(r.u32());
  },
});

/** NSEC/NSEC3/CSYNC type bitmap (RFC 4034 4.1.2): type mnemonics to the end, possibly none. */
const typeBitmap: Field = {
  parse(p: RdataParser) {
    const types: number[] = [];
    while (p.more()) types.push(parseTypeToken(p, p.next('type')));
    types.sort((a, b) => a - b);
    let k = 0;
    while (k < types.length) {
      const win = types[k]! >> 8;
      const bits = new Uint8Array(32);
      let len = 0;
      for (; k < types.length && types[k]! >> 8 === win; k++) {
        const lo = types[k]! & 0xff;
        bits[lo >> 3]! |= 0x80 >> (lo & 7);
        len = (lo >> 3) + 1;
      }
      p.u8(win);
      p.u8(len);
      p.put(bits.subarray(0, len));
    }
  },
  format(r: RdataCursor) {
    const out: string[] = [];
    let prev = -1;
    while (r.left > 0) {
      const win = r.u8();
      const len = r.u8();
      // Only the canonical encoding can round-trip through text, and it is the only valid one.
      if (win <= prev || len < 1 || len > 32) throw new WireFormatError('bad type bitmap window');
      prev = win;
      const bits = r.bytes(len);
      if (bits[len - 1] === 0) throw new WireFormatError('type bitmap window with trailing zero octet');
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < 8; j++) if (bits[i]! & (0x80 >> j)) out.push(typeText((win << 8) | (i * 8 + j)));
      }
    }
    return out.join(' ');
  },
};

/** NSEC3 salt: hex with a length octet, `-` for none (RFC 5155 3.3). */
const salt: Field = {
  parse(p: RdataParser) {
    const t = p.next('salt');
    if (t.text === '-' && !t.quoted) {
      p.u8(0);
      return;
    }
    const b = hexToBytes(t.text);
    if (!b || b.length === 0 || b.length > 255) p.fail(`bad salt "${t.text}" (hex, or "-" for none)`, t);
    p.u8(b.length);
    p.put(b);
  },
  format(r: RdataCursor) {
    const b = r.charString();
    return b.length === 0 ? '-' : b.toString('hex').toUpperCase();
  },
};

const nextHashed: Field = {
  parse(p: RdataParser) {
    const t = p.next('next hashed owner');
    const b = base32hexToBytes(t.text);
    if (!b || b.length === 0 || b.length > 255) p.fail(`bad next hashed owner "${t.text}" (base32hex)`, t);
    p.u8(b.length);
    p.put(b);
  },
  format(r: RdataCursor) {
    const b = r.charString();
    if (b.length === 0) throw new UnpresentableError('empty next hashed owner');
    return bytesToBase32hex(b).toUpperCase();
  },
};

/** EUI-48 / EUI-64 (RFC 7043 3.2): hex octet pairs joined by "-". */
const eui = (octets: 6 | 8): Field => ({
  parse(p: RdataParser) {
    const t = p.next('address');
    const re = octets === 6 ? /^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}$/ : /^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){7}$/;
    if (t.quoted || !re.test(t.text)) p.fail(`bad EUI-${octets * 8} address "${t.text}"`, t);
    p.put(Buffer.from(t.text.replace(/-/g, ''), 'hex'));
  },
  format(r: RdataCursor) {
    return [...r.bytes(octets)].map((b) => b.toString(16).padStart(2, '0')).join('-');
  },
});

/** A 64-bit locator or node ID (RFC 6742 2.3): four groups of hex digits joined by ":". */
const locator64: Field = {
  parse(p: RdataParser) {
    const t = p.next('locator');
    const m = t.quoted ? null : /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(t.text);
    if (!m) p.fail(`bad 64-bit locator "${t.text}"`, t);
    for (let k = 1; k <= 4; k++) p.u16(parseInt(m[k]!, 16));
  },
  format(r: RdataCursor) {
    const g: string[] = [];
    for (let k = 0; k < 4; k++) g.push(r.u16().toString(16).padStart(4, '0'));
    return g.join(':');
  },
};

/** The remaining octets as one string (URI target, CAA value): no length octet, not limited to 255. */
const rawString = (what: string, requireQuotes: boolean): Field => ({
  parse(p: RdataParser) {
    const t = p.next(what);
    if (requireQuotes && !t.quoted) p.fail(`${what} must be a quoted string`, t);
    p.put(textBytes(p, t), t);
  },
  format(r: RdataCursor) {
    return `"${escapeText(r.rest())}"`;
  },
});

const CERT_TYPES: Record<string, number> = {
  PKIX: 1, SPKI: 2, PGP: 3, IPKIX: 4, ISPKI: 5, IPGP: 6, ACPKIX: 7, IACPKIX: 8, URI: 253, OID: 254,
};
const CERT_TYPE_NAMES = new Map(Object.entries(CERT_TYPES).map(([k, v]) => [v, k]));

/** CERT type (RFC 4398 2.1): a mnemonic or a number. */
const certType: Field = {
  parse(p: RdataParser) {
    const t = p.next('certificate type');
    const v = CERT_TYPES[t.text.toUpperCase()] ?? (t.quoted ? undefined : parseUint(t.text, 0xffff));
    if (v === undefined) p.fail(`bad certificate type "${t.text}"`, t);
    p.u16(v);
  },
  format(r: RdataCursor) {
    const v = r.u16();
    return CERT_TYPE_NAMES.get(v) ?? String(v);
  },
};

/** CAA property tag (RFC 8659 4.1): letters and digits, with its length octet. */
const caaTag: Field = {
  parse(p: RdataParser) {
    const t = p.next('tag');
    if (t.quoted || !/^[a-zA-Z0-9]{1,255}$/.test(t.text)) p.fail(`bad CAA tag "${t.text}" (letters and digits)`, t);
    p.u8(t.text.length);
    p.put(Buffer.from(t.text, 'latin1'));
  },
  format(r: RdataCursor) {
    const tag = r.charString().toString('latin1');
    if (!/^[a-zA-Z0-9]+$/.test(tag)) throw new UnpresentableError('CAA tag is not alphanumeric');
    return tag;
  },
};

// --- hand-written codecs: LOC, SVCB/HTTPS, APL, IPSECKEY --------------------------------------

/** LOC (RFC 1876 3): `d1 [m1 [s1]] N|S d2 [m2 [s2]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]`. */
const loc: Field = {
  parse(p: RdataParser) {
    const angle = (what: string, maxDeg: number, pos: string, neg: string): number => {
      const parts: Token[] = [];
      for (;;) {
        const t = p.next(`${what} hemisphere`);
        const h = t.text.toUpperCase();
        if (!t.quoted && (h === pos || h === neg)) {
          if (parts.length === 0) p.fail(`missing ${what} degrees`, t);
          const [d, m, s] = parts;
          const deg = parseUint(d!.text, maxDeg);
          if (deg === undefined) p.fail(`bad ${what} degrees "${d!.text}"`, d);
          const min = m ? parseUint(m.text, 59) : 0;
          if (min === undefined) p.fail(`bad ${what} minutes "${m!.text}"`, m);
          let ms = 0;
          if (s) {
            const sm = /^([0-9]{1,2})(?:\.([0-9]{1,3}))?$/.exec(s.text);
            if (!sm || Number(sm[1]) > 59) p.fail(`bad ${what} seconds "${s.text}"`, s);
            ms = Number(sm[1]) * 1000 + Number((sm[2] ?? '').padEnd(3, '0'));
          }
          const v = ((deg * 60 + min) * 60) * 1000 + ms;
          if (v > maxDeg * 3600000) p.fail(`${what} beyond ${maxDeg} degrees`, d);
          return h === pos ? 2 ** 31 + v : 2 ** 31 - v;
        }
        if (parts.length === 3) p.fail(`expected ${pos} or ${neg}, got "${t.text}"`, t);
        parts.push(t);
      }
    };
    const lat = angle('latitude', 90, 'N', 'S');
    const lon = angle('longitude', 180, 'E', 'W');
    const meters = (t: Token, what: string, signed: boolean, maxCm: number): number => {
      const m = /^(-?)([0-9]{1,8})(?:\.([0-9]{1,2}))?[mM]?$/.exec(t.text);
      if (!m || (m[1] && !signed)) p.fail(`bad ${what} "${t.text}"`, t);
      const cm = (Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'))) * (m[1] ? -1 : 1);
      if (cm > maxCm || cm < -10000000) p.fail(`${what} out of range "${t.text}"`, t);
      return cm;
    };
    const alt = meters(p.next('altitude'), 'altitude', true, 4294967295 - 10000000);
    // RFC 1876 defaults: size 1 m, horizontal precision 10 km, vertical precision 10 m.
    const prec = [100, 1000000, 1000];
    const names = ['size', 'horizontal precision', 'vertical precision'];
    for (let k = 0; k < 3 && p.more(); k++) prec[k] = meters(p.next(names[k]!), names[k]!, false, 9000000000);
    p.u8(0); // version
    for (const cm of prec) {
      // The RFC's own encoder: smallest exponent that holds the value, mantissa truncated.
      let e = 0;
      while (e < 9 && cm >= 10 ** (e + 1)) e++;
      p.u8((Math.min(9, Math.floor(cm / 10 ** e)) << 4) | e);
    }
    p.u32(lat);
    p.u32(lon);
    p.u32(alt + 10000000);
  },
  format(r: RdataCursor) {
    const version = r.u8();
    if (version !== 0) throw new UnpresentableError(`LOC version ${version}`);
    const prec = [r.u8(), r.u8(), r.u8()].map((x) => {
      const m = x >> 4;
      const e = x & 15;
      if (m > 9 || e > 9) throw new WireFormatError('bad LOC precision');
      return m * 10 ** e;
    });
    const angle = (v: number, maxDeg: number, pos: string, neg: string): string => {
      let a = v - 2 ** 31;
      const h = a < 0 ? neg : pos;
      a = Math.abs(a);
      if (a > maxDeg * 3600000) throw new UnpresentableError('LOC angle out of range');
      const deg = Math.floor(a / 3600000);
      const min = Math.floor((a % 3600000) / 60000);
      const ms = a % 60000;
      return `${deg} ${min} ${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')} ${h}`;
    };
    const meters = (cm: number): string => {
      const a = Math.abs(cm);
      return `${cm < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}m`;
    };
    const lat = angle(r.u32(), 90, 'N', 'S');
    const lon = angle(r.u32(), 180, 'E', 'W');
    const alt = r.u32() - 10000000;
    return `${lat} ${lon} ${meters(alt)} ${prec.map(meters).join(' ')}`;
  },
};

// SvcParamKeys (RFC 9460 14.3.2; dohpath RFC 9461).
const SVC_KEYS: Record<string, number> = {
  mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7,
};
// Names the writer prints; dohpath is left as key7 because Knot 3.2 does not know it.
const SVC_KEY_NAMES = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];
const svcKeyText = (k: number): string => SVC_KEY_NAMES[k] ?? `key${k}`;

function svcKeyFromText(s: string): number | undefined {
  const k = SVC_KEYS[s.toLowerCase()];
  if (k !== undefined) return k;
  const m = /^key([0-9]{1,5})$/i.exec(s);
  const v = m ? Number(m[1]) : undefined;
  return v !== undefined && v < 65535 ? v : undefined; // 65535 is reserved ("invalid key")
}

/** Split a decoded value-list (RFC 9460 A.1) at unescaped commas; `\,` and `\\` are literal. */
function splitValueList(b: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x5c && i + 1 < b.length) cur.push(b[++i]!);
    else if (c === 0x2c) {
      items.push(Buffer.from(cur));
      cur = [];
    } else cur.push(c);
  }
  items.push(Buffer.from(cur));
  return items;
}

/** Index of the quote closing the one at index 0 of `s` (escapes skipped), or -1. */
function closingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** A value-list in presentation form: items with `\` and `,` escaped, joined by commas, then quoted. */
function quotedValueList(items: Buffer[]): string {
  const parts: number[] = [];
  items.forEach((b, i) => {
    if (i > 0) parts.push(0x2c);
    for (const c of b) {
      if (c === 0x5c || c === 0x2c) parts.push(0x5c);
      parts.push(c);
    }
  });
  return `"${escapeText(Buffer.from(parts))}"`;
}

/** SVCB/HTTPS (RFC 9460 2.1): priority, target, then `key[=value]` SvcParams in any order. */
const svcParams: Field = {
  parse(p: RdataParser) {
    const params = new Map<number, { value: Buffer; tok: Token }>();
    while (p.more()) {
      const t = p.next('SvcParam');
      if (t.quoted) p.fail('a SvcParam is key=value, not a quoted string', t);
      const eq = t.text.indexOf('=');
      const keyText = eq < 0 ? t.text : t.text.slice(0, eq);
      const key = svcKeyFromText(keyText);
      if (key === undefined) p.fail(`unknown SvcParamKey "${keyText}"`, t);
      if (params.has(key)) p.fail(`duplicate SvcParamKey "${keyText}"`, t);
      let raw = eq < 0 ? undefined : t.text.slice(eq + 1);
      if (raw !== undefined && raw.startsWith('"')) {
        if (closingQuote(raw) !== raw.length - 1) p.fail('bad quoting in SvcParam value', t);
        raw = raw.slice(1, -1);
      }
      const value = raw === undefined ? undefined : textBytes(p, { ...t, text: raw });
      const list = (): string[] => {
        if (!value || value.length === 0) p.fail(`SvcParam "${keyText}" needs a value`, t);
        return splitValueList(value).map((b) => b.toString('latin1'));
      };
      const out: number[] = [];
      const push16 = (v: number): void => void out.push(v >> 8, v & 0xff);
      switch (key) {
        case 0: {
          const keys = list().map((s) => {
            const k = svcKeyFromText(s);
            if (k === undefined || k === 0) p.fail(`bad key "${s}" in mandatory`, t);
            return k;
          });
          keys.sort((a, b) => a - b);
          for (let k = 0; k < keys.length; k++) {
            if (k > 0 && keys[k] === keys[k - 1]) p.fail(`key "${svcKeyText(keys[k]!)}" twice in mandatory`, t);
            push16(keys[k]!);
          }
          break;
        }
        case 1:
          for (const item of list()) {
            if (item.length === 0 || item.length > 255) p.fail('alpn ids are 1 to 255 octets', t);
            out.push(item.length, ...Buffer.from(item, 'latin1'));
          }
          break;
        case 2:
          if (value && value.length > 0) p.fail('no-default-alpn takes no value', t);
          break;
        case 3: {
          const v = value ? parseUint(value.toString('latin1'), 0xffff) : undefined;
          if (v === undefined) p.fail('port needs a number from 0 to 65535', t);
          push16(v);
          break;
        }
        case 4:
        case 6:
          for (const item of list()) {
            const a = key === 4 ? ipv4ToBytes(item) : ipv6ToBytes(item);
            if (!a) p.fail(`bad address "${item}" in ${keyText}`, t);
            out.push(...a);
          }
          break;
        case 5: {
          const b = value ? base64ToBytes(value.toString('latin1')) : undefined;
          if (!b || b.length === 0) p.fail('ech needs a base64 value', t);
          out.push(...b);
          break;
        }
        default:
          if (value) out.push(...value);
      }
      if (out.length > 0xffff) p.fail('SvcParam value longer than 65535 octets', t);
      params.set(key, { value: Buffer.from(out), tok: t });
    }
    // RFC 9460 8: every key named in "mandatory" must be present.
    const mand = params.get(0);
    if (mand) {
      for (let k = 0; k < mand.value.length; k += 2) {
        const key = mand.value.readUInt16BE(k);
        if (!params.has(key)) p.fail(`mandatory key "${svcKeyText(key)}" is missing`, mand.tok);
      }
    }
    // Wire order is strictly increasing key order (RFC 9460 2.2), whatever order the text used.
    for (const key of [...params.keys()].sort((a, b) => a - b)) {
      const { value, tok } = params.get(key)!;
      p.u16(key);
      p.u16(value.length);
      p.put(value, tok);
    }
  },
  format(r: RdataCursor) {
    const out: string[] = [];
    let prev = -1;
    while (r.left > 0) {
      const key = r.u16();
      if (key <= prev) throw new WireFormatError('SvcParamKeys out of order');
      prev = key;
      const v = new RdataCursor(r.bytes(r.u16()));
      switch (key) {
        case 0: {
          const keys: string[] = [];
          let last = -1;
          while (v.left > 0) {
            const k = v.u16();
            if (k <= last || k === 0) throw new WireFormatError('bad mandatory key list');
            last = k;
            keys.push(svcKeyText(k));
          }
          if (keys.length === 0) throw new WireFormatError('empty mandatory key list');
          out.push(`mandatory=${keys.join(',')}`);
          break;
        }
        case 1: {
          const ids: Buffer[] = [];
          while (v.left > 0) ids.push(v.charString());
          if (ids.length === 0 || ids.some((b) => b.length === 0)) throw new WireFormatError('bad alpn list');
          out.push(`alpn=${quotedValueList(ids)}`);
          break;
        }
        case 2:
          if (v.left !== 0) throw new WireFormatError('no-default-alpn with a value');
          out.push('no-default-alpn');
          break;
        case 3:
          out.push(`port=${v.u16()}`);
          if (v.left !== 0) throw new WireFormatError('bad port');
          break;
        case 4:
        case 6: {
          const n = key === 4 ? 4 : 16;
          if (v.left === 0 || v.left % n !== 0) throw new WireFormatError('bad address hint');
          const addrs: string[] = [];
          while (v.left > 0) addrs.push(key === 4 ? bytesToIpv4(v.bytes(4)) : bytesToIpv6(v.bytes(16)));
          out.push(`${svcKeyText(key)}=${addrs.join(',')}`);
          break;
        }
        case 5:
          if (v.left === 0) throw new WireFormatError('empty ech');
          out.push(`ech=${v.rest().toString('base64')}`);
          break;
        default:
          out.push(v.left === 0 ? `key${key}` : `key${key}="${escapeText(v.rest())}"`);
      }
    }
    return out.join(' ');
  },
};

/** APL (RFC 3123 5): items `[!]afi:address/prefix`, zero or more. */
const aplItems: Field = {
  parse(p: RdataParser) {
    while (p.more()) {
      const t = p.next('APL item');
      const m = t.quoted ? null : /^(!?)([0-9]+):([^/]+)\/([0-9]+)$/.exec(t.text);
      const afi = m ? Number(m[2]) : 0;
      const addr = m ? (afi === 1 ? ipv4ToBytes(m[3]!) : afi === 2 ? ipv6ToBytes(m[3]!) : undefined) : undefined;
      const prefix = m ? Number(m[4]) : 0;
      if (!m || !addr || prefix > addr.length * 8) p.fail(`bad APL item "${t.text}"`, t);
      let len = addr.length;
      while (len > 0 && addr[len - 1] === 0) len--; // trailing zero octets are left out (RFC 3123 4)
      p.u16(afi);
      p.u8(prefix);
      p.u8((m[1] ? 0x80 : 0) | len);
      p.put(addr.subarray(0, len));
    }
  },
  format(r: RdataCursor) {
    const out: string[] = [];
    while (r.left > 0) {
      const afi = r.u16();
      const prefix = r.u8();
      const nl = r.u8();
      const len = nl & 0x7f;
      const part = r.bytes(len);
      const size = afi === 1 ? 4 : afi === 2 ? 16 : 0;
      if (size === 0) throw new UnpresentableError(`APL address family ${afi}`);
      if (len > size || prefix > size * 8) throw new WireFormatError('bad APL item');
      if (len > 0 && part[len - 1] === 0) throw new UnpresentableError('APL address with trailing zero octets');
      const full = Buffer.alloc(size);
      part.copy(full);
      out.push(`${nl & 0x80 ? '!' : ''}${afi}:${afi === 1 ? bytesToIpv4(full) : bytesToIpv6(full)}/${prefix}`);
    }
    if (out.length === 0) throw new UnpresentableError('empty APL');
    return out.join(' ');
  },
};

/** IPSECKEY (RFC 4025 3.1): precedence, gateway type, algorithm, gateway, optional base64 key. */
const ipseckey: Field = {
  parse(p: RdataParser) {
    const prec = p.uint('precedence', 0xff);
    const gt = p.uint('gateway type', 3);
    const alg = p.uint('algorithm', 0xff);
    p.u8(prec);
    p.u8(gt);
    p.u8(alg);
    if (gt === 0) {
      const t = p.next('gateway');
      if (t.text !== '.') p.fail('gateway type 0 takes "." as gateway', t);
    } else if (gt === 1) ipv4.parse(p);
    else if (gt === 2) ipv6.parse(p);
    else p.put(p.name('gateway'));
    base64Rest('public key', true).parse(p);
  },
  format(r: RdataCursor) {
    const prec = r.u8();
    const gt = r.u8();
    const alg = r.u8();
    let gw: string;
    if (gt === 0) gw = '.';
    else if (gt === 1) gw = ipv4.format(r);
    else if (gt === 2) gw = ipv6.format(r);
    else if (gt === 3) gw = nameToText(r.name());
    else throw new UnpresentableError(`IPSECKEY gateway type ${gt}`);
    const key = r.rest();
    return `${prec} ${gt} ${alg} ${gw}${key.length > 0 ? ' ' + key.toString('base64') : ''}`;
  },
};

// --- the table --------------------------------------------------------------------------------

function fields(portable: boolean, ...fs: Field[]): RdataCodec {
  return {
    portable,
    parse(p: RdataParser) {
      for (const f of fs) f.parse(p);
    },
    format(r: RdataCursor) {
      let s = '';
      for (const f of fs) {
        const t = f.format(r);
        if (t !== '') s += s === '' ? t : ' ' + t;
      }
      return s;
    },
  };
}

const NULL_CODEC: RdataCodec = {
  portable: false,
  opaque: true,
  parse(p: RdataParser) {
    p.fail('NULL has no presentation format; use the RFC 3597 form \\# LENGTH HEX', p.peek());
  },
  format() {
    throw new UnpresentableError('NULL has no presentation format');
  },
};

const dnskey = fields(true, u16('flags'), u8('protocol'), algorithm, base64Rest('public key'));
const ds = (portable: boolean): RdataCodec => fields(portable, u16('key tag'), algorithm, u8('digest type'), hexRest('digest'));
const tlsa = fields(true, u8('usage'), u8('selector'), u8('matching type'), hexRest('certificate data'));
const svcb = fields(true, u16('priority'), name('target'), svcParams);
const single = (portable: boolean, what: string): RdataCodec => fields(portable, name(what));

// Types marked not portable are read in their presentation format but written in the RFC 3597 form
// under TYPEnnn, because Knot DNS does not know them (MB, MG, MR, MD, MF, PX) or BIND rejects them (DLV).
const CODECS = new Map<number, RdataCodec>([
  [Type.A, fields(true, ipv4)],
  [Type.NS, single(true, 'name server')],
  [Type.MD, single(false, 'mail destination')],
  [Type.MF, single(false, 'mail forwarder')],
  [Type.CNAME, single(true, 'canonical name')],
  [Type.SOA, fields(true, name('primary server'), name('mailbox'), u32('serial'), duration('refresh'), duration('retry'), duration('expire'), duration('minimum'))],
  [Type.MB, single(false, 'mailbox host')],
  [Type.MG, single(false, 'mail group member')],
  [Type.MR, single(false, 'replacement mailbox')],
  [Type.NULL, NULL_CODEC],
  [Type.PTR, single(true, 'pointer')],
  [Type.HINFO, fields(true, charString('CPU'), charString('OS'))],
  [Type.MINFO, fields(true, name('responsible mailbox'), name('error mailbox'))],
  [Type.MX, fields(true, u16('preference'), name('exchange'))],
  [Type.TXT, fields(true, charStrings)],
  [Type.RP, fields(true, name('mailbox'), name('TXT name'))],
  [Type.AFSDB, fields(true, u16('subtype'), name('hostname'))],
  [Type.RT, fields(true, u16('preference'), name('intermediate host'))],
  [Type.KEY, dnskey],
  [Type.PX, fields(false, u16('preference'), name('MAP822'), name('MAPX400'))],
  [Type.AAAA, fields(true, ipv6)],
  [Type.LOC, fields(true, loc)],
  [Type.SRV, fields(true, u16('priority'), u16('weight'), u16('port'), name('target'))],
  [Type.NAPTR, fields(true, u16('order'), u16('preference'), charString('flags'), charString('services'), charString('regexp'), name('replacement'))],
  [Type.KX, fields(true, u16('preference'), name('exchanger'))],
  [Type.CERT, fields(true, certType, u16('key tag'), algorithm, base64Rest('certificate'))],
  [Type.DNAME, single(true, 'target')],
  [Type.APL, fields(true, aplItems)],
  [Type.DS, ds(true)],
  [Type.SSHFP, fields(true, u8('algorithm'), u8('fingerprint type'), hexRest('fingerprint'))],
  [Type.IPSECKEY, fields(true, ipseckey)],
  [Type.RRSIG, fields(true, typeCovered, algorithm, u8('labels'), duration('original TTL'), sigTime('expiration'), sigTime('inception'), u16('key tag'), name('signer'), base64Rest('signature'))],
  [Type.NSEC, fields(true, name('next name'), typeBitmap)],
  [Type.DNSKEY, dnskey],
  [Type.DHCID, fields(true, base64Rest('identifier'))],
  [Type.NSEC3, fields(true, u8('hash algorithm'), u8('flags'), u16('iterations'), salt, nextHashed, typeBitmap)],
  [Type.NSEC3PARAM, fields(true, u8('hash algorithm'), u8('flags'), u16('iterations'), salt)],
  [Type.TLSA, tlsa],
  [Type.SMIMEA, tlsa],
  [Type.CDS, ds(true)],
  [Type.CDNSKEY, dnskey],
  [Type.OPENPGPKEY, fields(true, base64Rest('public key'))],
  [Type.CSYNC, fields(true, u32('serial'), u16('flags'), typeBitmap)],
  [Type.ZONEMD, fields(true, u32('serial'), u8('scheme'), u8('hash algorithm'), hexRest('digest'))],
  [Type.SVCB, svcb],
  [Type.HTTPS, svcb],
  [Type.SPF, fields(true, charStrings)],
  [Type.NID, fields(true, u16('preference'), locator64)],
  [Type.L32, fields(true, u16('preference'), ipv4)],
  [Type.L64, fields(true, u16('preference'), locator64)],
  [Type.LP, fields(true, u16('preference'), name('FQDN'))],
  [Type.EUI48, fields(true, eui(6))],
  [Type.EUI64, fields(true, eui(8))],
  [Type.URI, fields(true, u16('priority'), u16('weight'), rawString('target', false))],
  [Type.CAA, fields(true, u8('flags'), caaTag, rawString('value', false))],
  [Type.DLV, ds(false)],
]);

/** The codec of a type, if we know its presentation format. */
export function codecOf(type: number): RdataCodec | undefined {
  return CODECS.get(type);
}

/** Types with a presentation format here (for tests and documentation). */
export function typesWithPresentation(): number[] {
  return [...CODECS.keys()];
}

// --- entry points -----------------------------------------------------------------------------

/**
 * RDATA of `type` from `tokens[start..]`: the RFC 3597 generic form `\# LEN HEX` (any type; checked
 * against the type's format when we know it), else the type's presentation format. Relative names
 * are completed with `origin`. Throws RdataTextError.
 */
export function rdataFromTokens(type: number, tokens: readonly Token[], start: number, origin: Buffer | undefined): Buffer {
  const p: RdataParser = new RdataParser(tokens, start, origin);
  const first = tokens[start];
  const codec = CODECS.get(type);
  if (first && !first.quoted && first.text === '\\#') {
    p.i++;
    const len = p.uint('generic RDATA length', MAX_RDATA);
    const { text, first: hexTok } = p.restJoined();
    const b = hexToBytes(text);
    if (!b) p.fail('bad generic RDATA: not an even number of hex digits', hexTok);
    if (b.length !== len) p.fail(`generic RDATA is ${b.length} octets, not the ${len} announced`, hexTok ?? tokens[start + 1]);
    if (codec && !codec.opaque) {
      try {
        const r = new RdataCursor(b);
        codec.format(r);
        if (r.left !== 0) throw new WireFormatError(`${r.left} octets after the end`);
      } catch (err) {
        if (err instanceof WireFormatError) p.fail(`generic RDATA is not valid ${typeToText(type)}: ${err.message}`, first);
        if (!(err instanceof UnpresentableError)) throw err;
      }
    }
    return b;
  }
  if (!codec) p.fail(`no presentation format known for ${typeToText(type)}; use the RFC 3597 form \\# LENGTH HEX`, first);
  codec.parse(p);
  const extra = p.peek();
  if (extra) p.fail(`unexpected "${extra.text}" after the RDATA of ${typeToText(type)}`, extra);
  return p.result();
}

/** RDATA of `type` from presentation text (one record's RDATA; parentheses and comments allowed). */
export function rdataFromText(type: number, text: string, origin?: Buffer): Buffer {
  return rdataFromTokens(type, tokenize(text), 0, origin);
}

/** RFC 3597 generic form of RDATA: `\# LEN HEX`. */
export function genericRdataText(rdata: Uint8Array): string {
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${Buffer.from(rdata.buffer, rdata.byteOffset, rdata.length).toString('hex').toUpperCase()}`;
}

/**
 * The presentation format of RDATA, or undefined when there is none for it: unknown or opaque type,
 * malformed RDATA, or RDATA the format cannot express (an empty digest, say). Never throws.
 */
export function presentRdata(type: number, rdata: Buffer): string | undefined {
  const codec = CODECS.get(type);
  if (!codec || codec.opaque) return undefined;
  try {
    const r = new RdataCursor(rdata);
    const s = codec.format(r);
    return r.left === 0 ? s : undefined;
  } catch {
    return undefined;
  }
}
