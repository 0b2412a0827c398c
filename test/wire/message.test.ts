// Message codec (RFC 1035 4.1, 4.1.4; RFC 6891 6.1; RFC 2181 9): cross-checked both ways against
// dns-packet, compression, truncation by whole RRsets, and a seeded decode/encode round trip.

import dnsPacket from 'dns-packet';
import t from 'tap';
import { Flag, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { EdnsOptionCode } from '../../src/wire/edns.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import type { Message } from '../../src/wire/message.js';
import { nameFromText, nameToLower, nameToText, readName } from '../../src/wire/name.js';
import { canonicalRdata } from '../../src/wire/rdata.js';
import { RecordReader, type ResourceRecord } from '../../src/wire/record.js';
import { Gen } from './gen.js';

const n = (s: string): Buffer => nameFromText(s);

// dns-packet's typings cover only part of what it does; the tests talk to it through these loose views.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const pkt = dnsPacket as unknown as {
  encode(p: Loose): Buffer;
  decode(b: Buffer): Loose;
  record(type: string): { encode(d: unknown): Buffer; decode(b: Buffer, o?: number): unknown };
};

/** dns-packet's own decoding of one uncompressed RDATA, to compare with what it decoded in place. */
function dpRdata(typeName: string, rdata: Buffer): unknown {
  const b = Buffer.alloc(rdata.length + 2);
  b.writeUInt16BE(rdata.length, 0);
  rdata.copy(b, 2);
  return pkt.record(typeName).decode(b, 0);
}

/** RDATA bytes as dns-packet would encode `data` for `typeName`. */
function dpEncodeRdata(typeName: string, data: unknown): Buffer {
  return Buffer.from(pkt.record(typeName).encode(data).subarray(2));
}

const sig = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

const dpAnswers: Loose[] = [
  { type: 'A', name: 'example.com', ttl: 300, data: '192.0.2.1' },
  { type: 'AAAA', name: 'example.com', ttl: 300, data: '2001:db8::1' },
  { type: 'NS', name: 'example.com', ttl: 86400, data: 'ns1.example.com' },
  { type: 'CNAME', name: 'www.example.com', ttl: 60, data: 'example.com' },
  { type: 'SOA', name: 'example.com', ttl: 3600, data: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024010101, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300 } },
  { type: 'MX', name: 'example.com', ttl: 300, data: { preference: 10, exchange: 'mail.example.com' } },
  { type: 'TXT', name: 'example.com', ttl: 300, data: ['v=spf1 -all', 'second string'] },
  { type: 'SRV', name: '_sip._tcp.example.com', ttl: 300, data: { priority: 1, weight: 5, port: 5060, target: 'sip.example.com' } },
  { type: 'PTR', name: '1.2.0.192.in-addr.arpa', ttl: 300, data: 'host.example.com' },
  { type: 'CAA', name: 'example.com', ttl: 300, data: { flags: 128, tag: 'issue', value: 'ca.example.net' } },
  { type: 'DS', name: 'sub.example.com', ttl: 300, data: { keyTag: 12345, algorithm: 13, digestType: 2, digest: Buffer.alloc(32, 7) } },
  { type: 'RRSIG', name: 'example.com', ttl: 300, data: { typeCovered: 'A', algorithm: 13, labels: 2, originalTTL: 300, expiration: 1700000000, inception: 1690000000, keyTag: 12345, signersName: 'example.com', signature: sig } },
  { type: 'NSEC', name: 'example.com', ttl: 300, data: { nextDomain: 'www.example.com', rrtypes: ['A', 'NS', 'SOA', 'MX', 'RRSIG', 'NSEC'] } },
  { type: 'UNKNOWN_65280', name: 'example.com', ttl: 300, data: Buffer.from('opaque bytes') },
];

t.test('decodes what dns-packet encodes, to the same values', async (t) => {
  const wire = pkt.encode({
    type: 'response',
    id: 0xbeef,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'ANY', name: 'example.com' }],
    answers: dpAnswers,
    authorities: [{ type: 'NS', name: 'example.com', ttl: 86400, data: 'ns2.example.net' }],
    additionals: [
      { type: 'A', name: 'ns1.example.com', ttl: 300, data: '192.0.2.53' },
      { type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 1, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, options: [{ code: 3, data: Buffer.from('ns-a') }, { code: 10, data: Buffer.alloc(8, 0xaa) }] },
    ],
  });
  const ref = pkt.decode(wire);
  const m = decodeMessage(wire);

  t.equal(m.id, 0xbeef);
  t.equal(m.flags, Flag.QR | Flag.AA | Flag.RD);
  t.equal(m.opcode, Opcode.QUERY);
  t.equal(m.rcode, 16, 'extended rcode bits merged (BADVERS)');
  t.same(m.question.map((q) => [nameToText(q.name), q.type, q.class]), [['example.com.', Type.ANY, 1]]);
  t.equal(m.answer.length, dpAnswers.length);
  t.equal(m.authority.length, 1);
  t.equal(m.additional.length, 1, 'OPT taken out of additional');

  const refAnswers = ref.answers as Loose[];
  for (let i = 0; i < m.answer.length; i++) {
    const ours = m.answer[i]!;
    const theirs = refAnswers[i]!;
    const typeName = dpAnswers[i]!.type as string;
    t.equal(nameToText(ours.owner), theirs.name + '.', `${typeName} owner`);
    t.equal(ours.type, typeName.startsWith('UNKNOWN_') ? 65280 : (Type as Record<string, number>)[typeName], `${typeName} type`);
    t.equal(ours.ttl, theirs.ttl, `${typeName} ttl`);
    t.equal(ours.class, 1);
    t.same(dpRdata(typeName, ours.rdata), theirs.data, `${typeName} rdata decodes to dns-packet's value`);
  }
  // A few fields spelled out, so the test does not only compare dns-packet with itself.
  const byType = (ty: number): ResourceRecord => m.answer.find((r) => r.type === ty)!;
  t.same([...byType(Type.A).rdata], [192, 0, 2, 1]);
  t.equal(byType(Type.AAAA).rdata.toString('hex'), '20010db8000000000000000000000001');
  t.equal(nameToText(byType(Type.NS).rdata), 'ns1.example.com.');
  const soa = byType(Type.SOA).rdata;
  const mname = readName(soa, 0);
  const rname = readName(soa, mname.next);
  t.equal(nameToText(mname.name), 'ns1.example.com.');
  t.equal(nameToText(rname.name), 'hostmaster.example.com.');
  t.equal(soa.readUInt32BE(rname.next), 2024010101);
  t.equal(soa.readUInt32BE(rname.next + 16), 300);
  const mx = byType(Type.MX).rdata;
  t.equal(mx.readUInt16BE(0), 10);
  t.equal(nameToText(mx, 2), 'mail.example.com.');
  t.equal(byType(65280).rdata.toString(), 'opaque bytes');

  t.ok(m.edns);
  t.equal(m.edns!.udpPayload, 1232);
  t.equal(m.edns!.extendedRcode, 1);
  t.equal(m.edns!.version, 0);
  t.equal(m.edns!.do, true);
  t.same(m.edns!.options.map((o) => [o.code, o.data.toString('hex')]), [[3, Buffer.from('ns-a').toString('hex')], [10, 'aa'.repeat(8)]]);
});

t.test('decodes names that another encoder compressed (RFC 1035 4.1.4), RDATA included', async (t) => {
  // Hand-built: question example.com, answer "@ MX 10 mail.@" with both names as pointers.
  const q = n('example.com.');
  const hdr = Buffer.from([0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
  const rr = Buffer.from([0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10, 4, ...Buffer.from('mail'), 0xc0, 12]);
  const wire = Buffer.concat([hdr, q, Buffer.from([0, 15, 0, 1]), rr]);
  const m = decodeMessage(wire);
  t.equal(nameToText(m.answer[0]!.owner), 'example.com.');
  t.equal(nameToText(m.answer[0]!.rdata, 2), 'mail.example.com.', 'MX exchange decompressed');
  t.equal(m.answer[0]!.rdata.length, 2 + 18, 'RDATA stored uncompressed');
});

function rr(owner: string, type: number, rdata: Buffer, ttl = 300): ResourceRecord {
  return { owner: n(owner), type, class: 1, ttl, rdata };
}

function sample(): Message {
  return {
    id: 4242,
    flags: Flag.QR | Flag.AA,
    opcode: Opcode.QUERY,
    rcode: Rcode.NOERROR,
    question: [{ name: n('example.com.'), type: Type.SOA, class: 1 }],
    answer: [
      rr('example.com.', Type.SOA, dpEncodeRdata('SOA', { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 })),
      rr('example.com.', Type.NS, n('ns1.example.com.')),
      rr('example.com.', Type.NS, n('ns2.example.com.')),
      rr('example.com.', Type.MX, Buffer.concat([Buffer.from([0, 10]), n('mail.example.com.')])),
      rr('www.example.com.', Type.CNAME, n('example.com.')),
      rr('www.example.com.', Type.RRSIG, dpEncodeRdata('RRSIG', { typeCovered: 'CNAME', algorithm: 8, labels: 3, originalTTL: 300, expiration: 2, inception: 1, keyTag: 9, signersName: 'example.com', signature: sig })),
      rr('example.com.', Type.TXT, Buffer.from('\x05hello\x05world', 'latin1')),
      rr('_x._tcp.example.com.', Type.SRV, Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 80]), n('www.example.com.')])),
      rr('example.com.', Type.CAA, dpEncodeRdata('CAA', { flags: 0, tag: 'issue', value: 'ca.test' })),
      rr('example.com.', Type.AAAA, Buffer.from('20010db8000000000000000000000053', 'hex')),
      rr('example.com.', 65280, Buffer.from([1, 2, 3])),
    ],
    authority: [rr('example.com.', Type.NSEC, dpEncodeRdata('NSEC', { nextDomain: 'www.example.com', rrtypes: ['A', 'NS'] }))],
    additional: [rr('ns1.example.com.', Type.A, Buffer.from([192, 0, 2, 1])), rr('ns2.example.com.', Type.A, Buffer.from([192, 0, 2, 2]))],
    edns: { udpPayload: 4096, extendedRcode: 0, version: 0, do: true, options: [{ code: EdnsOptionCode.NSID, data: Buffer.from('sec1') }] },
  };
}

t.test('dns-packet decodes what we encode, to the same values', async (t) => {
  const wire = encodeMessage(sample());
  const d = pkt.decode(wire);
  t.equal(d.id, 4242);
  t.equal(d.type, 'response');
  t.equal(d.flag_aa, true);
  t.equal(d.flag_tc, false);
  t.same(d.questions, [{ name: 'example.com', type: 'SOA', class: 'IN' }]);
  const a = d.answers as Loose[];
  t.same(a.map((x) => [x.name, x.type, x.ttl]), [
    ['example.com', 'SOA', 300], ['example.com', 'NS', 300], ['example.com', 'NS', 300], ['example.com', 'MX', 300],
    ['www.example.com', 'CNAME', 300], ['www.example.com', 'RRSIG', 300], ['example.com', 'TXT', 300],
    ['_x._tcp.example.com', 'SRV', 300], ['example.com', 'CAA', 300], ['example.com', 'AAAA', 300], ['example.com', 'UNKNOWN_65280', 300],
  ]);
  t.same(a[0]!.data, { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 });
  t.equal(a[1]!.data, 'ns1.example.com');
  t.equal(a[2]!.data, 'ns2.example.com');
  t.same(a[3]!.data, { preference: 10, exchange: 'mail.example.com' });
  t.equal(a[4]!.data, 'example.com');
  t.equal(a[5]!.data.signersName, 'example.com');
  t.equal(a[5]!.data.typeCovered, 'CNAME');
  t.same(a[5]!.data.signature, sig);
  t.same(a[6]!.data.map((b: Buffer) => b.toString()), ['hello', 'world']);
  t.same(a[7]!.data, { priority: 1, weight: 2, port: 80, target: 'www.example.com' });
  t.same({ ...a[8]!.data }, { flags: 0, tag: 'issue', value: 'ca.test', issuerCritical: false });
  t.equal(a[9]!.data, '2001:db8::53');
  t.same([...a[10]!.data], [1, 2, 3]);
  t.same((d.authorities as Loose[])[0]!.data, { nextDomain: 'www.example.com', rrtypes: ['A', 'NS'] });
  const add = d.additionals as Loose[];
  t.same(add.slice(0, 2).map((x) => [x.name, x.data]), [['ns1.example.com', '192.0.2.1'], ['ns2.example.com', '192.0.2.2']]);
  t.equal(add[2]!.type, 'OPT');
  t.equal(add[2]!.name, '.');
  t.equal(add[2]!.udpPayloadSize, 4096);
  t.equal(add[2]!.flag_do, true);
  t.same(add[2]!.options.map((o: Loose) => [o.code, o.data.toString()]), [[3, 'sec1']]);
});

t.test('compression happens and pointers land on the right names (RFC 1035 4.1.4)', async (t) => {
  const m = sample();
  const wire = encodeMessage(m);
  const plain = pkt.encode({
    type: 'response', id: 1, questions: [{ type: 'SOA', name: 'example.com' }],
    answers: [], authorities: [], additionals: [],
  }).length; // header + question, dns-packet never compresses
  let uncompressed = plain + 11 + 4; // + OPT (root, fixed, one option header) + NSID data
  for (const r of [...m.answer, ...m.authority, ...m.additional]) uncompressed += r.owner.length + 10 + r.rdata.length;
  t.ok(wire.length < uncompressed - 100, `compressed ${wire.length} < uncompressed ${uncompressed}`);
  // The first answer owner is a pointer to the question name at offset 12.
  const qEnd = 12 + n('example.com.').length + 4;
  t.same([wire[qEnd], wire[qEnd + 1]], [0xc0, 12], 'owner = pointer to the question');
  // The NS RDATA "ns1.example.com" is "ns1" + pointer to 12.
  const d = decodeMessage(wire);
  t.same(d.answer.map((r) => r.rdata), m.answer.map((r) => r.rdata), 'RDATA decompresses to the original');
  const nsAt = wire.indexOf(Buffer.from([3, ...Buffer.from('ns2'), 0xc0, 12]));
  t.ok(nsAt > qEnd, 'NS target written as label + pointer to the zone name');
  // Names that must not be compressed (RRSIG signer, RFC 4034 3.1.7; NSEC next, 4.1.1; SRV target, RFC 2782) are written in full.
  t.ok(wire.includes(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 9]), n('example.com.')])), 'RRSIG signer not compressed');
  t.ok(wire.includes(Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 80]), n('www.example.com.')])), 'SRV target not compressed');
  t.ok(wire.includes(n('www.example.com.')), 'NSEC next name present in full');
});

t.test('case-insensitive suffix match (RFC 4343): the pointer takes the first spelling', async (t) => {
  const m: Message = {
    id: 1, flags: 0, opcode: 0, rcode: 0, question: [{ name: n('Example.COM.'), type: 1, class: 1 }],
    answer: [rr('www.example.com.', Type.A, Buffer.from([1, 2, 3, 4]))], authority: [], additional: [],
  };
  const wire = encodeMessage(m);
  t.equal(wire.length, 12 + 13 + 4 + (4 + 2) + 10 + 4);
  t.equal(nameToText(decodeMessage(wire).answer[0]!.owner), 'www.Example.COM.');
});

t.test('truncation drops whole RRsets and sets TC (RFC 2181 9)', async (t) => {
  const big = (i: number): ResourceRecord => rr('big.example.com.', Type.TXT, Buffer.concat([Buffer.from([200]), Buffer.alloc(200, 0x61 + i)]));
  const m: Message = {
    id: 7, flags: Flag.QR, opcode: 0, rcode: 0, question: [{ name: n('big.example.com.'), type: Type.TXT, class: 1 }],
    answer: [big(0), big(1), big(2)], authority: [rr('example.com.', Type.NS, n('ns.example.com.'))],
    additional: [], edns: { udpPayload: 512, extendedRcode: 0, version: 0, do: false, options: [] },
  };
  const full = encodeMessage(m);
  t.ok(full.length > 512);
  t.notOk(full[2]! & 0x02, 'no TC without a limit');
  const w = encodeMessage(m, { maxSize: 512 });
  t.ok(w.length <= 512, `${w.length} <= 512`);
  const d = decodeMessage(w);
  t.equal(d.flags & Flag.TC, Flag.TC, 'TC set');
  t.equal(d.answer.length, 0, 'the TXT RRset does not fit whole, so none of it is sent');
  t.equal(d.authority.length, 0, 'nothing after a dropped RRset');
  t.ok(d.edns, 'OPT kept in a truncated message');
  t.same(d.question.map((q) => nameToText(q.name)), ['big.example.com.']);

  // Enough room for the answer RRset but not the additional: TC stays clear.
  const m2: Message = { ...m, answer: [big(0)], authority: [], additional: [big(1), big(2)] };
  const w2 = encodeMessage(m2, { maxSize: 512 });
  const d2 = decodeMessage(w2);
  t.equal(d2.answer.length, 1);
  t.equal(d2.additional.length, 0);
  t.equal(d2.flags & Flag.TC, 0, 'missing additional data alone does not set TC');

  t.throws(() => encodeMessage(m, { maxSize: 20 }), RangeError, 'question + OPT larger than maxSize');
  const huge: Message = { ...m, edns: undefined, answer: Array.from({ length: 400 }, (_, i) => big(i % 26)) };
  delete huge.edns;
  t.throws(() => encodeMessage(huge), RangeError, 'over 65535 without maxSize');
  const cut = decodeMessage(encodeMessage(huge, { maxSize: 65535 }));
  t.equal(cut.answer.length, 0, 'all 400 records form one RRset: dropped whole');
});

t.test('TSIG is written last, after OPT, and its offset is kept on decode (RFC 8945 5.1)', async (t) => {
  const m = sample();
  const tsigRR: ResourceRecord = { owner: n('key.example.'), type: Type.TSIG, class: 255, ttl: 0, rdata: Buffer.from('not really a tsig') };
  m.tsig = { record: tsigRR, offset: 0 };
  const wire = encodeMessage(m);
  const d = decodeMessage(wire);
  t.ok(d.tsig);
  t.same(d.tsig!.record, tsigRR);
  t.equal(d.tsig!.offset, wire.length - (n('key.example.').length + 10 + tsigRR.rdata.length));
  t.same(wire.subarray(d.tsig!.offset, d.tsig!.offset + 13), n('key.example.'), 'key name written in full');
  t.equal(wire.readUInt16BE(10), 2 + 2, 'ARCOUNT counts OPT and TSIG');
  t.equal(d.additional.length, 2);
  const ref = pkt.decode(wire);
  t.same((ref.additionals as Loose[]).map((x) => x.type), ['A', 'A', 'OPT', 'TSIG']);
});

t.test('rcode above 15 needs EDNS (RFC 6891 6.1.3)', async (t) => {
  const m = sample();
  m.rcode = Rcode.BADCOOKIE;
  const d = decodeMessage(encodeMessage(m));
  t.equal(d.rcode, 23);
  t.equal(d.edns!.extendedRcode, 1);
  delete m.edns;
  t.throws(() => encodeMessage(m), RangeError);
});

/** A message with names and compressible RDATA names lower-cased, for comparison modulo case. */
function folded(m: Message): unknown {
  const f = (r: ResourceRecord): unknown => ({ ...r, owner: nameToLower(r.owner), rdata: canonicalRdata(r.rdata, r.type) });
  return {
    ...m,
    question: m.question.map((q) => ({ ...q, name: nameToLower(q.name) })),
    answer: m.answer.map(f),
    authority: m.authority.map(f),
    additional: m.additional.map(f),
    tsig: m.tsig ? { record: f(m.tsig.record) } : undefined,
  };
}

t.test('seeded round trip: encode -> decode -> encode is stable (500 random messages)', async (t) => {
  const g = new Gen(0x5ec0dd);
  let compressedSome = 0;
  let failures = 0;
  for (let i = 0; i < 500; i++) {
    const m0 = g.message();
    const b1 = encodeMessage(m0);
    const m1 = decodeMessage(b1);
    const b2 = encodeMessage(m1);
    const m2 = decodeMessage(b2);
    let uncompressed = 12;
    for (const q of m0.question) uncompressed += q.name.length + 4;
    for (const r of [...m0.answer, ...m0.authority, ...m0.additional]) uncompressed += r.owner.length + 10 + r.rdata.length;
    if (m0.edns) uncompressed += 11 + m0.edns.options.reduce((a, o) => a + 4 + o.data.length, 0);
    if (m0.tsig) uncompressed += m0.tsig.record.owner.length + 10 + m0.tsig.record.rdata.length;
    if (b1.length > uncompressed && failures++ < 3) t.fail(`message ${i} grew: ${b1.length} > ${uncompressed}`);
    if (b1.length < uncompressed) compressedSome++;
    const ok =
      b1.equals(b2) &&
      JSON.stringify(m2) === JSON.stringify(m1) &&
      JSON.stringify(folded(m1)) === JSON.stringify(folded({ ...m0, ...(m0.tsig ? { tsig: { ...m0.tsig, offset: m1.tsig!.offset } } : {}) }));
    if (!ok && failures++ < 3) t.fail(`message ${i} not stable`, { m0: JSON.stringify(m0).slice(0, 500) });
    // Lazily decoded, the answer read record by record (as transfers read it): the same records.
    const lazy = decodeMessage(b1, { lazyAnswer: true });
    const reader = new RecordReader();
    reader.reset(b1, lazy.answerStart!);
    const answer: ResourceRecord[] = [];
    for (let k = 0; k < lazy.answerCount!; k++) {
      reader.next();
      answer.push(reader.record());
    }
    if (lazy.answer.length !== 0 || JSON.stringify({ ...lazy, answer, answerStart: undefined, answerCount: undefined }) !== JSON.stringify(m1)) {
      if (failures++ < 3) t.fail(`message ${i}: the lazy decoding differs`);
    }
    // dns-packet must parse everything we produce, and agree on the counts.
    const ref = pkt.decode(Buffer.from(b1));
    if ((ref.answers as unknown[]).length !== m0.answer.length && failures++ < 3) t.fail(`dns-packet disagrees on message ${i}`);
  }
  t.equal(failures, 0, 'all 500 stable');
  t.ok(compressedSome > 400, `compression shrank ${compressedSome}/500 messages`);
});

t.test('seeded truncation: result fits, is a prefix by whole RRsets, TC iff answer/authority lost', async (t) => {
  const g = new Gen(42);
  let truncated = 0;
  let bad = 0;
  for (let i = 0; i < 300; i++) {
    const m = g.message();
    m.flags &= ~Flag.TC; // the generator sets random flags; here TC must come from truncation only
    const full = encodeMessage(m);
    const max = 12 + g.int(full.length + 50);
    let w: Buffer;
    try {
      w = encodeMessage(m, { maxSize: max });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      continue; // question/OPT/TSIG alone do not fit
    }
    const d = decodeMessage(w);
    const keptA = d.answer.length;
    const keptNs = d.authority.length;
    const lost = keptA < m.answer.length || keptNs < m.authority.length;
    const ok =
      w.length <= max &&
      JSON.stringify(d.answer.map((r) => nameToLower(r.owner))) === JSON.stringify(m.answer.slice(0, keptA).map((r) => nameToLower(r.owner))) &&
      (keptA === m.answer.length || keptNs === 0) &&
      Boolean(d.flags & Flag.TC) === lost &&
      (keptA === m.answer.length || m.answer[keptA - 1] === undefined || !sameSet(m.answer[keptA - 1]!, m.answer[keptA]!));
    if (lost) truncated++;
    if (!ok && bad++ < 3) t.fail(`truncation wrong for message ${i} (max ${max}, got ${w.length})`);
  }
  t.equal(bad, 0);
  t.ok(truncated > 50, `${truncated} truncated`);
});

function sameSet(a: ResourceRecord, b: ResourceRecord): boolean {
  return a.type === b.type && a.class === b.class && nameToLower(a.owner).equals(nameToLower(b.owner)) &&
    (a.type !== Type.RRSIG || a.rdata.readUInt16BE(0) === b.rdata.readUInt16BE(0));
}
