// The response cache: a hit is byte-identical to a fresh answer (ID, RD and the question's spelling
// patched in), and publishing a zone invalidates it.

import t from 'tap';
import { Responder } from '../../src/answer/responder.js';
import { nameFromText } from '../../src/wire/name.js';
import { buildZone } from '../../src/zone/zone.js';
import { ZoneTable } from '../../src/zone/zone-table.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { parseMessage } from '../helpers/compare.js';
import { buildQuery } from '../helpers/dnsclient.js';

const origin = nameFromText('c.test.');
const zone = (ip: string) => buildZone(origin, parseZone(`$ORIGIN c.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A ${ip}\n@ MX 10 www\n`, { origin }));

t.test('cache hits equal fresh answers; publishing invalidates', async (t) => {
  const table = new ZoneTable();
  table.publish(zone('192.0.2.2'));
  const cached = new Responder(table, { udpPayload: 1232 });
  const ask = (r: Responder, name: string, type: number, id: number, rd = false): Buffer => {
    const q = buildQuery({ name, type }, { id, rd });
    return Buffer.from(r.answer(q, q.length, false)!);
  };
  ask(cached, 'www.c.test', 1, 1);
  ask(cached, 'c.test', 15, 1);
  t.equal(cached.stats.cacheHits, 0);
  for (const [name, type] of [['WwW.C.tEsT', 1], ['C.TEST', 15]] as const) {
    const fresh = ask(new Responder(table, { udpPayload: 1232 }), name, type, 777, true);
    const hit = ask(cached, name, type, 777, true);
    t.same(hit, fresh, `${name}: the cached answer is byte-identical to a fresh one`);
    const m = parseMessage(hit);
    t.equal(m.id, 777);
    t.ok(m.rd, 'RD echoed');
    t.equal(m.question[0]!.name, `${name}.`, 'question spelled as asked');
  }
  t.equal(cached.stats.cacheHits, 2);
  table.publish(zone('192.0.2.3'));
  const after = parseMessage(ask(cached, 'www.c.test', 1, 2));
  t.same(after.answer.map((r) => [...r.rdata].join('.')), ['192.0.2.3'], 'a new zone version is answered at once');
  t.equal(cached.stats.cacheHits, 2, 'that was not a cache hit');
});
