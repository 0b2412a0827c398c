// The control socket and the CLI subcommands that use it: status, refresh, retransfer, reload, dump.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { TRANSPORTS } from '../helpers/dnsclient.js';
import { runDifferential } from '../helpers/differential.js';
import { startKnot } from '../helpers/knot.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { runCli, startDaemon } from '../helpers/secondaryd.js';
import { generateZone } from '../helpers/zonegen.js';

t.test('status, refresh, retransfer, reload and dump against a running daemon', async (t) => {
  const gen = generateZone({ origin: 'ctl.test.', seed: 3, names: 80 });
  const knot = await startKnotPrimary({ [gen.origin]: gen.text });
  t.teardown(() => knot.stop());
  const d = await startDaemon({
    zones: [],
    files: { 'file.zone': '$ORIGIN file.test.\n$TTL 60\n@ SOA ns h 5 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' },
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
      `zones:\n  - name: ${gen.origin}\n    primaries: ["127.0.0.1:${knot.port}"]\n  - name: file.test\n    file: "{DIR}/file.zone"\n`,
  });
  t.teardown(() => d.stop());
  const cli = (...args: string[]) => runCli([...args, '-c', d.configPath]);
  const transfers = (): number => d.output().split('\n').filter((l) => l.includes('"msg":"zone transferred"') && l.includes('"records"')).length;
  const until = async (f: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10000;
    while (!f() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  await until(() => transfers() >= 1);

  // status: a table by default, JSON with --json; exit 0 when every zone is fine.
  const table = await cli('status');
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /^ZONE\s+HEALTH\s+STATE\s+SERIAL\s+PRIMARY SERIAL\s+LAST SUCCESS\s+NEXT REFRESH\s+EXPIRES IN\s+PROBLEMS/);
  t.match(table.stdout, /ctl\.test\.\s+fresh\s+fresh\s+\d+/);
  t.match(table.stdout, /file\.test\.\s+fresh\s+loaded\s+5/);
  const json = await cli('status', 'CTL.test', '--json');
  const rows = JSON.parse(json.stdout) as { zone: string; state: string; kind: string; serial: number; primary: string; expiresIn: number }[];
  t.equal(rows.length, 1);
  t.match(rows[0], { zone: 'ctl.test.', kind: 'secondary', state: 'fresh', primary: `127.0.0.1:${knot.port}` });
  t.ok(rows[0]!.expiresIn > 0);

  // retransfer: a full AXFR now; refresh: an SOA check now (no transfer: the serial is the same).
  const before = transfers();
  t.equal((await cli('retransfer', 'ctl.test')).code, 0);
  await until(() => transfers() > before);
  t.equal(transfers(), before + 1, 'retransfer made one more transfer');
  t.match(d.output().split('\n').filter((l) => l.includes('"msg":"zone transferred"')).at(-1), /"kind":"AXFR"/, 'by AXFR');
  t.equal((await cli('refresh', 'ctl.test')).code, 0);
  t.equal((await cli('refresh', 'file.test')).code, 1, 'refresh of a file zone is an error');
  t.equal((await cli('status', 'nope.test')).code, 1, 'unknown zone');

  // dump: master-file text that named-checkzone accepts and that Knot serves with the same answers.
  const dump = await cli('dump', 'ctl.test');
  t.equal(dump.code, 0, dump.stderr);
  const file = join(d.dir, 'dumped.zone');
  writeFileSync(file, dump.stdout);
  const check = execFileSync('named-checkzone', ['-i', 'none', '-k', 'ignore', '-n', 'ignore', 'ctl.test', file], { encoding: 'utf8' });
  t.match(check, /OK/, 'named-checkzone accepts the dump');
  const reloaded = await startKnot({ zones: [{ name: 'ctl.test.', file }] });
  t.teardown(() => reloaded.stop());
  const r = await runDifferential({ a: { host: d.host, port: d.port }, b: reloaded, queries: gen.queries, transports: [TRANSPORTS.udp1232] });
  t.equal(r.mismatches.length, 0, `the dump reloads to the same answers (${r.compared} queries)`);

  // reload: a new file zone appears; a broken config is refused and the running one stays.
  writeFileSync(join(d.dir, 'new.zone'), '$ORIGIN new.test.\n$TTL 60\n@ SOA ns h 9 2 3 4 5\n@ NS ns\nns A 192.0.2.9\n');
  const { readFileSync } = await import('node:fs');
  const original = readFileSync(d.configPath, 'utf8');
  writeFileSync(d.configPath, `${original}  - name: new.test\n    file: "${join(d.dir, 'new.zone')}"\n`);
  t.equal((await cli('reload')).code, 0);
  t.match((await cli('status', 'new.test')).stdout, /new\.test\.\s+fresh\s+loaded\s+9/);
  writeFileSync(d.configPath, `${original}  - name: new.test\n    fiel: x\n`);
  const bad = await cli('reload');
  t.equal(bad.code, 1);
  t.match(bad.stderr, /unknown key "fiel"; did you mean "file"\?/);
  t.match((await cli('status', 'new.test')).stdout, /new\.test\.\s+fresh\s+loaded\s+9/, 'the running config stays');
});

t.test('status exits 2 when the daemon is not running', async (t) => {
  const d = await startDaemon({ zones: [{ name: 'x.test', text: '$ORIGIN x.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' }] });
  const config = d.configPath;
  const { copyFileSync, mkdtempSync } = await import('node:fs');
  const keep = join(mkdtempSync('/tmp/sd-'), 'c.yaml');
  copyFileSync(config, keep);
  await d.stop();
  const r = await runCli(['status', '-c', keep]);
  t.equal(r.code, 2);
  t.match(r.stderr, /cannot reach the daemon/);
});
