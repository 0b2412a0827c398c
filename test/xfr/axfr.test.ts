// AXFR client session (RFC 5936 2.2, 3): hand-built message sequences for every rule, every failure reason, splits and limits.

import t from 'tap';
import { Class, Flag, Rcode, Type } from '../../src/wire/constants.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { AxfrSession } from '../../src/xfr/axfr-client.js';
import { TransferError } from '../../src/xfr/errors.js';
import type { MessageVerifier } from '../../src/xfr/errors.js';
import { A, body, expectReason, NS, ORIGIN, recordsKeys, response, rr, soa, split, zoneKeys } from './util.js';

const ID = 4242;
const session = (o: Partial<ConstructorParameters<typeof AxfrSession>[0]> = {}): AxfrSession =>
  new AxfrSession({ zone: ORIGIN, id: ID, maxRecords: 1_000_000, maxBytes: 100_000_000, ...o });

function full(serial = 7): ResourceRecord[] {
  return [soa(serial), ...body(), soa(serial)];
}

/** Push every message; all but the last must say 'more'. */
function run(s: AxfrSession, msgs: Buffer[]): 'more' | 'done' {
  let last: 'more' | 'done' = 'more';
  msgs.forEach((m, i) => {
    last = s.push(m);
    if (i < msgs.length - 1 && last !== 'more') throw new Error(`message ${i} said ${last}`);
  });
  return last;
}

t.test('one-message AXFR builds the zone', async (t) => {
  const s = session();
  const raw = response(ID, full(7));
  t.equal(s.push(raw), 'done');
  t.ok(s.done);
  const r = s.result();
  t.equal(r.serial, 7);
  t.equal(r.zone.serial, 7);
  t.equal(r.records, body().length + 2, 'both SOAs counted');
  t.equal(r.bytes, raw.length);
  t.equal(r.messages, 1);
  t.same(zoneKeys(r.zone), recordsKeys(ORIGIN, [soa(7), ...body()]));
});

t.test('RFC 5936 2.2: the answer may be split anywhere across messages', async (t) => {
  const want = recordsKeys(ORIGIN, [soa(7), ...body()]);
  const recs = full(7);
  for (const per of [1, 2, 3, 4, 5, recs.length - 1]) {
    const s = session();
    const msgs = split(ID, recs, per);
    t.equal(run(s, msgs), 'done', `${per} per message`);
    const r = s.result();
    t.same(zoneKeys(r.zone), want, `${per} per message: same zone`);
    t.equal(r.messages, msgs.length);
    t.equal(r.bytes, msgs.reduce((n, m) => n + m.length, 0));
  }
  // Later messages may repeat the question too; empty messages in between are harmless.
  const s = session();
  t.equal(s.push(response(ID, recs.slice(0, 3))), 'more');
  t.equal(s.push(response(ID, [])), 'more');
  t.equal(s.push(response(ID, recs.slice(3))), 'done');
});

t.test('a first message holding only the SOA is not the end of an AXFR', async (t) => {
  const s = session();
  t.equal(s.push(response(ID, [soa(7)])), 'more');
  expectReason(t, () => s.result(), 'truncated', 'stream ends after the lone SOA');
  t.equal(s.push(response(ID, [...body(), soa(7)], { question: null })), 'done');
  t.equal(s.result().serial, 7);
});

t.test('the closing SOA: equal to the opening one in serial and every field', async (t) => {
  const upper = { ...soa(7, { mname: 'NS1.EXAMPLE.COM.' }), owner: nameFromText('EXAMPLE.com.') };
  const s = session();
  t.equal(s.push(response(ID, [soa(7), ...body(), upper])), 'done', 'name case does not matter');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), soa(8)])), 'serial-mismatch', 'serial moved during the transfer');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), soa(7, { rname: 'other.example.com.' })])), 'malformed', 'same serial, other RNAME');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), soa(7, { expire: 1 })])), 'malformed', 'same serial, other EXPIRE');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), soa(7), A('late', '192.0.2.9')])), 'malformed', 'records after the closing SOA');
  const done = session();
  done.push(response(ID, full()));
  expectReason(t, () => done.push(response(ID, [A('late', '192.0.2.9')], { question: null })), 'malformed', 'a message after the end');
});

t.test('the first record must be the zone SOA', async (t) => {
  expectReason(t, () => session().push(response(ID, [A('www', '192.0.2.1'), soa(7), ...body(), soa(7)])), 'bad-first-record', 'an A first');
  expectReason(t, () => session().push(response(ID, [soa(7, {}, 'sub.example.com.'), ...body()])), 'bad-first-record', 'an SOA of another name');
  expectReason(t, () => session().push(response(ID, [])), 'no-soa', 'an empty first message');
});

t.test('every owner at or below the zone', async (t) => {
  for (const owner of ['com.', 'example.net.', 'xexample.com.', '.']) {
    const recs = [soa(7), ...body(), { ...A('x', '192.0.2.1'), owner: nameFromText(owner) }, soa(7)];
    expectReason(t, () => session().push(response(ID, recs)), 'out-of-zone', owner);
  }
  const deep = session();
  t.equal(deep.push(response(ID, [soa(7), ...body(), A('a.b.c.d', '192.0.2.1'), A('WwW', '192.0.2.82'), soa(7)])), 'done', 'deep names, other case');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), { ...A('x', '192.0.2.1'), class: Class.CH }, soa(7)])), 'malformed', 'a CH record');
});

t.test('every message is checked, not just the first', async (t) => {
  const msgs = split(ID, full(), 2);
  const cases: [string, Buffer, string][] = [
    ['bad-id', response(ID + 1, [A('x', '192.0.2.1')], { question: null }), 'other ID'],
    ['malformed', response(ID, [A('x', '192.0.2.1')], { question: null, flags: Flag.AA }), 'QR clear'],
    ['refused', response(ID, [], { rcode: Rcode.REFUSED }), 'REFUSED mid-stream'],
    ['servfail', response(ID, [], { rcode: Rcode.SERVFAIL, question: null }), 'SERVFAIL mid-stream'],
    ['notauth', response(ID, [], { rcode: Rcode.NOTAUTH, question: null }), 'NOTAUTH mid-stream'],
    ['bad-question', response(ID, [A('x', '192.0.2.1')], { question: [{ name: ORIGIN, type: Type.IXFR, class: 1 }] }), 'question of another type'],
    ['bad-question', response(ID, [A('x', '192.0.2.1')], { question: [{ name: nameFromText('example.org.'), type: Type.AXFR, class: 1 }] }), 'question of another name'],
    ['truncated', response(ID, [A('x', '192.0.2.1')], { question: null, flags: Flag.QR | Flag.AA | Flag.TC }), 'TC set'],
    ['malformed', Buffer.from(msgs[1]!.subarray(0, msgs[1]!.length - 1)), 'cut short'],
  ];
  for (const [want, bad, what] of cases) {
    const s = session();
    t.equal(s.push(msgs[0]!), 'more');
    const err = expectReason(t, () => s.push(bad), want as TransferError['reason'], what);
    // A failed session stays failed.
    t.equal(t.throws(() => s.push(msgs[1]!)) as unknown, err, `${what}: the same error again`);
    expectReason(t, () => s.result(), want as TransferError['reason'], `${what}: result() too`);
  }
  expectReason(t, () => session().push(response(ID, full(), { question: null })), 'bad-question', 'the first message must echo the question');
  expectReason(t, () => session().push(response(ID, full(), { rcode: Rcode.NOTIMP })), 'notimp', 'NOTIMP');
  expectReason(t, () => session().push(response(ID, full(), { rcode: Rcode.FORMERR })), 'formerr', 'FORMERR');
  expectReason(t, () => session().push(response(ID, full(), { rcode: Rcode.NXDOMAIN })), 'rcode', 'NXDOMAIN');
  const s = session();
  t.equal(s.push(response(ID, full(), { flags: Flag.QR })), 'done', 'AA is not required on transfer messages (RFC 5936 2.2.1 puts it on the server)');
});

t.test('limits on records and octets, exact at the boundary', async (t) => {
  const recs = full();
  const msgs = split(ID, recs, 3);
  const total = msgs.reduce((n, m) => n + m.length, 0);
  t.equal(run(session({ maxRecords: recs.length }), msgs), 'done', 'records == limit');
  expectReason(t, () => run(session({ maxRecords: recs.length - 1 }), msgs), 'too-many-records', 'one record over');
  t.equal(run(session({ maxBytes: total }), msgs), 'done', 'octets == limit');
  expectReason(t, () => run(session({ maxBytes: total - 1 }), msgs), 'too-many-bytes', 'one octet over');
  t.throws(() => session({ maxRecords: 0 }), RangeError);
  t.throws(() => session({ maxBytes: -1 }), RangeError);
});

t.test('the zone is checked when built: failures are malformed', async (t) => {
  expectReason(t, () => session().push(response(ID, [soa(7), A('www', '192.0.2.1'), soa(7)])), 'malformed', 'no apex NS');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), rr('www', Type.CNAME, nameFromText('x.example.net.')), soa(7)])), 'malformed', 'CNAME and other data');
  expectReason(t, () => session().push(response(ID, [soa(7), soa(7)])), 'malformed', 'SOA, SOA: an empty zone');
  expectReason(t, () => session().push(response(ID, [soa(7), ...body(), soa(7, {}, 'sub.example.com.'), soa(7)])), 'malformed', 'an SOA below the apex');
  const dup = session();
  t.equal(dup.push(response(ID, [soa(7), ...body(), ...body(), soa(7)])), 'done', 'duplicate records are dropped, not fatal');
  t.equal(dup.result().zone.records, body().length + 1);
});

t.test('TSIG verifier: every message, then finish once', async (t) => {
  const log: string[] = [];
  const v: MessageVerifier = { verify: (raw, msg) => void log.push(`v${raw.length}/${msg.answerCount}`), finish: () => void log.push('finish') };
  const msgs = split(ID, full(), 4);
  run(session({ verifier: v }), msgs);
  t.same(log, [...msgs.map((m, i) => `v${m.length}/${Math.min(4, full().length - 4 * i)}`), 'finish']);
  let n = 0;
  const second: MessageVerifier = { verify: () => { if (++n === 2) throw new Error('BADSIG'); }, finish: () => {} };
  expectReason(t, () => run(session({ verifier: second }), msgs), 'tsig', 'second message fails');
  const unsignedEnd: MessageVerifier = { verify: () => {}, finish: () => { throw new Error('last message unsigned'); } };
  expectReason(t, () => run(session({ verifier: unsignedEnd }), msgs), 'tsig', 'finish fails');
});

t.test('big zones: linear work, one message per push', async (t) => {
  const n = 100_000;
  const recs: ResourceRecord[] = [soa(99), NS('@', 'ns1'), A('ns1', '192.0.2.1')];
  for (let i = 0; i < n; i++) recs.push(A(`h${i}.sub${i % 100}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
  recs.push(soa(99));
  const msgs = split(ID, recs, 500);
  const s = session();
  const t0 = performance.now();
  let worst = 0;
  for (const m of msgs) {
    const a = performance.now();
    s.push(m);
    worst = Math.max(worst, performance.now() - a);
  }
  const ms = performance.now() - t0;
  const r = s.result();
  t.equal(r.zone.records, n + 3);
  t.equal(r.messages, msgs.length);
  t.comment(`${n} records in ${msgs.length} messages: ${ms.toFixed(0)} ms, slowest push (incl. the final build) ${worst.toFixed(0)} ms`);
});

t.test('a message is taken in slices: past the deadline push pauses, and the same message goes on', async (t) => {
  const recs = [soa(9), ...body(), ...Array.from({ length: 1000 }, (_, i) => A(`h${i}`, `192.0.2.${i % 250}`)), soa(9)];
  const msgs = split(ID, recs, 600);
  const s = session();
  let pauses = 0;
  let last: string = 'more';
  for (const m of msgs) {
    // A deadline already past: each call takes 127 records at most, then pauses.
    while ((last = s.push(m, 0)) === 'paused') pauses++;
  }
  t.equal(last, 'done');
  t.ok(pauses >= 7, `paused ${pauses} times`);
  t.same(zoneKeys(s.result().zone), recordsKeys(ORIGIN, recs.slice(0, -1)), 'the same zone as unsliced');
  t.equal(s.result().records, recs.length);
  const whole = session();
  t.equal(run(whole, msgs), 'done', 'without a deadline nothing pauses');
});
