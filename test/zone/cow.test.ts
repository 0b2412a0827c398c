// IXFR apply by path copying (RFC 1995 4): on random zones and random changesets, the new snapshot
// equals a rebuild from scratch (nodes, flags, occlusion, signatures, answers), the old snapshot is
// left byte for byte as it was, and untouched subtrees are shared, not copied.

import t from 'tap';
import { Class, Type } from '../../src/wire/constants.js';
import { nameFromText, nameToLower } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { applyChangesets, ChangesetError } from '../../src/zone/changeset.js';
import type { Changeset } from '../../src/zone/changeset.js';
import { childAt, childByKey, childCount, firstRdata, getRRset, NODE_DELEGATION, NODE_OCCLUDED, NODE_WILDCARD, nodeName, rdataOf, wildcardChild } from '../../src/zone/node.js';
import { buildZone } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import { answers, dump, ORIGIN, pick, prng, randomName, randomQuestions, randomRecord, randomZone, rec, recordBytes, referenceDump, rrsig, soaRec } from './util.js';

const recKey = (r: ResourceRecord): string => `${nameToLower(r.owner).toString('hex')}/${r.type}/${r.rdata.toString('hex')}`;

function cs(from: number, removed: ResourceRecord[], added: ResourceRecord[]): Changeset {
  return { fromSerial: from, toSerial: from + 1, fromSoa: soaRec(from), toSoa: soaRec(from + 1), removed, added };
}

/**
 * What the original apply built: the final SOA, the net additions (in the order their records were
 * first touched), then the old records not deleted, through buildZone.
 */
function rebuild(zone: Zone, changes: Changeset[]): Zone {
  const last = changes[changes.length - 1]!;
  const net = new Map<string, { gone: boolean; added: ResourceRecord | undefined }>();
  const entry = (r: ResourceRecord) => {
    let e = net.get(recKey(r));
    if (!e) net.set(recKey(r), (e = { gone: false, added: undefined }));
    return e;
  };
  for (const c of changes) {
    for (const r of c.removed) {
      const e = entry(r);
      if (e.added) e.added = undefined;
      else e.gone = true;
    }
    for (const r of c.added) entry(r).added = r;
  }
  const added = [...net.values()].flatMap((e) => (e.added ? [e.added] : []));
  const old = [...zone.allRecords()].filter((r) => r.type !== Type.SOA && !net.get(recKey(r))?.gone);
  return buildZone(ORIGIN, [last.toSoa, ...added, ...old]);
}

/** A random changeset for `zone`: some deletions (sometimes every record of a name), some additions. */
function randomChanges(seed: number, zone: Zone): Changeset[] {
  const rnd = prng(seed);
  const all = [...zone.allRecords()].filter((r) => r.type !== Type.SOA);
  const present = new Set(all.map(recKey));
  const removed: ResourceRecord[] = [];
  for (const r of all) {
    if (r.type === Type.NS && r.owner.length === ORIGIN.length) continue;
    if (rnd() < 0.08) removed.push(r);
  }
  if (rnd() < 0.5 && all.length > 3) {
    // Every record of one name: the name (and empty non-terminals above it) must go.
    const victim = nameToLower(pick(rnd, all).owner).toString('hex');
    for (const r of all) if (nameToLower(r.owner).toString('hex') === victim && !removed.includes(r) && !(r.type === Type.NS && r.owner.length === ORIGIN.length)) removed.push(r);
  }
  for (const r of removed) present.delete(recKey(r));
  const added: ResourceRecord[] = [];
  const n = Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    const owner = rnd() < 0.5 && all.length > 0 ? pick(rnd, all).owner : nameFromText(rnd() < 0.3 ? `new${i}.${randomName(rnd)}` : randomName(rnd), ORIGIN);
    const r = { ...randomRecord(rnd, 'x', rnd() < 0.3), owner };
    if (r.type === Type.SOA || present.has(recKey(r))) continue;
    present.add(recKey(r));
    added.push(r);
  }
  const serial = zone.serial;
  if (rnd() < 0.3) {
    // Two changesets: the second takes back one addition and re-adds one deletion.
    const back = added.length > 0 ? [added[0]!] : [];
    const again = removed.length > 0 && !added.some((a) => recKey(a) === recKey(removed[0]!)) ? [{ ...removed[0]!, ttl: 77 }] : [];
    return [cs(serial, removed, added), cs(serial + 1, back, again)];
  }
  return [cs(serial, removed, added)];
}

/** The node objects of a snapshot by lower-case name. */
function nodesOf(zone: Zone): Map<string, object> {
  const out = new Map<string, object>();
  const walk = (n: Zone['apex']): void => {
    out.set(nameToLower(nodeName(n)).toString('hex'), n);
    for (let i = 0; i < childCount(n); i++) walk(childAt(n, i));
  };
  walk(zone.apex);
  return out;
}

t.test('random changesets: same as a rebuild; the old snapshot untouched; untouched nodes shared', async (t) => {
  let applied = 0;
  let refused = 0;
  let shared = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const records = randomZone(5000 + seed, { names: 10 + (seed % 50) });
    if (typeof referenceDump(ORIGIN, records) === 'string') continue;
    const zone = buildZone(ORIGIN, records);
    const before = { records: recordBytes(zone), dump: JSON.stringify(dump(zone)) };
    const changes = randomChanges(seed, zone);
    let want: Zone | string;
    try {
      want = rebuild(zone, changes);
    } catch (err) {
      want = (err as Error).message;
    }
    let got: Zone | string;
    try {
      got = applyChangesets(zone, changes);
    } catch (err) {
      if (!(err instanceof ChangesetError)) throw err;
      t.equal(err.reason, 'zone-check', `seed ${seed}: ${err.message}`);
      got = err.message.replace(/^after the changes, /, '');
    }
    if (recordBytes(zone).join() !== before.records.join() || JSON.stringify(dump(zone)) !== before.dump) t.fail(`seed ${seed}: the old snapshot changed`);
    if (typeof want === 'string' || typeof got === 'string') {
      if (got !== want) t.equal(got, want, `seed ${seed}: the same verdict as a rebuild`);
      refused++;
      continue;
    }
    applied++;
    const questions = randomQuestions(seed, 120);
    // Signature TTLs aside: a rebuild gives every RRSIG the TTL of the RRSIG RRset of its name.
    const view = (z: Zone) => ({ dump: dump(z, false), records: recordBytes(z).sort(), answers: answers(z, questions), count: z.records, cuts: z.cuts });
    const g = view(got);
    const w = view(want);
    if (JSON.stringify(g) !== JSON.stringify(w)) t.same(g, w, `seed ${seed}: same zone as a rebuild`);
    // Nodes whose subtree holds no changed name are the very same objects.
    const net = new Map<string, ResourceRecord>();
    for (const c of changes) {
      for (const r of c.removed) if (!net.delete(recKey(r) + '+')) net.set(recKey(r) + '-', r);
      for (const r of c.added) net.set(recKey(r) + '+', r);
    }
    const touched = new Set<string>();
    for (const r of net.values()) {
      for (let i = 0; i <= r.owner.length - ORIGIN.length; i += r.owner[i]! + 1) touched.add(nameToLower(r.owner.subarray(i)).toString('hex'));
    }
    const oldNodes = nodesOf(zone);
    for (const [k, n] of nodesOf(got)) {
      if (oldNodes.get(k) === n) {
        shared++;
        if (touched.has(k)) t.fail(`seed ${seed}: a node on a changed path is shared`);
      }
    }
  }
  t.ok(applied > 200, `${applied} applied, ${refused} refused like a rebuild, ${shared} nodes shared`);
  t.ok(shared > 1000, 'untouched nodes are shared');
});

t.test('a cut that appears above existing names occludes them; when it goes they are data again', async (t) => {
  const z = buildZone(ORIGIN, [
    soaRec(1),
    rec('@', Type.NS, nameFromText('ns.example.com.')),
    rec('a.sub', Type.A, Buffer.from([192, 0, 2, 1])),
    rec('b.a.sub', Type.A, Buffer.from([192, 0, 2, 2])),
    rec('other', Type.A, Buffer.from([192, 0, 2, 3])),
  ]);
  const ns = rec('sub', Type.NS, nameFromText('ns.a.sub.example.com.'));
  const cut = applyChangesets(z, [cs(1, [], [ns])]);
  const sub = childByKey(cut.apex, 'sub')!;
  t.ok(sub.flags & NODE_DELEGATION);
  t.ok(childByKey(sub, 'a')!.flags & NODE_OCCLUDED);
  t.ok(childByKey(childByKey(sub, 'a')!, 'b')!.flags & NODE_OCCLUDED);
  t.notOk(childByKey(childByKey(z.apex, 'sub')!, 'a')!.flags & NODE_OCCLUDED, 'the old snapshot still serves them as data');
  t.equal(childByKey(cut.apex, 'other'), childByKey(z.apex, 'other'), 'a sibling subtree is shared');
  t.equal(cut.cuts, 1);
  const back = applyChangesets(cut, [cs(2, [ns], [])]);
  t.notOk(childByKey(back.apex, 'sub')!.flags & NODE_DELEGATION);
  t.notOk(childByKey(childByKey(childByKey(back.apex, 'sub')!, 'a')!, 'b')!.flags & NODE_OCCLUDED);
  t.ok(childByKey(childByKey(childByKey(cut.apex, 'sub')!, 'a')!, 'b')!.flags & NODE_OCCLUDED, 'and the cut snapshot still has its cut');
  t.equal(back.cuts, 0);
  t.equal(back.hasCuts, false);
});

t.test('names left empty are pruned with their empty non-terminals; wildcards come and go', async (t) => {
  const z = buildZone(ORIGIN, [soaRec(1), rec('@', Type.NS, nameFromText('ns.example.com.')), rec('x.y.z', Type.A, Buffer.from([192, 0, 2, 1])), rec('y.z', Type.TXT, Buffer.from([1, 0x61]))]);
  const wild = rec('*.w', Type.A, Buffer.from([192, 0, 2, 9]));
  const next = applyChangesets(z, [cs(1, [rec('x.y.z', Type.A, Buffer.from([192, 0, 2, 1]))], [wild])]);
  t.equal(childCount(childByKey(childByKey(next.apex, 'z')!, 'y')!), 0, 'x.y.z is gone');
  t.ok(childByKey(next.apex, 'w')!.flags & NODE_WILDCARD);
  t.equal(wildcardChild(childByKey(next.apex, 'w')!), childByKey(childByKey(next.apex, 'w')!, '*'));
  const gone = applyChangesets(next, [cs(2, [wild, rec('y.z', Type.TXT, Buffer.from([1, 0x61]))], [])]);
  t.equal(childByKey(gone.apex, 'w'), undefined, 'w (an empty non-terminal only) is gone');
  t.equal(childByKey(gone.apex, 'z'), undefined, 'z is gone');
  t.same(dump(gone), dump(buildZone(ORIGIN, [soaRec(3), rec('@', Type.NS, nameFromText('ns.example.com.'))])));
});

t.test('signatures follow their RRsets', async (t) => {
  const z = buildZone(ORIGIN, [
    soaRec(1),
    rec('@', Type.NS, nameFromText('ns.example.com.')),
    rec('@', Type.RRSIG, rrsig(Type.SOA, 1), 300),
    rec('www', Type.A, Buffer.from([192, 0, 2, 1]), 300),
    rec('www', Type.RRSIG, rrsig(Type.A, 1), 300),
    rec('www', Type.TXT, Buffer.from([1, 0x61]), 3600),
    rec('www', Type.RRSIG, rrsig(Type.TXT, 1), 3600),
  ]);
  const next = applyChangesets(z, [cs(1, [rec('www', Type.RRSIG, rrsig(Type.A, 1), 300)], [rec('www', Type.RRSIG, rrsig(Type.A, 2), 300), rec('www', Type.A, Buffer.from([192, 0, 2, 2]), 300)])]);
  const www = childByKey(next.apex, 'www')!;
  t.same(rdataOf(getRRset(www, Type.A)!.sigs!).map((d) => d.readUInt16BE(16)), [2], 're-signed A');
  t.equal(getRRset(www, Type.A)!.sigs!.ttl, 300);
  t.equal(getRRset(www, Type.TXT)!.sigs, getRRset(childByKey(z.apex, 'www')!, Type.TXT)!.sigs, 'unchanged signatures shared, TTL kept');
  t.ok(next.soa.sigs, 'the new SOA keeps the signature of the apex');
  t.same(rdataOf(getRRset(childByKey(z.apex, 'www')!, Type.A)!.sigs!).map((d) => d.readUInt16BE(16)), [1], 'old snapshot untouched');
});

t.test('cost: a 1-record change to a 200k-record zone shares all but the changed path', async (t) => {
  const recs: ResourceRecord[] = [soaRec(10), rec('@', Type.NS, nameFromText('ns.example.com.'))];
  for (let i = 0; i < 200_000; i++) recs.push(rec(`h${i}.s${i % 300}`, Type.A, Buffer.from([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])));
  const z = buildZone(ORIGIN, recs);
  const t0 = performance.now();
  const next = applyChangesets(z, [cs(10, [rec('h5.s5', Type.A, Buffer.from([10, 0, 0, 5]))], [rec('h5.s5', Type.A, Buffer.from([10, 0, 0, 6]))])]);
  t.comment(`1-record change on ${z.records} records: ${(performance.now() - t0).toFixed(2)} ms`);
  t.equal(next.records, z.records);
  t.equal(firstRdata(getRRset(childByKey(childByKey(next.apex, 's5')!, 'h5')!, Type.A)!)[3], 6);
  t.equal(firstRdata(getRRset(childByKey(childByKey(z.apex, 's5')!, 'h5')!, Type.A)!)[3], 5);
  t.equal(childByKey(next.apex, 's6'), childByKey(z.apex, 's6'), 'sibling subtree shared');
  t.equal(childByKey(childByKey(next.apex, 's5')!, 'h305'), childByKey(childByKey(z.apex, 's5')!, 'h305'), 'sibling leaf shared');
  t.not(childByKey(next.apex, 's5'), childByKey(z.apex, 's5'), 'the changed path is copied');
});

t.test('a class other than IN is refused, the zone untouched', async (t) => {
  const z = buildZone(ORIGIN, [soaRec(1), rec('@', Type.NS, nameFromText('ns.example.com.'))]);
  t.throws(() => applyChangesets(z, [cs(1, [], [{ ...rec('a', Type.A, Buffer.from([1, 2, 3, 4])), class: Class.CH }])]), ChangesetError);
  t.equal(z.serial, 1);
});
