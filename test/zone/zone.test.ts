// Zone snapshot and trie: building, checks, flags, canonical order and predecessor lookup.

import t from 'tap';
import { Type } from '../../src/wire/constants.js';
import { canonicalCompare, nameFromText, nameToText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { childByKey, getRRset, NODE_DELEGATION, NODE_DNAME, NODE_OCCLUDED, nodeName, rdataOf, wildcardChild } from '../../src/zone/node.js';
import { buildZone, nameKey, ZoneError } from '../../src/zone/zone.js';
import { ZoneTable } from '../../src/zone/zone-table.js';

const origin = nameFromText('Example.COM.');

function soa(serial = 1): Buffer {
  const b = Buffer.concat([nameFromText('ns.example.com.'), nameFromText('h.example.com.'), Buffer.alloc(20)]);
  b.writeUInt32BE(serial, b.length - 20);
  b.writeUInt32BE(300, b.length - 4);
  return b;
}

function rr(owner: string, type: number, rdata: Buffer, ttl = 3600): ResourceRecord {
  return { owner: nameFromText(owner, origin), type, class: 1, ttl, rdata };
}

const a = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number));

function base(): ResourceRecord[] {
  return [rr('@', Type.SOA, soa(7)), rr('@', Type.NS, nameFromText('ns.example.com.'))];
}

t.test('builds nodes, empty non-terminals and flags', async (t) => {
  const z = buildZone(origin, [
    ...base(),
    rr('a.b.c', Type.A, a('192.0.2.1')),
    rr('A.b.c', Type.A, a('192.0.2.1')), // duplicate in other case: dropped
    rr('a.b.c', Type.A, a('192.0.2.2')),
    rr('sub', Type.NS, nameFromText('ns.sub.example.com.')),
    rr('ns.sub', Type.A, a('192.0.2.3')),
    rr('d', Type.DNAME, nameFromText('example.net.')),
    rr('x.d', Type.A, a('192.0.2.4')),
    rr('*.w', Type.A, a('192.0.2.5')),
  ]);
  t.equal(z.serial, 7);
  t.equal(z.records, 2 + 2 + 1 + 1 + 1 + 1 + 1);
  t.equal(z.negativeTtl, 300);
  const c = childByKey(z.apex, 'c')!;
  t.equal(c.sets, null, 'c is an empty non-terminal');
  t.equal(childByKey(c, 'b')!.sets, null, 'b.c is an empty non-terminal');
  t.equal(rdataOf(getRRset(childByKey(childByKey(c, 'b')!, 'a')!, Type.A)!).length, 2);
  const sub = childByKey(z.apex, 'sub')!;
  t.ok(sub.flags & NODE_DELEGATION);
  t.ok(childByKey(sub, 'ns')!.flags & NODE_OCCLUDED, 'glue is occluded');
  t.ok(childByKey(z.apex, 'd')!.flags & NODE_DNAME);
  t.ok(childByKey(childByKey(z.apex, 'd')!, 'x')!.flags & NODE_OCCLUDED, 'data below DNAME is occluded');
  t.equal(wildcardChild(childByKey(z.apex, 'w')!), childByKey(childByKey(z.apex, 'w')!, '*'));
  t.equal(nameToText(nodeName(childByKey(childByKey(c, 'b')!, 'a')!)), 'a.b.c.Example.COM.', 'original spelling kept');
});

t.test('rejects broken zones with a reason', async (t) => {
  t.throws(() => buildZone(origin, [rr('@', Type.NS, nameFromText('ns.example.com.'))]), /no SOA/);
  t.throws(() => buildZone(origin, [rr('@', Type.SOA, soa())]), /no NS/);
  t.throws(() => buildZone(origin, [...base(), rr('@', Type.SOA, soa(2))]), /more than one SOA/);
  t.throws(() => buildZone(origin, [...base(), { ...rr('@', Type.A, a('1.2.3.4')), owner: nameFromText('example.org.') }]), /outside the zone/);
  t.throws(
    () => buildZone(origin, [...base(), rr('x', Type.CNAME, nameFromText('y.example.com.')), rr('x', Type.A, a('1.2.3.4'))]),
    /CNAME and other data at x\.Example\.COM\./,
  );
  t.throws(() => buildZone(origin, [...base(), rr('x', Type.SOA, soa())]), ZoneError);
});

t.test('canonical order and predecessor (RFC 4034 6.1)', async (t) => {
  // The RFC's own example, in order.
  const ordered = ['example', 'a.example', 'yljkjljk.a.example', 'Z.a.example', 'zABC.a.EXAMPLE', 'z.example', '\\001.z.example', '*.z.example', '\\200.z.example'];
  const names = ordered.map((n) => nameFromText(n + '.'));
  const shuffled = [...names].reverse();
  shuffled.sort(canonicalCompare);
  t.same(shuffled.map((n) => nameToText(n)), names.map((n) => nameToText(n)));

  const eo = nameFromText('example.');
  const recs: ResourceRecord[] = [
    { owner: eo, type: Type.SOA, class: 1, ttl: 1, rdata: soa() },
    { owner: eo, type: Type.NS, class: 1, ttl: 1, rdata: nameFromText('ns.example.') },
    ...names.slice(1).map((owner) => ({ owner, type: Type.TXT, class: 1, ttl: 1, rdata: Buffer.from([1, 0x78]) })),
  ];
  const z = buildZone(eo, recs);
  // Walking allRecords gives canonical order of owners.
  const owners = [...new Set([...z.allRecords()].map((r) => nameToText(r.owner).toLowerCase()))];
  t.same(owners, ordered.map((n) => (n + '.').toLowerCase()));
  const pred = (n: string): string => {
    const labels = nameToText(nameFromText(n + '.')).toLowerCase().slice(0, -'example.'.length - 1);
    const keys = labels === '' ? [] : labels.split('.').map((l) => nameKey(nameFromText(l + '.')).slice(1, -1));
    return nameToText(nodeName(z.predecessor(keys)));
  };
  t.equal(pred('b.example'), 'zABC.a.EXAMPLE.', 'after the a.example subtree');
  t.equal(pred('a.example'), 'a.example.', 'existing name is its own predecessor');
  t.equal(pred('aa.a.example'), 'a.example.', 'smaller than every child: the parent');
  t.equal(pred('zz.a.example'), 'zABC.a.EXAMPLE.');
  t.equal(pred('y.z.example'), '*.z.example.', 'between two children');
  t.equal(pred('\\201.z.example'), '\\200.z.example.', 'after the last child');
  t.equal(pred('0.example'), 'example.', 'smaller than every name: the apex');
});

t.test('zone table: longest match and one-step publish', async (t) => {
  const table = new ZoneTable();
  const parent = buildZone(origin, base());
  const childOrigin = nameFromText('sub.example.com.');
  const child = buildZone(childOrigin, [
    { owner: childOrigin, type: Type.SOA, class: 1, ttl: 1, rdata: soa(1) },
    { owner: childOrigin, type: Type.NS, class: 1, ttl: 1, rdata: nameFromText('ns.sub.example.com.') },
  ]);
  table.publish(parent);
  table.publish(child);
  const find = (n: string, skip = 0) => {
    const lower = Buffer.from(nameFromText(n).map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b)));
    const starts: number[] = [];
    for (let i = 0; lower[i] !== 0; i += lower[i]! + 1) starts.push(i);
    const z = table.find(lower, starts, starts.length, lower.length, skip);
    return z === undefined ? undefined : nameToText(z.origin);
  };
  t.equal(find('www.SUB.example.com.'), 'sub.example.com.');
  t.equal(find('www.example.com.'), 'Example.COM.');
  t.equal(find('sub.example.com.', 1), 'Example.COM.', 'DS lookup starts one label up');
  t.equal(find('example.org.'), undefined);
  const newer = buildZone(origin, [rr('@', Type.SOA, soa(8)), rr('@', Type.NS, nameFromText('ns.example.com.'))]);
  table.publish(newer);
  t.equal(table.served(nameKey(origin))!.serial, 8);
  t.equal(table.size, 2);
});
