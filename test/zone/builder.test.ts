// ZoneBuilder (incremental snapshot building): the same zone as the original whole-zone algorithm
// whatever the record order and however the records are split into messages; big nodes filled out
// of order; duplicate checks in big RRsets; RRSIGs before the RRset they cover; cuts after their glue.

import t from 'tap';
import { Class, Flag, Opcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import { nameFromText, nameToText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { AxfrSession } from '../../src/xfr/axfr-client.js';
import {
  childAt,
  childByKey,
  childCount,
  firstRdata,
  getRRset,
  NODE_DELEGATION,
  NODE_OCCLUDED,
  NODE_WILDCARD,
  nodeKey,
  nodeName,
  rdataOf,
  wildcardChild,
} from '../../src/zone/node.js';
import { buildZone, ZoneBuilder, ZoneError } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import { answers, dump, ORIGIN, prng, randomQuestions, randomZone, rec, recordBytes, referenceDump, rrsig, shuffle, soaRec, stableShuffle } from './util.js';

function errorOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof ZoneError) return err.message;
    throw err;
  }
}

/**
 * Build through an AxfrSession, `per` records a message; also returns the zone buildZone makes of
 * the same messages decoded (name compression may change the case of names inside RDATA).
 */
function viaAxfr(records: ResourceRecord[], per: number): [Zone, Zone] {
  const soa = records.find((r) => r.type === Type.SOA)!;
  const body = [soa, ...records.filter((r) => r !== soa), soa];
  const s = new AxfrSession({ zone: ORIGIN, id: 7, maxRecords: 1e7, maxBytes: 1e9 });
  const decoded: ResourceRecord[] = [];
  for (let i = 0; i < body.length; i += per) {
    const question = i === 0 ? [{ name: ORIGIN, type: Type.AXFR, class: Class.IN }] : [];
    const msg = encodeMessage({ id: 7, flags: Flag.QR | Flag.AA, opcode: Opcode.QUERY, rcode: 0, question, answer: body.slice(i, i + per), authority: [], additional: [] });
    decoded.push(...decodeMessage(msg).answer);
    s.push(msg);
  }
  return [s.result().zone, buildZone(ORIGIN, decoded.slice(0, -1))];
}

t.test('random zones: the same snapshot as the whole-zone reference, in any order', async (t) => {
  let valid = 0;
  let broken = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const records = randomZone(seed, { names: 5 + (seed % 60), broken: seed % 3 === 0, mixedCase: seed % 2 === 0 });
    const ref = referenceDump(ORIGIN, records);
    const err = errorOf(() => buildZone(ORIGIN, records));
    if (typeof ref === 'string') {
      broken++;
      if (err !== ref) t.equal(err, ref, `seed ${seed}: the same error`);
      continue;
    }
    valid++;
    if (err !== undefined) {
      t.fail(`seed ${seed}: ${err}`);
      continue;
    }
    const z = buildZone(ORIGIN, records);
    const got = dump(z);
    if (JSON.stringify(got) !== JSON.stringify(ref)) t.same(got, ref, `seed ${seed}: same nodes, flags, RRsets, signatures`);
    t.equal(z.records, ref.reduce((n, node) => n + node.rrsets.reduce((m, r) => m + r.rdata.length, 0), 0), `seed ${seed}: record count`);
  }
  t.ok(valid > 100 && broken > 30, `${valid} valid and ${broken} broken zones compared`);
});

t.test('random zones: record order and message split change nothing (snapshot and answers)', async (t) => {
  for (let seed = 1; seed <= 60; seed++) {
    // One spelling per name, so that which record comes first cannot change a node's spelling.
    const records = randomZone(1000 + seed, { names: 10 + seed * 2 });
    if (typeof referenceDump(ORIGIN, records) === 'string') continue;
    const rnd = prng(seed);
    const base = buildZone(ORIGIN, records);
    const canonical = [...base.allRecords()];
    const shuffled = stableShuffle(rnd, records);
    const questions = randomQuestions(seed, 150);
    // RRsets keep their first-seen order within a name, so allRecords is compared as a set; and
    // allRecords gives every RRSIG its RRset's TTL, so the canonical-order copy may differ there.
    const view = (z: Zone) => ({ dump: dump(z, false), records: recordBytes(z).sort(), answers: answers(z, questions) });
    const want = view(base);
    const pairs: [string, Zone, Zone][] = [
      ['shuffled', buildZone(ORIGIN, shuffled), base],
      ['canonical order', buildZone(ORIGIN, canonical), base],
      ['AXFR, 1 record a message', ...viaAxfr(shuffled, 1)],
      ['AXFR, 7 records a message', ...viaAxfr(canonical, 7)],
    ];
    for (const [label, z, ref] of pairs) {
      const got = view(z);
      const exp = ref === base ? want : view(ref);
      if (JSON.stringify(got) !== JSON.stringify(exp)) t.same(got, exp, `seed ${seed}, ${label}`);
    }
  }
  t.pass('compared');
});

t.test('a big node filled out of order: sorted children, every name found, tails merged', async (t) => {
  const rnd = prng(99);
  const names = Array.from({ length: 12_000 }, (_, i) => `n${i}`);
  const records: ResourceRecord[] = [soaRec(1), rec('@', Type.NS, nameFromText('ns.example.com.'))];
  // Every name twice (two types), the second time much later, so lookups hit the sorted part and the tail.
  for (const n of shuffle(rnd, names)) records.push(rec(n, Type.A, Buffer.from([10, 0, 0, 1])));
  for (const n of shuffle(rnd, names)) records.push(rec(`${n}`, Type.TXT, Buffer.from([1, 0x78])));
  for (const n of shuffle(rnd, names).slice(0, 3000)) records.push(rec(`x.${n}`, Type.A, Buffer.from([10, 0, 0, 2])));
  const b = new ZoneBuilder(ORIGIN);
  for (const r of records) b.add(r);
  t.equal(b.count, 2 + 12_000 * 2 + 3000);
  const z = b.finish();
  t.equal(childCount(z.apex), 12_000);
  const keys = Array.from({ length: childCount(z.apex) }, (_, i) => nodeKey(childAt(z.apex, i)));
  t.same(keys, [...names].sort(), 'children in canonical order');
  const found = (n: string): boolean => {
    const node = childByKey(z.apex, n);
    return node !== undefined && getRRset(node, Type.TXT) !== undefined;
  };
  t.ok(names.every(found), 'every name found with both RRsets');
  t.same(dump(z), referenceDump(ORIGIN, records));
  t.throws(() => b.add(rec('late', Type.A, Buffer.from([1, 2, 3, 4]))), /after finish/);
});

t.test('duplicates in a big RRset are dropped without a quadratic scan', async (t) => {
  const records: ResourceRecord[] = [soaRec(1), rec('@', Type.NS, nameFromText('ns.example.com.'))];
  for (let i = 0; i < 30_000; i++) {
    const j = i % 3 === 2 ? i - 1 : i; // every third record repeats the one before
    records.push(rec(i % 2 ? 'WIDE' : 'wide', Type.A, Buffer.from([10, j >> 16, (j >> 8) & 255, j & 255]), 60 + (i % 2)));
  }
  const z = buildZone(ORIGIN, records);
  const wide = getRRset(childByKey(z.apex, 'wide')!, Type.A)!;
  t.equal(rdataOf(wide).length, 20_000);
  t.equal(wide.ttl, 60, 'the first TTL seen (RFC 2181 5.2)');
  t.equal(new Set(rdataOf(wide).map((d) => d.toString('hex'))).size, 20_000, 'no duplicates left');
  t.equal(rdataOf(wide)[2]!.readUInt32BE(0), (10 << 24) + 3, 'first-seen order kept');
  t.equal(z.records, 2 + 20_000);
});

t.test('RRSIGs before the RRset they cover, and cuts after their glue', async (t) => {
  const z = buildZone(ORIGIN, [
    rec('sub.deep', Type.RRSIG, rrsig(Type.NS, 1), 300),
    rec('a.sub.deep', Type.A, Buffer.from([192, 0, 2, 1])),
    rec('b.a.sub.deep', Type.A, Buffer.from([192, 0, 2, 2])),
    rec('sub.deep', Type.RRSIG, rrsig(Type.NS, 2), 600),
    rec('sub.deep', Type.RRSIG, rrsig(Type.NS, 2), 600), // duplicate: attached once
    rec('sub.deep', Type.NS, nameFromText('ns.example.net.')),
    rec('sub.deep', Type.RRSIG, rrsig(Type.NS, 3), 900),
    rec('sub.deep', Type.RRSIG, rrsig(Type.DS, 4)), // covers nothing here
    rec('*.w', Type.TXT, Buffer.from([1, 0x77])),
    soaRec(1),
    rec('@', Type.NS, nameFromText('ns.example.com.')),
  ]);
  const sub = childByKey(childByKey(z.apex, 'deep')!, 'sub')!;
  t.ok(sub.flags & NODE_DELEGATION);
  t.ok(childByKey(sub, 'a')!.flags & NODE_OCCLUDED, 'glue inserted before the NS is occluded');
  t.ok(childByKey(childByKey(sub, 'a')!, 'b')!.flags & NODE_OCCLUDED, 'and so is what is below it');
  t.notOk(childByKey(z.apex, 'deep')!.flags & NODE_OCCLUDED);
  const sigs = getRRset(sub, Type.NS)!.sigs!;
  t.same(rdataOf(sigs).map((d) => d.readUInt16BE(16)), [1, 2, 3], 'signatures in arrival order, the duplicate once');
  t.equal(sigs.ttl, 300, 'TTL of the first signature');
  t.equal(z.hasCuts, true);
  t.equal(z.cuts, 1);
  t.ok(childByKey(z.apex, 'w')!.flags & NODE_WILDCARD);
  t.equal(wildcardChild(childByKey(z.apex, 'w')!), childByKey(childByKey(z.apex, 'w')!, '*'));
  t.equal(wildcardChild(z.apex), null);
});

t.test('the snapshot keeps no Buffer it was given', async (t) => {
  const owner = Buffer.from(nameFromText('keep.example.com.'));
  const rdata = Buffer.from([192, 0, 2, 1]);
  const z = buildZone(ORIGIN, [soaRec(1), rec('@', Type.NS, nameFromText('ns.example.com.')), { owner, type: Type.A, class: Class.IN, ttl: 1, rdata }]);
  owner.fill(0x41, 1, 5);
  rdata.fill(0);
  const node = childByKey(z.apex, 'keep')!;
  t.equal(nameToText(nodeName(node)), 'keep.example.com.');
  t.same([...firstRdata(getRRset(node, Type.A)!)], [192, 0, 2, 1]);
});
