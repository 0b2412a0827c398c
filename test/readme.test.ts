// The README's config reference is generated from the schema and must not drift from it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { withReference } from '../scripts/readme-config.js';

t.test('README config reference matches the schema (run `npm run docs` to update)', async (t) => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  t.equal(readme, withReference(readme));
  t.match(readme, /`server\.listen`/);
  t.match(readme, /`zones\[\]\.primaries`/);
});
