// The outbound side against real servers (RFC 1995, 1996, 5936, 8945): the daemon as a secondary of a
// Knot primary, itself the primary of a Knot secondary; AXFR/IXFR asked of it directly, with and
// without the key, compared with what the Knot primary answers; a 100k-record AXFR while queries go on.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import t from 'tap';
import { Type } from '../../src/wire/constants.js';
import { decodeMessage } from '../../src/wire/message.js';
import { nameFromText, nameToText } from '../../src/wire/name.js';
import { canonicalRdata } from '../../src/wire/rdata.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { decodeTsigRdata } from '../../src/wire/tsig.js';
import { IxfrSession } from '../../src/xfr/ixfr-client.js';
import { buildZone } from '../../src/zone/zone.js';
import { parseMessage } from '../helpers/compare.js';
import { buildQuery, frameTcp, queryUdp, TcpFramer, TRANSPORTS } from '../helpers/dnsclient.js';
import { formatMismatches, runDifferential } from '../helpers/differential.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { startKnotSecondary } from '../helpers/knot-secondary.js';
import { freePort } from '../helpers/ports.js';
import { startDaemon, type RunningDaemon } from '../helpers/secondaryd.js';
import { buildXfrRequest, xfr, type XfrResult } from '../helpers/xfr-request.js';
import { generateZone } from '../helpers/zonegen.js';
import { waitSerial } from '../helpers/serial.js';

const KEY = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: Buffer.from('a secret shared along the chain').toString('base64') };
const TSIG_KEY = { name: 'xfr-key.', algorithm: 'hmac-sha256' as const, secret: Buffer.from(KEY.secret, 'base64') };
const WRONG_SECRET = { ...TSIG_KEY, secret: Buffer.from('not the secret') };
const UNKNOWN_KEY = { ...TSIG_KEY, name: 'other-key.' };

async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function withSerial(text: string, serial: number): string {
  return text.replace(/(IN\s+SOA\s+\S+\s+\S+\s+\(?\s*)\d+/, `$1${serial}`);
}

/** A record as comparable text: owner (lower case), type, TTL, canonical RDATA. */
function rrKey(rr: ResourceRecord): string {
  return `${nameToText(rr.owner).toLowerCase()} ${rr.type} ${rr.ttl} ${canonicalRdata(rr.rdata, rr.type).toString('hex')}`;
}

function recordSet(rrs: Iterable<ResourceRecord>): string[] {
  return [...rrs].map(rrKey).sort();
}

const serialOf = (rr: ResourceRecord): number => rr.rdata.readUInt32BE(rr.rdata.length - 20);

function tsigError(r: XfrResult): number | undefined {
  const tsig = r.messages[0]?.tsig;
  return tsig ? decodeTsigRdata(tsig.record.rdata).error : undefined;
}

function daemonConfig(zone: string, primaryPort: number, extra: string): string {
  return (
    `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
    `keys:\n  - name: ${KEY.name}\n    algorithm: ${KEY.algorithm}\n    secret: "${KEY.secret}"\n` +
    `zones:\n  - name: ${zone}\n    primaries:\n      - { address: "127.0.0.1:${primaryPort}", key: ${KEY.name} }\n${extra}`
  );
}

t.test('Knot primary -> secondaryd -> Knot secondary: AXFR, then NOTIFY + IXFR down the chain; direct AXFR/IXFR checks', async (t) => {
  const gen = generateZone({ origin: 'example.com.', seed: 42 });
  const zone = gen.origin;
  const v1 = withSerial(gen.text, 1000);
  const ourPort = await freePort();
  const knotSecPort = await freePort();
  const knot = await startKnotPrimary({ [zone]: v1 }, { key: KEY, notify: [`127.0.0.1:${ourPort}`] });
  t.teardown(() => knot.stop());
  const d = await startDaemon({
    port: ourPort,
    zones: [],
    configText: daemonConfig(
      zone,
      knot.port,
      `    allow-transfer: [{ address: "127.0.0.1", key: ${KEY.name} }]\n    notify: [{ address: "127.0.0.1:${knotSecPort}", key: ${KEY.name} }]\n`,
    ),
  });
  t.teardown(() => d.stop());
  const ours = { host: d.host, port: d.port };
  const primary = { host: knot.host, port: knot.port };
  await waitSerial(ours, zone, 1000);

  // The Knot secondary bootstraps from us by AXFR.
  const sec = await startKnotSecondary({ primary: ours, zones: [zone], key: KEY, port: knotSecPort });
  t.teardown(() => sec.stop());
  const secondary = { host: sec.host, port: sec.port };
  await waitSerial(secondary, zone, 1000, 20000, `\n--- knot secondary ---\n${sec.output()}\n--- secondaryd ---\n${d.output().slice(-3000)}`);
  t.match(sec.output(), /AXFR, incoming.*(finished|started)/, 'the Knot secondary pulled the zone from us by AXFR');
  t.ok(await waitFor(() => /"msg":"transfer done"/.test(d.output())), 'we logged the outbound transfer');

  const compare = async (label: string): Promise<void> => {
    const r = await runDifferential({ a: secondary, b: primary, queries: gen.queries, transports: [TRANSPORTS.udp1232, TRANSPORTS.tcp], compare: { additional: 'always', labels: ['knot-secondary', 'knot-primary'] } });
    t.ok(r.compared >= 300, `${r.compared} answers compared`);
    t.equal(r.mismatches.length, 0, `${label}: the Knot secondary answers as the primary does\n${formatMismatches(r.mismatches, 10, ['knot-secondary', 'knot-primary'])}`);
  };
  await compare('after AXFR from us');

  // Our AXFR at serial 1000, kept to apply the IXFR to later.
  const axfr1000 = await xfr(ours, { zone, type: 'AXFR', key: TSIG_KEY });
  t.equal(axfr1000.rcode, 0);
  t.equal(axfr1000.tsig, 'ok', 'every message of the AXFR verifies (RFC 8945 5.3.1)');

  // A change on the primary: it NOTIFYs us, we IXFR, we NOTIFY the Knot secondary, it IXFRs from us.
  const lines = v1.split('\n');
  const www = lines.findIndex((l) => /^www\s/i.test(l));
  const changed = lines.map((l, i) => (i === www ? l.replace(/192\.0\.2\.\d+/, '198.51.100.77') : l)).filter((l) => !/^mx-only\s/i.test(l));
  const v2 = withSerial(changed.join('\n'), 1001) + 'added-by-ixfr 300 IN A 203.0.113.9\nadded-by-ixfr 300 IN TXT "new"\n';
  await writeFile(knot.file(zone), v2);
  const started = Date.now();
  await knot.reload(zone, 1001);
  await waitSerial(ours, zone, 1001, 10000);
  const lag = await waitSerial(secondary, zone, 1001, 10000, `\n--- knot secondary ---\n${sec.output()}\n--- secondaryd ---\n${d.output().slice(-3000)}`);
  t.comment(`primary reload to the Knot secondary serving 1001: ${Date.now() - started} ms (after us: ${lag} ms; its SOA refresh is 7200 s)`);
  t.match(d.output(), /"op":"transfer","kind":"IXFR"/, 'we got the change by IXFR');
  t.ok(await waitFor(() => /"op":"notify-out","remote":"127\.0\.0\.1:\d+","serial":1001,.*"msg":"NOTIFY answered"/.test(d.output())), 'our NOTIFY was answered');
  t.ok(await waitFor(() => /IXFR, incoming.*(finished|started)/.test(sec.output())), 'the Knot secondary got it from us by IXFR');
  t.ok(await waitFor(() => /"kind":"IXFR".*"form":"incremental \(1 changesets\)".*"msg":"transfer done"/.test(d.output())), 'we served it incrementally');
  await compare('after IXFR from us');

  // Direct requests. AXFR with the key: the same records as the primary's AXFR.
  const ourAxfr = await xfr(ours, { zone, type: 'AXFR', key: TSIG_KEY });
  const theirAxfr = await xfr(primary, { zone, type: 'AXFR', key: TSIG_KEY });
  t.equal(ourAxfr.rcode, 0);
  t.equal(ourAxfr.tsig, 'ok', 'signed, every message');
  t.equal(ourAxfr.records[0]!.type, Type.SOA, 'SOA first');
  t.equal(ourAxfr.records.at(-1)!.type, Type.SOA, 'SOA last');
  t.same(recordSet(ourAxfr.records), recordSet(theirAxfr.records), `AXFR: the same ${ourAxfr.records.length} records as the Knot primary's`);
  const kdig = execFileSync('kdig', [`@127.0.0.1`, '-p', String(d.port), '-y', `${KEY.algorithm}:${KEY.name}:${KEY.secret}`, zone, 'AXFR', '+noall', '+answer'], { encoding: 'utf8' });
  t.equal(kdig.trim().split('\n').length, ourAxfr.records.length, 'kdig takes the AXFR (TSIG verified by kdig)');

  // Refusals, side by side with what Knot answers in the same situation.
  for (const [label, req] of [
    ['AXFR without the key', { type: 'AXFR' }],
    ['IXFR without the key', { type: 'IXFR', serial: 1000 }],
    ['AXFR with a wrong secret', { type: 'AXFR', key: WRONG_SECRET }],
    ['AXFR with an unknown key', { type: 'AXFR', key: UNKNOWN_KEY }],
    ['AXFR with a corrupted MAC', { type: 'AXFR', key: TSIG_KEY, badMac: true }],
    ['AXFR with a stale signature', { type: 'AXFR', key: TSIG_KEY, signedAt: Math.floor(Date.now() / 1000) - 3600 }],
    ['AXFR over UDP', { type: 'AXFR', key: TSIG_KEY, udp: true }],
    ['AXFR of a zone not served', { type: 'AXFR', key: TSIG_KEY, zone: 'not-served.example.' }],
  ] as const) {
    const base = { zone, ...req };
    const a = await xfr(ours, base);
    const b = await xfr(primary, base);
    t.equal(a.rcode, b.rcode, `${label}: rcode ${a.rcode}, as Knot`);
    t.equal(a.records.length, 0, `${label}: no records`);
    // Where the key verified we sign even a refusal (RFC 8945 5.3); Knot 3.2 leaves these two unsigned.
    if ('zone' in req || 'udp' in req) t.equal(tsigError(a), 0, `${label}: the answer is signed (the key verified; Knot leaves it unsigned)`);
    else t.equal(tsigError(a), tsigError(b), `${label}: TSIG error ${tsigError(a)}, as Knot`);
    t.comment(`${label}: ours rcode ${a.rcode} tsig-error ${tsigError(a)}; Knot rcode ${b.rcode} tsig-error ${tsigError(b)}`);
  }
  const other = await xfr(ours, { zone, type: 'AXFR', key: TSIG_KEY, localAddress: '127.0.0.2' });
  t.equal(other.rcode, 9, 'AXFR with the key from an address not in allow-transfer: NOTAUTH (Knot\'s answer to a denied transfer)');
  t.equal(other.tsig, 'ok', 'and signed (the key verified)');

  // IXFR: current serial -> one SOA; from 1000 (in the journal) -> the differences; unknown -> AXFR form.
  const current = await xfr(ours, { zone, type: 'IXFR', serial: 1001, key: TSIG_KEY });
  t.equal(current.records.length, 1, 'IXFR from the current serial: one record');
  t.equal(current.records[0]!.type === Type.SOA && serialOf(current.records[0]!), 1001, 'our SOA');
  t.equal(current.tsig, 'ok');
  const inc = await xfr(ours, { zone, type: 'IXFR', serial: 1000, key: TSIG_KEY });
  t.equal(inc.tsig, 'ok');
  t.equal(inc.records[1]!.type === Type.SOA && serialOf(inc.records[1]!), 1000, 'IXFR from 1000: incremental (second record the old SOA)');
  t.ok(inc.records.length < 20, `a few records (${inc.records.length})`);
  const origin = nameFromText(zone);
  const base = buildZone(origin, axfr1000.records.slice(0, -1));
  const session = new IxfrSession({ zone: origin, id: inc.messages[0]!.id, maxRecords: 1e6, maxBytes: 1e8, current: base });
  let state = 'more';
  for (const raw of inc.raw) state = session.push(raw);
  t.equal(state, 'done', 'the IXFR client takes the stream');
  const applied = session.result();
  t.equal(applied.kind, 'IXFR');
  t.same(recordSet(applied.zone!.allRecords()), recordSet(ourAxfr.records.slice(0, -1)), 'the differences, applied to 1000, give the current zone');
  const unknown = await xfr(ours, { zone, type: 'IXFR', serial: 5, key: TSIG_KEY });
  t.not(unknown.records[1]!.type, Type.SOA, 'IXFR from an unknown serial: AXFR form');
  t.same(recordSet(unknown.records), recordSet(ourAxfr.records), 'the whole zone');
  const udp = await xfr(ours, { zone, type: 'IXFR', serial: 1000, key: TSIG_KEY, udp: true });
  const udpKnot = await xfr(primary, { zone, type: 'IXFR', serial: 1000, key: TSIG_KEY, udp: true });
  t.equal(udp.records.length, 1, 'IXFR over UDP: the SOA only');
  t.equal(udp.records.length, udpKnot.records.length, 'as Knot');
  t.equal(udp.tsig, 'ok');
});

t.test('a 100k-record zone goes out by AXFR while UDP queries keep being answered', async (t) => {
  const n = 100_000;
  const lines = ['$ORIGIN big.test.', '$TTL 300', '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.1'];
  for (let i = 0; i < n; i++) lines.push(`h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const d: RunningDaemon = await startDaemon({
    zones: [],
    configText: `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n  - name: big.test\n    file: "{DIR}/big.zone"\n    allow-transfer: ["127.0.0.1"]\n`,
    files: { 'big.zone': lines.join('\n') + '\n' },
  });
  t.teardown(() => d.stop());
  const ep = { host: d.host, port: d.port };
  // The transfer is taken by kdig in its own process, so the latency measured here is the daemon's.
  let transferring = true;
  let kdigOut = '';
  const transfer = new Promise<number | null>((resolve) => {
    const child = spawn('kdig', ['@127.0.0.1', '-p', String(d.port), 'big.test', 'AXFR', '+noall', '+answer'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    child.stdout.on('data', (b: Buffer) => {
      for (let i = 0; i < b.length; i++) if (b[i] === 10) lines++;
    });
    child.stderr.on('data', (b: Buffer) => (kdigOut += b.toString()));
    child.on('close', (code) => {
      transferring = false;
      resolve(code === 0 ? lines : null);
    });
  });
  let answered = 0;
  let asked = 0;
  let maxMs = 0;
  const latencies: number[] = [];
  while (transferring) {
    asked++;
    const started = performance.now();
    const r = parseMessage(await queryUdp(ep, { name: `h${asked % n}.big.test`, type: 1 }, {}, 5000));
    const ms = performance.now() - started;
    latencies.push(ms);
    maxMs = Math.max(maxMs, ms);
    if (r.rcode === 0 && r.answer.length === 1) answered++;
  }
  const got = await transfer;
  t.equal(got, n + 4, `kdig got all ${n + 4} records (SOA twice) ${kdigOut}`);
  t.equal(answered, asked, `all ${asked} queries during the transfer answered`);
  latencies.sort((a, b) => a - b);
  t.comment(`AXFR of ${got} records; ${asked} UDP queries meanwhile, latency median ${latencies[latencies.length >> 1]?.toFixed(2)} ms, max ${maxMs.toFixed(2)} ms (slowest: ${latencies.slice(-5).map((x) => x.toFixed(1)).join(", ")})`);
  // The same through our client: every name once, the SOA at both ends.
  const r = await xfr(ep, { zone: 'big.test', type: 'AXFR', timeoutMs: 120_000 });
  t.equal(r.rcode, 0);
  t.equal(r.records.length, n + 4);
  t.equal(new Set(r.records.map((x) => nameToText(x.owner))).size, n + 2, 'every name once (the apex aside)');
  t.comment(`${r.messages.length} messages, largest ${Math.max(...r.raw.map((b) => b.length))} octets`);

  // A client that does not read for a while (loopback buffers may take the whole zone: the bound on
  // what is produced ahead of the reader is tested in test/net/tcp-transfer.test.ts): others keep
  // being answered, and a query pipelined behind the AXFR on the same connection is answered after
  // the transfer's last message.
  const sock = net.connect({ host: ep.host, port: ep.port });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.pause();
  const axfrReq = buildXfrRequest({ zone: 'big.test', type: 'AXFR', id: 1 }).msg;
  const soaReq = buildQuery({ name: 'big.test', type: Type.SOA }, { id: 2 });
  sock.write(Buffer.concat([frameTcp(axfrReq), frameTcp(soaReq)]));
  let stalled = 0;
  for (let i = 0; i < 50; i++) {
    const r = parseMessage(await queryUdp(ep, { name: `h${i}.big.test`, type: 1 }, {}, 2000));
    if (r.rcode === 0) stalled++;
    await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(stalled, 50, 'queries answered while the transfer waits for a reader');
  const framer = new TcpFramer();
  const ids: number[] = [];
  let records = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stalled after ${ids.length} messages`)), 60_000);
    sock.on('data', (chunk: Buffer) => {
      for (const m of framer.push(chunk)) {
        const msg = decodeMessage(m);
        ids.push(msg.id);
        if (msg.id === 1) records += msg.answer.length;
        if (msg.id === 2) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    sock.resume();
  });
  sock.destroy();
  t.equal(records, n + 4, 'the slow reader got the whole zone');
  t.equal(ids.at(-1), 2, 'the pipelined query is answered after the transfer');
  t.ok(ids.slice(0, -1).every((id) => id === 1), 'and not in the middle of it');
  await waitFor(() => (d.output().match(/"msg":"transfer done"/g) ?? []).length >= 3);
  const done = d.output().split('\n').filter((l) => l.includes('"msg":"transfer done"')).map((l) => JSON.parse(l) as { durationMs: number });
  t.comment(`transfer durations (ms): ${done.map((x) => x.durationMs).join(', ')}`);
  t.ok(await waitFor(() => /"msg":"transfer done"/.test(d.output())), 'the transfer is logged');
});

t.test('the IXFR history survives a restart (read back from the journal)', async (t) => {
  const gen = generateZone({ origin: 'example.net.', seed: 7, names: 40 });
  const zone = gen.origin;
  const ourPort = await freePort();
  const knot = await startKnotPrimary({ [zone]: withSerial(gen.text, 50) }, { key: KEY, notify: [`127.0.0.1:${ourPort}`] });
  t.teardown(() => knot.stop());
  const dir = await mkdtemp(path.join(tmpdir(), 'secondaryd-outbound-'));
  const config = daemonConfig(zone, knot.port, '    allow-transfer: ["127.0.0.1"]\n');
  let d = await startDaemon({ port: ourPort, dir, zones: [], configText: config });
  // The daemon (the one running then) before its directory, which it may still be writing to.
  t.teardown(async () => {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await waitSerial({ host: d.host, port: d.port }, zone, 50);
  await writeFile(knot.file(zone), withSerial(gen.text, 51) + 'added 300 IN A 192.0.2.51\n');
  await knot.reload(zone, 51);
  await waitSerial({ host: d.host, port: d.port }, zone, 51);
  await writeFile(knot.file(zone), withSerial(gen.text, 52) + 'added 300 IN A 192.0.2.52\n');
  await knot.reload(zone, 52);
  await waitSerial({ host: d.host, port: d.port }, zone, 52);
  // (The log line may follow the serial served by a moment.)
  t.ok(await waitFor(() => /"kind":"IXFR","remote":"[^"]+","serial":52/.test(d.output())), 'both changes came by IXFR');
  t.equal(await d.stop(), 0);
  d = await startDaemon({ port: ourPort, dir, zones: [], configText: config });
  const ep = { host: d.host, port: d.port };
  await waitSerial(ep, zone, 52);
  const inc = await xfr(ep, { zone, type: 'IXFR', serial: 50 });
  t.equal(inc.rcode, 0);
  t.same(
    inc.records.filter((r) => r.type === Type.SOA).map(serialOf),
    [52, 50, 51, 51, 52, 52],
    'after the restart, IXFR from 50: two changesets, from the journal',
  );
  const added = inc.records.filter((r) => r.type === Type.A && nameToText(r.owner).startsWith('added'));
  t.same(added.map((r) => [...r.rdata].join('.')), ['192.0.2.51', '192.0.2.51', '192.0.2.52'], 'added, removed, added');
});
