// Durations in the config: plain seconds (30, "30", "1.5") or units w/d/h/m/s/ms, combined largest first ("1h30m").

/** A duration that cannot be read. */
export class DurationSyntaxError extends Error {
  readonly code = 'ERR_DURATION_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'DurationSyntaxError';
  }
}

const UNITS: Readonly<Record<string, number>> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };
/** Largest first: each unit may appear once, in this order (so "1m1m" or "30s1h" are caught as typos). */
const ORDER = ['w', 'd', 'h', 'm', 's', 'ms'];
const PART = /(\d+(?:\.\d+)?)\s*(ms|w|d|h|m|s)\s*/y;
const HINT = 'expected seconds or a number with a unit w, d, h, m, s, ms (e.g. 30s, 5m, 1h30m)';

/** Seconds in a duration. Units are lower case only: "1M" would read as months to some people. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new DurationSyntaxError(`bad duration ${input}: ${HINT}`);
    return input;
  }
  const text = input.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  let seconds = 0;
  let last = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at) throw new DurationSyntaxError(`bad duration "${input}": ${HINT}`);
    const rank = ORDER.indexOf(m[2]!);
    if (rank <= last) throw new DurationSyntaxError(`bad duration "${input}": units must go largest first, each once`);
    last = rank;
    seconds += Number(m[1]) * UNITS[m[2]!]!;
  }
  if (last < 0) throw new DurationSyntaxError(`bad duration "${input}": ${HINT}`);
  // Millisecond parts make float noise (0.1 + 0.2); keep durations exact to the millisecond.
  return Math.round(seconds * 1000) / 1000;
}

/** The shortest config spelling of a duration in seconds: 5400 -> "1h30m", 0 -> "0s", 0.25 -> "250ms". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let ms = Math.round(seconds * 1000);
  let out = '';
  for (const unit of ORDER) {
    const size = Math.round(UNITS[unit]! * 1000);
    const n = Math.floor(ms / size);
    if (n > 0) {
      out += `${n}${unit}`;
      ms -= n * size;
    }
  }
  return out;
}
