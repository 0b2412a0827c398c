// Mutated master files (RFC 1035 5): the reader only ever fails with ZoneFileError, and whatever it accepts the writer writes back identically.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { formatZone } from '../../src/zonefile/writer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const origin = nameFromText('example.');
const source = readFileSync(path.join(here, 'fixtures', 'all-types.zone'), 'latin1');
const key = (r: ResourceRecord): string => `${r.owner.toString('hex')} ${r.ttl} ${r.class} ${r.type} ${r.rdata.toString('hex')}`;

t.test('3000 seeded mutations of the all-types fixture', async (t) => {
  let seed = 20240101;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  // Characters that matter to the grammar, so mutations hit the interesting paths.
  const alphabet = ' \t\n()";\\.@$0123456789abcdefxyzN=,-/:#\xff';
  let stray = 0;
  let mismatched = 0;
  let reported = 0;
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const chars = source.split('');
    for (let k = 0, m = 1 + rnd(4); k < m; k++) {
      const pos = rnd(chars.length);
      const op = rnd(3);
      if (op === 0) chars[pos] = alphabet[rnd(alphabet.length)]!;
      else if (op === 1) chars.splice(pos, 1);
      else chars.splice(pos, 0, alphabet[rnd(alphabet.length)]!);
    }
    const text = Buffer.from(chars.join(''), 'latin1');
    try {
      const rrs = parseZone(text, { origin, onError: () => reported++ });
      accepted += rrs.length;
      const again = parseZone(formatZone(rrs, origin), { origin });
      if (again.map(key).sort().join('\n') !== rrs.map(key).sort().join('\n')) mismatched++;
    } catch (err) {
      if (!(err instanceof ZoneFileError)) {
        stray++;
        t.comment(String((err as Error).stack));
      }
    }
  }
  t.equal(stray, 0, 'no error other than ZoneFileError escaped');
  t.equal(mismatched, 0, 'every accepted zone survives writer -> reader unchanged');
  t.ok(reported > 1000 && accepted > 100000, `mutations did reach errors (${reported}) and records (${accepted})`);
});
