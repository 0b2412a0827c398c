// Zone snapshot build, AXFR intake, IXFR apply and memory per record, on generated zones.
//
//   node --import=tsx --expose-gc bench/zone-build.ts [records...]     (default: 100000 1000000)
//
// For each size: a master file is generated (A/AAAA/MX/TXT over ~records/2 names, half of them
// straight under the apex, half under 1000 middle nodes) and parsed; then
//   - buildZone over the parsed records (file order: children arrive unsorted),
//   - an AXFR of the zone in canonical order (what Knot, NSD and BIND send) and one in file order,
//     pushed message by message into an AxfrSession: total time, the longest push (the longest the
//     event loop would be held) and the closing push (where the snapshot is finished),
//   - memory the AXFR-built zone holds, after a full GC: V8 heap plus Buffer backing stores, and RSS,
//   - a 1-record IXFR changeset applied to the big zone.

import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Class, Flag, Opcode, Type } from '../src/wire/constants.js';
import { encodeMessage } from '../src/wire/message.js';
import { nameFromText } from '../src/wire/name.js';
import type { ResourceRecord } from '../src/wire/record.js';
import { AxfrSession } from '../src/xfr/axfr-client.js';
import { applyChangesets } from '../src/zone/changeset.js';
import type { Changeset } from '../src/zone/changeset.js';
import { buildZone } from '../src/zone/zone.js';
import type { Zone } from '../src/zone/zone.js';
import { parseZone } from '../src/zonefile/reader.js';
import { prng } from '../test/helpers/prng.js';
import { childByKey, firstRdata, rrsetsOf } from '../src/zone/node.js';

const ORIGIN = nameFromText('bench.example.');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc && process.argv[1] === fileURLToPath(import.meta.url)) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

function fullGc(): void {
  for (let i = 0; i < 4; i++) gc!();
}


/** A master file of about `records` records: two per name, A/AAAA/MX/TXT. */
export function zoneText(records: number, seed = 1): string {
  const rnd = prng(seed);
  const lines = [
    '$ORIGIN bench.example.',
    '$TTL 3600',
    '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300',
    '@ IN NS ns1',
    '@ IN NS ns2',
    'ns1 IN A 192.0.2.1',
    'ns2 IN A 192.0.2.2',
  ];
  const types = ['A', 'AAAA', 'MX', 'TXT'];
  const names = Math.ceil((records - 5) / 2);
  for (let j = 0; j < names; j++) {
    const owner = j % 2 === 0 ? `w${j}` : `h${j}.g${j % 1000}`;
    const t1 = types[Math.floor(rnd() * 4)]!;
    let t2 = types[Math.floor(rnd() * 4)]!;
    if (t2 === t1 && t1 !== 'A') t2 = 'A';
    for (const [k, t] of [t1, t2].entries()) {
      const n = j * 2 + k;
      if (lines.length - 2 >= records) break;
      switch (t) {
        case 'A':
          lines.push(`${owner} A 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
          break;
        case 'AAAA':
          lines.push(`${owner} AAAA 2001:db8::${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`);
          break;
        case 'MX':
          lines.push(`${owner} MX ${n % 50} mx${n % 97}.mail.example.net.`);
          break;
        default:
          lines.push(`${owner} TXT "v=bench ${n.toString(36)}"`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** The records as AXFR messages of at most ~60 kB: SOA first and last. */
function axfrMessages(records: ResourceRecord[], soa: ResourceRecord): Buffer[] {
  const all = [soa, ...records.filter((r) => r.type !== Type.SOA), soa];
  const out: Buffer[] = [];
  let chunk: ResourceRecord[] = [];
  let size = 0;
  const flush = (): void => {
    const question = out.length === 0 ? [{ name: ORIGIN, type: Type.AXFR, class: Class.IN }] : [];
    out.push(encodeMessage({ id: 1, flags: Flag.QR | Flag.AA, opcode: Opcode.QUERY, rcode: 0, question, answer: chunk, authority: [], additional: [] }));
    chunk = [];
    size = 0;
  };
  for (const rr of all) {
    const bound = rr.owner.length + 10 + rr.rdata.length;
    if (size + bound > 60_000) flush();
    chunk.push(rr);
    size += bound;
  }
  flush();
  return out;
}

interface Intake {
  zone: Zone;
  totalMs: number;
  longestMs: number;
  lastMs: number;
  messages: number;
  /** Longest event-loop delay seen by a 5 ms timer during the intake (pushes and GC pauses). */
  loopMaxMs: number;
  /** Longest garbage-collection pause. */
  gcMaxMs: number;
}

async function axfr(msgs: Buffer[]): Promise<Intake> {
  const s = new AxfrSession({ zone: ORIGIN, id: 1, maxRecords: 10_000_000, maxBytes: 2_000_000_000 });
  let longest = 0;
  let last = 0;
  let gcMax = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  for (const m of msgs) {
    const a = performance.now();
    s.push(m);
    last = performance.now() - a;
    if (last > longest) longest = last;
    // A driver returns to the event loop between messages.
    await new Promise<void>((r) => setImmediate(r));
  }
  const a = performance.now();
  const r = await s.result();
  const resultMs = performance.now() - a;
  if (resultMs > longest) longest = resultMs;
  const totalMs = performance.now() - t0;
  await new Promise<void>((r) => setTimeout(r, 20));
  loop.disable();
  obs.disconnect();
  return { zone: r.zone, totalMs, longestMs: longest, lastMs: last + resultMs, messages: msgs.length, loopMaxMs: loop.max / 1e6, gcMaxMs: gcMax };
}

interface Mem {
  heap: number;
  buffers: number;
  rss: number;
}

function mem(): Mem {
  fullGc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
}

/** Memory a zone built from `msgs` holds, per record: measured in a frame of its own, so nothing else comes or goes. */
async function footprint(msgs: Buffer[]): Promise<{ heap: number; buffers: number }> {
  const before = mem();
  const zone = (await axfr(msgs)).zone;
  const after = mem();
  const recs = zone.records;
  return { heap: (after.heap - before.heap) / recs, buffers: (after.buffers - before.buffers) / recs };
}

const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;

async function run(n: number): Promise<void> {
  console.log(`\n== ${n} records ==`);
  let t0 = performance.now();
  const text = zoneText(n);
  let records: ResourceRecord[] | undefined = parseZone(text, { origin: ORIGIN });
  console.log(`generated + parsed ${records.length} records: ${fmt(performance.now() - t0)}`);

  t0 = performance.now();
  let zone: Zone | undefined = buildZone(ORIGIN, records);
  console.log(`buildZone (file order): ${fmt(performance.now() - t0)}`);

  const soa = records.find((r) => r.type === Type.SOA)!;
  const canonical = axfrMessages([...zone.allRecords()], soa);
  const fileOrder = axfrMessages(records, soa);
  zone = undefined;
  records = undefined;

  // One RRset of 20000 records (duplicate checks).
  const wide: ResourceRecord[] = [soa, { owner: ORIGIN, type: Type.NS, class: Class.IN, ttl: 3600, rdata: nameFromText('ns1', ORIGIN) }];
  for (let i = 0; i < 20_000; i++) wide.push({ owner: nameFromText('wide', ORIGIN), type: Type.A, class: Class.IN, ttl: 60, rdata: Buffer.from([10, i >> 16, (i >> 8) & 255, i & 255]) });
  t0 = performance.now();
  buildZone(ORIGIN, wide);
  console.log(`buildZone of one 20000-record RRset: ${fmt(performance.now() - t0)}`);

  for (const [label, msgs] of [['canonical order', canonical], ['file order', fileOrder]] as const) {
    let r: Intake | undefined = await axfr(msgs);
    console.log(
      `AXFR ${label}: ${r.messages} messages, total ${fmt(r.totalMs)}, longest push ${r.longestMs.toFixed(1)} ms, closing push + result ${r.lastMs.toFixed(1)} ms, ` +
        `longest event-loop delay ${r.loopMaxMs.toFixed(1)} ms, longest GC pause ${r.gcMaxMs.toFixed(1)} ms`,
    );
    if (label === 'canonical order') {
      zone = r.zone;
      r = undefined;
      const f = await footprint(msgs);
      console.log(`memory of the AXFR-built zone: V8 heap ${f.heap.toFixed(0)} B/record + Buffer stores ${f.buffers.toFixed(0)} B/record = ${(f.heap + f.buffers).toFixed(0)} B/record`);
    }
  }
  console.log(rssLine(n));

  // One record changed in the big zone: what an IXFR of a small edit costs.
  const z = zone!;
  const owner = nameFromText('w0', ORIGIN);
  const node = childByKey(z.apex, 'w0')!;
  const rrset = rrsetsOf(node).find((s) => s.type !== Type.SOA)!;
  const old: ResourceRecord = { owner, type: rrset.type, class: Class.IN, ttl: rrset.ttl, rdata: firstRdata(rrset) };
  const added: ResourceRecord = { owner: nameFromText('new-name.g7', ORIGIN), type: Type.A, class: Class.IN, ttl: 60, rdata: Buffer.from([192, 0, 2, 99]) };
  const soaRdata = (serial: number): Buffer => {
    const b = Buffer.from(firstRdata(z.soa));
    b.writeUInt32BE(serial, b.length - 20);
    return b;
  };
  const cs: Changeset = {
    fromSerial: z.serial,
    toSerial: z.serial + 1,
    fromSoa: { owner: ORIGIN, type: Type.SOA, class: Class.IN, ttl: z.soa.ttl, rdata: soaRdata(z.serial) },
    toSoa: { owner: ORIGIN, type: Type.SOA, class: Class.IN, ttl: z.soa.ttl, rdata: soaRdata(z.serial + 1) },
    removed: [old],
    added: [added],
  };
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    const next = applyChangesets(z, [cs]);
    best = Math.min(best, performance.now() - t0);
    if (next.serial !== z.serial + 1) throw new Error('apply failed');
  }
  console.log(`IXFR apply of a 1-record deletion + 1-record addition: ${best.toFixed(2)} ms (best of 3)`);
}

/** RSS of a fresh process that loads the zone from its master file (as `knotc zone-load` would). */
function rssLine(n: number): string {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--rss', String(n)], { encoding: 'utf8' });
  const { base, after, records } = JSON.parse(out) as { base: number; after: number; records: number };
  return `RSS of a process holding the zone loaded from its file: ${(after / 2 ** 20).toFixed(0)} MiB (${((after - base) / 2 ** 20).toFixed(0)} MiB over the empty process: ${((after - base) / records).toFixed(0)} B/record)`;
}

async function rssOnly(n: number): Promise<void> {
  const base = mem().rss;
  let text: string | undefined = zoneText(n);
  let records: ResourceRecord[] | undefined = parseZone(text, { origin: ORIGIN });
  text = undefined;
  const zone = buildZone(ORIGIN, records);
  records = undefined;
  await new Promise<void>((r) => setImmediate(r));
  const after = mem().rss;
  process.stdout.write(JSON.stringify({ base, after, records: zone.records }));
}

const args = process.argv.slice(2);
if (process.argv[1] !== fileURLToPath(import.meta.url)) {
  // Imported (for zoneText): nothing to run.
} else if (args[0] === '--rss') {
  await rssOnly(Number(args[1]));
} else {
  const sizes = args.map(Number).filter((x) => x > 0);
  for (const n of sizes.length > 0 ? sizes : [100_000, 1_000_000]) await run(n);
}
