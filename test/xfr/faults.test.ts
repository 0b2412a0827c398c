// Refresh under a faulty primary (RFC 1034 4.3.5, RFC 1995 4, RFC 1996, RFC 5936 2.2, RFC 8945 5.3):
// the daemon pulls serial 1 from a scripted fake primary, the primary moves to serial 2 with a fault
// active, a NOTIFY triggers the refresh. The daemon must keep serving serial 1 untouched, log one line
// naming the failure, retry later, and take serial 2 once the fault is gone. An IXFR whose differences
// do not apply must fall back to AXFR; a primary silent for EXPIRE must make the zone SERVFAIL, and
// its return must bring the zone back.
//
// One daemon serves one zone per case, each pulled from its own fake primary, so the cases run in
// parallel and the whole file takes about as long as its slowest case.

import t from 'tap';
import type { Test } from 'tap';
import { Flag, Opcode, Type } from '../../src/wire/constants.js';
import { encodeMessage } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import { signMessage, type TsigKey } from '../../src/wire/tsig.js';
import { parseMessage } from '../helpers/compare.js';
import { queryUdp, sendUdp, type Endpoint } from '../helpers/dnsclient.js';
import { DEFAULT_RECORDS, startFakePrimary, type FakePrimary, type FakePrimaryOptions, type QueryKind, type Script } from '../helpers/fake-primary.js';
import { startDaemon, type RunningDaemon } from '../helpers/secondaryd.js';

const KEY: TsigKey = { name: 'fault-key.', algorithm: 'hmac-sha256', secret: Buffer.from('the secret both sides of the fault tests share') };

/** Version 2: www changed, one name added. */
const V2_RECORDS = DEFAULT_RECORDS.replace('192.0.2.80', '192.0.2.82').replace('version one', 'version two') + 'new A 192.0.2.90\n';

const isTransfer = (kind: QueryKind): boolean => kind === 'IXFR' || kind === 'AXFR';

// ---- the cases ------------------------------------------------------------------------------------

interface Case {
  name: string;
  /** First label of the case's zone. */
  slug: string;
  /** Extra zone keys for the daemon's config, YAML lines without indentation. */
  config?: string[];
  /** Primary and NOTIFY carry the TSIG key. */
  tsig?: boolean;
  fake?: Partial<FakePrimaryOptions>;
  run(t: Test, c: Ctx): Promise<void>;
  todo?: string;
}

interface Ctx {
  fp: FakePrimary;
  zone: string;
  d: RunningDaemon;
  ep: Endpoint;
  key?: TsigKey;
}

interface Fault {
  /** The fault, as a script (run before the serial is raised). */
  script?: Script;
  /** Or/and something to do instead (e.g. stop listening on TCP); `heal` undoes it. */
  inject?: () => Promise<void>;
  heal?: () => Promise<void>;
  /** The failure's log line: 'SOA check failed' or 'zone transfer failed'. */
  op: 'soa' | 'transfer';
  /** err.code of the log line (the TransferError reason). */
  reason: string;
  /** err.message of the log line. */
  message: RegExp;
  /** Transfer queries the fake sees in the failing attempt, in order. */
  transfers?: QueryKind[];
  /** How long the failing attempt may take (ms). */
  within?: number;
}

const onTransfers =
  (action: ReturnType<Script>): Script =>
  (q) =>
    isTransfer(q.kind) ? action : undefined;

const CASES: Case[] = [
  {
    name: 'connection refused: the primary answers SOA over UDP but nothing listens on TCP',
    slug: 'refused-connection',
    run: (t, c) =>
      faultFlow(t, c, {
        inject: () => c.fp.closeTcp(),
        heal: () => c.fp.openTcp(),
        op: 'transfer',
        reason: 'unreachable',
        message: /ECONNREFUSED/,
        transfers: [],
      }),
  },
  {
    name: 'REFUSED to IXFR and to the AXFR fallback',
    slug: 'rcode-refused',
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'rcode', rcode: 5 }), op: 'transfer', reason: 'refused', message: /rcode 5/, transfers: ['IXFR', 'AXFR'] }),
  },
  {
    name: 'connection closed mid-stream after the first message',
    slug: 'close-mid-stream',
    run: (t, c) =>
      faultFlow(t, c, { script: onTransfers({ type: 'close', after: 1 }), op: 'transfer', reason: 'truncated', message: /closed the connection mid-transfer/, transfers: ['IXFR'] }),
  },
  {
    name: 'garbage instead of a DNS message',
    slug: 'garbage',
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'garbage' }), op: 'transfer', reason: 'malformed', message: /undecodable/, transfers: ['IXFR', 'AXFR'] }),
  },
  {
    name: 'a zero-length TCP frame instead of a message (RFC 1035 4.2.2)',
    slug: 'zero-length-frame',
    run: (t, c) =>
      faultFlow(t, c, {
        script: onTransfers({ type: 'garbage', bytes: Buffer.alloc(2), unframed: true }),
        op: 'transfer',
        reason: 'malformed',
        message: /zero-length|length/i,
        transfers: ['IXFR', 'AXFR'],
      }),
  },
  {
    name: 'a transfer that does not start with the SOA',
    slug: 'wrong-first-record',
    run: (t, c) =>
      faultFlow(t, c, { script: onTransfers({ type: 'wrong-first-record' }), op: 'transfer', reason: 'bad-first-record', message: /not the SOA/, transfers: ['IXFR', 'AXFR'] }),
  },
  {
    name: 'a record outside the zone in the transfer',
    slug: 'out-of-zone',
    run: (t, c) =>
      faultFlow(t, c, { script: onTransfers({ type: 'out-of-zone' }), op: 'transfer', reason: 'out-of-zone', message: /intruder\.example\.net\. .*is outside/, transfers: ['IXFR'] }),
  },
  {
    name: 'transfer answer with another message ID (TCP)',
    slug: 'wrong-id-tcp',
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'wrong-id' }), op: 'transfer', reason: 'bad-id', message: /does not match query ID/, transfers: ['IXFR'] }),
  },
  {
    name: 'SOA answer with another message ID (UDP) is ignored until the SOA check times out (RFC 5452)',
    slug: 'wrong-id-udp',
    run: (t, c) =>
      faultFlow(t, c, {
        script: (q) => (q.kind === 'SOA' && q.transport === 'udp' ? { type: 'wrong-id' } : undefined),
        op: 'soa',
        reason: 'timeout',
        message: /no answer from 127\.0\.0\.1:\d+ in \d+ ms/,
        transfers: [],
        within: 10000,
      }),
  },
  {
    name: 'TSIG: transfer signed with the wrong secret',
    slug: 'tsig-wrong-key',
    tsig: true,
    run: (t, c) =>
      faultFlow(t, c, { script: onTransfers({ type: 'bad-tsig', how: 'wrong-key' }), op: 'transfer', reason: 'tsig', message: /MAC .*does not verify/, transfers: ['IXFR'] }),
  },
  {
    name: 'TSIG: corrupted MAC on every answer, the SOA check fails',
    slug: 'tsig-corrupt-mac',
    tsig: true,
    run: (t, c) => faultFlow(t, c, { script: () => ({ type: 'bad-tsig', how: 'corrupt-mac' }), op: 'soa', reason: 'tsig', message: /MAC .*does not verify/, transfers: [] }),
  },
  {
    name: 'never-ending transfer stopped by max-transfer-records',
    slug: 'endless-records',
    config: ['max-transfer-records: 500'],
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'endless', perMessage: 50 }), op: 'transfer', reason: 'too-many-records', message: /exceeds 500 records/, transfers: ['IXFR'] }),
  },
  {
    name: 'never-ending transfer stopped by max-transfer-bytes',
    slug: 'endless-bytes',
    config: ['max-transfer-bytes: 20000'],
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'endless', perMessage: 50 }), op: 'transfer', reason: 'too-many-bytes', message: /exceeds 20000 octets/, transfers: ['IXFR'] }),
  },
  {
    name: 'never-ending slow drip stopped by transfer-timeout',
    slug: 'slow-drip',
    config: ['transfer-timeout: 1', 'transfer-idle-timeout: 0.5'],
    run: (t, c) =>
      faultFlow(t, c, { script: onTransfers({ type: 'endless', perMessage: 1, intervalMs: 100 }), op: 'transfer', reason: 'timeout', message: /took longer than 1000 ms/, transfers: ['IXFR'] }),
  },
  {
    name: 'silent primary on TCP: transfer-idle-timeout',
    slug: 'silent-tcp',
    config: ['transfer-idle-timeout: 0.5'],
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'silent' }), op: 'transfer', reason: 'timeout', message: /nothing from 127\.0\.0\.1:\d+ for 500 ms/, transfers: ['IXFR'] }),
  },
  {
    name: 'primary stalls mid-transfer: transfer-idle-timeout',
    slug: 'stall-tcp',
    config: ['transfer-idle-timeout: 0.5'],
    run: (t, c) => faultFlow(t, c, { script: onTransfers({ type: 'stall', after: 1 }), op: 'transfer', reason: 'timeout', message: /nothing from 127\.0\.0\.1:\d+ for 500 ms/, transfers: ['IXFR'] }),
  },
  {
    name: 'silent primary on UDP: the SOA check times out',
    slug: 'silent-udp',
    run: (t, c) =>
      faultFlow(t, c, { script: (q) => (q.kind === 'SOA' ? { type: 'silent' } : undefined), op: 'soa', reason: 'timeout', message: /no answer from 127\.0\.0\.1:\d+ in \d+ ms/, transfers: [], within: 10000 }),
  },
  { name: 'serial going backwards: no transfer, logged, checked again at REFRESH', slug: 'serial-backwards', config: ['refresh-min: 1'], fake: { soa: { refresh: 2 } }, run: serialBackwards },
  { name: 'IXFR whose differences do not apply: AXFR fallback brings serial 2', slug: 'ixfr-fallback', run: ixfrFallback },
  {
    name: 'expiry: a silent primary makes the zone SERVFAIL after EXPIRE; its return brings the zone back',
    slug: 'expiry',
    config: ['refresh-min: 1', 'retry-max: 1', 'expire-min: 4', 'expire-max: 4'],
    fake: { soa: { refresh: 2, retry: 1, expire: 4 } },
    run: expiry,
  },
];

// ---- helpers --------------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Served {
  rcode: number;
  serial?: number;
  www: string[];
}

async function served(c: Ctx): Promise<Served> {
  const soa = parseMessage(await queryUdp(c.ep, { name: c.zone, type: Type.SOA }, {}, 1000));
  const rr = soa.answer.find((r) => r.type === Type.SOA);
  const www = parseMessage(await queryUdp(c.ep, { name: `www.${c.zone}`, type: Type.A }, {}, 1000));
  return {
    rcode: soa.rcode,
    ...(rr ? { serial: rr.rdata.readUInt32BE(rr.rdata.length - 20) } : {}),
    www: www.answer.filter((r) => r.type === Type.A).map((r) => [...r.rdata].join('.')),
  };
}

async function waitServed(c: Ctx, serial: number, ms = 10000): Promise<Served> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await served(c).catch(() => undefined);
    if (s?.serial === serial) return s;
    if (Date.now() > deadline) throw new Error(`${c.zone}: serial ${serial} not served within ${ms} ms (last: ${JSON.stringify(s)})`);
    await sleep(25);
  }
}

interface LogLine {
  level: string;
  /** Date.parse(time). */
  at: number;
  zone?: string;
  op?: string;
  msg: string;
  err?: { code?: string; message?: string };
  [k: string]: unknown;
}

function logs(c: Ctx): LogLine[] {
  const out: LogLine[] = [];
  for (const line of c.d.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as LogLine & { time: string };
      if (o.zone === c.zone) out.push({ ...o, at: Date.parse(o.time) });
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return out;
}

async function waitLog(c: Ctx, pred: (l: LogLine) => boolean, ms = 8000): Promise<LogLine> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = logs(c).find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`${c.zone}: no such log line within ${ms} ms; zone log:\n${logs(c).map((l) => JSON.stringify(l)).join('\n')}`);
    await sleep(20);
  }
}

/** A NOTIFY (RFC 1996) for the zone from 127.0.0.1, signed when the zone has a key; returns the rcode. */
async function notify(c: Ctx, serial: number): Promise<number> {
  const origin = nameFromText(c.zone);
  const soa = { ...c.fp.soaRecord(), owner: origin };
  let msg = encodeMessage({
    id: Math.floor(Math.random() * 0x10000),
    flags: Flag.AA,
    opcode: Opcode.NOTIFY,
    rcode: 0,
    question: [{ name: origin, type: Type.SOA, class: 1 }],
    answer: serial === c.fp.serial ? [soa] : [],
    authority: [],
    additional: [],
  });
  if (c.key) msg = signMessage(msg, c.key, Math.floor(Date.now() / 1000)).signed;
  return parseMessage(await sendUdp(c.ep, msg, 2000)).rcode;
}

const failureMsg = { soa: 'SOA check failed', transfer: 'zone transfer failed' } as const;

/**
 * The common course of a fault: serial 1 served; fault on, serial 2 on the primary, NOTIFY; one
 * failure logged with its reason; serial 1 still served, records unchanged; a retry reaches the
 * primary; fault off; serial 2 served.
 */
async function faultFlow(t: Test, c: Ctx, f: Fault): Promise<void> {
  const before = await waitServed(c, 1);
  t.same(before, { rcode: 0, serial: 1, www: ['192.0.2.80'] }, 'serial 1 transferred and served');

  c.fp.setScript(f.script);
  await f.inject?.();
  c.fp.setZone({ serial: 2, records: V2_RECORDS });
  const since = Date.now();
  t.equal(await notify(c, 2), 0, 'NOTIFY accepted');

  const isFailure = (l: LogLine): boolean => l.at >= since - 5 && l.msg === failureMsg[f.op];
  const failure = await waitLog(c, isFailure, f.within ?? 8000);
  t.equal(failure.level, 'warn', 'the failure is logged as a warning');
  t.equal(failure.err?.code, f.reason, `the log names the reason: ${f.reason}`);
  t.match(failure.err?.message ?? '', f.message, `the log says what happened: ${failure.err?.message}`);
  t.notOk(
    logs(c).some((l) => l.at >= since - 5 && l.msg === 'zone transferred'),
    'nothing was published',
  );
  if (f.transfers) {
    const asked = c.fp.queries.filter((q) => q.at >= since && q.at <= failure.at && isTransfer(q.kind)).map((q) => q.kind);
    t.same(asked, f.transfers, `transfer requests in the failed attempt: ${asked.join(', ') || 'none'}`);
  }

  t.same(await served(c), before, 'serial 1 and its records are still served');

  const retry = await c.fp.waitFor(() => true, 6000, failure.at + 1).catch((err: Error) => err);
  t.notOk(retry instanceof Error, `a retry reaches the primary (${retry instanceof Error ? retry.message : `${retry.kind} over ${retry.transport}, ${retry.at - failure.at} ms after the failure`})`);
  if (!(retry instanceof Error)) {
    const between = logs(c).filter((l) => l.at >= since - 5 && l.at < retry.at && l.msg === failureMsg[f.op]);
    t.equal(between.length, 1, 'one failure line for the failed attempt');
  }
  t.same(await served(c), before, 'serial 1 still served while the fault lasts');

  c.fp.setScript(undefined);
  await f.heal?.();
  const after = await waitServed(c, 2, 12000).catch((err: Error) => err);
  t.same(after, { rcode: 0, serial: 2, www: ['192.0.2.82'] }, 'fault removed: serial 2 and its records are served');
}

async function serialBackwards(t: Test, c: Ctx): Promise<void> {
  const before = await waitServed(c, 1);
  t.same(before, { rcode: 0, serial: 1, www: ['192.0.2.80'] }, 'serial 1 transferred and served');

  c.fp.setScript((q) => (q.kind === 'SOA' ? { type: 'serial', serial: 0 } : undefined));
  c.fp.setZone({ serial: 2, records: V2_RECORDS });
  const since = Date.now();
  t.equal(await notify(c, 2), 0, 'NOTIFY accepted');
  const line = await waitLog(c, (l) => l.at >= since - 5 && /behind ours/.test(l.msg));
  t.match(line, { level: 'warn', op: 'soa', serial: 0, ours: 1 }, `logged: ${line.msg}`);
  t.match(line.msg, /primary serial 0 is behind ours \(1\): not transferring/);

  const again = await c.fp.waitFor((q) => q.kind === 'SOA', 6000, line.at + 1).catch((err: Error) => err);
  t.notOk(again instanceof Error, 'the primary is asked again later');
  t.same(
    c.fp.queries.filter((q) => q.at >= since && isTransfer(q.kind)).map((q) => q.kind),
    [],
    'no transfer was asked for while the primary reports a lower serial',
  );
  t.same(await served(c), before, 'serial 1 and its records are still served');

  c.fp.setScript(undefined);
  const after = await waitServed(c, 2, 8000).catch((err: Error) => err);
  t.same(after, { rcode: 0, serial: 2, www: ['192.0.2.82'] }, 'primary fixed: serial 2 transferred at the next check');
}

async function ixfrFallback(t: Test, c: Ctx): Promise<void> {
  const before = await waitServed(c, 1);
  t.same(before, { rcode: 0, serial: 1, www: ['192.0.2.80'] }, 'serial 1 transferred and served');

  c.fp.setScript((q) => (q.kind === 'IXFR' ? { type: 'bad-ixfr' } : undefined));
  c.fp.setZone({ serial: 2, records: V2_RECORDS });
  const since = Date.now();
  t.equal(await notify(c, 2), 0, 'NOTIFY accepted');
  const after = await waitServed(c, 2, 8000).catch((err: Error) => err);
  t.same(after, { rcode: 0, serial: 2, www: ['192.0.2.82'] }, 'serial 2 served');
  t.same(
    c.fp.queries.filter((q) => q.at >= since && isTransfer(q.kind)).map((q) => `${q.kind}:${q.action}`),
    ['IXFR:bad-ixfr', 'AXFR:answer'],
    'the primary saw the IXFR, then an AXFR',
  );
  const line = await waitLog(c, (l) => l.at >= since - 5 && l.msg === 'zone transferred' && typeof l.fallback === 'string', 2000).catch((err: Error) => err);
  t.match(line, { kind: 'AXFR', serial: 2, fallback: /inconsistent-ixfr.*no-such-record.*falling back to AXFR/ }, 'the log says why IXFR became AXFR');
  const added = parseMessage(await queryUdp(c.ep, { name: `added-by-ixfr.${c.zone}`, type: Type.A }));
  t.equal(added.rcode, 3, 'nothing of the IXFR that did not apply is served (NXDOMAIN)');
  const fresh = parseMessage(await queryUdp(c.ep, { name: `new.${c.zone}`, type: Type.A }));
  t.same(fresh.answer.map((r) => [...r.rdata].join('.')), ['192.0.2.90'], 'the AXFR contents are served');
}

async function expiry(t: Test, c: Ctx): Promise<void> {
  t.same(await waitServed(c, 1), { rcode: 0, serial: 1, www: ['192.0.2.80'] }, 'serial 1 transferred and served');
  // Let at least one REFRESH pass so the expiry is timed from an SOA check, not the first transfer.
  await c.fp.waitFor((q) => q.kind === 'SOA' && q.action === 'answer', 5000);

  c.fp.setScript(() => ({ type: 'silent' }));
  const silentFrom = Date.now();
  // The daemon's last successful check is at or after the last query we answered.
  const lastAnswered = Math.max(...c.fp.queries.filter((q) => q.action === 'answer').map((q) => q.at));

  let lastServed = 0;
  let firstServfail = 0;
  let other: Served | undefined;
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    const s = await served(c).catch(() => undefined);
    const now = Date.now();
    if (s?.rcode === 0 && s.serial === 1 && s.www[0] === '192.0.2.80') lastServed = now;
    else if (s?.rcode === 2) {
      firstServfail = now;
      break;
    } else other ??= s;
    await sleep(25);
  }
  t.equal(other, undefined, 'only serial 1 or SERVFAIL is ever answered');
  t.ok(firstServfail > 0, 'the zone answers SERVFAIL once expired');
  t.ok(firstServfail >= lastAnswered + 4000 - 10, `not before EXPIRE (4 s): SERVFAIL ${firstServfail - lastAnswered} ms after the last answered SOA query`);
  t.ok(firstServfail <= lastAnswered + 4000 + 1500, 'nor much later');
  t.ok(lastServed >= Math.max(silentFrom, lastAnswered + 3500), `served until EXPIRE (last answer ${lastServed - lastAnswered} ms after the last answered SOA query)`);
  const expired = await waitLog(c, (l) => l.op === 'expire' && l.at >= silentFrom, 2000).catch((err: Error) => err);
  t.match(expired, { level: 'error', msg: /zone expired/ }, 'the expiry is logged as an error');
  t.equal((await served(c)).rcode, 2, 'still SERVFAIL while the primary is silent');

  c.fp.setZone({ serial: 2, records: V2_RECORDS });
  c.fp.setScript(undefined);
  const back = Date.now();
  t.equal(await notify(c, 2), 0, 'NOTIFY accepted for the expired zone');
  const after = await waitServed(c, 2, 8000).catch((err: Error) => err);
  t.same(after, { rcode: 0, serial: 2, www: ['192.0.2.82'] }, 'the primary is back: serial 2 served again');
  t.ok(c.fp.queries.some((q) => q.at >= back && q.kind === 'AXFR'), 'fetched by AXFR (an expired zone has nothing to diff from)');
}

// ---- the run ----------------------------------------------------------------------------------------

const fakes = new Map<Case, FakePrimary>();
for (const k of CASES) {
  const zone = `${k.slug}.faults.test.`;
  fakes.set(k, await startFakePrimary({ zone, serial: 1, ...(k.tsig ? { key: KEY } : {}), ...k.fake }));
}
t.teardown(async () => {
  for (const fp of fakes.values()) await fp.stop();
});

const zonesYaml = CASES.map((k) => {
  const fp = fakes.get(k)!;
  const primary = k.tsig ? `{ address: "${fp.address}", key: ${KEY.name} }` : `"${fp.address}"`;
  return [`  - name: ${fp.zone}`, `    primaries: [${primary}]`, ...(k.config ?? []).map((l) => `    ${l}`)].join('\n');
}).join('\n');

const daemon = await startDaemon({
  zones: [],
  configText:
    `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/storage"\n  control: "{DIR}/control.sock"\n` +
    `log:\n  level: info\n` +
    `keys:\n  - name: ${KEY.name}\n    algorithm: ${KEY.algorithm}\n    secret: "${Buffer.from(KEY.secret).toString('base64')}"\n` +
    // Quick retries (RETRY 1 s in the fake's SOA, backoff capped at 2 s) keep each case short.
    `defaults:\n  retry-min: 1\n  retry-max: 2\n` +
    `zones:\n${zonesYaml}\n`,
});
t.teardown(() => daemon.stop());

t.jobs = CASES.length;
for (const k of CASES) {
  const fp = fakes.get(k)!;
  const c: Ctx = { fp, zone: fp.zone, d: daemon, ep: { host: daemon.host, port: daemon.port }, ...(k.tsig ? { key: KEY } : {}) };
  t.test(k.name, k.todo ? { todo: k.todo } : {}, (t) => k.run(t, c));
}
