// Text encodings of presentation formats: character-strings (RFC 1035 5.1), hex, base64 and base32hex
// (RFC 4648), IPv4/IPv6 addresses (RFC 4291 2.2, RFC 5952), RRSIG times (RFC 4034 3.2) and TTLs with units.
//
// Every parser returns undefined (or throws a plain Error with a message) on bad input; callers
// attach the source position. Text is an "octet string" (char codes <= 0xff, see lexer.ts).

// --- character-strings ------------------------------------------------------------------------

/** Octets of a presentation-format string with `\X` and `\DDD` escapes resolved. */
export function unescapeText(text: string): Buffer {
  if (text.indexOf('\\') < 0) return Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      out[o++] = c;
      continue;
    }
    const d0 = text.charCodeAt(i + 1) - 0x30;
    if (d0 >= 0 && d0 <= 9) {
      const d1 = text.charCodeAt(i + 2) - 0x30;
      const d2 = text.charCodeAt(i + 3) - 0x30;
      if (!(d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) throw new Error(`bad escape "\\${text.slice(i + 1, i + 4)}" (\\DDD needs three digits)`);
      const v = d0 * 100 + d1 * 10 + d2;
      if (v > 255) throw new Error(`escape "\\${text.slice(i + 1, i + 4)}" is above 255`);
      out[o++] = v;
      i += 3;
    } else if (i + 1 < text.length) {
      out[o++] = text.charCodeAt(i + 1);
      i++;
    } else {
      throw new Error('dangling backslash');
    }
  }
  return out.subarray(0, o);
}

/** Presentation of octets for use inside double quotes: `"` and `\` escaped, non-printables as `\DDD`. */
export function escapeText(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  let run = start; // copy plain runs in one go
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    if (i > run) s += Buffer.from(b.buffer, b.byteOffset + run, i - run).toString('latin1');
    s += c === 0x22 || c === 0x5c ? '\\' + String.fromCharCode(c) : '\\' + String(c).padStart(3, '0');
    run = i + 1;
  }
  if (end > run) s += Buffer.from(b.buffer, b.byteOffset + run, end - run).toString('latin1');
  return s;
}

// --- numbers ----------------------------------------------------------------------------------

/** A decimal integer in [0, max], or undefined. */
export function parseUint(text: string, max: number): number | undefined {
  if (text.length === 0 || text.length > 10) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const v = Number(text);
  return v <= max ? v : undefined;
}

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A TTL or SOA timer: decimal seconds, or BIND's unit form (`1h30m`, `2w`, `1D`; units s m h d w,
 * any case, each number followed by a unit). Undefined when malformed or above `max`.
 */
export function parseDuration(text: string, max = 0xffffffff): number | undefined {
  const plain = parseUint(text, max);
  if (plain !== undefined) return plain;
  if (!/^([0-9]+[smhdwSMHDW])+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)([a-zA-Z])/g)) total += Number(m[1]) * UNIT[m[2]!.toLowerCase()]!;
  return total <= max ? total : undefined;
}

// --- hex, base64, base32hex -------------------------------------------------------------------

export function hexToBytes(text: string): Buffer | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (padding required, nothing else allowed): Node's own decoder skips junk silently. */
export function base64ToBytes(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

const B32HEX = '0123456789abcdefghijklmnopqrstuv';
const B32HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) {
  B32HEX_VALUE[B32HEX.charCodeAt(i)] = i;
  B32HEX_VALUE[B32HEX.toUpperCase().charCodeAt(i)] = i;
}

/** Base32 with the "extended hex" alphabet, no padding (RFC 4648 7, as NSEC3 uses it: RFC 5155 3.3). */
export function base32hexToBytes(text: string): Buffer | undefined {
  // Only lengths that end on a whole octet with no spare bits are valid: 0, 2, 4, 5, 7 (mod 8).
  if (![0, 2, 4, 5, 7].includes(text.length % 8)) return undefined;
  const out = Buffer.allocUnsafe(Math.floor((text.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B32HEX_VALUE[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined; // non-zero padding bits
  return out;
}

export function bytesToBase32hex(b: Uint8Array): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32HEX[(acc >> bits) & 31];
    }
  }
  if (bits > 0) s += B32HEX[(acc << (5 - bits)) & 31];
  return s;
}

// --- addresses --------------------------------------------------------------------------------

/** Dotted-quad IPv4 (exactly four decimal parts of 1-3 digits) as 4 octets, or undefined. */
export function ipv4ToBytes(text: string): Buffer | undefined {
  // Scanned by hand: this runs once per A record, and split() + parse showed up in profiles.
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || v > 255 || part > 3) return undefined;
      out[part++] = v;
      v = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      v = v * 10 + (c - 0x30);
      digits++;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

export function bytesToIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** IPv6 text (RFC 4291 2.2: hex groups, at most one "::", optional dotted-quad tail) as 16 octets, or undefined. */
export function ipv6ToBytes(text: string): Buffer | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  let s = text;
  let tail4: Buffer | undefined;
  if (text.indexOf('.', lastColon) >= 0) {
    tail4 = ipv4ToBytes(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    s = text.slice(0, lastColon + 1) + '0:0'; // two placeholder groups, overwritten below
  }
  const gap = s.indexOf('::');
  if (gap >= 0 && s.indexOf('::', gap + 1) >= 0) return undefined;
  const head = gap < 0 ? s : s.slice(0, gap);
  const tail = gap < 0 ? '' : s.slice(gap + 2);
  const hg = head === '' ? [] : head.split(':');
  const tg = tail === '' ? [] : tail.split(':');
  if (gap < 0 ? hg.length !== 8 : hg.length + tg.length > 7) return undefined;
  const out = Buffer.alloc(16);
  const put = (groups: string[], at: number): boolean => {
    for (let i = 0; i < groups.length; i++) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i]!)) return false;
      out.writeUInt16BE(parseInt(groups[i]!, 16), (at + i) * 2);
    }
    return true;
  };
  if (!put(hg, 0) || !put(tg, 8 - tg.length)) return undefined;
  if (tail4) tail4.copy(out, 12);
  return out;
}

/** RFC 5952 text of 16 octets: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::". */
export function bytesToIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

// --- RRSIG times ------------------------------------------------------------------------------

/**
 * An RRSIG time (RFC 4034 3.2): YYYYMMDDHHmmSS in UTC, or a plain number of seconds. The value is
 * kept modulo 2^32 (serial number arithmetic), so dates after 2106 wrap as the RFC intends.
 */
export function parseSigTime(text: string): number | undefined {
  if (/^[0-9]{14}$/.test(text)) {
    const y = Number(text.slice(0, 4));
    const mo = Number(text.slice(4, 6));
    const d = Number(text.slice(6, 8));
    const h = Number(text.slice(8, 10));
    const mi = Number(text.slice(10, 12));
    const s = Number(text.slice(12, 14));
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
    const ms = Date.UTC(y, mo - 1, d, h, mi, s);
    if (new Date(ms).getUTCDate() !== d) return undefined; // 31 February and the like
    const secs = ms / 1000;
    return ((secs % 2 ** 32) + 2 ** 32) % 2 ** 32;
  }
  // Longer digit strings are dates, so a plain number has at most 10 digits.
  return parseUint(text, 0xffffffff);
}

export function sigTimeToText(v: number): string {
  const d = new Date(v * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
