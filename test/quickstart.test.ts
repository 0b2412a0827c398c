// The README's first command on a fresh checkout: the example config (conf/) serves its zone at once,
// with nothing prepared beforehand (no var/ directory), and `secondaryd status` reaches it. Run as
// `npm start` runs it: bin/secondaryd, the one bundled module `npm run build` makes (npm test builds
// it first).

import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseMessage } from './helpers/compare.js';
import { queryUdp } from './helpers/dnsclient.js';
import { freePort } from './helpers/ports.js';
import { runCli } from './helpers/secondaryd.js';

const root = join(import.meta.dirname, '..');

t.test('the example config serves www.example.test from a fresh checkout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'secondaryd-quickstart-'));
  cpSync(join(root, 'conf'), join(dir, 'conf'), { recursive: true });
  const port = await freePort();
  const config = join(dir, 'conf', 'secondaryd.yaml');
  // The example's port (5300) may be taken on a test machine; everything else is as shipped.
  writeFileSync(config, readFileSync(config, 'utf8').replaceAll(':5300', `:${port}`));
  t.notOk(existsSync(join(dir, 'var')), 'no var/ beforehand');
  const child = spawn(join(root, 'bin/secondaryd'), ['run', '-c', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (!out.includes('"msg":"serving"')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the daemon did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = parseMessage(await queryUdp({ host: '127.0.0.1', port }, { name: 'www.example.test', type: 1 }));
  t.equal(m.rcode, 0);
  t.same(
    m.answer.map((r) => [...r.rdata].join('.')),
    ['192.0.2.80'],
  );
  const status = await runCli(['status', '-c', config]);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /example\.test\.\s+fresh\s+loaded\s+2026112401/);
  t.ok(existsSync(join(dir, 'var', 'control.sock')), 'the control socket directory was created');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: exit 0');
});

t.test('bin/secondaryd --version prints the version of package.json', async (t) => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const out = await new Promise<string>((resolve, reject) => {
    execFile(join(root, 'bin/secondaryd'), ['--version'], (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  t.equal(out.trim(), version);
});
