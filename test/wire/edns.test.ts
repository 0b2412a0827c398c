// EDNS(0) OPT record (RFC 6891 6.1.2, 6.1.3), DO bit (RFC 3225) and NSID (RFC 5001).

import t from 'tap';
import { Type } from '../../src/wire/constants.js';
import { decodeOpt, encodeOpt, EdnsOptionCode, findOption, nsidOption, nsidRequested, optLength } from '../../src/wire/edns.js';
import type { Edns } from '../../src/wire/edns.js';
import { WireFormatError } from '../../src/wire/errors.js';
import { nameFromText } from '../../src/wire/name.js';

const edns: Edns = {
  udpPayload: 1232,
  extendedRcode: 0x12,
  version: 1,
  do: true,
  options: [{ code: EdnsOptionCode.COOKIE, data: Buffer.alloc(8, 0xab) }, { code: EdnsOptionCode.NSID, data: Buffer.alloc(0) }],
};

t.test('RFC 6891 6.1.3: the OPT TTL packs extended rcode, version and DO', async (t) => {
  const rr = encodeOpt(edns);
  t.equal(rr.type, Type.OPT);
  t.same([...rr.owner], [0], 'root owner (6.1.2)');
  t.equal(rr.class, 1232, 'CLASS is the UDP payload size');
  t.equal(rr.ttl, 0x12018000);
  t.equal(rr.rdata.toString('hex'), '000a0008' + 'ab'.repeat(8) + '00030000');
  t.equal(optLength(edns), 11 + rr.rdata.length);
  t.same(decodeOpt(rr), edns);
});

t.test('reserved flag bits are ignored on input (RFC 6891 6.1.4)', async (t) => {
  const d = decodeOpt({ owner: Buffer.from([0]), type: Type.OPT, class: 512, ttl: 0x00007fff, rdata: Buffer.alloc(0) });
  t.equal(d.do, false);
  t.equal(d.version, 0);
  t.equal(d.extendedRcode, 0);
});

t.test('malformed OPT', async (t) => {
  const base = { owner: Buffer.from([0]), type: Type.OPT, class: 512, ttl: 0 };
  t.throws(() => decodeOpt({ ...base, owner: nameFromText('example.') , rdata: Buffer.alloc(0) }), WireFormatError);
  t.throws(() => decodeOpt({ ...base, rdata: Buffer.from([0, 3, 0, 1]) }), WireFormatError, 'option data missing');
  t.throws(() => decodeOpt({ ...base, rdata: Buffer.from([0, 3]) }), WireFormatError, 'option header cut');
  t.throws(() => decodeOpt({ ...base, type: Type.A, rdata: Buffer.alloc(0) }), WireFormatError);
  t.throws(() => encodeOpt({ ...edns, options: [{ code: 70000, data: Buffer.alloc(0) }] }), RangeError);
});

t.test('RFC 5001 NSID: an empty option asks, the answer carries opaque octets', async (t) => {
  t.equal(nsidRequested(edns), true);
  t.equal(nsidRequested({ ...edns, options: [] }), false);
  t.equal(nsidRequested(undefined), false);
  t.same(nsidOption('ns1.fra'), { code: 3, data: Buffer.from('ns1.fra') });
  t.same(nsidOption(Buffer.from([0, 255])).data, Buffer.from([0, 255]));
  t.same(findOption(edns, EdnsOptionCode.COOKIE), Buffer.alloc(8, 0xab));
  t.equal(findOption(edns, EdnsOptionCode.PADDING), undefined);
});
