// Broken master files: each error is a ZoneFileError with a stable code and the exact FILE:LINE:COL (RFC 1035 5).

import t from 'tap';
import { nameFromText } from '../../src/wire/name.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { parseZone } from '../../src/zonefile/reader.js';

const origin = nameFromText('example.');
const head = '$TTL 300\n@ SOA ns hostmaster 1 7200 3600 1209600 300\n'; // two lines before each case

const label64 = 'a'.repeat(64);
const label63 = 'b'.repeat(63);

// [what, zone text after `head`, code, expected message (after "db.example:")]
const cases: [string, string, string, string][] = [
  ['bad TTL', 'www 3600x IN A 192.0.2.1', 'ERR_ZONE_TTL', '3:5: bad TTL "3600x" (seconds, or units like 1h30m; at most 2147483647)'],
  ['TTL above 2^31-1', 'www 2147483648 A 192.0.2.1', 'ERR_ZONE_TTL', '3:5: bad TTL "2147483648" (seconds, or units like 1h30m; at most 2147483647)'],
  ['bad $TTL', '$TTL 1y', 'ERR_ZONE_TTL', '3:6: bad TTL "1y"'],
  ['unknown type', 'www IN BOGUS 1', 'ERR_ZONE_TYPE', '3:8: unknown type "BOGUS"'],
  ['missing type', 'www 300 IN', 'ERR_ZONE_TYPE', '3:11: missing type'],
  ['bad IPv4: octet > 255', 'www A 192.0.2.256', 'ERR_ZONE_RDATA', '3:7: bad IPv4 address "192.0.2.256"'],
  ['bad IPv4: three parts', 'www   IN   A   192.0.2', 'ERR_ZONE_RDATA', '3:16: bad IPv4 address "192.0.2"'],
  ['bad IPv6', 'www AAAA 2001:db8::1::2', 'ERR_ZONE_RDATA', '3:10: bad IPv6 address "2001:db8::1::2"'],
  ['label longer than 63 in the owner', `${label64}.example. A 192.0.2.1`, 'ERR_ZONE_OWNER', `3:1: bad owner name: label longer than 63 octets in "${label64}.example."`],
  ['label longer than 63 in RDATA', `x CNAME ${label64}`, 'ERR_ZONE_RDATA', `3:9: bad canonical name: label longer than 63 octets in "${label64}"`],
  ['name longer than 255 octets', `${label63}.${label63}.${label63}.${label63} A 192.0.2.1`, 'ERR_ZONE_OWNER', `3:1: bad owner name: name longer than 255 octets: "${label63}.${label63}.${label63}.${label63}"`],
  ['"(" never closed', 'www A ( 192.0.2.1\nnext A 192.0.2.2', 'ERR_ZONE_SYNTAX', '3:7: unbalanced parenthesis: "(" is never closed'],
  ['")" without "("', 'www A 192.0.2.1 )', 'ERR_ZONE_SYNTAX', '3:17: unbalanced parenthesis: ")" without "("'],
  ['unterminated quote', 'www TXT "abc\nnext A 192.0.2.2', 'ERR_ZONE_SYNTAX', '3:9: unterminated quoted string'],
  ['owner outside the zone', 'www.example.net. A 192.0.2.1', 'ERR_ZONE_OUT_OF_ZONE', '3:1: owner www.example.net. is outside the zone example.'],
  ['$ORIGIN outside the zone, then an owner', '$ORIGIN example.org.\nwww A 192.0.2.1', 'ERR_ZONE_OUT_OF_ZONE', '4:1: owner www.example.org. is outside the zone example.'],
  ['class other than the zone', 'www CH A 192.0.2.1', 'ERR_ZONE_CLASS', "3:5: class CH differs from the zone's class"],
  ['missing RDATA', 'www A', 'ERR_ZONE_RDATA', '3:6: missing IPv4 address'],
  ['extra RDATA', 'www A 192.0.2.1 192.0.2.2', 'ERR_ZONE_RDATA', '3:17: unexpected "192.0.2.2" after the RDATA of A'],
  ['character-string over 255', `x TXT "${'a'.repeat(256)}"`, 'ERR_ZONE_RDATA', '3:7: text longer than 255 octets (256)'],
  ['bad \\DDD escape', 'x TXT "\\300"', 'ERR_ZONE_RDATA', '3:7: bad text: escape "\\300" is above 255'],
  ['bad base64', 'k DNSKEY 256 3 8 AwE*', 'ERR_ZONE_RDATA', '3:18: bad public key: not base64'],
  ['error on a later line of a multi-line entry', 'x SOA ns h (\n   1 2 3\n   4 x5 )', 'ERR_ZONE_RDATA', '5:6: bad minimum "x5"'],
  ['unknown directive', '$GENERATE 1-10 h$ A 192.0.2.$', 'ERR_ZONE_DIRECTIVE', '3:1: unknown directive "$GENERATE"'],
  ['$ORIGIN without a name', '$ORIGIN', 'ERR_ZONE_DIRECTIVE', '3:8: $ORIGIN needs a domain name'],
  ['SVCB duplicate key', 's SVCB 1 . port=1 port=2', 'ERR_ZONE_RDATA', '3:19: duplicate SvcParamKey "port"'],
  ['SVCB mandatory key missing', 's SVCB 1 . mandatory=alpn port=1', 'ERR_ZONE_RDATA', '3:12: mandatory key "alpn" is missing'],
];

for (const [what, body, code, message] of cases) {
  t.test(what, async (t) => {
    const err = t.throws(() => parseZone(head + body + '\n', { origin, file: 'db.example' })) as ZoneFileError;
    t.ok(err instanceof ZoneFileError, 'a ZoneFileError');
    t.equal(err.message, `db.example:${message}`);
    t.equal(err.code, code);
    const [line, col] = message.split(':').map(Number);
    t.same([err.file, err.line, err.col], ['db.example', line, col]);
  });
}

t.test('omitted owner on the first record', async (t) => {
  t.throws(() => parseZone('$TTL 1\n\t  A 192.0.2.1\n', { origin, file: 'f' }), {
    code: 'ERR_ZONE_OWNER',
    message: 'f:2:4: no owner name, and no previous record to take it from',
  });
});

t.test('without a file name the message says <input>', async (t) => {
  t.throws(() => parseZone('www A 1.2.3\n', { origin }), { message: '<input>:1:7: bad IPv4 address "1.2.3"' });
});
