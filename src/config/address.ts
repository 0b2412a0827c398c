// IP addresses as the config writes them: "host:port", "[v6]:port", bare addresses, CIDR networks;
// and the 4- or 16-octet forms that ACL matching compares.

import { isIP } from 'node:net';

/** An address that cannot be read. */
export class AddressSyntaxError extends Error {
  readonly code = 'ERR_ADDRESS_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'AddressSyntaxError';
  }
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export interface Network {
  /** The address as written (host bits may be set; matching ignores them). */
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

export interface HostPortOptions {
  /** Port used when none is written; when absent a port is required. */
  readonly defaultPort?: number;
  /** Port 0 (the kernel picks one) is allowed for our own listeners, which tests use. */
  readonly allowZeroPort?: boolean;
}

function family(host: string): 4 | 6 {
  const f = isIP(host);
  if (f === 0) {
    const hint = /^[a-z0-9.-]+$/i.test(host) && /[a-z]/i.test(host) ? ' (host names are not resolved: write the address)' : '';
    throw new AddressSyntaxError(`"${host}" is not an IP address${hint}`);
  }
  return f as 4 | 6;
}

/** Read "192.0.2.1:53", "192.0.2.1", "[2001:db8::1]:53", "[2001:db8::1]" or "2001:db8::1" (an IPv6 address
 * with a port needs the brackets: "::1:53" is itself an address). */
export function parseHostPort(text: string, options: HostPortOptions = {}): HostPort {
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (isIP(host) !== 6) throw new AddressSyntaxError(`"${host}" in brackets is not an IPv6 address`);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (host.includes(':')) throw new AddressSyntaxError(`"${text}" is not an address: write an IPv6 address with a port as "[addr]:port"`);
  }
  if (/^\d+$/.test(text)) throw new AddressSyntaxError(`"${text}" is not an address: write "host:port"`);
  const fam = family(host);
  let port: number;
  if (portText === undefined) {
    if (options.defaultPort === undefined) throw new AddressSyntaxError(`"${text}" needs a port ("host:port")`);
    port = options.defaultPort;
  } else {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    const min = options.allowZeroPort ? 0 : 1;
    if (!(port >= min && port <= 65535)) throw new AddressSyntaxError(`bad port "${portText}" in "${text}" (${min}..65535)`);
  }
  return { host, port, family: fam };
}

/** Read "192.0.2.0/24", "2001:db8::/32" or a single address (a /32 or /128). */
export function parseNetwork(text: string): Network {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const fam = family(address);
  const bits = fam === 4 ? 32 : 128;
  if (slash < 0) return { address, prefix: bits, family: fam };
  const p = text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(p) ? Number(p) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw new AddressSyntaxError(`bad prefix length "/${p}" in "${text}" (0..${bits})`);
  return { address, prefix, family: fam };
}

/** "192.0.2.1:53" or "[2001:db8::1]:53". */
export function formatHostPort(a: { readonly host: string; readonly port: number }): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function v6Groups(part: string, out: number[]): void {
  if (part === '') return;
  for (const g of part.split(':')) {
    if (g.includes('.')) {
      for (const o of g.split('.')) out.push(Number(o));
    } else {
      const v = parseInt(g, 16);
      out.push(v >> 8, v & 0xff);
    }
  }
}

/** The octets of an IPv4 (4) or IPv6 (16) address, or undefined when `text` is not one. An IPv6 zone
 * ("fe80::1%eth0") is ignored. */
export function ipOctets(text: string): number[] | undefined {
  const pct = text.indexOf('%');
  const addr = pct < 0 ? text : text.slice(0, pct);
  const fam = isIP(addr);
  if (fam === 4) return addr.split('.').map(Number);
  if (fam !== 6) return undefined;
  const dc = addr.indexOf('::');
  const head: number[] = [];
  const tail: number[] = [];
  if (dc < 0) {
    v6Groups(addr, head);
  } else {
    v6Groups(addr.slice(0, dc), head);
    v6Groups(addr.slice(dc + 2), tail);
  }
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket reports IPv4 peers) as its IPv4
 * octets; any other address unchanged. */
export function unmapV4(octets: number[]): number[] {
  if (octets.length !== 16 || octets[10] !== 0xff || octets[11] !== 0xff) return octets;
  for (let i = 0; i < 10; i++) if (octets[i] !== 0) return octets;
  return octets.slice(12);
}
