// The doctor's judgement on hand-made facts (RFC 2182 3.1 network diversity, RFC 1982 serials): no sockets.

import t from 'tap';
import { analyze, healthy, networkOf, type Finding } from '../../src/doctor/analyze.js';
import type { AddressFacts, DoctorFacts, NameserverFacts } from '../../src/doctor/facts.js';
import { buildReport, formatText, summary } from '../../src/doctor/report.js';

/** An address that answered with `serial`, or (null) did not answer authoritatively. */
function addr(address: string, serial: number | null = 7, extra: Partial<AddressFacts> = {}): AddressFacts {
  return {
    address,
    family: address.includes(':') ? 6 : 4,
    authoritative: serial !== null,
    ...(serial !== null ? { serial } : {}),
    ...extra,
  };
}

function ns(name: string, ...addresses: AddressFacts[]): NameserverFacts {
  return { name, inZone: true, addresses };
}

/** A healthy zone: two servers in different /24s, one of them us, same serial, transfer allowed, alerts set. */
function facts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    zone: 'example.com.',
    kind: 'secondary',
    port: 53,
    self: { host: '192.0.2.1', port: 53, address: '192.0.2.1:53', serial: 7 },
    nameservers: [ns('ns1.example.com.', addr('192.0.2.1')), ns('ns2.example.com.', addr('198.51.100.1'))],
    primaries: [{ address: '203.0.113.5:53', key: 'xfr-key', allowed: true, serial: 7 }],
    localAddresses: ['127.0.0.1', '192.0.2.1'],
    alerts: { webhook: true, command: false },
    ...over,
  };
}

const codes = (fs: Finding[]): string[] => fs.filter((f) => f.severity !== 'ok').map((f) => f.code);
const find = (fs: Finding[], code: string): Finding | undefined => fs.find((f) => f.code === code);

t.test('a healthy zone: every check ok, one line each', async (t) => {
  const fs = analyze(facts());
  t.same(codes(fs), []);
  t.ok(healthy(fs));
  t.same(
    fs.map((f) => f.code),
    ['serving', 'ns-resolved', 'ns-networks-diverse', 'ns-authoritative', 'serial-consistent', 'transfer-allowed', 'in-ns-set', 'alerts-configured'],
  );
  t.same(find(fs, 'ns-networks-diverse')!.networks, ['192.0.2.0/24', '198.51.100.0/24']);
  t.equal(summary(fs), 'healthy: 8 checks passed');
});

t.test('networkOf: IPv4 /24, IPv6 /48, mapped IPv4', async (t) => {
  t.equal(networkOf('192.0.2.77'), '192.0.2.0/24');
  t.equal(networkOf('2001:db8:1:2::53'), '2001:db8:1::/48');
  t.equal(networkOf('2001:db8::1'), '2001:db8::/48');
  t.equal(networkOf('::1'), '::/48');
  t.equal(networkOf('2001:0:0:1::1'), '2001::/48');
  t.equal(networkOf('fe80:1:2:3::1'), 'fe80:1:2::/48');
  t.equal(networkOf('::ffff:192.0.2.9'), '192.0.2.0/24');
  t.equal(networkOf('not an address'), undefined);
});

t.test('all IPv4 addresses in one /24: a single failure domain', async (t) => {
  const fs = analyze(facts({ nameservers: [ns('ns1.example.com.', addr('192.0.2.1')), ns('ns2.example.com.', addr('192.0.2.200'))] }));
  t.same(codes(fs), ['ns-single-network']);
  const f = find(fs, 'ns-single-network')!;
  t.equal(f.severity, 'warning');
  t.same(f.networks, ['192.0.2.0/24']);
  t.match(f.message, /all 2 nameserver addresses are in one network \(192\.0\.2\.0\/24\)/);
  t.notOk(healthy(fs));
});

t.test('all IPv6 addresses in one /48: a single failure domain', async (t) => {
  const fs = analyze(
    facts({
      self: { host: '2001:db8:1::1', port: 53, address: '[2001:db8:1::1]:53', serial: 7 },
      nameservers: [ns('ns1.example.com.', addr('2001:db8:1::1')), ns('ns2.example.com.', addr('2001:db8:1:ffff::2'))],
      localAddresses: ['2001:db8:1::1'],
    }),
  );
  t.same(codes(fs), ['ns-single-network']);
  t.same(find(fs, 'ns-single-network')!.networks, ['2001:db8:1::/48']);
});

t.test('two /24s are fine, and so are two /48s', async (t) => {
  t.same(codes(analyze(facts({ nameservers: [ns('a.example.com.', addr('192.0.2.1')), ns('b.example.com.', addr('192.0.3.1'))] }))), []);
  t.same(
    codes(
      analyze(
        facts({
          nameservers: [ns('a.example.com.', addr('192.0.2.1'), addr('2001:db8:1::1')), ns('b.example.com.', addr('2001:db8:2::1'))],
        }),
      ),
    ),
    [],
  );
});

t.test('mixed IPv4 and IPv6: one /24 plus one /48 is still one failure domain; a second /24 is not', async (t) => {
  const single = analyze(
    facts({
      nameservers: [ns('ns1.example.com.', addr('192.0.2.1'), addr('2001:db8:1::1')), ns('ns2.example.com.', addr('192.0.2.2'), addr('2001:db8:1::2'))],
    }),
  );
  t.same(codes(single), ['ns-single-network']);
  const f = find(single, 'ns-single-network')!;
  t.same(f.networks, ['192.0.2.0/24', '2001:db8:1::/48']);
  t.match(f.message, /one IPv4 \/24 and one IPv6 \/48/);
  const diverse = analyze(
    facts({
      nameservers: [ns('ns1.example.com.', addr('192.0.2.1'), addr('2001:db8:1::1')), ns('ns2.example.com.', addr('198.51.100.2'), addr('2001:db8:1::2'))],
    }),
  );
  t.same(codes(diverse), []);
});

t.test('a single nameserver address: no redundancy at all', async (t) => {
  const fs = analyze(facts({ nameservers: [ns('ns1.example.com.', addr('192.0.2.1'))] }));
  t.same(codes(fs), ['ns-single-network']);
  t.match(find(fs, 'ns-single-network')!.message, /only one nameserver address, ns1\.example\.com\. \(192\.0\.2\.1\)/);
});

t.test('serial mismatch: every server listed, ours included, behind the newest (RFC 1982)', async (t) => {
  const fs = analyze(
    facts({
      self: { host: '127.0.0.1', port: 5300, address: '127.0.0.1:5300', serial: 9 },
      nameservers: [ns('ns1.example.com.', addr('192.0.2.1', 9)), ns('ns2.example.com.', addr('198.51.100.1', 8))],
    }),
  );
  t.same(codes(fs), ['serial-mismatch']);
  const f = find(fs, 'serial-mismatch')!;
  t.equal(f.severity, 'warning');
  t.same(f.serials, [
    { server: 'this server (127.0.0.1:5300)', serial: 9, status: 'newest' },
    { server: 'ns1.example.com. (192.0.2.1)', serial: 9, status: 'newest' },
    { server: 'ns2.example.com. (198.51.100.1)', serial: 8, status: 'behind' },
  ]);
  t.match(f.message, /1 server behind serial 9: .*ns2\.example\.com\. \(198\.51\.100\.1\) 8/);
});

t.test('serials wrap around: 1 is newer than 4294967295', async (t) => {
  const fs = analyze(
    facts({
      self: { host: '192.0.2.1', port: 53, address: '192.0.2.1:53', serial: 1 },
      nameservers: [ns('ns1.example.com.', addr('192.0.2.1', 1)), ns('ns2.example.com.', addr('198.51.100.1', 4294967295))],
    }),
  );
  const f = find(fs, 'serial-mismatch')!;
  // Our listen address is ns1's address on the probed port: listed once, not twice.
  t.same(f.serials, [
    { server: 'ns1.example.com. (192.0.2.1)', serial: 1, status: 'newest' },
    { server: 'ns2.example.com. (198.51.100.1)', serial: 4294967295, status: 'behind' },
  ]);
});

t.test('serials half the space apart cannot be ordered', async (t) => {
  const fs = analyze(facts({ nameservers: [ns('ns1.example.com.', addr('192.0.2.1', 7)), ns('ns2.example.com.', addr('198.51.100.1', 7 + 2 ** 31))] }));
  const f = find(fs, 'serial-mismatch')!;
  t.ok(f.serials!.every((s) => s.status === 'incomparable'));
  t.match(f.message, /cannot be ordered/);
});

t.test('all the same serial', async (t) => {
  const fs = analyze(facts({ nameservers: [ns('a.example.com.', addr('192.0.2.1', 42)), ns('b.example.com.', addr('198.51.100.1', 42))], self: { host: '192.0.2.1', port: 53, address: '192.0.2.1:53', serial: 42 } }));
  t.match(find(fs, 'serial-consistent')!.message, /2 servers serve serial 42/);
});

t.test('not in the NS set: none of the addresses is ours', async (t) => {
  const fs = analyze(facts({ localAddresses: ['127.0.0.1', '10.0.0.1', '::1'] }));
  t.same(codes(fs), ['not-in-ns-set']);
  t.equal(find(fs, 'not-in-ns-set')!.severity, 'warning');
  // Address spellings do not matter.
  const v6 = analyze(facts({ nameservers: [ns('a.example.com.', addr('2001:db8::53')), ns('b.example.com.', addr('198.51.100.1'))], localAddresses: ['2001:0db8:0:0::53'] }));
  t.match(find(v6, 'in-ns-set')!.message, /a\.example\.com\. \(2001:db8::53\)/);
});

t.test('no alerts configured', async (t) => {
  const fs = analyze(facts({ alerts: { webhook: false, command: false } }));
  t.same(codes(fs), ['no-alerts']);
  t.equal(find(fs, 'no-alerts')!.severity, 'warning');
  t.match(find(analyze(facts({ alerts: { webhook: true, command: true } })), 'alerts-configured')!.message, /webhook and command/);
});

t.test('unreachable, lame and unresolvable nameservers are errors', async (t) => {
  const fs = analyze(
    facts({
      nameservers: [
        ns('ns1.example.com.', addr('192.0.2.1')),
        ns('ns2.example.com.', addr('198.51.100.1', null, { failure: 'no-answer', error: 'no answer in 2000 ms' })),
        ns('ns3.example.com.', addr('203.0.113.3', null, { failure: 'not-authoritative', error: 'answered REFUSED' })),
        { name: 'ns.elsewhere.net.', inZone: false, addresses: [], resolveError: 'NXDOMAIN' },
      ],
    }),
  );
  t.same(codes(fs), ['ns-unresolvable', 'ns-no-answer', 'ns-not-authoritative']);
  t.ok(fs.filter((f) => f.severity !== 'ok').every((f) => f.severity === 'error'));
  t.match(find(fs, 'ns-unresolvable')!, { nameserver: 'ns.elsewhere.net.', message: /no address: NXDOMAIN/ });
  t.match(find(fs, 'ns-no-answer')!, { nameserver: 'ns2.example.com.', address: '198.51.100.1', message: /does not answer: no answer in 2000 ms/ });
  t.match(find(fs, 'ns-not-authoritative')!, { address: '203.0.113.3', message: /answered REFUSED/ });
  t.equal(summary(fs), '3 errors, 0 warnings');
});

t.test('transfer: refused by a primary; a file zone has none to ask', async (t) => {
  const fs = analyze(facts({ primaries: [{ address: '203.0.113.5:53', key: 'xfr-key', allowed: false, error: 'answered NOTAUTH, TSIG BADSIG' }] }));
  t.same(codes(fs), ['transfer-refused']);
  t.match(find(fs, 'transfer-refused')!, { severity: 'error', address: '203.0.113.5:53', message: /with key xfr-key: answered NOTAUTH, TSIG BADSIG/ });
  const file = analyze(facts({ kind: 'file', primaries: [] }));
  t.same(codes(file), []);
  t.ok(find(file, 'transfer-not-applicable'));
});

t.test('our own server not serving the zone is an error and the NS checks are skipped', async (t) => {
  const fs = analyze(facts({ self: { host: '127.0.0.1', port: 53, address: '127.0.0.1:53', error: 'answered REFUSED' }, nameservers: [] }));
  t.same(codes(fs), ['not-serving']);
  t.same(
    fs.map((f) => f.check),
    ['serving', 'transfer', 'alerts'],
  );
});

t.test('the text report: nameserver table, aligned checks, summary last', async (t) => {
  const f = facts({ nameservers: [ns('ns1.example.com.', addr('192.0.2.1', 7, { local: true })), ns('ns2.example.com.', addr('192.0.2.2', 6))] });
  const fs = analyze(f);
  const text = formatText(buildReport(f, fs));
  const lines = text.trimEnd().split('\n');
  t.equal(lines.at(-1), '0 errors, 2 warnings');
  t.match(text, /ns1\.example\.com\.\s+192\.0\.2\.1\s+serial 7\s+authoritative \(this machine\)/);
  const checks = lines.filter((l) => /^ {2}(ok|warning|error) /.test(l));
  t.equal(checks.length, fs.length);
  // Codes start in the same column on every line.
  t.equal(new Set(checks.map((l) => l.search(/(?<=^ {2}\S+\s+)\S/))).size, 1);
});
