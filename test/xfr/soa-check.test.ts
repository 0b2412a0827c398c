// SOA check (RFC 1034 4.3.5, RFC 1996 3.11) and request building (RFC 1995 3, RFC 5936 2.1): every rule and every failure reason.

import t from 'tap';
import { Flag, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import { nameFromText, nameToText } from '../../src/wire/name.js';
import { buildZone } from '../../src/zone/zone.js';
import { FAILURE_REASONS, rcodeReason, TransferError } from '../../src/xfr/errors.js';
import type { FailureReason, MessageVerifier } from '../../src/xfr/errors.js';
import { axfrQuery, ixfrQuery, soaQuery, soaRecordOf } from '../../src/xfr/request.js';
import { checkSoaResponse, soaFields } from '../../src/xfr/soa-check.js';
import { A, body, expectReason, ORIGIN, response, rr, soa, soaRdata } from './util.js';

const ID = 0x1234;
const q = { qtype: Type.SOA };

t.test('requests: RFC 1034 4.3.5 SOA, RFC 5936 2.1 AXFR, RFC 1995 3 IXFR', async (t) => {
  const s = decodeMessage(encodeMessage(soaQuery(ORIGIN, 7)));
  t.equal(s.id, 7);
  t.equal(s.flags, 0, 'RD clear, QR clear');
  t.equal(s.opcode, Opcode.QUERY);
  t.same(s.question.map((x) => [nameToText(x.name), x.type, x.class]), [['example.com.', Type.SOA, 1]]);
  t.equal(s.answer.length + s.authority.length + s.additional.length, 0);
  t.notOk(s.edns);

  const ax = decodeMessage(encodeMessage(axfrQuery(ORIGIN, 0xffff, { edns: { udpPayload: 1232, extendedRcode: 0, version: 0, do: false, options: [] } })));
  t.equal(ax.id, 0xffff);
  t.equal(ax.question[0]!.type, Type.AXFR);
  t.equal(ax.edns?.udpPayload, 1232, 'EDNS when asked');

  const zone = buildZone(ORIGIN, [soa(42), ...body()]);
  const ix = decodeMessage(encodeMessage(ixfrQuery(ORIGIN, 9, soaRecordOf(zone))));
  t.equal(ix.question[0]!.type, Type.IXFR);
  t.equal(ix.authority.length, 1, 'our SOA in the authority section');
  t.equal(ix.authority[0]!.type, Type.SOA);
  t.equal(soaFields(ix.authority[0]!.rdata).serial, 42);
  t.equal(nameToText(ix.authority[0]!.owner), 'example.com.');
  t.equal(ix.flags, 0);

  t.throws(() => soaQuery(ORIGIN, 65536), RangeError);
  t.throws(() => soaQuery(ORIGIN, -1), RangeError);
  t.throws(() => ixfrQuery(ORIGIN, 1, A('www', '192.0.2.1')), TypeError);
});

t.test('a good SOA answer gives the serial and the timers', async (t) => {
  const raw = response(ID, [soa(2024010101, { refresh: 100, retry: 20, expire: 3000, minimum: 60 })], q);
  const r = checkSoaResponse(raw, { zone: ORIGIN, id: ID });
  t.equal(r.truncated, false);
  if (r.truncated) return;
  t.equal(r.serial, 2024010101);
  t.same([r.refresh, r.retry, r.expire, r.minimum], [100, 20, 3000, 60]);
  t.equal(r.soa.type, Type.SOA);
});

t.test('question and owner compare case-insensitively (RFC 4343)', async (t) => {
  const upper = nameFromText('EXAMPLE.Com.');
  const raw = response(ID, [soa(5, {}, 'Example.COM.')], { question: [{ name: upper, type: Type.SOA, class: 1 }] });
  const r = checkSoaResponse(raw, { zone: ORIGIN, id: ID });
  t.equal(r.truncated ? -1 : r.serial, 5);
});

t.test('other records beside the SOA are ignored; a second SOA is not', async (t) => {
  const sig = rr('@', Type.RRSIG, Buffer.concat([Buffer.from([0, 6, 8, 2, 0, 0, 14, 16]), Buffer.alloc(12), ORIGIN, Buffer.alloc(8)]));
  const r = checkSoaResponse(response(ID, [soa(9), sig], q), { zone: ORIGIN, id: ID });
  t.equal(r.truncated ? -1 : r.serial, 9);
  expectReason(t, () => checkSoaResponse(response(ID, [soa(9), soa(10)], q), { zone: ORIGIN, id: ID }), 'malformed', 'two SOAs');
});

t.test('TC is reported, not failed (the driver retries over TCP)', async (t) => {
  const r = checkSoaResponse(response(ID, [], { ...q, flags: Flag.QR | Flag.AA | Flag.TC }), { zone: ORIGIN, id: ID });
  t.same(r, { truncated: true });
});

t.test('every failure has its reason', async (t) => {
  const o = { zone: ORIGIN, id: ID };
  const good = [soa(1)];
  expectReason(t, () => checkSoaResponse(Buffer.from([1, 2, 3]), o), 'malformed', 'short garbage');
  expectReason(t, () => checkSoaResponse(Buffer.concat([response(ID, good, q), Buffer.from([0])]), o), 'malformed', 'trailing octet');
  expectReason(t, () => checkSoaResponse(response(ID + 1, good, q), o), 'bad-id', 'other ID');
  expectReason(t, () => checkSoaResponse(response(ID, good, { ...q, flags: Flag.AA }), o), 'malformed', 'QR clear');
  expectReason(t, () => checkSoaResponse(response(ID, good, { ...q, opcode: Opcode.NOTIFY }), o), 'malformed', 'opcode NOTIFY');
  const rcodes: [number, FailureReason][] = [
    [Rcode.REFUSED, 'refused'], [Rcode.NOTAUTH, 'notauth'], [Rcode.SERVFAIL, 'servfail'], [Rcode.FORMERR, 'formerr'],
    [Rcode.NOTIMP, 'notimp'], [Rcode.NXDOMAIN, 'rcode'], [Rcode.YXDOMAIN, 'rcode'],
  ];
  for (const [rc, want] of rcodes) {
    expectReason(t, () => checkSoaResponse(response(ID, [], { ...q, rcode: rc }), o), want, `rcode ${rc}`);
    t.equal(rcodeReason(rc), want);
  }
  try {
    checkSoaResponse(response(ID, [], { ...q, rcode: Rcode.REFUSED, question: null }), o);
  } catch (err) {
    t.equal((err as TransferError).rcode, Rcode.REFUSED, 'the rcode rides along, even without a question');
    t.equal((err as TransferError).reason, 'refused');
  }
  expectReason(t, () => checkSoaResponse(response(ID, good, { question: null }), o), 'bad-question', 'no question');
  expectReason(t, () => checkSoaResponse(response(ID, good, { question: [{ name: nameFromText('example.org.'), type: Type.SOA, class: 1 }] }), o), 'bad-question', 'other name');
  expectReason(t, () => checkSoaResponse(response(ID, good, { question: [{ name: ORIGIN, type: Type.A, class: 1 }] }), o), 'bad-question', 'other type');
  expectReason(t, () => checkSoaResponse(response(ID, good, { question: [{ name: ORIGIN, type: Type.SOA, class: 3 }] }), o), 'bad-question', 'other class');
  expectReason(
    t,
    () => checkSoaResponse(response(ID, good, { question: [{ name: ORIGIN, type: Type.SOA, class: 1 }, { name: ORIGIN, type: Type.SOA, class: 1 }] }), o),
    'bad-question',
    'two questions',
  );
  expectReason(t, () => checkSoaResponse(response(ID, good, { ...q, flags: Flag.QR }), o), 'not-authoritative', 'AA clear');
  expectReason(t, () => checkSoaResponse(response(ID, [], q), o), 'no-soa', 'empty answer');
  expectReason(t, () => checkSoaResponse(response(ID, [A('@', '192.0.2.1')], q), o), 'no-soa', 'an A, no SOA');
  expectReason(t, () => checkSoaResponse(response(ID, [soa(3, {}, 'sub.example.com.')], q), o), 'no-soa', 'an SOA of another name');
  expectReason(t, () => checkSoaResponse(response(ID, [], { ...q, authority: good }), o), 'no-soa', 'SOA in authority only (a referral or NODATA)');
  expectReason(t, () => checkSoaResponse(response(ID, [{ ...soa(3), class: 3 }], q), o), 'malformed', 'SOA of class CH');
});

t.test('TSIG verifier: called per message, finish at the end, failures are reason tsig', async (t) => {
  const calls: string[] = [];
  const ok: MessageVerifier = { verify: (raw, msg) => void calls.push(`verify ${raw.length} ${msg.id}`), finish: () => void calls.push('finish') };
  const raw = response(ID, [soa(1)], q);
  checkSoaResponse(raw, { zone: ORIGIN, id: ID, verifier: ok });
  t.same(calls, [`verify ${raw.length} ${ID}`, 'finish']);
  const bad: MessageVerifier = { verify: () => { throw new Error('BADSIG'); }, finish: () => {} };
  expectReason(t, () => checkSoaResponse(raw, { zone: ORIGIN, id: ID, verifier: bad }), 'tsig', 'verify throws');
  expectReason(t, () => checkSoaResponse(response(ID, [], { ...q, rcode: Rcode.REFUSED }), { zone: ORIGIN, id: ID, verifier: bad }), 'tsig', 'TSIG is checked before the rcode');
  const unsigned: MessageVerifier = { verify: () => {}, finish: () => { throw new Error('unsigned'); } };
  expectReason(t, () => checkSoaResponse(raw, { zone: ORIGIN, id: ID, verifier: unsigned }), 'tsig', 'finish throws');
});

t.test('soaFields and the closed reason list', async (t) => {
  t.same(soaFields(soaRdata(1, { refresh: 2, retry: 3, expire: 4, minimum: 5 })), { serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 });
  t.throws(() => soaFields(Buffer.alloc(21)), TransferError);
  t.equal(new Set(FAILURE_REASONS).size, FAILURE_REASONS.length, 'no duplicates');
  // Every reason the sessions can produce is listed (the refresh code and metrics enumerate this).
  const produced: FailureReason[] = [
    'refused', 'notauth', 'servfail', 'formerr', 'notimp', 'rcode', 'bad-id', 'bad-question', 'not-authoritative', 'no-soa',
    'malformed', 'tsig', 'too-many-records', 'too-many-bytes', 'bad-first-record', 'out-of-zone', 'serial-mismatch',
    'inconsistent-ixfr', 'truncated', 'timeout',
  ];
  for (const r of produced) t.ok(FAILURE_REASONS.includes(r), r);
});
