// ACL matching: CIDR for IPv4 and IPv6, IPv4-mapped peers, key entries, address-and-key entries.

import t from 'tap';
import { matchAcl } from '../../src/config/acl.js';
import { ipOctets, parseNetwork, unmapV4 } from '../../src/config/address.js';
import type { AclEntry } from '../../src/config/types.js';

const net = (text: string, key?: string): AclEntry => (key === undefined ? { network: parseNetwork(text) } : { network: parseNetwork(text), key });

t.test('IPv4 networks', async (t) => {
  const acl = [net('192.0.2.0/24')];
  t.ok(matchAcl(acl, '192.0.2.0'));
  t.ok(matchAcl(acl, '192.0.2.255'));
  t.notOk(matchAcl(acl, '192.0.3.1'));
  t.notOk(matchAcl(acl, '2001:db8::1'));
  t.ok(matchAcl([net('10.0.0.0/9')], '10.127.255.255'));
  t.notOk(matchAcl([net('10.0.0.0/9')], '10.128.0.0'));
  t.ok(matchAcl([net('192.0.2.7/24')], '192.0.2.200'), 'host bits in the network are ignored');
});

t.test('/32 and bare addresses', async (t) => {
  t.ok(matchAcl([net('192.0.2.1/32')], '192.0.2.1'));
  t.notOk(matchAcl([net('192.0.2.1/32')], '192.0.2.2'));
  t.ok(matchAcl([net('192.0.2.1')], '192.0.2.1'));
  t.notOk(matchAcl([net('192.0.2.1')], '192.0.2.0'));
  t.ok(matchAcl([net('2001:db8::1')], '2001:db8:0:0::1'));
  t.notOk(matchAcl([net('2001:db8::1')], '2001:db8::2'));
});

t.test('/0 matches its whole family only', async (t) => {
  t.ok(matchAcl([net('0.0.0.0/0')], '203.0.113.9'));
  t.ok(matchAcl([net('0.0.0.0/0')], '::ffff:203.0.113.9'));
  t.notOk(matchAcl([net('0.0.0.0/0')], '2001:db8::1'));
  t.ok(matchAcl([net('::/0')], '2001:db8::1'));
  t.ok(matchAcl([net('::/0')], '::1'));
  t.notOk(matchAcl([net('::/0')], '203.0.113.9'));
});

t.test('IPv6 networks', async (t) => {
  const acl = [net('2001:db8:abcd::/48')];
  t.ok(matchAcl(acl, '2001:db8:abcd:1::53'));
  t.ok(matchAcl(acl, '2001:DB8:ABCD:ffff:ffff:ffff:ffff:ffff'));
  t.notOk(matchAcl(acl, '2001:db8:abce::1'));
  t.ok(matchAcl([net('2001:db8::/33')], '2001:db8:7fff::1'));
  t.notOk(matchAcl([net('2001:db8::/33')], '2001:db8:8000::1'));
  t.ok(matchAcl([net('fe80::/10')], 'fe80::1%eth0'), 'a zone index is ignored');
  t.ok(matchAcl([net('::1/128')], '::1'));
});

t.test('IPv4-mapped IPv6 peers match IPv4 entries', async (t) => {
  t.ok(matchAcl([net('192.0.2.0/24')], '::ffff:192.0.2.10'));
  t.ok(matchAcl([net('192.0.2.10')], '::ffff:c000:20a'));
  t.notOk(matchAcl([net('192.0.2.0/24')], '::ffff:198.51.100.1'));
  t.same(unmapV4(ipOctets('::ffff:1.2.3.4')!), [1, 2, 3, 4]);
  t.equal(unmapV4(ipOctets('::1:1.2.3.4')!).length, 16, 'only ::ffff:0:0/96 is mapped');
});

t.test('key entries', async (t) => {
  const acl: AclEntry[] = [{ key: 'xfr-key.' }];
  t.ok(matchAcl(acl, '203.0.113.1', 'xfr-key.'));
  t.ok(matchAcl(acl, '2001:db8::1', 'XFR-Key'), 'key names compare case-insensitively, final dot optional');
  t.notOk(matchAcl(acl, '203.0.113.1'));
  t.notOk(matchAcl(acl, '203.0.113.1', 'other.'));
});

t.test('address and key together need both', async (t) => {
  const acl = [net('192.0.2.1', 'k.')];
  t.ok(matchAcl(acl, '192.0.2.1', 'k.'));
  t.notOk(matchAcl(acl, '192.0.2.1'));
  t.notOk(matchAcl(acl, '192.0.2.2', 'k.'));
});

t.test('a network entry does not care about keys; first match wins; empty denies', async (t) => {
  t.ok(matchAcl([net('192.0.2.0/24')], '192.0.2.1', 'any-key.'));
  t.ok(matchAcl([net('198.51.100.0/24'), { key: 'k.' }, net('192.0.2.0/24')], '192.0.2.1'));
  t.notOk(matchAcl([], '192.0.2.1'));
  t.notOk(matchAcl([net('0.0.0.0/0')], 'not-an-address'));
});

t.test('ipOctets', async (t) => {
  t.same(ipOctets('192.0.2.1'), [192, 0, 2, 1]);
  t.same(ipOctets('::'), new Array(16).fill(0));
  t.same(ipOctets('2001:db8::1'), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  t.same(ipOctets('1::'), [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.same(ipOctets('1:2:3:4:5:6:7:8'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  t.same(ipOctets('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  t.equal(ipOctets('example.com'), undefined);
});
