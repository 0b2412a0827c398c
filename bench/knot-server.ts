// knotd for the secondary benchmark (bench/secondary.ts): a Knot secondary of a primary, or a plain
// Knot loading a zone file. Unlike test/helpers/knot.ts, the directory is the caller's and survives
// stop(), so a second start finds the first one's zone files and journal (restart from disk), and the
// launch returns at once: the caller times spawn-to-serving itself.

import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Same watchdog as test/helpers/knot.ts: sh holds our end of a pipe; if this process dies, even by
// SIGKILL, the pipe closes and sh stops knotd. `detached` gives it a process group to signal.
const WATCHDOG = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (read _ <&3; kill -TERM $pid 2>/dev/null) & wait $pid';

export interface KnotZone {
  /** Origin with the final dot. */
  name: string;
  /** Zone file (Knot writes it back for a secondary with zonefile-sync 0). */
  file: string;
  /** "host@port" of the primary: the zone is a secondary zone, NOTIFY from that host accepted. */
  primary?: string;
}

export interface KnotServerConfig {
  dir: string;
  port: number;
  zones: KnotZone[];
}

export interface KnotServer {
  port: number;
  /** The sh watchdog's pid (knotd is its child: sum a process tree for RSS). */
  pid: number;
  output(): string;
  /** Whether knotd (or its watchdog) has exited. */
  exited(): boolean;
  /** knotc on this server's control socket; `-b` waits for zone events. */
  control(...args: string[]): Promise<string>;
  /** SIGTERM to the process group, SIGKILL after 10 s; resolves once it is gone. The directory stays. */
  stop(): Promise<void>;
}

/**
 * knotd with one UDP worker, one TCP worker and one background worker (the daemon is one Node
 * thread plus its libuv pool). Secondary zones keep Knot's defaults for what lands on disk:
 * `journal-content: changes` and `zonefile-sync: 0` (the zone file is rewritten right after each
 * transfer), so a restart loads the zone file and replays the journal.
 */
export function knotConfig(c: KnotServerConfig): string {
  const q = (s: string): string => JSON.stringify(s);
  const primaries = [...new Set(c.zones.flatMap((z) => (z.primary ? [z.primary] : [])))];
  const remotes = primaries.length ? `remote:\n${primaries.map((p, i) => `  - id: primary${i}\n    address: ${p}\n`).join('')}\n` : '';
  const acls = primaries.length
    ? `acl:\n${primaries.map((p, i) => `  - id: notify${i}\n    address: ${p.replace(/@\d+$/, '')}\n    action: notify\n`).join('')}\n`
    : '';
  const zone = (z: KnotZone): string => {
    const i = z.primary ? primaries.indexOf(z.primary) : -1;
    return `  - domain: ${q(z.name)}\n    file: ${q(z.file)}\n` + (i >= 0 ? `    master: primary${i}\n    acl: notify${i}\n` : '');
  };
  return `# knotd config written by bench/knot-server.ts
server:
  rundir: ${q(c.dir)}
  listen: 127.0.0.1@${c.port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
  identity: ""
  version: ""
  nsid: ""

control:
  listen: ${q(path.join(c.dir, 'knot.sock'))}

log:
  - target: stderr
    any: info

database:
  storage: ${q(c.dir)}

${remotes}${acls}template:
  - id: default
    storage: ${q(c.dir)}
    semantic-checks: off
    journal-content: changes
    zonefile-sync: 0

zone:
${c.zones.map(zone).join('')}`;
}

/** Write the config into `c.dir` and spawn knotd; returns at once (not yet serving). */
export function startKnotServer(c: KnotServerConfig): KnotServer {
  const conf = path.join(c.dir, 'knot.conf');
  writeFileSync(conf, knotConfig(c));
  const child = spawn('sh', ['-c', WATCHDOG, 'knotd', '-c', conf], { cwd: c.dir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.on('error', (err) => (out += `spawn error: ${err.message}\n`));
  let gone = false;
  const exited = new Promise<void>((r) =>
    child.once('close', () => {
      gone = true;
      r();
    }),
  );
  const alive = (): boolean => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  let stopping: Promise<void> | undefined;
  return {
    port: c.port,
    pid: child.pid!,
    output: () => out,
    exited: () => gone,
    async control(...args) {
      const { stdout } = await run('knotc', ['-s', path.join(c.dir, 'knot.sock'), ...args], { timeout: 120_000 });
      return stdout;
    },
    stop() {
      stopping ??= (async () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const deadline = Date.now() + 10_000;
        while (alive()) {
          if (Date.now() > deadline) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // gone
            }
            break;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        await exited;
        child.stdin?.destroy();
      })();
      return stopping;
    },
  };
}
