// Config parsing: every error class with its FILE:LINE:COL and YAML path, defaults and inheritance,
// normalisation, relative paths, the frozen result, and the repository's example config.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConfigError, formatProblem, loadConfig, parseConfig, type ConfigProblem } from '../../src/config/parse.js';

const FILE = '/etc/secondaryd/secondaryd.yaml';
const y = (...lines: string[]): string => lines.join('\n') + '\n';

function problems(text: string, file = FILE): ConfigProblem[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** Exactly one problem, at line:col and path, with a message matching `message`. */
function one(t: Asserts, text: string, line: number, col: number, path: string, message: RegExp | string): void {
  const ps = problems(text);
  t.equal(ps.length, 1, ps.map(formatProblem).join('\n'));
  t.match(ps[0], { file: FILE, line, col, path, message });
}

/** A subtest, as t.test hands it to its callback. */
type Asserts = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('a minimal config gets every default', async (t) => {
  const c = parseConfig(y('zones:', '  - name: example.com', '    primaries: [192.0.2.1]'), FILE);
  t.same(c.server.listen, [
    { host: '0.0.0.0', port: 53, family: 4 },
    { host: '::', port: 53, family: 6 },
  ]);
  t.equal(c.file, FILE);
  t.equal(c.server.storage, '/var/lib/secondaryd');
  t.equal(c.server.control, '/run/secondaryd/control.sock');
  t.equal(c.server.http, undefined);
  t.equal(c.server.identity, undefined);
  t.equal(c.server.udpPayload, 1232);
  t.equal(c.server.tcpIdleTimeout, 10);
  t.equal(c.server.tcpMaxConnections, 250);
  t.equal(c.server.watchConfig, true);
  t.equal(c.log.level, 'info');
  t.same(c.keys, []);
  const z = c.zones[0]!;
  t.equal(z.name, 'example.com.');
  t.equal(z.file, undefined);
  t.same(z.primaries, [{ host: '192.0.2.1', port: 53, family: 4 }]);
  t.same(z.allowNotify, [{ network: { address: '192.0.2.1', prefix: 32, family: 4 } }], 'allow-notify defaults to the primaries');
  t.same(z.allowTransfer, []);
  t.same(z.notify, []);
  t.match(z, {
    refreshMin: 60,
    refreshMax: 86400,
    retryMin: 10,
    retryMax: 3600,
    expireMin: 3600,
    expireMax: 28 * 86400,
    transferTimeout: 300,
    transferIdleTimeout: 30,
    maxTransferRecords: 10_000_000,
    maxTransferBytes: 2 ** 31,
  });
  t.equal(z.maxZoneTtl, undefined);
  const alerts = { webhookTimeout: 10, webhookRetries: 5, commandTimeout: 30, repeatInterval: 4 * 3600, failingAfter: 2, staleAfter: 3600, expiringWithin: 86400, signaturesExpiringWithin: 2 * 86400 };
  t.same(c.alerts, alerts, 'no webhook, no command, default thresholds');
  t.same(z.alerts, alerts);
});

t.test('alerts: top level, overridden key by key per zone; "" turns an inherited target off', async (t) => {
  const c = parseConfig(
    y(
      'alerts:',
      '  webhook: https://hooks.example/dns',
      '  command: /usr/local/bin/page-me',
      '  stale-after: 30m',
      'zones:',
      '  - name: a',
      '    primaries: [192.0.2.1]',
      '  - name: b',
      '    primaries: [192.0.2.1]',
      '    alerts: { webhook: "", stale-after: 5m, repeat-interval: 0 }',
    ),
    FILE,
  );
  t.match(c.alerts, { webhook: 'https://hooks.example/dns', command: '/usr/local/bin/page-me', staleAfter: 1800, repeatInterval: 14400 });
  t.match(c.zones[0]!.alerts, { webhook: 'https://hooks.example/dns', command: '/usr/local/bin/page-me', staleAfter: 1800 });
  t.equal(c.zones[1]!.alerts.webhook, undefined);
  t.match(c.zones[1]!.alerts, { command: '/usr/local/bin/page-me', staleAfter: 300, repeatInterval: 0, failingAfter: 2 });
  one(t, y('alerts:', '  webhook: ftp://x/'), 2, 12, 'alerts.webhook', 'webhook "ftp://x/" is not an http:// or https:// URL');
  one(t, y('zones:', '  - name: a', '    file: x', '    alerts: { webhook: "not a url" }'), 4, 24, 'zones[0].alerts.webhook', /is not an http/);
  one(t, y('defaults:', '  alerts: {}'), 2, 3, 'defaults.alerts', '"alerts" cannot be set in defaults');
});

t.test('an empty file is a valid config with no zones', async (t) => {
  t.same(parseConfig('', FILE).zones, []);
  t.same(parseConfig('# nothing\n', FILE).zones, []);
});

t.test('every key written out', async (t) => {
  const c = parseConfig(
    y(
      'server:',
      '  listen: ["127.0.0.1:5300", "[::1]:5300", "192.0.2.53"]',
      '  storage: /srv/secondaryd',
      '  control: /tmp/s.sock',
      '  http: "[::1]:9153"',
      '  identity: ns2.example.net',
      '  udp-payload: 4096',
      '  tcp-idle-timeout: 1m',
      '  tcp-max-connections: 10',
      '  watch-config: no',
      'log:',
      '  level: DEBUG',
      'keys:',
      '  - name: Xfr-Key',
      '    algorithm: HMAC-SHA512',
      '    secret: "c2VjcmV0IQ=="',
      'zones:',
      '  - name: EXAMPLE.org.',
      '    primaries:',
      '      - "192.0.2.1"',
      '      - { address: "198.51.100.7:5353", key: xfr-key }',
      '      - "[2001:db8::1]:5353"',
      '      - "2001:db8::2"',
      '    allow-notify: ["192.0.2.0/24", { key: xfr-key. }, { address: "2001:db8::/32", key: XFR-KEY }]',
      '    allow-transfer: 203.0.113.0/24',
      '    notify: ["203.0.113.9", { address: "203.0.113.10:5300", key: xfr-key }]',
      '    refresh-min: 30',
      '    refresh-max: 2h',
      '    retry-min: 5s',
      '    retry-max: 1h30m',
      '    expire-min: 1d',
      '    expire-max: 2w',
      '    transfer-timeout: 10m',
      '    transfer-idle-timeout: 1.5',
      '    max-transfer-records: 10_000',
      '    max-transfer-bytes: 64M',
      '    max-zone-ttl: 1d',
    ),
    FILE,
  );
  t.same(c.server, {
    listen: [
      { host: '127.0.0.1', port: 5300, family: 4 },
      { host: '::1', port: 5300, family: 6 },
      { host: '192.0.2.53', port: 53, family: 4 },
    ],
    storage: '/srv/secondaryd',
    control: '/tmp/s.sock',
    http: { host: '::1', port: 9153, family: 6 },
    identity: 'ns2.example.net',
    udpPayload: 4096,
    tcpIdleTimeout: 60,
    tcpMaxConnections: 10,
    watchConfig: false,
  });
  t.equal(c.log.level, 'debug');
  t.equal(c.keys.length, 1);
  t.equal(c.keys[0]!.name, 'xfr-key.');
  t.equal(c.keys[0]!.algorithm, 'hmac-sha512');
  t.ok(Buffer.isBuffer(c.keys[0]!.secret));
  t.equal(c.keys[0]!.secret.toString(), 'secret!');
  const z = c.zones[0]!;
  t.equal(z.name, 'example.org.');
  t.same(z.primaries, [
    { host: '192.0.2.1', port: 53, family: 4 },
    { host: '198.51.100.7', port: 5353, family: 4, key: 'xfr-key.' },
    { host: '2001:db8::1', port: 5353, family: 6 },
    { host: '2001:db8::2', port: 53, family: 6 },
  ]);
  t.same(z.allowNotify, [
    { network: { address: '192.0.2.0', prefix: 24, family: 4 } },
    { key: 'xfr-key.' },
    { network: { address: '2001:db8::', prefix: 32, family: 6 }, key: 'xfr-key.' },
  ]);
  t.same(z.allowTransfer, [{ network: { address: '203.0.113.0', prefix: 24, family: 4 } }], 'one value stands for a list of one');
  t.same(z.notify, [
    { host: '203.0.113.9', port: 53, family: 4 },
    { host: '203.0.113.10', port: 5300, family: 4, key: 'xfr-key.' },
  ]);
  t.match(z, {
    refreshMin: 30,
    refreshMax: 7200,
    retryMin: 5,
    retryMax: 5400,
    expireMin: 86400,
    expireMax: 14 * 86400,
    transferTimeout: 600,
    transferIdleTimeout: 1.5,
    maxTransferRecords: 10000,
    maxTransferBytes: 64 * 2 ** 20,
    maxZoneTtl: 86400,
  });
});

t.test('zone names are normalised: lower case, final dot', async (t) => {
  const c = parseConfig(
    y('zones:', '  - { name: Example.COM, file: a }', '  - { name: "b.example.", file: b }', '  - { name: ".", file: root }', '  - { name: 1.2, file: n }'),
    FILE,
  );
  t.same(
    c.zones.map((z) => z.name),
    ['example.com.', 'b.example.', '.', '1.2.'],
  );
});

t.test('defaults are inherited, and a zone overrides them', async (t) => {
  const c = parseConfig(
    y(
      'keys: [{ name: k, algorithm: hmac-sha256, secret: "c2VjcmV0" }]',
      'defaults:',
      '  primaries: [{ address: 192.0.2.1, key: k }]',
      '  allow-transfer: [198.51.100.0/24]',
      '  refresh-min: 5m',
      '  max-transfer-records: 100',
      'zones:',
      '  - name: a.example',
      '  - name: b.example',
      '    primaries: ["192.0.2.2:5353"]',
      '    refresh-min: 10s',
      '    allow-transfer: []',
      '  - name: c.example',
      '    file: zones/c.zone',
    ),
    FILE,
  );
  const [a, b, c3] = c.zones;
  t.same(a!.primaries, [{ host: '192.0.2.1', port: 53, family: 4, key: 'k.' }]);
  t.same(a!.allowNotify, [{ network: { address: '192.0.2.1', prefix: 32, family: 4 }, key: 'k.' }], 'NOTIFY from the primary, with its key');
  t.same(a!.allowTransfer, [{ network: { address: '198.51.100.0', prefix: 24, family: 4 } }]);
  t.equal(a!.refreshMin, 300);
  t.equal(a!.maxTransferRecords, 100);
  t.same(b!.primaries, [{ host: '192.0.2.2', port: 5353, family: 4 }]);
  t.same(b!.allowNotify, [{ network: { address: '192.0.2.2', prefix: 32, family: 4 } }]);
  t.same(b!.allowTransfer, []);
  t.equal(b!.refreshMin, 10);
  t.equal(b!.maxTransferRecords, 100);
  t.equal(c3!.file, '/etc/secondaryd/zones/c.zone');
  t.same(c3!.primaries, [], 'a file zone does not inherit primaries');
  t.same(c3!.allowNotify, []);
  t.equal(c3!.maxTransferRecords, 100);
});

t.test('YAML anchors and aliases work', async (t) => {
  const c = parseConfig(
    y('zones:', '  - name: a', '    primaries: &prim ["192.0.2.1", "192.0.2.2"]', '  - name: b', '    primaries: *prim'),
    FILE,
  );
  t.same(c.zones[1]!.primaries, c.zones[0]!.primaries);
  // A bad anchored value is reported for each use, at the anchor.
  const ps = problems(y('zones:', '  - name: a', '    primaries: &p [x]', '  - name: b', '    primaries: *p'));
  t.same(
    ps.map((p) => `${p.line}:${p.col} ${p.path}`),
    ['3:20 zones[0].primaries[0]', '3:20 zones[1].primaries[0]'],
  );
});

t.test('relative paths are resolved against the config file directory', async (t) => {
  const c = parseConfig(
    y('server:', '  storage: ../var/lib', '  control: run/control.sock', 'zones:', '  - { name: a, file: zones/a.zone }', '  - { name: b, file: /abs/b.zone }'),
    '/opt/secondaryd/conf/secondaryd.yaml',
  );
  t.equal(c.server.storage, '/opt/secondaryd/var/lib');
  t.equal(c.server.control, '/opt/secondaryd/conf/run/control.sock');
  t.equal(c.zones[0]!.file, '/opt/secondaryd/conf/zones/a.zone');
  t.equal(c.zones[1]!.file, '/abs/b.zone');
  const rel = parseConfig(y('server:', '  storage: data'), 'conf/x.yaml');
  t.equal(rel.server.storage, join(process.cwd(), 'conf/data'), 'a relative config path is taken from the working directory');
  t.equal(rel.file, join(process.cwd(), 'conf/x.yaml'));
});

t.test('the result is deeply frozen', async (t) => {
  const c = parseConfig(
    y('keys: [{ name: k, algorithm: hmac-sha256, secret: "c2VjcmV0" }]', 'zones:', '  - name: a', '    primaries: [{ address: 192.0.2.1, key: k }]'),
    FILE,
  );
  t.ok(Object.isFrozen(c));
  t.ok(Object.isFrozen(c.server));
  t.ok(Object.isFrozen(c.server.listen));
  t.ok(Object.isFrozen(c.server.listen[0]));
  t.ok(Object.isFrozen(c.zones));
  t.ok(Object.isFrozen(c.zones[0]));
  t.ok(Object.isFrozen(c.zones[0]!.primaries[0]));
  t.ok(Object.isFrozen(c.zones[0]!.allowNotify[0]!.network));
  t.ok(Object.isFrozen(c.keys[0]));
  t.throws(() => {
    (c.zones as unknown as unknown[]).push({});
  });
  t.throws(() => {
    (c.server as { udpPayload: number }).udpPayload = 1;
  });
  // Defaults are shared between configs: freezing must not have leaked into later parses.
  const again = parseConfig('', FILE);
  t.equal(again.server.listen.length, 2);
});

t.test('errors: unknown keys, with the nearest valid key suggested', async (t) => {
  one(t, y('zones:', '  - name: a', '    primaries: [192.0.2.1]', '    alow-notify: [192.0.2.1]'), 4, 5, 'zones[0].alow-notify', 'unknown key "alow-notify"; did you mean "allow-notify"?');
  one(t, y('server:', '  listne: ["127.0.0.1:53"]'), 2, 3, 'server.listne', 'unknown key "listne"; did you mean "listen"?');
  one(t, y('zones:', '  - name: a', '    masters: [192.0.2.1]', '    file: x'), 3, 5, 'zones[0].masters', 'did you mean "primaries"?');
  one(t, y('listen: ["127.0.0.1:53"]'), 1, 1, 'listen', 'unknown key "listen"; did you mean "server.listen"?');
  one(t, y('defaults:', '  file: x'), 2, 3, 'defaults.file', '"file" cannot be set in defaults');
  one(t, y('server:', '  frobnicate: 1'), 2, 3, 'server.frobnicate', /^unknown key "frobnicate"$/);
  one(t, y('zones:', '  - name: a', '    file: x', '    Allow_Notify: []'), 4, 5, 'zones[0].Allow_Notify', 'did you mean "allow-notify"?');
});

t.test('errors: wrong types', async (t) => {
  one(t, y('server:', '  listen: { a: 1 }'), 2, 11, 'server.listen', 'expected a list of values, got a mapping');
  one(t, y('server: 5'), 1, 9, 'server', 'expected a mapping (key: value), got 5');
  one(t, y('server:', '  watch-config: maybe'), 2, 17, 'server.watch-config', 'expected true or false, got "maybe"');
  one(t, y('server:', '  udp-payload: big'), 2, 16, 'server.udp-payload', 'expected a whole number, got "big"');
  one(t, y('zones:', '  - name: [a]', '    file: x'), 2, 11, 'zones[0].name', 'expected a domain name, got a list');
  one(t, y('zones: [a]'), 1, 9, 'zones[0]', 'expected a mapping (key: value), got "a"');
  one(t, y('log:', '  level: loud'), 2, 10, 'log.level', '"loud" is not one of fatal, error, warn, info, debug, trace, silent');
});

t.test('errors: out of range', async (t) => {
  one(t, y('server:', '  udp-payload: 100'), 2, 16, 'server.udp-payload', 'out of range: must be between 512 and 4096, got 100');
  one(t, y('server:', '  udp-payload: 8192'), 2, 16, 'server.udp-payload', /between 512 and 4096/);
  one(t, y('server:', '  tcp-max-connections: 0'), 2, 24, 'server.tcp-max-connections', /out of range/);
  one(t, y('server:', '  tcp-idle-timeout: 2d'), 2, 21, 'server.tcp-idle-timeout', 'out of range: must be between 1s and 1h, got 2d');
  one(t, y('defaults:', '  expire-max: 5000000000'), 2, 15, 'defaults.expire-max', /out of range/);
  one(t, y('defaults:', '  max-transfer-bytes: 100'), 2, 23, 'defaults.max-transfer-bytes', 'out of range: must be at least 512, got 100');
  one(t, y('defaults:', '  refresh-min: 1.5s'), 2, 16, 'defaults.refresh-min', 'must be whole seconds, got 1.5s');
  one(t, y('defaults:', '  refresh-min: 2d', '  refresh-max: 1d'), 2, 16, 'defaults.refresh-min', 'refresh-min (2d) is above refresh-max (1d)');
  one(
    t,
    y('defaults:', '  retry-max: 1m', 'zones:', '  - name: a', '    file: x', '    retry-min: 5m'),
    6,
    16,
    'zones[0].retry-min',
    'retry-min (5m) is above retry-max (1m)',
  );
  one(t, y('server:', '  identity: ' + 'x'.repeat(256)), 2, 13, 'server.identity', 'longer than 255 characters');
});

t.test('errors: bad addresses', async (t) => {
  one(t, y('zones:', '  - name: a', '    primaries: ["ns1.example.net"]'), 3, 17, 'zones[0].primaries[0]', /"ns1.example.net" is not an IP address \(host names are not resolved/);
  one(t, y('zones:', '  - name: a', '    primaries: [{ address: "192.0.2.1:99999" }]'), 3, 28, 'zones[0].primaries[0].address', 'bad port "99999" in "192.0.2.1:99999" (1..65535)');
  one(t, y('zones:', '  - name: a', '    primaries: ["2001:db8::1]:53"]'), 3, 17, 'zones[0].primaries[0]', /write an IPv6 address with a port as "\[addr\]:port"/);
  one(t, y('server:', '  http: 9153'), 2, 9, 'server.http', '"9153" is not an address: write "host:port"');
  one(t, y('server:', '  http: 127.0.0.1'), 2, 9, 'server.http', '"127.0.0.1" needs a port ("host:port")');
  one(t, y('server:', '  listen: ["127.0.0.1:53", "127.0.0.1:53"]'), 2, 28, 'server.listen[1]', '"127.0.0.1" port 53 is listed twice');
  one(t, y('zones:', '  - name: a', '    file: x', '    allow-transfer: ["10.0.0.0/33"]'), 4, 22, 'zones[0].allow-transfer[0]', 'bad prefix length "/33" in "10.0.0.0/33" (0..32)');
  one(t, y('zones:', '  - name: a', '    file: x', '    allow-transfer: [{}]'), 4, 22, 'zones[0].allow-transfer[0]', 'an ACL entry needs an address, a key, or both');
  one(t, y('zones:', '  - name: a', '    file: x', '    notify: ["[192.0.2.1]:53"]'), 4, 14, 'zones[0].notify[0]', /in brackets is not an IPv6 address/);
  one(
    t,
    y('keys: [{ name: k, algorithm: hmac-sha256, secret: "c2VjcmV0" }]', 'zones:', '  - name: a', '    primaries: [{ key: k }]'),
    4,
    17,
    'zones[0].primaries[0]',
    'missing required key "address"',
  );
  t.ok(parseConfig(y('server:', '  listen: ["127.0.0.1:0"]', '  http: "127.0.0.1:0"'), FILE), 'port 0 is allowed for our own listeners');
  one(t, y('zones:', '  - name: a', '    primaries: ["192.0.2.1:0"]'), 3, 17, 'zones[0].primaries[0]', /bad port "0"/);
});

t.test('errors: bad durations', async (t) => {
  one(t, y('server:', '  tcp-idle-timeout: 5x'), 2, 21, 'server.tcp-idle-timeout', /^bad duration "5x": expected seconds or a number with a unit/);
  one(t, y('zones:', '  - name: a', '    file: x', '    transfer-timeout: 1m1m'), 4, 23, 'zones[0].transfer-timeout', /units must go largest first/);
  one(t, y('zones:', '  - name: a', '    file: x', '    expire-min: [1]'), 4, 17, 'zones[0].expire-min', /^expected a duration/);
});

t.test('errors: key references, secrets, algorithms', async (t) => {
  const key = 'keys: [{ name: xfr-key, algorithm: hmac-sha256, secret: "c2VjcmV0" }]';
  one(
    t,
    y(key, 'zones:', '  - name: a', '    primaries: [{ address: 192.0.2.1, key: xfr-kye }]'),
    4,
    44,
    'zones[0].primaries[0].key',
    'unknown key "xfr-kye": not defined under "keys"; did you mean "xfr-key"?',
  );
  one(t, y('zones:', '  - name: a', '    file: x', '    allow-transfer: [{ key: nope }]'), 4, 29, 'zones[0].allow-transfer[0].key', 'unknown key "nope": no keys are defined under "keys"');
  one(t, y(key, 'defaults:', '  notify: [{ address: 192.0.2.1, key: other }]'), 3, 39, 'defaults.notify[0].key', /^unknown key "other": not defined under "keys"$/);
  one(
    t,
    y('keys:', '  - name: k', '    algorithm: hmac-sha256', '    secret: "not base64!"'),
    4,
    13,
    'keys[0].secret',
    'not valid base64 (RFC 4648 alphabet, padded with "=" to a multiple of 4)',
  );
  one(t, y('keys:', '  - name: k', '    algorithm: hmac-sha256', '    secret: "c2VjcmV0IQ"'), 4, 13, 'keys[0].secret', /not valid base64/);
  one(t, y('keys:', '  - name: k', '    algorithm: hmac-sha256', '    secret: ""'), 4, 13, 'keys[0].secret', /not valid base64/);
  one(t, y('keys:', '  - name: k', '    algorithm: hmac-sha265', '    secret: "c2VjcmV0"'), 3, 16, 'keys[0].algorithm', /is not one of hmac-md5, .*; did you mean "hmac-sha256"\?$/);
  one(t, y('keys:', '  - name: k', '    algorithm: gost', '    secret: "c2VjcmV0"'), 3, 16, 'keys[0].algorithm', /^"gost" is not one of hmac-md5/);
  one(t, y('keys:', '  - name: k', '    secret: "c2VjcmV0"'), 2, 5, 'keys[0]', 'missing required key "algorithm"');
  one(
    t,
    y('keys:', '  - { name: xfr-key, algorithm: hmac-sha256, secret: "c2VjcmV0" }', '  - { name: XFR-KEY., algorithm: hmac-md5, secret: "c2VjcmV0" }'),
    3,
    13,
    'keys[1].name',
    'TSIG key "xfr-key." is defined twice (first at 2:13)',
  );
  t.equal(parseConfig(y('keys: [{ name: k, algorithm: hmac-sha1, secret: 1234 }]'), FILE).keys[0]!.secret.length, 3, 'a plain-number secret is read as text');
});

t.test('errors: zones', async (t) => {
  one(t, y('zones:', '  - name: example.com', '    file: a', '  - name: EXAMPLE.com.', '    file: b'), 4, 11, 'zones[1].name', 'zone "example.com." is defined twice (first at 2:11)');
  one(t, y('zones:', '  - name: a', '    file: a', '    primaries: [192.0.2.1]'), 3, 5, 'zones[0].file', 'a zone has either "file" or "primaries", not both');
  one(t, y('zones:', '  - name: a', '    notify: [192.0.2.1]'), 2, 5, 'zones[0]', 'zone "a." has neither "file" nor "primaries" (set one, or primaries in defaults)');
  one(t, y('zones:', '  - name: a', '    primaries: []'), 3, 16, 'zones[0].primaries', 'must not be empty');
  one(t, y('zones:', '  - file: a'), 2, 5, 'zones[0]', 'missing required key "name"');
  one(t, y('zones:', '  - name: "a..b"', '    file: a'), 2, 11, 'zones[0].name', /empty label/);
  one(t, y('zones:', '  - name: "@"', '    file: a'), 2, 11, 'zones[0].name', /is not a domain name/);
  one(t, y('zones:', '  - name: ' + 'a'.repeat(64), '    file: a'), 2, 11, 'zones[0].name', /label longer than 63/);
  one(t, y('zones:', '  -', '  - { name: b, file: b }'), 2, 4, 'zones[0]', 'empty list item');
});

t.test('errors: YAML syntax, with FILE:LINE:COL', async (t) => {
  one(t, y('server:', '  listen: [1,', 'zones: []'), 3, 1, '', /^YAML: flow sequence/);
  one(t, y('a: b: c'), 1, 4, '', /^YAML: nested mappings/);
  one(t, y('server:', '  udp-payload: 1232', '  udp-payload: 1400'), 3, 3, '', 'this key is given twice in the same mapping');
  one(t, y('server:', '\tlisten: []'), 2, 1, '', /tabs are not allowed/);
  one(t, y('zones: []', '---', 'zones: []'), 2, 1, '', /single YAML document/);
  one(t, y('zones:', '  - name: "a', '    file: b'), 4, 1, '', /YAML: missing closing "quote/);
});

t.test('every problem is reported, in file order', async (t) => {
  const ps = problems(
    y(
      'server:',
      '  udp-payload: 1',
      '  listne: x',
      'keys:',
      '  - { name: k, algorithm: md5, secret: "%%" }',
      'zones:',
      '  - name: a',
      '  - name: a',
      '    file: f',
      '    primaries: [1.2.3]',
    ),
  );
  t.same(
    ps.map((p) => `${p.line}:${p.col} ${p.path}`),
    [
      '2:16 server.udp-payload',
      '3:3 server.listne',
      '5:27 keys[0].algorithm',
      '5:40 keys[0].secret',
      '7:5 zones[0]',
      '8:11 zones[1].name',
      '9:5 zones[1].file',
      '10:17 zones[1].primaries[0]',
    ],
  );
});

t.test('ConfigError: stable code, formatted message', async (t) => {
  let err: unknown;
  try {
    parseConfig(y('zones:', '  - name: a', '    primaries: [{ address: 192.0.2.1, kye: k }]'), 'conf/x.yaml');
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ConfigError);
  const ce = err as ConfigError;
  t.equal(ce.code, 'ERR_CONFIG_INVALID');
  t.equal(ce.name, 'ConfigError');
  t.equal(ce.message, 'conf/x.yaml:3:39: unknown key "kye"; did you mean "key"? (at zones[0].primaries[0].kye)');
  t.equal(ce.problems[0]!.text, ce.message, 'each problem carries its formatted line');
  t.ok(Object.isFrozen(ce.problems[0]));
  t.equal(formatProblem({ file: 'f', line: 0, col: 0, path: '', message: 'm' }), 'f: m');
  t.equal(formatProblem({ file: 'f', line: 2, col: 3, path: '', message: 'm' }), 'f:2:3: m');
});

t.test('loadConfig', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'secondaryd-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.yaml');
  await writeFile(file, y('server:', '  storage: state', 'zones:', '  - { name: a, file: a.zone }'));
  const c = await loadConfig(file);
  t.equal(c.server.storage, join(dir, 'state'));
  t.equal(c.zones[0]!.file, join(dir, 'a.zone'));
  await t.rejects(loadConfig(join(dir, 'missing.yaml')), { code: 'ERR_CONFIG_READ', problems: [{ line: 0, message: 'cannot read the config: no such file' }] });
  await writeFile(file, 'server: [\n');
  await t.rejects(loadConfig(file), { code: 'ERR_CONFIG_INVALID' });
});

t.test('the repository example config parses', async (t) => {
  const file = fileURLToPath(new URL('../../conf/secondaryd.yaml', import.meta.url));
  const c = await loadConfig(file);
  t.ok(c.zones.length > 0);
});
