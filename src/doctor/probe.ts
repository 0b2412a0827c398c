// The network side of `secondaryd doctor`: collects DoctorFacts from the outside, the way a resolver
// or a fellow secondary would see the zone.
//
//   our listen address --SOA, NS--> NS names --A/AAAA (ours, or the system resolver)--> addresses
//   every address:port --SOA--> serial, AA            every primary --AXFR (TSIG)--> first message
//
// Queries go over UDP (TCP when truncated, RFC 7766) with the daemon's own codec, request builders,
// response checks and TSIG code; the socket helpers are the transfer client's. The AXFR probe reads
// only the first message (RFC 5936 2.2: NOERROR and the zone's SOA first means the transfer is
// allowed) and then closes the connection instead of pulling the whole zone.

import { randomInt } from 'node:crypto';
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import os from 'node:os';
import { formatHostPort, type HostPort } from '../config/address.js';
import type { Config, PrimaryConfig, TsigKeyConfig, ZoneConfig } from '../config/types.js';
import { tcpExchange, udpExchange } from '../net/xfr-client.js';
import { Flag, Rcode, rcodeToText, Type } from '../wire/constants.js';
import { encodeMessage, type Message } from '../wire/message.js';
import { isSubdomain, nameEquals, nameFromText, nameToText } from '../wire/name.js';
import { decodeTsigRdata, signMessage, TsigVerifier } from '../wire/tsig.js';
import { presentRdata } from '../zonefile/rdata-text.js';
import { TransferError, type MessageVerifier } from '../xfr/errors.js';
import { axfrQuery, query } from '../xfr/request.js';
import { checkResponse, decodeResponse } from '../xfr/response.js';
import { checkSoaResponse, soaFields } from '../xfr/soa-check.js';
import { addressKey } from './analyze.js';
import type { AddressFacts, DoctorFacts, NameserverFacts, PrimaryFacts } from './facts.js';

/** The part of node:dns's Resolver the probe uses (tests may pass their own). */
export interface AddressResolver {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface ProbeOptions {
  /** Port the nameserver addresses are asked on (53 in real life). */
  port: number;
  /** Wait for one answer (ms). */
  timeoutMs: number;
  /** Wall clock in unix seconds, for TSIG. */
  now?: () => number;
  /** For out-of-zone NS targets; default: the system resolver with `timeoutMs`. */
  resolver?: AddressResolver;
  /** This machine's addresses; default: os.networkInterfaces(). */
  interfaceAddresses?: () => string[];
}

/** A signal that never aborts: the probe bounds every exchange with its own timeouts. */
const NEVER = new AbortController().signal;

const TSIG_ERROR_NAMES: ReadonlyMap<number, string> = new Map([
  [16, 'BADSIG'], [17, 'BADKEY'], [18, 'BADTIME'], [19, 'BADMODE'], [20, 'BADNAME'], [21, 'BADALG'], [22, 'BADTRUNC'],
]);

export function rcodeName(rcode: number): string {
  return rcode <= Rcode.NOTZONE ? rcodeToText(rcode) : `rcode ${rcode}`;
}

/** Where to reach this server: a wildcard listen address is reached through loopback. */
export function selfEndpoint(config: Config): HostPort {
  const l = config.server.listen[0];
  if (l === undefined) return { host: '127.0.0.1', port: 53, family: 4 };
  if (l.host === '0.0.0.0') return { ...l, host: '127.0.0.1' };
  if (l.host === '::') return { ...l, host: '::1' };
  return l;
}

function endpoint(host: string, port: number): HostPort {
  return { host, port, family: isIP(host) === 6 ? 6 : 4 };
}

const TRUNCATED = Symbol('truncated');

/**
 * One question to `ep`: over UDP (asked again once after a timeout), over TCP when the answer is
 * truncated. `check` validates an answer and returns what the caller wants from it, or TRUNCATED.
 */
async function ask<T>(ep: HostPort, name: Buffer, type: number, timeoutMs: number, check: (raw: Buffer, id: number) => T | typeof TRUNCATED): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const id = randomInt(65536);
    let raw: Buffer;
    try {
      raw = await udpExchange(ep, encodeMessage(query(name, id, type)), id, timeoutMs, NEVER);
    } catch (err) {
      if (attempt === 0 && err instanceof TransferError && err.reason === 'timeout') continue;
      throw err;
    }
    const r = check(raw, id);
    if (r !== TRUNCATED) return r;
    break;
  }
  const id = randomInt(65536);
  let result: { value: T } | undefined;
  await tcpExchange(ep, encodeMessage(query(name, id, type)), timeoutMs, timeoutMs, NEVER, (raw) => {
    const r = check(raw, id);
    if (r === TRUNCATED) throw new TransferError('truncated', 'answer truncated over TCP');
    result = { value: r };
    return 'done';
  });
  return result!.value;
}

/** An SOA answer: the serial of an authoritative NOERROR answer, else a TransferError. */
function askSoa(ep: HostPort, zone: Buffer, timeoutMs: number): Promise<number> {
  return ask(ep, zone, Type.SOA, timeoutMs, (raw, id) => {
    const r = checkSoaResponse(raw, { zone, id });
    return r.truncated ? TRUNCATED : r.serial;
  });
}

/** A decoded answer that passed the common checks (ID, QR, opcode, NOERROR, question). NXDOMAIN: undefined. */
function askMessage(ep: HostPort, name: Buffer, type: number, timeoutMs: number): Promise<Message | undefined> {
  return ask(ep, name, type, timeoutMs, (raw, id) => {
    const msg = decodeResponse(raw);
    try {
      checkResponse(raw, msg, { zone: name, id, qtype: type }, undefined, true);
    } catch (err) {
      if (err instanceof TransferError && err.rcode === Rcode.NXDOMAIN) return undefined;
      throw err;
    }
    return msg.flags & Flag.TC ? TRUNCATED : msg;
  });
}

/** The reason of a failed exchange, and whether it means "no answer" or "answered, but not for the zone". */
function describe(err: unknown): { failure: 'no-answer' | 'not-authoritative'; error: string } {
  if (err instanceof TransferError) {
    // A closed port shows as ECONNREFUSED (over UDP, from the ICMP port unreachable): say what it means.
    if (err.reason === 'unreachable' && /ECONNREFUSED/.test(err.message)) return { failure: 'no-answer', error: 'nothing listening (ECONNREFUSED)' };
    if (err.reason === 'timeout' || err.reason === 'unreachable') return { failure: 'no-answer', error: err.message };
    if (err.rcode !== undefined) return { failure: 'not-authoritative', error: `answered ${rcodeName(err.rcode)}` };
    return { failure: 'not-authoritative', error: err.message };
  }
  return { failure: 'no-answer', error: err instanceof Error ? err.message : String(err) };
}

/** Addresses of an NS target from our own answers (in-zone names, glue included). */
async function ownAddresses(self: HostPort, target: Buffer, timeoutMs: number): Promise<{ addresses: string[]; error?: string }> {
  const addresses: string[] = [];
  let error: string | undefined;
  for (const type of [Type.A, Type.AAAA]) {
    try {
      const msg = await askMessage(self, target, type, timeoutMs);
      if (msg === undefined) {
        error = 'NXDOMAIN in the zone';
        continue;
      }
      for (const rr of [...msg.answer, ...msg.additional]) {
        if (rr.type !== type || !nameEquals(rr.owner, target)) continue;
        const text = presentRdata(type, rr.rdata);
        if (text !== undefined && !addresses.includes(text)) addresses.push(text);
      }
    } catch (err) {
      error = describe(err).error;
    }
  }
  if (addresses.length === 0 && error === undefined) error = 'no A or AAAA record in the zone';
  return addresses.length > 0 ? { addresses } : { addresses, ...(error !== undefined ? { error } : {}) };
}

/** Addresses of an out-of-zone NS target from the system resolver. */
async function resolvedAddresses(resolver: AddressResolver, name: string): Promise<{ addresses: string[]; error?: string }> {
  const host = name.replace(/\.$/, '');
  const errors: string[] = [];
  const one = async (f: (n: string) => Promise<string[]>): Promise<string[]> => {
    try {
      return await f.call(resolver, host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') return [];
      errors.push(code === 'ENOTFOUND' ? 'NXDOMAIN' : ((err as Error).message ?? String(err)));
      return [];
    }
  };
  const [v4, v6] = await Promise.all([one(resolver.resolve4), one(resolver.resolve6)]);
  const addresses = [...v4, ...v6];
  if (addresses.length > 0) return { addresses };
  return { addresses, error: errors.length > 0 ? [...new Set(errors)].join('; ') : 'no A or AAAA record' };
}

/** Ask one primary for an AXFR and judge its first message; the connection is closed after it. */
async function probePrimary(zone: Buffer, p: PrimaryConfig, keys: ReadonlyMap<string, TsigKeyConfig>, timeoutMs: number, now: () => number): Promise<PrimaryFacts> {
  const address = formatHostPort(p);
  // The key as operators write it (the config stores names with the final dot).
  const base = { address, ...(p.key !== undefined ? { key: p.key.replace(/(.)\.$/, '$1') } : {}) };
  const key = p.key !== undefined ? keys.get(p.key) : undefined;
  if (p.key !== undefined && key === undefined) return { ...base, allowed: false, error: `key ${p.key} is not defined` };
  const id = randomInt(65536);
  let bytes = encodeMessage(axfrQuery(zone, id));
  let verifier: MessageVerifier | undefined;
  if (key !== undefined) {
    const { signed, mac } = signMessage(bytes, key, now());
    bytes = signed;
    const v = new TsigVerifier(key, mac, now);
    verifier = { verify: (raw, m) => v.verify(raw, m.tsig), finish: () => v.finish() };
  }
  let serial: number | undefined;
  try {
    await tcpExchange(p, bytes, timeoutMs, timeoutMs * 2, NEVER, (raw) => {
      serial = firstTransferMessage(raw, zone, id, verifier);
      return 'done';
    });
    return { ...base, allowed: true, ...(serial !== undefined ? { serial } : {}) };
  } catch (err) {
    return { ...base, allowed: false, error: describe(err).error };
  }
}

/** The serial a transfer opens with; a TransferError whose message is the reason otherwise. */
export function firstTransferMessage(raw: Buffer, zone: Buffer, id: number, verifier: MessageVerifier | undefined): number {
  const msg = decodeResponse(raw);
  try {
    checkResponse(raw, msg, { zone, id, qtype: Type.AXFR }, verifier, true);
  } catch (err) {
    // An error rcode is the primary's verdict, whatever its TSIG says (an unknown key or a bad MAC is
    // answered NOTAUTH with the TSIG error in an unsigned TSIG RR, RFC 8945 5.2): report both.
    if (err instanceof TransferError && msg.rcode !== 0) {
      let text = `answered ${rcodeName(msg.rcode)}`;
      if (msg.tsig) {
        try {
          const e = decodeTsigRdata(msg.tsig.record.rdata).error;
          if (e !== 0) text += `, TSIG ${TSIG_ERROR_NAMES.get(e) ?? `error ${e}`}`;
        } catch {
          // an undecodable TSIG RR adds nothing to the rcode
        }
      }
      throw new TransferError('rcode', text, undefined, { cause: err });
    }
    throw err;
  }
  const first = msg.answer[0];
  if (first === undefined || first.type !== Type.SOA || !nameEquals(first.owner, zone)) {
    throw new TransferError('bad-first-record', `the transfer does not open with the SOA of ${nameToText(zone)}`);
  }
  return soaFields(first.rdata).serial;
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** Gather everything analyze() needs about `zone`, as configured in `config`. Never throws for network trouble. */
export async function gatherFacts(config: Config, zone: ZoneConfig, o: ProbeOptions): Promise<DoctorFacts> {
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const origin = nameFromText(zone.name);
  const self = selfEndpoint(config);
  const resolver: AddressResolver = o.resolver ?? new dnsPromises.Resolver({ timeout: o.timeoutMs, tries: 2 });
  const local = [
    ...(o.interfaceAddresses ?? interfaceAddresses)(),
    ...config.server.listen.filter((l) => l.host !== '0.0.0.0' && l.host !== '::').map((l) => l.host),
  ];
  const localSet = new Set(local.map(addressKey));
  const isLocal = (a: string): boolean => localSet.has(addressKey(a));

  const keys = new Map(config.keys.map((k) => [k.name, k]));
  const primaries = Promise.all(zone.primaries.map((p) => probePrimary(origin, p, keys, o.timeoutMs, now)));

  const facts: DoctorFacts = {
    zone: zone.name,
    kind: zone.file !== undefined ? 'file' : 'secondary',
    port: o.port,
    self: { host: self.host, port: self.port, address: formatHostPort(self) },
    nameservers: [],
    primaries: [],
    localAddresses: [...new Set(local)],
    alerts: { webhook: Boolean(zone.alerts.webhook), command: Boolean(zone.alerts.command) },
  };

  let targets: Buffer[] = [];
  try {
    facts.self.serial = await askSoa(self, origin, o.timeoutMs);
    const ns = await askMessage(self, origin, Type.NS, o.timeoutMs);
    targets = (ns?.answer ?? []).filter((rr) => rr.type === Type.NS && nameEquals(rr.owner, origin)).map((rr) => rr.rdata);
  } catch (err) {
    facts.self.error = describe(err).error;
  }

  facts.nameservers = await Promise.all(
    targets.map(async (target): Promise<NameserverFacts> => {
      const name = nameToText(target).toLowerCase();
      const inZone = isSubdomain(target, origin);
      const found = inZone ? await ownAddresses(self, target, o.timeoutMs) : await resolvedAddresses(resolver, name);
      const addresses = await Promise.all(
        found.addresses.map(async (address): Promise<AddressFacts> => {
          const a: AddressFacts = { address, family: isIP(address) === 6 ? 6 : 4, authoritative: false };
          if (isLocal(address)) a.local = true;
          try {
            a.serial = await askSoa(endpoint(address, o.port), origin, o.timeoutMs);
            a.authoritative = true;
          } catch (err) {
            Object.assign(a, describe(err));
          }
          return a;
        }),
      );
      return { name, inZone, addresses, ...(found.error !== undefined ? { resolveError: found.error } : {}) };
    }),
  );
  facts.primaries = await primaries;
  return facts;
}
