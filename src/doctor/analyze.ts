// The judgement of `secondaryd doctor`: facts in, findings out, no I/O. The checks are the classic
// redundancy mistakes (RFC 2182: secondaries in separate networks, every listed server answering
// authoritatively with the same data; RFC 1034 4.3.5 / RFC 5936 for transfers; RFC 1982 for serials).
//
// Every check yields at least one finding: `ok` when it passed, otherwise one `warning` or `error`
// per problem. Codes are stable (scripts match on them); messages are for people.

import { ipOctets, unmapV4 } from '../config/address.js';
import { serialCompare } from '../wire/serial.js';
import type { AddressFacts, DoctorFacts } from './facts.js';

export type Severity = 'error' | 'warning' | 'ok';

/** Finding codes. Problems: the first group; passed checks: the second. */
export type FindingCode =
  | 'not-serving'
  | 'ns-unresolvable'
  | 'ns-single-network'
  | 'ns-no-answer'
  | 'ns-not-authoritative'
  | 'serial-mismatch'
  | 'transfer-refused'
  | 'not-in-ns-set'
  | 'no-alerts'
  | 'serving'
  | 'ns-resolved'
  | 'ns-networks-diverse'
  | 'ns-authoritative'
  | 'serial-consistent'
  | 'transfer-allowed'
  | 'transfer-not-applicable'
  | 'in-ns-set'
  | 'alerts-configured';

/** The check a finding belongs to (one line per check when all is well). */
export type CheckName = 'serving' | 'resolution' | 'networks' | 'answers' | 'serial' | 'transfer' | 'self' | 'alerts';

export interface Finding {
  severity: Severity;
  code: FindingCode;
  check: CheckName;
  message: string;
  /** The nameserver (NS target) concerned. */
  nameserver?: string;
  /** The address concerned (a nameserver's, or a primary's "host:port"). */
  address?: string;
  /** serial-mismatch: every server's serial, with how it compares to the newest (RFC 1982). */
  serials?: { server: string; serial: number; status: 'newest' | 'behind' | 'incomparable' }[];
  /** ns-single-network / ns-networks-diverse: the networks the addresses fall in. */
  networks?: string[];
}

/** The /24 (IPv4) or /48 (IPv6) an address is in, as "192.0.2.0/24" or "2001:db8:1::/48". */
export function networkOf(address: string): string | undefined {
  const o = ipOctets(address);
  if (o === undefined) return undefined;
  const v = unmapV4(o);
  if (v.length === 4) return `${v[0]}.${v[1]}.${v[2]}.0/24`;
  return `${ipv6Text([...v.slice(0, 6), ...new Array<number>(10).fill(0)])}/48`;
}

/** RFC 5952 text of 16 octets: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
function ipv6Text(octets: number[]): string {
  const g = Array.from({ length: 8 }, (_, i) => (octets[2 * i]! << 8) | octets[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

/** One spelling per address (so "::1" and "0:0::1", or "::ffff:192.0.2.1" and "192.0.2.1", match). */
export function addressKey(address: string): string | undefined {
  const o = ipOctets(address);
  return o === undefined ? undefined : unmapV4(o).join('.');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

function where(ns: string, a: AddressFacts): string {
  return `${ns} (${a.address})`;
}

export function analyze(f: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  const zone = f.zone;

  // -- serving: can we read the zone from ourselves at all? Everything about the NS set depends on it.
  if (f.self.error !== undefined) {
    out.push({ severity: 'error', code: 'not-serving', check: 'serving', address: f.self.address, message: `this server (${f.self.address}) does not serve ${zone}: ${f.self.error}` });
  } else {
    out.push({
      severity: 'ok',
      code: 'serving',
      check: 'serving',
      address: f.self.address,
      message: `this server (${f.self.address}) serves ${zone} at serial ${f.self.serial}, ${plural(f.nameservers.length, 'nameserver')} in the NS set`,
    });
  }

  const addresses = f.nameservers.flatMap((ns) => ns.addresses.map((a) => ({ ns: ns.name, a })));

  // -- resolution: every NS target must have an address, or resolvers waste time on it.
  if (f.nameservers.length > 0) {
    const unresolved = f.nameservers.filter((ns) => ns.addresses.length === 0);
    for (const ns of unresolved) {
      out.push({
        severity: 'error',
        code: 'ns-unresolvable',
        check: 'resolution',
        nameserver: ns.name,
        message: `${ns.name} has no address${ns.resolveError ? `: ${ns.resolveError}` : ''}${ns.inZone ? ' (in-zone name: add its A/AAAA records to the zone)' : ''}`,
      });
    }
    if (unresolved.length === 0) {
      out.push({ severity: 'ok', code: 'ns-resolved', check: 'resolution', message: `${plural(f.nameservers.length, 'nameserver')} with ${plural(addresses.length, 'address')} in all` });
    }
  }

  // -- networks: RFC 2182 3.1: no single network failure may take out every server.
  if (addresses.length > 0) {
    const networks = [...new Set(addresses.map(({ a }) => networkOf(a.address)).filter((n): n is string => n !== undefined))];
    const v4 = [...new Set(addresses.filter(({ a }) => a.family === 4).map(({ a }) => networkOf(a.address)))];
    const v6 = [...new Set(addresses.filter(({ a }) => a.family === 6).map(({ a }) => networkOf(a.address)))];
    if (addresses.length === 1) {
      const { ns, a } = addresses[0]!;
      out.push({ severity: 'warning', code: 'ns-single-network', check: 'networks', networks, message: `only one nameserver address, ${where(ns, a)}: no redundancy at all` });
    } else if (v4.length <= 1 && v6.length <= 1) {
      // All IPv4 in one /24 and all IPv6 in one /48: the usual picture of servers in one rack or one
      // provider's one subnet, which one outage takes down together (dual stack does not help).
      out.push({
        severity: 'warning',
        code: 'ns-single-network',
        check: 'networks',
        networks,
        message: `all ${plural(addresses.length, 'nameserver address')} are in ${networks.length === 1 ? 'one network' : 'one IPv4 /24 and one IPv6 /48'} (${networks.join(', ')}): a single failure domain`,
      });
    } else {
      out.push({ severity: 'ok', code: 'ns-networks-diverse', check: 'networks', networks, message: `addresses in ${plural(networks.length, 'network')}: ${networks.join(', ')}` });
    }
  }

  // -- answers: every address of every NS must answer for the zone, authoritatively.
  if (addresses.length > 0) {
    let bad = 0;
    for (const { ns, a } of addresses) {
      if (a.authoritative) continue;
      bad++;
      if (a.failure === 'no-answer') {
        out.push({ severity: 'error', code: 'ns-no-answer', check: 'answers', nameserver: ns, address: a.address, message: `${where(ns, a)} does not answer: ${a.error ?? 'no answer'}` });
      } else {
        out.push({ severity: 'error', code: 'ns-not-authoritative', check: 'answers', nameserver: ns, address: a.address, message: `${where(ns, a)} is not authoritative for ${zone}: ${a.error ?? 'no authoritative SOA'}` });
      }
    }
    if (bad === 0) out.push({ severity: 'ok', code: 'ns-authoritative', check: 'answers', message: `all ${plural(addresses.length, 'address')} answer authoritatively` });
  }

  // -- serial: every server, ours included, should serve the same version.
  const serials: { server: string; serial: number }[] = [];
  const selfListed = f.port === f.self.port && addresses.some(({ a }) => addressKey(a.address) === addressKey(f.self.host));
  if (f.self.serial !== undefined && !selfListed) serials.push({ server: `this server (${f.self.address})`, serial: f.self.serial });
  for (const { ns, a } of addresses) if (a.serial !== undefined) serials.push({ server: where(ns, a), serial: a.serial });
  if (serials.length > 0) {
    const distinct = [...new Set(serials.map((s) => s.serial))];
    if (distinct.length === 1) {
      out.push({ severity: 'ok', code: 'serial-consistent', check: 'serial', message: `${plural(serials.length, 'server')} serve serial ${distinct[0]}` });
    } else {
      // The newest is the one no other serial is greater than (RFC 1982); with serials half the
      // space apart there may be none, and then nothing is "behind".
      const newest = distinct.find((s) => distinct.every((o) => serialCompare(s, o) !== -1 && serialCompare(s, o) !== undefined));
      const detail = serials.map((s) => ({
        ...s,
        status: newest === undefined ? ('incomparable' as const) : s.serial === newest ? ('newest' as const) : ('behind' as const),
      }));
      const behind = detail.filter((d) => d.status === 'behind');
      const text = detail.map((d) => `${d.server} ${d.serial}`).join(', ');
      out.push({
        severity: 'warning',
        code: 'serial-mismatch',
        check: 'serial',
        serials: detail,
        message:
          newest === undefined
            ? `serials differ and cannot be ordered (RFC 1982): ${text}`
            : `${plural(behind.length, 'server')} behind serial ${newest}: ${text}`,
      });
    }
  }

  // -- transfer: a secondary is only as good as its primary's willingness to send the zone.
  if (f.kind === 'file') {
    out.push({ severity: 'ok', code: 'transfer-not-applicable', check: 'transfer', message: `${zone} is served from a file: no primary to transfer from` });
  } else {
    for (const p of f.primaries) {
      const key = p.key !== undefined ? ` with key ${p.key}` : ' (no TSIG key)';
      if (p.allowed) {
        out.push({ severity: 'ok', code: 'transfer-allowed', check: 'transfer', address: p.address, message: `primary ${p.address} allows AXFR${key}, serial ${p.serial}` });
      } else {
        out.push({ severity: 'error', code: 'transfer-refused', check: 'transfer', address: p.address, message: `primary ${p.address} does not allow AXFR${key}: ${p.error ?? 'refused'}` });
      }
    }
  }

  // -- self: a secondary nobody is told about serves no one (the delegation or NS set was not updated).
  if (addresses.length > 0) {
    const local = new Set(f.localAddresses.map(addressKey));
    const ours = addresses.filter(({ a }) => a.local === true || local.has(addressKey(a.address)));
    if (ours.length === 0) {
      out.push({
        severity: 'warning',
        code: 'not-in-ns-set',
        check: 'self',
        message: `none of the NS addresses is this server's: add it to the zone's NS set (and the parent's delegation) or it serves no one`,
      });
    } else {
      out.push({ severity: 'ok', code: 'in-ns-set', check: 'self', message: `this server is in the NS set as ${ours.map(({ ns, a }) => where(ns, a)).join(', ')}` });
    }
  }

  // -- alerts: without them a failing or expiring zone is noticed by its users first.
  if (!f.alerts.webhook && !f.alerts.command) {
    out.push({ severity: 'warning', code: 'no-alerts', check: 'alerts', message: `no alerts configured for ${zone} (set alerts.webhook or alerts.command): a failing or expiring zone would go unnoticed` });
  } else {
    const via = [f.alerts.webhook ? 'webhook' : '', f.alerts.command ? 'command' : ''].filter(Boolean).join(' and ');
    out.push({ severity: 'ok', code: 'alerts-configured', check: 'alerts', message: `alerts go to a ${via}` });
  }

  return out;
}

/** No error or warning among the findings. */
export function healthy(findings: readonly Finding[]): boolean {
  return findings.every((x) => x.severity === 'ok');
}
