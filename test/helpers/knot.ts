// Reference servers for tests: start Knot DNS (knotd) or NSD in the foreground on a loopback port, serving given zone files.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { queryUdp } from './dnsclient.js';

export interface ZoneSpec {
  /** Zone origin, with or without the final dot. */
  name: string;
  /** Path of the master file (absolute, or relative to the current directory). */
  file: string;
}

export interface RefServerOptions {
  zones: ZoneSpec[];
  /** Port to listen on (UDP and TCP). A free ephemeral port when absent. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Largest UDP response (Knot `udp-max-payload`; NSD has a fixed 1232 for EDNS, 512 without). Default 1232. */
  udpMaxPayload?: number;
  /** Answer id.server/hostname.bind CH TXT and NSID with this; off (empty) by default. */
  identity?: string;
  /** Send NSID (RFC 5001) with this value when asked; off by default. */
  nsid?: string;
  /** Extra lines appended to the `server:` section, already indented. */
  extraServerConfig?: string;
  /** How long to wait for the server to answer SOA for every zone (default 15 s). */
  startTimeoutMs?: number;
}

export interface RefServer {
  host: string;
  port: number;
  /** The temp directory holding the config, run and storage files. */
  dir: string;
  /** The config file written. */
  config: string;
  /** Stop the server and remove its temp directory. Idempotent. */
  stop(): Promise<void>;
  /** What the server wrote to stdout/stderr so far (for failure messages). */
  output(): string;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave a reference server running after the test process ends, however it ends.
  process.on('exit', () => {
    for (const c of children) killGroup(c, 'SIGKILL');
  });
}

const WATCHDOG = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (read _ <&3; kill -TERM $pid 2>/dev/null) & wait $pid';

/** Signal the child's whole process group (NSD forks workers; they must go with it). */
function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    try {
      c.kill(sig);
    } catch {
      // already gone
    }
  }
}

function groupAlive(c: ChildProcess): boolean {
  if (c.pid === undefined) return false;
  try {
    process.kill(-c.pid, 0);
    return true;
  } catch {
    return false;
  }
}

const absZone = (name: string): string => (name.endsWith('.') ? name : `${name}.`);

interface Flavour {
  label: string;
  binary: string;
  args(config: string): string[];
  config(dir: string, host: string, port: number, o: RefServerOptions): string;
}

// Knot: settings chosen so it answers like a plain authoritative server. What matters for answers:
// - udp-max-payload (default 1232 here, as Knot's own default): the cap on UDP replies whatever the
//   client offers, and the payload Knot advertises in its OPT record.
// - identity/version/nsid empty: CH TXT id.server/hostname.bind/version.* are REFUSED like any
//   other CH query, and no NSID option comes back; set `identity`/`nsid` to get them answered
//   (id.server CH TXT: NOERROR, no AA, TTL 0).
// - answer-rotation left off (its default): RRs inside an RRset go out in canonical (RDATA byte)
//   order; when on, the order rotates with the query ID.
// - no modules (no synthrecord, no RRL, no cookies).
// The rest only keeps Knot's files in the temp dir: journal-content none and zonefile-sync -1 (the
// zone file is read once, nothing written back). semantic-checks is Knot's default (off: only the
// mandatory checks, e.g. CNAME beside other data, refuse a zone); generated zones pass it on too.
const knot: Flavour = {
  label: 'knotd',
  binary: 'knotd',
  args: (config) => ['-c', config],
  config(dir, host, port, o) {
    const zones = o.zones
      .map((z) => `  - domain: "${absZone(z.name)}"\n    file: "${path.resolve(z.file)}"\n`)
      .join('');
    const q = (s: string): string => JSON.stringify(s);
    return `# knotd config written by test/helpers/knot.ts
server:
  rundir: ${q(dir)}
  listen: ${host}@${port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
  udp-max-payload: ${o.udpMaxPayload ?? 1232}
  identity: ${q(o.identity ?? '')}
  version: ""
  nsid: ${q(o.nsid ?? '')}
${o.extraServerConfig ?? ''}
log:
  - target: stderr
    any: warning

database:
  storage: ${q(dir)}

template:
  - id: default
    storage: ${q(dir)}
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole

zone:
${zones}`;
  },
};

// NSD: no privilege drop, no chroot, every state file in the temp dir, no response rate limiting
// (it would start dropping/truncating under a batch of thousands of queries), and
// minimal-responses so that, like Knot, it puts no apex NS in the authority of positive answers
// (it then also leaves out the additional A/AAAA that Knot gives for MX/SRV/NS targets).
const nsd: Flavour = {
  label: 'nsd',
  binary: 'nsd',
  args: (config) => ['-d', '-c', config],
  config(dir, host, port, o) {
    const zones = o.zones
      .map((z) => `zone:\n  name: "${absZone(z.name)}"\n  zonefile: "${path.resolve(z.file)}"\n`)
      .join('');
    const q = (s: string): string => JSON.stringify(s);
    return `# nsd config written by test/helpers/knot.ts
server:
  ip-address: ${host}@${port}
  port: ${port}
  username: ""
  chroot: ""
  zonesdir: ${q(dir)}
  pidfile: ${q(path.join(dir, 'nsd.pid'))}
  xfrdfile: ${q(path.join(dir, 'xfrd.state'))}
  zonelistfile: ${q(path.join(dir, 'zone.list'))}
  database: ""
  logfile: ${q(path.join(dir, 'nsd.log'))}
  server-count: 1
  verbosity: 0
  rrl-ratelimit: 0
  minimal-responses: yes
  refuse-any: no
  hide-version: yes
  ${o.identity === undefined ? 'hide-identity: yes' : `identity: ${q(o.identity)}`}
  ${o.nsid === undefined ? '' : `nsid: ${q('ascii_' + o.nsid)}`}
  zonefiles-write: 0
${o.extraServerConfig ?? ''}
remote-control:
  control-enable: no

${zones}`;
  },
};

async function waitReady(host: string, port: number, zones: ZoneSpec[], child: ChildProcess, deadline: number): Promise<void> {
  for (const z of zones) {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('server exited during start');
      try {
        const r = await queryUdp({ host, port }, { name: absZone(z.name), type: 6 }, { edns: false }, 200);
        // NOERROR, AA set, one answer: the zone is loaded.
        if ((r.readUInt16BE(2) & 0x040f) === 0x0400 && r.readUInt16BE(6) >= 1) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`zone ${z.name} not served within the start timeout`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function startFlavour(f: Flavour, o: RefServerOptions): Promise<RefServer> {
  installExitHook();
  const host = o.host ?? '127.0.0.1';
  const attempts = o.port === undefined ? 5 : 1;
  let lastErr: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = o.port ?? (await freePort(host));
    const dir = await mkdtemp(path.join(tmpdir(), `secondaryd-${f.label}-`));
    const config = path.join(dir, `${f.label}.conf`);
    await writeFile(config, f.config(dir, host, port, o));
    // The server runs under a small sh watchdog that holds our end of a pipe on fd 3: if this
    // process dies in any way (even SIGKILL from a test-runner timeout), the pipe closes and the
    // watchdog stops the server. `detached` gives it a process group of its own to signal.
    const child = spawn('sh', ['-c', WATCHDOG, f.binary, ...f.args(config)], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        children.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        out += `spawn error: ${err.message}\n`;
        children.delete(child);
        resolve();
      });
    });
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      killGroup(child, 'SIGTERM');
      // Wait for the whole group (the server, not just the sh watchdog) to be gone.
      const deadline = Date.now() + 3000;
      while (groupAlive(child)) {
        if (Date.now() > deadline) {
          killGroup(child, 'SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await exited;
      child.stdin?.destroy();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await waitReady(host, port, o.zones, child, Date.now() + (o.startTimeoutMs ?? 15000));
      return { host, port, dir, config, stop, output: () => out };
    } catch (err) {
      lastErr = new Error(`${f.label} on ${host}@${port}: ${(err as Error).message}\n--- ${f.label} output ---\n${out}--- config ---\n${f.config(dir, host, port, o)}`);
      await stop();
    }
  }
  throw lastErr;
}

/** Start knotd in the foreground serving `zones`; resolves once every zone answers SOA. */
export function startKnot(o: RefServerOptions): Promise<RefServer> {
  return startFlavour(knot, o);
}

/** Start NSD in the foreground serving `zones`; resolves once every zone answers SOA. */
export function startNsd(o: RefServerOptions): Promise<RefServer> {
  return startFlavour(nsd, o);
}
