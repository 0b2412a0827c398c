// `npm run bench`: two parts, one after the other, then the wall time; all figures also as one JSON
// file in bench/out/ (bench-<date>.json) so runs can be compared.
//
// 1. Queries: secondaryd, Knot (one UDP worker), NSD (one server, no rate limit) and a bare Node UDP
//    responder (fixed answer: Node's ceiling) serve the same generated zone, each loaded in turn by
//    dnsperf with the same settings. Prints qps, server CPU per query, latency, lost queries, RSS,
//    and the ratios to Knot and to the bare responder.
// 2. Secondary (bench/secondary.ts): secondaryd and Knot, each a secondary of the same Knot primary
//    serving a 1M-record zone: AXFR start to serving, the query rate while a transfer runs, NOTIFY
//    to served, restart to serving from disk, RSS; against the targets of the performance issue.
//
//   npm run bench -- [--records 100000] [--seconds 10] [--no-dnssec] [--xfr-records 1000000] [--xfr-qps 20000] [--only queries|secondary]
//
// Part 1 ends with DNSSEC (unless --no-dnssec): the same zone signed with ldns-signzone (NSEC3, salt,
// 5 extra iterations), served by secondaryd and Knot, each loaded with the same queries without and
// with the DO bit (dnsperf -D).
//
// --records and --seconds are for part 1, --xfr-records and --xfr-qps for part 2 (the offered
// dnsperf rate during the transfers). About 3 minutes on 2 cores with the defaults.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKnot, startNsd, type RefServer } from '../test/helpers/knot.js';
import { freePort } from '../test/helpers/ports.js';
import { startDaemon } from '../test/helpers/secondaryd.js';
import { makeKeys, signZone } from '../test/helpers/signzone.js';
import { buildDaemon, cpuSeconds, rss, tree } from './proc.js';
import { benchSecondary, secondaryTable, writeResult, type SecondaryBenchResult } from './secondary.js';

const ORIGIN = 'bench.test.';

/** The zone: names with A/AAAA/MX/TXT, delegations with glue, a wildcard. */
function zoneText(n: number): { text: string; names: number } {
  const lines = [`$ORIGIN ${ORIGIN}`, '$TTL 3600', '@ SOA ns1 hostmaster 1 3600 600 864000 300', '@ NS ns1', '@ NS ns2', 'ns1 A 192.0.2.1', 'ns2 A 192.0.2.2', '*.wild A 192.0.2.99'];
  let names = 0;
  for (let i = 0; lines.length < n; i++) {
    names++;
    if (i % 50 === 0) {
      lines.push(`d${i} NS ns.d${i}`, `ns.d${i} A 198.51.100.${i % 250}`);
      continue;
    }
    lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `h${i} AAAA 2001:db8::${(i & 0xffff).toString(16)}`);
    if (i % 3 === 0) lines.push(`h${i} MX 10 h${i + 1}`);
    if (i % 5 === 0) lines.push(`h${i} TXT "v=spf1 -all"`);
  }
  return { text: lines.join('\n') + '\n', names };
}

/** The query mix: hits of common types, NODATA, NXDOMAIN, referrals, wildcards, mixed case. */
function queryMix(names: number, count: number): string {
  const out: string[] = [];
  let seed = 12345;
  const rnd = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  for (let q = 0; q < count; q++) {
    let i = rnd(names);
    if (i % 50 === 0) i++;
    const kind = rnd(100);
    if (kind < 40) out.push(`h${i}.${ORIGIN} A`);
    else if (kind < 55) out.push(`h${i}.${ORIGIN} AAAA`);
    else if (kind < 60) out.push(`h${i - (i % 3)}.${ORIGIN} MX`);
    else if (kind < 65) out.push(`H${i}.BeNcH.TeSt. A`);
    else if (kind < 75) out.push(`nx${i}.${ORIGIN} A`);
    else if (kind < 82) out.push(`h${i}.${ORIGIN} SRV`);
    else if (kind < 90) out.push(`www.d${i - (i % 50)}.${ORIGIN} A`);
    else if (kind < 97) out.push(`x${i}.wild.${ORIGIN} A`);
    else out.push(`${ORIGIN} SOA`);
  }
  return out.join('\n') + '\n';
}

export interface QueryResult {
  server: string;
  qps: number;
  sent: number;
  lost: number;
  avgLatencyMs: number;
  cpuUsPerQuery: number;
  rssMiB: number;
}

export interface QueryBenchResult {
  records: number;
  names: number;
  seconds: number;
  /** Spawn to serving the zone file, per server (ms). */
  loadMs: Record<string, number>;
  results: QueryResult[];
  /** The NSEC3-signed zone, each server without and with DO (empty with --no-dnssec). */
  signed: QueryResult[];
}

function dnsperf(port: number, queries: string, pids: number[], server: string, seconds: number, dnssecOk = false): QueryResult {
  const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const out = execFileSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-c', '8', '-q', '200', '-T', '1', ...(dnssecOk ? ['-D'] : [])], {
    encoding: 'utf8',
  });
  const cpu1 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  return {
    server,
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    cpuUsPerQuery: ((cpu1 - cpu0) / completed) * 1e6,
    rssMiB: pids.reduce((s, p) => s + rss(p), 0) / 1048576,
  };
}

/** Node's ceiling: a UDP socket answering every query with a fixed reply (ID copied). */
function bareResponder(port: number): ChildProcess {
  const code = `
    const dgram = require('node:dgram');
    const s = dgram.createSocket('udp4');
    const reply = Buffer.from('0000818000010001000000000568303030300562656e636804746573740000010001c00c000100010000003c00040a000001', 'hex');
    s.on('message', (m, r) => { const b = Buffer.from(reply); b[0] = m[0]; b[1] = m[1]; s.send(b, r.port, r.address); });
    s.bind(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Part 1: the same zone and query mix served by each server in turn under the same dnsperf load. */
export async function benchQueries(opts: { records?: number; seconds?: number; dnssec?: boolean } = {}): Promise<QueryBenchResult> {
  const records = opts.records ?? 100_000;
  const seconds = opts.seconds ?? 10;
  const dir = mkdtempSync(path.join(tmpdir(), 'secondaryd-bench-'));
  const stops: (() => unknown)[] = [];
  try {
    const { text, names } = zoneText(records);
    const zoneFile = path.join(dir, 'bench.zone');
    writeFileSync(zoneFile, text);
    const queries = path.join(dir, 'queries.txt');
    writeFileSync(queries, queryMix(names, 200_000));
    console.log(`zone: ${records} records, ${names} names; ${seconds} s of dnsperf per server (-c 8 -q 200 -T 1) on ${cpus().length} cores`);

    const results: QueryResult[] = [];
    const loadMs: Record<string, number> = {};
    const zones = [{ name: ORIGIN, file: zoneFile }];
    const ref = async (name: string, start: () => Promise<RefServer>, binary: string): Promise<void> => {
      const t0 = Date.now();
      const srv = await start();
      stops.push(() => srv.stop());
      loadMs[name] = Date.now() - t0;
      console.log(`${name} loaded the zone file in ${loadMs[name]} ms`);
      const pid = Number(execFileSync('pgrep', ['-f', `${binary} ${srv.config}`], { encoding: 'utf8' }).trim().split('\n')[0]);
      results.push(dnsperf(srv.port, queries, tree(pid), name, seconds));
      await srv.stop();
    };
    {
      const t0 = Date.now();
      const d = await startDaemon({ zones: [{ name: ORIGIN, file: zoneFile }], built: true });
      stops.push(() => d.stop());
      loadMs.secondaryd = Date.now() - t0;
      console.log(`secondaryd loaded the zone file in ${loadMs.secondaryd} ms`);
      results.push(dnsperf(d.port, queries, [d.child.pid!], 'secondaryd', seconds));
      await d.stop();
    }
    await ref('knot (1 UDP worker)', () => startKnot({ zones, startTimeoutMs: 600_000 }), 'knotd -c');
    await ref('nsd (1 server)', () => startNsd({ zones, startTimeoutMs: 600_000 }), 'nsd -d -c');
    {
      const port = await freePort();
      const b = bareResponder(port);
      stops.push(() => b.kill());
      await new Promise((r) => b.stdout!.once('data', r));
      results.push(dnsperf(port, queries, [b.pid!], 'bare node responder', seconds));
      b.kill();
    }
    // DNSSEC: the zone signed with NSEC3; each server without and with DO.
    const signed: QueryResult[] = [];
    if (opts.dnssec !== false) {
      const t0 = Date.now();
      const keys = await makeKeys(dir, ORIGIN);
      const signedFile = path.join(dir, 'bench.signed');
      writeFileSync(signedFile, await signZone(keys, text, { denial: 'nsec3', salt: 'aabbccdd', iterations: 5, out: 'bench.signed' }));
      console.log(`signed the zone (ldns-signzone, NSEC3, 5 iterations) in ${Date.now() - t0} ms`);
      const signedZones = [{ name: ORIGIN, file: signedFile }];
      const d = await startDaemon({ zones: signedZones, built: true });
      stops.push(() => d.stop());
      signed.push(dnsperf(d.port, queries, [d.child.pid!], 'secondaryd DO=0', seconds));
      signed.push(dnsperf(d.port, queries, [d.child.pid!], 'secondaryd DO=1', seconds, true));
      await d.stop();
      const k = await startKnot({ zones: signedZones, startTimeoutMs: 600_000 });
      stops.push(() => k.stop());
      const pid = Number(execFileSync('pgrep', ['-f', `knotd -c ${k.config}`], { encoding: 'utf8' }).trim().split('\n')[0]);
      signed.push(dnsperf(k.port, queries, tree(pid), 'knot DO=0', seconds));
      signed.push(dnsperf(k.port, queries, tree(pid), 'knot DO=1', seconds, true));
      await k.stop();
    }
    return { records, names, seconds, loadMs, results, signed };
  } finally {
    for (const stop of stops.reverse()) await stop(); // idempotent; a no-op for those already stopped
    rmSync(dir, { recursive: true, force: true });
  }
}

export function queryTable(r: QueryBenchResult): string {
  const knot = r.results.find((x) => x.server.startsWith('knot'))!;
  const bare = r.results.find((x) => x.server.startsWith('bare'))!;
  const pad = (s: string, n: number): string => s.padEnd(n);
  const lines = [`${pad('server', 22)}${pad('qps', 10)}${pad('CPU us/q', 10)}${pad('latency ms', 12)}${pad('lost', 8)}${pad('RSS MiB', 9)}${pad('x knot', 8)}x bare`];
  for (const x of r.results) {
    lines.push(
      `${pad(x.server, 22)}${pad(x.qps.toFixed(0), 10)}${pad(x.cpuUsPerQuery.toFixed(1), 10)}${pad(x.avgLatencyMs.toFixed(3), 12)}${pad(String(x.lost), 8)}${pad(x.rssMiB.toFixed(0), 9)}${pad((x.qps / knot.qps).toFixed(2), 8)}${(x.qps / bare.qps).toFixed(2)}`,
    );
  }
  if (r.signed.length > 0) {
    lines.push('', `${pad('signed zone (NSEC3)', 22)}${pad('qps', 10)}${pad('CPU us/q', 10)}${pad('latency ms', 12)}${pad('lost', 8)}${pad('RSS MiB', 9)}x DO=0`);
    for (const x of r.signed) {
      const base = r.signed.find((y) => y.server === x.server.replace('DO=1', 'DO=0'))!;
      lines.push(`${pad(x.server, 22)}${pad(x.qps.toFixed(0), 10)}${pad(x.cpuUsPerQuery.toFixed(1), 10)}${pad(x.avgLatencyMs.toFixed(3), 12)}${pad(String(x.lost), 8)}${pad(x.rssMiB.toFixed(0), 9)}${(x.qps / base.qps).toFixed(2)}`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  if (only !== undefined && only !== 'queries' && only !== 'secondary') throw new Error(`--only queries|secondary, not ${only}`);
  const started = performance.now();
  const date = new Date().toISOString();
  execFileSync(process.execPath, [path.join(import.meta.dirname, '..', 'test/setup/ensure-tools.mjs')], { stdio: 'inherit' });
  buildDaemon();

  let queries: QueryBenchResult | undefined;
  let secondary: SecondaryBenchResult | undefined;
  if (only !== 'secondary') {
    queries = await benchQueries({ records: opt('records', 100_000), seconds: opt('seconds', 10), dnssec: !args.includes('--no-dnssec') });
    console.log(`\n${queryTable(queries)}\n`);
  }
  if (only !== 'queries') {
    secondary = await benchSecondary({ records: opt('xfr-records', 1_000_000), qps: opt('xfr-qps', 20_000) });
    console.log(`\n${secondaryTable(secondary)}\n`);
  }
  const wallMs = performance.now() - started;
  const file = writeResult('bench', { date, cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, wallMs, queries, secondary });
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  console.log(`wall time ${(wallMs / 1000).toFixed(0)} s`);
}
