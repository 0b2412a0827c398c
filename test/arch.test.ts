// Architecture: imports follow the layering of shared/DESIGN.md (wire <- zone <- answer, ...).
// A module may import only from its own layer and the layers listed for it here.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';

const SRC = join(import.meta.dirname, '..', 'src');

/** Layer -> the other layers it may import from. */
const ALLOWED: Record<string, string[]> = {
  wire: [],
  config: ['wire'],
  zone: ['wire'],
  zonefile: ['wire'],
  answer: ['wire', 'zone'],
  xfr: ['wire', 'zone'],
  refresh: ['wire', 'config'],
  net: ['wire', 'zone', 'answer', 'xfr', 'config', 'refresh'],
  monitor: ['wire', 'zone', 'refresh', 'config'],
  store: ['wire', 'zone'],
  // secondaryd doctor: probes from the outside with the wire codec, xfr requests/checks and net's socket helpers.
  doctor: ['wire', 'zonefile', 'xfr', 'config', 'net'],
  '.': ['*'], // daemon.ts, cli.ts, main.ts, log.ts: the composition root
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

t.test('src imports respect the layering', async (t) => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    const layer = rel.includes('/') ? rel.split('/')[0]! : '.';
    const allowed = ALLOWED[layer];
    if (allowed === undefined) {
      violations.push(`${rel}: layer "${layer}" is not declared in test/arch.test.ts`);
      continue;
    }
    for (const m of readFileSync(file, 'utf8').matchAll(/^import[^;]*?from '(\.[^']+)'/gms)) {
      checked++;
      const target = relative(SRC, join(file, '..', m[1]!));
      const to = target.includes('/') ? target.split('/')[0]! : '.';
      if (to === layer || allowed.includes('*') || allowed.includes(to)) continue;
      violations.push(`${rel} imports ${target} (${layer} -> ${to})`);
    }
  }
  t.ok(checked > 20, `${checked} imports checked`);
  t.same(violations, [], 'no import against the layering');
});
