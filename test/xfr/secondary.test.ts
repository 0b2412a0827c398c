// The secondary role against real primaries (RFC 1995, 1996, 5936, 8945): Knot DNS with TSIG, NOTIFY
// and IXFR; BIND 9 offering AXFR only. The daemon's answers are then compared with the primary's.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { parseMessage } from '../helpers/compare.js';
import { queryUdp, TRANSPORTS } from '../helpers/dnsclient.js';
import { formatMismatches, ourGlueSuperset, runDifferential } from '../helpers/differential.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { freePort } from '../helpers/ports.js';
import { startDaemon, type RunningDaemon } from '../helpers/secondaryd.js';
import { generateZone } from '../helpers/zonegen.js';
import { waitSerial } from '../helpers/serial.js';

const KEY = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: Buffer.from('a secret shared by primary and secondary').toString('base64') };

function transfers(d: RunningDaemon): { kind: string; serial: number; remote: string }[] {
  return d
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"zone transferred"') && l.includes('"records"'))
    .map((l) => JSON.parse(l) as { kind: string; serial: number; remote: string });
}

/** Log lines are written asynchronously: wait until one for `serial` has arrived. */
async function transferOf(d: RunningDaemon, serial: number): Promise<{ kind: string; serial: number; remote: string } | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = transfers(d).find((x) => x.serial === serial);
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Bump the SOA serial of master-file text (the generator writes it as the first number after SOA). */
function withSerial(text: string, serial: number): string {
  return text.replace(/(IN\s+SOA\s+\S+\s+\S+\s+\(?\s*)\d+/, `$1${serial}`);
}

t.test('Knot primary: TSIG-signed AXFR, then NOTIFY + IXFR; answers identical to the primary', async (t) => {
  const gen = generateZone({ origin: 'example.com.', seed: 42 });
  const zone = gen.origin;
  const v1 = withSerial(gen.text, 1000);
  const ourPort = await freePort();
  const knot = await startKnotPrimary({ [zone]: v1 }, { key: KEY, notify: [`127.0.0.1:${ourPort}`] });
  t.teardown(() => knot.stop());
  const d = await startDaemon({
    port: ourPort,
    zones: [],
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
      `keys:\n  - name: ${KEY.name}\n    algorithm: ${KEY.algorithm}\n    secret: "${KEY.secret}"\n` +
      `zones:\n  - name: ${zone}\n    primaries:\n      - { address: "127.0.0.1:${knot.port}", key: ${KEY.name} }\n`,
  });
  t.teardown(() => d.stop());
  const ours = { host: d.host, port: d.port };
  const theirs = { host: knot.host, port: knot.port };

  await waitSerial(ours, zone, 1000);
  t.match(await transferOf(d, 1000), { kind: 'AXFR', serial: 1000 }, 'first transfer: AXFR');
  t.match(knot.output(), /AXFR, outgoing.*started/, 'Knot logged the AXFR');

  const compare = async (label: string): Promise<void> => {
    const r = await runDifferential({ a: ours, b: theirs, queries: gen.queries, transports: [TRANSPORTS.udp1232, TRANSPORTS.udp512, TRANSPORTS.tcp], compare: { additional: 'always', labels: ['secondaryd', 'knot'] } });
    const bad = r.mismatches.filter((m) => !ourGlueSuperset(m, 'secondaryd'));
    t.equal(bad.length, 0, `${label}: ${r.compared} answers identical to the primary's\n${formatMismatches(bad, 10, ['secondaryd', 'knot'])}`);
  };
  await compare('after AXFR');

  // Changes on the primary: records added, changed and removed; the serial raised.
  const lines = v1.split('\n');
  const www = lines.findIndex((l) => /^www\s/i.test(l));
  const changed = lines
    .map((l, i) => (i === www ? l.replace(/192\.0\.2\.\d+/, '198.51.100.77') : l))
    .filter((l) => !/^mx-only\s/i.test(l));
  const v2 = withSerial(changed.join('\n'), 1001) + 'added-by-ixfr 300 IN A 203.0.113.9\nadded-by-ixfr 300 IN TXT "new"\n';
  await writeFile(knot.file(zone), v2);
  const started = Date.now();
  await knot.reload(zone, 1001);
  const lag = await waitSerial(ours, zone, 1001, 10000, '', 2);
  t.comment(`primary reload to secondary serving serial 1001: ${Date.now() - started} ms (after the primary served it: ${lag} ms)`);
  t.match(await transferOf(d, 1001), { kind: 'IXFR', serial: 1001 }, 'the change arrived by IXFR');
  t.match(d.output(), /"op":"notify","remote":"127\.0\.0\.1","serial":1001,"msg":"NOTIFY accepted"/, 'after a NOTIFY (signed with the key)');
  t.match(knot.output(), /IXFR, outgoing/, 'Knot logged the IXFR');
  const added = parseMessage(await queryUdp(ours, { name: `added-by-ixfr.${zone}`, type: 1 }));
  t.same(added.answer.map((r) => [...r.rdata].join('.')), ['203.0.113.9'], 'the added record is served');
  await compare('after IXFR');
});

t.test('Knot primary with the wrong TSIG secret: nothing transferred, the zone answers SERVFAIL', async (t) => {
  const gen = generateZone({ origin: 'example.net.', seed: 5, names: 20 });
  const knot = await startKnotPrimary({ [gen.origin]: gen.text }, { key: KEY });
  t.teardown(() => knot.stop());
  const d = await startDaemon({
    zones: [],
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
      `keys:\n  - name: ${KEY.name}\n    algorithm: ${KEY.algorithm}\n    secret: "${Buffer.from('not the right secret').toString('base64')}"\n` +
      `zones:\n  - name: ${gen.origin}\n    primaries:\n      - { address: "127.0.0.1:${knot.port}", key: ${KEY.name} }\n`,
  });
  t.teardown(() => d.stop());
  const deadline = Date.now() + 10000;
  while (!/TSIG check failed/.test(d.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.match(d.output(), /"zone transfer failed"/, 'the failure is logged');
  t.match(d.output(), /TSIG check failed: peer reported TSIG BADSIG/, 'as a TSIG error');
  const m = parseMessage(await queryUdp({ host: d.host, port: d.port }, { name: gen.origin, type: 6 }));
  t.equal(m.rcode, 2, 'SERVFAIL while the zone has never been transferred');
});

t.test('BIND primary offering AXFR only: transfers by AXFR, follows a NOTIFY', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'secondaryd-named-'));
  let named: ChildProcess | undefined;
  // named first (it may still be writing into dir: rm then failed with ENOTEMPTY), then its dir.
  t.teardown(async () => {
    if (named !== undefined && named.exitCode === null && named.signalCode === null) {
      const exited = new Promise((r) => named!.once('exit', r));
      named.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const gen = generateZone({ origin: 'example.org.', seed: 9, names: 60 });
  const zone = gen.origin;
  const bindPort = await freePort();
  const ourPort = await freePort();
  const zoneFile = path.join(dir, 'zone.db');
  await writeFile(zoneFile, withSerial(gen.text, 7));
  const conf = path.join(dir, 'named.conf');
  await writeFile(
    conf,
    `options {\n  directory "${dir}";\n  pid-file "${dir}/named.pid";\n  listen-on port ${bindPort} { 127.0.0.1; };\n  listen-on-v6 { none; };\n` +
      `  recursion no;\n  check-names primary ignore;\n  allow-transfer { 127.0.0.1; };\n  provide-ixfr no;\n  notify explicit;\n  also-notify { 127.0.0.1 port ${ourPort}; };\n  dnssec-validation no;\n};\n` +
      `controls { };\nzone "${zone}" { type primary; file "${zoneFile}"; };\n`,
  );
  execFileSync('named-checkconf', [conf]);
  named = spawn('named', ['-g', '-c', conf, '-p', String(bindPort), '-u', 'root'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let bindOut = '';
  named.stdout!.on('data', (b) => (bindOut += b));
  named.stderr!.on('data', (b) => (bindOut += b));
  const bind = { host: '127.0.0.1', port: bindPort };
  await waitSerial(bind, zone, 7, 30000).catch((e: Error) => {
    throw new Error(`${e.message}\n${bindOut}`);
  });
  const d = await startDaemon({
    port: ourPort,
    zones: [],
    configText: `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n  - name: ${zone}\n    primaries: ["127.0.0.1:${bindPort}"]\n`,
  });
  t.teardown(() => d.stop());
  const ours = { host: d.host, port: d.port };
  await waitSerial(ours, zone, 7);
  t.match(await transferOf(d, 7), { kind: 'AXFR', serial: 7 });

  await writeFile(zoneFile, withSerial(gen.text, 8) + 'bind-added 60 IN A 192.0.2.250\n');
  named.kill('SIGHUP'); // named reloads its zones and NOTIFYs the also-notify list
  await waitSerial(ours, zone, 8, 20000).catch((e: Error) => {
    throw new Error(`${e.message}\n${bindOut.slice(-2000)}\n${d.output().slice(-3000)}`);
  });
  t.match(await transferOf(d, 8), { kind: 'AXFR', serial: 8 }, 'an IXFR answered in AXFR form is taken as AXFR');
  const r = await runDifferential({ a: ours, b: bind, queries: gen.queries.filter((q) => q.type !== 255), transports: [TRANSPORTS.tcp], compare: { additional: 'never' } });
  // BIND answers differently from Knot where the RFCs leave room (CNAME chain length, DNAME, ANY,
  // wildcards below empty non-terminals, EDE): the data, not the policy, is what the transfer
  // carried, so compare the direct hits: BIND's authoritative NOERROR answers without CNAME/DNAME.
  const directHit = (m: { b: Buffer | Error }): boolean => {
    if (m.b instanceof Error) return false;
    const b = parseMessage(m.b);
    return b.rcode === 0 && b.aa && b.answer.length > 0 && b.answer.every((rr) => rr.type !== 5 && rr.type !== 39);
  };
  const answerDiffs = r.mismatches.filter((m) => m.query.class !== 3 && directHit(m) && m.diffs.some((x) => /^(answer|rcode)/.test(x)));
  t.equal(answerDiffs.length, 0, `direct hits identical to BIND's among ${r.compared} queries\n${formatMismatches(answerDiffs, 5, ['secondaryd', 'bind'])}`);
});

t.test('primaries are tried in order: a dead first primary fails over to the next', async (t) => {
  const gen = generateZone({ origin: 'failover.test.', seed: 11, names: 20 });
  const knot = await startKnotPrimary({ [gen.origin]: withSerial(gen.text, 3) });
  t.teardown(() => knot.stop());
  const dead = await freePort(); // nothing listens there: connections are refused
  const d = await startDaemon({
    zones: [],
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
      `zones:\n  - name: ${gen.origin}\n    primaries: ["127.0.0.1:${dead}", "127.0.0.1:${knot.port}"]\n`,
  });
  t.teardown(() => d.stop());
  await waitSerial({ host: d.host, port: d.port }, gen.origin, 3, 10000);
  t.match(await transferOf(d, 3), { kind: 'AXFR', remote: `127.0.0.1:${knot.port}` }, 'transferred from the second primary');
});
