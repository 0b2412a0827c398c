// Alert delivery against real sockets and real processes: a node:http receiver on 127.0.0.1 and
// commands run by /bin/sh.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLogger } from '../../src/log.js';
import { AlertNotifier, alertEnv, envName, type AlertDocument, type AlertLogger, type AlertTargets } from '../../src/monitor/notifier.js';

interface Entry {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [k: string]: unknown;
}

function capture(): AlertLogger & { entries: Entry[]; at(level: Entry['level']): Entry[] } {
  const entries: Entry[] = [];
  const push = (level: Entry['level']) => (obj: object, msg: string) => entries.push({ ...obj, level, msg });
  return { entries, info: push('info'), warn: push('warn'), error: push('error'), at: (level) => entries.filter((e) => e.level === level) };
}

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: `respond` answers each request (or never does, by not ending `res`). */
async function receiver(
  t: Test,
  respond: (res: http.ServerResponse, n: number, body: string) => void,
): Promise<{ url: string; requests: Received[]; close(): Promise<void> }> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, headers: req.headers, body });
      respond(res, requests.length, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = async (): Promise<void> => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  t.teardown(close);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, requests, close };
}

/** A directory of its own (t.testdir() is shared by concurrent runs of this file). */
function tempdir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'secondaryd-notifier-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ok = (res: http.ServerResponse): void => void res.writeHead(200).end('ok');
const NONE: AlertTargets = { webhookTimeout: 5, webhookRetries: 0, commandTimeout: 5 };
const alert = (event: string, extra: Record<string, unknown> = {}): AlertDocument => ({ event, zone: 'example.com.', message: `zone is ${event}`, ...extra });

/** A pid that still runs (not a zombie waiting to be reaped). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

t.test('a pino Logger is an AlertLogger', async (t) => {
  const logger: AlertLogger = createLogger('silent');
  t.ok(logger);
});

t.test('env names: camelCase, kebab-case and acronyms to SECONDARYD_UPPER_SNAKE', async (t) => {
  t.equal(envName('zone'), 'SECONDARYD_ZONE');
  t.equal(envName('primarySerial'), 'SECONDARYD_PRIMARY_SERIAL');
  t.equal(envName('primary-serial'), 'SECONDARYD_PRIMARY_SERIAL');
  t.equal(envName('lastSOASerial'), 'SECONDARYD_LAST_SOA_SERIAL');
  t.equal(envName('expiresIn2d'), 'SECONDARYD_EXPIRES_IN2D');
  t.same(alertEnv({ event: 'e', zone: 'z.', message: 'm', n: 3, b: false, nil: null, gone: undefined, o: { a: [1] }, l: [1, 'x'] } as AlertDocument), {
    SECONDARYD_EVENT: 'e',
    SECONDARYD_ZONE: 'z.',
    SECONDARYD_MESSAGE: 'm',
    SECONDARYD_N: '3',
    SECONDARYD_B: 'false',
    SECONDARYD_NIL: '',
    SECONDARYD_O: '{"a":[1]}',
    SECONDARYD_L: '[1,"x"]',
  });
});

t.test('webhook: the JSON documents arrive in order, with content type and user agent; send() returns first', async (t) => {
  const r = await receiver(t, ok);
  const log = capture();
  const n = new AlertNotifier({ logger: log, userAgent: 'secondaryd/1.2.3' });
  const docs = [alert('failing', { primarySerial: 7, nested: { a: [1, 2] }, gone: null }), alert('recovered'), alert('stale', { zone: 'other.test.' })];
  for (const d of docs) n.send(d, { ...NONE, webhook: r.url });
  t.equal(r.requests.length, 0, 'send() returned before the receiver saw anything');
  await n.idle();
  t.same(r.requests.map((q) => q.body), docs.map((d) => JSON.stringify(d)), 'exactly the documents, in order');
  t.same(r.requests.map((q) => JSON.parse(q.body)), docs);
  for (const q of r.requests) {
    t.equal(q.method, 'POST');
    t.equal(q.headers['content-type'], 'application/json');
    t.equal(q.headers['user-agent'], 'secondaryd/1.2.3');
  }
  t.equal(n.stats()['webhook:ok'], 3);
  t.same(n.stats(), { 'webhook:ok': 3, 'webhook:failed': 0, 'webhook:dropped': 0, 'command:ok': 0, 'command:failed': 0, 'command:dropped': 0 });
  const infos = log.at('info');
  t.equal(infos.length, 3);
  t.match(infos[0], { op: 'alert', zone: 'example.com.', event: 'failing', remote: r.url, attempt: 1, durationMs: Number });
  t.same(log.at('warn').concat(log.at('error')), []);
  await n.close();
});

t.test('webhook: 500 twice then 200 is exactly 3 POSTs and delivered; later alerts wait behind the retries', async (t) => {
  const r = await receiver(t, (res, n) => void (n <= 2 ? res.writeHead(500).end('busy') : res.writeHead(200).end()));
  const log = capture();
  const n = new AlertNotifier({ logger: log, backoffBaseMs: 10 });
  n.send(alert('failing'), { ...NONE, webhook: r.url, webhookRetries: 5 });
  n.send(alert('recovered'), { ...NONE, webhook: r.url, webhookRetries: 5 });
  await n.idle();
  t.same(r.requests.map((q) => JSON.parse(q.body).event), ['failing', 'failing', 'failing', 'recovered'], 'the second alert did not overtake the retried first');
  t.equal(n.stats()['webhook:ok'], 2);
  t.equal(n.stats()['webhook:failed'], 0);
  const warns = log.at('warn');
  t.equal(warns.length, 2, 'one warning per failed attempt');
  t.match(warns[0], { op: 'alert', zone: 'example.com.', event: 'failing', remote: r.url, attempt: 1, err: { message: 'HTTP 500: busy' }, retryInMs: 10 });
  t.match(warns[1], { attempt: 2, retryInMs: 20 });
  t.match(log.at('info')[0], { event: 'failing', attempt: 3 });
  t.same(log.at('error'), []);
  await n.close();
});

t.test('webhook: a receiver that never answers times out per attempt; given up after retries + 1 attempts', async (t) => {
  const r = await receiver(t, () => {}); // never responds
  const log = capture();
  const n = new AlertNotifier({ logger: log, backoffBaseMs: 10 });
  const started = Date.now();
  n.send(alert('failing'), { ...NONE, webhook: r.url, webhookTimeout: 0.2, webhookRetries: 2 });
  await n.idle();
  t.ok(Date.now() - started < 10_000, 'does not hang');
  t.equal(r.requests.length, 3, '3 attempts');
  t.same(n.stats()['webhook:failed'], 1);
  t.equal(log.at('warn').length, 2);
  const errors = log.at('error');
  t.equal(errors.length, 1, 'the give-up is an error');
  t.match(errors[0], { op: 'alert', zone: 'example.com.', event: 'failing', remote: r.url, attempt: 3, err: { message: 'no response within 0.2s' }, msg: /giving up/ });
  await n.close();
});

t.test('webhook: a 4xx or a bad URL is not retried, 429 and a refused connection are', async (t) => {
  const r404 = await receiver(t, (res) => void res.writeHead(404).end());
  const r429 = await receiver(t, (res, n) => void (n === 1 ? res.writeHead(429, { 'retry-after': '0' }).end() : res.writeHead(204).end()));
  const gone = await receiver(t, ok);
  await gone.close(); // nothing listens there any more
  const log = capture();
  const n = new AlertNotifier({ logger: log, backoffBaseMs: 10 });
  n.send(alert('a'), { ...NONE, webhook: r404.url, webhookRetries: 3 });
  n.send(alert('b'), { ...NONE, webhook: r429.url, webhookRetries: 3 });
  n.send(alert('c'), { ...NONE, webhook: gone.url, webhookRetries: 1 });
  n.send(alert('d'), { ...NONE, webhook: 'ftp://127.0.0.1/x', webhookRetries: 3 });
  await n.idle();
  t.equal(r404.requests.length, 1, '404: one POST');
  t.equal(r429.requests.length, 2, '429: retried, then delivered');
  t.match(n.stats(), { 'webhook:ok': 1, 'webhook:failed': 3 });
  const errors = log.at('error');
  t.match(errors.find((e) => e.event === 'a'), { attempt: 1, err: { message: 'HTTP 404' }, msg: /not retrying/ });
  t.match(errors.find((e) => e.event === 'c'), { attempt: 2, err: { message: /ECONNREFUSED/ } });
  t.match(errors.find((e) => e.event === 'd'), { attempt: 1, err: { message: /not an http/ } });
  await n.close();
});

t.test('webhook: credentials in the URL go in an Authorization header, not in the logs', async (t) => {
  const r = await receiver(t, ok);
  const log = capture();
  const n = new AlertNotifier({ logger: log });
  const url = r.url.replace('http://', 'http://user:secret@');
  n.send(alert('a'), { ...NONE, webhook: url });
  await n.idle();
  t.equal(r.requests[0]!.headers.authorization, `Basic ${Buffer.from('user:secret').toString('base64')}`, 'the receiver gets them');
  t.notMatch(JSON.stringify(log.entries), /secret/);
  await n.close();
});

t.test('command: the JSON on stdin and the fields in SECONDARYD_* variables', async (t) => {
  const dir = tempdir(t);
  const r = await receiver(t, ok);
  const log = capture();
  const n = new AlertNotifier({ logger: log });
  const doc = alert('failing', { primarySerial: 2024010101, 'kebab-key': 'k v', served: true, lastError: null, detail: { reason: 'refused', n: 2 } });
  const command = `cat > ${dir}/doc; env | grep ^SECONDARYD_ | sort > ${dir}/env`;
  n.send(doc, { ...NONE, webhook: r.url, command });
  await n.idle();
  t.equal(readFileSync(join(dir, 'doc'), 'utf8'), JSON.stringify(doc) + '\n');
  t.same(readFileSync(join(dir, 'env'), 'utf8').trim().split('\n'), [
    'SECONDARYD_DETAIL={"reason":"refused","n":2}',
    'SECONDARYD_EVENT=failing',
    'SECONDARYD_KEBAB_KEY=k v',
    'SECONDARYD_LAST_ERROR=',
    'SECONDARYD_MESSAGE=zone is failing',
    'SECONDARYD_PRIMARY_SERIAL=2024010101',
    'SECONDARYD_SERVED=true',
    'SECONDARYD_ZONE=example.com.',
  ]);
  t.equal(r.requests.length, 1, 'the webhook got it too');
  t.match(n.stats(), { 'webhook:ok': 1, 'command:ok': 1 });
  t.match(log.at('info').find((e) => e.command !== undefined), { op: 'alert', zone: 'example.com.', event: 'failing', command, durationMs: Number });
  await n.close();
});

t.test('command: one that does not read its stdin is fine; big fields are cut in the environment', async (t) => {
  const dir = tempdir(t);
  const log = capture();
  const n = new AlertNotifier({ logger: log });
  // 1 MiB: more than a pipe holds, and more than one exec string may be (E2BIG).
  n.send(alert('big', { blob: 'x'.repeat(1 << 20) }), { ...NONE, command: `echo \${#SECONDARYD_BLOB} > ${dir}/len; exit 0` });
  await n.idle();
  t.same(n.stats()['command:ok'], 1);
  t.same(log.at('error'), []);
  t.equal(readFileSync(join(dir, 'len'), 'utf8'), '16384\n', 'the variable holds the first 16 KiB');
  await n.close();
});

t.test('command: a non-zero exit is logged with the tail of its stderr', async (t) => {
  const log = capture();
  const n = new AlertNotifier({ logger: log });
  n.send(alert('a'), { ...NONE, command: 'echo "cannot page: no route" >&2; exit 3' });
  n.send(alert('b'), { ...NONE, command: 'head -c 3000 /dev/zero | tr "\\0" x >&2; echo " THE END" >&2; exit 1' });
  await n.idle();
  t.equal(n.stats()['command:failed'], 2);
  const errors = log.at('error');
  t.match(errors.find((e) => e.event === 'a'), { op: 'alert', zone: 'example.com.', exitCode: 3, stderr: 'cannot page: no route', err: { message: 'exited with status 3' } });
  const b = errors.find((e) => e.event === 'b')!;
  t.ok((b.stderr as string).length <= 500, 'only the tail');
  t.match(b.stderr, /^x+ THE END$/);
});

t.test('command: one that runs past its timeout is killed, with what it started', async (t) => {
  const dir = tempdir(t);
  const log = capture();
  const n = new AlertNotifier({ logger: log, killGraceMs: 200 });
  const started = Date.now();
  n.send(alert('a'), { ...NONE, command: `sleep 30 & echo $! > ${dir}/pid; wait`, commandTimeout: 0.5 });
  n.send(alert('b'), { ...NONE, command: `trap "" TERM; sleep 30 & echo $! > ${dir}/pid2; wait; wait`, commandTimeout: 0.5 });
  await n.idle();
  t.ok(Date.now() - started < 10_000, 'does not hang');
  t.equal(n.stats()['command:failed'], 2);
  const errors = log.at('error');
  t.equal(errors.length, 2);
  for (const e of errors) t.match(e, { op: 'alert', err: { message: 'timed out after 0.5s, killed' } });
  t.match(errors.find((e) => e.event === 'b'), { signal: 'SIGKILL' }, 'SIGKILL for one that ignores SIGTERM');
  for (const f of ['pid', 'pid2']) {
    const pid = Number(readFileSync(join(dir, f), 'utf8'));
    await waitFor(`${f} ${pid} to end`, () => !running(pid), 5000);
    t.pass(`the command's child ${f} was killed too`);
  }
});

t.test('queue overflow drops the oldest waiting alerts, counts them, and warns once', async (t) => {
  const held: http.ServerResponse[] = [];
  const r = await receiver(t, (res, n) => (n === 1 ? held.push(res) : ok(res)));
  const log = capture();
  const n = new AlertNotifier({ logger: log, maxQueued: 3, maxInFlight: 1 });
  const target = { ...NONE, webhook: r.url, webhookTimeout: 30 };
  n.send(alert('e1'), target);
  await waitFor('the first POST', () => held.length === 1);
  for (let i = 2; i <= 7; i++) n.send(alert(`e${i}`), target);
  t.equal(n.stats()['webhook:dropped'], 3, 'e2, e3 and e4 made way');
  t.equal(log.at('warn').length, 1, 'one warning for the burst');
  t.match(log.at('warn')[0], { op: 'alert', event: 'e2', msg: /queue full/ });
  held[0]!.writeHead(200).end();
  await n.idle();
  t.same(r.requests.map((q) => JSON.parse(q.body).event), ['e1', 'e5', 'e6', 'e7']);
  t.match(n.stats(), { 'webhook:ok': 4, 'webhook:dropped': 3, 'webhook:failed': 0 });
  t.match(log.at('warn').at(-1), { dropped: 3 }, 'the end of the burst says how many');
  await n.close();
});

t.test('targets are delivered to concurrently; sends without targets do nothing', async (t) => {
  const held: http.ServerResponse[] = [];
  const slow = await receiver(t, (res) => held.push(res));
  const fast = await receiver(t, ok);
  const n = new AlertNotifier({ logger: capture() });
  n.send(alert('a'), NONE);
  n.send(alert('a'), { ...NONE, webhook: slow.url, webhookTimeout: 30 });
  n.send(alert('a'), { ...NONE, webhook: fast.url });
  await waitFor('the fast delivery', () => n.stats()['webhook:ok'] === 1);
  t.equal(held.length, 1, 'the slow receiver has not answered: the fast one was not held back by it');
  held[0]!.writeHead(200).end();
  await n.idle();
  t.match(n.stats(), { 'webhook:ok': 2, 'command:ok': 0 });
  await n.close();
});

t.test('send() never throws, even for a document that is not JSON', async (t) => {
  const log = capture();
  const n = new AlertNotifier({ logger: log });
  const cyclic: Record<string, unknown> = { event: 'x', zone: 'z.', message: 'm' };
  cyclic.self = cyclic;
  t.doesNotThrow(() => n.send(cyclic as unknown as AlertDocument, { ...NONE, command: 'true' }));
  t.match(log.at('error')[0], { op: 'alert', zone: 'z.', event: 'x' });
  await n.close();
});

t.test('close() returns within its timeout while a receiver and a command hang', async (t) => {
  const dir = tempdir(t);
  const r = await receiver(t, () => {});
  const log = capture();
  const n = new AlertNotifier({ logger: log, maxInFlight: 4 });
  n.send(alert('a'), { ...NONE, webhook: r.url, webhookTimeout: 60, command: `sleep 60 & echo $! > ${dir}/pid; wait` });
  n.send(alert('b'), { ...NONE, webhook: r.url, webhookTimeout: 60 }); // queued behind a
  await waitFor('the POST and the command', () => r.requests.length === 1 && existsSync(join(dir, 'pid')));
  const started = Date.now();
  await n.close(300);
  t.ok(Date.now() - started < 2000, 'close() did not wait for the receiver');
  await n.idle();
  t.match(n.stats(), { 'webhook:failed': 1, 'webhook:dropped': 1, 'command:failed': 1 });
  t.match(log.at('error').find((e) => e.remote !== undefined), { event: 'a', err: { message: 'aborted at shutdown' } });
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  await waitFor('the command to be killed', () => !running(pid), 5000);
  n.send(alert('c'), { ...NONE, webhook: r.url });
  await new Promise((res) => setTimeout(res, 50));
  t.equal(r.requests.length, 1, 'nothing is sent after close()');
  t.equal(n.stats()['webhook:dropped'], 2);
});

t.test('close() with nothing to do returns at once; queued alerts still go out if there is time', async (t) => {
  const r = await receiver(t, ok);
  const n = new AlertNotifier({ logger: capture() });
  const started = Date.now();
  await n.close();
  t.ok(Date.now() - started < 500);
  const m = new AlertNotifier({ logger: capture() });
  m.send(alert('last words'), { ...NONE, webhook: r.url });
  await m.close(5000);
  t.equal(r.requests.length, 1);
  t.equal(m.stats()['webhook:ok'], 1);
});
