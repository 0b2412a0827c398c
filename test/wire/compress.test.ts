// Name compression (RFC 1035 4.1.4) and RDATA output (RFC 3597 4: only RFC 1035 types compressed).

import t from 'tap';
import { NameCompressor } from '../../src/wire/compress.js';
import { Type } from '../../src/wire/constants.js';
import { nameFromText, nameToText, readName } from '../../src/wire/name.js';

const n = (s: string): Buffer => nameFromText(s);

t.test('longest matching suffix becomes a pointer (RFC 1035 4.1.4)', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(512);
  let o = 12;
  o = c.writeName(buf, o, n('www.example.com.'), true); // 12..28
  t.equal(o, 12 + 17);
  const o2 = c.writeName(buf, o, n('mail.example.com.'), true);
  t.same([...buf.subarray(o, o2)], [4, ...Buffer.from('mail'), 0xc0, 16], 'mail + pointer to example.com at 16');
  const o3 = c.writeName(buf, o2, n('www.example.com.'), true);
  t.same([...buf.subarray(o2, o3)], [0xc0, 12], 'whole name is one pointer');
  const o4 = c.writeName(buf, o3, n('a.mail.example.com.'), true);
  t.same([...buf.subarray(o3, o4)], [1, 0x61, 0xc0, o], 'pointer to the compressed mail.example.com');
  const o5 = c.writeName(buf, o4, n('com.'), true);
  t.same([...buf.subarray(o4, o5)], [0xc0, 24]);
  const o6 = c.writeName(buf, o5, n('.'), true);
  t.same([...buf.subarray(o5, o6)], [0], 'the root is never a pointer');
  for (const [at, text] of [[o, 'mail.example.com.'], [o3, 'a.mail.example.com.'], [o4, 'com.']] as const) {
    t.equal(nameToText(readName(buf, at).name), text, `decodes at ${at}`);
  }
});

t.test('matching ignores ASCII case only (RFC 4343)', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(512);
  const o = c.writeName(buf, 0, n('EXAMPLE.Com.'), true);
  const o2 = c.writeName(buf, o, n('example.COM.'), true);
  t.same([...buf.subarray(o, o2)], [0xc0, 0]);
  // 0xc1 and 0xe1 differ only in bit 0x20 but are not letters: no match.
  const a = Buffer.from([1, 0xc1, 0]);
  const b = Buffer.from([1, 0xe1, 0]);
  const o3 = c.writeName(buf, o2, a, true);
  const o4 = c.writeName(buf, o3, b, true);
  t.same([...buf.subarray(o3, o4)], [1, 0xe1, 0], 'non-letters compare exactly');
});

t.test('uncompressed names are written in full and are not targets', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(512);
  const o = c.writeName(buf, 0, n('example.com.'), false);
  const o2 = c.writeName(buf, o, n('example.com.'), true);
  t.same(buf.subarray(o, o2), n('example.com.'), 'no pointer into a name written with compress=false');
  const o3 = c.writeName(buf, o2, n('example.com.'), false);
  t.same(buf.subarray(o2, o3), n('example.com.'), 'compress=false never emits a pointer');
});

t.test('only offsets below 0x4000 are targets (14-bit pointers)', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(0x5000);
  const at = 0x3ffc;
  const o = c.writeName(buf, at, n('abcdef.example.'), true); // "abcdef" at 0x3ffc, "example" at 0x4003
  const o2 = c.writeName(buf, o, n('example.'), true);
  t.same(buf.subarray(o, o2), n('example.'), 'suffix at 0x4003 not pointed at');
  const o3 = c.writeName(buf, o2, n('abcdef.example.'), true);
  t.same([...buf.subarray(o2, o3)], [0xff, 0xfc], 'pointer to 0x3ffc');
  t.equal(nameToText(readName(buf, o2).name), 'abcdef.example.');
});

t.test('rolling the write position back is safe: stale targets are checked against the buffer', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(512);
  const mark = c.writeName(buf, 0, n('zone.'), true);
  c.writeName(buf, mark, n('host.zone.'), true); // then dropped: the writer goes back to `mark`
  buf.fill(0xee, mark, mark + 20); // and writes something else there
  const o = mark + 20;
  const o2 = c.writeName(buf, o, n('host.zone.'), true);
  t.same([...buf.subarray(o, o2)], [4, ...Buffer.from('host'), 0xc0, 0], 'only the surviving "zone." is used');
  // A target past the new write position is ignored even if its octets are intact.
  const c2 = new NameCompressor();
  const b2 = Buffer.alloc(512);
  c2.writeName(b2, 100, n('late.example.'), true);
  const e = c2.writeName(b2, 50, n('late.example.'), true);
  t.same(b2.subarray(50, e), n('late.example.'), 'no pointer forward');
});

t.test('reset forgets targets; a full table only compresses less', async (t) => {
  const c = new NameCompressor(16); // at most 8 targets
  const buf = Buffer.alloc(4096);
  let o = c.writeName(buf, 0, n('a.b.c.d.e.f.g.h.i.j.'), true);
  const names: [number, string][] = [];
  for (let i = 0; i < 50; i++) {
    const name = n(`x${i}.${'abcdefghij'.slice(i % 10).split('').join('.')}.`);
    names.push([o, nameToText(name)]);
    o = c.writeName(buf, o, name, true);
  }
  for (const [at, text] of names) t.equal(nameToText(readName(buf, at).name), text);
  c.reset();
  const o2 = c.writeName(buf, o, n('a.b.c.d.e.f.g.h.i.j.'), true);
  t.equal(o2 - o, 21, 'after reset the name is written in full');
});

t.test('writeRdata compresses RFC 1035 names only (RFC 3597 4)', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(1024);
  const o = c.writeName(buf, 0, n('example.com.'), true);
  const mx = Buffer.concat([Buffer.from([0, 10]), n('mail.example.com.')]);
  const e1 = c.writeRdata(buf, o, Type.MX, mx);
  t.same([...buf.subarray(o, e1)], [0, 10, 4, ...Buffer.from('mail'), 0xc0, 0], 'MX exchange compressed');
  const soa = Buffer.concat([n('ns.example.com.'), n('host.example.com.'), Buffer.alloc(20, 1)]);
  const e2 = c.writeRdata(buf, e1, Type.SOA, soa);
  t.same([...buf.subarray(e1, e1 + 5)], [2, ...Buffer.from('ns'), 0xc0, 0]);
  t.same([...buf.subarray(e1 + 5, e1 + 12)], [4, ...Buffer.from('host'), 0xc0, 0]);
  t.same(buf.subarray(e1 + 12, e2), Buffer.alloc(20, 1), 'SOA counters copied');
  const srv = Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 3]), n('example.com.')]);
  const e3 = c.writeRdata(buf, e2, Type.SRV, srv);
  t.same(buf.subarray(e2, e3), srv, 'SRV target not compressed (RFC 2782)');
  const sig = Buffer.concat([Buffer.alloc(18, 2), n('example.com.'), Buffer.alloc(10, 3)]);
  const e4 = c.writeRdata(buf, e3, Type.RRSIG, sig);
  t.same(buf.subarray(e3, e4), sig, 'RRSIG copied as is');
  const unknown = n('example.com.');
  const e5 = c.writeRdata(buf, e4, 65280, unknown);
  t.same(buf.subarray(e4, e5), unknown, 'unknown types are opaque');
  const broken = Buffer.from([0, 10, 5, 0x61]); // MX whose name does not end: copied, not misparsed
  const e6 = c.writeRdata(buf, e5, Type.MX, broken);
  t.same(buf.subarray(e5, e6), broken);
});

t.test('remember() offers a name already in the buffer (a copied question)', async (t) => {
  const c = new NameCompressor();
  const buf = Buffer.alloc(512);
  n('www.example.com.').copy(buf, 12);
  c.remember(buf, 12);
  const o = c.writeName(buf, 50, n('ftp.example.com.'), true);
  t.same([...buf.subarray(50, o)], [3, ...Buffer.from('ftp'), 0xc0, 16]);
});

t.test('buffer and name checks', async (t) => {
  const c = new NameCompressor();
  t.throws(() => c.writeName(Buffer.alloc(5), 0, n('example.com.'), true), RangeError);
  t.throws(() => c.writeName(Buffer.alloc(64), 0, Buffer.from([3, 0x61]), true), RangeError, 'unterminated');
  t.throws(() => c.writeName(Buffer.alloc(64), 0, Buffer.from([0xc0, 0]), true), RangeError, 'a pointer is not a name');
  t.throws(() => c.writeRdata(Buffer.alloc(3), 0, Type.A, Buffer.alloc(4)), RangeError);
  t.throws(() => new NameCompressor(100), RangeError);
});
