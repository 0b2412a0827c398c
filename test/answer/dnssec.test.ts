// DNSSEC answer logic without sockets: NSEC3 hashing (RFC 5155 Appendix A vectors), the closest
// encloser proof (RFC 5155 7.2.1-7.2.2) checked against hashes computed here, NSEC covering
// (RFC 4035 3.1.3), per-snapshot caches rebuilt after a changeset, and the response cache keyed on DO.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import t from 'tap';
import { Responder } from '../../src/answer/responder.js';
import { Type } from '../../src/wire/constants.js';
import { nameFromText, nameToLower } from '../../src/wire/name.js';
import { applyChangesets } from '../../src/zone/changeset.js';
import { base32hex, DENIAL_NONE, DENIAL_NSEC, DENIAL_NSEC3, nsec3Hash, nsecCovering, sha1 } from '../../src/zone/dnssec.js';
import { buildZone, type Zone } from '../../src/zone/zone.js';
import { ZoneTable } from '../../src/zone/zone-table.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { parseMessage, type ParsedMessage } from '../helpers/compare.js';
import { buildQuery } from '../helpers/dnsclient.js';
import { makeKeys, signZone } from '../helpers/signzone.js';
import { firstRdata, getRRset, nodeKey, nodeName } from '../../src/zone/node.js';

t.test('SHA-1 (FIPS 180-4) agrees with node:crypto for every input length NSEC3 hashing can give', async (t) => {
  let bad = 0;
  const out = Buffer.alloc(20);
  for (let len = 0; len <= 510; len++) {
    const b = randomBytes(len);
    sha1(b, len, out);
    if (!out.equals(createHash('sha1').update(b).digest())) bad++;
  }
  t.equal(bad, 0, 'lengths 0 to 510 (one to nine blocks, every padding case)');
  sha1(Buffer.from('abc'), 3, out);
  t.equal(out.toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d', 'FIPS 180 example "abc"');
});

t.test('RFC 5155 Appendix A: NSEC3 hashes of the example zone (salt aabbccdd, 12 iterations)', async (t) => {
  const salt = Buffer.from('aabbccdd', 'hex');
  const vectors: [string, string][] = [
    ['example', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
    ['a.example', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
    ['ai.example', 'gjeqe526plbf1g8mklp59enfd789njgi'],
    ['ns1.example', '2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
    ['ns2.example', 'q04jkcevqvmu85r014c7dkba38o0ji5r'],
    ['w.example', 'k8udemvp1j2f7eg6jebps17vp3n8i58h'],
    ['*.w.example', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
    ['x.w.example', 'b4um86eghhds6nea196smvmlo4ors995'],
    ['y.w.example', 'ji6neoaepv8b5o6k4ev33abha8ht9fgc'],
    ['x.y.w.example', '2vptu5timamqttgl4luu9kg21e0aor3s'],
    ['xx.example', 't644ebqk9bibcna874givr6joj62mlhv'],
  ];
  for (const [name, want] of vectors) {
    t.equal(base32hex(nsec3Hash(nameToLower(nameFromText(`${name}.`)), salt, 12)), want, name);
  }
  // Hashing is of the canonical (lower-case) form: callers lower-case first.
  t.equal(base32hex(nsec3Hash(nameToLower(nameFromText('A.EXAMPLE.')), salt, 12)), '35mthgpgcu1qg68fab165klnsnk3dpvl', 'case-insensitive via the canonical form');
  // RFC 4648 10 test vectors, base32hex without padding, lower case.
  t.equal(base32hex(Buffer.from('foobar')), 'cpnmuoj1e8');
  t.equal(base32hex(Buffer.from('f')), 'co');
});

const ZONE = `$ORIGIN example.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
a A 192.0.2.2
b.c A 192.0.2.3
*.w A 192.0.2.4
x.w TXT "x"
sub NS ns.sub
ns.sub A 192.0.2.5
`;

interface Signed {
  nsec: Zone;
  nsec3: Zone;
  text3: string;
}

async function signedZones(): Promise<Signed & { dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dnssec-unit-'));
  const keys = await makeKeys(dir, 'example.');
  const origin = nameFromText('example.');
  const text1 = await signZone(keys, ZONE, { denial: 'nsec', out: 'nsec.zone' });
  const text3 = await signZone(keys, ZONE, { denial: 'nsec3', out: 'nsec3.zone', salt: 'aabbccdd', iterations: 12 });
  return { dir, nsec: buildZone(origin, parseZone(text1, { origin })), nsec3: buildZone(origin, parseZone(text3, { origin })), text3 };
}

function ask(zone: Zone, name: string, type: number, dnssecOk = true): ParsedMessage {
  const table = new ZoneTable();
  table.publish(zone);
  const r = new Responder(table, { udpPayload: 1232 });
  const q = buildQuery({ name, type }, { do: dnssecOk, payload: 4096 });
  return parseMessage(r.answer(q, q.length, true)!);
}

const h = (name: string): string => base32hex(nsec3Hash(nameToLower(nameFromText(name)), Buffer.from('aabbccdd', 'hex'), 12));
const owners = (m: ParsedMessage, type: number): string[] => m.authority.filter((rr) => rr.type === type).map((rr) => rr.name.split('.')[0]!.toLowerCase()).sort();
/** Does the NSEC3 RDATA of `rr` cover `hash` (owner < hash < next, or the last one wrapping)? */
function covers(owner: string, rdata: Buffer, hash: string): boolean {
  const saltLen = rdata[4]!;
  const hashLen = rdata[5 + saltLen]!;
  const next = base32hex(rdata.subarray(6 + saltLen, 6 + saltLen + hashLen));
  return owner < next ? owner < hash && hash < next : hash > owner || hash < next;
}

t.test('closest encloser proofs and NSEC coverage on ldns-signed zones', async (t) => {
  const z = await signedZones();
  t.teardown(() => rmSync(z.dir, { recursive: true, force: true }));
  t.equal(z.nsec.dnssec.denial, DENIAL_NSEC, 'NSEC zone recognized');
  t.equal(z.nsec3.dnssec.denial, DENIAL_NSEC3, 'NSEC3 zone recognized');
  t.equal(z.nsec3.dnssec.iterations, 12);
  t.equal(z.nsec3.dnssec.salt.toString('hex'), 'aabbccdd');
  // Authoritative names and the empty non-terminal c, not ns.sub (occluded): RFC 5155 7.1.
  t.equal(z.nsec3.dnssec.chainLength, 9, 'the NSEC3 chain: apex, ns1, a, c, b.c, w, *.w, x.w, sub');

  // RFC 5155 7.2.2: NXDOMAIN for q.b.c: closest encloser b.c (matching NSEC3), next closer q.b.c
  // (covered), wildcard *.b.c (covered).
  let m = ask(z.nsec3, 'q.b.c.example.', Type.A);
  t.equal(m.rcode, 3, 'NXDOMAIN');
  const nsec3 = m.authority.filter((rr) => rr.type === Type.NSEC3);
  t.ok(nsec3.some((rr) => rr.name.split('.')[0]!.toLowerCase() === h('b.c.example.')), 'an NSEC3 matches the closest encloser b.c');
  t.ok(nsec3.some((rr) => covers(rr.name.split('.')[0]!.toLowerCase(), rr.rdata, h('q.b.c.example.'))), 'an NSEC3 covers the next closer name');
  t.ok(nsec3.some((rr) => covers(rr.name.split('.')[0]!.toLowerCase(), rr.rdata, h('*.b.c.example.'))), 'an NSEC3 covers the wildcard at the closest encloser');
  t.ok(nsec3.length >= 2 && nsec3.length <= 3, 'two or three NSEC3 records (one may do two jobs)');
  t.equal(m.authority.filter((rr) => rr.type === Type.RRSIG).length, nsec3.length + 1, 'each with its RRSIG, and the SOA RRSIG');

  // A deeper miss: closest encloser the empty non-terminal c, next closer y.c.
  m = ask(z.nsec3, 'x.y.c.example.', Type.A);
  t.ok(owners(m, Type.NSEC3).includes(h('c.example.')), 'the empty non-terminal c is the closest encloser (it has an NSEC3)');
  t.ok(m.authority.some((rr) => rr.type === Type.NSEC3 && covers(rr.name.split('.')[0]!.toLowerCase(), rr.rdata, h('y.c.example.'))), 'next closer y.c covered');

  // RFC 5155 7.2.6: wildcard answer: the NSEC3 covering the next closer name, nothing matching.
  m = ask(z.nsec3, 'foo.w.example.', Type.A);
  t.equal(m.answer.filter((rr) => rr.type === Type.RRSIG).length, 1, 'the expanded A with its RRSIG');
  t.same(m.authority.map((rr) => rr.type).sort(), [Type.RRSIG, Type.NSEC3], 'one NSEC3 and its RRSIG');
  t.ok(covers(m.authority.find((rr) => rr.type === Type.NSEC3)!.name.split('.')[0]!.toLowerCase(), m.authority.find((rr) => rr.type === Type.NSEC3)!.rdata, h('foo.w.example.')), 'covering the next closer foo.w');

  // NSEC3 owners are not names of the zone.
  m = ask(z.nsec3, `${h('a.example.')}.example.`, Type.NSEC3);
  t.equal(m.rcode, 3, 'a query for an NSEC3 owner is NXDOMAIN');

  // RFC 4035 3.1.3.2 on the NSEC zone: NXDOMAIN for aa (between a and b.c) gets the NSEC of a.
  m = ask(z.nsec, 'aa.example.', Type.A);
  t.ok(m.authority.some((rr) => rr.type === Type.NSEC && rr.name.toLowerCase() === 'a.example.'), 'the NSEC of a covers aa');
  t.ok(m.authority.some((rr) => rr.type === Type.NSEC && rr.name.toLowerCase() === 'example.'), 'the apex NSEC covers *.example');
  // nsecCovering skips empty non-terminals and glue.
  const apex = z.nsec.apex;
  const lower = nameToLower(nameFromText('zz.b.c.example.'));
  const starts = new Int32Array([0, 3, 5, 7]);
  t.equal(nodeName(nsecCovering(apex, lower, starts, 0, 4, 1, false, true)!).toString('latin1').toLowerCase(), nameFromText('b.c.example.').toString('latin1'), 'zz.b.c is covered by b.c');
  t.equal(nodeName(nsecCovering(apex, lower, starts, 2, 4, 1, false, true)!).toString('latin1').toLowerCase(), nameFromText('a.example.').toString('latin1'), 'the empty non-terminal c: the NSEC before it is a\'s');
  const below = nameToLower(nameFromText('zz.sub.example.'));
  t.equal(nodeName(nsecCovering(apex, below, new Int32Array([0, 3, 7]), 0, 3, 1, false, true)!).toString('latin1').toLowerCase(), nameFromText('sub.example.').toString('latin1'), 'below a cut: the cut\'s NSEC, not the glue');

  // Without DO: no DNSSEC records unless asked for by type.
  m = ask(z.nsec3, 'q.b.c.example.', Type.A, false);
  t.same(m.authority.map((rr) => rr.type), [Type.SOA], 'DO=0: the SOA alone');
  m = ask(z.nsec3, 'a.example.', Type.A, false);
  t.same(m.answer.map((rr) => rr.type), [Type.A], 'DO=0: no RRSIG with the answer');
});

t.test('an IXFR changeset gives a snapshot with its own NSEC3 data; the cache keys on DO', async (t) => {
  const z = await signedZones();
  t.teardown(() => rmSync(z.dir, { recursive: true, force: true }));
  const origin = nameFromText('example.');
  const old = z.nsec3;
  t.equal(old.dnssec.chainLength, 9, 'chain built on the old snapshot');
  // Remove the NSEC3PARAM (and its RRSIG): without it the new snapshot has no denial chain to use.
  const records = parseZone(z.text3, { origin });
  const removed = records.filter((rr) => rr.type === Type.NSEC3PARAM || (rr.type === Type.RRSIG && rr.rdata.readUInt16BE(0) === Type.NSEC3PARAM));
  const soa = records.find((rr) => rr.type === Type.SOA)!;
  const toSoa = { ...soa, rdata: Buffer.from(soa.rdata) };
  toSoa.rdata.writeUInt32BE(2, toSoa.rdata.length - 20);
  const next = applyChangesets(old, [{ fromSerial: 1, toSerial: 2, fromSoa: soa, toSoa, removed, added: [] }]);
  t.equal(next.dnssec.denial, DENIAL_NONE, 'the new snapshot has no NSEC3PARAM: no denial chain');
  t.equal(old.dnssec.denial, DENIAL_NSEC3, 'the old snapshot keeps its own');
  // And back, with a new record: the chain of the newer snapshot sees the new NSEC3 owner.
  const hash = h('new.example.');
  const nsec3Rdata = Buffer.from(firstRdata(getRRset(old.dnssec.match(h('a.example.'))!, Type.NSEC3)!));
  const toSoa3 = { ...soa, rdata: Buffer.from(soa.rdata) };
  toSoa3.rdata.writeUInt32BE(3, toSoa3.rdata.length - 20);
  const third = applyChangesets(next, [{ fromSerial: 2, toSerial: 3, fromSoa: toSoa, toSoa: toSoa3, removed: [], added: [...removed, { owner: nameFromText(`${hash}.example.`), type: Type.NSEC3, class: 1, ttl: 300, rdata: nsec3Rdata }] }]);
  t.equal(third.dnssec.denial, DENIAL_NSEC3);
  t.equal(third.dnssec.chainLength, 10, 'the added NSEC3 is in the new snapshot\'s chain');
  t.equal(old.dnssec.chainLength, 9, 'and not in the old one\'s');
  t.ok(third.dnssec.match(hash), 'found by its hash');

  // One responder, the same question with and without DO: two different cached answers.
  const table = new ZoneTable();
  table.publish(old);
  const r = new Responder(table, { udpPayload: 1232 });
  const q = (dnssecOk: boolean): ParsedMessage => {
    const b = buildQuery({ name: 'a.example.', type: Type.A }, { do: dnssecOk });
    return parseMessage(r.answer(b, b.length, false)!);
  };
  for (let i = 0; i < 2; i++) {
    t.equal(q(true).answer.length, 2, 'DO=1: A and RRSIG');
    t.equal(q(false).answer.length, 1, 'DO=0: A alone');
  }
  t.equal(r.stats.cacheHits, 2, 'both came from the cache the second time');
});

t.test('a zone missing NSECs does not make the covering-NSEC search walk it all', async (t) => {
  const origin = nameFromText('big.');
  const lines = ['$ORIGIN big.', '$TTL 60', '@ SOA ns h 1 2 3 4 5', '@ NS ns', 'ns A 192.0.2.1', '@ NSEC ns.big. NS SOA RRSIG NSEC', 'ns NSEC big. A RRSIG NSEC'];
  for (let i = 0; i < 5000; i++) lines.push(`n${i}.x A 192.0.2.2`);
  const zone = buildZone(origin, parseZone(lines.join('\n') + '\n', { origin }));
  const lower = nameToLower(nameFromText('zzz.big.'));
  const starts = new Int32Array([0, 4]);
  t.equal(nsecCovering(zone.apex, lower, starts, 0, 2, 1, false, true), undefined, 'gives up (no proof) instead of visiting 5000 names');
  const near = nameToLower(nameFromText('nz.big.'));
  t.equal(nodeKey(nsecCovering(zone.apex, near, new Int32Array([0, 3]), 0, 2, 1, false, true)!), 'ns', 'a well-formed neighbourhood still answers');
});

t.test('a zone with RRSIGs but neither NSEC nor NSEC3 is served as unsigned', async (t) => {
  const z = await signedZones();
  t.teardown(() => rmSync(z.dir, { recursive: true, force: true }));
  const origin = nameFromText('example.');
  const records = parseZone(z.text3, { origin }).filter((rr) => rr.type !== Type.NSEC3 && rr.type !== Type.NSEC3PARAM);
  const zone = buildZone(origin, records);
  t.equal(zone.dnssec.denial, DENIAL_NONE);
  const m = ask(zone, 'a.example.', Type.A);
  t.same(m.answer.map((rr) => rr.type), [Type.A], 'DO=1: no RRSIG');
  t.same(ask(zone, 'nothere.example.', Type.A).authority.map((rr) => rr.type), [Type.SOA], 'DO=1: no proof, no RRSIG');
  t.equal(ask(zone, 'a.example.', Type.RRSIG, false).answer.length, 1, 'an RRSIG asked for by type is still answered');
});
