// A Knot DNS primary for the transfer tests: serves zone files to 127.0.0.0/8 by AXFR and, from its journal, by IXFR (RFC 1995, RFC 5936).
//
// test/helpers/knot.ts starts Knot as a plain authoritative server (no transfer ACL, no journal), so
// this launcher writes its own config: an `acl` allowing transfers from loopback, `journal-content:
// changes` so the history is kept, and `zonefile-load: difference` so that rewriting a zone file with
// a higher serial and reloading makes Knot compute and journal the difference, which it then serves
// as IXFR. knotc talks to it over a control socket in the temp dir. A missing knotd is an error.

import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeMessage } from '../../src/wire/message.js';
import { queryUdp } from './dnsclient.js';
import { freePort } from './ports.js';
import { spawnWatched } from './watched.js';

const run = promisify(execFile);

export interface KnotPrimary {
  host: string;
  port: number;
  /** Path of the zone file of `zone` (rewrite it, then call reload). */
  file(zone: string): string;
  /** Make Knot re-read the zone file and wait until it serves `serial`. */
  reload(zone: string, serial: number): Promise<void>;
  /** SOA serial Knot serves for `zone` now. */
  serial(zone: string): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

export interface KnotPrimaryOptions {
  /** A TSIG key the transfer ACL requires, and that signs the NOTIFYs Knot sends. */
  key?: { name: string; algorithm: string; secret: string };
  /** Secondaries Knot NOTIFYs after every change ("127.0.0.1:5300"). */
  notify?: string[];
  startTimeoutMs?: number;
}

const abs = (z: string): string => (z.endsWith('.') ? z : `${z}.`);
const safe = (z: string): string => abs(z).replace(/[^A-Za-z0-9.-]/g, '_');

/** The sections every test knotd shares: loopback on `port`, one UDP worker, state, control socket
 * and log in `dir`. */
export function knotBaseConfig(dir: string, port: number): string {
  const q = (s: string): string => JSON.stringify(s);
  return `server:
  rundir: ${q(dir)}
  listen: 127.0.0.1@${port}
  udp-workers: 1
  tcp-workers: 2
  background-workers: 1
  identity: ""
  version: ""
  nsid: ""

control:
  listen: ${q(path.join(dir, 'knot.sock'))}

log:
  - target: stderr
    any: info

database:
  storage: ${q(dir)}
`;
}

function config(dir: string, port: number, zones: string[], o: KnotPrimaryOptions): string {
  const q = (s: string): string => JSON.stringify(s);
  const key = o.key ? `key:\n  - id: ${q(o.key.name)}\n    algorithm: ${o.key.algorithm}\n    secret: ${q(o.key.secret)}\n\n` : '';
  const keyRef = o.key ? `\n    key: ${q(o.key.name)}` : '';
  const notify = o.notify?.length
    ? `remote:\n${o.notify.map((n, i) => `  - id: sec${i}\n    address: ${n.replace(/:(\d+)$/, '@$1')}${keyRef}\n`).join('')}\n`
    : '';
  const notifyRef = o.notify?.length ? `\n    notify: [${o.notify.map((_, i) => `sec${i}`).join(', ')}]` : '';
  return `# knotd config written by test/helpers/knot-primary.ts
${knotBaseConfig(dir, port)}
${key}${notify}acl:
  - id: xfr
    address: 127.0.0.0/8${keyRef}
    action: transfer

template:
  - id: default
    storage: ${q(dir)}
    semantic-checks: off
    journal-content: changes
    zonefile-sync: -1
    zonefile-load: difference
    acl: xfr${notifyRef}

zone:
${zones.map((z) => `  - domain: ${q(abs(z))}\n    file: ${q(path.join(dir, `${safe(z)}zone`))}\n`).join('')}`;
}

async function soaSerial(port: number, zone: string): Promise<number | undefined> {
  const r = decodeMessage(await queryUdp({ host: '127.0.0.1', port }, { name: abs(zone), type: 6 }, { edns: false }, 500));
  const soa = r.answer.find((rr) => rr.type === 6);
  if (r.rcode !== 0 || !soa) return undefined;
  return soa.rdata.readUInt32BE(soa.rdata.length - 20);
}

async function waitSerial(port: number, zone: string, want: number | undefined, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('knotd exited');
    try {
      const s = await soaSerial(port, zone);
      if (s !== undefined && (want === undefined || s === want)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${zone} not served${want === undefined ? '' : ` at serial ${want}`} in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start knotd serving `zones` (name -> master-file text). Resolves once each zone answers SOA. */
export async function startKnotPrimary(zones: Record<string, string>, opts: KnotPrimaryOptions = {}): Promise<KnotPrimary> {
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const names = Object.keys(zones);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = await mkdtemp(path.join(tmpdir(), 'secondaryd-knot-primary-'));
    const conf = path.join(dir, 'knot.conf');
    await writeFile(conf, config(dir, port, names, opts));
    for (const z of names) await writeFile(path.join(dir, `${safe(z)}zone`), zones[z]!);
    const proc = spawnWatched('knotd', ['-c', conf], dir);
    const child = proc.child;
    const stop = async (): Promise<void> => {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      for (const z of names) await waitSerial(port, z, undefined, child, startTimeoutMs);
      return {
        host: '127.0.0.1',
        port,
        file: (z) => path.join(dir, `${safe(z)}zone`),
        async reload(z, serial) {
          try {
            await run('knotc', ['-s', path.join(dir, 'knot.sock'), '-b', 'zone-reload', abs(z)], { timeout: 60_000 });
          } catch (err) {
            throw new Error(`knotc zone-reload ${abs(z)} failed: ${(err as Error).message}\n--- knotd output ---\n${proc.output()}`);
          }
          await waitSerial(port, z, serial, child, 60_000);
        },
        async serial(z) {
          const s = await soaSerial(port, z);
          if (s === undefined) throw new Error(`${z}: no SOA answer`);
          return s;
        },
        output: proc.output,
        stop,
      };
    } catch (err) {
      lastErr = new Error(`knotd on 127.0.0.1@${port}: ${(err as Error).message}\n--- output ---\n${proc.output()}`);
      await stop();
    }
  }
  throw lastErr;
}
