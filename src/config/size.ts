// Byte sizes in the config: a plain number of bytes or a binary unit ("512k", "64M", "2GiB"; k = 1024).

/** A size that cannot be read. */
export class SizeSyntaxError extends Error {
  readonly code = 'ERR_SIZE_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'SizeSyntaxError';
  }
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Bytes in a size. Units are binary whatever the spelling (k, K, KiB, KB all mean 1024). */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw new SizeSyntaxError(`bad size ${input}: expected a whole number of bytes`);
    return input;
  }
  const m = /^(\d+)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(input.trim());
  if (!m) throw new SizeSyntaxError(`bad size "${input}": expected bytes, or a number with k, M, G or T (binary units, e.g. 64M, 2GiB)`);
  const bytes = Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) throw new SizeSyntaxError(`size "${input}" is too large`);
  return bytes;
}

/** The shortest exact spelling: 2147483648 -> "2GiB", 1536 -> "1536". */
export function formatSize(bytes: number): string {
  for (const [unit, label] of [['t', 'TiB'], ['g', 'GiB'], ['m', 'MiB'], ['k', 'KiB']] as const) {
    const size = UNITS[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${label}`;
  }
  return String(bytes);
}
