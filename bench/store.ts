// Persistence benchmark: a generated zone written by the store as after an AXFR, then loaded again,
// then one-record IXFRs persisted to the journal; finally the real daemon started on that storage
// with an unreachable primary, timed from spawn to answering the zone's SOA. Prints bytes on disk,
// write time, load time, start-to-serving time and the cost of persisting a one-record IXFR.
//
//   node --import=tsx bench/store.ts [records=1000000]

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZoneStore } from '../src/store/zone-store.js';
import { Type } from '../src/wire/constants.js';
import { nameFromText } from '../src/wire/name.js';
import type { ResourceRecord } from '../src/wire/record.js';
import { applyChangesets, type Changeset } from '../src/zone/changeset.js';
import { buildZone, type Zone } from '../src/zone/zone.js';
import { parseZone } from '../src/zonefile/reader.js';
import { parseMessage } from '../test/helpers/compare.js';
import { queryUdp } from '../test/helpers/dnsclient.js';
import { freePort } from '../test/helpers/ports.js';
import { buildDaemon } from './proc.js';
import { startDaemon } from '../test/helpers/secondaryd.js';
import { BIG_ZONE, bigZone } from './big-zone.js';
import { childByKey, firstRdata, getRRset } from '../src/zone/node.js';

buildDaemon();
const records = Number(process.argv[2] ?? 1_000_000);
const ZONE = BIG_ZONE;
const origin = nameFromText(ZONE);


const ms = (t0: number): number => performance.now() - t0;
const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
const dirBytes = (dir: string): Record<string, number> => Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).size]));

/** A one-record change: one A record's address replaced, the SOA serial raised by one. */
function oneRecordIxfr(zone: Zone, i: number): Changeset {
  const soa = zone.soa;
  const from: ResourceRecord = { owner: origin, type: Type.SOA, class: 1, ttl: soa.ttl, rdata: firstRdata(soa) };
  const rdata = Buffer.from(from.rdata);
  rdata.writeUInt32BE(zone.serial + 1, rdata.length - 20);
  const to: ResourceRecord = { ...from, rdata };
  const owner = nameFromText(`h${i * 4}.${ZONE}`);
  const old = firstRdata(getRRset(childByKey(zone.apex, `h${i * 4}`)!, Type.A)!);
  const neu = Buffer.from([198, 51, 100, i & 255]);
  return {
    fromSerial: zone.serial,
    toSerial: zone.serial + 1,
    fromSoa: from,
    toSoa: to,
    removed: [{ owner, type: Type.A, class: 1, ttl: 3600, rdata: old }],
    added: [{ owner, type: Type.A, class: 1, ttl: 3600, rdata: neu }],
  };
}

async function main(): Promise<void> {
  console.log(`store benchmark, ${records} records (node ${process.version})`);
  let t0 = performance.now();
  const zone = buildZone(origin, parseZone(bigZone(records, 1000), { origin }));
  console.log(`  zone built in memory: ${zone.records} records (${ms(t0).toFixed(0)} ms, not part of the figures)`);

  const dir = mkdtempSync(join(tmpdir(), 'secondaryd-bench-store-'));
  const storage = join(dir, 'storage');
  try {
    const store = new ZoneStore(storage);
    await store.open();
    t0 = performance.now();
    store.saveZone(ZONE, zone);
    await store.flush();
    const writeMs = ms(t0);
    const now = Date.now();
    store.saveTimers(ZONE, { serial: zone.serial, lastRefreshed: now, expiresAt: now + 10 * 86_400_000, primary: '127.0.0.1:1' });
    await store.flush();
    const files = dirBytes(storage);
    const copyBytes = files['big.test.zone']!;
    console.log(`  bytes on disk: ${mb(Object.values(files).reduce((a, b) => a + b, 0))} (copy ${mb(copyBytes)}, ${(copyBytes / zone.records).toFixed(1)} B/record; ${JSON.stringify(files)})`);
    console.log(`  write after a transfer (encode + SHA-256 + write + fsync + rename + dir fsync): ${writeMs.toFixed(0)} ms`);

    t0 = performance.now();
    const loaded = await new ZoneStore(storage).load(ZONE, origin);
    if (loaded.status !== 'loaded') throw new Error(`load: ${loaded.status}`);
    console.log(`  load in process (read + verify + build the snapshot): ${ms(t0).toFixed(0)} ms, ${loaded.zone.records} records`);

    // One-record IXFRs, each persisted on its own (the daemon does the same after each transfer).
    const costs: number[] = [];
    let z = zone;
    const journalBefore = store.info(ZONE)!.journalBytes;
    for (let i = 0; i < 20; i++) {
      const cs = oneRecordIxfr(z, i);
      z = applyChangesets(z, [cs]);
      t0 = performance.now();
      store.saveZone(ZONE, z, [cs]);
      await store.flush();
      costs.push(ms(t0));
    }
    const info = store.info(ZONE)!;
    costs.sort((a, b) => a - b);
    console.log(
      `  persist a one-record IXFR (journal append + fsync): median ${costs[10]!.toFixed(2)} ms, max ${costs[19]!.toFixed(2)} ms, ` +
        `${((info.journalBytes - journalBefore) / 20).toFixed(0)} B/entry; journal ${info.journalEntries} entries, copy not rewritten: ${info.copyBytes === copyBytes}`,
    );
    store.saveTimers(ZONE, { serial: z.serial, lastRefreshed: Date.now(), expiresAt: Date.now() + 10 * 86_400_000, primary: '127.0.0.1:1' });
    await store.close();

    t0 = performance.now();
    const replayed = await new ZoneStore(storage).load(ZONE, origin);
    if (replayed.status !== 'loaded') throw new Error(`load: ${replayed.status}`);
    console.log(`  load with 20 journal entries replayed: ${ms(t0).toFixed(0)} ms, serial ${replayed.zone.serial}`);

    // The real daemon: from spawn to answering SOA from the stored copy (its primary is unreachable).
    const deadPort = await freePort();
    const started = performance.now();
    const d = await startDaemon({
      built: true,
      zones: [],
      logLevel: 'warn',
      configText:
        `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "${storage}"\n  control: "{DIR}/c.sock"\n` +
        `log:\n  level: info\nzones:\n  - name: ${ZONE}\n    primaries: ["127.0.0.1:${deadPort}"]\n`,
    });
    let serving = -1;
    for (;;) {
      try {
        const m = parseMessage(await queryUdp({ host: d.host, port: d.port }, { name: ZONE, type: Type.SOA }, {}, 1000));
        const soa = m.answer.find((r) => r.type === Type.SOA);
        if (m.rcode === 0 && soa) {
          serving = soa.rdata.readUInt32BE(soa.rdata.length - 20);
          break;
        }
      } catch {
        // not yet
      }
      if (ms(started) > 120_000) break;
    }
    const startMs = ms(started);
    const loadLine = d.output().split('\n').find((l) => l.includes('"op":"load"') && l.includes(ZONE));
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await import('node:fs').then((fs) => fs.readFileSync(`/proc/${d.child.pid}/status`, 'utf8')))![1]) * 1024;
    await d.stop();
    console.log(`  daemon start to serving serial ${serving} (spawn, node + tsx start, load, bind): ${startMs.toFixed(0)} ms; RSS ${mb(rss)}`);
    if (loadLine) {
      const j = JSON.parse(loadLine) as { durationMs?: number };
      console.log(`    of which loading the zone from disk (daemon log): ${j.durationMs} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
