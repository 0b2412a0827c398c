// Wide nodes (more than CHUNK_MAX children, kept as Chunks): lookups, canonical order, ranks, IXFR
// edits that split, empty and join chunks, a '*' child, shrinking back to one array and growing again,
// NSEC denial across chunks; after every edit the old snapshot is exactly as it was.

import t from 'tap';
import type { Test } from 'tap';
import { Type } from '../../src/wire/constants.js';
import { nameFromText, nameToLower } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { applyChangesets } from '../../src/zone/changeset.js';
import { nsecCovering } from '../../src/zone/dnssec.js';
import {
  childAt,
  childByKey,
  childCount,
  childIndex,
  childrenBefore,
  CHUNK,
  CHUNK_MAX,
  Chunks,
  findChild,
  getRRset,
  NODE_WILDCARD,
  nodeKey,
  nodeName,
  wildcardChild,
  type ZoneNode,
} from '../../src/zone/node.js';
import { buildZone } from '../../src/zone/zone.js';
import type { Zone } from '../../src/zone/zone.js';
import { answers, dump, ORIGIN, prng, recordBytes, rec, shuffle, soaRec } from './util.js';

const ADDR = Buffer.from([192, 0, 2, 1]);
const NS = rec('@', Type.NS, nameFromText('ns.example.com.'));
const under = (label: string): ResourceRecord => rec(`${label}.wide`, Type.A, ADDR);

/** Canonical order of labels (lower-case, so their octets). */
const sorted = (labels: Iterable<string>): string[] => [...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** [length][label] of a lower-case label, for findChild() and childrenBefore(). */
const wire = (label: string): Buffer => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')]);

/** Number of `keys` before `key` (counted one by one: an oracle with no search of its own). */
function rank(keys: readonly string[], key: string): number {
  let n = 0;
  for (const k of keys) if (k < key) n++;
  return n;
}

const chunks = (node: ZoneNode): Chunks => {
  if (!(node.kids instanceof Chunks)) throw new Error(`${nodeKey(node)}: not chunked`);
  return node.kids;
};

/**
 * `node`'s children are exactly `labels`: in canonical order by childAt, each found by findChild() and
 * ranked by childrenBefore() and childIndex(); labels around them (before, between, after) are not found and
 * ranked where they would go. Also checks every invariant dump() does.
 */
function checkChildren(t: Test, zone: Zone, node: ZoneNode, labels: Iterable<string>, what: string): void {
  dump(zone);
  const want = sorted(labels);
  const got = Array.from({ length: childCount(node) }, (_, i) => nodeKey(childAt(node, i)));
  t.ok(got.join() === want.join(), `${what}: children in canonical order`);
  const present = new Set(want);
  let bad = 0;
  want.forEach((l, i) => {
    const c = findChild(node, wire(l), 0);
    if (c === undefined || nodeKey(c) !== l || childrenBefore(node, wire(l), 0) !== i || childIndex(node, c) !== i) bad++;
    for (const miss of [`${l}-`, l.slice(0, -1)]) {
      if (present.has(miss)) continue;
      if (findChild(node, wire(miss), 0) !== undefined) bad++;
      if (childrenBefore(node, wire(miss), 0) !== rank(want, miss)) bad++;
    }
  });
  for (const miss of ['!', '~~']) if (findChild(node, wire(miss), 0) !== undefined) bad++;
  t.equal(bad, 0, `${what}: ${want.length} children found and ranked, missing labels not found`);
}

/** An IXFR step: the result, with the old snapshot checked unchanged (every record and node). */
function apply(t: Test, zone: Zone, removed: ResourceRecord[], added: ResourceRecord[], what: string): Zone {
  const before = { records: recordBytes(zone).join('\n'), dump: JSON.stringify(dump(zone)) };
  const serial = zone.serial;
  const next = applyChangesets(zone, [{ fromSerial: serial, toSerial: serial + 1, fromSoa: soaRec(serial), toSoa: soaRec(serial + 1), removed, added }]);
  t.ok(recordBytes(zone).join('\n') === before.records && JSON.stringify(dump(zone)) === before.dump, `${what}: the old snapshot is unchanged`);
  return next;
}

const labelsOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}`);

t.test('a node of thousands of children, built out of order: chunked, every child found in order', async (t) => {
  const labels = labelsOf(5000);
  const z = buildZone(ORIGIN, [soaRec(1), NS, ...shuffle(prng(7), labels).map(under), rec('x.n17.wide', Type.TXT, Buffer.from([1, 0x61]))]);
  const wide = childByKey(z.apex, 'wide')!;
  const k = chunks(wide);
  t.equal(k.parts.length, Math.ceil(5000 / CHUNK), 'chunks of at most CHUNK');
  t.ok(k.parts.every((p) => p.length >= CHUNK / 2 && p.length <= CHUNK));
  t.equal(childCount(wide), 5000);
  checkChildren(t, z, wide, labels, 'as built');
  t.equal(getRRset(childByKey(childByKey(wide, 'n17')!, 'x')!, Type.TXT)!.count, 1, 'the subtree below a child');
  t.equal(z.apex.kids, wide, 'a node of one child holds it inline');
  // Exactly CHUNK_MAX children: one array still.
  const edge = buildZone(ORIGIN, [soaRec(1), NS, ...labelsOf(CHUNK_MAX).map(under)]);
  t.ok(Array.isArray(childByKey(edge.apex, 'wide')!.kids), `${CHUNK_MAX} children: one array`);
});

t.test('IXFR edits of a wide node: splits, emptied and joined chunks; the old snapshot unchanged', async (t) => {
  const names = new Set(labelsOf(3000));
  let z = buildZone(ORIGIN, [soaRec(1), NS, ...[...names].map(under)]);
  const first = z;
  const count = (): number => chunks(childByKey(z.apex, 'wide')!).parts.length;
  const step = (removed: string[], added: string[], what: string): void => {
    z = apply(t, z, removed.map(under), added.map(under), what);
    for (const l of removed) names.delete(l);
    for (const l of added) names.add(l);
    checkChildren(t, z, childByKey(z.apex, 'wide')!, names, what);
  };

  // Names that all sort into one chunk (between n2000 and n2001): small IXFRs, then a big one.
  const before = count();
  for (let i = 0; i < 4; i++) step([], Array.from({ length: 300 }, (_, j) => `n2000-${i}-${j}`), `300 names into one chunk (${i})`);
  step([], Array.from({ length: 2500 }, (_, j) => `n2000-x${j}`), '2500 names into one chunk in one IXFR');
  t.ok(count() > before + 3, `the chunk was split (${before} -> ${count()} chunks)`);

  // Every name of one chunk deleted: the chunk goes.
  const k = chunks(childByKey(z.apex, 'wide')!);
  const gone = k.parts[3]!.map((c) => nodeKey(c));
  const n = count();
  step(gone, [], `the ${gone.length} names of chunk 3 deleted`);
  t.equal(count(), n - 1, 'the emptied chunk is gone');

  // All but one name of two neighbouring chunks deleted: what is left joins a neighbour.
  const k2 = chunks(childByKey(z.apex, 'wide')!);
  const two = [...k2.parts[5]!.slice(1), ...k2.parts[6]!.slice(1)].map((c) => nodeKey(c));
  const m = count();
  step(two, [], 'all but the first names of chunks 5 and 6 deleted');
  t.ok(count() <= m - 1, `small chunks joined (${m} -> ${count()} chunks)`);

  // A one-name change copies the index and one chunk, shares every other chunk.
  const old = chunks(childByKey(z.apex, 'wide')!);
  const last = nodeKey(old.parts[old.parts.length - 1]![1]!);
  step([last], [`${last}-b`], 'one name replaced');
  const now = chunks(childByKey(z.apex, 'wide')!);
  const shared = now.parts.filter((p) => old.parts.includes(p)).length;
  t.equal(shared, now.parts.length - 1, 'all chunks but one shared with the old snapshot');
  t.not(now, old, 'the index is a copy');

  t.same(dump(first), dump(buildZone(ORIGIN, [soaRec(1), NS, ...labelsOf(3000).map(under)])), 'the first snapshot is still the zone it was built as');
});

t.test("the '*' child of a wide node", async (t) => {
  const labels = labelsOf(2000);
  const z = buildZone(ORIGIN, [soaRec(1), NS, ...labels.map(under)]);
  const star = rec('*.wide', Type.A, Buffer.from([192, 0, 2, 42]));
  const withStar = apply(t, z, [], [star], "'*' added");
  const wide = childByKey(withStar.apex, 'wide')!;
  t.ok(wide.flags & NODE_WILDCARD, 'the wildcard flag');
  t.equal(wildcardChild(wide), childByKey(wide, '*'));
  t.equal(chunks(wide).heads[0], childByKey(wide, '*'), "'*' sorts first: the new head of the first chunk");
  checkChildren(t, withStar, wide, ['*', ...labels], "with '*'");
  const questions = ['foo.wide', 'n5.wide', 'x.n5.wide', 'n5x.wide', '*.wide'].map((q) => ({ name: nameFromText(q, ORIGIN), type: Type.A }));
  t.same(answers(withStar, questions), answers(buildZone(ORIGIN, [soaRec(2), NS, star, ...labels.map(under)]), questions), 'answers as from a rebuild (synthesis from *.wide)');
  t.notOk(childByKey(z.apex, 'wide')!.flags & NODE_WILDCARD, 'the old snapshot has no wildcard');

  const noStar = apply(t, withStar, [star], [], "'*' deleted");
  t.notOk(childByKey(noStar.apex, 'wide')!.flags & NODE_WILDCARD, 'the flag goes with it');
  t.equal(wildcardChild(childByKey(noStar.apex, 'wide')!), null);
  checkChildren(t, noStar, childByKey(noStar.apex, 'wide')!, labels, "'*' deleted");
});

t.test('a wide node deleted down to a few children becomes one array, then chunked again', async (t) => {
  const names = new Set(labelsOf(2500));
  let z = buildZone(ORIGIN, [soaRec(1), NS, ...[...names].map(under)]);
  const rnd = prng(3);
  for (const keep of [1600, 700, CHUNK + 1, CHUNK, 100, 3, 1]) {
    const gone = shuffle(rnd, [...names]).slice(0, names.size - keep);
    z = apply(t, z, gone.map(under), [], `down to ${keep}`);
    for (const l of gone) names.delete(l);
    const wide = childByKey(z.apex, 'wide')!;
    checkChildren(t, z, wide, names, `${keep} children`);
    t.equal(wide.kids instanceof Chunks, keep > CHUNK, `${keep} children: ${keep > CHUNK ? 'chunked' : 'not chunked'}`);
  }
  t.notOk(Array.isArray(childByKey(z.apex, 'wide')!.kids), 'one child held inline');
  const more = labelsOf(3000).map((l) => `m${l}`);
  z = apply(t, z, [], more.map(under), `${more.length} added in one IXFR`);
  for (const l of more) names.add(l);
  checkChildren(t, z, childByKey(z.apex, 'wide')!, names, 'grown again');
  t.ok(childByKey(z.apex, 'wide')!.kids instanceof Chunks, 'chunked again');
});

t.test('NSEC denial below a wide node: the covering NSEC is the greatest name before, across chunks', async (t) => {
  const labels = sorted(labelsOf(3000));
  // Every third name owns an NSEC (the others are stepped over as names without one).
  const nsec = (l: string): ResourceRecord => rec(`${l}.wide`, Type.NSEC, Buffer.concat([nameFromText('next.example.com.'), Buffer.from([0, 1, 0x40])]));
  const owners = labels.filter((_, i) => i % 3 === 0);
  const z = buildZone(ORIGIN, [soaRec(1), NS, rec('wide', Type.NSEC, Buffer.concat([nameFromText('next.example.com.'), Buffer.from([0, 1, 0x40])])), ...labels.map(under), ...owners.map(nsec)]);
  t.ok(chunks(childByKey(z.apex, 'wide')!).parts.length > 4);
  const owning = new Set(owners);
  // The greatest label < target whose name owns an NSEC, else the wide node itself.
  const covering = (target: string): string => {
    for (let i = rank(labels, target) - 1; i >= 0; i--) if (owning.has(labels[i]!)) return `${labels[i]}.wide`;
    return 'wide';
  };
  let bad = 0;
  for (const l of labels) {
    for (const [target, strict] of [[`${l}-`, false], [l, true]] as const) {
      const name = nameFromText(`${target}.wide`, ORIGIN);
      const lower = nameToLower(name);
      const starts = new Int32Array([0, 1 + target.length, 6 + target.length, 14 + target.length]);
      const got = nsecCovering(z.apex, lower, starts, 0, 4, 2, false, strict);
      const want = nameToLower(nameFromText(covering(target), ORIGIN));
      if (got === undefined || !nameToLower(nodeName(got)).equals(want)) bad++;
    }
  }
  t.equal(bad, 0, `${labels.length * 2} names: covered by the NSEC before them`);
});
