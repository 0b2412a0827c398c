// NOTIFY handling (RFC 1996 3.7, 4.7; RFC 8945 for signed NOTIFY): who may notify, what the answer
// looks like, and what the refresh code is told.

import t from 'tap';
import { handleNotify, type NotifyPolicy, type NotifyTsig } from '../../src/answer/notify.js';
import { matchAcl } from '../../src/config/acl.js';
import type { AclEntry, TsigKeyConfig } from '../../src/config/types.js';
import { Class, Flag, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import { signMessage, signResponse, TsigError, TsigVerifier, verifyRequest } from '../../src/wire/tsig.js';

const key: TsigKeyConfig = { name: 'xfr-key.', algorithm: 'hmac-sha256', secret: Buffer.from('0123456789abcdef0123456789abcdef') };
const other: TsigKeyConfig = { name: 'xfr-key.', algorithm: 'hmac-sha256', secret: Buffer.from('not the secret at all, no, no..') };
const keys = new Map([[key.name, key]]);
const now = Math.floor(Date.now() / 1000);

function notifyMsg(zone: string, serial?: number, id = 4321): Buffer {
  const owner = nameFromText(zone);
  const soa = Buffer.concat([nameFromText('ns.' + zone), nameFromText('h.' + zone), Buffer.alloc(20)]);
  if (serial !== undefined) soa.writeUInt32BE(serial, soa.length - 20);
  return encodeMessage({
    id,
    flags: Flag.AA,
    opcode: Opcode.NOTIFY,
    rcode: 0,
    question: [{ name: owner, type: Type.SOA, class: Class.IN }],
    answer: serial === undefined ? [] : [{ owner, type: Type.SOA, class: Class.IN, ttl: 60, rdata: soa }],
    authority: [],
    additional: [],
  });
}

const tsig: NotifyTsig = {
  verify: (raw, msg) => {
    try {
      const v = verifyRequest(raw, msg.tsig!, keys, now);
      return { keyName: v.key.name, sign: (r: Buffer) => signResponse(r, v.key, v.mac, now).signed };
    } catch (err) {
      if (err instanceof TsigError) return { error: err.message, rcode: err.rcode };
      throw err;
    }
  },
};

function setup(allow: AclEntry[]): { notified: { remote: string; serial: number | undefined }[]; policyOf: (z: string) => NotifyPolicy | undefined } {
  const notified: { remote: string; serial: number | undefined }[] = [];
  return {
    notified,
    policyOf: (z) => (z === 'example.com.' ? { allowed: (a, k) => matchAcl(allow, a, k), notify: (remote, serial) => notified.push({ remote, serial }) } : undefined),
  };
}

t.test('RFC 1996 4.7: an accepted NOTIFY is answered with ID, QR, AA, opcode and question echoed', async (t) => {
  const { notified, policyOf } = setup([{ network: { address: '192.0.2.1', prefix: 32, family: 4 } }]);
  const out = handleNotify(notifyMsg('Example.COM.', 77), '192.0.2.1', policyOf, tsig);
  t.ok(out.accepted);
  t.same(notified, [{ remote: '192.0.2.1', serial: 77 }], 'the refresh code is told, with the serial (RFC 1996 3.7)');
  const r = decodeMessage(out.response!);
  t.equal(r.id, 4321);
  t.equal(r.opcode, Opcode.NOTIFY);
  t.equal(r.rcode, Rcode.NOERROR);
  t.ok(r.flags & Flag.QR && r.flags & Flag.AA);
  t.equal(r.question[0]!.name.toString('latin1'), nameFromText('Example.COM.').toString('latin1'), 'question echoed as sent');
});

t.test('refused: unknown zone (NOTAUTH), source not allowed (REFUSED), key required but absent or wrong', async (t) => {
  const { notified, policyOf } = setup([{ network: { address: '192.0.2.1', prefix: 32, family: 4 }, key: 'xfr-key.' }]);
  const rcode = (o: ReturnType<typeof handleNotify>): number => decodeMessage(o.response!).rcode;
  t.equal(rcode(handleNotify(notifyMsg('example.org.'), '192.0.2.1', policyOf, tsig)), Rcode.NOTAUTH, 'not a zone we pull');
  t.equal(rcode(handleNotify(notifyMsg('example.com.'), '192.0.2.1', policyOf, tsig)), Rcode.REFUSED, 'unsigned while the primary has a key');
  const signed = signMessage(notifyMsg('example.com.', 9), key, now).signed;
  t.equal(rcode(handleNotify(signed, '198.51.100.1', policyOf, tsig)), Rcode.REFUSED, 'signed, but from another address');
  const forged = signMessage(notifyMsg('example.com.', 9), other, now).signed;
  const bad = handleNotify(forged, '192.0.2.1', policyOf, tsig);
  t.equal(rcode(bad), Rcode.NOTAUTH, 'wrong secret');
  t.match(bad.reason, /TSIG/);
  t.same(notified, [], 'nothing reached the refresh code');
  const ok = handleNotify(signed, '192.0.2.1', policyOf, tsig);
  t.ok(ok.accepted, 'signed with the key, from the primary');
  t.same(notified, [{ remote: '192.0.2.1', serial: 9 }]);
  // The answer to a signed NOTIFY is signed with the same key (RFC 8945 5.3).
  const { mac } = signMessage(notifyMsg('example.com.', 9), key, now);
  const v = new TsigVerifier(key, mac, () => now);
  t.doesNotThrow(() => v.verify(ok.response!, decodeMessage(ok.response!).tsig), 'the response verifies');
});

t.test('malformed NOTIFY: FORMERR, or nothing when there is no header', async (t) => {
  const { policyOf } = setup([]);
  t.equal(handleNotify(Buffer.alloc(5), '192.0.2.1', policyOf, tsig).response, null);
  const noQuestion = encodeMessage({ id: 1, flags: 0, opcode: Opcode.NOTIFY, rcode: 0, question: [], answer: [], authority: [], additional: [] });
  t.equal(decodeMessage(handleNotify(noQuestion, '192.0.2.1', policyOf, tsig).response!).rcode, Rcode.FORMERR);
  const garbage = Buffer.concat([notifyMsg('example.com.').subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 6, 0, 1])]);
  t.equal(decodeMessage(handleNotify(garbage, '192.0.2.1', policyOf, tsig).response!).rcode, Rcode.FORMERR);
});
