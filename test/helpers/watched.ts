// A server process for tests: run under sh, which holds our end of a pipe, so that if the test
// process dies (even by SIGKILL) the pipe closes and sh stops the server; `detached` gives it a
// process group to signal.

import { spawn, type ChildProcess } from 'node:child_process';

export const WATCHDOG = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (read _ <&3; kill -TERM $pid 2>/dev/null) & wait $pid';

export interface Watched {
  child: ChildProcess;
  /** Everything it wrote on stdout and stderr so far. */
  output(): string;
  /** Resolves when it has exited. */
  exited: Promise<void>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnWatched(command: string, args: readonly string[], cwd: string): Watched {
  const child = spawn('sh', ['-c', WATCHDOG, command, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.on('error', (err) => (out += `spawn error: ${err.message}\n`));
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | undefined;
  return {
    child,
    output: () => out,
    exited,
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        if (child.pid !== undefined && child.exitCode === null) {
          signal('SIGTERM');
          const t = setTimeout(() => signal('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        }
        child.stdin?.destroy();
      })();
      return stopping;
    },
  };
}
