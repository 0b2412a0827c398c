// One-record IXFR apply and child lookup on a very wide node: the 1M-record zone of big-zone.ts,
// whose apex has about 750k children.
//
//   node --import=tsx --expose-gc bench/ixfr-apply.ts [records]     (default: 1000000)
//
// - IXFR apply: 20 successive changesets, each applied (applyChangesets) to the previous result:
//   a new name under the apex is added and the only record of another name there deleted (so the
//   apex gains one child and loses one), SOA serial +1. Prints the median and the slowest (garbage
//   collection included: no forced GC between the changes).
// - findChild(): 1M findChild(apex, ...) calls each on existing and on missing labels (missing ones sort among
//   the existing, so every search runs its full depth), on the zone as built and after the changes.

import { fileURLToPath } from 'node:url';
import { Class, Type } from '../src/wire/constants.js';
import { nameFromText } from '../src/wire/name.js';
import type { ResourceRecord } from '../src/wire/record.js';
import { applyChangesets } from '../src/zone/changeset.js';
import type { Changeset } from '../src/zone/changeset.js';
import { childByKey, childCount, findChild, firstRdata, getRRset, type ZoneNode } from '../src/zone/node.js';
import { buildZone } from '../src/zone/zone.js';
import type { Zone } from '../src/zone/zone.js';
import { parseZone } from '../src/zonefile/reader.js';
import { BIG_ZONE, bigZone } from './big-zone.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc && process.argv[1] === fileURLToPath(import.meta.url)) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const ORIGIN = nameFromText(BIG_ZONE);
const CHANGES = 20;
const LOOKUPS = 1_000_000;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function soaRecord(zone: Zone, serial: number): ResourceRecord {
  const rdata = Buffer.from(firstRdata(zone.soa));
  rdata.writeUInt32BE(serial, rdata.length - 20);
  return { owner: ORIGIN, type: Type.SOA, class: Class.IN, ttl: zone.soa.ttl, rdata };
}

/** Change `i` to `zone`: add the name new<i>, delete the TXT of t<4i+3> (its only record). */
function change(zone: Zone, i: number): Changeset {
  const gone = getRRset(childByKey(zone.apex, `t${4 * i + 3}`)!, Type.TXT)!;
  return {
    fromSerial: zone.serial,
    toSerial: zone.serial + 1,
    fromSoa: soaRecord(zone, zone.serial),
    toSoa: soaRecord(zone, zone.serial + 1),
    removed: [{ owner: nameFromText(`t${4 * i + 3}`, ORIGIN), type: Type.TXT, class: Class.IN, ttl: gone.ttl, rdata: firstRdata(gone) }],
    added: [{ owner: nameFromText(`new${i}`, ORIGIN), type: Type.A, class: Class.IN, ttl: 60, rdata: Buffer.from([192, 0, 2, i & 255]) }],
  };
}

/** `labels` as [length][lower-cased octets] runs in one Buffer, and each one's offset. */
function packLabels(labels: string[]): { buf: Buffer; at: Int32Array } {
  const buf = Buffer.alloc(labels.reduce((n, l) => n + 1 + l.length, 0));
  const at = new Int32Array(labels.length);
  let o = 0;
  labels.forEach((l, i) => {
    at[i] = o;
    buf[o] = l.length;
    buf.write(l, o + 1, 'latin1');
    o += 1 + l.length;
  });
  return { buf, at };
}

/** ns per findChild(apex, ...) over `labels` (a power of two of them), best of 5 rounds of LOOKUPS; `hits` checked. */
function timeFind(apex: ZoneNode, labels: string[], hits: boolean): number {
  const { buf, at } = packLabels(labels);
  const mask = labels.length - 1;
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    let found = 0;
    const t0 = performance.now();
    for (let i = 0; i < LOOKUPS; i++) if (findChild(apex, buf, at[i & mask]!) !== undefined) found++;
    const ns = ((performance.now() - t0) * 1e6) / LOOKUPS;
    if (found !== (hits ? LOOKUPS : 0)) throw new Error(`find: ${found} found`);
    // Round 0 warms up.
    if (round > 0) best = Math.min(best, ns);
  }
  return best;
}

function findBench(label: string, zone: Zone, names: number): void {
  // Existing names h<4j>, m<4j+2>, t<4j+3> for j below the changed ones; missing: h<4j+1> etc.
  const present: string[] = [];
  const missing: string[] = [];
  for (let i = 0; present.length < 4096; i++) {
    const j = CHANGES + ((i * 7919) % (names - CHANGES));
    present.push(['h', 'm', 't'][i % 3]! + (4 * j + [0, 2, 3][i % 3]!));
    missing.push(['h', 'm', 't'][i % 3]! + (4 * j + 1));
  }
  const hit = timeFind(zone.apex, present, true);
  const miss = timeFind(zone.apex, missing, false);
  console.log(`findChild(apex) ${label}: ${hit.toFixed(1)} ns existing, ${miss.toFixed(1)} ns missing (best of 5 x ${LOOKUPS})`);
}

const n = Number(process.argv[2] ?? 1_000_000);
let t0 = performance.now();
const zone0 = buildZone(ORIGIN, parseZone(bigZone(n, 1), { origin: ORIGIN }));
console.log(`${zone0.records} records, ${childCount(zone0.apex)} children of the apex: parsed + built in ${(performance.now() - t0).toFixed(0)} ms`);
const groups = Math.floor((childCount(zone0.apex) - 1) / 3);
findBench('as built', zone0, groups);

let zone = zone0;
const times: number[] = [];
gc!();
for (let i = 0; i < CHANGES; i++) {
  const cs = change(zone, i);
  t0 = performance.now();
  const next = applyChangesets(zone, [cs]);
  times.push(performance.now() - t0);
  if (next.serial !== zone.serial + 1 || childByKey(next.apex, `new${i}`) === undefined || childByKey(next.apex, `t${4 * i + 3}`) !== undefined) {
    throw new Error('apply failed');
  }
  zone = next;
}
console.log(`IXFR apply (1 name added + 1 deleted under the apex): median ${median(times).toFixed(2)} ms, slowest ${Math.max(...times).toFixed(2)} ms (${CHANGES} successive changes)`);
findBench(`after ${CHANGES} changes`, zone, groups);
