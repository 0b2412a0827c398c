// Transfer benchmark: a Knot primary serves a big generated zone; the daemon pulls it by AXFR while a
// probe keeps querying another zone it serves. Prints the time from start to serving the zone, the
// daemon's RSS after it, the longest query latency seen during the transfer (an event-loop stall),
// the worst one-second query rate, and the NOTIFY-to-served time of a one-record change (IXFR).
//
//   node --import=tsx bench/xfr.ts [records=1000000]

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import { startKnotPrimary } from '../test/helpers/knot-primary.js';
import { buildQuery, queryUdp } from '../test/helpers/dnsclient.js';
import { parseMessage } from '../test/helpers/compare.js';
import { freePort } from '../test/helpers/ports.js';
import { startDaemon } from '../test/helpers/secondaryd.js';
import { BIG_ZONE, bigZone } from './big-zone.js';

const records = Number(process.argv[2] ?? 1_000_000);
const ZONE = BIG_ZONE;


async function serial(ep: { host: string; port: number }): Promise<number | undefined> {
  try {
    const m = parseMessage(await queryUdp(ep, { name: ZONE, type: 6 }, {}, 1000));
    const soa = m.answer.find((r) => r.type === 6);
    return m.rcode === 0 && soa ? soa.rdata.readUInt32BE(soa.rdata.length - 20) : undefined;
  } catch {
    return undefined;
  }
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

/** Query the probe zone every millisecond; track latencies and per-second answer counts. */
function probe(ep: { host: string; port: number }): { stop(): { maxLatencyMs: number; worstSecond: number; bestSecond: number } } {
  const sock = dgram.createSocket('udp4');
  const sent = new Map<number, number>();
  let id = 0;
  let maxLatency = 0;
  const perSecond = new Map<number, number>();
  sock.on('message', (msg) => {
    const t0 = sent.get(msg.readUInt16BE(0));
    if (t0 === undefined) return;
    const now = performance.now();
    maxLatency = Math.max(maxLatency, now - t0);
    const sec = Math.floor(now / 1000);
    perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
  });
  const timer = setInterval(() => {
    for (let k = 0; k < 5; k++) {
      id = (id + 1) & 0xffff;
      sent.set(id, performance.now());
      sock.send(buildQuery({ name: 'www.probe.test', type: 1 }, { id }), ep.port, ep.host);
    }
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      sock.close();
      const counts = [...perSecond.values()].slice(1, -1);
      return { maxLatencyMs: maxLatency, worstSecond: Math.min(...counts), bestSecond: Math.max(...counts) };
    },
  };
}

const started = Date.now();
const port = await freePort();
const knot = await startKnotPrimary({ [ZONE]: bigZone(records, 1) }, { startTimeoutMs: 600_000, notify: [`127.0.0.1:${port}`] });
console.log(`knot loaded ${records} records in ${Date.now() - started} ms`);
const d = await startDaemon({
  port,
  zones: [],
  files: { 'probe.zone': '$ORIGIN probe.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n' },
  configText:
    `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nlog:\n  level: info\n` +
    `zones:\n  - name: probe.test\n    file: "{DIR}/probe.zone"\n  - name: ${ZONE}\n    primaries: ["127.0.0.1:${knot.port}"]\n`,
});
const ep = { host: d.host, port: d.port };
const t0 = Date.now();
const p = probe(ep);
while ((await serial(ep)) !== 1) await new Promise((r) => setTimeout(r, 20));
const axfrMs = Date.now() - t0;
await new Promise((r) => setTimeout(r, 1500));
const during = p.stop();
const rss = rssOf(d.child.pid!);
console.log(`AXFR of ${records} records, start to serving: ${axfrMs} ms`);
console.log(`daemon RSS after: ${(rss / 1048576).toFixed(0)} MiB (${(rss / records).toFixed(0)} bytes/record)`);
console.log(`during the transfer: longest query latency ${during.maxLatencyMs.toFixed(1)} ms; answers/s worst ${during.worstSecond}, best ${during.bestSecond}`);

// A one-record change: NOTIFY + IXFR.
const times: number[] = [];
for (let s = 2; s <= 6; s++) {
  const text = bigZone(records, s) + `change${s} A 192.0.2.${s}\n`;
  await writeFile(knot.file(ZONE), text);
  await knot.reload(ZONE, s);
  const t1 = performance.now();
  // The primary serves the new serial now; the daemon has it once NOTIFY + IXFR are done.
  while ((await serial(ep)) !== s) await new Promise((r) => setTimeout(r, 1));
  times.push(performance.now() - t1);
}
times.sort((a, b) => a - b);
console.log(`primary serving a change -> daemon serving it (${records} records): median ${times[2]!.toFixed(1)} ms, all ${times.map((x) => x.toFixed(0)).join(', ')} ms (includes Knot's own delay before it sends NOTIFY)`);
// From the daemon's own log: NOTIFY received -> new version published (SOA check + IXFR + apply).
await new Promise((r) => setTimeout(r, 300));
const lines = d.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; serial?: number; time: string });
const notified = (s: number): number => Date.parse(lines.find((l) => l.msg === 'NOTIFY accepted' && l.serial === s)!.time);
const served = (s: number): number => Date.parse(lines.find((l) => l.msg === 'zone transferred' && l.serial === s)!.time);
const inner = [2, 3, 4, 5, 6].map((s) => served(s) - notified(s)).sort((a, b) => a - b);
console.log(`NOTIFY received -> change served (SOA check + IXFR + apply, from the daemon's log): median ${inner[2]} ms, all ${inner.join(', ')} ms`);
await d.stop();
await knot.stop();
