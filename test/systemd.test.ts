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
