// Runs the real daemon (`secondaryd run -c FILE` from src/ through tsx) on a free loopback port for a test.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface DaemonZone {
  name: string;
  /** Master-file text; written to the daemon's temp dir. */
  text?: string;
  /** Or a path to an existing file. */
  file?: string;
}

export interface RunningDaemon {
  host: string;
  port: number;
  dir: string;
  configPath: string;
  /** Everything the daemon wrote on stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
  child: ChildProcess;
}

export interface DaemonOptions {
  zones: DaemonZone[];
  /** Extra YAML appended under `server:` (indented two spaces by the caller). */
  serverYaml?: string;
  /** Replace the whole config (after `{PORT}` and `{DIR}` substitution). */
  configText?: string;
  /** Extra environment for the daemon process. */
  env?: Record<string, string>;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Extra files to write into the daemon's directory, by name. */
  files?: Record<string, string>;
  logLevel?: string;
  /**
   * Run in this directory (it must exist) instead of a new temp one, and leave it in place on
   * stop(): a second daemon started with the same `dir` finds the first one's storage.
   */
  dir?: string;
  /** Run the built daemon (bin/secondaryd, dist/: what users run) instead of src/ through tsx.
   * The caller makes sure dist/ is current (`npm run build`). */
  built?: boolean;
}

/** Spawn the CLI with arguments; for one-shot subcommands (check, ...). */
export function runCli(args: string[], timeoutMs = 30000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import=tsx', join(root, 'src/main.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'secondaryd-test-'));
  const host = '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
  let zonesYaml = '';
  for (const z of opts.zones) {
    let file = z.file;
    if (z.text !== undefined) {
      file = join(dir, `${z.name.replace(/\.$/, '') || 'root'}.zone`);
      writeFileSync(file, z.text);
    }
    zonesYaml += `  - name: "${z.name}"\n    file: "${file}"\n`;
  }
  const configText =
    opts.configText?.replaceAll('{PORT}', String(port)).replaceAll('{DIR}', dir) ??
    `server:\n  listen: ["${host}:${port}"]\n  storage: "${dir}/storage"\n  control: "${dir}/control.sock"\n${opts.serverYaml ?? ''}` +
      `log:\n  level: ${opts.logLevel ?? 'info'}\nzones:\n${zonesYaml}`;
  const configPath = join(dir, 'secondaryd.yaml');
  writeFileSync(configPath, configText);
  // Built: bin/secondaryd run as an executable, as systemd runs it (its #! line passes V8 flags).
  const [cmd, entry] = opts.built ? [join(root, 'bin/secondaryd'), []] : [process.execPath, ['--import=tsx', join(root, 'src/main.ts')]];
  const child = spawn(cmd, [...entry, 'run', '-c', configPath], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // Ready when it logs "serving" (every zone loaded, every listener bound).
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`daemon did not start in time:\n${out}`)), 30000);
    const poll = setInterval(() => {
      if (out.includes('"msg":"serving"')) {
        clearTimeout(timer);
        clearInterval(poll);
        ready();
      }
    }, 20);
    void exited.then((code) => {
      clearTimeout(timer);
      clearInterval(poll);
      fail(new Error(`daemon exited with ${code} before serving:\n${out}`));
    });
  });
  return {
    host,
    port,
    dir,
    configPath,
    child,
    output: () => out,
    signal: (sig) => child.kill(sig),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
