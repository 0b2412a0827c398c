// The command line (commander): every subcommand returns an exit code; bin/secondaryd is a thin shim.

import { Command } from 'commander';
import { ConfigError, loadConfig } from './config/parse.js';
import { Daemon, loadZoneFile } from './daemon.js';
import { createLogger } from './log.js';

export const DEFAULT_CONFIG = '/etc/secondaryd/secondaryd.yaml';

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
    try {
      await loadZoneFile(zone.name, zone.file);
    } catch (err) {
      failed++;
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (failed === 0) process.stdout.write(`${configPath}: OK (${config.zones.length} zones)\n`);
  return failed === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('secondaryd')
    .description('An authoritative secondary nameserver that is never silently stale.')
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
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { exitCode?: number; code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    return e.exitCode ?? 2;
  }
  return code;
}
