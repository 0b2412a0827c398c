// Independent reference for the zone-file tests: knotd loads a master file and we AXFR it (RFC 5936) to get its wire RDATA.
//
// test/helpers/knot.ts cannot allow transfers (its zones have no ACL), so this starts its own knotd
// with a transfer ACL for 127.0.0.1. Missing knotd is an error, never a skip.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseMessage, type ParsedRR } from '../helpers/compare.js';
import { TcpFramer, buildQuery, frameTcp } from '../helpers/dnsclient.js';
import { freePort } from '../helpers/ports.js';

export interface KnotLoad {
  /** The zone's records as transferred, the closing SOA left out. */
  records: ParsedRR[];
  /** knotd's log (warnings and errors while loading). */
  log: string;
}

function axfr(port: number, zone: string, timeoutMs = 5000): Promise<ParsedRR[]> {
  return new Promise((resolve, reject) => {
    const out: ParsedRR[] = [];
    let soas = 0;
    const framer = new TcpFramer();
    const sock = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => done(new Error('AXFR timed out')), timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(out);
    };
    sock.on('connect', () => sock.write(frameTcp(buildQuery({ name: zone, type: 252 }, { edns: false, id: 4321 }))));
    sock.on('data', (chunk: Buffer) => {
      for (const msg of framer.push(chunk)) {
        const m = parseMessage(msg);
        if (m.rcode !== 0) return done(new Error(`AXFR rcode ${m.rcode}`));
        for (const rr of m.answer) {
          if (rr.type === 6 && ++soas === 2) return done();
          out.push(rr);
        }
      }
    });
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('AXFR connection closed early')));
  });
}

/** Load `file` as zone `zone` (absolute, with the final dot) in a fresh knotd and transfer it out. */
export async function knotLoad(file: string, zone: string): Promise<KnotLoad> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'secondaryd-zonefile-knot-'));
    const port = await freePort();
    const conf = path.join(dir, 'knot.conf');
    await writeFile(
      conf,
      `server:
  rundir: "${dir}"
  listen: 127.0.0.1@${port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
log:
  - target: stderr
    any: info
database:
  storage: "${dir}"
acl:
  - id: local
    address: 127.0.0.1
    action: transfer
template:
  - id: default
    storage: "${dir}"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: "${zone}"
    file: "${path.resolve(file)}"
    acl: local
`,
    );
    const child = spawn('knotd', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((r) => {
      child.once('exit', () => r());
      child.once('error', (err) => {
        log += `spawn error: ${err.message}\n`;
        r();
      });
    });
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    };
    try {
      const deadline = Date.now() + 15000;
      for (;;) {
        if (log.includes('spawn error')) throw new Error(`knotd could not be started (is the knot package installed?)\n${log}`);
        if (/failed to load zone|failed to parse zone/.test(log)) throw new Error(`knotd could not load ${file}:\n${log}`);
        if (log.includes('] loaded,')) {
          try {
            const records = await axfr(port, zone);
            return { records, log };
          } catch (err) {
            if (Date.now() > deadline) throw err;
          }
        }
        if (child.exitCode !== null) throw new Error(`knotd exited:\n${log}`);
        if (Date.now() > deadline) throw new Error(`knotd did not serve ${zone} in time:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (err) {
      lastErr = err;
      // A lost race for the port is worth another try; a zone that does not load is not.
      if (!/cannot bind|Address already in use/i.test(log)) throw err;
    } finally {
      await stop();
    }
  }
  throw lastErr;
}
