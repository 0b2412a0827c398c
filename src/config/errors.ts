// ConfigError: every problem found in a config file, each with FILE:LINE:COL and its YAML path.

export interface ConfigProblem {
  /** The config file, as it was named to us. */
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file (it cannot be read). */
  readonly line: number;
  readonly col: number;
  /** Where in the document, e.g. "zones[1].primaries[0]"; empty for syntax errors. */
  readonly path: string;
  readonly message: string;
  /** The whole problem on one line, as formatProblem writes it. */
  readonly text: string;
}

/** "FILE:LINE:COL: message (at zones[1].primaries[0])". */
export function formatProblem(p: Omit<ConfigProblem, 'text'>): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  return `${where}: ${p.message}${p.path ? ` (at ${p.path})` : ''}`;
}

export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_READ';

/** A config that cannot be used. `problems` holds all that were found, in file order; the message
 * is the same, one formatted problem per line. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly Omit<ConfigProblem, 'text'>[], code: ConfigErrorCode = 'ERR_CONFIG_INVALID') {
    const full = problems.map((p) => Object.freeze({ ...p, text: formatProblem(p) }));
    super(full.map((p) => p.text).join('\n'));
    this.name = 'ConfigError';
    this.code = code;
    this.problems = Object.freeze(full);
  }
}
