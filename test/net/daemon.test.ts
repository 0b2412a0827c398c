// The running daemon over real sockets: IPv4 and IPv6 listeners, DNS over TCP (RFC 7766: several
// queries per connection, idle timeout, connection cap), broken zone files, CLI exit codes.

import net from 'node:net';
import t from 'tap';
import { parseMessage } from '../helpers/compare.js';
import { buildQuery, frameTcp, queryTcp, queryUdp, sendTcp } from '../helpers/dnsclient.js';
import { freePort } from '../helpers/ports.js';
import { runCli, startDaemon } from '../helpers/secondaryd.js';

const GOOD = `$ORIGIN good.test.
$TTL 60
@ SOA ns h 1 2 3 4 5
@ NS ns
ns A 192.0.2.1
www A 192.0.2.2
`;

const BROKEN = `$ORIGIN broken.test.
$TTL 60
@ SOA ns h 1 2 3 4 5
@ NS ns
www A 192.0.2.300
ftp A 1.2.3
`;

const a = (buf: Buffer): string[] => parseMessage(buf).answer.map((r) => [...r.rdata].join('.'));

t.test('a broken zone file is reported with FILE:LINE and the other zones serve', async (t) => {
  const d = await startDaemon({ zones: [{ name: 'good.test', text: GOOD }, { name: 'broken.test', text: BROKEN }] });
  t.teardown(() => d.stop());
  const ep = { host: d.host, port: d.port };
  t.same(a(await queryUdp(ep, { name: 'www.good.test', type: 1 })), ['192.0.2.2']);
  t.equal(parseMessage(await queryUdp(ep, { name: 'www.broken.test', type: 1 })).rcode, 5, 'the broken zone is not served: REFUSED');
  t.match(d.output(), /broken\.test\.zone:5:\d+: .*192\.0\.2\.300/, 'the log names file:line:col and the bad value');
  // `check` reports the same and fails.
  const r = await runCli(['check', '-c', d.configPath]);
  t.equal(r.code, 1);
  t.match(r.stderr, /broken\.test\.zone:5:\d+:/);
  t.match(r.stderr, /broken\.test\.zone:6:\d+:/, 'every problem of the file, not just the first');
});

t.test('IPv6 and IPv4 listeners, UDP and TCP', async (t) => {
  const port = await freePort('127.0.0.1');
  const d = await startDaemon({
    zones: [],
    configText: `server:\n  listen: ["127.0.0.1:${port}", "[::1]:${port}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n  - name: good.test\n    file: "{DIR}/good.zone"\n`,
    files: { 'good.zone': GOOD },
  });
  t.teardown(() => d.stop());
  for (const host of ['127.0.0.1', '::1']) {
    t.same(a(await queryUdp({ host, port }, { name: 'www.good.test', type: 1 })), ['192.0.2.2'], `UDP ${host}`);
    t.same(a(await queryTcp({ host, port }, { name: 'www.good.test', type: 1 })), ['192.0.2.2'], `TCP ${host}`);
  }
});

t.test('DNS over TCP: pipelining, idle timeout, connection cap (RFC 7766)', async (t) => {
  const d = await startDaemon({
    zones: [{ name: 'good.test', text: GOOD }],
    serverYaml: '  tcp-idle-timeout: 1s\n  tcp-max-connections: 3\n',
  });
  t.teardown(() => d.stop());
  const ep = { host: d.host, port: d.port };
  // 50 queries in one write on one connection: 50 answers, matched by ID.
  const msgs = Array.from({ length: 50 }, (_, i) => buildQuery({ name: i % 2 ? 'www.good.test' : 'ns.good.test', type: 1 }, { id: 1000 + i }));
  const replies = await sendTcp(ep, msgs);
  t.equal(replies.length, 50);
  t.same(replies.map((r) => a(r)[0]), msgs.map((_, i) => (i % 2 ? '192.0.2.2' : '192.0.2.1')), 'every pipelined query answered');

  // Idle connections are closed after tcp-idle-timeout.
  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const c = net.connect(d.port, d.host);
    c.on('close', () => resolve(Date.now() - started));
    c.on('error', () => {});
  });
  t.ok(closedAfter >= 900 && closedAfter < 5000, `idle connection closed after ${closedAfter} ms`);

  // With 3 connections held open, a 4th is not served; once they go, service resumes.
  const held = await Promise.all(
    Array.from({ length: 3 }, () => new Promise<net.Socket>((r) => {
      const c: net.Socket = net.connect(d.port, d.host, () => r(c));
      c.on('error', () => {});
    })),
  );
  await new Promise((r) => setTimeout(r, 50));
  const fourth = await new Promise<string>((resolve) => {
    const c = net.connect(d.port, d.host, () => c.write(frameTcp(buildQuery({ name: 'www.good.test', type: 1 }))));
    c.on('data', () => resolve('answered'));
    c.on('close', () => resolve('closed'));
    c.on('error', () => resolve('closed'));
  });
  t.equal(fourth, 'closed', 'connection over the cap is closed unanswered');
  for (const c of held) c.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.same(a(await queryTcp(ep, { name: 'www.good.test', type: 1 })), ['192.0.2.2'], 'served again below the cap');
});

t.test('CLI: bad config at start exits 78 with FILE:LINE:COL; SIGTERM exits 0', async (t) => {
  const d = await startDaemon({ zones: [{ name: 'good.test', text: GOOD }] });
  t.equal(await d.stop(), 0, 'SIGTERM: exit 0');
  const bad = await startDaemon({ zones: [], configText: 'server:\n  listen: ["127.0.0.1:{PORT}"]\n  lisen: 1\n' }).catch((e: Error) => e);
  t.type(bad, Error);
  t.match((bad as Error).message, /exited with 78/);
  t.match((bad as Error).message, /secondaryd\.yaml:3:3: unknown key "lisen"; did you mean "listen"\?/);
});
