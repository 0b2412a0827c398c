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
