// Socket-free checks of the test helpers themselves: query builder, TCP framer, parser and comparison.

import t from 'tap';
import { buildQuery, encodeName, frameTcp, TcpFramer } from '../helpers/dnsclient.js';
import { compareResponses, parseMessage, messageText } from '../helpers/compare.js';
import { diffKind } from '../helpers/differential.js';
import { nameOfWireLength, generateZone } from '../helpers/zonegen.js';

/** A tiny hand-made response: header, question, records given as [ownerWire, type, ttl, rdata], OPT optional. */
function response(o: {
  flags?: number;
  qname?: string;
  qtype?: number;
  an?: [Buffer, number, number, Buffer][];
  ns?: [Buffer, number, number, Buffer][];
  ar?: [Buffer, number, number, Buffer][];
  opt?: number;
}): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x1234, 0);
  h.writeUInt16BE(o.flags ?? 0x8400, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(o.an?.length ?? 0, 6);
  h.writeUInt16BE(o.ns?.length ?? 0, 8);
  h.writeUInt16BE((o.ar?.length ?? 0) + (o.opt ? 1 : 0), 10);
  parts.push(h, encodeName(o.qname ?? 'www.example.'), Buffer.from([0, o.qtype ?? 1, 0, 1]));
  for (const [owner, type, ttl, rdata] of [...(o.an ?? []), ...(o.ns ?? []), ...(o.ar ?? [])]) {
    const f = Buffer.alloc(10);
    f.writeUInt16BE(type, 0);
    f.writeUInt16BE(1, 2);
    f.writeUInt32BE(ttl, 4);
    f.writeUInt16BE(rdata.length, 8);
    parts.push(owner, f, rdata);
  }
  if (o.opt) {
    const f = Buffer.alloc(11);
    f.writeUInt16BE(41, 1);
    f.writeUInt16BE(o.opt, 3);
    parts.push(f);
  }
  return Buffer.concat(parts);
}

const PTR_QNAME = Buffer.from([0xc0, 12]); // compression pointer to the question name

t.test('encodeName keeps case and handles escapes', async (t) => {
  t.same([...encodeName('WwW.Ex.')], [3, 0x57, 0x77, 0x57, 2, 0x45, 0x78, 0]);
  t.same([...encodeName('a\\.b.')], [3, 0x61, 0x2e, 0x62, 0]);
  t.same([...encodeName('\\065.')], [1, 0x41, 0]);
  t.same([...encodeName('.')], [0]);
});

t.test('buildQuery round-trips through the parser', async (t) => {
  const q = parseMessage(buildQuery({ name: 'Foo.Example.', type: 65400, class: 3 }, { id: 99, rd: true, payload: 512, do: true }));
  t.equal(q.id, 99);
  t.ok(q.rd);
  t.same(q.question, [{ name: 'Foo.Example.', type: 65400, class: 3 }]);
  t.equal(q.edns?.payload, 512);
  t.equal(q.edns?.do, true);
  t.equal(parseMessage(buildQuery({ name: 'x.', type: 1 }, { edns: false })).edns, null);
});

t.test('TcpFramer reassembles messages split at every byte', async (t) => {
  const m1 = buildQuery({ name: 'a.example.', type: 1 }, { id: 1 });
  const m2 = buildQuery({ name: 'bb.example.', type: 28 }, { id: 2 });
  const stream = Buffer.concat([frameTcp(m1), frameTcp(m2)]);
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j++) {
      const f = new TcpFramer();
      const got = [...f.push(stream.subarray(0, i)), ...f.push(stream.subarray(i, j)), ...f.push(stream.subarray(j))];
      if (got.length !== 2 || !got[0]!.equals(m1) || !got[1]!.equals(m2) || f.pending !== 0) {
        t.fail(`split at ${i},${j}`);
        return;
      }
    }
  }
  t.pass('all splits');
});

t.test('compression and RDATA-name case do not matter; data does', async (t) => {
  const cnameTarget = encodeName('Target.example.');
  const plain = response({ an: [[encodeName('www.example.'), 5, 300, cnameTarget]], opt: 1232 });
  const compressed = response({ an: [[PTR_QNAME, 5, 300, Buffer.concat([Buffer.from([6]), Buffer.from('TARGET'), Buffer.from([0xc0, 16])])]], opt: 1232 });
  t.same(compareResponses(plain, compressed), [], 'same records, different encoding');
  t.match(compareResponses(plain, compressed, { rdataCase: true })[0], /CNAME differs/, 'case-sensitive mode sees the spelling');
  const ttl = response({ an: [[encodeName('www.example.'), 5, 301, cnameTarget]], opt: 1232 });
  t.match(compareResponses(plain, ttl), [/TTL 300 \(a\) vs 301 \(b\)/]);
  const noEdns = response({ an: [[encodeName('www.example.'), 5, 300, cnameTarget]] });
  t.match(compareResponses(plain, noEdns), [/EDNS: present \(a\) vs absent \(b\)/]);
  const nx = response({ flags: 0x8403, opt: 1232 });
  t.match(compareResponses(plain, nx), [/rcode: NOERROR \(a\) vs NXDOMAIN \(b\)/, /answer: only a has/]);
  const upper = response({ qname: 'WWW.example.', an: [[encodeName('www.example.'), 5, 300, cnameTarget]], opt: 1232 });
  t.match(compareResponses(plain, upper), [/question: www\.example\. IN A \(a\) vs WWW\.example\. IN A \(b\)/], 'question spelling matters');
});

t.test('additional is compared for referrals or on request, as a set', async (t) => {
  const a1 = Buffer.from([192, 0, 2, 1]);
  const a2 = Buffer.from([192, 0, 2, 2]);
  const mx = Buffer.concat([Buffer.from([0, 10]), encodeName('mail.example.')]);
  const x = response({ qtype: 15, an: [[PTR_QNAME, 15, 60, mx]], ar: [[encodeName('mail.example.'), 1, 60, a1]] });
  const y = response({ qtype: 15, an: [[PTR_QNAME, 15, 60, mx]] });
  t.same(compareResponses(x, y), [], 'answer: additional ignored by default');
  t.match(compareResponses(x, y, { additional: 'always' }), [/additional: only a has mail\.example\. IN A/]);
  const ns = encodeName('ns.sub.example.');
  const r1 = response({ flags: 0x8000, ns: [[encodeName('sub.example.'), 2, 60, ns]], ar: [[ns, 1, 60, a1], [ns, 1, 60, a2]] });
  const r2 = response({ flags: 0x8000, ns: [[encodeName('sub.example.'), 2, 60, ns]], ar: [[ns, 1, 60, a2], [ns, 1, 60, a1]] });
  const r3 = response({ flags: 0x8000, ns: [[encodeName('sub.example.'), 2, 60, ns]], ar: [[ns, 1, 60, a2]] });
  t.same(compareResponses(r1, r2), [], 'RR order inside an RRset does not matter');
  t.match(compareResponses(r1, r3), [/additional: ns\.sub\.example\. IN A differs \(2 vs 1 RRs\); only a: 60 192\.0\.2\.1/]);
  t.equal(diffKind(compareResponses(r1, r3)[0]!), 'additional: A differs');
});

t.test('messageText and the parser survive junk', async (t) => {
  t.match(messageText(Buffer.from([1, 2, 3])), /unparsable/);
  t.throws(() => parseMessage(Buffer.concat([response({}), Buffer.from([0xc0])]).subarray(0, 20)));
  t.match(compareResponses(Buffer.from([1]), response({})), [/a unparsable/]);
});

t.test('zone generator helpers', async (t) => {
  for (const n of [200, 254, 255]) {
    const name = nameOfWireLength('dn.example.com.', n);
    t.equal(encodeName(name).length, n, `wire length ${n}`);
  }
  const z = generateZone({ origin: 'Zone.Test', seed: 1, names: 10, childZones: ['kid'] });
  t.equal(z.origin, 'Zone.Test.');
  t.match(z.text, /^kid\t\tIN\tNS\tns1\.kid$/m);
  t.ok(z.queries.some((q) => q.name === 'kid.Zone.Test.' && q.type === 43), 'DS at the child cut asked');
  t.ok(z.names.includes('b.c.zone.test.'), 'empty non-terminals listed');
});
