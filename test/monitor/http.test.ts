// The HTTP endpoint: /metrics in Prometheus text format, /healthz naming the zones in trouble, /status.

import t from 'tap';
import { queryTcp, queryUdp } from '../helpers/dnsclient.js';
import { freePort } from '../helpers/ports.js';
import { runCli, startDaemon } from '../helpers/secondaryd.js';

t.test('/metrics, /healthz and /status of a daemon with a healthy and a failing zone', async (t) => {
  const httpPort = await freePort();
  const dead = await freePort(); // a primary that refuses every connection
  const d = await startDaemon({
    zones: [],
    files: { 'ok.zone': '$ORIGIN ok.test.\n$TTL 60\n@ SOA ns h 42 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' },
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n  http: "127.0.0.1:${httpPort}"\n` +
      `zones:\n  - name: ok.test\n    file: "{DIR}/ok.zone"\n  - name: down.test\n    primaries: ["127.0.0.1:${dead}"]\n    retry-min: 1s\n`,
  });
  t.teardown(() => d.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; i < 3; i++) await queryUdp({ host: d.host, port: d.port }, { name: 'ns.ok.test', type: 1 });
  // An AXFR nobody is allowed (no allow-transfer): refused, and counted.
  const refused = await queryTcp({ host: d.host, port: d.port }, { name: 'ok.test', type: 252 });
  t.equal(refused[3]! & 0xf, 9, 'NOTAUTH');
  // Wait until the failing zone counts as failing (alerts.failing-after: 2 attempts in a row).
  const deadline = Date.now() + 15000;
  while (!/"event":"failing"/.test(d.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 503, 'a zone that cannot be transferred makes the server unhealthy');
  const body = (await health.json()) as { ok: boolean; zones: { zone: string; state: string; lastError: { reason: string } | null }[] };
  t.equal(body.ok, false);
  t.same(body.zones.map((z) => z.zone), ['down.test.'], 'only the failing zone is named');
  t.equal(body.zones[0]!.lastError?.reason, 'unreachable');

  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /^# TYPE secondaryd_zone_serial gauge$/m);
  t.match(metrics, /^secondaryd_zone_serial\{zone="ok\.test\."\} 42$/m);
  t.match(metrics, /^secondaryd_zone_state\{zone="ok\.test\.",state="loaded"\} 1$/m);
  t.match(metrics, /^secondaryd_zone_state\{zone="down\.test\.",state="loading"\} 1$/m);
  t.match(metrics, /^secondaryd_zone_consecutive_failures\{zone="down\.test\."\} [1-9]\d*$/m);
  t.match(metrics, /^secondaryd_queries_total\{transport="udp"\} [3-9]\d*$/m, 'the queries are counted');
  t.match(metrics, /^secondaryd_responses_total\{transport="udp",rcode="NOERROR"\} [3-9]\d*$/m);
  t.match(metrics, /^secondaryd_zone_health\{zone="down\.test\.",health="failing"\} 1$/m);
  t.match(metrics, /^secondaryd_zone_condition\{zone="down\.test\.",condition="failing"\} 1$/m);
  t.match(metrics, /^secondaryd_zone_records\{zone="ok\.test\."\} 3$/m);
  t.match(metrics, /^secondaryd_tcp_connections [01]$/m);
  t.match(metrics, /^secondaryd_transfers_out_total\{kind="AXFR",result="refused"\} 1$/m);
  t.match(metrics, /^secondaryd_transfers_total\{kind="AXFR",result="failed"\} [1-9]\d*$/m);

  const status = (await (await fetch(`${base}/status`)).json()) as { zone: string }[];
  const cli = JSON.parse((await runCli(['status', '--json', '-c', d.configPath])).stdout) as { zone: string }[];
  t.same(status.map((s) => s.zone), cli.map((s) => s.zone), '/status has the rows of `secondaryd status --json`');
  t.equal((await fetch(`${base}/nope`)).status, 404);
});

t.test('/healthz is 200 when every zone is served fresh', async (t) => {
  const httpPort = await freePort();
  const d = await startDaemon({
    zones: [],
    files: { 'ok.zone': '$ORIGIN ok.test.\n$TTL 60\n@ SOA ns h 42 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' },
    configText: `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n  http: "127.0.0.1:${httpPort}"\nzones:\n  - name: ok.test\n    file: "{DIR}/ok.zone"\n`,
  });
  t.teardown(() => d.stop());
  const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
  t.equal(r.status, 200);
  t.same(await r.json(), { ok: true });
});
