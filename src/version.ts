// The package's version, from its package.json: the first one named secondaryd above this module,
// which is src/ under tsx, dist/ compiled, dist/bundle/ in the one module bin/secondaryd runs.

import { readFileSync } from 'node:fs';

function readVersion(): string {
  let dir = new URL('./', import.meta.url);
  for (let up = 0; up < 4; up++, dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'secondaryd') return typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      // none here (or unreadable): look further up
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
