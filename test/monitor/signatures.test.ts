// The signature watchdog's input: the earliest RRSIG expiration of a served zone.

import t from 'tap';
import { earliestSignatureExpiration } from '../../src/monitor/signatures.js';
import { nameFromText } from '../../src/wire/name.js';
import { buildZone } from '../../src/zone/zone.js';
import { parseZone } from '../../src/zonefile/reader.js';

const origin = nameFromText('s.test.');
const zone = (body: string) => buildZone(origin, parseZone(`$ORIGIN s.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n${body}`, { origin }));
const SIG = 'AAECAwQFBgcICQ==';
const rrsig = (owner: string, covered: string, expiration: string) => `${owner} RRSIG ${covered} 13 2 60 ${expiration} 20260101000000 1234 s.test. ${SIG}\n`;
const at = (s: string): number => Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}Z`) / 1000;
const NOW = at('20261124000000');

t.test('the earliest expiration over every RRSIG, wherever it is', async (t) => {
  const z = zone(rrsig('@', 'SOA', '20261220000000') + rrsig('@', 'NS', '20261215000000') + rrsig('deep.down.www', 'A', '20261201120000') + 'deep.down.www A 192.0.2.9\n' + rrsig('ns', 'A', '20261230000000'));
  t.equal(earliestSignatureExpiration(z, NOW), at('20261201120000'));
});

t.test('an already expired signature is in the past (serial arithmetic, RFC 4034 3.1.5)', async (t) => {
  const z = zone(rrsig('@', 'SOA', '20261120000000') + rrsig('@', 'NS', '20261215000000'));
  t.equal(earliestSignatureExpiration(z, NOW), at('20261120000000'));
  t.ok(at('20261120000000') < NOW);
});

t.test('an unsigned zone has none; a zone signed only below the apex counts as unsigned', async (t) => {
  t.equal(earliestSignatureExpiration(zone(''), NOW), null);
  t.equal(earliestSignatureExpiration(zone(rrsig('ns', 'A', '20261201000000')), NOW), null);
});
