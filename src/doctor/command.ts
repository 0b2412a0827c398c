// `secondaryd doctor ZONE [--json] [--port N] [--timeout D]`: probe, analyze, print; the exit code is
// 0 when every check passed, 1 when there is any warning or error, 2 for a usage or config problem.

import { parseDuration } from '../config/duration.js';
import { ConfigError, loadConfig, normalizeName } from '../config/parse.js';
import type { Config } from '../config/types.js';
import { analyze, healthy } from './analyze.js';
import { gatherFacts, type ProbeOptions } from './probe.js';
import { buildReport, formatJson, formatText } from './report.js';

export interface DoctorCommandOptions {
  json?: boolean;
  /** As typed: a port number. */
  port?: string;
  /** As typed: seconds or a duration ("2s", "500ms"). */
  timeout?: string;
}

/** Exit status for a usage or config error. */
const EX_USAGE = 2;

export async function doctorCommand(
  configPath: string,
  zoneText: string,
  opts: DoctorCommandOptions,
  probe: Partial<ProbeOptions> = {},
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const port = Number(opts.port ?? '53');
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    err(`secondaryd doctor: --port ${opts.port}: expected a port number 1-65535\n`);
    return EX_USAGE;
  }
  let timeoutMs: number;
  try {
    timeoutMs = Math.round(parseDuration(opts.timeout ?? '2s') * 1000);
    if (timeoutMs <= 0) throw new Error('must be more than 0');
  } catch (e) {
    err(`secondaryd doctor: --timeout ${opts.timeout}: ${(e as Error).message}\n`);
    return EX_USAGE;
  }
  let name: string;
  try {
    name = normalizeName(zoneText);
  } catch (e) {
    err(`secondaryd doctor: ${(e as Error).message}\n`);
    return EX_USAGE;
  }
  let config: Config;
  try {
    config = await loadConfig(configPath);
  } catch (e) {
    if (e instanceof ConfigError) for (const p of e.problems) err(`${p.text}\n`);
    else err(`secondaryd doctor: ${e instanceof Error ? e.message : String(e)}\n`);
    return EX_USAGE;
  }
  const zone = config.zones.find((z) => z.name === name);
  if (zone === undefined) {
    err(`secondaryd doctor: zone ${name} is not configured in ${configPath}\n`);
    return EX_USAGE;
  }
  const facts = await gatherFacts(config, zone, { ...probe, port, timeoutMs });
  const findings = analyze(facts);
  const report = buildReport(facts, findings);
  out(opts.json ? formatJson(report) : formatText(report));
  return healthy(findings) ? 0 : 1;
}
