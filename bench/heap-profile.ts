// Where a zone's memory goes: builds a 200k-record zone (A/AAAA/MX names, delegations with glue),
// drops everything else, takes a heap snapshot and prints the heap per record by object kind
// ('native' is mostly the zone's slabs of names and records).
//
//   node --expose-gc --import=tsx bench/heap-profile.ts     (writes /tmp/heap/z.heapsnapshot)

import v8 from 'node:v8';
import { mkdirSync, readFileSync } from 'node:fs';
import { nameFromText } from '../src/wire/name.js';
import { buildZone } from '../src/zone/zone.js';
import { parseZone } from '../src/zonefile/reader.js';
const N = 200_000;
let lines: string[] | null = ['$ORIGIN bench.test.', '$TTL 3600', '@ SOA ns1 hostmaster 1 3600 600 864000 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
for (let i = 0; lines!.length < N; i++) {
  if (i % 50 === 0) { lines!.push(`d${i} NS ns.d${i}`, `ns.d${i} A 198.51.100.${i % 250}`); continue; }
  lines!.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `h${i} AAAA 2001:db8::${(i & 0xffff).toString(16)}`);
  if (i % 3 === 0) lines!.push(`h${i} MX 10 h${i + 1}`);
}
const origin = nameFromText('bench.test.');
let recs: any = parseZone(lines!.join('\n') + '\n', { origin });
lines = null;
const z = buildZone(origin, recs);
recs = null;
(globalThis as any).gc();
mkdirSync('/tmp/heap', { recursive: true });
const file = v8.writeHeapSnapshot('/tmp/heap/z.heapsnapshot');
const snap = JSON.parse(readFileSync(file, 'utf8'));
const m = snap.snapshot.meta; const nf = m.node_fields.length; const nodes = snap.nodes; const strings = snap.strings;
const ti = m.node_fields.indexOf('type'), ni = m.node_fields.indexOf('name'), si = m.node_fields.indexOf('self_size');
const types = m.node_types[0];
const by = new Map<string, [number, number]>();
for (let i = 0; i < nodes.length; i += nf) { const t = types[nodes[i + ti]]; const name = t === 'object' || t === 'closure' ? strings[nodes[i + ni]] : t; const e = by.get(name) ?? [0, 0]; e[0]++; e[1] += nodes[i + si]; by.set(name, e); }
const rows = [...by].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15);
for (const [k, [c, s]] of rows) console.log(k.padEnd(30), String(c).padStart(9), (s / z.records).toFixed(1).padStart(8), 'B/record');
console.log('records', z.records);
