// The store's file formats: zone copy round trip over every RR type, damage and truncation found,
// journal entries and torn tails, the timers file, and file names made safe.

import t from 'tap';
import { StoreDamagedError } from '../../src/store/errors.js';
import {
  decodeCopy,
  decodeJournal,
  decodeTimers,
  encodeCopyBuffer,
  encodeJournalEntry,
  encodeJournalHeader,
  encodeTimers,
  fileStem,
  JOURNAL_HEADER,
} from '../../src/store/format.js';
import { nameFromText } from '../../src/wire/name.js';
import { buildZone } from '../../src/zone/zone.js';
import { allTypesZone, exactKey, exactKeys, history } from './util.js';

const GEN = '0123456789abcdef';

t.test('zone copy: every RR type round-trips octet for octet', async (t) => {
  const zone = allTypesZone();
  const types = new Set([...zone.allRecords()].map((r) => r.type));
  t.ok(types.size >= 50, `${types.size} types in the fixture`);
  t.ok(types.has(46) && types.has(47) && types.has(65280) && types.has(65281), 'RRSIG, NSEC and an unknown type among them');
  const buf = encodeCopyBuffer(zone, { generation: GEN, savedAt: 1_700_000_000_123.5 });
  const copy = decodeCopy(buf, 'x.zone', nameFromText('EXAMPLE.'));
  t.equal(copy.header.serial, zone.serial);
  t.equal(copy.header.generation, GEN);
  t.equal(copy.header.savedAt, 1_700_000_000_123.5);
  t.equal(copy.count, zone.records);
  const records = [...copy.records()];
  t.equal(records.length, zone.records, 'as many records as the zone holds');
  t.same(records.map(exactKey), [...zone.allRecords()].map(exactKey), 'the same records in the same order, owner spelling and TTLs kept');
  t.same(exactKeys(buildZone(zone.origin, copy.records())), exactKeys(zone), 'the zone rebuilt from the copy is the zone');
  t.ok(buf.length < records.reduce((n, r) => n + r.owner.length + 10 + r.rdata.length, 0) + 100, 'owners shared by a node are written once');
});

t.test('zone copy: any single damaged octet, any truncation, another zone: detected', async (t) => {
  const zone = allTypesZone();
  const buf = encodeCopyBuffer(zone, { generation: GEN, savedAt: 1 });
  const reasons = new Map<string, number>();
  const tally = (fn: () => unknown): void => {
    try {
      const c = fn() as { records(): Iterable<unknown> };
      for (const _ of c.records());
      reasons.set('LOADED', (reasons.get('LOADED') ?? 0) + 1);
    } catch (err) {
      const k = err instanceof StoreDamagedError ? err.reason : `other: ${(err as Error).message}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
  };
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf);
    bad[i]! ^= 1 << (i % 8);
    tally(() => decodeCopy(bad, 'x.zone'));
  }
  t.notOk(reasons.has('LOADED'), `every one of ${buf.length} flipped bits refused: ${JSON.stringify(Object.fromEntries(reasons))}`);
  t.same([...reasons.keys()].filter((k) => k.startsWith('other')), [], 'always as StoreDamagedError');
  reasons.clear();
  for (let len = 0; len < buf.length; len++) tally(() => decodeCopy(buf.subarray(0, len), 'x.zone'));
  t.notOk(reasons.has('LOADED'), `every one of ${buf.length} truncations refused: ${JSON.stringify(Object.fromEntries(reasons))}`);
  t.ok(reasons.has('truncated') && reasons.has('bad-checksum'), 'as truncated or failing the checksum');
  t.throws(() => decodeCopy(buf, 'x.zone', nameFromText('example.net.')), { name: 'StoreDamagedError', message: /holds zone example\./ }, 'a copy of another zone');
  const v2 = Buffer.from(buf);
  v2.writeUInt16BE(2, 8);
  t.throws(() => decodeCopy(v2, 'x.zone'), { message: /format version 2/ });
  t.throws(() => decodeCopy(Buffer.from('$ORIGIN example.\n@ SOA ...\n'.repeat(10)), 'x.zone'), { message: /not a secondaryd zone copy/ });
});

t.test('journal: entries round-trip; a torn or damaged tail ends it, never an error', async (t) => {
  const versions = history(allTypesZone(), 4, 7);
  const entries = versions.slice(1).map((v, i) => encodeJournalEntry(v.changeset!, 1000 + i));
  const full = Buffer.concat([encodeJournalHeader(GEN), ...entries]);
  const j = decodeJournal(full, 'x.journal');
  t.equal(j.generation, GEN);
  t.equal(j.tail, null);
  t.equal(j.validBytes, full.length);
  t.equal(j.entries.length, 4);
  j.entries.forEach((e, i) => {
    const cs = versions[i + 1]!.changeset!;
    t.equal(e.savedAt, 1000 + i);
    t.same([e.changeset.fromSerial, e.changeset.toSerial], [cs.fromSerial, cs.toSerial]);
    t.same(e.changeset.removed.map(exactKey), cs.removed.map(exactKey), `entry ${i}: removed`);
    t.same(e.changeset.added.map(exactKey), cs.added.map(exactKey), `entry ${i}: added`);
    t.same([exactKey(e.changeset.fromSoa), exactKey(e.changeset.toSoa)], [exactKey(cs.fromSoa), exactKey(cs.toSoa)]);
  });

  // Every truncation past the header: the whole entries before the cut, nothing else.
  const ends = [JOURNAL_HEADER];
  for (const e of entries) ends.push(ends[ends.length - 1]! + e.length);
  let bad = 0;
  for (let len = JOURNAL_HEADER; len <= full.length; len++) {
    const r = decodeJournal(full.subarray(0, len), 'x.journal');
    const whole = ends.filter((e) => e <= len).length - 1;
    if (r.entries.length !== whole || r.validBytes !== ends[whole] || (r.tail === null) !== ends.includes(len)) bad++;
  }
  t.equal(bad, 0, `${full.length - JOURNAL_HEADER + 1} truncations: each keeps exactly the whole entries`);
  for (let len = 0; len < JOURNAL_HEADER; len++) t.throws(() => decodeJournal(full.subarray(0, len), 'x.journal'), StoreDamagedError);

  // A flipped octet inside entry 2: entries 0 and 1 stay, the rest is a damaged tail.
  let flips = 0;
  for (let i = ends[2]!; i < ends[3]!; i++) {
    const b = Buffer.from(full);
    b[i]! ^= 0x40;
    const r = decodeJournal(b, 'x.journal');
    if (r.entries.length === 2 && r.tail !== null) flips++;
  }
  t.equal(flips, ends[3]! - ends[2]!, 'every damaged octet of entry 2 ends the journal after entry 1');
  const header = Buffer.from(full);
  header[14]! ^= 1;
  t.throws(() => decodeJournal(header, 'x.journal'), { message: /header SHA-256/ }, 'a damaged header is refused as a whole');
});

t.test('timers file: round trip, damage, another zone', async (t) => {
  const timers = { serial: 4294967295, lastRefreshed: 1_700_000_000_000, expiresAt: 1_700_604_800_000, primary: '[2001:db8::1]:53' };
  const text = encodeTimers('example.com.', timers, 5);
  t.same(decodeTimers(text, 'x.timers', 'example.com.'), { ...timers, savedAt: 5 });
  t.same(decodeTimers(encodeTimers('example.com.', { ...timers, primary: null }, 5), 'x', 'example.com.').primary, null);
  t.throws(() => decodeTimers(text.replace('1700604800000', '1700604900000'), 'x', 'example.com.'), { message: /SHA-256 does not match/ });
  t.throws(() => decodeTimers(text, 'x', 'example.org.'), { message: /not example\.org/ });
  for (let len = 0; len < text.length - 1; len++) t.throws(() => decodeTimers(text.slice(0, len), 'x', 'example.com.'), StoreDamagedError);
});

t.test('file names: escaped, case-folded, one name per zone', async (t) => {
  t.equal(fileStem(nameFromText('Example.COM.')), 'example.com');
  t.equal(fileStem(nameFromText('.')), '@');
  t.equal(fileStem(nameFromText('a\\/b.example.')), 'a%2Fb.example', "'/' escaped");
  t.equal(fileStem(nameFromText('a\\.b.example.')), 'a%2Eb.example', "a '.' inside a label is not a label separator");
  t.equal(fileStem(nameFromText('\\000\\255%\\..example.')), '%00%FF%25%2E.example', 'NUL, 8-bit, % escaped');
  t.equal(fileStem(nameFromText('0-9_a.example.')), '0-9_a.example');
  const tricky = ['a.b.', 'a\\.b.', 'a%2Eb.', 'a\\/b.', 'a%2Fb.', '@.', '\\..', 'x\\255.', 'x%FF.', 'A.B.'];
  const stems = new Set(tricky.map((n) => fileStem(nameFromText(n))));
  t.equal(stems.size, tricky.length - 1, 'distinct zones get distinct names (A.B. and a.b. are one zone)');
  for (const s of stems) t.notMatch(s, /[/\0]/, `${s}: no '/' or NUL`);
  const long = nameFromText(`${Array.from({ length: 4 }, () => '\\255'.repeat(60)).join('.')}.`);
  t.ok(fileStem(long).length <= 200, 'a long name is cut and hashed to fit a file name');
});
