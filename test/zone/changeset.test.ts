// Applying IXFR changesets (RFC 1995 4) to a snapshot: results, the untouched old snapshot, every ChangesetError reason, and cost.

import t from 'tap';
import { Class, Type } from '../../src/wire/constants.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { applyChangesets, ChangesetError } from '../../src/zone/changeset.js';
import type { Changeset, ChangesetErrorReason } from '../../src/zone/changeset.js';
import { buildZone } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import { A, body, NS, ORIGIN, recordsKeys, rr, soa, zoneKeys } from '../xfr/util.js';
import type { SoaParts } from '../xfr/util.js';
import { childByKey, firstRdata, getRRset, rdataOf } from '../../src/zone/node.js';

function cs(from: number, to: number, removed: ResourceRecord[], added: ResourceRecord[], toParts: SoaParts = {}): Changeset {
  return { fromSerial: from, toSerial: to, fromSoa: soa(from), toSoa: soa(to, toParts), removed, added };
}

const base = (): Zone => buildZone(ORIGIN, [soa(10), ...body()]);

function expectChangeset(t: { ok(v: unknown, m: string): unknown; equal(a: unknown, b: unknown, m: string): unknown; fail(m: string): unknown }, fn: () => unknown, want: ChangesetErrorReason, msg: string): void {
  try {
    fn();
    t.fail(`${msg}: no error`);
  } catch (err) {
    t.ok(err instanceof ChangesetError, `${msg}: ChangesetError`);
    t.equal((err as ChangesetError).reason, want, `${msg}: ${(err as Error).message}`);
    t.equal((err as ChangesetError).code, 'ERR_CHANGESET', `${msg}: code`);
  }
}

t.test('adds, deletes, TTL changes; the old snapshot keeps serving unchanged', async (t) => {
  const z = base();
  const before = zoneKeys(z);
  const next = applyChangesets(z, [
    cs(10, 11, [A('www', '192.0.2.80'), A('ns2', '192.0.2.2')], [A('www', '192.0.2.90'), A('ns2', '192.0.2.2', 60), A('new.deep', '192.0.2.7')], { refresh: 99 }),
  ]);
  t.not(next, z);
  t.same(zoneKeys(z), before, 'old snapshot untouched');
  t.equal(z.serial, 10);
  t.equal(next.serial, 11);
  t.same(
    zoneKeys(next),
    recordsKeys(ORIGIN, [
      soa(11, { refresh: 99 }),
      NS('@', 'ns1'), NS('@', 'ns2'), A('ns1', '192.0.2.1'), A('ns2', '192.0.2.2', 60), A('www', '192.0.2.81'), A('www', '192.0.2.90'),
      rr('www', Type.TXT, Buffer.from('\x05hello')), A('new.deep', '192.0.2.7'),
    ]),
  );
  t.equal(firstRdata(next.soa).readUInt32BE(firstRdata(next.soa).length - 16), 99, 'the final SOA replaces the old one');
});

t.test('chained changesets net out: add then delete, delete then re-add', async (t) => {
  const next = applyChangesets(base(), [
    cs(10, 11, [A('www', '192.0.2.80')], [A('tmp', '192.0.2.5')]),
    cs(11, 12, [A('tmp', '192.0.2.5')], [A('www', '192.0.2.80', 120)]),
    cs(12, 13, [], [A('tmp', '192.0.2.6')]),
  ]);
  t.equal(next.serial, 13);
  // The re-added record comes first so the RRset takes its TTL, as it does in the applied zone.
  const want = [soa(13), A('www', '192.0.2.80', 120), ...body().filter((r) => !(r.type === Type.A && r.rdata.equals(Buffer.from([192, 0, 2, 80])))), A('tmp', '192.0.2.6')];
  t.same(zoneKeys(next), recordsKeys(ORIGIN, want));
  // In the merged RRset, the added record's TTL wins (RFC 2181 5.2: one TTL per RRset).
  t.equal(getRRset(childByKey(next.apex, 'www')!, Type.A)!.ttl, 120);
});

t.test('records match case-insensitively on owner and RDATA names', async (t) => {
  const next = applyChangesets(base(), [cs(10, 11, [A('WWW', '192.0.2.80'), rr('@', Type.NS, nameFromText('NS2.Example.COM.'))], [])]);
  t.equal(rdataOf(getRRset(childByKey(next.apex, 'www')!, Type.A)!).length, 1);
  t.equal(rdataOf(getRRset(next.apex, Type.NS)!).length, 1);
});

t.test('no changesets: the same snapshot', async (t) => {
  const z = base();
  t.equal(applyChangesets(z, []), z);
});

t.test('changesets that do not apply throw typed errors', async (t) => {
  const z = base();
  const before = zoneKeys(z);
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [A('nothere', '192.0.2.1')], [])]), 'missing-record', 'delete of a missing name');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [A('www', '192.0.2.99')], [])]), 'missing-record', 'delete of a missing RDATA');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [rr('www', Type.AAAA, Buffer.alloc(16))], [])]), 'missing-record', 'delete of a missing type');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [A('www', '192.0.2.80'), A('www', '192.0.2.80')], [])]), 'missing-record', 'delete twice');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [A('www', '192.0.2.80')])]), 'duplicate-record', 'add of an existing record');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [A('www', '192.0.2.80', 5)])]), 'duplicate-record', 'add of an existing record with another TTL');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [A('x', '192.0.2.1')]), cs(11, 12, [], [A('x', '192.0.2.1')])]), 'duplicate-record', 'add twice across changesets');
  expectChangeset(t, () => applyChangesets(z, [cs(9, 11, [], [])]), 'serial-chain', 'starts before our serial');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], []), cs(12, 13, [], [])]), 'serial-chain', 'a gap in the chain');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 10, [], [])]), 'serial-chain', 'serial does not move');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 9, [], [])]), 'serial-chain', 'serial goes back');
  expectChangeset(t, () => applyChangesets(z, [{ ...cs(10, 11, [], []), toSoa: soa(12) }]), 'soa-mismatch', 'to SOA has another serial');
  expectChangeset(t, () => applyChangesets(z, [{ ...cs(10, 11, [], []), fromSoa: soa(9) }]), 'soa-mismatch', 'from SOA has another serial');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [], { retry: 1 }), cs(11, 12, [], [])]), 'soa-mismatch', 'final SOA of one step is not the first of the next');
  expectChangeset(t, () => applyChangesets(z, [{ ...cs(10, 11, [], []), toSoa: soa(11, {}, 'sub.example.com.') }]), 'soa-mismatch', 'to SOA of another name');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [soa(10)], [])]), 'bad-record', 'SOA among deletions');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [{ ...A('x', '192.0.2.1'), owner: nameFromText('x.example.net.') }])]), 'bad-record', 'out-of-zone add');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [{ ...A('x', '192.0.2.1'), class: Class.CH }])]), 'bad-record', 'class CH');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [], [rr('www', Type.CNAME, nameFromText('x.example.net.'))])]), 'zone-check', 'CNAME beside other data');
  expectChangeset(t, () => applyChangesets(z, [cs(10, 11, [NS('@', 'ns1'), NS('@', 'ns2')], [])]), 'zone-check', 'no apex NS left');
  t.same(zoneKeys(z), before, 'failed applies leave the snapshot as it was');
});

t.test('serials chain in RFC 1982 arithmetic across the wrap', async (t) => {
  const z = buildZone(ORIGIN, [soa(0xffffffff), ...body()]);
  const next = applyChangesets(z, [cs(0xffffffff, 1, [], [A('x', '192.0.2.1')])]);
  t.equal(next.serial, 1);
});

t.test('cost: a 1-record change to a big zone, and big RRsets', async (t) => {
  const recs: ResourceRecord[] = [soa(10), ...body()];
  for (let i = 0; i < 200_000; i++) recs.push(A(`h${i}.s${i % 300}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
  const z = buildZone(ORIGIN, recs);
  let t0 = performance.now();
  const next = applyChangesets(z, [cs(10, 11, [A('h5.s5', '10.0.0.5')], [A('h5.s5', '10.0.0.6')])]);
  const oneMs = performance.now() - t0;
  t.equal(next.records, z.records);
  t.equal(firstRdata(getRRset(childByKey(childByKey(next.apex, 's5')!, 'h5')!, Type.A)!)[3], 6);
  t.comment(`1-record change on ${z.records} records: ${oneMs.toFixed(2)} ms (path copying: O(change))`);

  const wide: ResourceRecord[] = [soa(10), ...body()];
  for (let i = 0; i < 20_000; i++) wide.push(A('wide', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
  const w = buildZone(ORIGIN, wide);
  t0 = performance.now();
  const half = wide.slice(body().length + 1, body().length + 1 + 10_000);
  const after = applyChangesets(w, [cs(10, 11, half, [])]);
  const wideMs = performance.now() - t0;
  t.equal(rdataOf(getRRset(childByKey(after.apex, 'wide')!, Type.A)!).length, 10_000);
  t.equal(rdataOf(getRRset(childByKey(w.apex, 'wide')!, Type.A)!).length, 20_000, 'the old snapshot keeps its RRset');
  t.comment(`deleting 10000 of a 20000-record RRset: ${wideMs.toFixed(0)} ms`);
});
