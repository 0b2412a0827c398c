// Secondary benchmark: secondaryd and Knot DNS, each in turn a secondary of the same Knot primary
// serving a big generated zone (bench/big-zone.ts), measured one after the other (not concurrently):
//
// - AXFR, start to serving: from spawning the secondary on empty storage until it answers SOA with
//   the primary's serial (polled every 20 ms). Twice over: with no other load (what a new secondary
//   meets: nobody asks it anything before it is in the NS set), and with the dnsperf load below
//   running on the probe zone from when that answers (a secondary restarted with nothing on disk).
//   The median of five runs each (`--axfr-runs`), on fresh storage, the order alternating (Knot
//   first in odd rounds); the first loaded run is the one of each secondary's full sequence. On this
//   shared 2-core machine one run of either server varies by +-0.2 s, more when anything else runs;
// - the query rate while a transfer runs: dnsperf offers a fixed rate (-Q, default 20000 qps) on a
//   small second zone the secondary serves from a file, with per-second statistics (-S 1). Twice:
//   during that first AXFR (from when the small zone answers, shortly after the spawn, until 5 s
//   after the big zone is served), and during a forced re-transfer of the big zone (a full AXFR
//   while the old copy is served: `retransfer` on the daemon's control socket, `knotc -b
//   zone-retransfer`), with dnsperf running 3.5 s before it and 5 s after. dnsperf's first
//   interval is never counted (it is sometimes garbage: 0 or a fraction of a query per second,
//   with either server), nor the seconds starting within 2 s after the transfer (dnsperf catches
//   up with what it could not send, bursting above the offered rate). worst = the lowest second
//   overlapping the transfer; steady = the median of the seconds before it and from 2 s after it.
//   The target is judged on the re-transfer, which has seconds before the transfer to compare with
//   and the whole transfer inside dnsperf's counted seconds;
// - the RSS of the secondary's process tree after the first transfer;
// - NOTIFY to served: one record added on the primary (zone file rewritten with a higher serial,
//   `knotc zone-reload`); as soon as the primary answers the new serial (polled every millisecond)
//   the benchmark sends the secondary a NOTIFY (from 127.0.0.1, the primary's address, with the new
//   SOA, as Knot would) and times until the secondary answers the new serial (polled every
//   millisecond); the median of the changes (5). The primary itself sends no NOTIFY: Knot sends it
//   only some time after it starts serving a reloaded zone (tens to a couple of hundred ms more
//   end to end than with this NOTIFY, in trials), which would be measured instead of the secondary. For secondaryd, also NOTIFY received to change published
//   from its log (Knot's log has whole seconds only), and for both the longest time the secondary
//   answered none of the 1 ms polls (a stall: the polls are not waited for, they queue up);
// - restart to serving from disk: SIGTERM, wait, start again on the same storage (the primary stays
//   up: what is timed is spawn to the first SOA answer with the serial, which both serve from disk
//   before they talk to the primary);
// - and, as the reference for the restart, Knot (not a secondary) loading the same zone from a zone
//   file: spawn to serving, the faster of a first start and a restart on the same directory.
//
// Prints a table with the ratios and the targets of the performance issue; writes JSON to bench/out/.
//
//   node --import=tsx bench/secondary.ts [--records 1000000] [--qps 20000] [--changes 5] [--axfr-runs 5] [--tail 5] [--logs DIR]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage } from '../src/wire/message.js';
import { startKnotPrimary, type KnotPrimary } from '../test/helpers/knot-primary.js';
import { buildQuery, encodeName, sendUdp, type Endpoint } from '../test/helpers/dnsclient.js';
import { freePort } from '../test/helpers/ports.js';
import { startDaemon, type RunningDaemon } from '../test/helpers/secondaryd.js';
import { BIG_ZONE, bigZone } from './big-zone.js';
import { startKnotServer, type KnotServer } from './knot-server.js';
import { buildDaemon, treeRssMiB } from './proc.js';

const PROBE_ZONE = 'probe.test.';
const PROBE_TEXT =
  '$ORIGIN probe.test.\n$TTL 60\n@ SOA ns hostmaster 1 3600 600 864000 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nwww AAAA 2001:db8::2\nmail MX 10 www\n';
const PROBE_QUERIES = ['www.probe.test. A', 'www.probe.test. AAAA', 'mail.probe.test. MX', 'probe.test. SOA', 'nx.probe.test. A', 'www.probe.test. TXT'].join('\n') + '\n';

export interface SecondaryBenchOptions {
  /** Records in the big zone (default 1,000,000). */
  records?: number;
  /** Rate dnsperf offers on the probe zone during the transfers (default 20,000 qps). */
  qps?: number;
  /** One-record changes timed NOTIFY to served (default 5). */
  changes?: number;
  /** AXFR start-to-serving runs per secondary, with and without load (default 5 each). */
  axfrRuns?: number;
  /** dnsperf keeps running this long after a transfer is done (default 5 s). */
  tailSeconds?: number;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
  /** Save each secondary's own log (and the primary's) into this directory. */
  logDir?: string;
}

export interface ProbeSecond {
  /** Wall-clock end of the interval (ms since the epoch), as dnsperf prints it. */
  end: number;
  qps: number;
  /**
   * `first`: dnsperf's first interval, not counted; `recovery`: starting within 2 s after the
   * transfer (dnsperf catches up on what it could not send, the server may still be persisting):
   * neither worst nor steady.
   */
  phase: 'first' | 'before' | 'transfer' | 'recovery' | 'after';
}

export interface ProbeResult {
  offeredQps: number;
  /** Median of the full seconds before the transfer and from 2 s after it. */
  steadyQps: number;
  /** Lowest full second overlapping the transfer (NaN when none: the transfer was over within dnsperf's first second). */
  worstQps: number;
  worstOverSteady: number;
  /** Seconds overlapping the transfer. */
  transferSeconds: number;
  lost: number;
  sent: number;
  /** dnsperf's longest latency over the whole run. */
  maxLatencyMs: number;
  avgLatencyMs: number;
  seconds: ProbeSecond[];
}

export interface SideResult {
  server: string;
  serial: number;
  /** Spawn on empty storage -> serving the zone, nothing else asked of it: the median of axfrQuietRunsMs. */
  axfrMs: number;
  axfrQuietRunsMs: number[];
  /** The same with dnsperf on the probe zone: the median of axfrRunsMs. */
  axfrLoadedMs: number;
  /** Each loaded run, in the order run (the first is the one of the full sequence). */
  axfrRunsMs: number[];
  rssMiB: number;
  /** dnsperf during that first transfer (from when the probe zone answers). */
  initialProbe: ProbeResult;
  /** Forced full re-transfer while serving: request -> done. */
  retransferMs: number;
  /** dnsperf during the re-transfer (with seconds before it). */
  probe: ProbeResult;
  /** NOTIFY sent -> secondary serving the change, per change. */
  notifyMs: number[];
  notifyMedianMs: number;
  /** NOTIFY received -> change published (logged), from the secondary's log (empty when the log cannot tell). */
  notifyLogMs: number[];
  notifyLogMedianMs: number;
  /** NOTIFY sent -> received, from the log (the secondary busy with something else, or slow to read it). */
  notifySentToReceivedMs: number[];
  /** Longest time the secondary answered none of the 1 ms SOA polls, per change (a stall). */
  notifySilenceMs: number[];
  restartMs: number;
  /** Of which loading the zone from storage, from the secondary's log (NaN when it does not say). */
  restartLoadMs: number;
  /** Transfers the secondary made, by kind, from its log (the changes should all be IXFR). */
  transfers: Record<string, number>;
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  met: boolean;
}

export interface SecondaryBenchResult {
  date: string;
  records: number;
  cores: number;
  offeredQps: number;
  changes: number;
  secondaryd: SideResult;
  knot: SideResult;
  /** Knot, not a secondary: spawn to serving the same zone loaded from a zone file (the faster of a first start and a restart). */
  knotZoneFileLoadMs: number;
  knotZoneFileLoadsMs: number[];
  targets: Target[];
  wallMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface PollStats {
  /** SOA answers received while polling. */
  answers: number;
  /** Longest time without any answer (from the first query): the server stalled or dropped queries. */
  longestSilenceMs: number;
}

/**
 * Query `ep` for `zone` SOA every `everyMs` on one socket, without waiting for answers (a server
 * that stalls gets a queue of them, as from real clients), until an answer carries `serial`;
 * resolves with performance.now() at that answer. `dead` is checked at each tick: a server that
 * died fails the wait instead of timing out.
 */
function waitSerial(ep: Endpoint, zone: string, serial: number, everyMs: number, timeoutMs: number, dead: () => string | undefined, stats?: PollStats): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const query = buildQuery({ name: zone, type: 6 }, { edns: false });
    const started = performance.now();
    let lastAnswer = started;
    let last: number | undefined;
    let id = 0;
    let done = false;
    const finish = (err: Error | undefined, t = 0): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      sock.close();
      if (err) reject(err);
      else resolve(t);
    };
    sock.on('error', () => {}); // port unreachable before the server binds: keep polling
    sock.on('message', (msg) => {
      const t = performance.now();
      if (stats) {
        stats.answers++;
        stats.longestSilenceMs = Math.max(stats.longestSilenceMs, t - lastAnswer);
      }
      lastAnswer = t;
      try {
        const m = decodeMessage(msg);
        const soa = m.answer.find((r) => r.type === 6);
        last = m.rcode === 0 && soa ? soa.rdata.readUInt32BE(soa.rdata.length - 20) : undefined;
      } catch {
        last = undefined;
      }
      if (last === serial) finish(undefined, t);
    });
    const tick = (): void => {
      const why = dead();
      if (why !== undefined) return finish(new Error(`waiting for ${zone} serial ${serial} on port ${ep.port}: ${why}`));
      if (performance.now() - started > timeoutMs) return finish(new Error(`${zone} serial ${serial} not served on port ${ep.port} within ${timeoutMs} ms (last answer: ${last})`));
      const q = Buffer.from(query);
      id = (id + 1) & 0xffff;
      q.writeUInt16BE(id, 0);
      sock.send(q, ep.port, ep.host);
    };
    const timer = setInterval(tick, everyMs);
    tick();
  });
}

/** A NOTIFY (RFC 1996) for BIG_ZONE as Knot sends it: AA, the question, and the new SOA in the answer. */
function notifyMessage(serial: number): Buffer {
  const q = buildQuery({ name: BIG_ZONE, type: 6 }, { opcode: 4, edns: false });
  q.writeUInt16BE(q.readUInt16BE(2) | 0x0400, 2); // AA
  q.writeUInt16BE(1, 6); // ANCOUNT
  const fixed = Buffer.alloc(20);
  [serial, 3600, 600, 864000, 300].forEach((v, i) => fixed.writeUInt32BE(v, i * 4));
  const rdata = Buffer.concat([encodeName(`ns1.${BIG_ZONE}`), encodeName(`hostmaster.${BIG_ZONE}`), fixed]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // owner: the question's name
  head.writeUInt16BE(6, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(3600, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([q, head, rdata]);
}

/** dnsperf at a fixed offered rate with per-second statistics, until stop(). */
function startDnsperf(ep: Endpoint, queries: string, qps: number): { stop(from: number, to: number): Promise<ProbeResult>; kill(): void } {
  const child: ChildProcess = spawn(
    'dnsperf',
    ['-s', ep.host, '-p', String(ep.port), '-d', queries, '-Q', String(qps), '-S', '1', '-l', '3600', '-c', '8', '-q', '200', '-T', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  return {
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    /** Stop and classify the seconds against the transfer window [from, to] (wall-clock ms). */
    async stop(from, to) {
      child.kill('SIGINT'); // dnsperf stops and prints its statistics
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(t);
      const lines = [...out.matchAll(/^(\d+\.\d+): ([\d.]+)$/gm)].map((m) => ({ end: Number(m[1]) * 1000, qps: Number(m[2]) }));
      if (!lines.length) throw new Error(`dnsperf printed no per-second statistics:\n${out}`);
      const seconds: ProbeSecond[] = lines.map((l, i) => {
        if (i === 0) return { ...l, phase: 'first' };
        const start = lines[i - 1]!.end;
        return { ...l, phase: l.end <= from ? 'before' : start >= to + 2000 ? 'after' : start >= to ? 'recovery' : 'transfer' };
      });
      const during = seconds.filter((s) => s.phase === 'transfer').map((s) => s.qps);
      const outside = seconds.filter((s) => s.phase === 'before' || s.phase === 'after').map((s) => s.qps);
      const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
      const steady = median(outside);
      const worst = during.length ? Math.min(...during) : NaN;
      return {
        offeredQps: qps,
        steadyQps: steady,
        worstQps: worst,
        worstOverSteady: worst / steady,
        transferSeconds: during.length,
        lost: num(/Queries lost:\s+(\d+)/),
        sent: num(/Queries sent:\s+(\d+)/),
        maxLatencyMs: num(/Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, max ([\d.]+)\)/) * 1000,
        avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        seconds,
      };
    },
  };
}

/** One secondary under test: how to start it on its storage directory, and its process and log. */
interface Secondary {
  name: string;
  port: number;
  /** Spawn (its storage survives stop()). Returns at once; the caller polls for serving. */
  start(): void;
  /** Resolves once the process-level start is over (the daemon logged "serving"; Knot: at once). */
  started(): Promise<void>;
  /** Why it is not running, if it died. */
  dead(): string | undefined;
  pid(): number;
  /** A full AXFR of the big zone now, whatever the serial; resolves once it is served. */
  retransfer(): Promise<void>;
  /** Everything persisted (Knot: the zone file flushed) before a stop for the restart. */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /** When the NOTIFY for `serial` was received and the change served (wall-clock ms), from the log; undefined when the log cannot tell. */
  notifyFromLog(serial: number): { received: number; served: number } | undefined;
  /** Transfers of the big zone so far (all runs), by kind, from the log. */
  transfers(): Record<string, number>;
  /** How long the last start spent loading the big zone from its storage, from the log, if it says. */
  loadFromLog(): number | undefined;
  /** Everything it logged so far (all runs). */
  output(): string;
}

function controlRequest(socket: string, req: { cmd: string; zone?: string }): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let buf = '';
    c.on('connect', () => c.write(JSON.stringify(req) + '\n'));
    c.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        c.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as { ok: boolean; error?: string });
      }
    });
    c.on('error', reject);
  });
}

function daemonSecondary(dir: string, port: number, primary: Endpoint): Secondary {
  const configText =
    `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/storage"\n  control: "{DIR}/control.sock"\nlog:\n  level: info\n` +
    `zones:\n  - name: ${PROBE_ZONE}\n    file: "{DIR}/probe.zone"\n  - name: ${BIG_ZONE}\n    primaries: ["${primary.host}:${primary.port}"]\n`;
  let starting: Promise<RunningDaemon> | undefined;
  let d: RunningDaemon | undefined;
  let err: Error | undefined;
  type Line = { msg: string; zone?: string; op?: string; serial?: number; kind?: string; durationMs?: number; time: string | number };
  let earlier = ''; // output of the runs before a restart
  let last: RunningDaemon | undefined;
  const output = (): string => earlier + (last?.output() ?? '');
  const logLines = (): Line[] =>
    output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  const time = (t: string | number): number => (typeof t === 'number' ? t : Date.parse(t));
  const transfers = (): number => (d?.output() ?? '').split('"msg":"zone transferred"').length - 1;
  return {
    name: 'secondaryd',
    port,
    start() {
      earlier += last?.output() ?? '';
      d = undefined;
      last = undefined;
      err = undefined;
      starting = startDaemon({ port, dir, zones: [], files: { 'probe.zone': PROBE_TEXT }, configText, built: true });
      starting.then(
        (x) => (d = last = x),
        (e: Error) => (err = e),
      );
    },
    async started() {
      await starting;
    },
    dead: () => (err ? err.message : d && (d.child.exitCode !== null || d.child.signalCode !== null) ? `daemon exited:\n${d.output()}` : undefined),
    pid: () => d!.child.pid!,
    async retransfer() {
      const before = transfers();
      const r = await controlRequest(path.join(dir, 'control.sock'), { cmd: 'retransfer', zone: BIG_ZONE });
      if (!r.ok) throw new Error(`retransfer: ${r.error}`);
      const deadline = Date.now() + 600_000;
      while (transfers() === before) {
        if (Date.now() > deadline) throw new Error(`retransfer not done in time:\n${d?.output()}`);
        await sleep(5);
      }
    },
    settle: async () => {},
    async stop() {
      const x = d ?? (await starting?.catch(() => undefined));
      await x?.stop();
      d = undefined;
    },
    notifyFromLog(serial) {
      const lines = logLines();
      const n = lines.find((l) => l.msg === 'NOTIFY accepted' && l.serial === serial);
      const s = lines.find((l) => l.msg === 'zone transferred' && l.serial === serial);
      return n && s ? { received: time(n.time), served: time(s.time) } : undefined;
    },
    output,
    loadFromLog() {
      return logLines().findLast((l) => l.op === 'load' && l.zone === BIG_ZONE)?.durationMs;
    },
    transfers() {
      const out: Record<string, number> = {};
      for (const l of logLines()) if (l.msg === 'zone transferred' && l.kind) out[l.kind] = (out[l.kind] ?? 0) + 1;
      return out;
    },
  };
}

function knotSecondary(dir: string, port: number, primary: Endpoint): Secondary {
  let k: KnotServer | undefined;
  let earlier = ''; // output of the runs before a restart
  const zones = [
    { name: PROBE_ZONE, file: path.join(dir, 'probe.zone') },
    { name: BIG_ZONE, file: path.join(dir, 'big.test.zone'), primary: `${primary.host}@${primary.port}` },
  ];
  writeFileSync(zones[0]!.file, PROBE_TEXT);
  return {
    name: 'knot',
    port,
    start() {
      earlier += k?.output() ?? '';
      k = startKnotServer({ dir, port, zones });
    },
    started: async () => {},
    dead: () => (k?.exited() ? `knotd exited:\n${k.output()}` : undefined),
    pid: () => k!.pid,
    async retransfer() {
      await k!.control('-b', 'zone-retransfer', BIG_ZONE); // -b: returns once the transfer is done
    },
    async settle() {
      await k!.control('-b', 'zone-flush', BIG_ZONE);
    },
    async stop() {
      await k?.stop();
    },
    notifyFromLog: () => undefined, // Knot's log timestamps have whole seconds
    loadFromLog: () => undefined, // nor does it log a duration for loading
    output: () => earlier + (k?.output() ?? ''),
    transfers() {
      const out: Record<string, number> = {};
      for (const m of (earlier + (k?.output() ?? '')).matchAll(/\[big\.test\.\] (AXFR|IXFR), incoming, remote [^,]+, finished/g)) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
      return out;
    },
  };
}

interface Ctx {
  primary: KnotPrimary;
  ep: Endpoint;
  serial: number;
  zoneAt: (serial: number) => string;
  qps: number;
  changes: number;
  tailSeconds: number;
  queries: string;
  log: (line: string) => void;
  logDir: string | undefined;
}

const probeLine = (p: ProbeResult): string =>
  `worst second ${p.worstQps.toFixed(0)} qps, steady ${p.steadyQps.toFixed(0)} (${(p.worstOverSteady * 100).toFixed(1)}%); max latency ${p.maxLatencyMs.toFixed(1)} ms, ` +
  `lost ${p.lost}; per second (* during the transfer, ( ) neither worst nor steady): ` +
  p.seconds.map((s) => (s.phase === 'first' || s.phase === 'recovery' ? `(${s.qps.toFixed(0)})` : `${s.qps.toFixed(0)}${s.phase === 'transfer' ? '*' : ''}`)).join(' ');

/**
 * Spawn `sec` (on whatever storage it has) and time until it serves the big zone at ctx.serial; with
 * `load`, dnsperf on the probe zone from when that answers, returned still running.
 */
async function axfrStartToServing(ctx: Ctx, sec: Secondary, load: boolean): Promise<{ ms: number; perf: ReturnType<typeof startDnsperf> | undefined }> {
  const ep = { host: '127.0.0.1', port: sec.port };
  const dead = (): string | undefined => sec.dead();
  const t0 = performance.now();
  sec.start();
  let perf: ReturnType<typeof startDnsperf> | undefined;
  if (load) {
    await waitSerial(ep, PROBE_ZONE, 1, 5, 120_000, dead);
    perf = startDnsperf(ep, ctx.queries, ctx.qps);
  }
  try {
    return { ms: (await waitSerial(ep, BIG_ZONE, ctx.serial, 20, 600_000, dead)) - t0, perf };
  } catch (err) {
    perf?.kill();
    throw err;
  }
}

/** One more AXFR start-to-serving run of a secondary made by `make` on fresh storage in `work`. */
async function axfrRound(ctx: Ctx, work: string, make: (dir: string, port: number) => Secondary, load: boolean): Promise<number> {
  const dir = mkdtempSync(path.join(work, 'axfr-'));
  const sec = make(dir, await freePort());
  let perf: ReturnType<typeof startDnsperf> | undefined;
  try {
    const r = await axfrStartToServing(ctx, sec, load);
    perf = r.perf;
    await sec.started();
    return r.ms;
  } finally {
    perf?.kill();
    await sec.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(ctx: Ctx, sec: Secondary): Promise<SideResult> {
  const { log } = ctx;
  const ep = { host: '127.0.0.1', port: sec.port };
  const dead = (): string | undefined => sec.dead();
  let perf: ReturnType<typeof startDnsperf> | undefined;
  try {
    // AXFR start to serving, with dnsperf on the probe zone from when it answers.
    const serial = ctx.serial;
    const wall0 = Date.now();
    const first = await axfrStartToServing(ctx, sec, true);
    perf = first.perf!;
    const servedWall = Date.now();
    const loadedMs = first.ms;
    log(`  ${sec.name}: AXFR start to serving serial ${serial} (dnsperf on ${PROBE_ZONE} from when it answers): ${loadedMs.toFixed(0)} ms`);
    await sec.started();
    await sleep(ctx.tailSeconds * 1000);
    const initialProbe = await perf.stop(wall0, servedWall);
    perf = undefined;
    log(`  ${sec.name}: dnsperf -Q ${ctx.qps} on ${PROBE_ZONE} during that AXFR: ${probeLine(initialProbe)}`);
    const rssMiB = treeRssMiB(sec.pid());
    log(`  ${sec.name}: RSS after the transfer ${rssMiB.toFixed(0)} MiB`);

    // A forced full re-transfer while serving, dnsperf before, during and after.
    perf = startDnsperf(ep, ctx.queries, ctx.qps);
    await sleep(3500);
    const from = Date.now();
    const t1 = performance.now();
    await sec.retransfer();
    const retransferMs = performance.now() - t1;
    const to = Date.now();
    await sleep(ctx.tailSeconds * 1000);
    const probe = await perf.stop(from, to);
    perf = undefined;
    log(`  ${sec.name}: re-transfer (AXFR) in ${retransferMs.toFixed(0)} ms; dnsperf: ${probeLine(probe)}`);

    // One-record changes: primary serving the new serial -> NOTIFY -> secondary serving it.
    const notifyMs: number[] = [];
    const notifyLogMs: number[] = [];
    const notifySentToReceivedMs: number[] = [];
    const notifySilenceMs: number[] = [];
    for (let k = 0; k < ctx.changes; k++) {
      const s = ++ctx.serial;
      writeFileSync(ctx.primary.file(BIG_ZONE), ctx.zoneAt(s));
      const reloading = ctx.primary.reload(BIG_ZONE, s);
      let reloadErr: Error | undefined;
      reloading.catch((e: Error) => (reloadErr = e));
      await waitSerial(ctx.ep, BIG_ZONE, s, 1, 120_000, () => reloadErr?.message);
      const tn = performance.now();
      const sentWall = Date.now();
      const acked = sendUdp(ep, notifyMessage(s), 2000).catch(() => undefined);
      const stats: PollStats = { answers: 0, longestSilenceMs: 0 };
      const ts = await waitSerial(ep, BIG_ZONE, s, 1, 120_000, dead, stats);
      notifyMs.push(ts - tn);
      notifySilenceMs.push(stats.longestSilenceMs);
      await Promise.all([reloading, acked]);
      await sleep(500); // let both settle (persisting, Knot's zone-file flush) before the next change
      const fromLog = sec.notifyFromLog(s);
      if (fromLog !== undefined) {
        notifyLogMs.push(fromLog.served - fromLog.received);
        notifySentToReceivedMs.push(fromLog.received - sentWall);
      }
    }
    log(
      `  ${sec.name}: NOTIFY of a one-record change -> ${sec.name} serving it: median ${median(notifyMs).toFixed(1)} ms (${notifyMs.map((x) => x.toFixed(1)).join(', ')}); ` +
        `longest silence of the 1 ms polls ${notifySilenceMs.map((x) => x.toFixed(0)).join(', ')} ms` +
        (notifyLogMs.length
          ? `; from its log: NOTIFY received -> published ${notifyLogMs.map((x) => x.toFixed(0)).join(', ')} ms, sent -> received ${notifySentToReceivedMs.map((x) => x.toFixed(0)).join(', ')} ms`
          : ''),
    );

    // Restart from disk.
    await sec.settle();
    await sec.stop();
    const t2 = performance.now();
    sec.start();
    const back = await waitSerial(ep, BIG_ZONE, ctx.serial, 5, 600_000, dead);
    const restartMs = back - t2;
    await sec.started();
    const loadMs = sec.loadFromLog();
    log(
      `  ${sec.name}: restart to serving serial ${ctx.serial} from disk: ${restartMs.toFixed(0)} ms` +
        (loadMs === undefined ? '' : ` (loading the zone from storage, its log: ${loadMs} ms)`) +
        `; transfers made: ${JSON.stringify(sec.transfers())}`,
    );
    return {
      server: sec.name,
      serial,
      axfrMs: NaN, // from the rounds without load, after both full sequences
      axfrQuietRunsMs: [],
      axfrLoadedMs: loadedMs,
      axfrRunsMs: [loadedMs],
      rssMiB,
      initialProbe,
      retransferMs,
      probe,
      notifyMs,
      notifyMedianMs: median(notifyMs),
      notifyLogMs,
      notifyLogMedianMs: median(notifyLogMs),
      notifySentToReceivedMs,
      notifySilenceMs,
      restartMs,
      restartLoadMs: sec.loadFromLog() ?? NaN,
      transfers: sec.transfers(),
    };
  } finally {
    perf?.kill();
    await sec.stop();
    if (ctx.logDir) writeFileSync(path.join(ctx.logDir, `${sec.name}.log`), sec.output());
  }
}

/** Run the whole secondary benchmark; every process and temp dir is gone when it settles. */
export async function benchSecondary(opts: SecondaryBenchOptions = {}): Promise<SecondaryBenchResult> {
  const records = opts.records ?? 1_000_000;
  const log = opts.log ?? ((l: string) => console.log(l));
  const started = performance.now();
  const work = mkdtempSync(path.join(tmpdir(), 'secondaryd-bench-secondary-'));
  let primary: KnotPrimary | undefined;
  try {
    const queries = path.join(work, 'probe-queries.txt');
    writeFileSync(queries, PROBE_QUERIES);
    const base = bigZone(records, 1);
    const soa1 = '@ SOA ns1 hostmaster 1 ';
    if (!base.includes(soa1)) throw new Error('bigZone: SOA line not found');
    // Serial s: the base zone plus one record per change so far (each change adds one record).
    const zoneAt = (s: number): string => {
      let extra = '';
      for (let i = 2; i <= s; i++) extra += `change${i} A 192.0.2.${i % 250}\n`;
      return base.replace(soa1, `@ SOA ns1 hostmaster ${s} `) + extra;
    };
    let t0 = performance.now();
    primary = await startKnotPrimary({ [BIG_ZONE]: base }, { startTimeoutMs: 600_000 });
    log(`secondary benchmark: ${records} records, ${cpus().length} cores; Knot primary loaded the zone in ${(performance.now() - t0).toFixed(0)} ms`);
    const ep = { host: primary.host, port: primary.port };
    const ctx: Ctx = { primary, ep, serial: 1, zoneAt, qps: opts.qps ?? 20_000, changes: opts.changes ?? 5, tailSeconds: opts.tailSeconds ?? 5, queries, log, logDir: opts.logDir };
    if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });

    const dirD = path.join(work, 'secondaryd');
    mkdirSync(dirD);
    const secondaryd = await measure(ctx, daemonSecondary(dirD, await freePort(), ep));
    rmSync(dirD, { recursive: true, force: true });

    const dirK = path.join(work, 'knot');
    mkdirSync(dirK);
    const knot = await measure(ctx, knotSecondary(dirK, await freePort(), ep));
    rmSync(dirK, { recursive: true, force: true });

    // AXFR start-to-serving runs on fresh storage, without and with load, the order alternating.
    const makers = [(dir: string, port: number) => knotSecondary(dir, port, ep), (dir: string, port: number) => daemonSecondary(dir, port, ep)];
    const sides = [knot, secondaryd];
    const runs = opts.axfrRuns ?? 5;
    for (let round = 1; round <= runs; round++) {
      for (const i of round % 2 ? [0, 1] : [1, 0]) {
        const side = sides[i]!;
        const quiet = await axfrRound(ctx, work, makers[i]!, false);
        side.axfrQuietRunsMs.push(quiet);
        const loaded = round < runs ? await axfrRound(ctx, work, makers[i]!, true) : undefined;
        if (loaded !== undefined) side.axfrRunsMs.push(loaded);
        log(`  ${side.server}: AXFR start to serving, round ${round}: ${quiet.toFixed(0)} ms` + (loaded === undefined ? '' : `, ${loaded.toFixed(0)} ms with dnsperf`));
      }
    }
    for (const side of sides) {
      side.axfrMs = median(side.axfrQuietRunsMs);
      side.axfrLoadedMs = median(side.axfrRunsMs);
    }

    // Reference: Knot (not a secondary) loading the same zone from a zone file.
    const dirL = path.join(work, 'knot-load');
    mkdirSync(dirL);
    const file = path.join(dirL, 'big.test.zone');
    writeFileSync(file, zoneAt(ctx.serial));
    const portL = await freePort();
    // Twice on the same directory: the first start also creates Knot's databases (timers,
    // journal); the second is a plain restart that loads the zone file. The faster one counts.
    const knotZoneFileLoadsMs: number[] = [];
    for (let i = 0; i < 2; i++) {
      t0 = performance.now();
      const kl = startKnotServer({ dir: dirL, port: portL, zones: [{ name: BIG_ZONE, file }] });
      try {
        knotZoneFileLoadsMs.push((await waitSerial({ host: '127.0.0.1', port: portL }, BIG_ZONE, ctx.serial, 5, 600_000, () => (kl.exited() ? kl.output() : undefined))) - t0);
      } finally {
        await kl.stop();
      }
    }
    const knotZoneFileLoadMs = Math.min(...knotZoneFileLoadsMs);
    log(`  knot (not a secondary): spawn to serving serial ${ctx.serial} loaded from a zone file: ${knotZoneFileLoadsMs.map((x) => x.toFixed(0)).join(' ms, then ')} ms`);

    const targets: Target[] = [
      { name: 'AXFR start to serving <= Knot as a secondary (ratio)', value: secondaryd.axfrMs / knot.axfrMs, limit: 1, met: secondaryd.axfrMs <= knot.axfrMs },
      { name: 'NOTIFY to change served, median (ms)', value: secondaryd.notifyMedianMs, limit: 20, met: secondaryd.notifyMedianMs <= 20 },
      { name: 'worst second during a transfer / steady', value: secondaryd.probe.worstOverSteady, limit: 0.9, met: secondaryd.probe.worstOverSteady >= 0.9 },
      { name: 'restart to serving <= Knot loading its zone file (ratio)', value: secondaryd.restartMs / knotZoneFileLoadMs, limit: 1, met: secondaryd.restartMs <= knotZoneFileLoadMs },
    ];
    return {
      date: new Date().toISOString(),
      records,
      cores: cpus().length,
      offeredQps: ctx.qps,
      changes: ctx.changes,
      secondaryd,
      knot,
      knotZoneFileLoadMs,
      knotZoneFileLoadsMs,
      targets,
      wallMs: performance.now() - started,
    };
  } finally {
    if (opts.logDir && primary) writeFileSync(path.join(opts.logDir, 'primary.log'), primary.output());
    await primary?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The table: rows are the measurements, columns secondaryd, Knot, the ratio and the target. */
export function secondaryTable(r: SecondaryBenchResult): string {
  const d = r.secondaryd;
  const k = r.knot;
  const ok = (x: number): boolean => Number.isFinite(x);
  const f0 = (x: number): string => (ok(x) ? x.toFixed(0) : '-');
  const f1 = (x: number): string => (ok(x) ? x.toFixed(1) : '-');
  const pct = (x: number): string => (ok(x) ? `${(x * 100).toFixed(1)}%` : '-');
  const ratio = (a: number, b: number): string => (ok(a) && ok(b) && b !== 0 ? (a / b).toFixed(2) : '-');
  const met = (i: number): string => (r.targets[i]!.met ? 'yes' : 'NO');
  const recs = r.records >= 1e6 ? `${r.records / 1e6}M` : `${Math.round(r.records / 1000)}k`;
  const rows: string[][] = [
    ['measurement', 'secondaryd', 'knot', 'ratio', 'target', 'met'],
    [`AXFR ${recs} records, start to serving, median of ${d.axfrQuietRunsMs.length} (ms)`, f0(d.axfrMs), f0(k.axfrMs), ratio(d.axfrMs, k.axfrMs), '<= knot', met(0)],
    ['  each run (ms)', d.axfrQuietRunsMs.map(f0).join(' '), k.axfrQuietRunsMs.map(f0).join(' '), '', '', ''],
    [`  with dnsperf -Q ${r.offeredQps} on another zone, median of ${d.axfrRunsMs.length} (ms)`, f0(d.axfrLoadedMs), f0(k.axfrLoadedMs), ratio(d.axfrLoadedMs, k.axfrLoadedMs), '', ''],
    ['  each run (ms)', d.axfrRunsMs.map(f0).join(' '), k.axfrRunsMs.map(f0).join(' '), '', '', ''],
    [`worst 1 s / steady during a re-transfer`, pct(d.probe.worstOverSteady), pct(k.probe.worstOverSteady), ratio(d.probe.worstOverSteady, k.probe.worstOverSteady), '>= 90%', met(2)],
    [`  worst second (qps, dnsperf -Q ${r.offeredQps})`, f0(d.probe.worstQps), f0(k.probe.worstQps), ratio(d.probe.worstQps, k.probe.worstQps), '', ''],
    ['  steady, before and after (qps)', f0(d.probe.steadyQps), f0(k.probe.steadyQps), ratio(d.probe.steadyQps, k.probe.steadyQps), '', ''],
    ['  longest latency in the run (ms)', f1(d.probe.maxLatencyMs), f1(k.probe.maxLatencyMs), ratio(d.probe.maxLatencyMs, k.probe.maxLatencyMs), '', ''],
    ['  re-transfer, request to done (ms)', f0(d.retransferMs), f0(k.retransferMs), ratio(d.retransferMs, k.retransferMs), '', ''],
    ['worst 1 s / steady during the first AXFR', pct(d.initialProbe.worstOverSteady), pct(k.initialProbe.worstOverSteady), ratio(d.initialProbe.worstOverSteady, k.initialProbe.worstOverSteady), '', ''],
    ['  longest latency in the run (ms)', f1(d.initialProbe.maxLatencyMs), f1(k.initialProbe.maxLatencyMs), ratio(d.initialProbe.maxLatencyMs, k.initialProbe.maxLatencyMs), '', ''],
    [`NOTIFY -> change served, median of ${r.changes} (ms)`, f1(d.notifyMedianMs), f1(k.notifyMedianMs), ratio(d.notifyMedianMs, k.notifyMedianMs), '<= 20 ms', met(1)],
    ['  NOTIFY received -> published, own log (ms)', f1(d.notifyLogMedianMs), f1(k.notifyLogMedianMs), ratio(d.notifyLogMedianMs, k.notifyLogMedianMs), '', ''],
    ['  longest time answering no query (ms)', f1(median(d.notifySilenceMs)), f1(median(k.notifySilenceMs)), ratio(median(d.notifySilenceMs), median(k.notifySilenceMs)), '', ''],
    ['restart to serving from disk (ms)', f0(d.restartMs), f0(k.restartMs), ratio(d.restartMs, k.restartMs), '', ''],
    ['  of which loading the zone, own log (ms)', f0(d.restartLoadMs), f0(k.restartLoadMs), '', '', ''],
    ['  vs knot loading its zone file (ms)', f0(d.restartMs), f0(r.knotZoneFileLoadMs), ratio(d.restartMs, r.knotZoneFileLoadMs), '<= knot load', met(3)],
    ['RSS after the transfer (MiB)', f0(d.rssMiB), f0(k.rssMiB), ratio(d.rssMiB, k.rssMiB), '', ''],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)) + 2);
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('').trimEnd()).join('\n');
}

/** Write `data` as JSON to bench/out/<prefix>-<date>.json; returns the path. */
export function writeResult(prefix: string, data: unknown): string {
  const dir = path.join(import.meta.dirname, 'out');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildDaemon();
  const args = process.argv.slice(2);
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const logs = args.indexOf('--logs');
  const r = await benchSecondary({
    records: opt('records', 1_000_000),
    qps: opt('qps', 20_000),
    changes: opt('changes', 5),
    axfrRuns: opt('axfr-runs', 5),
    tailSeconds: opt('tail', 5),
    ...(logs >= 0 ? { logDir: path.resolve(args[logs + 1]!) } : {}),
  });
  console.log(`\n${secondaryTable(r)}`);
  const file = writeResult('secondary', r);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}; wall time ${(r.wallMs / 1000).toFixed(0)} s`);
}
