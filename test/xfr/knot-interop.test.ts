// Interop with a real primary (Knot DNS): SOA check, AXFR (RFC 5936) and IXFR (RFC 1995) of generated zones over loopback TCP, plus a 200k-record AXFR timing.

import net from 'node:net';
import t from 'tap';
import { Type } from '../../src/wire/constants.js';
import { encodeMessage } from '../../src/wire/message.js';
import type { Message } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import { frame, TcpFramer } from '../../src/wire/tcp-framer.js';
import { buildZone } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import { applyChangesets } from '../../src/zone/changeset.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { AxfrSession } from '../../src/xfr/axfr-client.js';
import type { AxfrResult } from '../../src/xfr/axfr-client.js';
import { IxfrSession } from '../../src/xfr/ixfr-client.js';
import type { IxfrResult } from '../../src/xfr/ixfr-client.js';
import { axfrQuery, ixfrQuery, soaQuery, soaRecordOf } from '../../src/xfr/request.js';
import { checkSoaResponse } from '../../src/xfr/soa-check.js';
import { sendUdp } from '../helpers/dnsclient.js';
import { generateZone } from '../helpers/zonegen.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import type { KnotPrimary } from '../helpers/knot-primary.js';
import { zoneKeys } from './util.js';
import { childByKey, firstRdata, getRRset } from '../../src/zone/node.js';

const LIMITS = { maxRecords: 5_000_000, maxBytes: 1 << 30 };

interface Pulled {
  ms: number;
  /** Slowest single push (the last one includes building the zone). */
  worstMs: number;
  lastMs: number;
}

/**
 * The minimal driver: one TCP connection, the request framed, every framed response message pushed
 * into the session until it says 'done'. The stream ending first is a truncated transfer.
 */
function pull(port: number, request: Message, session: { push(raw: Buffer): 'more' | 'done' }, timeoutMs = 120_000): Promise<Pulled> {
  return new Promise((resolve, reject) => {
    const framer = new TcpFramer();
    const sock = net.connect({ host: '127.0.0.1', port });
    const t0 = performance.now();
    let worstMs = 0;
    let lastMs = 0;
    let settled = false;
    const timer = setTimeout(() => finish(new Error('transfer timed out')), timeoutMs);
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve({ ms: performance.now() - t0, worstMs, lastMs });
    };
    sock.on('connect', () => sock.write(frame(encodeMessage(request))));
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const msg of framer.push(chunk)) {
          const a = performance.now();
          const state = session.push(msg);
          lastMs = performance.now() - a;
          worstMs = Math.max(worstMs, lastMs);
          if (state === 'done') return finish();
        }
      } catch (err) {
        finish(err);
      }
    });
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error('connection closed before the end of the transfer')));
  });
}

let nextId = 0x2000;
const id = (): number => nextId++ & 0xffff;

async function axfr(k: KnotPrimary, origin: Buffer): Promise<AxfrResult & Pulled> {
  const qid = id();
  const s = new AxfrSession({ zone: origin, id: qid, ...LIMITS });
  const p = await pull(k.port, axfrQuery(origin, qid), s);
  return { ...s.result(), ...p };
}

async function ixfr(k: KnotPrimary, origin: Buffer, current: Zone): Promise<IxfrResult & Pulled> {
  const qid = id();
  const s = new IxfrSession({ zone: origin, id: qid, current, ...LIMITS });
  const p = await pull(k.port, ixfrQuery(origin, qid, soaRecordOf(current)), s);
  return { ...s.result(), ...p };
}

const fileZone = (origin: Buffer, text: string): Zone => buildZone(origin, parseZone(text, { origin }));

/** Generated zone text with its serial replaced. */
const withSerial = (text: string, serial: number): string => text.replace(/^(\s*)\d+( ; serial)$/m, `$1${serial}$2`);

t.test('Knot primary: SOA check, AXFR, IXFR (two chained changes), UPTODATE, AXFR fallback', async (t) => {
  const gen = generateZone({ origin: 'example.com.', seed: 11 });
  const origin = nameFromText(gen.origin);
  const v1 = gen.text;
  const z1File = fileZone(origin, v1);
  const s1 = z1File.serial;
  const k = await startKnotPrimary({ [gen.origin]: v1 });
  t.teardown(() => k.stop());

  // SOA check over UDP.
  const qid = id();
  const soa = checkSoaResponse(await sendUdp({ host: k.host, port: k.port }, encodeMessage(soaQuery(origin, qid))), { zone: origin, id: qid });
  t.equal(soa.truncated, false);
  if (!soa.truncated) {
    t.equal(soa.serial, s1, 'SOA check serial');
    t.equal(soa.refresh, 7200);
  }

  // AXFR: the zone Knot sends is the zone file.
  const full = await axfr(k, origin);
  t.equal(full.serial, s1);
  t.same(zoneKeys(full.zone), zoneKeys(z1File), 'AXFR zone == zone file');
  t.comment(`AXFR of ${full.zone.records} records: ${full.messages} messages, ${full.bytes} octets, ${full.ms.toFixed(0)} ms`);

  // Up to date.
  const same = await ixfr(k, origin, full.zone);
  t.equal(same.kind, 'UPTODATE');
  t.equal(same.serial, s1);
  t.equal(same.records, 1);

  // v2: add names, add to an RRset, change an address, remove records, a new TTL'd name.
  const lines = v1.split('\n');
  const fillerA = lines.map((l, i) => [l, i] as const).filter(([l]) => /^[A-Za-z0-9.]+\t\d*\tIN\tA\t/.test(l));
  t.ok(fillerA.length > 10, 'some A records to change');
  const [rm1, rm2, chg] = [fillerA[fillerA.length - 1]!, fillerA[fillerA.length - 2]!, fillerA[fillerA.length - 3]!];
  const v2lines = lines.filter((_, i) => i !== rm1[1] && i !== rm2[1]).map((l) => (l === chg[0] ? l.replace(/\tA\t.*$/, '\tA\t198.51.100.250') : l));
  v2lines.push('added1\t\tIN\tA\t192.0.2.201', 'added1\t\tIN\tTXT\t"new in v2"', 'ttlname\t300\tIN\tA\t192.0.2.77', 'www\t\tIN\tA\t192.0.2.202', '');
  const s2 = s1 + 1;
  const v2 = withSerial(v2lines.join('\n'), s2);
  // v3: remove one v2 addition, change the TTL of another, add more.
  const s3 = s1 + 5;
  const v3 = withSerial(
    v2.replace('added1\t\tIN\tTXT\t"new in v2"\n', '').replace('ttlname\t300\tIN\tA', 'ttlname\t600\tIN\tA') + 'added3.deep\t\tIN\tAAAA\t2001:db8::3\n',
    s3,
  );
  t.not(v3, v2);

  const { writeFile } = await import('node:fs/promises');
  await writeFile(k.file(gen.origin), v2);
  await k.reload(gen.origin, s2);
  await writeFile(k.file(gen.origin), v3);
  await k.reload(gen.origin, s3);

  const inc = await ixfr(k, origin, full.zone);
  t.equal(inc.kind, 'IXFR', 'IXFR from the old serial');
  t.equal(inc.serial, s3);
  t.ok(inc.changesets.length >= 1, `${inc.changesets.length} changesets`);
  t.equal(inc.changesets[0]!.fromSerial, s1);
  t.equal(inc.changesets[inc.changesets.length - 1]!.toSerial, s3);
  t.comment(`IXFR ${s1} -> ${s3}: ${inc.changesets.map((c) => `${c.fromSerial}->${c.toSerial} -${c.removed.length} +${c.added.length}`).join(', ')}`);
  const fresh = await axfr(k, origin);
  t.equal(fresh.serial, s3);
  t.same(zoneKeys(inc.zone!), zoneKeys(fresh.zone), 'IXFR-applied zone == fresh AXFR');
  t.same(zoneKeys(fresh.zone), zoneKeys(fileZone(origin, v3)), 'fresh AXFR == v3 zone file');
  t.same(zoneKeys(applyChangesets(full.zone, inc.changesets)), zoneKeys(fresh.zone), 'applyChangesets on the changesets too');
  t.same(zoneKeys(full.zone), zoneKeys(z1File), 'the old snapshot is untouched');

  // From the middle of the history: one changeset.
  const mid = await ixfr(k, origin, fileZone(origin, v2));
  t.equal(mid.kind, 'IXFR');
  t.same(mid.changesets.map((c) => [c.fromSerial, c.toSerial]), [[s2, s3]]);
  t.same(zoneKeys(mid.zone!), zoneKeys(fresh.zone));

  // A serial Knot has no history for: it answers in AXFR form.
  const unknown = await ixfr(k, origin, fileZone(origin, withSerial(v1, s1 - 3)));
  t.equal(unknown.kind, 'AXFR', 'no journal for that serial: AXFR-form answer');
  t.same(zoneKeys(unknown.zone!), zoneKeys(fresh.zone));
  t.equal(unknown.changesets.length, 0);
});

t.test('Knot primary: a 200k-record AXFR and a 1-record IXFR on it', async (t) => {
  const origin = nameFromText('big.test.');
  const head = ['$ORIGIN big.test.', '$TTL 3600', '@ IN SOA ns1 hostmaster 100 7200 3600 1209600 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.1'];
  const body: string[] = [];
  for (let i = 0; body.length < 200_000; i++) {
    const name = `h${i}.g${i % 997}`;
    body.push(`${name} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 3 === 0) body.push(`${name} IN AAAA 2001:db8::${(i & 0xffff).toString(16)}`);
    if (i % 7 === 0) body.push(`${name} IN TXT "record ${i}"`);
  }
  const text = [...head, ...body, ''].join('\n');
  const t0 = performance.now();
  const k = await startKnotPrimary({ 'big.test.': text }, { startTimeoutMs: 180_000 });
  t.teardown(() => k.stop());
  t.comment(`knotd loaded 200k records in ${(performance.now() - t0).toFixed(0)} ms`);

  const r = await axfr(k, origin);
  t.equal(r.zone.records, body.length + 3);
  t.equal(r.serial, 100);
  t.comment(
    `AXFR ${r.records} records, ${r.messages} messages, ${(r.bytes / 1e6).toFixed(1)} MB: ${r.ms.toFixed(0)} ms total, ` +
      `slowest push ${r.worstMs.toFixed(0)} ms (the last, incl. buildZone: ${r.lastMs.toFixed(0)} ms)`,
  );

  const { writeFile } = await import('node:fs/promises');
  await writeFile(k.file('big.test.'), text.replace('hostmaster 100 ', 'hostmaster 101 ').replace('\nh5.g5 IN A 10.0.0.5\n', '\nh5.g5 IN A 10.0.0.250\n'));
  await k.reload('big.test.', 101);
  const inc = await ixfr(k, origin, r.zone);
  t.equal(inc.kind, 'IXFR');
  t.same(inc.changesets.map((c) => [c.removed.length, c.added.length]), [[1, 1]]);
  t.equal(firstRdata(getRRset(childByKey(childByKey(inc.zone!.apex, 'g5')!, 'h5')!, Type.A)!)[3], 250);
  t.comment(`1-record IXFR on 200k: ${inc.ms.toFixed(0)} ms (apply = full rebuild: ${inc.lastMs.toFixed(0)} ms)`);
});
