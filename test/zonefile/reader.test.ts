// Master-file reader: directives, syntax and defaults of RFC 1035 5.1, RFC 2308 4 ($TTL) and RFC 3597 5.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Class, Type } from '../../src/wire/constants.js';
import { nameFromText, nameToText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { checkZoneFile, parseZone, readZoneFile } from '../../src/zonefile/reader.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const origin = nameFromText('example.');
const SOA = '@ SOA ns hostmaster 1 7200 3600 1209600 300\n';

/** Records as readable tuples: [owner, ttl, type, rdata hex]. */
const rows = (rrs: ResourceRecord[]): [string, number, number, string][] =>
  rrs.map((r) => [nameToText(r.owner), r.ttl, r.type, r.rdata.toString('hex')]);

const a = (ip: string): string => Buffer.from(ip.split('.').map(Number)).toString('hex');
const wireName = (n: string): string => nameFromText(n).toString('hex');

t.test('RFC 1035 5.1: $ORIGIN, @, relative and absolute names', async (t) => {
  const rrs = parseZone(
    `$TTL 60
@ A 192.0.2.1
www A 192.0.2.2
abs.example. A 192.0.2.3
$ORIGIN sub.example.
@ A 192.0.2.4
host CNAME www
$ORIGIN deeper ; relative to the current origin
x A 192.0.2.5
`,
    { origin },
  );
  t.same(rows(rrs), [
    ['example.', 60, Type.A, a('192.0.2.1')],
    ['www.example.', 60, Type.A, a('192.0.2.2')],
    ['abs.example.', 60, Type.A, a('192.0.2.3')],
    ['sub.example.', 60, Type.A, a('192.0.2.4')],
    ['host.sub.example.', 60, Type.CNAME, wireName('www.sub.example.')],
    ['x.deeper.sub.example.', 60, Type.A, a('192.0.2.5')],
  ]);
});

t.test('$TTL with BIND units, explicit TTLs, and the omitted-TTL rule', async (t) => {
  const rrs = parseZone(
    `$TTL 1h30m
a A 192.0.2.1
b 2d A 192.0.2.2
c A 192.0.2.3
$TTL 1W
d A 192.0.2.4
e 90s A 192.0.2.5
f 10M A 192.0.2.6
`,
    { origin },
  );
  // An explicit TTL (b) does not carry over to c: like Knot 3.2 and BIND 9.18, the $TTL applies.
  t.same(
    rrs.map((r) => r.ttl),
    [5400, 172800, 5400, 604800, 90, 600],
  );
});

t.test('no $TTL: SOA MINIMUM once the SOA is read (BIND), 3600 before it (Knot default)', async (t) => {
  const rrs = parseZone(`before A 192.0.2.9\n${SOA}a A 192.0.2.1\nb 77 A 192.0.2.2\nc A 192.0.2.3\n`, { origin });
  t.same(
    rrs.map((r) => [nameToText(r.owner), r.ttl]),
    [
      ['before.example.', 3600],
      ['example.', 300], // the SOA itself takes its own MINIMUM
      ['a.example.', 300],
      ['b.example.', 77],
      ['c.example.', 300], // not b's 77
    ],
  );
  const withDefault = parseZone(`${SOA}a A 192.0.2.1\n`, { origin, defaultTtl: 42 });
  t.same(
    withDefault.map((r) => r.ttl),
    [42, 42],
    'defaultTtl acts as an initial $TTL',
  );
});

t.test('omitted owner, omitted class, TTL and class in either order, CLASSnnn and TYPEnnn', async (t) => {
  const rrs = parseZone(
    `$TTL 300
www IN 60 A 192.0.2.1
    60 IN AAAA 2001:db8::1
    CLASS1 TXT "x"
    TYPE1 192.0.2.7
    in a 192.0.2.8
mx 120 MX 10 mail
`,
    { origin },
  );
  t.same(rows(rrs), [
    ['www.example.', 60, Type.A, a('192.0.2.1')],
    ['www.example.', 60, Type.AAAA, '20010db8000000000000000000000001'],
    ['www.example.', 300, Type.TXT, '0178'],
    ['www.example.', 300, Type.A, a('192.0.2.7')],
    ['www.example.', 300, Type.A, a('192.0.2.8')],
    ['mx.example.', 120, Type.MX, '000a' + wireName('mail.example.')],
  ]);
  t.ok(rrs.every((r) => r.class === Class.IN));
});

t.test('a zone of another class: its records read, IN records refused', async (t) => {
  const ch = nameFromText('chaos.');
  const rrs = parseZone('$TTL 0\n@ CH TXT "hello"\nx TXT "omitted class is the zone class"\n', { origin: ch, class: Class.CH });
  t.same(
    rrs.map((r) => r.class),
    [Class.CH, Class.CH],
  );
  t.throws(() => parseZone('$TTL 0\n@ IN TXT "x"\n', { origin: ch, class: Class.CH }), { code: 'ERR_ZONE_CLASS' });
});

t.test('parentheses over lines, comments anywhere, quoted strings and escapes', async (t) => {
  const rrs = parseZone(
    `$TTL 300
@ SOA ( ns    ; primary
        hostmaster ; ( a parenthesis in a comment is ignored
        1 2 3 4 5 )
t1 TXT "semi;colon" "paren(" "quote\\"inside" "back\\\\slash"
t2 TXT \\065\\066C "sp ace" unquoted\\ space
t3 TXT ( "multi"
         "line" )
`,
    { origin },
  );
  t.equal(rrs.length, 4);
  t.equal(rrs[0]!.rdata.toString('hex'), wireName('ns.example.') + wireName('hostmaster.example.') + '0000000100000002000000030000000400000005');
  const strings = (b: Buffer): string[] => {
    const out: string[] = [];
    for (let i = 0; i < b.length; i += 1 + b[i]!) out.push(b.subarray(i + 1, i + 1 + b[i]!).toString('latin1'));
    return out;
  };
  t.same(strings(rrs[1]!.rdata), ['semi;colon', 'paren(', 'quote"inside', 'back\\slash']);
  t.same(strings(rrs[2]!.rdata), ['ABC', 'sp ace', 'unquoted space']);
  t.same(strings(rrs[3]!.rdata), ['multi', 'line']);
});

t.test('owner case is kept; names in RDATA keep their spelling', async (t) => {
  const [rr] = parseZone('$TTL 1\nWwW.Example. CNAME Target.EXAMPLE.\n', { origin });
  t.equal(nameToText(rr!.owner), 'WwW.Example.');
  t.equal(nameToText(rr!.rdata), 'Target.EXAMPLE.');
});

t.test('octets: strings are UTF-8 encoded, Buffers are taken byte for byte', async (t) => {
  const [s] = parseZone('$TTL 1\n@ TXT "é"\n', { origin });
  t.equal(s!.rdata.toString('hex'), '02c3a9');
  const [b] = parseZone(Buffer.from('$TTL 1\n@ TXT "\xe9\xff"\n', 'latin1'), { origin });
  t.equal(b!.rdata.toString('hex'), '02e9ff');
});

t.test('RFC 3597: generic RDATA for unknown and known types', async (t) => {
  const rrs = parseZone(
    `$TTL 1
u TYPE65280 \\# 4 0A000001
u TYPE65281 \\# 0
k A \\# 4 C0000201
k MX \\# ( 6 000A 02 6D78 00 )
k TYPE15 \\# 6 000A026D7800
n NULL \\# 2 abcd
`,
    { origin },
  );
  t.same(
    rrs.map((r) => [r.type, r.rdata.toString('hex')]),
    [
      [65280, '0a000001'],
      [65281, ''],
      [Type.A, 'c0000201'],
      [Type.MX, '000a026d7800'],
      [Type.MX, '000a026d7800'],
      [Type.NULL, 'abcd'],
    ],
  );
  // Known types in generic form are checked against their format.
  t.throws(() => parseZone('k MX \\# 5 000A036D78\n', { origin }), { code: 'ERR_ZONE_RDATA', message: /not valid MX/ });
  t.throws(() => parseZone('k A \\# 3 010203\n', { origin }), { message: /not valid A/ });
  t.throws(() => parseZone('k A \\# 5 01020304\n', { origin }), { message: /4 octets, not the 5 announced/ });
  t.throws(() => parseZone('n NULL 1 2\n', { origin }), { message: /NULL has no presentation format/ });
  t.throws(() => parseZone('w WKS 1.2.3.4 6 25\n', { origin }), { message: /no presentation format known for WKS/ });
  t.throws(() => parseZone('q ANY \\# 0\n', { origin }), { code: 'ERR_ZONE_TYPE', message: /meta type/ });
});

t.test('$INCLUDE: nested, with and without origin; origin and owner restored afterwards', async (t) => {
  const files: Record<string, string> = {
    '/z/main.zone': `$TTL 300
@ SOA ns hostmaster 1 2 3 4 5
$INCLUDE sub/a.zone
after A 192.0.2.9
$INCLUDE "sub/b.zone" b.example.
    TXT "owner is still 'after'"
`,
    '/z/sub/a.zone': `inA A 192.0.2.1\n$INCLUDE c.zone\n`, // relative to /z/sub
    '/z/sub/c.zone': `$ORIGIN deep.example.\n$TTL 5\ninC A 192.0.2.3\n`,
    '/z/sub/b.zone': `@ A 192.0.2.2\nx A 192.0.2.4\n`,
  };
  const read: string[] = [];
  const rrs = parseZone(files['/z/main.zone']!, {
    origin,
    file: '/z/main.zone',
    readInclude: (p) => {
      read.push(p);
      const f = files[p];
      if (f === undefined) throw new Error(`ENOENT ${p}`);
      return f;
    },
  });
  t.same(read, ['/z/sub/a.zone', '/z/sub/c.zone', '/z/sub/b.zone']);
  t.same(
    rrs.map((r) => [nameToText(r.owner), r.ttl]),
    [
      ['example.', 300],
      ['inA.example.', 300],
      ['inC.deep.example.', 5],
      ['after.example.', 300], // $ORIGIN and $TTL of c.zone stay there
      ['b.example.', 300],
      ['x.b.example.', 300],
      ['after.example.', 300],
    ],
  );
});

t.test('$INCLUDE depth limit stops a loop; no reader means $INCLUDE is refused', async (t) => {
  const err = t.throws(() => parseZone('$INCLUDE self.zone\n', { origin, file: '/z/self.zone', readInclude: () => '$INCLUDE self.zone\n' }));
  t.match(err, { code: 'ERR_ZONE_INCLUDE', message: /^\/z\/self\.zone:1:1: \$INCLUDE nested deeper than 10/ });
  t.throws(() => parseZone('$INCLUDE x\n', { origin }), { code: 'ERR_ZONE_INCLUDE', message: /not allowed/ });
});

t.test('readZoneFile resolves $INCLUDE relative to the including file on disk', async (t) => {
  const rrs = await readZoneFile(path.join(fixtures, 'include', 'main.zone'), origin);
  t.same(
    rrs.map((r) => [nameToText(r.owner), r.type]),
    [
      ['example.', Type.SOA],
      ['example.', Type.NS],
      ['ns.example.', Type.A],
      ['www.hosts.example.', Type.A],
      ['mail.hosts.example.', Type.A],
      ['last.example.', Type.TXT],
    ],
  );
  const bad = await checkZoneFile(path.join(fixtures, 'include', 'broken.zone'), origin);
  t.same(
    bad.errors.map((e) => `${path.relative(fixtures, e.file)}:${e.line}:${e.col} ${e.code}`),
    ['include/sub/broken-part.zone:2:10 ERR_ZONE_RDATA', 'include/broken.zone:4:10 ERR_ZONE_INCLUDE'],
  );
  t.equal(bad.records.length, 3, 'the records that parsed are still returned');
  const missing = await checkZoneFile(path.join(fixtures, 'no-such.zone'), origin);
  t.match(missing.errors, [{ code: 'ERR_ZONE_READ', line: 1, col: 1 }]);
});

t.test('collect mode: every error reported, parsing goes on', async (t) => {
  const errors: ZoneFileError[] = [];
  const rrs = parseZone(
    `$TTL 300
good1 A 192.0.2.1
bad1 A 192.0.2.300
good2 A 192.0.2.2
bad2 BOGUS x
bad3 TXT "unterminated
good3 A 192.0.2.3
`,
    { origin, file: 'z', onError: (e) => errors.push(e) },
  );
  t.same(
    rrs.map((r) => nameToText(r.owner)),
    ['good1.example.', 'good2.example.', 'good3.example.'],
  );
  t.same(
    errors.map((e) => e.message),
    ['z:3:8: bad IPv4 address "192.0.2.300"', 'z:5:6: unknown type "BOGUS"', 'z:6:10: unterminated quoted string'],
  );
});

t.test('large zone: 100k records parse quickly and correctly', async (t) => {
  const parts = ['$TTL 300\n', SOA, '@ NS ns\n'];
  for (let i = 0; i < 100000; i++) {
    parts.push(`h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`);
    if (i % 10 === 0) parts.push(`    MX 10 mail${i}\n`);
  }
  const text = parts.join('');
  const start = process.hrtime.bigint();
  const rrs = parseZone(text, { origin });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.equal(rrs.length, 2 + 100000 + 10000);
  const last = rrs[rrs.length - 1]!;
  t.equal(nameToText(last.owner), 'h99999.example.');
  t.equal(last.rdata.toString('hex'), a('10.1.134.159'));
  // A sanity bound only (about 0.3 s on a laptop): catches an accidental quadratic, not a slow CI.
  t.ok(ms < 20000, `parsed ${rrs.length} records in ${ms.toFixed(0)} ms`);
});

t.test('lexical corners: CRLF, tabs, comment-only and blank lines, comments inside parentheses', async (t) => {
  const rrs = parseZone(
    '$TTL 300\r\nwww\tA\t192.0.2.1\r\n\t; only a comment\r\n\r\n\tAAAA ::1 ; trailing\r\nmx MX ( ; open\r\n  10 ; preference\r\n  mail )\r\n',
    { origin },
  );
  t.same(
    rows(rrs).map((r) => [r[0], r[2]]),
    [
      ['www.example.', Type.A],
      ['www.example.', Type.AAAA],
      ['mx.example.', Type.MX],
    ],
  );
  // A quoted string ends at its quote, so a word may follow at once; ";" inside quotes is text.
  const [txt] = parseZone('$TTL 1\n@ TXT "a;b"c\n', { origin });
  t.equal(txt!.rdata.toString('latin1'), '\x03a;b\x01c');
});
