// Pre-test check (run by `npm test` before tap): make sure the reference DNS tools are installed, installing the Debian packages when we are root.

import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const TOOLS = ['knotd', 'kdig', 'nsd', 'named', 'dig', 'ldns-signzone', 'dnsperf', 'systemd-analyze'];
const PACKAGES = ['knot', 'knot-dnsutils', 'nsd', 'bind9', 'bind9-dnsutils', 'ldnsutils', 'dnsperf', 'systemd'];
// Debian's packages start these system services on install (on port 53). We never use them.
const SERVICES = ['knot', 'nsd', 'named', 'bind9'];

const DIRS = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];

function which(tool) {
  for (const dir of DIRS) {
    if (!dir) continue;
    const p = path.join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

const missing = () => TOOLS.filter((t) => !which(t));

function log(msg) {
  process.stderr.write(`ensure-tools: ${msg}\n`);
}

function serviceRunning(name) {
  const r = spawnSync('service', [name, 'status'], { stdio: 'ignore' });
  return r.status === 0;
}

let absent = missing();
if (absent.length === 0) process.exit(0);

log(`missing: ${absent.join(', ')}`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  log(`not root: install them with\n  sudo apt-get install -y ${PACKAGES.join(' ')}`);
  process.exit(1);
}
if (!which('apt-get')) {
  log(`no apt-get on this machine; install these packages by hand: ${PACKAGES.join(' ')}`);
  process.exit(1);
}

const runningBefore = new Set(SERVICES.filter((s) => which('service') && serviceRunning(s)));
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  log('running: apt-get update');
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  log(`running: apt-get install -y ${PACKAGES.join(' ')}`);
  execFileSync('apt-get', ['install', '-y', ...PACKAGES], { stdio: 'inherit', env });
} catch (err) {
  log(`apt-get failed: ${err.message}`);
}

// Stop whatever the install itself started; leave alone services that were running before.
if (which('service')) {
  for (const s of SERVICES) {
    if (runningBefore.has(s)) continue;
    if (serviceRunning(s)) {
      log(`stopping the ${s} system service started by the install`);
      spawnSync('service', [s, 'stop'], { stdio: 'ignore' });
    }
  }
}

absent = missing();
if (absent.length) {
  log(`still missing after install: ${absent.join(', ')}. The differential tests need them (Debian packages: ${PACKAGES.join(' ')}).`);
  process.exit(1);
}
log('all tools present');
