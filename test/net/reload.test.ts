// Reload of a changed secondary zone: the new settings are used, the data and timers are kept.

import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { parseMessage } from '../helpers/compare.js';
import { queryUdp } from '../helpers/dnsclient.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { runCli, startDaemon } from '../helpers/secondaryd.js';

const zone = (serial: number): string => `$ORIGIN re.test.\n$TTL 60\n@ SOA ns h ${serial} 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.${serial}\n`;

t.test('changed primaries on reload: still serving, next refresh asks the new primary', async (t) => {
  const a = await startKnotPrimary({ 're.test.': zone(1) });
  t.teardown(() => a.stop());
  const b = await startKnotPrimary({ 're.test.': zone(2) });
  t.teardown(() => b.stop());
  const head = `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n  - name: re.test\n    primaries: `;
  const d = await startDaemon({ zones: [], configText: `${head}["127.0.0.1:${a.port}"]\n` });
  t.teardown(() => d.stop());
  const ep = { host: d.host, port: d.port };
  const www = async (): Promise<string> => {
    const m = parseMessage(await queryUdp(ep, { name: 'www.re.test', type: 1 }));
    return m.answer.map((r) => [...r.rdata].join('.')).join(',') || `rcode ${m.rcode}`;
  };
  const until = async (want: string): Promise<string> => {
    const deadline = Date.now() + 10000;
    let got = await www();
    while (got !== want && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      got = await www();
    }
    return got;
  };
  t.equal(await until('192.0.2.1'), '192.0.2.1', 'pulled from the first primary');

  writeFileSync(d.configPath, readFileSync(d.configPath, 'utf8').replace(`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`));
  t.equal((await runCli(['reload', '-c', d.configPath])).code, 0);
  t.equal(await www(), '192.0.2.1', 'the data is kept through the reload');
  t.match(d.output(), /zone settings changed: re-planned, data and timers kept/);
  const st = JSON.parse((await runCli(['status', 're.test', '--json', '-c', d.configPath])).stdout) as { state: string; serial: number }[];
  t.match(st[0], { state: 'fresh', serial: 1 }, 'the timers are kept: still fresh');

  t.equal((await runCli(['refresh', 're.test', '-c', d.configPath])).code, 0);
  t.equal(await until('192.0.2.2'), '192.0.2.2', 'the next check asks the new primary');
});

t.test('SIGHUP under a query stream: zones added, removed, changed, a listener added; no query fails', async (t) => {
  const { freePort } = await import('../helpers/ports.js');
  const { sendUdp, buildQuery } = await import('../helpers/dnsclient.js');
  const z = (name: string, serial: number): string => `$ORIGIN ${name}.\n$TTL 60\n@ SOA ns h ${serial} 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.${serial}\n`;
  const port2 = await freePort();
  const cfg = (zones: string[], listen: string): string =>
    `server:\n  listen: [${listen}]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n` + zones.map((n) => `  - name: ${n}\n    file: "{DIR}/${n}.zone"\n`).join('');
  const d = await startDaemon({ zones: [], files: { 'a.test.zone': z('a.test', 1), 'b.test.zone': z('b.test', 1), 'c.test.zone': z('c.test', 3) }, configText: cfg(['a.test', 'b.test'], '"127.0.0.1:{PORT}"') });
  t.teardown(() => d.stop());
  const ep = { host: d.host, port: d.port };
  const answer = async (e: { host: string; port: number }, name: string): Promise<string> => {
    const m = parseMessage(await sendUdp(e, buildQuery({ name, type: 1 }), 1000));
    return m.rcode === 0 ? m.answer.map((r) => [...r.rdata].join('.')).join(',') : `rcode ${m.rcode}`;
  };

  // A steady stream of queries for a zone that stays, all through the reload.
  let sent = 0;
  const failures: string[] = [];
  let running = true;
  const stream = (async () => {
    while (running) {
      const batch = Array.from({ length: 20 }, () => answer(ep, 'www.a.test').catch((e: Error) => `error ${e.message}`));
      for (const r of await Promise.all(batch)) {
        sent++;
        if (r !== '192.0.2.1' && r !== '192.0.2.2') failures.push(r);
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(`${d.dir}/a.test.zone`, z('a.test', 2));
  writeFileSync(d.configPath, cfg(['a.test', 'c.test'], `"127.0.0.1:${d.port}", "127.0.0.1:${port2}"`).replaceAll('{DIR}', d.dir));
  d.signal('SIGHUP');
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && (await answer(ep, 'www.c.test').catch(() => '')) !== '192.0.2.3') await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  running = false;
  await stream;
  t.ok(sent > 200, `${sent} queries during the reload`);
  t.same(failures, [], 'no query failed or timed out');
  t.equal(await answer(ep, 'www.a.test'), '192.0.2.2', 'the changed zone file is served');
  t.equal(await answer(ep, 'www.b.test'), 'rcode 5', 'the removed zone is REFUSED');
  t.equal(await answer(ep, 'www.c.test'), '192.0.2.3', 'the added zone is served');
  t.equal(await answer({ host: '127.0.0.1', port: port2 }, 'www.c.test'), '192.0.2.3', 'the new listen address answers');

  // The file watch: an edit is picked up without a signal.
  writeFileSync(`${d.dir}/w.test.zone`, z('w.test', 7));
  writeFileSync(d.configPath, cfg(['a.test', 'c.test', 'w.test'], `"127.0.0.1:${d.port}"`).replaceAll('{DIR}', d.dir));
  const until = Date.now() + 10000;
  let w = '';
  while (Date.now() < until && (w = await answer(ep, 'www.w.test').catch(() => '')) !== '192.0.2.7') await new Promise((r) => setTimeout(r, 100));
  t.equal(w, '192.0.2.7', 'a config edit is applied by the file watch');
  t.match(d.output(), /"msg":"config file changed"/);
  t.match(await answer({ host: '127.0.0.1', port: port2 }, 'www.c.test').catch((e: Error) => e.message), /timed out|timeout/i, 'the listener dropped from the config is closed');
});

t.test('SIGTERM: exit 0, and the state it leaves loads at the next start', async (t) => {
  const k = await startKnotPrimary({ 're.test.': zone(5) });
  const head = `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n  - name: re.test\n    primaries: ["127.0.0.1:${k.port}"]\n`;
  const d = await startDaemon({ zones: [], configText: head });
  const ep = { host: d.host, port: d.port };
  const serial = async (e: { host: string; port: number }): Promise<number | undefined> => {
    const m = parseMessage(await queryUdp(e, { name: 're.test', type: 6 }));
    const soa = m.answer.find((r) => r.type === 6);
    return soa ? soa.rdata.readUInt32BE(soa.rdata.length - 20) : undefined;
  };
  const deadline = Date.now() + 10000;
  while ((await serial(ep)) !== 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  d.signal('SIGTERM');
  const code = await new Promise<number | null>((r) => d.child.on('exit', (c) => r(c)));
  t.equal(code, 0, 'exit 0');
  t.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
  await k.stop(); // the primary is gone: the next start must serve from disk
  const again = await startDaemon({ zones: [], dir: d.dir, port: d.port, configText: head });
  t.teardown(() => again.stop());
  t.equal(await serial({ host: again.host, port: again.port }), 5, 'served at once from the state left on disk');
});
