// The schema table: defaults valid, every key documented, the Markdown reference, suggestions, names, addresses.

import t from 'tap';
import { formatHostPort, parseHostPort, parseNetwork } from '../../src/config/address.js';
import { editDistance, nearest, normalizeName, parseConfig } from '../../src/config/parse.js';
import { keyLocations, renderReference, ROOT_OPTIONS, type Options } from '../../src/config/schema.js';

function allOptions(options: Options, prefix: string, out: [string, Options[string]][] = []): [string, Options[string]][] {
  for (const [key, o] of Object.entries(options)) {
    const at = prefix ? `${prefix}.${key}` : key;
    out.push([at, o]);
    // Sections documented once elsewhere (zones[].alerts is the top-level alerts again).
    if (key === 'defaults' || at === 'zones[].alerts') continue;
    if (o.type.kind === 'map') allOptions(o.type.options, at, out);
    if (o.type.kind === 'list' && o.type.of.kind === 'map') allOptions(o.type.of.options, `${at}[]`, out);
  }
  return out;
}

t.test('every key has a one-line doc and lower-case kebab name', async (t) => {
  for (const [at, o] of allOptions(ROOT_OPTIONS, '')) {
    t.ok(o.doc.length > 0 && !o.doc.includes('\n'), `${at} doc`);
    t.match(at.split('.').at(-1), /^[a-z][a-z0-9-]*$/, `${at} name`);
    t.notOk(o.required && o.default !== undefined, `${at} is not both required and defaulted`);
  }
});

t.test('every default is valid (a config using them all parses)', async (t) => {
  const c = parseConfig('zones: [{ name: a, primaries: [192.0.2.1] }]\n', '/etc/x.yaml');
  t.equal(c.zones.length, 1);
});

t.test('the reference has a row for every key', async (t) => {
  const md = renderReference();
  t.match(md, /^\| key \| type \| default \| description \|\n\|---\|---\|---\|---\|\n/);
  for (const [at, o] of allOptions(ROOT_OPTIONS, '')) {
    if (o.type.kind === 'map' && at !== 'defaults' && at !== 'zones[].alerts') continue;
    t.ok(md.includes(`| \`${at}\` |`), at);
  }
  t.match(md, /\| `server.listen` \| list of "addr\[:port\]" \| `\["0.0.0.0:53", "\[::\]:53"\]` \|/);
  t.match(md, /\| `zones\[\].max-transfer-bytes` \| size .* \| `2GiB` \|/);
  t.match(md, /\| `keys\[\].algorithm` \| hmac-md5, .* \| required \|/);
  for (const row of md.trimEnd().split('\n')) t.equal(row.match(/(?<!\\)\|/g)?.length, 5, `four cells: ${row}`);
});

t.test('keyLocations points at the section a key belongs to', async (t) => {
  const loc = keyLocations();
  t.same(loc.get('listen'), ['server.listen']);
  t.same(loc.get('primaries'), ['defaults.primaries', 'zones[].primaries']);
});

t.test('edit distance and suggestions', async (t) => {
  t.equal(editDistance('', ''), 0);
  t.equal(editDistance('abc', ''), 3);
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(editDistance('allow-notfiy', 'allow-notify'), 1, 'a transposition costs one');
  t.equal(nearest('alow-notify', ['allow-notify', 'allow-transfer', 'notify']), 'allow-notify');
  t.equal(nearest('REFRESH-MIN', ['refresh-min', 'refresh-max']), 'refresh-min');
  t.equal(nearest('xyz', ['server', 'log', 'keys']), undefined);
  t.equal(nearest('lgo', ['server', 'log', 'keys']), 'log');
});

t.test('normalizeName', async (t) => {
  t.equal(normalizeName('Example.COM'), 'example.com.');
  t.equal(normalizeName('example.com.'), 'example.com.');
  t.equal(normalizeName('.'), '.');
  t.equal(normalizeName('a\\.b.example'), 'a\\.b.example.');
  for (const bad of ['', '@', 'a..b', ' a', '.a']) t.throws(() => normalizeName(bad), JSON.stringify(bad));
});

t.test('host:port forms', async (t) => {
  t.same(parseHostPort('192.0.2.1', { defaultPort: 53 }), { host: '192.0.2.1', port: 53, family: 4 });
  t.same(parseHostPort('192.0.2.1:5353', { defaultPort: 53 }), { host: '192.0.2.1', port: 5353, family: 4 });
  t.same(parseHostPort('[2001:db8::1]:5353', { defaultPort: 53 }), { host: '2001:db8::1', port: 5353, family: 6 });
  t.same(parseHostPort('[2001:db8::1]', { defaultPort: 53 }), { host: '2001:db8::1', port: 53, family: 6 });
  t.same(parseHostPort('2001:db8::1', { defaultPort: 53 }), { host: '2001:db8::1', port: 53, family: 6 });
  t.same(parseHostPort('::1:53', { defaultPort: 53 }), { host: '::1:53', port: 53, family: 6 }, 'without brackets it is all address');
  t.same(parseHostPort('127.0.0.1:0', { allowZeroPort: true }), { host: '127.0.0.1', port: 0, family: 4 });
  for (const bad of ['', 'localhost:53', '192.0.2.1:', '192.0.2.1:x', '192.0.2.1:65536', '[192.0.2.1]:53', '[::1]x', '1.2.3:53', '2001:db8::1]:53']) {
    t.throws(() => parseHostPort(bad, { defaultPort: 53 }), { code: 'ERR_ADDRESS_SYNTAX' }, bad);
  }
  t.throws(() => parseHostPort('192.0.2.1'), { message: /needs a port/ });
  t.throws(() => parseHostPort('192.0.2.1:0', { defaultPort: 53 }), { message: /bad port "0"/ });
  t.equal(formatHostPort({ host: '2001:db8::1', port: 53 }), '[2001:db8::1]:53');
  t.equal(formatHostPort({ host: '192.0.2.1', port: 53 }), '192.0.2.1:53');
});

t.test('networks', async (t) => {
  t.same(parseNetwork('192.0.2.0/24'), { address: '192.0.2.0', prefix: 24, family: 4 });
  t.same(parseNetwork('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 6 });
  t.same(parseNetwork('192.0.2.1'), { address: '192.0.2.1', prefix: 32, family: 4 });
  t.same(parseNetwork('::1'), { address: '::1', prefix: 128, family: 6 });
  t.same(parseNetwork('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0, family: 4 });
  for (const bad of ['192.0.2.0/33', '2001:db8::/129', '192.0.2.0/', '192.0.2.0/x', 'example.com/24', '/24']) {
    t.throws(() => parseNetwork(bad), { code: 'ERR_ADDRESS_SYNTAX' }, bad);
  }
});
