// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): messages survive any chunking of the stream, and
// zero-length and oversize frames are refused.

import t from 'tap';
import { WireFormatError } from '../../src/wire/errors.js';
import { frame, TcpFramer } from '../../src/wire/tcp-framer.js';
import { Gen } from './gen.js';

function messages(g: Gen, count: number, max: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    // Sizes that hit the edges of the length prefix: 1, 255, 256 (high octet 1), and random.
    const size = [1, 255, 256, 12][i] ?? 1 + g.int(max);
    return g.bytes(size);
  });
}

function feed(framer: TcpFramer, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

function same(a: Buffer[], b: Buffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x.equals(b[i]!));
}

t.test('every two-piece split of a stream yields the original messages in order', async (t) => {
  const g = new Gen(7);
  const msgs = messages(g, 8, 300);
  const stream = Buffer.concat(msgs.map(frame));
  let bad = 0;
  for (let cut = 0; cut <= stream.length; cut++) {
    const framer = new TcpFramer();
    const got = feed(framer, [stream.subarray(0, cut), stream.subarray(cut)]);
    if ((!same(got, msgs) || framer.midMessage) && bad++ < 3) t.fail(`split at ${cut}`);
  }
  t.equal(bad, 0, `all ${stream.length + 1} split points`);
});

t.test('one octet at a time', async (t) => {
  const g = new Gen(8);
  const msgs = messages(g, 8, 300);
  const stream = Buffer.concat(msgs.map(frame));
  const framer = new TcpFramer();
  const chunks = Array.from(stream, (b) => Buffer.from([b]));
  const got: Buffer[] = [];
  for (let i = 0; i < chunks.length; i++) {
    got.push(...framer.push(chunks[i]!));
    if (i === 0) t.equal(framer.buffered, 1, 'half a length prefix held');
  }
  t.ok(same(got, msgs));
  t.equal(framer.midMessage, false);
  t.equal(framer.buffered, 0);
});

t.test('several messages in one chunk, and a chunk that ends mid-prefix', async (t) => {
  const msgs = [Buffer.from('first'), Buffer.from('second!'), Buffer.from('x')];
  const stream = Buffer.concat(msgs.map(frame));
  const framer = new TcpFramer();
  t.same(framer.push(stream.subarray(0, 7 + 9 + 1)).map(String), ['first', 'second!']);
  t.equal(framer.midMessage, true, 'stopped inside a length prefix');
  t.same(framer.push(stream.subarray(7 + 9 + 1)).map(String), ['x']);
  t.same(framer.push(Buffer.alloc(0)), [], 'empty chunk');
});

t.test('large stream (an AXFR of ~4 MB) with 1-octet and random chunks, in linear time', async (t) => {
  const g = new Gen(9);
  const msgs = messages(g, 80, 65535);
  msgs.push(g.bytes(65535)); // the largest legal message
  const stream = Buffer.concat(msgs.map(frame));
  t.ok(stream.length > 2_000_000, `${stream.length} octets`);

  const random: Buffer[] = [];
  for (let p = 0; p < stream.length; ) {
    const n = Math.min(stream.length - p, 1 + g.int(g.int(4) === 0 ? 100_000 : 3000));
    random.push(stream.subarray(p, p + n));
    p += n;
  }
  t.ok(same(feed(new TcpFramer(), random), msgs), `${random.length} random chunks`);

  const start = process.hrtime.bigint();
  const framer = new TcpFramer();
  const got: Buffer[] = [];
  for (let p = 0; p < stream.length; p++) {
    const r = framer.push(stream.subarray(p, p + 1));
    if (r.length) got.push(...r);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.ok(same(got, msgs), 'one octet at a time');
  // Quadratic copying of 4 MB one octet at a time would take minutes; linear takes well under 10 s.
  t.ok(ms < 10_000, `${ms.toFixed(0)} ms for ${stream.length} one-octet chunks`);
});

t.test('a message inside one chunk is a view of it; one across chunks is assembled once', async (t) => {
  const stream = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('defgh'))]);
  const framer = new TcpFramer();
  const [first] = framer.push(stream.subarray(0, 8));
  const [second] = framer.push(stream.subarray(8));
  t.equal(String(first), 'abc');
  t.equal(String(second), 'defgh');
  stream.fill(0x7a);
  t.equal(String(first), 'zzz', 'no copy for a whole message (a view of the chunk)');
  t.equal(String(second), 'defgh', 'a split message owns its octets');
});

t.test('zero-length frame is an error (no header, no ID: nothing to answer)', async (t) => {
  const framer = new TcpFramer();
  t.throws(() => framer.push(Buffer.from([0, 0])), WireFormatError);
  const f2 = new TcpFramer();
  t.same(f2.push(Buffer.from([0])), []);
  t.throws(() => f2.push(Buffer.from([0, 0, 1, 0x61])), /zero-length/, 'also when the prefix is split');
});

t.test('oversize frames are refused before anything is buffered', async (t) => {
  const framer = new TcpFramer(512);
  t.same(framer.push(frame(Buffer.alloc(512, 1))).map((b) => b.length), [512], '512 is allowed');
  t.throws(() => framer.push(Buffer.from([0x02, 0x01])), /513 octets exceeds the limit of 512/);
  t.equal(new TcpFramer().push(frame(Buffer.alloc(65535))).length, 1, 'default limit is 65535');
  t.throws(() => new TcpFramer(0), RangeError);
  t.throws(() => new TcpFramer(65536), RangeError);
});

t.test('frame() prepends the length (RFC 1035 4.2.2)', async (t) => {
  t.same([...frame(Buffer.from([9, 8, 7]))], [0, 3, 9, 8, 7]);
  t.same([...frame(Buffer.alloc(300)).subarray(0, 2)], [1, 44]);
  t.throws(() => frame(Buffer.alloc(0)), RangeError);
  t.throws(() => frame(Buffer.alloc(65536)), RangeError);
});
