// Regenerates the config reference in README.md from the schema (src/config/schema.ts): `npm run docs`.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReference } from '../src/config/schema.js';

const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

export function withReference(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error('README.md lacks the config-reference markers');
  return `${readme.slice(0, a + START.length)}\n${renderReference().trimEnd()}\n${readme.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = join(import.meta.dirname, '..', 'README.md');
  writeFileSync(path, withReference(readFileSync(path, 'utf8')));
}
