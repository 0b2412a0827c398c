// TSIG (RFC 8945) without sockets: the digest layout, sign/verify round trips for every algorithm,
// tampering, keys, time, MAC truncation, error responses and multi-message streams, at fixed times.

import { createHmac } from 'node:crypto';
import t from 'tap';
import { Class, Flag, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import type { Message, MessageTsig } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import {
  decodeTsigRdata,
  encodeTsigRdata,
  findTsig,
  signMessage,
  signResponse,
  tsigAlgorithmFromName,
  tsigAlgorithmName,
  tsigErrorResponse,
  TsigError,
  tsigMinMacLength,
  TsigSigner,
  TsigVerifier,
  verifyRequest,
} from '../../src/wire/tsig.js';
import type { TsigAlgorithm, TsigKey } from '../../src/wire/tsig.js';

const ALGS: TsigAlgorithm[] = ['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'];
const HASH_SIZE: Record<TsigAlgorithm, number> = { 'hmac-md5': 16, 'hmac-sha1': 20, 'hmac-sha224': 28, 'hmac-sha256': 32, 'hmac-sha384': 48, 'hmac-sha512': 64 };
const NOW = 1_700_000_000;
const SECRET = Buffer.from('a fixed test secret, 32 octets!!');

const keyOf = (algorithm: TsigAlgorithm, name = 'xfr-key.', secret: Buffer = SECRET): TsigKey => ({ name, algorithm, secret });
const keyMap = (...keys: TsigKey[]): Map<string, TsigKey> => new Map(keys.map((k) => [k.name, k]));
const n = (s: string): Buffer => nameFromText(s);

function query(id = 0x1234, type: number = Type.SOA): Buffer {
  return encodeMessage({
    id, flags: 0, opcode: Opcode.QUERY, rcode: 0,
    question: [{ name: n('Example.COM.'), type, class: Class.IN }],
    answer: [], authority: [], additional: [],
    edns: { udpPayload: 1232, extendedRcode: 0, version: 0, do: false, options: [] },
  });
}

function soa(serial = 1): ResourceRecord {
  const rdata = Buffer.concat([n('ns1.example.com.'), n('hostmaster.example.com.'), Buffer.alloc(20)]);
  rdata.writeUInt32BE(serial, rdata.length - 20);
  return { owner: n('example.com.'), type: Type.SOA, class: Class.IN, ttl: 3600, rdata };
}

function a(i: number): ResourceRecord {
  return { owner: n(`h${i}.example.com.`), type: Type.A, class: Class.IN, ttl: 300, rdata: Buffer.from([192, 0, 2, i & 0xff]) };
}

function response(id: number, answer: ResourceRecord[], rcode: number = Rcode.NOERROR): Buffer {
  const m: Message = {
    id, flags: Flag.QR | Flag.AA, opcode: Opcode.QUERY, rcode,
    question: [{ name: n('example.com.'), type: Type.AXFR, class: Class.IN }],
    answer, authority: [], additional: [],
  };
  return encodeMessage(m);
}

function tsigOf(raw: Buffer): MessageTsig {
  const m = decodeMessage(raw);
  if (!m.tsig) throw new Error('no TSIG in message');
  return m.tsig;
}

type Asserts = Pick<typeof t, 'ok' | 'equal' | 'fail'>;

/** Run `fn`, which must throw a TsigError with this code; return it. */
function expectTsigError(tt: Asserts, fn: () => unknown, code: string, msg: string): TsigError | undefined {
  try {
    fn();
  } catch (err) {
    tt.ok(err instanceof TsigError, `${msg}: a TsigError`);
    tt.equal((err as TsigError).code, code, `${msg}: ${code}`);
    return err as TsigError;
  }
  tt.fail(`${msg}: did not throw`);
  return undefined;
}

/** Replace the TSIG RR's RDATA (re-encoded from `edit`) and return the new message. */
function editTsig(raw: Buffer, edit: (r: ReturnType<typeof decodeTsigRdata>) => void): Buffer {
  const ts = tsigOf(raw);
  const r = decodeTsigRdata(ts.record.rdata);
  edit(r);
  const rdata = encodeTsigRdata(r);
  const head = raw.subarray(0, ts.offset + ts.record.owner.length + 8);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(rdata.length);
  return Buffer.concat([head, len, rdata]);
}


// ------------------------------------------------------------------------------------------------

t.test('RFC 8945 4.2/4.3.3: the TSIG RR and the digest, rebuilt by hand', async (t) => {
  const key = keyOf('hmac-sha256', 'XFR-Key.');
  const q = query(0x4242);
  const { signed, mac } = signMessage(q, key, NOW, { fudge: 300 });
  t.equal(signed.readUInt16BE(10), q.readUInt16BE(10) + 1, 'ARCOUNT incremented');
  t.same(signed.subarray(0, 10), q.subarray(0, 10), 'rest of the header untouched');
  t.same(signed.subarray(12, q.length), q.subarray(12), 'body untouched');

  // The RR as RFC 8945 4.2 lays it out.
  const alg = Buffer.from('0b686d61632d73686132353600', 'hex'); // hmac-sha256.
  const owner = Buffer.from('077866722d6b657900', 'hex'); // xfr-key. (canonical lower case)
  const rdata = Buffer.concat([
    alg,
    Buffer.from([0x00, 0x00, 0x65, 0x53, 0xf1, 0x00]), // 1700000000 in 48 bits
    Buffer.from([0x01, 0x2c]), // fudge 300
    Buffer.from([0x00, 0x20]), mac,
    Buffer.from([0x42, 0x42]), // original ID
    Buffer.from([0x00, 0x00, 0x00, 0x00]), // error, other len
  ]);
  const rr = Buffer.concat([owner, Buffer.from([0x00, 0xfa, 0x00, 0xff, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff]), rdata]);
  t.same(signed.subarray(q.length), rr, 'TSIG RR: owner, TYPE 250, CLASS ANY, TTL 0, RDATA');

  // The MAC over message + variables (4.3.3), computed independently of the module.
  const vars = Buffer.concat([owner, Buffer.from([0x00, 0xff, 0, 0, 0, 0]), alg, Buffer.from([0x00, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x01, 0x2c, 0, 0, 0, 0])]);
  const expect = createHmac('sha256', SECRET).update(q).update(vars).digest();
  t.equal(mac.toString('hex'), expect.toString('hex'), 'MAC = HMAC(message | variables)');

  // A response MAC is prefixed with the request MAC (4.3.2).
  const resp = response(0x4242, [soa()]);
  const r = signResponse(resp, key, mac, NOW + 1);
  const vars2 = Buffer.from(vars);
  vars2.writeUInt32BE(1700000001 % 0x100000000, owner.length + 6 + alg.length + 2);
  const expect2 = createHmac('sha256', SECRET).update(Buffer.from([0, 32])).update(mac).update(resp).update(vars2).digest();
  t.equal(r.mac.toString('hex'), expect2.toString('hex'), 'response MAC = HMAC(len | request MAC | message | variables)');
});

t.test('algorithm names (RFC 8945 6, RFC 4635)', async (t) => {
  t.equal(tsigAlgorithmName('hmac-md5'), 'hmac-md5.sig-alg.reg.int.');
  t.equal(tsigAlgorithmName('hmac-sha512'), 'hmac-sha512.');
  t.equal(tsigAlgorithmFromName(n('HMAC-SHA256.')), 'hmac-sha256', 'case-insensitive');
  t.equal(tsigAlgorithmFromName(n('hmac-md5.')), undefined, 'hmac-md5 only by its registered name');
  t.equal(tsigAlgorithmFromName(n('gss-tsig.')), undefined);
  t.equal(tsigMinMacLength('hmac-md5'), 10);
  t.equal(tsigMinMacLength('hmac-sha256'), 16);
  t.equal(tsigMinMacLength('hmac-sha512'), 32);
});

for (const alg of ALGS) {
  t.test(`round trip request -> response with ${alg}`, async (t) => {
    const key = keyOf(alg);
    const { signed, mac } = signMessage(query(7), key, NOW);
    t.equal(mac.length, HASH_SIZE[alg], 'full-length MAC');
    const d = decodeMessage(signed);
    t.ok(d.tsig, 'the decoder finds the TSIG');
    t.same(d.question[0]!.name, n('Example.COM.'));
    const v = verifyRequest(signed, d.tsig!, keyMap(key, keyOf('hmac-sha1', 'other.')), NOW + 10);
    t.equal(v.key, key, 'the key that signed it');
    t.same(v.mac, mac, 'the request MAC');

    const ans = signResponse(response(7, [soa()]), v.key, v.mac, NOW + 11);
    const ver = new TsigVerifier(key, mac, () => NOW + 12);
    ver.verify(ans.signed, tsigOf(ans.signed));
    ver.finish();
    t.equal(ver.signedMessages, 1);

    // The response is bound to the request: another request MAC does not verify it.
    const other = signMessage(query(8), key, NOW).mac;
    expectTsigError(t, () => new TsigVerifier(key, other, () => NOW).verify(ans.signed), 'ERR_TSIG_BADSIG', 'other request MAC');
  });
}

t.test('tampering: every octet the MAC covers is checked (RFC 8945 5.2.2)', async (t) => {
  const key = keyOf('hmac-sha256');
  const { signed } = signMessage(query(99), key, NOW);
  const ts = tsigOf(signed);
  const keys = keyMap(key);
  // The MAC covers everything before the TSIG RR; the RR itself is taken from the decoded record.
  let badsig = 0;
  let other = 0;
  for (let i = 2; i < ts.offset; i++) {
    const b = Buffer.from(signed);
    b[i] ^= 0x01;
    try {
      verifyRequest(b, ts, keys, NOW);
      t.fail(`flipping octet ${i} went unnoticed`);
    } catch (err) {
      if ((err as TsigError).code === 'ERR_TSIG_BADSIG') badsig++;
      else other++;
    }
  }
  t.equal(badsig, ts.offset - 2, 'every flip between the ID and the TSIG RR is BADSIG');
  t.equal(other, 0);

  // Tampering inside the TSIG RR, as a decoder would then see it.
  for (const [what, edit, code] of [
    ['MAC', (r: ReturnType<typeof decodeTsigRdata>) => void (r.mac[3] ^= 0x80), 'ERR_TSIG_BADSIG'],
    ['time signed', (r: ReturnType<typeof decodeTsigRdata>) => void (r.timeSigned += 1), 'ERR_TSIG_BADSIG'],
    ['fudge', (r: ReturnType<typeof decodeTsigRdata>) => void (r.fudge = 3600), 'ERR_TSIG_BADSIG'],
    ['original ID', (r: ReturnType<typeof decodeTsigRdata>) => void (r.originalId ^= 1), 'ERR_TSIG_BADSIG'],
    ['other data', (r: ReturnType<typeof decodeTsigRdata>) => void (r.otherData = Buffer.from([0, 0, 0, 0, 0, 1])), 'ERR_TSIG_BADSIG'],
  ] as const) {
    const b = editTsig(signed, edit);
    expectTsigError(t, () => verifyRequest(b, tsigOf(b), keys, NOW), code, `tampered ${what}`);
  }

  // The header ID is not covered (the Original ID stands in for it, RFC 8945 4.3.2): forwarders rewrite it.
  const b = Buffer.from(signed);
  b.writeUInt16BE(0xabcd, 0);
  t.doesNotThrow(() => verifyRequest(b, ts, keys, NOW), 'a rewritten header ID still verifies');
});

t.test('wrong key: unknown name or algorithm is BADKEY, wrong secret BADSIG (RFC 8945 5.2.1)', async (t) => {
  const key = keyOf('hmac-sha256');
  const { signed } = signMessage(query(), key, NOW);
  const ts = tsigOf(signed);
  let e = expectTsigError(t, () => verifyRequest(signed, ts, keyMap(keyOf('hmac-sha256', 'another-key.')), NOW), 'ERR_TSIG_BADKEY', 'unknown key name');
  t.equal(e?.tsigError, 17);
  t.equal(e?.rcode, Rcode.NOTAUTH, 'answered with NOTAUTH');
  t.equal(e?.remote, false);
  expectTsigError(t, () => verifyRequest(signed, ts, keyMap(keyOf('hmac-sha512')), NOW), 'ERR_TSIG_BADKEY', 'same name, other algorithm');
  e = expectTsigError(t, () => verifyRequest(signed, ts, keyMap(keyOf('hmac-sha256', 'xfr-key.', Buffer.from('another secret'))), NOW), 'ERR_TSIG_BADSIG', 'wrong secret');
  t.equal(e?.tsigError, 16);

  // Key names compare case-insensitively, and the variables use the lower-case name (4.3.3).
  const upper = signMessage(query(), keyOf('hmac-sha256', 'XFR-KEY.'), NOW).signed;
  t.doesNotThrow(() => verifyRequest(upper, tsigOf(upper), keyMap(key), NOW), 'XFR-KEY. verifies as xfr-key.');

  // The response verifier checks the key too.
  const r = signResponse(response(1, [soa()]), keyOf('hmac-sha256', 'b-key.'), Buffer.alloc(32), NOW);
  expectTsigError(t, () => new TsigVerifier(keyOf('hmac-sha256', 'a-key.'), Buffer.alloc(32), () => NOW).verify(r.signed), 'ERR_TSIG_BADKEY', 'response with another key');
});

t.test('time: |now - time signed| <= fudge, checked after the MAC (RFC 8945 5.2.3)', async (t) => {
  const key = keyOf('hmac-sha1');
  const keys = keyMap(key);
  const { signed, mac } = signMessage(query(), key, NOW, { fudge: 300 });
  const ts = tsigOf(signed);
  t.doesNotThrow(() => verifyRequest(signed, ts, keys, NOW + 300), 'at +fudge');
  t.doesNotThrow(() => verifyRequest(signed, ts, keys, NOW - 300), 'at -fudge');
  t.doesNotThrow(() => verifyRequest(signed, ts, keys, NOW + 300.9), 'fractional seconds are floored');
  const e = expectTsigError(t, () => verifyRequest(signed, ts, keys, NOW + 301), 'ERR_TSIG_BADTIME', 'past the fudge');
  t.equal(e?.tsigError, 18);
  t.equal(e?.key, key, 'BADTIME carries the key to sign the answer with');
  t.same(e?.requestMac, mac);
  expectTsigError(t, () => verifyRequest(signed, ts, keys, NOW - 301), 'ERR_TSIG_BADTIME', 'before the fudge');
  expectTsigError(t, () => verifyRequest(signed, ts, keyMap(keyOf('hmac-sha1', 'xfr-key.', Buffer.from('x'))), NOW + 5000), 'ERR_TSIG_BADSIG', 'a bad MAC is BADSIG whatever the time');

  const zero = signMessage(query(), key, NOW, { fudge: 0 }).signed;
  expectTsigError(t, () => verifyRequest(zero, tsigOf(zero), keys, NOW + 1), 'ERR_TSIG_BADTIME', 'fudge 0');

  const resp = signResponse(response(1, [soa()]), key, mac, NOW, { fudge: 60 }).signed;
  t.doesNotThrow(() => new TsigVerifier(key, mac, () => NOW - 60).verify(resp), 'response within fudge');
  expectTsigError(t, () => new TsigVerifier(key, mac, () => NOW + 61).verify(resp), 'ERR_TSIG_BADTIME', 'response past fudge');
});

t.test('MAC truncation (RFC 8945 5.2.2.1): at least max(10, hash/2) octets', async (t) => {
  for (const alg of ALGS) {
    const key = keyOf(alg);
    const keys = keyMap(key);
    const { signed } = signMessage(query(), key, NOW);
    const min = Math.max(10, HASH_SIZE[alg] / 2);
    const cut = (len: number): Buffer => editTsig(signed, (r) => (r.mac = r.mac.subarray(0, len)));
    const ok = cut(min);
    t.doesNotThrow(() => verifyRequest(ok, tsigOf(ok), keys, NOW), `${alg}: ${min} octets accepted`);
    const bad = Buffer.from(ok);
    bad[2]! ^= 0x01; // RD
    expectTsigError(t, () => verifyRequest(bad, tsigOf(bad), keys, NOW), 'ERR_TSIG_BADSIG', `${alg}: truncated MAC still checked`);
    const short = cut(min - 1);
    expectTsigError(t, () => verifyRequest(short, tsigOf(short), keys, NOW), 'ERR_TSIG_FORMERR', `${alg}: ${min - 1} octets`);
    const long = editTsig(signed, (r) => (r.mac = Buffer.concat([r.mac, Buffer.from([0])])));
    expectTsigError(t, () => verifyRequest(long, tsigOf(long), keys, NOW), 'ERR_TSIG_FORMERR', `${alg}: longer than the hash`);
    const empty = cut(0);
    const e = expectTsigError(t, () => verifyRequest(empty, tsigOf(empty), keys, NOW), 'ERR_TSIG_FORMERR', `${alg}: empty MAC`);
    t.equal(e?.rcode, Rcode.FORMERR);
  }
});

t.test('malformed TSIG RR is FORMERR', async (t) => {
  const key = keyOf('hmac-sha256');
  const keys = keyMap(key);
  const { signed } = signMessage(query(), key, NOW);
  const ts = tsigOf(signed);
  const bad = (record: Partial<ResourceRecord>): MessageTsig => ({ offset: ts.offset, record: { ...ts.record, ...record } });
  expectTsigError(t, () => verifyRequest(signed, bad({ class: Class.IN }), keys, NOW), 'ERR_TSIG_FORMERR', 'class IN');
  expectTsigError(t, () => verifyRequest(signed, bad({ rdata: ts.record.rdata.subarray(0, 20) }), keys, NOW), 'ERR_TSIG_FORMERR', 'RDATA cut');
  expectTsigError(t, () => verifyRequest(signed, bad({ rdata: Buffer.concat([ts.record.rdata, Buffer.from([0])]) }), keys, NOW), 'ERR_TSIG_FORMERR', 'trailing octet');
  const compressed = Buffer.concat([Buffer.from([0xc0, 0x0c]), ts.record.rdata.subarray(13)]);
  expectTsigError(t, () => verifyRequest(signed, bad({ rdata: compressed }), keys, NOW), 'ERR_TSIG_FORMERR', 'compressed algorithm name');
  expectTsigError(t, () => verifyRequest(signed, { ...ts, offset: signed.length }, keys, NOW), 'ERR_TSIG_FORMERR', 'offset past the end');
});

t.test('Original ID (RFC 8945 4.3.2) and findTsig', async (t) => {
  const key = keyOf('hmac-sha384');
  const { signed } = signMessage(query(0x1111), key, NOW, { originalId: 0x2222 });
  const ts = findTsig(signed);
  t.same(ts, tsigOf(signed), 'findTsig agrees with decodeMessage');
  t.equal(decodeTsigRdata(ts!.record.rdata).originalId, 0x2222);
  t.doesNotThrow(() => verifyRequest(signed, ts!, keyMap(key), NOW));
  t.equal(findTsig(query()), undefined, 'no TSIG');
  t.equal(findTsig(response(1, [soa(), a(1)])), undefined, 'no additional records at all');
});

t.test('error responses: BADKEY/BADSIG unsigned, BADTIME signed with our clock (RFC 8945 5.2, 5.3.2)', async (t) => {
  const key = keyOf('hmac-sha256');
  const { signed, mac } = signMessage(query(5), key, NOW);
  const ts = tsigOf(signed);
  const notauth = response(5, [], Rcode.NOTAUTH);

  for (const [code, keys, now] of [
    ['ERR_TSIG_BADKEY', keyMap(keyOf('hmac-sha256', 'nope.')), NOW],
    ['ERR_TSIG_BADSIG', keyMap(keyOf('hmac-sha256', 'xfr-key.', Buffer.from('wrong'))), NOW],
  ] as const) {
    const err = expectTsigError(t, () => verifyRequest(signed, ts, keys, now), code, code)!;
    const out = tsigErrorResponse(notauth, ts, err, NOW + 7);
    const d = decodeMessage(out);
    t.equal(d.rcode, Rcode.NOTAUTH);
    const r = decodeTsigRdata(d.tsig!.record.rdata);
    t.equal(r.mac.length, 0, `${code}: empty MAC`);
    t.equal(r.error, err.tsigError);
    t.equal(r.timeSigned, NOW + 7);
    const got = expectTsigError(t, () => new TsigVerifier(key, mac, () => NOW).verify(out, d.tsig), code, `the requester sees ${code}`);
    t.equal(got?.remote, true, 'reported by the peer');
  }

  const err = expectTsigError(t, () => verifyRequest(signed, ts, keyMap(key), NOW + 1000), 'ERR_TSIG_BADTIME', 'BADTIME')!;
  const out = tsigErrorResponse(notauth, ts, err, NOW + 1000);
  const r = decodeTsigRdata(tsigOf(out).record.rdata);
  t.equal(r.error, 18);
  t.equal(r.timeSigned, NOW, 'echoes the request time');
  t.same(r.otherData, Buffer.from([0, 0, 0x65, 0x53, 0xf4, 0xe8]), 'our clock in Other Data');
  t.equal(r.mac.length, 32, 'signed');
  const got = expectTsigError(t, () => new TsigVerifier(key, mac, () => NOW).verify(out), 'ERR_TSIG_BADTIME', 'the requester sees BADTIME');
  t.match(got?.message, /its clock: 1700001000/);

  const fe = new TsigError('ERR_TSIG_FORMERR', 0, 'x');
  t.equal(tsigErrorResponse(notauth, ts, fe, NOW), notauth, 'FORMERR: no TSIG added');
});

// ------------------------------------------------------------------------------------------------
// Multi-message streams (RFC 8945 5.3.1)
// ------------------------------------------------------------------------------------------------

/** A stream of `count` AXFR messages, signed where `pattern(i)` says so (i from 0). */
function stream(key: TsigKey, requestMac: Buffer, count: number, pattern: (i: number) => boolean, now = NOW): Buffer[] {
  const s = new TsigSigner(key, requestMac);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const msg = response(42, i === 0 || i === count - 1 ? [soa(), a(i)] : [a(i), a(i + 1000)]);
    out.push(pattern(i) ? s.sign(msg, now + i / 100) : s.passUnsigned(msg));
  }
  return out;
}

const verifyAll = (key: TsigKey, mac: Buffer, msgs: Buffer[], now = NOW): TsigVerifier => {
  const v = new TsigVerifier(key, mac, () => now);
  for (const m of msgs) v.verify(m, decodeMessage(m).tsig);
  return v;
};

t.test('stream: every message signed, and with 99 unsigned in a row', async (t) => {
  for (const alg of ['hmac-sha256', 'hmac-md5', 'hmac-sha512'] as const) {
    const key = keyOf(alg);
    const { mac } = signMessage(query(42, Type.AXFR), key, NOW);
    const all = stream(key, mac, 5, () => true);
    const v1 = verifyAll(key, mac, all);
    v1.finish();
    t.equal(v1.signedMessages, 5, `${alg}: all signed`);

    const pattern = (i: number): boolean => i === 0 || i === 100 || i === 103 || i === 105;
    const mixed = stream(key, mac, 106, pattern);
    t.equal(mixed.filter((m) => findTsig(m) !== undefined).length, 4, 'four signed');
    const v2 = verifyAll(key, mac, mixed);
    v2.finish();
    t.equal(v2.signedMessages, 4, `${alg}: 99 unsigned, then 2, then 1 in between`);

    // findTsig does the locating when the caller passes nothing.
    const v3 = new TsigVerifier(key, mac, () => NOW);
    for (const m of mixed) v3.verify(m);
    t.doesNotThrow(() => v3.finish(), 'verify(raw) without the decoded TSIG');
  }
});

t.test('stream: the 100th unsigned message in a row is rejected', async (t) => {
  const key = keyOf('hmac-sha256');
  const { mac } = signMessage(query(42, Type.AXFR), key, NOW);
  // Our signer refuses to produce such a stream...
  const s = new TsigSigner(key, mac);
  t.throws(() => s.passUnsigned(response(42, [soa()])), RangeError, 'the first message must be signed');
  s.sign(response(42, [soa()]), NOW);
  for (let i = 0; i < 99; i++) s.passUnsigned(response(42, [a(i)]));
  t.throws(() => s.passUnsigned(response(42, [a(100)])), RangeError, 'signer: 100th unsigned');

  // ...so build one by hand: one signed message, then 100 unsigned, then a signed one.
  const first = signResponse(response(42, [soa(), a(0)]), key, mac, NOW);
  const v = new TsigVerifier(key, mac, () => NOW);
  v.verify(first.signed);
  for (let i = 1; i < 100; i++) v.verify(response(42, [a(i)]));
  const e = expectTsigError(t, () => v.verify(response(42, [a(100)])), 'ERR_TSIG_UNSIGNED', '100th unsigned');
  t.match(e?.message, /100 messages/);
  expectTsigError(t, () => v.verify(first.signed), 'ERR_TSIG_UNSIGNED', 'the verifier stays failed');
  expectTsigError(t, () => v.finish(), 'ERR_TSIG_UNSIGNED', 'and finish() too');
});

t.test('stream: unsigned first message, truncated stream, tampering, reordering', async (t) => {
  const key = keyOf('hmac-sha224');
  const { mac } = signMessage(query(42, Type.AXFR), key, NOW);
  const pattern = (i: number): boolean => i % 3 === 0;
  const msgs = stream(key, mac, 10, pattern); // signed: 0, 3, 6, 9

  expectTsigError(t, () => new TsigVerifier(key, mac, () => NOW).verify(response(42, [soa()])), 'ERR_TSIG_UNSIGNED', 'unsigned first message');
  expectTsigError(t, () => new TsigVerifier(key, mac, () => NOW).finish(), 'ERR_TSIG_UNSIGNED', 'no message at all');

  // Truncated after unsigned messages: every message verified, but the last two are not covered.
  const cutv = verifyAll(key, mac, msgs.slice(0, 9));
  const e = expectTsigError(t, () => cutv.finish(), 'ERR_TSIG_UNSIGNED', 'stream ends unsigned');
  t.match(e?.message, /last 2 message/);
  t.doesNotThrow(() => verifyAll(key, mac, msgs.slice(0, 7)).finish(), 'a stream cut right after a signed message cannot be told apart');

  // One octet of an unsigned message changed: the next signed message fails.
  const tampered = msgs.map((m) => Buffer.from(m));
  tampered[4]![tampered[4]!.length - 1]! ^= 1;
  const tv = new TsigVerifier(key, mac, () => NOW);
  for (let i = 0; i < 6; i++) tv.verify(tampered[i]!);
  expectTsigError(t, () => tv.verify(tampered[6]!), 'ERR_TSIG_BADSIG', 'tampered unsigned message');

  // Dropped or swapped unsigned messages.
  expectTsigError(t, () => verifyAll(key, mac, [...msgs.slice(0, 4), ...msgs.slice(5)]), 'ERR_TSIG_BADSIG', 'dropped message');
  expectTsigError(t, () => verifyAll(key, mac, [msgs[0]!, msgs[1]!, msgs[2]!, msgs[3]!, msgs[5]!, msgs[4]!, ...msgs.slice(6)]), 'ERR_TSIG_BADSIG', 'swapped messages');

  // A later message checks its own time signed against the fudge.
  const s2 = new TsigSigner(key, mac, { fudge: 300 });
  const m0 = s2.sign(response(42, [soa()]), NOW);
  const m1 = s2.sign(response(42, [a(1)]), NOW + 400);
  const tv2 = new TsigVerifier(key, mac, () => NOW);
  tv2.verify(m0);
  expectTsigError(t, () => tv2.verify(m1), 'ERR_TSIG_BADTIME', 'second message out of the fudge');

  // Later messages use the timers only: signing them with full variables would not verify.
  const full = signResponse(response(42, [a(2)]), key, signResponse(response(42, [soa()]), key, mac, NOW).mac, NOW);
  const fv = new TsigVerifier(key, mac, () => NOW);
  fv.verify(signResponse(response(42, [soa()]), key, mac, NOW).signed);
  expectTsigError(t, () => fv.verify(full.signed), 'ERR_TSIG_BADSIG', 'second message with full variables');
});
