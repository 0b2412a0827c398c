// Hostile input: random and mutated packets and broken TCP streams never hurt the server.
// Two levels: the Responder in-process (every response checked), and the running daemon over sockets.

import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import t from 'tap';
import { Responder } from '../../src/answer/responder.js';
import { nameFromText } from '../../src/wire/name.js';
import { buildZone } from '../../src/zone/zone.js';
import { ZoneTable } from '../../src/zone/zone-table.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { parseMessage, rcodeName } from '../helpers/compare.js';
import { buildQuery, queryTcp, queryUdp } from '../helpers/dnsclient.js';
import { prng } from '../helpers/prng.js';
import { startDaemon } from '../helpers/secondaryd.js';

const ZONE = `$ORIGIN fuzz.test.
$TTL 300
@ SOA ns h 1 2 3 4 5
@ NS ns
ns A 192.0.2.1
www A 192.0.2.2
c CNAME www
*.w TXT "wild"
sub NS ns.sub
ns.sub A 192.0.2.3
big TXT ${Array.from({ length: 40 }, (_, i) => `"${'x'.repeat(30)}${i}"`).join(' ')}
`;


const VALID = [
  buildQuery({ name: 'www.fuzz.test', type: 1 }, { edns: true, payload: 1232 }),
  buildQuery({ name: 'x.w.fuzz.test', type: 16 }),
  buildQuery({ name: 'a.sub.fuzz.test', type: 1 }, { edns: true, do: true }),
  buildQuery({ name: 'c.fuzz.test', type: 1 }),
  buildQuery({ name: 'big.fuzz.test', type: 16 }, { edns: true, payload: 512 }),
];

/** Crafted packets for the classic attacks on name decompression and EDNS parsing. */
function crafted(): Buffer[] {
  const hdr = (qd: number, an = 0, ns = 0, ar = 0, flags = 0): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(0x1234, 0);
    b.writeUInt16BE(flags, 2);
    b.writeUInt16BE(qd, 4);
    b.writeUInt16BE(an, 6);
    b.writeUInt16BE(ns, 8);
    b.writeUInt16BE(ar, 10);
    return b;
  };
  const q = (name: Buffer): Buffer => Buffer.concat([name, Buffer.from([0, 1, 0, 1])]);
  const opt = (payload = 1232, version = 0, rdata = Buffer.alloc(0)): Buffer => {
    const b = Buffer.alloc(11);
    b.writeUInt16BE(41, 1);
    b.writeUInt16BE(payload, 3);
    b[6] = version;
    b.writeUInt16BE(rdata.length, 9);
    return Buffer.concat([b, rdata]);
  };
  const www = nameFromText('www.fuzz.test.');
  return [
    Buffer.alloc(0),
    Buffer.alloc(5),
    hdr(1), // question missing
    Buffer.concat([hdr(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), // pointer to itself
    Buffer.concat([hdr(1), Buffer.from([0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0])]), // forward pointer
    Buffer.concat([hdr(1), Buffer.from([3, 0x61, 0x62, 0x63, 0xc0, 12]), Buffer.from([0, 1, 0, 1])]), // loop through itself
    Buffer.concat([hdr(1), Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0, 0, 1, 0, 1])]), // label of 64
    Buffer.concat([hdr(1), ...Array.from({ length: 130 }, () => Buffer.from([1, 0x61])), Buffer.from([0, 0, 1, 0, 1])]), // name > 255
    Buffer.concat([hdr(65535, 65535, 65535, 65535), q(www)]), // absurd counts
    Buffer.concat([hdr(1, 0, 0, 0, 0x8000), q(www)]), // QR=1
    ...[1, 2, 3, 5, 6, 15].map((op) => Buffer.concat([hdr(1, 0, 0, 0, op << 11), q(www)])), // odd opcodes
    Buffer.concat([hdr(1), www, Buffer.from([0, 1, 0, 0xfe])]), // class NONE
    Buffer.concat([hdr(1), www, Buffer.from([0, 1, 0xff, 0xff])]), // class 65535
    Buffer.concat([hdr(1, 0, 0, 2), q(www), opt(), opt()]), // two OPTs
    Buffer.concat([hdr(1, 0, 0, 1), q(www), opt(1232, 1)]), // EDNS version 1
    Buffer.concat([hdr(1, 0, 0, 1), q(www), opt(0)]), // payload 0
    Buffer.concat([hdr(1, 0, 0, 1), q(www), opt(1232, 0, Buffer.from([0, 3, 0, 9, 1]))]), // option past RDATA
    Buffer.concat([hdr(1, 0, 0, 1), q(www), Buffer.from([1, 0x61]), opt().subarray(1)]), // OPT not at root
    Buffer.concat([hdr(1, 0, 0, 1), q(www), opt().subarray(0, 7)]), // OPT truncated
    Buffer.concat([hdr(1), q(www), Buffer.from([1, 2, 3])]), // trailing garbage
    Buffer.concat([hdr(2), q(www), q(www)]), // two questions
    Buffer.concat([hdr(0)]), // no question
    Buffer.concat([hdr(1), www, Buffer.from([0, 252, 0, 1])]), // AXFR over UDP
  ];
}

/** Random packets: pure noise, and valid queries with bytes flipped, cut or inserted. */
function* fuzzPackets(count: number, seed: number): Generator<Buffer> {
  const rnd = prng(seed);
  const base = [...VALID, ...crafted()];
  for (let i = 0; i < count; i++) {
    const kind = rnd();
    if (kind < 0.15) {
      const b = Buffer.alloc(Math.floor(rnd() * 80));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
      yield b;
      continue;
    }
    const src = base[Math.floor(rnd() * base.length)]!;
    let b = Buffer.from(src);
    const edits = 1 + Math.floor(rnd() * 4);
    for (let e = 0; e < edits; e++) {
      const op = rnd();
      if (op < 0.5 && b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      else if (op < 0.7) b = b.subarray(0, Math.floor(rnd() * (b.length + 1)));
      else if (op < 0.85) {
        const at = Math.floor(rnd() * (b.length + 1));
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0xc0 | Math.floor(rnd() * 4), Math.floor(rnd() * 256)]), b.subarray(at)]);
      } else if (b.length >= 12) b.writeUInt16BE(Math.floor(rnd() * 65536), 4 + 2 * Math.floor(rnd() * 4));
    }
    yield b;
  }
}

t.test('responder in-process: 50,000 hostile packets, every reply well formed', async (t) => {
  const origin = nameFromText('fuzz.test.');
  const table = new ZoneTable();
  table.publish(buildZone(origin, parseZone(ZONE, { origin })));
  const responder = new Responder(table, { udpPayload: 1232, identity: 'ns.fuzz' });
  let replies = 0;
  let drops = 0;
  let bad = 0;
  for (const pkt of fuzzPackets(50000, 1)) {
    for (const tcp of [false, true]) {
      let out: Buffer | null;
      try {
        out = responder.answer(pkt, pkt.length, tcp);
      } catch (err) {
        t.fail(`threw on ${pkt.toString('hex')}: ${(err as Error).stack}`);
        return;
      }
      if (out === null) {
        drops++;
        continue;
      }
      replies++;
      // Every reply: same ID, QR set, within the size limit, and decodable by an independent codec.
      if (out.readUInt16BE(0) !== pkt.readUInt16BE(0) || !(out[2]! & 0x80) || (!tcp && out.length > 1232)) bad++;
      try {
        dnsPacket.decode(out);
      } catch {
        bad++;
        if (bad < 5) t.comment(`undecodable reply to ${pkt.toString('hex')}: ${out.toString('hex')}`);
      }
    }
  }
  t.equal(bad, 0, 'no malformed reply');
  t.ok(replies > 10000 && drops > 1000, `replies ${replies}, drops ${drops}`);
  // And it still answers correctly.
  const d = parseMessage(responder.answer(VALID[0]!, VALID[0]!.length, false)!);
  t.equal(rcodeName(d.rcode), 'NOERROR');
  t.same(d.answer.map((a) => [...a.rdata].join('.')), ['192.0.2.2']);
});

t.test('crafted attacks get the right verdict', async (t) => {
  const origin = nameFromText('fuzz.test.');
  const table = new ZoneTable();
  table.publish(buildZone(origin, parseZone(ZONE, { origin })));
  const r = new Responder(table, { udpPayload: 1232 });
  const c = crafted();
  const rcode = (i: number): string | null => {
    const out = r.answer(c[i]!, c[i]!.length, false);
    if (out === null) return null;
    return rcodeName(parseMessage(out).rcode);
  };
  t.equal(rcode(0), null, 'empty packet dropped');
  t.equal(rcode(1), null, 'short header dropped');
  t.equal(rcode(2), 'FORMERR', 'missing question');
  t.equal(rcode(3), 'FORMERR', 'pointer to itself');
  t.equal(rcode(4), 'FORMERR', 'forward pointer');
  t.equal(rcode(5), 'FORMERR', 'pointer loop');
  t.equal(rcode(6), 'FORMERR', 'label of 64 octets');
  t.equal(rcode(7), 'FORMERR', 'name over 255 octets');
  t.equal(rcode(8), 'FORMERR', 'absurd counts');
  t.equal(rcode(9), null, 'QR=1 dropped');
  for (let i = 10; i < 16; i++) t.equal(rcode(i), 'NOTIMP', `opcode ${(c[i]!.readUInt16BE(2) >> 11) & 15}`);
  t.equal(rcode(16), 'REFUSED', 'class NONE');
  t.equal(rcode(17), 'REFUSED', 'class 65535');
  t.equal(rcode(18), 'FORMERR', 'two OPT');
  t.equal(rcode(19), 'BADVERS', 'EDNS version 1');
  t.equal(rcode(20), 'NOERROR', 'payload 0 is treated as 512');
  t.equal(rcode(21), 'FORMERR', 'EDNS option past RDATA');
  t.equal(rcode(22), 'FORMERR', 'OPT owner not root');
  t.equal(rcode(23), 'FORMERR', 'OPT truncated');
  t.equal(rcode(24), 'FORMERR', 'trailing garbage');
  t.equal(rcode(25), 'FORMERR', 'two questions');
  t.equal(rcode(26), 'FORMERR', 'no question');
  t.equal(rcode(27), 'NOTIMP', 'AXFR over UDP');
});

t.test('running daemon: 30,000 hostile UDP packets and broken TCP streams', async (t) => {
  const d = await startDaemon({ zones: [{ name: 'fuzz.test', text: ZONE }] });
  t.teardown(() => d.stop());
  const sock = dgram.createSocket('udp4');
  let replies = 0;
  sock.on('message', () => replies++);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let sent = 0;
  const packets = [...fuzzPackets(30000, 2)];
  // Send in bursts so the kernel queue does not overflow and drop (we want the daemon to see them).
  for (let i = 0; i < packets.length; i += 200) {
    await Promise.all(
      packets.slice(i, i + 200).map(
        (p) => new Promise<void>((r) => sock.send(p, d.port, d.host, () => (sent++, r()))),
      ),
    );
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  t.equal(sent, 30000);
  t.ok(replies > 5000, `daemon replied to ${replies} of ${sent}`);

  // Broken TCP streams: garbage, a length prefix with nothing after it, half a message, then hang up.
  const streams = [
    Buffer.from([0xff, 0xff, 1, 2, 3]),
    Buffer.from([0x00]),
    Buffer.concat([Buffer.from([0, 40]), VALID[0]!.subarray(0, 10)]),
    Buffer.concat([Buffer.from([0, 0])]),
    Buffer.concat([Buffer.from([0, 5]), Buffer.alloc(5)]),
  ];
  for (const s of streams) {
    await new Promise<void>((r) => {
      const c = net.connect(d.port, d.host, () => {
        c.end(s);
      });
      c.on('error', () => r());
      c.on('close', () => r());
      c.resume();
    });
  }
  // Many connections left open and idle do not stop new ones from being served.
  const idle = await Promise.all(Array.from({ length: 20 }, () => new Promise<net.Socket>((r) => {
    const c: net.Socket = net.connect(d.port, d.host, () => r(c));
    c.on('error', () => {});
  })));
  const viaTcp = parseMessage(await queryTcp({ host: d.host, port: d.port }, { name: 'www.fuzz.test', type: 1 }));
  t.same(viaTcp.answer.map((a) => [...a.rdata].join('.')), ['192.0.2.2'], 'TCP still answers correctly');
  for (const c of idle) c.destroy();
  const viaUdp = parseMessage(await queryUdp({ host: d.host, port: d.port }, { name: 'www.fuzz.test', type: 1 }));
  t.same(viaUdp.answer.map((a) => [...a.rdata].join('.')), ['192.0.2.2'], 'UDP still answers correctly');
  t.notMatch(d.output(), /"level":"(fatal|error)"/, 'no error logged');
});
