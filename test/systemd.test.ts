// The systemd unit passes `systemd-analyze verify` (with ExecStart pointing at this checkout's CLI).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const root = join(import.meta.dirname, '..');

t.test('systemd/secondaryd.service verifies', async (t) => {
  const unit = readFileSync(join(root, 'systemd/secondaryd.service'), 'utf8');
  t.match(unit, /^ExecStartPre=\/usr\/bin\/secondaryd check /m);
  t.match(unit, /^ExecStart=\/usr\/bin\/secondaryd run /m);
  t.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  t.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
  for (const k of ['StateDirectory', 'RuntimeDirectory', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'RestrictAddressFamilies', 'Restart']) {
    t.match(unit, new RegExp(`^${k}=`, 'm'), k);
  }
  // verify checks that ExecStart exists: point it at this checkout's bin/secondaryd.
  const dir = mkdtempSync(join(tmpdir(), 'unit-'));
  const file = join(dir, 'secondaryd.service');
  writeFileSync(file, unit.replaceAll('/usr/bin/secondaryd', join(root, 'bin/secondaryd')));
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'systemd-analyze runs (package systemd)');
  t.equal(r.status, 0, r.stderr);
  t.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warnings');
});

t.test('Type=notify: READY=1 reaches NOTIFY_SOCKET once the daemon serves', async (t) => {
  const { spawn } = await import('node:child_process');
  const { startDaemon } = await import('./helpers/secondaryd.js');
  const dir = mkdtempSync(join(tmpdir(), 'notify-'));
  const sock = join(dir, 'notify.sock');
  // Node has no unix datagram sockets: a few lines of Python play systemd's side.
  const listener = spawn('python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(${JSON.stringify(sock)})\nprint('bound', flush=True)\ns.settimeout(20)\nprint(s.recv(4096).decode(), flush=True)`]);
  let got = '';
  listener.stdout.on('data', (b: Buffer) => (got += b.toString()));
  const exited = new Promise<void>((r) => listener.on('exit', () => r()));
  await new Promise<void>((r) => listener.stdout.once('data', () => r()));
  const d = await startDaemon({ zones: [{ name: 'n.test', text: '$ORIGIN n.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n' }], env: { NOTIFY_SOCKET: sock } });
  t.teardown(() => d.stop());
  await exited; // python exits once it has the datagram (or after 20 s without one)
  t.match(got, /READY=1/);
  t.match(got, /STATUS=serving 1 zones/);
});
