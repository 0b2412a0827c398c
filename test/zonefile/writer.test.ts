// Master-file writer: record lines, RFC 3597 fallback, RFC 4034 6.1 order with the SOA first, and round trips through the reader.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Class, Type } from '../../src/wire/constants.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { parseZone, readZoneFile } from '../../src/zonefile/reader.js';
import { formatRecord, formatZone, formatZoneBuffer, zoneLines } from '../../src/zonefile/writer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const origin = nameFromText('example.');
const rr = (owner: string, type: number, rdataHex: string, ttl = 300, cls: number = Class.IN): ResourceRecord => ({
  owner: nameFromText(owner, origin),
  type,
  class: cls,
  ttl,
  rdata: Buffer.from(rdataHex, 'hex'),
});
const soaRdata = nameFromText('ns.example.').toString('hex') + nameFromText('h.example.').toString('hex') + '0000000700000e1000000708001275000000012c';

t.test('formatRecord: absolute owner, TTL, class, type, RDATA', async (t) => {
  t.equal(formatRecord(rr('www', Type.A, 'c0000201')), 'www.example.\t300\tIN\tA\t192.0.2.1');
  t.equal(formatRecord(rr('@', Type.SOA, soaRdata, 3600)), 'example.\t3600\tIN\tSOA\tns.example. h.example. 7 3600 1800 1209600 300');
  t.equal(formatRecord(rr('x', Type.TXT, '0161', 0, Class.CH)), 'x.example.\t0\tCH\tTXT\t"a"');
  t.equal(formatRecord(rr('x', Type.TXT, '0161', 1, 42)), 'x.example.\t1\tCLASS42\tTXT\t"a"');
  t.equal(formatRecord(rr('a\\ b\\@c', Type.A, '7f000001')), 'a\\032b\\@c.example.\t300\tIN\tA\t127.0.0.1', 'owner escapes');
});

t.test('RFC 3597 fallback: unknown, non-portable, opaque, and inexpressible RDATA', async (t) => {
  t.equal(formatRecord(rr('u', 65280, '0a000001')), 'u.example.\t300\tIN\tTYPE65280\t\\# 4 0A000001');
  t.equal(formatRecord(rr('u', 65281, '')), 'u.example.\t300\tIN\tTYPE65281\t\\# 0');
  t.equal(formatRecord(rr('mb', Type.MB, nameFromText('m.example.').toString('hex'))), 'mb.example.\t300\tIN\tTYPE7\t\\# 11 016D076578616D706C6500', 'Knot does not know MB');
  t.equal(formatRecord(rr('n', Type.NULL, 'abcd')), 'n.example.\t300\tIN\tTYPE10\t\\# 2 ABCD');
  t.equal(formatRecord(rr('w', Type.WKS, 'c000020106')), 'w.example.\t300\tIN\tTYPE11\t\\# 5 C000020106');
  t.equal(formatRecord(rr('e', Type.TXT, '')), 'e.example.\t300\tIN\tTXT\t\\# 0', 'empty TXT');
  t.equal(formatRecord(rr('d', Type.DS, 'ea600d02')), 'd.example.\t300\tIN\tDS\t\\# 4 EA600D02', 'DS without digest');
  // Each of these reads back to the same octets.
  const text = ['u TYPE65281 \\# 0', 'e TXT \\# 0', 'd DS \\# 4 EA600D02', 'mb TYPE7 \\# 11 016D076578616D706C6500'].join('\n');
  t.same(
    parseZone(`$TTL 1\n${text}\n`, { origin }).map((r) => [r.type, r.rdata.toString('hex')]),
    [
      [65281, ''],
      [Type.TXT, ''],
      [Type.DS, 'ea600d02'],
      [Type.MB, nameFromText('m.example.').toString('hex')],
    ],
  );
});

t.test('formatZone: $ORIGIN, apex SOA first, then RFC 4034 6.1 canonical order', async (t) => {
  // The example order of RFC 4034 6.1, shuffled, plus RRsets whose RDATA order must be kept.
  const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
  const shuffled = [5, 2, 8, 0, 7, 3, 1, 6, 4].map((i) => ordered[i]!);
  const records = [
    ...shuffled.map((o) => rr(o, Type.A, '7f000001')),
    rr('a', Type.TXT, '0132'),
    rr('a', Type.MX, '000a00'),
    rr('a', Type.TXT, '0131'),
    rr('@', Type.SOA, soaRdata, 3600),
  ];
  const lines = [...zoneLines(records, origin)];
  t.equal(lines[0], '$ORIGIN example.');
  t.match(lines[1], /^example\.\t3600\tIN\tSOA\t/);
  t.same(
    lines.slice(2).map((l) => l.split('\t').slice(0, 1).concat(l.split('\t').slice(3)).join(' ')),
    [
      'example. A 127.0.0.1',
      'a.example. A 127.0.0.1',
      'a.example. MX 10 .',
      'a.example. TXT "2"', // RDATA order within the RRset as given
      'a.example. TXT "1"',
      'yljkjljk.a.example. A 127.0.0.1',
      'Z.a.example. A 127.0.0.1',
      'zABC.a.EXAMPLE. A 127.0.0.1',
      'z.example. A 127.0.0.1',
      '\\001.z.example. A 127.0.0.1',
      '*.z.example. A 127.0.0.1',
      '\\200.z.example. A 127.0.0.1',
    ],
  );
  t.equal(formatZone(records, origin), lines.join('\n') + '\n');
  t.same(formatZoneBuffer(records, origin), Buffer.from(lines.join('\n') + '\n', 'latin1'));
});

t.test('the fixture round-trips through the writer to identical records', async (t) => {
  const rrs = await readZoneFile(path.join(here, 'fixtures', 'all-types.zone'), origin);
  const again = parseZone(formatZone(rrs, origin), { origin });
  const key = (r: ResourceRecord): string => `${r.owner.toString('hex')} ${r.ttl} ${r.class} ${r.type} ${r.rdata.toString('hex')}`;
  t.equal(again.length, rrs.length);
  t.same(again.map(key).sort(), rrs.map(key).sort());
});

t.test('odd octets in names and strings survive the round trip', async (t) => {
  const owner = Buffer.from([3, 0x00, 0x2e, 0xff, 2, 0x22, 0x3b, ...nameFromText('example.')]);
  const txt = Buffer.from([4, 0x00, 0x22, 0x5c, 0x7f, 0]);
  const rec: ResourceRecord = { owner, type: Type.TXT, class: Class.IN, ttl: 5, rdata: txt };
  const line = formatRecord(rec);
  t.equal(line, '\\000\\.\\255.\\"\\;.example.\t5\tIN\tTXT\t"\\000\\"\\\\\\127" ""');
  const [back] = parseZone(line + '\n', { origin });
  t.same(back!.owner, owner);
  t.same(back!.rdata, txt);
});

t.test('a large zone formats in bounded time', async (t) => {
  const records: ResourceRecord[] = [rr('@', Type.SOA, soaRdata)];
  for (let i = 0; i < 100000; i++) records.push(rr(`h${i}`, Type.A, (0x0a000000 + i).toString(16).padStart(8, '0')));
  const start = Date.now();
  const text = formatZone(records, origin);
  const ms = Date.now() - start;
  t.equal(text.split('\n').length, 100000 + 3);
  t.ok(ms < 20000, `formatted in ${ms} ms`);
});

t.test('owners that differ only in case keep their own spelling (found by the fuzz test)', async (t) => {
  const text = formatZone([rr('key', Type.A, '7f000001'), rr('KEY', Type.A, '7f000002'), rr('Key', Type.AAAA, '0'.repeat(32))], origin);
  t.same(text.split('\n').slice(1, 4), ['key.example.\t300\tIN\tA\t127.0.0.1', 'KEY.example.\t300\tIN\tA\t127.0.0.2', 'Key.example.\t300\tIN\tAAAA\t::']);
});
