// Persistence end to end, with the real daemon and a real primary (Knot DNS): a zone transferred
// (AXFR, then IXFR after a NOTIFY), the daemon SIGKILLed, the primary stopped, the daemon restarted
// on the same storage: same serial at once, answers identical to a Knot serving the same zone. Then:
// a restart after EXPIRE passed answers SERVFAIL (RFC 1034 4.3.5); a damaged or truncated copy is
// reported and the zone transferred again; an unusable storage directory shows in `status`.

import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { ZoneStore } from '../../src/store/zone-store.js';
import { nameFromText } from '../../src/wire/name.js';
import { parseMessage } from '../helpers/compare.js';
import { queryUdp, TRANSPORTS } from '../helpers/dnsclient.js';
import { formatMismatches, ourGlueSuperset, runDifferential } from '../helpers/differential.js';
import { startKnot } from '../helpers/knot.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { freePort } from '../helpers/ports.js';
import { runCli, startDaemon, type RunningDaemon } from '../helpers/secondaryd.js';
import { generateZone } from '../helpers/zonegen.js';

type Ep = { host: string; port: number };

function withSerial(text: string, serial: number): string {
  return text.replace(/(IN\s+SOA\s+\S+\s+\S+\s+\(?\s*)\d+/, `$1${serial}`);
}

async function soa(ep: Ep, zone: string): Promise<{ rcode: number; serial?: number }> {
  const m = parseMessage(await queryUdp(ep, { name: zone, type: 6 }, {}, 1000));
  const rr = m.answer.find((r) => r.type === 6);
  return rr ? { rcode: m.rcode, serial: rr.rdata.readUInt32BE(rr.rdata.length - 20) } : { rcode: m.rcode };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The timers file's data, once the daemon has written it for `serial` (its zone data is on disk first). */
function storedTimers(storage: string, zone: string, serial: number): Promise<{ serial: number; expiresAt: number; lastRefreshed: number }> {
  return until(`timers for serial ${serial}`, () => {
    const j = JSON.parse(readFileSync(path.join(storage, `${zone.replace(/\.$/, '')}.timers`), 'utf8')) as { data: { serial: number; expiresAt: number; lastRefreshed: number } };
    return j.data.serial === serial ? j.data : undefined;
  });
}

async function kill(d: RunningDaemon): Promise<void> {
  const exited = new Promise((r) => d.child.once('exit', r));
  d.child.kill('SIGKILL');
  await exited;
}

interface Setup {
  dir: string;
  storage: string;
  port: number;
  config(primaryPort: number, extra?: string): string;
}

function setup(t: Test, zone: string, port: number): Setup {
  const dir = mkdtempSync(path.join(tmpdir(), 'secondaryd-persist-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    storage: path.join(dir, 's'),
    port,
    config: (primaryPort, extra = '') =>
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n  watch-config: false\n` +
      `zones:\n  - name: ${zone}\n    primaries: ["127.0.0.1:${primaryPort}"]\n${extra}`,
  };
}

const transferred = (d: RunningDaemon, kind: string, serial: number): boolean =>
  d.output().split('\n').some((l) => l.includes('"msg":"zone transferred"') && l.includes(`"kind":"${kind}"`) && l.includes(`"serial":${serial}`));

t.test('transfer, SIGKILL, restart with the primary down: the same serial at once, the same answers', async (t) => {
  const gen = generateZone({ origin: 'example.com.', seed: 23 });
  const zone = gen.origin;
  const v1 = withSerial(gen.text, 1000);
  const port = await freePort();
  const knot = await startKnotPrimary({ [zone]: v1 }, { notify: [`127.0.0.1:${port}`] });
  t.teardown(() => knot.stop());
  const s = setup(t, zone, port);
  const configText = s.config(knot.port);

  const d1 = await startDaemon({ zones: [], port, dir: s.dir, configText });
  t.teardown(() => d1.stop());
  const ours = { host: d1.host, port };
  await until('serial 1000', async () => ((await soa(ours, zone)).serial === 1000 ? true : undefined));
  // A change on the primary, NOTIFY, IXFR: the journal gets an entry.
  const v2 = withSerial(v1.split('\n').filter((l) => !/^mx-only\s/i.test(l)).join('\n'), 1001) + 'persisted\t300\tIN\tA\t203.0.113.77\n';
  await writeFile(knot.file(zone), v2);
  await knot.reload(zone, 1001);
  await until('serial 1001', async () => ((await soa(ours, zone)).serial === 1001 ? true : undefined));
  t.ok(transferred(d1, 'IXFR', 1001), 'serial 1001 arrived by IXFR');
  await storedTimers(s.storage, zone, 1001);
  t.ok(readFileSync(path.join(s.storage, 'example.com.journal')).length > 52, 'the IXFR is in the journal');

  await kill(d1);
  await knot.stop();
  writeFileSync(path.join(s.storage, 'example.com.zone.tmp'), 'a write cut short by a crash');
  const started = Date.now();
  const d2 = await startDaemon({ zones: [], port, dir: s.dir, configText });
  t.teardown(() => d2.stop());
  const first = await soa(ours, zone);
  t.same(first, { rcode: 0, serial: 1001 }, `serial 1001 served from the first query, ${Date.now() - started} ms after spawn, the primary down`);
  t.match(d2.output(), /"op":"load".*"serial":1001.*"journal":1.*"msg":"zone loaded from storage"/, 'copy + one journal entry loaded');
  t.match(d2.output(), /removed a temp file left by an interrupted write/);
  // (The daemon may be writing its timers through a temp file of its own right now: look only at the crash's.)
  t.notOk(readdirSync(s.storage).includes('example.com.zone.tmp'), 'the cut-short copy is gone');

  const file = path.join(s.dir, 'v2.zone');
  writeFileSync(file, v2);
  const ref = await startKnot({ zones: [{ name: zone, file }] });
  t.teardown(() => ref.stop());
  const r = await runDifferential({
    a: ours,
    b: { host: ref.host, port: ref.port },
    queries: gen.queries,
    transports: [TRANSPORTS.udp1232, TRANSPORTS.udp512, TRANSPORTS.tcp],
    compare: { additional: 'always', labels: ['secondaryd', 'knot'] },
  });
  const bad = r.mismatches.filter((m) => !ourGlueSuperset(m, 'secondaryd'));
  t.ok(r.compared > 1000, `${r.compared} answers compared`);
  t.equal(bad.length, 0, `answers identical to Knot serving serial 1001\n${formatMismatches(bad, 10, ['secondaryd', 'knot'])}`);

  const status = await runCli(['status', '--json', '-c', d2.configPath]);
  const row = (JSON.parse(status.stdout) as Array<Record<string, unknown>>)[0]!;
  t.match(row, { zone, state: 'fresh', serial: 1001, storageError: null }, 'status: fresh, serial 1001, no storage error');
  t.equal(await d2.stop(), 0, 'SIGTERM: exit 0');
});

t.test('a restart after EXPIRE passed: the stored copy is not served, SERVFAIL', async (t) => {
  const gen = generateZone({ origin: 'expire.test.', seed: 5, names: 20 });
  const zone = gen.origin;
  // SOA REFRESH 1, RETRY 1, EXPIRE 3 seconds, and clamps that let them through.
  const text = withSerial(gen.text, 70).replace(/7200 3600 1209600/, '1 1 3');
  const knot = await startKnotPrimary({ [zone]: text });
  t.teardown(() => knot.stop());
  const s = setup(t, zone, await freePort());
  const configText = s.config(knot.port, '    refresh-min: 1s\n    retry-min: 1s\n    expire-min: 1s\n    expire-max: 3s\n');
  const d1 = await startDaemon({ zones: [], port: s.port, dir: s.dir, configText });
  t.teardown(() => d1.stop());
  const ours = { host: d1.host, port: s.port };
  await until('serial 70', async () => ((await soa(ours, zone)).serial === 70 ? true : undefined));
  const timers = await storedTimers(s.storage, zone, 70);
  t.ok(timers.expiresAt - timers.lastRefreshed <= 3000, 'expiry 3 s after the last refresh');
  await kill(d1);
  await knot.stop();
  const stored = JSON.parse(readFileSync(path.join(s.storage, 'expire.test.timers'), 'utf8')) as { data: { expiresAt: number } };
  await new Promise((r) => setTimeout(r, Math.max(0, stored.data.expiresAt - Date.now()) + 300));

  const d2 = await startDaemon({ zones: [], port: s.port, dir: s.dir, configText });
  t.teardown(() => d2.stop());
  t.same(await soa(ours, zone), { rcode: 2 }, 'SERVFAIL from the first query');
  t.match(d2.output(), /stored copy expired while the daemon was down/);
  const status = await runCli(['status', '--json', '-c', d2.configPath]);
  t.match(JSON.parse(status.stdout), [{ zone, state: 'expired', serial: null }], 'status: expired');
  t.equal(status.code, 1, 'status exits 1');
});

t.test('a damaged or truncated copy: reported, ignored, the zone transferred again', async (t) => {
  const gen = generateZone({ origin: 'damage.test.', seed: 9, names: 60 });
  const zone = gen.origin;
  const knot = await startKnotPrimary({ [zone]: withSerial(gen.text, 300) });
  t.teardown(() => knot.stop());
  const s = setup(t, zone, await freePort());
  const configText = s.config(knot.port);
  const copy = path.join(s.storage, 'damage.test.zone');
  const ours = { host: '127.0.0.1', port: s.port };

  const d1 = await startDaemon({ zones: [], port: s.port, dir: s.dir, configText });
  t.teardown(() => d1.stop());
  await until('serial 300', async () => ((await soa(ours, zone)).serial === 300 ? true : undefined));
  await storedTimers(s.storage, zone, 300);
  await kill(d1);

  const damage: Array<[string, () => void, RegExp]> = [
    ['one flipped bit', () => {
      const b = readFileSync(copy);
      b[b.length >> 1]! ^= 0x04;
      writeFileSync(copy, b);
    }, /"reason":"bad-checksum"/],
    ['cut in half', () => truncateSync(copy, readFileSync(copy).length >> 1), /"reason":"bad-checksum"/],
    ['cut to 5 octets', () => truncateSync(copy, 5), /"reason":"truncated"/],
  ];
  for (const [what, hurt, reason] of damage) {
    hurt();
    const d = await startDaemon({ zones: [], port: s.port, dir: s.dir, configText });
    await until(`AXFR after ${what}`, () => (transferred(d, 'AXFR', 300) ? true : undefined));
    t.match(d.output(), /stored copy not usable, ignored: the zone will be transferred again/, `${what}: reported`);
    t.match(d.output(), reason, `${what}: with the reason`);
    t.equal((await soa(ours, zone)).serial, 300, `${what}: served again after the transfer`);
    // The timers file still says 300 from before the damage: wait for the new copy itself.
    const sound = async (): Promise<true | undefined> => {
      const r = await new ZoneStore(s.storage).load(zone, nameFromText(zone));
      return r.status === 'loaded' && r.zone.serial === 300 ? true : undefined;
    };
    await until(`${what}: copy rewritten`, sound).catch(() => undefined);
    await kill(d);
    t.equal(await sound(), true, `${what}: a sound copy on disk again`);
  }
});

t.test('an unusable storage directory: the zone is served, `status` shows the storage error', async (t) => {
  const gen = generateZone({ origin: 'nostore.test.', seed: 2, names: 10 });
  const zone = gen.origin;
  const knot = await startKnotPrimary({ [zone]: withSerial(gen.text, 9) });
  t.teardown(() => knot.stop());
  const s = setup(t, zone, await freePort());
  // A regular file where the directory should be: ENOTDIR even for root.
  writeFileSync(path.join(s.dir, 'blocker'), '');
  const configText = s.config(knot.port).replace('"{DIR}/s"', '"{DIR}/blocker/s"');
  const d = await startDaemon({ zones: [], port: s.port, dir: s.dir, configText });
  t.teardown(() => d.stop());
  await until('serial 9', async () => ((await soa({ host: d.host, port: s.port }, zone)).serial === 9 ? true : undefined));
  t.match(d.output(), /storage directory unusable/);
  const status = await until('storage error in status', async () => {
    const r = await runCli(['status', '--json', '-c', d.configPath]);
    const rows = JSON.parse(r.stdout) as Array<{ storageError: unknown }>;
    return rows[0]!.storageError !== null ? r : undefined;
  });
  t.match(JSON.parse(status.stdout), [{ zone, state: 'fresh', serial: 9, storageError: { code: 'ENOTDIR' } }], 'served, with the storage error');
  t.equal(status.code, 1, 'status exits 1: the zone would not survive a restart');
  const table = await runCli(['status', '-c', d.configPath]);
  t.match(table.stdout, /storage ENOTDIR/);
  t.equal(await d.stop(), 0, 'SIGTERM with a failing store still exits 0');
});
