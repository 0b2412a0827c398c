// IXFR client session (RFC 1995 2, 4): the three answer forms, split anywhere, chained differences, and every failure reason.

import t from 'tap';
import { Flag, Rcode, Type } from '../../src/wire/constants.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { ChangesetError } from '../../src/zone/changeset.js';
import { buildZone } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import type { MessageVerifier } from '../../src/xfr/errors.js';
import { IxfrSession } from '../../src/xfr/ixfr-client.js';
import { A, body, expectReason, NS, ORIGIN, recordsKeys, response, soa, split, zoneKeys } from './util.js';
import type { SoaParts } from './util.js';
import { firstRdata } from '../../src/zone/node.js';

const ID = 777;
const IX = { qtype: Type.IXFR };
const current = (serial = 10): Zone => buildZone(ORIGIN, [soa(serial), ...body()]);
const session = (o: Partial<ConstructorParameters<typeof IxfrSession>[0]> = {}): IxfrSession =>
  new IxfrSession({ zone: ORIGIN, id: ID, maxRecords: 1_000_000, maxBytes: 100_000_000, current: current(), ...o });

function run(s: IxfrSession, msgs: Buffer[]): 'more' | 'done' {
  let last: 'more' | 'done' = 'more';
  msgs.forEach((m, i) => {
    last = s.push(m);
    if (i < msgs.length - 1 && last !== 'more') throw new Error(`message ${i} said ${last}`);
  });
  return last;
}

/** The incremental form: SOA(new), then per step SOA(from) deletions SOA(to) additions, then SOA(new). */
function incremental(steps: { from: number; to: number; del: ResourceRecord[]; add: ResourceRecord[]; toParts?: SoaParts }[], final?: ResourceRecord): ResourceRecord[] {
  const last = steps[steps.length - 1]!;
  const closing = final ?? soa(last.to, last.toParts);
  const out: ResourceRecord[] = [soa(last.to, last.toParts)];
  steps.forEach((s, i) => {
    const prev = steps[i - 1];
    out.push(soa(s.from, prev?.toParts), ...s.del, soa(s.to, s.toParts), ...s.add);
  });
  out.push(closing);
  return out;
}

const twoSteps = [
  { from: 10, to: 11, del: [A('www', '192.0.2.80')], add: [A('www', '192.0.2.90'), A('new', '192.0.2.5')] },
  { from: 11, to: 12, del: [A('new', '192.0.2.5'), A('ns2', '192.0.2.2')], add: [A('ns2', '192.0.2.22', 60), NS('@', 'ns3'), A('ns3', '192.0.2.3')] },
];
const afterTwo = [
  soa(12), NS('@', 'ns1'), NS('@', 'ns2'), NS('@', 'ns3'), A('ns1', '192.0.2.1'), A('ns2', '192.0.2.22', 60), A('ns3', '192.0.2.3'),
  A('www', '192.0.2.81'), A('www', '192.0.2.90'), body()[6]!,
];

t.test('(a) RFC 1995 2: a lone SOA not newer than ours is UPTODATE', async (t) => {
  for (const [serial, what] of [[10, 'same'], [9, 'older'], [10 + 2 ** 31, 'half the space away (RFC 1982 undefined)'], [0xfffffff0, 'older across the wrap']] as const) {
    const s = session();
    t.equal(s.push(response(ID, [soa(serial)], IX)), 'done', what);
    const r = s.result();
    t.equal(r.kind, 'UPTODATE', what);
    t.equal(r.zone, undefined);
    t.same(r.changesets, []);
    t.equal(r.serial, serial);
    t.equal(r.records, 1);
  }
  const log: string[] = [];
  const v: MessageVerifier = { verify: () => void log.push('verify'), finish: () => void log.push('finish') };
  session({ verifier: v }).push(response(ID, [soa(10)], IX));
  t.same(log, ['verify', 'finish'], 'TSIG finished on UPTODATE');
});

t.test('a lone newer SOA in the first message waits for the next one (not UPTODATE)', async (t) => {
  const axfr = session();
  t.equal(axfr.push(response(ID, [soa(12)], IX)), 'more');
  expectReason(t, () => axfr.result(), 'truncated', 'nothing decided yet');
  t.equal(axfr.push(response(ID, [...body(), soa(12)], { ...IX, question: null })), 'done');
  t.equal(axfr.result().kind, 'AXFR');

  const ixfr = session();
  const recs = incremental(twoSteps);
  t.equal(ixfr.push(response(ID, recs.slice(0, 1), IX)), 'more');
  t.equal(ixfr.push(response(ID, recs.slice(1), { ...IX, question: null })), 'done');
  t.equal(ixfr.result().kind, 'IXFR');
  t.equal(ixfr.result().changesets.length, 2);
  // Across the wrap: 5 is newer than 0xfffffff0.
  const wrapped = session({ current: current(0xfffffff0) });
  t.equal(wrapped.push(response(ID, [soa(5)], IX)), 'more', 'newer across the wrap');
});

t.test('(b) an AXFR-form answer to IXFR', async (t) => {
  const want = recordsKeys(ORIGIN, [soa(12), ...body(), A('extra', '192.0.2.99')]);
  const recs = [soa(12), ...body(), A('extra', '192.0.2.99'), soa(12)];
  for (const per of [1, 2, 3, recs.length]) {
    const s = session();
    t.equal(run(s, split(ID, recs, per, Type.IXFR)), 'done', `${per} per message`);
    const r = s.result();
    t.equal(r.kind, 'AXFR');
    t.equal(r.serial, 12);
    t.same(r.changesets, []);
    t.same(zoneKeys(r.zone!), want);
    t.equal(r.records, recs.length);
  }
  expectReason(t, () => session().push(response(ID, [soa(12), ...body(), soa(13)], IX)), 'serial-mismatch', 'AXFR form closing with another serial');
  expectReason(t, () => session().push(response(ID, [soa(12), soa(12)], IX)), 'malformed', 'SOA SOA: an empty zone');
});

t.test('(c) incremental: chained differences, split anywhere, applied aside', async (t) => {
  const recs = incremental(twoSteps);
  const want = recordsKeys(ORIGIN, afterTwo);
  for (const per of [1, 2, 4, 5, recs.length]) {
    const cur = current();
    const before = zoneKeys(cur);
    const s = session({ current: cur });
    t.equal(run(s, split(ID, recs, per, Type.IXFR)), 'done', `${per} per message`);
    const r = s.result();
    t.equal(r.kind, 'IXFR');
    t.equal(r.serial, 12);
    t.equal(r.records, recs.length);
    t.same(zoneKeys(r.zone!), want, `${per} per message: the applied zone`);
    t.same(zoneKeys(cur), before, 'the served snapshot is untouched');
    t.same(r.changesets.map((c) => [c.fromSerial, c.toSerial, c.removed.length, c.added.length]), [[10, 11, 1, 2], [11, 12, 2, 3]]);
  }
  // A step with no deletions, or no additions, or neither.
  const empty = session();
  t.equal(empty.push(response(ID, incremental([{ from: 10, to: 11, del: [], add: [] }, { from: 11, to: 12, del: [], add: [A('x', '192.0.2.1')] }]), IX)), 'done');
  t.same(empty.result().changesets.map((c) => c.removed.length + c.added.length), [0, 1]);
  // A new SOA with other timers is carried through.
  const timers = session();
  timers.push(response(ID, incremental([{ from: 10, to: 11, del: [], add: [], toParts: { refresh: 5 } }]), IX));
  t.equal(firstRdata(timers.result().zone!.soa).readUInt32BE(firstRdata(timers.result().zone!.soa).length - 16), 5);
});

t.test('(c) failures: chains that do not fit, and differences that do not apply', async (t) => {
  expectReason(t, () => session().push(response(ID, incremental([{ from: 9, to: 12, del: [], add: [] }]), IX)), 'serial-mismatch', 'first difference not from our serial');
  expectReason(
    t,
    () => session().push(response(ID, incremental([{ from: 10, to: 11, del: [], add: [] }, { from: 13, to: 14, del: [], add: [] }]), IX)),
    'inconsistent-ixfr',
    'a gap in the chain',
  );
  expectReason(t, () => session().push(response(ID, incremental(twoSteps, soa(12, { retry: 1 })), IX)), 'inconsistent-ixfr', 'final SOA differs from the first');
  // The chain ends before the announced serial: SOA(12) SOA(10) .. SOA(11) .. SOA(12).
  expectReason(t, () => session().push(response(ID, [soa(12), soa(10), soa(11), A('x', '192.0.2.1'), soa(12)], IX)), 'inconsistent-ixfr', 'differences end short of the announced serial');
  // The last step reaches the announced serial with other SOA fields than announced.
  expectReason(
    t,
    () => session().push(response(ID, [soa(12), soa(10), soa(11), soa(11), soa(12, { retry: 9 }), soa(12)], IX)),
    'inconsistent-ixfr',
    "last step's SOA differs from the announced one",
  );
  const missing = expectReason(t, () => session().push(response(ID, incremental([{ from: 10, to: 11, del: [A('nothere', '192.0.2.1')], add: [] }]), IX)), 'inconsistent-ixfr', 'delete of a missing record');
  t.ok(missing?.cause instanceof ChangesetError, 'the ChangesetError is the cause');
  t.equal((missing?.cause as ChangesetError).reason, 'missing-record');
  expectReason(t, () => session().push(response(ID, incremental([{ from: 10, to: 11, del: [], add: [A('www', '192.0.2.80')] }]), IX)), 'inconsistent-ixfr', 'add of an existing record');
  expectReason(t, () => session().push(response(ID, incremental([{ from: 10, to: 11, del: [NS('@', 'ns1'), NS('@', 'ns2')], add: [] }]), IX)), 'inconsistent-ixfr', 'result fails the zone checks');
  expectReason(
    t,
    () => session().push(response(ID, incremental([{ from: 10, to: 11, del: [], add: [{ ...A('x', '192.0.2.1'), owner: nameFromText('x.example.org.') }] }]), IX)),
    'out-of-zone',
    'out-of-zone addition',
  );
  expectReason(t, () => session().push(response(ID, [...incremental(twoSteps), A('late', '192.0.2.1')], IX)), 'malformed', 'records after the final SOA');
  const done = session();
  done.push(response(ID, incremental(twoSteps), IX));
  expectReason(t, () => done.push(response(ID, [A('late', '192.0.2.1')], { ...IX, question: null })), 'malformed', 'message after the end');
  const cut = session();
  run(cut, split(ID, incremental(twoSteps), 3, Type.IXFR).slice(0, -1));
  expectReason(t, () => cut.result(), 'truncated', 'stream ended before the final SOA');
});

t.test('message checks and limits apply to IXFR too', async (t) => {
  expectReason(t, () => session().push(response(ID, [soa(10)], { qtype: Type.AXFR })), 'bad-question', 'AXFR question to our IXFR');
  expectReason(t, () => session().push(response(ID + 1, [soa(10)], IX)), 'bad-id', 'other ID');
  expectReason(t, () => session().push(response(ID, [], { ...IX, rcode: Rcode.NOTIMP })), 'notimp', 'NOTIMP (no IXFR support)');
  expectReason(t, () => session().push(response(ID, [A('www', '192.0.2.1')], IX)), 'bad-first-record', 'first record not an SOA');
  expectReason(t, () => session().push(response(ID, [], IX)), 'no-soa', 'empty first message');
  expectReason(t, () => session().push(response(ID, [soa(10)], { ...IX, flags: Flag.QR | Flag.TC })), 'truncated', 'TC');
  const recs = incremental(twoSteps);
  const msgs = split(ID, recs, 2, Type.IXFR);
  t.equal(run(session({ maxRecords: recs.length }), msgs), 'done');
  expectReason(t, () => run(session({ maxRecords: recs.length - 1 }), msgs), 'too-many-records', 'records over');
  const total = msgs.reduce((n, m) => n + m.length, 0);
  t.equal(run(session({ maxBytes: total }), msgs), 'done');
  expectReason(t, () => run(session({ maxBytes: total - 1 }), msgs), 'too-many-bytes', 'octets over');
  t.throws(() => new IxfrSession({ zone: nameFromText('example.org.'), id: 1, maxRecords: 1, maxBytes: 1, current: current() }), RangeError);
  let n = 0;
  const v: MessageVerifier = { verify: () => { if (++n === 3) throw new Error('BADSIG'); }, finish: () => {} };
  expectReason(t, () => run(session({ verifier: v }), msgs), 'tsig', 'third message fails TSIG');
});
