// Transfers out over TCP (RFC 5936 4.2, RFC 7766): the stream of messages is produced only as fast as
// the client reads (socket backpressure), other connections are served meanwhile, a closed
// connection stops the producer, and queries pipelined behind a transfer wait their turn.

import net from 'node:net';
import t from 'tap';
import { Responder } from '../../src/answer/responder.js';
import { TcpServer } from '../../src/net/tcp-server.js';
import type { TransferHandler } from '../../src/net/xfr-server.js';
import { ZoneTable } from '../../src/zone/zone-table.js';
import { buildQuery, frameTcp, queryTcp, TcpFramer } from '../helpers/dnsclient.js';

const MESSAGE = 16000;

/** A transfer handler streaming `count` messages of MESSAGE octets, counting what it produced. */
function endless(count: number): { handler: TransferHandler; produced: () => number; finished: () => boolean } {
  let produced = 0;
  let finished = false;
  const handler: TransferHandler = (msg) => {
    const id = msg.readUInt16BE(0);
    return (function* () {
      try {
        for (let i = 0; i < count; i++) {
          const b = Buffer.alloc(MESSAGE);
          b.writeUInt16BE(id, 0);
          b.writeUInt16BE(0x8000, 2);
          produced++;
          yield b;
        }
      } finally {
        finished = true;
      }
    })();
  };
  return { handler, produced: () => produced, finished: () => finished };
}

async function start(handler: TransferHandler): Promise<{ srv: TcpServer; port: number }> {
  const responder = new Responder(new ZoneTable(), { udpPayload: 1232 });
  const srv = new TcpServer({ host: '127.0.0.1', port: 0, family: 4 }, responder, () => null, { idleTimeoutMs: 30000, maxConnections: 100 }, () => undefined, { transfer: handler });
  const port = await srv.listen();
  return { srv, port };
}

const axfr = (id: number): Buffer => buildQuery({ name: 'example.com', type: 252 }, { id, edns: false });

t.test('a client that does not read holds the producer back; others are served meanwhile', async (t) => {
  const e = endless(20000); // 320 MB if produced all at once
  const { srv, port } = await start(e.handler);
  t.teardown(() => srv.close());
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.pause();
  // 200 queries pipelined behind the transfer (past 64 the server stops reading until it is done).
  const behind = Array.from({ length: 200 }, (_, i) => frameTcp(buildQuery({ name: 'x.example', type: 1 }, { id: 2 + i })));
  sock.write(Buffer.concat([frameTcp(axfr(1)), ...behind]));
  await new Promise((r) => setTimeout(r, 500));
  const ahead = e.produced();
  t.ok(ahead < 2000, `${ahead} messages (${((ahead * MESSAGE) / 1e6).toFixed(1)} MB) produced ahead of a reader that reads nothing`);
  const other = await queryTcp({ host: '127.0.0.1', port }, { name: 'x.example', type: 1 });
  t.equal(other.readUInt16BE(2) & 0xf, 5, 'another connection is answered meanwhile (REFUSED: no zones)');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(e.produced(), ahead, 'nothing more produced while the reader waits');

  // Read it all: every message, then the pipelined query's answer.
  const framer = new TcpFramer();
  let transfer = 0;
  let last = 0;
  const after: number[] = [];
  await new Promise<void>((resolve) => {
    sock.on('data', (chunk: Buffer) => {
      for (const m of framer.push(chunk)) {
        last = m.readUInt16BE(0);
        if (last === 1) transfer++;
        else after.push(last);
        if (last === 201) resolve();
      }
    });
    sock.resume();
  });
  t.equal(transfer, 20000, 'all messages arrive once read');
  t.same(after, Array.from({ length: 200 }, (_, i) => 2 + i), 'the queries behind the transfer are answered after it, in order');
  t.ok(e.finished());
  sock.destroy();
});

t.test('a client that goes away stops the transfer', async (t) => {
  const e = endless(100000);
  const { srv, port } = await start(e.handler);
  t.teardown(() => srv.close());
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.pause();
  sock.write(frameTcp(axfr(7)));
  await new Promise((r) => setTimeout(r, 200));
  sock.destroy();
  const deadline = Date.now() + 5000;
  while (!e.finished() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(e.finished(), `the producer was closed after ${e.produced()} messages`);
  t.ok(e.produced() < 100000);
});
