// Numbers of the DNS registries we use (RFC 1035 3.2, 4.1.1; RFC 6895; IANA DNS parameters).

export const Type = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12,
  HINFO: 13, MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP: 22,
  SIG: 24, KEY: 25, PX: 26, GPOS: 27, AAAA: 28, LOC: 29, NXT: 30, SRV: 33, NAPTR: 35, KX: 36,
  CERT: 37, A6: 38, DNAME: 39, OPT: 41, APL: 42, DS: 43, SSHFP: 44, IPSECKEY: 45, RRSIG: 46,
  NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55,
  CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, SPF: 99,
  NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108, EUI64: 109, TKEY: 249, TSIG: 250, IXFR: 251,
  AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255, URI: 256, CAA: 257, DLV: 32769,
} as const;

export const Class = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6,
  YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
  // Extended (EDNS / TSIG) rcodes.
  BADVERS: 16, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19, BADNAME: 20, BADALG: 21,
  BADTRUNC: 22, BADCOOKIE: 23,
} as const;

const rcodeNames = new Map<number, string>();
for (const [k, v] of Object.entries(Rcode)) if (!rcodeNames.has(v)) rcodeNames.set(v, k);

/** Mnemonic of a header or extended rcode (16 reads BADVERS, as in an OPT record), or "RCODEnn". */
export function rcodeToText(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}

/** Header flag bits in the 16-bit flags word. */
export const Flag = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const;

/** The DO bit in the OPT record's TTL field (RFC 3225). */
export const EDNS_DO = 0x8000;

const typeNames = new Map<number, string>();
const typeNumbers = new Map<string, number>();
for (const [k, v] of Object.entries(Type)) {
  typeNames.set(v, k);
  typeNumbers.set(k, v);
}

/** Mnemonic of a type, or RFC 3597 "TYPEnnn". */
export function typeToText(t: number): string {
  return typeNames.get(t) ?? `TYPE${t}`;
}

/** Number of a type mnemonic or "TYPEnnn" (case-insensitive), or undefined. */
export function typeFromText(s: string): number | undefined {
  const u = s.toUpperCase();
  const n = typeNumbers.get(u);
  if (n !== undefined) return n;
  const m = /^TYPE([0-9]{1,5})$/.exec(u);
  if (m) {
    const v = Number(m[1]);
    if (v <= 0xffff) return v;
  }
  return undefined;
}

const classNames = new Map<number, string>(Object.entries(Class).map(([k, v]) => [v, k]));

export function classToText(c: number): string {
  return classNames.get(c) ?? `CLASS${c}`;
}

export function classFromText(s: string): number | undefined {
  const u = s.toUpperCase();
  if (u === 'IN') return Class.IN;
  if (u === 'CH' || u === 'CHAOS') return Class.CH;
  if (u === 'HS') return Class.HS;
  const m = /^CLASS([0-9]{1,5})$/.exec(u);
  if (m) {
    const v = Number(m[1]);
    if (v <= 0xffff) return v;
  }
  return undefined;
}
