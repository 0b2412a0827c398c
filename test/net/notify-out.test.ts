// Outbound NOTIFY (RFC 1996 3.6, 3.7; RFC 8945): retransmitted until answered, signed with the
// target's key, one log line per target; sent by the daemon when a master file reloads with a new serial.

import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { NotifySender } from '../../src/net/notify-sender.js';
import { Flag, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage, type Message } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import { signResponse, verifyRequest } from '../../src/wire/tsig.js';
import { startDaemon } from '../helpers/secondaryd.js';
import { soa } from '../xfr/util.js';

const KEY = { name: 'notify-key.', algorithm: 'hmac-sha256' as const, secret: Buffer.from('notify secret, 32 octets long..!') };

interface Target {
  port: number;
  got: { msg: Message; raw: Buffer }[];
  close(): void;
}

/** A UDP NOTIFY receiver: `answer(n)` says what to do with the n-th NOTIFY (0-based). */
async function target(answer: (n: number) => number | null, key?: typeof KEY): Promise<Target> {
  const sock = dgram.createSocket('udp4');
  const got: Target['got'] = [];
  sock.on('message', (raw, rinfo) => {
    const msg = decodeMessage(raw);
    const n = got.length;
    got.push({ msg, raw });
    const rcode = answer(n);
    if (rcode === null) return;
    let reply = encodeMessage({ id: msg.id, flags: Flag.QR | Flag.AA, opcode: Opcode.NOTIFY, rcode, question: msg.question, answer: [], authority: [], additional: [] });
    if (key && msg.tsig) {
      const v = verifyRequest(raw, msg.tsig, new Map([[key.name, key]]), Math.floor(Date.now() / 1000));
      reply = signResponse(reply, key, v.mac, Math.floor(Date.now() / 1000)).signed;
    }
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, got, close: () => sock.close() };
}

function sender(opts: { timeoutMs: number; attempts: number }): { s: NotifySender; logs: { msg: string; o: Record<string, unknown> }[] } {
  const logs: { msg: string; o: Record<string, unknown> }[] = [];
  const logger = { info: (o: object, msg: string) => logs.push({ msg, o: o as Record<string, unknown> }), warn: (o: object, msg: string) => logs.push({ msg, o: o as Record<string, unknown> }) };
  return { s: new NotifySender({ keys: () => new Map([[KEY.name, { ...KEY }]]), logger, ...opts }), logs };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ORIGIN = nameFromText('example.com.');

t.test('retransmitted until answered, signed with the key; the answer TSIG-checked (RFC 1996 3.6)', async (t) => {
  const tg = await target((n) => (n < 2 ? null : Rcode.NOERROR), KEY);
  t.teardown(() => tg.close());
  const { s, logs } = sender({ timeoutMs: 50, attempts: 5 });
  s.notify(ORIGIN, 'example.com.', soa(77), [{ host: '127.0.0.1', port: tg.port, family: 4, key: KEY.name }]);
  await until(() => logs.length > 0);
  t.equal(tg.got.length, 3, 'answered on the third attempt');
  const m = tg.got[0]!.msg;
  t.equal(m.opcode, Opcode.NOTIFY);
  t.ok(m.flags & Flag.AA, 'AA set');
  t.same(m.question.map((q) => q.type), [Type.SOA]);
  t.equal(m.answer[0]!.rdata.readUInt32BE(m.answer[0]!.rdata.length - 20), 77, 'the serial in the answer section (RFC 1996 3.7)');
  t.ok(m.tsig, 'signed');
  t.doesNotThrow(() => verifyRequest(tg.got[2]!.raw, tg.got[2]!.msg.tsig!, new Map([[KEY.name, KEY]]), Math.floor(Date.now() / 1000)), 'with our key');
  t.match(logs, [{ msg: 'NOTIFY answered', o: { serial: 77, attempts: 3, remote: `127.0.0.1:${tg.port}` } }]);
  t.equal(s.counts.ok, 1);
  t.equal(s.pending, 0);
});

t.test('no answer: given up after the attempts; a refusal is logged as such', async (t) => {
  const silent = await target(() => null);
  const refusing = await target(() => Rcode.REFUSED);
  t.teardown(() => {
    silent.close();
    refusing.close();
  });
  const { s, logs } = sender({ timeoutMs: 20, attempts: 3 });
  s.notify(ORIGIN, 'example.com.', soa(5), [
    { host: '127.0.0.1', port: silent.port, family: 4 },
    { host: '127.0.0.1', port: refusing.port, family: 4 },
  ]);
  await until(() => logs.length === 2);
  t.equal(silent.got.length, 3, 'three attempts');
  t.match(logs.find((l) => l.o['remote'] === `127.0.0.1:${silent.port}`), { msg: 'NOTIFY not answered', o: { attempts: 3 } });
  t.match(logs.find((l) => l.o['remote'] === `127.0.0.1:${refusing.port}`), { msg: 'NOTIFY refused by the target', o: { rcode: Rcode.REFUSED } });
  t.same(s.counts, { ok: 0, refused: 1, timeout: 1, tsig: 0, error: 0 });
});

t.test('a newer version replaces a NOTIFY still being retried', async (t) => {
  const tg = await target((n) => (n === 0 ? null : Rcode.NOERROR));
  t.teardown(() => tg.close());
  const { s, logs } = sender({ timeoutMs: 500, attempts: 3 });
  const to = [{ host: '127.0.0.1', port: tg.port, family: 4 as const }];
  s.notify(ORIGIN, 'example.com.', soa(1), to);
  await until(() => tg.got.length === 1);
  s.notify(ORIGIN, 'example.com.', soa(2), to);
  await until(() => logs.length === 1);
  t.match(logs, [{ msg: 'NOTIFY answered', o: { serial: 2 } }], 'only the newer one is reported');
  s.close();
});

t.test('daemon: a file zone NOTIFYs its targets at start and when reloaded with a new serial', async (t) => {
  const tg = await target(() => Rcode.NOERROR, KEY);
  t.teardown(() => tg.close());
  const zoneText = (serial: number): string => `$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster ${serial} 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n`;
  const d = await startDaemon({
    zones: [],
    files: { 'z.zone': zoneText(1) },
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
      `keys:\n  - name: notify-key\n    algorithm: hmac-sha256\n    secret: "${KEY.secret.toString('base64')}"\n` +
      `zones:\n  - name: example.com\n    file: "{DIR}/z.zone"\n    notify: [{ address: "127.0.0.1:${tg.port}", key: notify-key }]\n`,
  });
  t.teardown(() => d.stop());
  await until(() => /"serial":1,.*"msg":"NOTIFY answered"/.test(d.output()));
  t.equal(tg.got.length, 1, 'one NOTIFY at start');
  t.notMatch(d.output(), /not implemented yet/, 'no "not implemented" warning');
  writeFileSync(join(d.dir, 'z.zone'), zoneText(2));
  d.signal('SIGHUP');
  await until(() => /"serial":2,.*"msg":"NOTIFY answered"/.test(d.output()));
  const last = tg.got.at(-1)!.msg;
  t.equal(last.answer[0]!.rdata.readUInt32BE(last.answer[0]!.rdata.length - 20), 2, 'NOTIFY for serial 2');
  t.ok(last.tsig, 'signed');
  const before = tg.got.length;
  d.signal('SIGHUP'); // same serial: nothing to tell
  await until(() => (d.output().match(/"msg":"reloaded"/g) ?? []).length === 2);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(tg.got.length, before, 'no NOTIFY when the serial did not change');
});
