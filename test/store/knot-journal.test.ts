// Journal replay against a real primary (Knot DNS): an AXFR saved as the copy, then several IXFRs
// (one carrying two changesets) appended to the journal; a store that loads copy + journal holds the
// same records as a fresh AXFR of the last version (RFC 1995, RFC 5936).

import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ZoneStore } from '../../src/store/zone-store.js';
import { encodeMessage, type Message } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import { frame, TcpFramer } from '../../src/wire/tcp-framer.js';
import { AxfrSession } from '../../src/xfr/axfr-client.js';
import { IxfrSession } from '../../src/xfr/ixfr-client.js';
import { axfrQuery, ixfrQuery, soaRecordOf } from '../../src/xfr/request.js';
import type { Zone } from '../../src/zone/zone.js';
import { startKnotPrimary, type KnotPrimary } from '../helpers/knot-primary.js';
import { generateZone } from '../helpers/zonegen.js';
import { zoneKeys } from '../xfr/util.js';

const LIMITS = { maxRecords: 1_000_000, maxBytes: 1 << 28 };
let nextId = 0x3100;

/** One TCP exchange: the request, then every answer message into the session until 'done'. */
function pull(k: KnotPrimary, request: Message, session: { push(raw: Buffer): 'more' | 'done' }): Promise<void> {
  return new Promise((resolve, reject) => {
    const framer = new TcpFramer();
    const sock = net.connect({ host: k.host, port: k.port });
    const timer = setTimeout(() => done(new Error('transfer timed out')), 30_000);
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.on('connect', () => sock.write(frame(encodeMessage(request))));
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const m of framer.push(chunk)) if (session.push(m) === 'done') return done();
      } catch (err) {
        done(err);
      }
    });
    sock.on('error', done);
    sock.on('close', () => done(new Error('closed before the end of the transfer')));
  });
}

async function axfr(k: KnotPrimary, origin: Buffer): Promise<Zone> {
  const id = nextId++;
  const s = new AxfrSession({ zone: origin, id, ...LIMITS });
  await pull(k, axfrQuery(origin, id), s);
  return s.result().zone;
}

function withSerial(text: string, serial: number): string {
  return text.replace(/(IN\s+SOA\s+\S+\s+\S+\s+\(?\s*)\d+/, `$1${serial}`);
}

t.test('copy + journal after four IXFRs from Knot == a fresh AXFR', async (t) => {
  const gen = generateZone({ origin: 'example.com.', seed: 17 });
  const zone = gen.origin;
  const origin = nameFromText(zone);
  let text = withSerial(gen.text, 5000);
  const knot = await startKnotPrimary({ [zone]: text });
  t.teardown(() => knot.stop());
  const dir = mkdtempSync(path.join(tmpdir(), 'secondaryd-store-knot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const store = new ZoneStore(dir);
  await store.open();
  let current = await axfr(knot, origin);
  store.saveZone(zone, current);
  await store.flush();

  const lines = (): string[] => text.split('\n');
  const edits: Array<(serial: number) => string> = [
    (s) => withSerial(text, s) + `added-${s}\t300\tIN\tA\t203.0.113.${s % 250}\nadded-${s}\t300\tIN\tTXT\t"serial ${s}"\n`,
    (s) => withSerial(lines().filter((l) => !/^mx-only\s/i.test(l)).join('\n'), s) + `deep.added-${s}\tIN\tAAAA\t2001:db8::${s.toString(16)}\n`,
    (s) => withSerial(text.replace(/(^www\s[^\n]*\tA\t)192\.0\.2\.\d+/im, '$1198.51.100.77'), s),
    (s) => withSerial(text.replace(/^added-5001\t300\tIN\tTXT[^\n]*\n/m, ''), s),
    (s) => withSerial(text, s) + `last-${s}\tIN\tCNAME\twww\n`,
  ];
  let serial = 5000;
  const transfers: string[] = [];
  // Edits 3 and 4 are reloaded back to back: their IXFR carries two changesets.
  for (const [i, edit] of edits.entries()) {
    serial += 1;
    text = edit(serial);
    await writeFile(knot.file(zone), text);
    await knot.reload(zone, serial);
    if (i === 2) continue;
    const id = nextId++;
    const s = new IxfrSession({ zone: origin, id, current, ...LIMITS });
    await pull(knot, ixfrQuery(origin, id, soaRecordOf(current)), s);
    const r = s.result();
    t.equal(r.kind, 'IXFR', `serial ${serial} by IXFR`);
    transfers.push(r.changesets.map((c) => `${c.fromSerial}->${c.toSerial}`).join(','));
    current = r.zone!;
    store.saveZone(zone, current, r.changesets);
    await store.flush();
  }
  t.same(transfers, ['5000->5001', '5001->5002', '5002->5003,5003->5004', '5004->5005']);
  t.equal(store.info(zone)!.journalEntries, 5, 'five changesets in the journal, the copy untouched');
  t.equal(store.failure(zone), null);

  const r = await new ZoneStore(dir).load(zone, origin);
  t.equal(r.status, 'loaded');
  if (r.status !== 'loaded') return;
  t.equal(r.journalApplied, 5);
  t.equal(r.zone.serial, 5005);
  const fresh = await axfr(knot, origin);
  t.equal(fresh.serial, 5005);
  t.same(zoneKeys(r.zone), zoneKeys(fresh), `${fresh.records} records: copy + journal == fresh AXFR`);
  t.same(zoneKeys(r.zone), zoneKeys(current), 'and == the zone built from the transfers');
});
