// The command line (commander): every subcommand returns an exit code; bin/secondaryd is a thin shim.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from './config/parse.js';
import { Daemon } from './daemon.js';
import { nameFromText } from './wire/name.js';
import { buildZone } from './zone/zone.js';
import { checkZoneFile } from './zonefile/reader.js';
import { createLogger } from './log.js';
import { formatStatusTable, isFailing, type ZoneStatus } from './monitor/status.js';
import { controlRequest, type ControlRequest } from './net/control-server.js';
import { doctorCommand } from './doctor/command.js';
import { VERSION } from './version.js';

export const DEFAULT_CONFIG = '/etc/secondaryd/secondaryd.yaml';
const DEFAULT_CONTROL = '/run/secondaryd/control.sock';

/** Exit status for a config that cannot be used at start (sysexits EX_CONFIG). */
const EX_CONFIG = 78;

function printProblems(err: unknown): void {
  if (err instanceof ConfigError) for (const p of err.problems) process.stderr.write(`${p.text}\n`);
  else process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
}

async function run(configPath: string): Promise<number> {
  let config;
  try {
    config = await loadConfig(configPath);
  } catch (err) {
    printProblems(err);
    return EX_CONFIG;
  }
  const log = createLogger(config.log.level);
  const daemon = new Daemon(config, configPath, log);
  try {
    await daemon.start();
  } catch (err) {
    log.fatal({ err, op: 'start' }, 'cannot start');
    await daemon.stop();
    log.flush();
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ op: 'signal', signal }, 'shutting down');
      daemon.stop().then(() => {
        log.flush();
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info({ op: 'signal', signal: 'SIGHUP' }, 'reloading');
      void daemon.reload();
    });
  });
}

/** Validate the config and every zone file it names; print each problem as FILE:LINE:COL: message. */
async function check(configPath: string): Promise<number> {
  let config;
  try {
    config = await loadConfig(configPath);
  } catch (err) {
    printProblems(err);
    return 1;
  }
  let failed = 0;
  for (const zone of config.zones) {
    if (zone.file === undefined) continue;
    const origin = nameFromText(zone.name);
    try {
      // Every syntax problem of the file, then the zone checks (SOA, NS, CNAME...) when it parsed.
      const { records, errors } = await checkZoneFile(zone.file, origin);
      for (const e of errors) process.stderr.write(`${e.message}\n`);
      if (errors.length > 0) failed++;
      else buildZone(origin, records);
    } catch (err) {
      failed++;
      process.stderr.write(`${zone.file}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (failed === 0) process.stdout.write(`${configPath}: OK (${config.zones.length} zones)\n`);
  return failed === 0 ? 0 : 1;
}

/**
 * The control socket named by the config. A config being edited may be invalid while the daemon still
 * runs the previous one (and `reload` must reach it to report the problems), so an invalid file is
 * read loosely for `server.control` alone.
 */
async function controlSocketOf(configPath: string): Promise<string> {
  try {
    return (await loadConfig(configPath)).server.control;
  } catch {
    try {
      const doc = parseYaml(await readFile(configPath, 'utf8')) as { server?: { control?: unknown } } | null;
      const c = doc?.server?.control;
      if (typeof c === 'string') return resolve(dirname(configPath), c);
    } catch {
      // unreadable or not YAML at all: the default below
    }
    return DEFAULT_CONTROL;
  }
}

/** Exit status when the daemon cannot be reached through its control socket. */
const EX_UNREACHABLE = 2;

/** Send one control request to the daemon of `configPath`; prints errors; returns the response or an exit code. */
async function ask(configPath: string, req: ControlRequest, onText?: (s: string) => void): Promise<{ ok: true; data?: unknown } | number> {
  const socket = await controlSocketOf(configPath);
  try {
    const res = await controlRequest(socket, req, onText);
    if (!res.ok) {
      process.stderr.write(`secondaryd: ${res.error}\n`);
      return 1;
    }
    return res;
  } catch (err) {
    process.stderr.write(`secondaryd: cannot reach the daemon at ${socket}: ${(err as Error).message}\n`);
    return EX_UNREACHABLE;
  }
}

async function status(configPath: string, zone: string | undefined, json: boolean): Promise<number> {
  const res = await ask(configPath, { cmd: 'status', ...(zone !== undefined ? { zone } : {}) });
  if (typeof res === 'number') return res;
  const rows = res.data as ZoneStatus[];
  process.stdout.write(json ? JSON.stringify(rows, null, 2) + '\n' : formatStatusTable(rows, Date.now()));
  return rows.some(isFailing) ? 1 : 0;
}

async function simple(configPath: string, req: ControlRequest, done: string): Promise<number> {
  const res = await ask(configPath, req);
  if (typeof res === 'number') return res;
  process.stdout.write(done + '\n');
  return 0;
}

async function dump(configPath: string, zone: string): Promise<number> {
  const res = await ask(configPath, { cmd: 'dump', zone }, (text) => process.stdout.write(text));
  return typeof res === 'number' ? res : 0;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('secondaryd')
    .description('An authoritative secondary nameserver that is never silently stale.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command('run')
    .description('run the daemon in the foreground')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .action(async (opts: { config: string }) => {
      code = await run(opts.config);
    });
  program
    .command('check')
    .description('validate the config and the zone files it names, without starting')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .action(async (opts: { config: string }) => {
      code = await check(opts.config);
    });
  const configOption = (c: Command): Command => c.option('-c, --config <file>', 'config file', DEFAULT_CONFIG);
  configOption(program.command('status [zone]').description('per-zone state through the control socket').option('--json', 'JSON instead of a table')).action(
    async (zone: string | undefined, opts: { config: string; json?: boolean }) => {
      code = await status(opts.config, zone, opts.json === true);
    },
  );
  configOption(program.command('refresh <zone>').description('check the SOA now, as if a NOTIFY had arrived')).action(async (zone: string, opts: { config: string }) => {
    code = await simple(opts.config, { cmd: 'refresh', zone }, `refresh of ${zone} started`);
  });
  configOption(program.command('retransfer <zone>').description('full AXFR now, whatever the serial')).action(async (zone: string, opts: { config: string }) => {
    code = await simple(opts.config, { cmd: 'retransfer', zone }, `retransfer of ${zone} started`);
  });
  configOption(program.command('reload').description('re-read the config, as SIGHUP does')).action(async (opts: { config: string }) => {
    code = await simple(opts.config, { cmd: 'reload' }, 'reloaded');
  });
  configOption(program.command('dump <zone>').description('the served zone as RFC 1035 master-file text')).action(async (zone: string, opts: { config: string }) => {
    code = await dump(opts.config, zone);
  });
  configOption(
    program
      .command('doctor <zone>')
      .description("redundancy checks from the zone's own NS set: networks, answers, serials, transfer, us in the NS set, alerts")
      .option('--json', 'JSON instead of a report')
      .option('--port <port>', 'port to ask the nameservers on', '53')
      .option('--timeout <duration>', 'wait for each answer', '2s'),
  ).action(async (zone: string, opts: { config: string; json?: boolean; port: string; timeout: string }) => {
    code = await doctorCommand(opts.config, zone, opts);
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { exitCode?: number; code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    return e.exitCode ?? 2;
  }
  return code;
}
