// Signing test zones (RFC 4033-4035, RFC 5155) with the Debian signers: ldns-signzone (ldnsutils) for
// NSEC and NSEC3, BIND's dnssec-signzone for NSEC3 with real Opt-Out (ldns-signzone -p only sets the
// Opt-Out flag and still gives every insecure delegation an NSEC3; dnssec-signzone -A leaves them,
// and the empty non-terminals above only them, out of the chain, RFC 5155 7.1). One pair of
// ECDSAP256SHA256 keys (ldns-keygen; BIND reads their files) signs every variant, so one trust
// anchor validates them all.

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Denial = 'nsec' | 'nsec3' | 'optout';

export interface ZoneKeys {
  /** Directory holding the key files. */
  dir: string;
  origin: string;
  /** Base names of the key files (K<origin>+013+<tag>). */
  ksk: string;
  zsk: string;
  /** The KSK's DNSKEY record in presentation format (a trust anchor). */
  kskDnskey: string;
  /** The KSK's DNSKEY RDATA fields: flags, protocol, algorithm, base64 key. */
  kskFields: { flags: number; protocol: number; algorithm: number; key: string };
  /** The KSK's DS record (SHA-256) in presentation format, for the parent zone. */
  ds: string;
}

const abs = (z: string): string => (z.endsWith('.') ? z : `${z}.`);

/** Make a KSK and a ZSK for `origin` in `dir`. */
export async function makeKeys(dir: string, origin: string): Promise<ZoneKeys> {
  const name = abs(origin).toLowerCase();
  const ksk = (await run('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', name], { cwd: dir })).stdout.trim();
  const zsk = (await run('ldns-keygen', ['-a', 'ECDSAP256SHA256', name], { cwd: dir })).stdout.trim();
  const kskDnskey = (await readFile(path.join(dir, `${ksk}.key`), 'utf8')).replace(/;.*/s, '').trim();
  const m = /DNSKEY\s+(\d+)\s+(\d+)\s+(\d+)\s+(.+)$/.exec(kskDnskey);
  if (!m) throw new Error(`unexpected key file: ${kskDnskey}`);
  const ds = (await readFile(path.join(dir, `${ksk}.ds`), 'utf8')).replace(/;.*/s, '').trim();
  return {
    dir,
    origin: name,
    ds,
    ksk,
    zsk,
    kskDnskey,
    kskFields: { flags: Number(m[1]), protocol: Number(m[2]), algorithm: Number(m[3]), key: m[4]!.replace(/\s+/g, '') },
  };
}

export interface SignOptions {
  denial: Denial;
  /** NSEC3 salt in hex ('' or '-' for none). Default 'aabbccdd'. */
  salt?: string;
  /** NSEC3 extra iterations. Default 5. */
  iterations?: number;
  /** Output file name in the keys' directory. */
  out: string;
  /** ldns-signzone -p: the Opt-Out flag on every NSEC3, every delegation still in the chain. */
  optOutFlag?: boolean;
}

/** Sign master-file text `text` with `keys`; returns the signed master-file text (also written to `out`). */
export async function signZone(keys: ZoneKeys, text: string, o: SignOptions): Promise<string> {
  const dir = keys.dir;
  const input = path.join(dir, `${o.out}.in`);
  const out = path.join(dir, o.out);
  const salt = o.salt ?? 'aabbccdd';
  const iterations = String(o.iterations ?? 5);
  if (o.denial === 'optout') {
    const withKeys = text + (await readFile(path.join(dir, `${keys.ksk}.key`), 'utf8')) + (await readFile(path.join(dir, `${keys.zsk}.key`), 'utf8'));
    await writeFile(input, withKeys);
    await run('dnssec-signzone', ['-q', '-3', salt === '' ? '-' : salt, '-H', iterations, '-A', '-o', keys.origin, '-f', out, input, keys.zsk, keys.ksk], { cwd: dir });
  } else {
    await writeFile(input, text);
    const nsec3 = o.denial === 'nsec3' ? ['-n', '-t', iterations, ...(salt === '' || salt === '-' ? [] : ['-s', salt]), ...(o.optOutFlag ? ['-p'] : [])] : [];
    await run('ldns-signzone', ['-o', keys.origin, '-f', out, ...nsec3, input, keys.zsk, keys.ksk], { cwd: dir });
  }
  return readFile(out, 'utf8');
}
