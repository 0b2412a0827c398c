// Outbound transfers without sockets: message packing (RFC 5936 2.2), IXFR plans and history
// (RFC 1995 4), and the request checks of XfrServer (ACL, TSIG RFC 8945 5.2/5.3.1, limits).

import t from 'tap';
import { Class, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { decodeTsigRdata, signMessage, TsigVerifier } from '../../src/wire/tsig.js';
import { XfrServer, transferType } from '../../src/net/xfr-server.js';
import { ZoneHistory } from '../../src/xfr/history.js';
import { axfrRecords, ixfrRecords, packMessages, planIxfr } from '../../src/xfr/outbound.js';
import { IxfrSession } from '../../src/xfr/ixfr-client.js';
import type { Changeset } from '../../src/zone/changeset.js';
import { applyChangesets } from '../../src/zone/changeset.js';
import { buildZone, type Zone } from '../../src/zone/zone.js';
import { UnservedZone, ZoneTable } from '../../src/zone/zone-table.js';
import { A, NS, ORIGIN, recordsKeys, soa, zoneKeys } from './util.js';

function zoneOf(serial: number, hosts: number): Zone {
  const records: ResourceRecord[] = [soa(serial), NS('example.com.', 'ns1.example.com.'), A('ns1.example.com.', '192.0.2.1')];
  for (let i = 0; i < hosts; i++) records.push(A(`host-${i}.sub${i % 7}.example.com.`, `10.0.${(i >> 8) & 255}.${i & 255}`));
  return buildZone(ORIGIN, records);
}

function changeset(from: number, to: number, removed: ResourceRecord[], added: ResourceRecord[]): Changeset {
  return { fromSerial: from, toSerial: to, fromSoa: soa(from), toSoa: soa(to), removed, added };
}

const question = (type: number): Buffer => Buffer.concat([ORIGIN, Buffer.from([type >> 8, type & 255, 0, 1])]);

t.test('packMessages: every record once, in order, messages under the limit, names compressed (RFC 5936 2.2)', async (t) => {
  const zone = zoneOf(7, 3000);
  const want = [...axfrRecords(zone)];
  const msgs = [...packMessages(axfrRecords(zone), { id: 99, rd: false, question: question(Type.AXFR), ednsPayload: 1232 }, { maxSize: 4096, reserve: 100 })];
  t.ok(msgs.length > 10, `${msgs.length} messages`);
  const got: ResourceRecord[] = [];
  for (const m of msgs) {
    t.ok(m.length <= 4096 - 100, 'within the limit');
    const d = decodeMessage(m);
    t.equal(d.id, 99);
    t.equal(d.question.length, 1);
    t.ok(d.edns, 'OPT in every message');
    got.push(...d.answer);
    if (!t.passing()) break;
  }
  t.same(recordsKeys(ORIGIN, got), recordsKeys(ORIGIN, want), 'the same records');
  t.equal(got[0]!.type, Type.SOA);
  t.equal(got.at(-1)!.type, Type.SOA);
  const uncompressed = want.reduce((n, rr) => n + rr.owner.length + 10 + rr.rdata.length, 0);
  const sent = msgs.reduce((n, m) => n + m.length, 0);
  t.ok(sent < uncompressed * 0.7, `compressed: ${sent} octets for ${uncompressed} uncompressed`);
});

t.test('a big record gets a message of its own', async (t) => {
  const big: ResourceRecord = { owner: nameFromText('big.example.com.'), type: Type.TXT, class: Class.IN, ttl: 60, rdata: Buffer.alloc(30000, 0x41) };
  const records = [soa(1), A('a.example.com.', '192.0.2.1'), big, A('b.example.com.', '192.0.2.2'), soa(1)];
  const msgs = [...packMessages(records, { id: 1, rd: false, question: question(Type.AXFR) })];
  t.equal(msgs.length, 3);
  t.same(msgs.map((m) => decodeMessage(m).answer.length), [2, 1, 2]);
});

t.test('ZoneHistory: chains, restarts on a gap or without changesets, trims', async (t) => {
  const h = new ZoneHistory({ maxChangesets: 3 });
  h.record([changeset(1, 2, [], [])]);
  h.record([changeset(2, 3, [], []), changeset(3, 4, [], [])]);
  t.same(h.chain(2, 4)?.map((c) => c.fromSerial), [2, 3]);
  t.same(h.chain(1, 4)?.map((c) => c.fromSerial), [1, 2, 3]);
  t.equal(h.chain(1, 5), undefined, 'not ending at the served serial');
  h.record([changeset(4, 5, [], [])]);
  t.equal(h.chain(1, 5), undefined, 'the oldest dropped past the bound');
  t.equal(h.chain(2, 5)?.length, 3);
  h.record([changeset(9, 10, [], [])]);
  t.equal(h.chain(4, 10), undefined, 'a gap restarts the chain');
  t.equal(h.chain(9, 10)?.length, 1);
  h.record(undefined);
  t.equal(h.length, 0, 'an AXFR clears it');
});

t.test('planIxfr and ixfrRecords (RFC 1995 4): current, incremental, AXFR form', async (t) => {
  const z1 = zoneOf(10, 20);
  const cs1 = changeset(10, 11, [A('host-0.sub0.example.com.', '10.0.0.0')], [A('new.example.com.', '192.0.2.99')]);
  const z2 = applyChangesets(z1, [cs1]);
  const cs2 = changeset(11, 12, [A('new.example.com.', '192.0.2.99')], [A('newer.example.com.', '192.0.2.98')]);
  const z3 = applyChangesets(z2, [cs2]);
  const h = new ZoneHistory();
  h.record([cs1]);
  h.record([cs2]);
  t.same(planIxfr(z3, 12, h), { kind: 'current' });
  t.same(planIxfr(z3, 13, h), { kind: 'current' }, 'a newer client serial: our SOA');
  t.same(planIxfr(z3, 9, h), { kind: 'axfr' });
  const plan = planIxfr(z3, 10, h);
  t.equal(plan.kind, 'incremental');
  if (plan.kind !== 'incremental') return;
  // What a client makes of it: our own IXFR client applies the stream to version 10.
  const msgs = [...packMessages(ixfrRecords(z3, plan.changesets), { id: 5, rd: false, question: question(Type.IXFR) }, { maxSize: 512 })];
  const s = new IxfrSession({ zone: ORIGIN, id: 5, maxRecords: 1000, maxBytes: 1e6, current: z1 });
  let st = 'more';
  for (const m of msgs) st = s.push(m);
  t.equal(st, 'done');
  const r = s.result();
  t.equal(r.kind, 'IXFR');
  t.equal(r.changesets.length, 2);
  t.same(zoneKeys(r.zone!), zoneKeys(z3), 'gives version 12');
});

const KEY = { name: 'k.', algorithm: 'hmac-sha256' as const, secret: Buffer.from('0123456789abcdef') };

function request(type: number, opts: { serial?: number; key?: typeof KEY; zone?: string } = {}): { raw: Buffer; mac?: Buffer } {
  const name = nameFromText(opts.zone ?? 'example.com.');
  const authority = opts.serial === undefined ? [] : [{ ...soa(opts.serial), owner: name }];
  const raw = encodeMessage({ id: 4242, flags: 0, opcode: Opcode.QUERY, rcode: 0, question: [{ name, type, class: Class.IN }], answer: [], authority, additional: [] });
  if (!opts.key) return { raw };
  const s = signMessage(raw, opts.key, Math.floor(Date.now() / 1000));
  return { raw: s.signed, mac: s.mac };
}

function server(table: ZoneTable, maxTransfers = 2, history?: ZoneHistory): { srv: XfrServer; logs: string[] } {
  const logs: string[] = [];
  const srv = new XfrServer({
    table,
    acl: (z) => (z === 'example.com.' ? [{ network: { address: '127.0.0.1', prefix: 32, family: 4 } }, { key: 'k.' }] : undefined),
    keys: () => new Map([['k.', KEY]]),
    history: () => history,
    logger: { info: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`), warn: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`) },
    maxTransfers,
  });
  return { srv, logs };
}

const rcodeOf = (b: unknown): number => decodeMessage(b as Buffer).rcode;

t.test('XfrServer: ACL, zone state, TSIG, limit, IXFR checks', async (t) => {
  const table = new ZoneTable();
  table.publish(zoneOf(3, 2000));
  const { srv, logs } = server(table);
  t.equal(transferType(request(Type.AXFR).raw), Type.AXFR);
  t.equal(transferType(request(Type.IXFR, { serial: 1 }).raw), Type.IXFR);
  t.equal(transferType(request(Type.SOA).raw), 0);

  t.equal(rcodeOf(srv.handle(request(Type.AXFR).raw, '10.0.0.1', true)), Rcode.NOTAUTH, 'address not allowed, no key: NOTAUTH');
  t.equal(rcodeOf(srv.handle(request(Type.AXFR, { zone: 'example.org.' }).raw, '127.0.0.1', true)), Rcode.NOTAUTH, 'not our zone: NOTAUTH');
  t.equal(rcodeOf(srv.handle(request(Type.IXFR).raw, '127.0.0.1', true)), Rcode.FORMERR, 'IXFR without SOA: FORMERR');

  // Signed from anywhere: the key entry allows it, and every message is signed.
  const signed = request(Type.AXFR, { key: KEY });
  const it = srv.handle(signed.raw, '10.9.9.9', true) as Iterator<Buffer>;
  t.notOk(Buffer.isBuffer(it), 'a stream');
  const v = new TsigVerifier(KEY, signed.mac!, () => Date.now() / 1000);
  let n = 0;
  for (let r = it.next(); !r.done; r = it.next()) {
    v.verify(r.value);
    n++;
  }
  v.finish();
  t.ok(n > 1, `${n} messages, each signed and verified`);

  // The limit: two running, the third gets SERVFAIL; one abandoned frees its slot.
  const a = srv.handle(request(Type.AXFR).raw, '127.0.0.1', true) as Iterator<Buffer>;
  const b = srv.handle(request(Type.AXFR).raw, '127.0.0.1', true) as Iterator<Buffer>;
  a.next();
  b.next();
  t.equal(srv.running, 2);
  t.equal(rcodeOf(srv.handle(request(Type.AXFR).raw, '127.0.0.1', true)), Rcode.SERVFAIL, 'over the limit: SERVFAIL');
  a.return?.();
  t.equal(srv.running, 1, 'an abandoned transfer frees its slot');
  t.match(logs.join('\n'), /transfer aborted/);
  b.return?.();

  // Bad TSIG: NOTAUTH with the error in a TSIG RR.
  const bad = request(Type.AXFR, { key: { ...KEY, secret: Buffer.from('wrong') } });
  const r = decodeMessage(srv.handle(bad.raw, '127.0.0.1', true) as Buffer);
  t.equal(r.rcode, Rcode.NOTAUTH);
  t.equal(decodeTsigRdata(r.tsig!.record.rdata).error, Rcode.BADSIG);

  // IXFR over UDP: the SOA only.
  const u = decodeMessage(srv.handle(request(Type.IXFR, { serial: 1 }).raw, '127.0.0.1', false) as Buffer);
  t.same(u.answer.map((x) => x.type), [Type.SOA]);

  table.publish(new UnservedZone(ORIGIN, 'expired'));
  t.equal(rcodeOf(srv.handle(request(Type.AXFR).raw, '127.0.0.1', true)), Rcode.SERVFAIL, 'expired: SERVFAIL');
  t.same(srv.counts['AXFR:ok'], 1);
});
