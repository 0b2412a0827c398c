// Presentation formats of RDATA: text -> wire -> text -> wire round trips, hand-computed wire forms, RFC 3597 generic form.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Type, typeToText } from '../../src/wire/constants.js';
import { nameFromText } from '../../src/wire/name.js';
import { RdataTextError } from '../../src/zonefile/errors.js';
import { codecOf, genericRdataText, presentRdata, rdataFromText, typeText } from '../../src/zonefile/rdata-text.js';
import { readZoneFile } from '../../src/zonefile/reader.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const origin = nameFromText('example.');
const n = (s: string): string => nameFromText(s, origin).toString('hex');
const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const cs = (s: string): string => (s.length.toString(16).padStart(2, '0') + hex(s));
const u16 = (v: number): string => v.toString(16).padStart(4, '0');
const u32 = (v: number): string => v.toString(16).padStart(8, '0');

// [type, input text, canonical output text, wire hex (computed here by hand) or null]
const cases: [number, string, string, string | null][] = [
  [Type.A, '192.0.2.1', '192.0.2.1', 'c0000201'],
  [Type.AAAA, '2001:0DB8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1', '20010db8000000000001000000000001'],
  [Type.AAAA, '::ffff:192.0.2.1', '::ffff:c000:201', '00000000000000000000ffffc0000201'],
  [Type.AAAA, '::', '::', '0'.repeat(32)],
  [Type.NS, 'ns1', 'ns1.example.', n('ns1')],
  [Type.CNAME, '@', 'example.', n('@')],
  [Type.DNAME, 'Example.NET.', 'Example.NET.', n('Example.NET.')],
  [Type.PTR, 'a\\.b.example.', 'a\\.b.example.', '03612e62076578616d706c6500'],
  [Type.MB, 'mailhost', 'mailhost.example.', n('mailhost')],
  [Type.MG, 'member', 'member.example.', n('member')],
  [Type.MR, 'renamed', 'renamed.example.', n('renamed')],
  [Type.MD, 'md.host.', 'md.host.', n('md.host.')],
  [Type.MF, 'mf.host.', 'mf.host.', n('mf.host.')],
  [Type.SOA, 'ns h ( 2024 1H 30m 1w2d 5M )', 'ns.example. h.example. 2024 3600 1800 777600 300', n('ns') + n('h') + u32(2024) + u32(3600) + u32(1800) + u32(777600) + u32(300)],
  [Type.MX, '10 mail', '10 mail.example.', u16(10) + n('mail')],
  [Type.AFSDB, '1 afs', '1 afs.example.', u16(1) + n('afs')],
  [Type.RT, '20 relay', '20 relay.example.', u16(20) + n('relay')],
  [Type.KX, '5 kx', '5 kx.example.', u16(5) + n('kx')],
  [Type.PX, '10 map822 mapx400.', '10 map822.example. mapx400.', u16(10) + n('map822') + n('mapx400.')],
  [Type.RP, 'admin txt', 'admin.example. txt.example.', n('admin') + n('txt')],
  [Type.MINFO, 'r e', 'r.example. e.example.', n('r') + n('e')],
  [Type.LP, '10 l64', '10 l64.example.', u16(10) + n('l64')],
  [Type.TXT, 'a "b c" "q\\"" \\255 ""', '"a" "b c" "q\\"" "\\255" ""', cs('a') + cs('b c') + cs('q"') + '01ff' + '00'],
  [Type.SPF, '"v=spf1 -all"', '"v=spf1 -all"', cs('v=spf1 -all')],
  [Type.HINFO, 'PC "Linux 6"', '"PC" "Linux 6"', cs('PC') + cs('Linux 6')],
  [Type.NAPTR, '100 10 S SIP+D2U "!^.*$!sip:x@example.com!" .', '100 10 "S" "SIP+D2U" "!^.*$!sip:x@example.com!" .', u16(100) + u16(10) + cs('S') + cs('SIP+D2U') + cs('!^.*$!sip:x@example.com!') + '00'],
  [Type.SRV, '10 60 5060 sip', '10 60 5060 sip.example.', u16(10) + u16(60) + u16(5060) + n('sip')],
  [Type.CAA, '0 issue "ca.example.net"', '0 issue "ca.example.net"', '00' + cs('issue') + hex('ca.example.net')],
  [Type.CAA, '128 tbs ""', '128 tbs ""', '80' + cs('tbs')],
  [Type.URI, '10 1 "https://a.example/\\"x"', '10 1 "https://a.example/\\"x"', u16(10) + u16(1) + hex('https://a.example/"x')],
  [Type.SSHFP, '4 2 ( 1234 5678 )', '4 2 12345678', '040212345678'],
  [Type.TLSA, '3 1 1 abcdef', '3 1 1 ABCDEF', '030101abcdef'],
  [Type.SMIMEA, '3 0 0 00', '3 0 0 00', '03000000'],
  [Type.OPENPGPKEY, 'AQID BA==', 'AQIDBA==', '01020304'],
  [Type.DS, '60485 RSASHA256 2 ( D4B7 D520 )', '60485 8 2 D4B7D520', u16(60485) + '0802d4b7d520'],
  [Type.CDS, '0 0 0 00', '0 0 0 00', '0000000000'],
  [Type.DLV, '1 8 1 AABB', '1 8 1 AABB', u16(1) + '0801aabb'],
  [Type.DNSKEY, '257 3 ED25519 AQID', '257 3 15 AQID', u16(257) + '030f010203'],
  [Type.CDNSKEY, '0 3 0 AA==', '0 3 0 AA==', u16(0) + '030000'],
  [Type.KEY, '256 3 8 AwEAAQ==', '256 3 8 AwEAAQ==', u16(256) + '030803010001'],
  [Type.RRSIG, 'A 13 2 300 20240102030405 1700000000 12345 Example. ( AQID )', 'A 13 2 300 20240102030405 20231114221320 12345 Example. AQID', u16(1) + '0d02' + u32(300) + u32(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000) + u32(1700000000) + u16(12345) + n('Example.') + '010203'],
  [Type.RRSIG, 'TYPE65280 8 0 1d 4294967295 0 1 . AA==', 'TYPE65280 8 0 86400 21060207062815 19700101000000 1 . AA==', u16(65280) + '0800' + u32(86400) + 'ffffffff' + u32(0) + u16(1) + '00' + '00'],
  [Type.NSEC, 'next A MX RRSIG NSEC TYPE1234', 'next.example. A MX RRSIG NSEC TYPE1234', n('next') + '0006400100000003' + '04' + '1b' + '00'.repeat(26) + '20'],
  [Type.NSEC, 'next', 'next.example.', n('next')],
  // NSEC3 wire is checked on its own below (base32hex), so no hand-made wire here.
  [Type.NSEC3, '1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG', '1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG', null],
  [Type.NSEC3PARAM, '1 0 0 -', '1 0 0 -', '0100000000'],
  [Type.CSYNC, '66 3 A NS AAAA', '66 3 A NS AAAA', u32(66) + u16(3) + '000460000008'],
  [Type.ZONEMD, '2024 1 1 ( 0011 2233 )', '2024 1 1 00112233', u32(2024) + '010100112233'],
  [Type.CERT, 'PGP 0 0 AQID', 'PGP 0 0 AQID', u16(3) + u16(0) + '00010203'],
  [Type.CERT, '65000 1 RSASHA1 AAAA', '65000 1 5 AAAA', u16(65000) + u16(1) + '05000000'],
  [Type.EUI48, '00-00-5E-00-53-2A', '00-00-5e-00-53-2a', '00005e00532a'],
  [Type.EUI64, '00-00-5e-ef-10-00-00-2a', '00-00-5e-ef-10-00-00-2a', '00005eef1000002a'],
  [Type.NID, '10 0014:4fff:ff20:ee64', '10 0014:4fff:ff20:ee64', u16(10) + '00144fffff20ee64'],
  [Type.L64, '10 2001:DB8:1140:1000', '10 2001:0db8:1140:1000', u16(10) + '20010db811401000'],
  [Type.L32, '10 10.1.2.0', '10 10.1.2.0', u16(10) + '0a010200'],
  [Type.DHCID, 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69 lOjxfNuVAA2kjEA=', 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=', null],
  [Type.IPSECKEY, '10 0 2 . AQID', '10 0 2 . AQID', '0a0002010203'],
  [Type.IPSECKEY, '10 1 2 192.0.2.38', '10 1 2 192.0.2.38', '0a0102c0000226'],
  [Type.IPSECKEY, '10 3 2 gw AQID', '10 3 2 gw.example. AQID', '0a0302' + n('gw') + '010203'],
  [Type.APL, '1:192.168.0.0/16 !2:2001:db8::/32 1:0.0.0.0/0', '1:192.168.0.0/16 !2:2001:db8::/32 1:0.0.0.0/0', u16(1) + '1002c0a8' + u16(2) + '208420010db8' + u16(1) + '0000'],
  [Type.LOC, '42 21 54 N 71 06 18 W -24m', '42 21 54.000 N 71 6 18.000 W -24.00m 1.00m 10000.00m 10.00m', '00121613' + u32(2 ** 31 + ((42 * 60 + 21) * 60 + 54) * 1000) + u32(2 ** 31 - ((71 * 60 + 6) * 60 + 18) * 1000) + u32(10000000 - 2400)],
  [Type.LOC, '0 S 0 E 0 0.5 2000000m 0.01M', '0 0 0.000 N 0 0 0.000 E 0.00m 0.50m 2000000.00m 0.01m', '00' + '51' + '28' + '10' + u32(2 ** 31) + u32(2 ** 31) + u32(10000000)],
  [Type.SVCB, '0 svc2', '0 svc2.example.', u16(0) + n('svc2')],
  [Type.SVCB, '1 . port=443 alpn=h2', '1 . alpn="h2" port=443', u16(1) + '00' + u16(1) + u16(3) + cs('h2') + u16(3) + u16(2) + u16(443)],
  [Type.SVCB, '1 . mandatory=port,alpn alpn="h\\\\,2,h3" port=1', '1 . mandatory=alpn,port alpn="h\\\\,2,h3" port=1', u16(1) + '00' + u16(0) + u16(4) + u16(1) + u16(3) + u16(1) + u16(7) + cs('h,2') + cs('h3') + u16(3) + u16(2) + u16(1)],
  [Type.HTTPS, '1 . ipv6hint=2001:db8::1,::1 ipv4hint=192.0.2.1 no-default-alpn alpn=h3', '1 . alpn="h3" no-default-alpn ipv4hint=192.0.2.1 ipv6hint=2001:db8::1,::1', u16(1) + '00' + u16(1) + u16(3) + cs('h3') + u16(2) + u16(0) + u16(4) + u16(4) + 'c0000201' + u16(6) + u16(32) + '20010db8000000000000000000000001' + '00000000000000000000000000000001'],
  [Type.HTTPS, '1 . key65000="a b" key7 ech=AQID', '1 . ech=AQID key7 key65000="a b"', u16(1) + '00' + u16(5) + u16(3) + '010203' + u16(7) + u16(0) + u16(65000) + u16(3) + hex('a b')],
];

for (const [type, input, output, wire] of cases) {
  t.test(`${typeToText(type)} ${input}`, async (t) => {
    const w1 = rdataFromText(type, input, origin);
    if (wire !== null) t.equal(w1.toString('hex'), wire, 'wire form');
    const text = presentRdata(type, w1);
    t.equal(text, output, 'presentation');
    const w2 = rdataFromText(type, text!, origin);
    t.equal(w2.toString('hex'), w1.toString('hex'), 'text -> wire -> text -> wire is stable');
    t.equal(rdataFromText(type, genericRdataText(w1), origin).toString('hex'), w1.toString('hex'), 'generic form accepted');
  });
}

t.test('NSEC3 next hashed owner is base32hex without padding (RFC 5155 3.3)', async (t) => {
  const w = rdataFromText(Type.NSEC3, '1 0 0 - 0123456789abcdefghijklmnopqrstuv', origin);
  // 32 base32hex digits = 20 octets; "0123456789ABCDEFGHIJKLMNOPQRSTUV" is the alphabet in order,
  // so the bits are 00000 00001 00010 ... 11111.
  let bits = '';
  for (let i = 0; i < 32; i++) bits += i.toString(2).padStart(5, '0');
  const expected = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2))).toString('hex');
  t.equal(w.toString('hex'), '01000000' + '00' + '14' + expected);
  t.throws(() => rdataFromText(Type.NSEC3, '1 0 0 - 0W', origin), RdataTextError, 'W is not base32hex');
  t.throws(() => rdataFromText(Type.NSEC3, '1 0 0 - 0', origin), RdataTextError, 'one digit is not a whole octet');
});

t.test('every type of the fixture survives generic form and presentation round trips', async (t) => {
  const rrs = await readZoneFile(path.join(here, 'fixtures', 'all-types.zone'), origin);
  for (const rr of rrs) {
    t.equal(rdataFromText(rr.type, genericRdataText(rr.rdata), origin).toString('hex'), rr.rdata.toString('hex'));
    if (!codecOf(rr.type)) continue; // the fixture's TYPE65280/65281: generic only
    const text = presentRdata(rr.type, rr.rdata);
    t.ok(text !== undefined, `${typeToText(rr.type)} has a presentation`);
    t.equal(rdataFromText(rr.type, text!, origin).toString('hex'), rr.rdata.toString('hex'), `${typeToText(rr.type)} ${text}`);
  }
});

t.test('RDATA the text form cannot carry has no presentation (the writer falls back to \\#)', async (t) => {
  t.equal(presentRdata(Type.TXT, Buffer.alloc(0)), undefined, 'empty TXT');
  t.equal(presentRdata(Type.DS, Buffer.from('ea600d02', 'hex')), undefined, 'DS without digest');
  t.equal(presentRdata(Type.A, Buffer.from('010203', 'hex')), undefined, 'short A');
  t.equal(presentRdata(Type.NULL, Buffer.from('01', 'hex')), undefined, 'NULL');
  t.equal(presentRdata(65280, Buffer.from('01', 'hex')), undefined, 'unknown type');
  t.equal(presentRdata(Type.NSEC, Buffer.from('00000100', 'hex')), undefined, 'bitmap window with a zero octet');
  t.equal(presentRdata(Type.SVCB, Buffer.from('0001' + '00' + '0003000201bb' + '00010003026833', 'hex')), undefined, 'SvcParamKeys out of order');
  t.equal(genericRdataText(Buffer.from('0a000001', 'hex')), '\\# 4 0A000001');
  t.equal(genericRdataText(Buffer.alloc(0)), '\\# 0');
});

t.test('text limits and malformed values', async (t) => {
  t.equal(rdataFromText(Type.TXT, '"' + 'x'.repeat(255) + '"').length, 256, '255 octets fit');
  t.throws(() => rdataFromText(Type.TXT, '"' + 'x'.repeat(256) + '"'), { message: 'text longer than 255 octets (256)' });
  t.throws(() => rdataFromText(Type.TXT, '"' + '\\120'.repeat(256) + '"'), { message: /longer than 255/ }, 'escapes count as one octet');
  t.equal(rdataFromText(Type.URI, `1 1 "${'u'.repeat(300)}"`).length, 304, 'URI targets are not limited to 255');
  t.throws(() => rdataFromText(Type.MX, '65536 mx.'), { message: 'bad preference "65536" (a number from 0 to 65535)' });
  t.throws(() => rdataFromText(Type.DS, '1 8 2 ABC'), { message: /not an even number of hex digits/ });
  t.throws(() => rdataFromText(Type.DNSKEY, '256 3 8 AwEAAQ='), { message: /not base64/ });
  t.throws(() => rdataFromText(Type.RRSIG, 'A 8 1 300 20240230000000 20240101000000 1 . AA=='), { message: /bad expiration/ });
  t.throws(() => rdataFromText(Type.LOC, '91 N 0 E 0m'), { message: /latitude/ });
  t.throws(() => rdataFromText(Type.LOC, '10 20 30 40 N 0 E 0m'), { message: /expected N or S/ });
  t.throws(() => rdataFromText(Type.CAA, '0 "issue" "x"'), { message: /bad CAA tag/ });
  t.throws(() => rdataFromText(Type.SVCB, '1 . alpn'), { message: /needs a value/ });
  t.throws(() => rdataFromText(Type.SVCB, '1 . foo=1'), { message: /unknown SvcParamKey "foo"/ });
  t.throws(() => rdataFromText(Type.SVCB, '1 . key65535=1'), { message: /unknown SvcParamKey/ });
  t.throws(() => rdataFromText(Type.SVCB, '1 . no-default-alpn=x'), { message: /takes no value/ });
  t.throws(() => rdataFromText(Type.SVCB, '1 . mandatory=mandatory'), { message: /bad key "mandatory"/ });
  t.throws(() => rdataFromText(Type.EUI48, '00-00-5e-00-53'), { message: /bad EUI-48/ });
  t.throws(() => rdataFromText(Type.IPSECKEY, '10 4 2 x AA=='), { message: /gateway type/ });
  t.throws(() => rdataFromText(Type.NSEC, 'next. A BOGUS'), { message: 'unknown type "BOGUS"' });
});

t.test('the writer mnemonic: only types BIND and Knot both know', async (t) => {
  t.equal(typeText(Type.MX), 'MX');
  t.equal(typeText(Type.SVCB), 'SVCB');
  t.equal(typeText(Type.MB), 'TYPE7');
  t.equal(typeText(Type.PX), 'TYPE26');
  t.equal(typeText(Type.NULL), 'TYPE10');
  t.equal(typeText(Type.WKS), 'TYPE11', 'no presentation format here');
  t.equal(typeText(65280), 'TYPE65280');
});
