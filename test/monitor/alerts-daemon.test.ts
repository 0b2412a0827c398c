// Alerts end to end: a real Knot primary, the daemon, and a webhook receiver that records every
// document. Transfers blocked while the primary moves ahead (the secondary lost its TSIG key) ->
// failing, then stale with the lag; fixed -> recovered; the primary stops answering -> failing, stale
// (no successful check), then expired. /healthz and /metrics follow each step. A signed zone whose RRSIGs are about to expire
// raises the signature watchdog.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { freePort } from '../helpers/ports.js';
import { runCli, startDaemon } from '../helpers/secondaryd.js';

const ZONE = 'watch.test.';
const KEY = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=' };
const zoneText = (serial: number): string =>
  `$ORIGIN ${ZONE}\n$TTL 60\n@ SOA ns hostmaster ${serial} 1 1 12 60\n@ NS ns\nns A 192.0.2.1\nwww${serial} A 192.0.2.${serial}\n`;

interface Receiver {
  url: string;
  docs: Record<string, unknown>[];
  /** The User-Agent of each request. */
  agents: string[];
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const docs: Record<string, unknown>[] = [];
  const agents: string[] = [];
  const server = http.createServer((req, res) => {
    agents.push(req.headers['user-agent'] ?? '');
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.headers['content-type'] === 'application/json') docs.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, docs, agents, close: () => new Promise((r) => server.close(() => r())) };
}

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The fields of a document that depend on timing, replaced by what they must be like. */
function stable(d: Record<string, unknown>): Record<string, unknown> {
  const out = { ...d };
  for (const k of ['at', 'since']) if (typeof out[k] === 'string' && !Number.isNaN(Date.parse(out[k] as string))) out[k] = 'ISO';
  if (typeof out.expiresIn === 'number') out.expiresIn = 'N';
  if (typeof out.lagSeconds === 'number') out.lagSeconds = (out.lagSeconds as number) >= 3 ? '>=3' : out.lagSeconds;
  if (typeof out.failures === 'number') out.failures = (out.failures as number) >= 2 ? '>=2' : out.failures;
  const e = out.lastError as { reason: string } | null;
  if (e !== null && typeof e === 'object') out.lastError = e.reason;
  delete out.message;
  return out;
}

t.test('failing, stale with the lag, recovered, then failing and expired: one webhook document per transition', async (t) => {
  const hook = await receiver();
  t.teardown(() => hook.close());
  const knot = await startKnotPrimary({ [ZONE]: zoneText(1) }, { key: KEY });
  t.teardown(() => knot.stop());
  const httpPort = await freePort();
  const primary = `127.0.0.1:${knot.port}`;
  const config = (withKey: boolean): string =>
    `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n  http: "127.0.0.1:${httpPort}"\n` +
    `keys:\n  - { name: ${KEY.name}, algorithm: ${KEY.algorithm}, secret: "${KEY.secret}" }\n` +
    `alerts:\n  webhook: "${hook.url}"\n  failing-after: 2\n  stale-after: 3s\n  expiring-within: 0\n  repeat-interval: 0\n  signatures-expiring-within: 0\n` +
    `zones:\n  - name: ${ZONE}\n    primaries: [${withKey ? `{ address: "${primary}", key: ${KEY.name} }` : `"${primary}"`}]\n` +
    `    refresh-min: 1s\n    retry-min: 1s\n    expire-min: 1s\n`;
  const d = await startDaemon({ zones: [], configText: config(true) });
  t.teardown(() => d.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
  const healthz = async (): Promise<{ status: number; body: { zones?: { zone: string; health: string; conditions: string[]; lagSeconds: number | null }[] } }> => {
    const r = await fetch(`${base}/healthz`);
    return { status: r.status, body: (await r.json()) as never };
  };
  await until('serial 1 served', async () => /^secondaryd_zone_serial\{zone="watch\.test\."\} 1$/m.test(await metrics()));
  t.equal((await healthz()).status, 200, 'healthy once transferred');

  // The secondary loses its key (a botched key rotation): SOA queries still work, transfers do not.
  // The primary moves ahead: failing after 2 attempts, stale once 3 s behind.
  const cfg = d.configPath;
  writeFileSync(cfg, config(false).replaceAll('{PORT}', String(d.port)).replaceAll('{DIR}', d.dir));
  t.equal((await runCli(['reload', '-c', cfg])).code, 0);
  writeFileSync(knot.file(ZONE), zoneText(2));
  await knot.reload(ZONE, 2);
  await until('failing and stale alerts', () => hook.docs.some((x) => x.event === 'stale'));
  const h = await healthz();
  t.equal(h.status, 503, '/healthz: unhealthy while stale');
  t.match(h.body.zones?.[0], { zone: ZONE, health: 'failing', conditions: ['failing', 'stale'] });
  t.ok((h.body.zones?.[0]?.lagSeconds ?? 0) >= 3, 'with the lag');
  const m = await metrics();
  t.match(m, /^secondaryd_zone_primary_serial\{zone="watch\.test\."\} 2$/m);
  t.match(m, /^secondaryd_zone_serial\{zone="watch\.test\."\} 1$/m, 'still serving 1');
  t.match(m, /^secondaryd_zone_primary_lag_seconds\{zone="watch\.test\."\} ([3-9]|\d\d+)$/m);
  t.match(m, /^secondaryd_zone_condition\{zone="watch\.test\.",condition="stale"\} 1$/m);
  t.match(m, /^secondaryd_alerts_total\{event="stale"\} 1$/m);

  // The key is back: the next attempt transfers serial 2, and the episode ends.
  writeFileSync(cfg, config(true).replaceAll('{PORT}', String(d.port)).replaceAll('{DIR}', d.dir));
  t.equal((await runCli(['reload', '-c', cfg])).code, 0);
  await until('recovered', () => hook.docs.some((x) => x.event === 'recovered'));
  t.equal((await healthz()).status, 200);
  t.match(await metrics(), /^secondaryd_zone_serial\{zone="watch\.test\."\} 2$/m);

  // The primary goes dark: failing, stale, then expired at EXPIRE (12 s after the last good check).
  await knot.stop();
  await until('expired', () => hook.docs.some((x) => x.event === 'expired'), 40_000);
  const e = await healthz();
  t.equal(e.status, 503);
  t.match(e.body.zones?.[0], { zone: ZONE, health: 'expired', conditions: ['expired', 'failing'] });
  t.match(await metrics(), /^secondaryd_zone_health\{zone="watch\.test\.",health="expired"\} 1$/m);
  await new Promise((r) => setTimeout(r, 1500)); // nothing more should come (reminders off)

  const common = { version: 1, zone: ZONE, reminder: false, host: hostname(), at: 'ISO', since: 'ISO', signaturesExpireIn: null, primary, resolved: [] };
  t.same(
    hook.docs.map(stable),
    [
      { ...common, event: 'failing', health: 'failing', conditions: ['failing'], serial: 1, primarySerial: 2, lagSeconds: stable(hook.docs[0]!).lagSeconds, failures: '>=2', lastError: 'notauth', expiresIn: 'N' },
      { ...common, event: 'stale', health: 'failing', conditions: ['failing', 'stale'], serial: 1, primarySerial: 2, lagSeconds: '>=3', failures: '>=2', lastError: 'notauth', expiresIn: 'N' },
      { ...common, event: 'recovered', health: 'fresh', conditions: [], resolved: ['failing', 'stale'], serial: 2, primarySerial: 2, lagSeconds: null, failures: 0, lastError: null, expiresIn: 'N' },
      { ...common, event: 'failing', health: 'failing', conditions: ['failing'], serial: 2, primarySerial: 2, lagSeconds: null, failures: '>=2', lastError: 'unreachable', expiresIn: 'N' },
      // No successful check for REFRESH (1 s) + stale-after (3 s).
      { ...common, event: 'stale', health: 'failing', conditions: ['failing', 'stale'], serial: 2, primarySerial: 2, lagSeconds: null, failures: '>=2', lastError: 'unreachable', expiresIn: 'N' },
      { ...common, event: 'expired', health: 'expired', conditions: ['expired', 'failing'], serial: null, primarySerial: 2, lagSeconds: null, failures: '>=2', lastError: 'unreachable', expiresIn: 'N' },
    ],
    'the receiver got exactly these documents, in order',
  );
  t.match(hook.docs[1]!.message, /^watch\.test\.: primary 127\.0\.0\.1:\d+ has had serial 2 for \d+s; still serving 1$/);
  t.match(hook.docs[2]!.message, 'watch.test.: recovered from failing, stale; serving serial 2');
  const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
  t.same(new Set(hook.agents), new Set([`secondaryd/${version}`]), 'every request says secondaryd/<version of package.json>');
});

t.test('the signature watchdog: a signed zone whose RRSIGs expire within the threshold', async (t) => {
  const hook = await receiver();
  t.teardown(() => hook.close());
  const dir = mkdtempSync(join(tmpdir(), 'secondaryd-sigs-'));
  const file = join(dir, 'signed.test.zone');
  writeFileSync(file, '$ORIGIN signed.test.\n$TTL 60\n@ SOA ns hostmaster 7 60 60 600 60\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n');
  execFileSync('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', 'signed.test'], { cwd: dir, stdio: 'pipe' });
  execFileSync('ldns-keygen', ['-a', 'ECDSAP256SHA256', 'signed.test'], { cwd: dir, stdio: 'pipe' });
  const keys = readdirSync(dir).filter((f) => f.endsWith('.private')).map((f) => join(dir, f.replace(/\.private$/, '')));
  // Signatures valid until 30 hours from now: inside the default 2-day threshold.
  const exp = new Date(Date.now() + 30 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  execFileSync('ldns-signzone', ['-e', exp, '-f', `${file}.signed`, file, ...keys], { cwd: dir, stdio: 'pipe' });
  const httpPort = await freePort();
  const d = await startDaemon({
    zones: [],
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n  http: "127.0.0.1:${httpPort}"\n` +
      `alerts:\n  webhook: "${hook.url}"\nzones:\n  - name: signed.test\n    file: "${file}.signed"\n  - name: plain.test\n    file: "${file}"\n    alerts: { webhook: "" }\n`,
  });
  t.teardown(() => d.stop());
  await until('watchdog alert', () => hook.docs.length > 0, 10_000);
  t.equal(hook.docs.length, 1);
  const doc = hook.docs[0]!;
  t.match(doc, { event: 'signatures-expiring', zone: 'signed.test.', health: 'fresh', conditions: ['signatures-expiring'] });
  const left = doc.signaturesExpireIn as number;
  t.ok(left > 29 * 3600 && left <= 30 * 3600, `expires in about 30 h (${left} s)`);
  t.match(doc.message, /^signed\.test\.: the earliest RRSIG expires in 30h \(\d{4}-\d\d-\d\dT[\d:.]+Z\): has the primary's signer stopped\?$/);
  const m = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  t.match(m, /^secondaryd_zone_signatures_expire_in_seconds\{zone="signed\.test\."\} \d+$/m);
  t.notMatch(m, /secondaryd_zone_signatures_expire_in_seconds\{zone="plain\.test\."\}/, 'an unsigned zone has no such metric');
  const status = JSON.parse((await runCli(['status', 'signed.test', '--json', '-c', d.configPath])).stdout) as { signaturesExpireIn: number; conditions: string[] }[];
  t.same(status[0]!.conditions, ['signatures-expiring']);
  t.equal((await runCli(['status', 'signed.test', '-c', d.configPath])).code, 1, 'status exits 1');
});
