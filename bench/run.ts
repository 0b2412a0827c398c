// `npm run bench`: secondaryd, Knot (one UDP worker), NSD (one server, no rate limit) and a bare Node
// UDP responder (fixed answer: Node's ceiling) serve the same generated zone, each loaded in turn by
// dnsperf with the same settings. Prints qps, server CPU per query, latency, lost queries, RSS, and
// the ratios to Knot and to the bare responder; writes the results as JSON to bench/out/.
//
// Then DNSSEC: the same zone signed with ldns-signzone (NSEC3, salt, 5 extra iterations), served by
// secondaryd and Knot, each loaded with the same queries without and with the DO bit (dnsperf -D).
//
//   npm run bench -- [--records 1000000] [--seconds 10] [--no-dnssec]

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { startKnot, startNsd } from '../test/helpers/knot.js';
import { freePort } from '../test/helpers/ports.js';
import { startDaemon } from '../test/helpers/secondaryd.js';
import { makeKeys, signZone } from '../test/helpers/signzone.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RECORDS = opt('records', 100_000);
const SECONDS = opt('seconds', 10);
const ORIGIN = 'bench.test.';

execFileSync(process.execPath, [path.join(import.meta.dirname, '..', 'test/setup/ensure-tools.mjs')], { stdio: 'inherit' });

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

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return ticks / 100;
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** All pids of a process tree (NSD forks; Knot and the shells wrap). */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    const kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    for (const k of kids) out.push(...tree(k));
  } catch {
    // no children
  }
  return out;
}

interface Result {
  server: string;
  qps: number;
  sent: number;
  lost: number;
  avgLatencyMs: number;
  cpuUsPerQuery: number;
  rssMiB: number;
}

function dnsperf(port: number, queries: string, pids: number[], server: string, dnssecOk = false): Result {
  const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const out = execFileSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(SECONDS), '-c', '8', '-q', '200', '-T', '1', ...(dnssecOk ? ['-D'] : [])], { encoding: 'utf8' });
  const cpu1 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  const r: Result = {
    server,
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    cpuUsPerQuery: ((cpu1 - cpu0) / completed) * 1e6,
    rssMiB: pids.reduce((s, p) => s + rss(p), 0) / 1048576,
  };
  return r;
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

const dir = mkdtempSync(path.join(tmpdir(), 'secondaryd-bench-'));
const { text, names } = zoneText(RECORDS);
const zoneFile = path.join(dir, 'bench.zone');
writeFileSync(zoneFile, text);
const queries = path.join(dir, 'queries.txt');
writeFileSync(queries, queryMix(names, 200_000));
console.log(`zone: ${RECORDS} records, ${names} names; ${SECONDS} s of dnsperf per server (-c 8 -q 200 -T 1) on ${cpus().length} cores`);

const results: Result[] = [];
const zones = [{ name: ORIGIN, file: zoneFile }];

{
  const t0 = Date.now();
  const d = await startDaemon({ zones: [{ name: ORIGIN, file: zoneFile }] });
  console.log(`secondaryd loaded the zone file in ${Date.now() - t0} ms`);
  results.push(dnsperf(d.port, queries, [d.child.pid!], 'secondaryd'));
  await d.stop();
}
{
  const t0 = Date.now();
  const k = await startKnot({ zones, startTimeoutMs: 600_000 });
  console.log(`knot loaded the zone file in ${Date.now() - t0} ms`);
  const pid = Number(execFileSync('pgrep', ['-f', `knotd -c ${k.config}`], { encoding: 'utf8' }).trim().split('\n')[0]);
  results.push(dnsperf(k.port, queries, tree(pid), 'knot (1 UDP worker)'));
  await k.stop();
}
{
  const t0 = Date.now();
  const n = await startNsd({ zones, startTimeoutMs: 600_000 });
  console.log(`nsd loaded the zone file in ${Date.now() - t0} ms`);
  const pid = Number(execFileSync('pgrep', ['-f', `nsd -d -c ${n.config}`], { encoding: 'utf8' }).trim().split('\n')[0]);
  results.push(dnsperf(n.port, queries, tree(pid), 'nsd (1 server)'));
  await n.stop();
}
{
  const port = await freePort();
  const b = bareResponder(port);
  await new Promise((r) => b.stdout!.once('data', r));
  results.push(dnsperf(port, queries, [b.pid!], 'bare node responder'));
  b.kill();
}

const knot = results.find((r) => r.server.startsWith('knot'))!;
const bare = results.find((r) => r.server.startsWith('bare'))!;
const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`\n${pad('server', 22)}${pad('qps', 10)}${pad('CPU us/q', 10)}${pad('latency ms', 12)}${pad('lost', 8)}${pad('RSS MiB', 9)}${pad('x knot', 8)}x bare`);
for (const r of results) {
  console.log(
    `${pad(r.server, 22)}${pad(r.qps.toFixed(0), 10)}${pad(r.cpuUsPerQuery.toFixed(1), 10)}${pad(r.avgLatencyMs.toFixed(3), 12)}${pad(String(r.lost), 8)}${pad(r.rssMiB.toFixed(0), 9)}${pad((r.qps / knot.qps).toFixed(2), 8)}${(r.qps / bare.qps).toFixed(2)}`,
  );
}

// DNSSEC: the zone signed with NSEC3; each server without and with DO.
const signed: Result[] = [];
if (!args.includes('--no-dnssec')) {
  const t0 = Date.now();
  const keys = await makeKeys(dir, ORIGIN);
  const signedFile = path.join(dir, 'bench.signed');
  writeFileSync(signedFile, await signZone(keys, text, { denial: 'nsec3', salt: 'aabbccdd', iterations: 5, out: 'bench.signed' }));
  console.log(`\nsigned the zone (ldns-signzone, NSEC3, 5 iterations) in ${Date.now() - t0} ms`);
  const signedZones = [{ name: ORIGIN, file: signedFile }];
  {
    const d = await startDaemon({ zones: signedZones });
    signed.push(dnsperf(d.port, queries, [d.child.pid!], 'secondaryd DO=0'));
    signed.push(dnsperf(d.port, queries, [d.child.pid!], 'secondaryd DO=1', true));
    await d.stop();
  }
  {
    const k = await startKnot({ zones: signedZones, startTimeoutMs: 600_000 });
    const pid = Number(execFileSync('pgrep', ['-f', `knotd -c ${k.config}`], { encoding: 'utf8' }).trim().split('\n')[0]);
    signed.push(dnsperf(k.port, queries, tree(pid), 'knot DO=0'));
    signed.push(dnsperf(k.port, queries, tree(pid), 'knot DO=1', true));
    await k.stop();
  }
  console.log(`\n${pad('signed zone', 22)}${pad('qps', 10)}${pad('CPU us/q', 10)}${pad('latency ms', 12)}${pad('lost', 8)}${pad('RSS MiB', 9)}x DO=0`);
  for (const r of signed) {
    const base = signed.find((x) => x.server === r.server.replace('DO=1', 'DO=0'))!;
    console.log(`${pad(r.server, 22)}${pad(r.qps.toFixed(0), 10)}${pad(r.cpuUsPerQuery.toFixed(1), 10)}${pad(r.avgLatencyMs.toFixed(3), 12)}${pad(String(r.lost), 8)}${pad(r.rssMiB.toFixed(0), 9)}${(r.qps / base.qps).toFixed(2)}`);
  }
}
mkdirSync(path.join(import.meta.dirname, 'out'), { recursive: true });
const file = path.join(import.meta.dirname, 'out', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), records: RECORDS, seconds: SECONDS, cores: cpus().length, results, signed }, null, 2));
console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
