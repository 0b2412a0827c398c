// Malformed messages (RFC 1035 4.1.4 pointers, 2.3.4 size limits; RFC 6891 6.1.1 one OPT; RFC 8945 5.1
// TSIG last) all become WireFormatError, and a seeded fuzz loop shows no other exception escapes.

import t from 'tap';
import { Type } from '../../src/wire/constants.js';
import { WireFormatError } from '../../src/wire/errors.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import { RecordReader } from '../../src/wire/record.js';
import { Gen } from './gen.js';

function header(qd: number, an: number, ns: number, ar: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(0x1234, 0);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
}

const u16 = (v: number): Buffer => Buffer.from([v >>> 8, v & 0xff]);
const qtail = Buffer.from([0, 1, 0, 1]); // type A, class IN
const exampleCom = nameFromText('example.com.');

/** An RR with an uncompressed owner; `rdlen` overrides RDLENGTH. */
function rr(owner: Buffer, type: number, rdata: Buffer, rdlen = rdata.length, klass = 1): Buffer {
  const f = Buffer.alloc(10);
  f.writeUInt16BE(type, 0);
  f.writeUInt16BE(klass, 2);
  f.writeUInt32BE(300, 4);
  f.writeUInt16BE(rdlen, 8);
  return Buffer.concat([owner, f, rdata]);
}

const opt = (): Buffer => rr(Buffer.from([0]), Type.OPT, Buffer.alloc(0), 0, 1232);
const tsig = (): Buffer => rr(nameFromText('key.'), Type.TSIG, Buffer.alloc(16), 16, 255);
const a = (): Buffer => rr(exampleCom, Type.A, Buffer.from([192, 0, 2, 1]));

/** The assertions `rejects` needs, typed structurally so it works with any tap test object. */
interface Asserts {
  ok(v: unknown, msg: string): unknown;
  match(found: unknown, wanted: RegExp, msg: string): unknown;
}

function rejects(t: Asserts, wire: Buffer, why: RegExp, what: string): void {
  let err: unknown;
  try {
    decodeMessage(wire);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof WireFormatError, `${what}: WireFormatError (got ${String(err)})`);
  t.match((err as Error | undefined)?.message ?? '', why, `${what}: reason`);
  // Decoded lazily (a transfer's messages), the answer records read one by one: malformed too, found
  // at decode (framing) or when the record is read (the rest). Which records belong in the answer
  // section is for the reader's user to say.
  if (/in the answer/.test(why.source)) return;
  let lazyErr: unknown;
  try {
    const msg = decodeMessage(wire, { lazyAnswer: true });
    const reader = new RecordReader();
    reader.reset(wire, msg.answerStart!);
    for (let i = 0; i < msg.answerCount!; i++) reader.next();
  } catch (e) {
    lazyErr = e;
  }
  t.ok(lazyErr instanceof WireFormatError, `${what}, answer read lazily: WireFormatError (got ${String(lazyErr)})`);
}

t.test('each malformed input is a WireFormatError for the right reason', async (t) => {
  const valid = Buffer.concat([header(1, 1, 0, 0), exampleCom, qtail, a()]);
  t.equal(decodeMessage(valid).answer.length, 1, 'the base message is valid');

  rejects(t, Buffer.alloc(0), /shorter than the header/, 'empty');
  rejects(t, valid.subarray(0, 11), /shorter than the header/, 'truncated header');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 12]), qtail]), /does not point backwards/, 'pointer to itself (loop)');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 18]), qtail, Buffer.from([0])]), /does not point backwards/, 'forward pointer');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), Buffer.from([0xff, 0xff]), Buffer.alloc(10)]), /does not point backwards/, 'pointer past the end');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([1, 0x61, 0xc0])]), /pointer runs past the end|counts exceed/, 'pointer cut in half');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([0, 0, 1, 0, 1]), Buffer.from([1, 0x61, 0xc0])]), /trailing|pointer runs past/, 'pointer cut in half at the end');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0]), qtail]), /label type/, 'label of 64 octets');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([0x80, 0x61, 0]), qtail]), /label type/, 'reserved label type 10');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), Buffer.from([5, 0x61, 0x62]), Buffer.alloc(2)]), /label runs past|counts exceed/, 'label past the end');

  // Four names, each a 63-octet label plus a pointer to the previous one: the fourth is 257 octets.
  const parts: Buffer[] = [header(4, 0, 0, 0)];
  let at = 12;
  let prev = -1;
  for (let i = 0; i < 4; i++) {
    const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61 + i)]);
    const tail = prev < 0 ? Buffer.from([0]) : Buffer.from([0xc0 | (prev >>> 8), prev & 0xff]);
    parts.push(label, tail, qtail);
    prev = at;
    at += label.length + tail.length + 4;
  }
  rejects(t, Buffer.concat(parts), /longer than 255/, 'name over 255 octets via pointers');

  rejects(t, Buffer.concat([header(1, 0, 0, 0)]), /counts exceed/, 'QDCOUNT with no question');
  rejects(t, Buffer.concat([header(1, 0xffff, 0, 0), exampleCom, qtail, a()]), /counts exceed/, 'ANCOUNT far beyond the data');
  rejects(t, Buffer.concat([header(1, 2, 0, 0), exampleCom, qtail, a(), Buffer.alloc(10)]), /record header runs past/, 'ANCOUNT one too many (10 octets left)');
  rejects(t, Buffer.concat([header(1, 0, 0, 0), exampleCom, Buffer.from([0, 1, 0])]), /question runs past/, 'question cut short');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), exampleCom, Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0])]), /record header/, 'RR header cut short');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), rr(exampleCom, Type.A, Buffer.from([1, 2, 3, 4]), 5)]), /RDLENGTH runs past/, 'RDLENGTH past the end');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), rr(exampleCom, Type.MX, Buffer.concat([u16(10), exampleCom]), 6), Buffer.alloc(8)]), /past RDLENGTH|does not point/, 'MX name past RDLENGTH');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), rr(exampleCom, Type.NS, Buffer.concat([exampleCom, Buffer.from([9])]))]), /trailing octets/, 'NS RDATA with an octet after the name');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), rr(exampleCom, Type.SOA, Buffer.concat([exampleCom, exampleCom, Buffer.alloc(19)]))]), /too short/, 'SOA one octet short');
  rejects(t, Buffer.concat([header(0, 0, 0, 2), opt(), opt()]), /multiple OPT/, 'two OPTs');
  rejects(t, Buffer.concat([header(0, 0, 0, 1), rr(exampleCom, Type.OPT, Buffer.alloc(0))]), /not the root/, 'OPT not at the root');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), opt()]), /OPT record in the answer/, 'OPT in the answer section');
  rejects(t, Buffer.concat([header(0, 0, 0, 1), rr(Buffer.from([0]), Type.OPT, Buffer.from([0, 3, 0, 5, 1, 2]))]), /runs past RDLENGTH/, 'EDNS option longer than the RDATA');
  rejects(t, Buffer.concat([header(0, 0, 0, 1), rr(Buffer.from([0]), Type.OPT, Buffer.from([0, 3, 0]))]), /option header/, 'EDNS option header cut');
  rejects(t, Buffer.concat([header(0, 0, 0, 2), tsig(), a()]), /TSIG is not the last/, 'TSIG not last');
  rejects(t, Buffer.concat([header(0, 0, 0, 2), tsig(), tsig()]), /TSIG is not the last/, 'two TSIGs');
  rejects(t, Buffer.concat([header(0, 1, 0, 0), tsig()]), /TSIG record in the answer/, 'TSIG in the answer section');
  rejects(t, Buffer.concat([valid, Buffer.from([0])]), /trailing garbage/, 'one octet of trailing garbage');
  rejects(t, Buffer.concat([valid, a()]), /trailing garbage/, 'a whole uncounted record');

  // The legal neighbours of those cases still decode.
  const ok = decodeMessage(Buffer.concat([header(0, 0, 0, 3), a(), opt(), tsig()]));
  t.equal(ok.additional.length, 1);
  t.ok(ok.edns);
  t.equal(ok.tsig?.offset, 12 + a().length + opt().length, 'TSIG offset');
});

t.test('fuzz: 20000 random and mutated messages raise WireFormatError or nothing (seeded)', async (t) => {
  const g = new Gen(0xf022);
  const seeds: Buffer[] = [];
  for (let i = 0; i < 200; i++) seeds.push(encodeMessage(g.message()));
  const counts = { ok: 0, wire: 0, other: 0 };
  let reencodeFailures = 0;
  for (let i = 0; i < 20000; i++) {
    let b: Buffer;
    const mode = i % 4;
    if (mode === 0) {
      b = g.bytes(g.int(120)); // pure noise
      if (b.length >= 12 && g.int(2) === 0) b.fill(0, 4, 12).writeUInt16BE(g.int(4), 4 + 2 * g.int(4)); // small counts
    } else {
      b = Buffer.from(g.pick(seeds));
      const flips = 1 + g.int(mode === 1 ? 2 : 8);
      for (let k = 0; k < flips; k++) {
        if (mode === 3 && g.int(3) === 0) b[g.int(b.length)] = g.pick([0, 0xc0, 0x3f, 0x40, 0xff, g.int(256)]);
        else b[g.int(b.length)]! ^= 1 << g.int(8);
      }
      if (g.int(8) === 0) b = b.subarray(0, g.int(b.length + 1)); // truncation
      if (g.int(16) === 0) b = Buffer.concat([b, g.bytes(1 + g.int(4))]); // garbage tail
    }
    try {
      const m = decodeMessage(b);
      counts.ok++;
      // Whatever we accept we can write back out, and read again.
      try {
        decodeMessage(encodeMessage(m));
      } catch (e) {
        if (reencodeFailures++ < 3) t.fail(`re-encoding accepted input ${i} threw ${String(e)}`, { hex: b.toString('hex') });
      }
    } catch (e) {
      if (e instanceof WireFormatError) counts.wire++;
      else if (counts.other++ < 3) t.fail(`input ${i} threw ${String(e)}`, { hex: b.toString('hex'), stack: (e as Error).stack });
    }
  }
  t.equal(counts.other, 0, 'no exception but WireFormatError');
  t.equal(reencodeFailures, 0, 'every accepted message re-encodes');
  t.ok(counts.wire > 10000, `${counts.wire} rejected`);
  t.ok(counts.ok > 1000, `${counts.ok} accepted (mutations that stay valid)`);
});
