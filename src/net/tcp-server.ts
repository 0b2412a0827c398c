// DNS over TCP (RFC 1035 4.2.2, RFC 7766): length-framed queries, several per connection, answered in
// order; idle connections are closed and the number of connections is capped.
//
// An AXFR/IXFR request is answered by a stream of messages (RFC 5936 4.2): written one at a time,
// waiting for 'drain' when the socket's buffer is full and yielding to the event loop between
// messages, so a big zone neither blocks other clients nor piles up in memory. Requests that arrive
// behind it on the same connection wait their turn.

import net from 'node:net';
import type { Responder } from '../answer/responder.js';
import { TcpFramer } from '../wire/tcp-framer.js';
import type { HostPort as ListenAddress } from '../config/address.js';
import { isNotify, type NotifyHandler, type ServerHooks } from './udp-server.js';
import { transferType } from './xfr-server.js';

/** Requests held per connection while a transfer is being written, before we stop reading. */
const MAX_QUEUED = 64;

export interface TcpServerOptions {
  /** Close a connection idle this long (RFC 7766 6.2.3). */
  idleTimeoutMs: number;
  maxConnections: number;
}

export class TcpServer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly address: ListenAddress,
    private readonly responder: Responder,
    private readonly notify: NotifyHandler,
    private readonly options: TcpServerOptions,
    private readonly onError: (err: Error) => void,
    private readonly hooks: ServerHooks = {},
  ) {}

  listen(): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.address.port, host: this.address.host, ipv6Only: this.address.family === 6 }, () => {
        server.off('error', reject);
        server.on('error', this.onError);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy());
    const framer = new TcpFramer();
    const queue: Buffer[] = [];
    let streaming = false;
    let closed = false;
    const remote = socket.remoteAddress ?? '';
    const send = (out: Buffer): boolean => {
      const framed = Buffer.allocUnsafe(out.length + 2);
      framed.writeUInt16BE(out.length, 0);
      out.copy(framed, 2);
      return socket.write(framed);
    };
    const pump = (): void => {
      while (!streaming && !closed && queue.length > 0) {
        const msg = queue.shift()!;
        const { transfer, tsigAnswer } = this.hooks;
        if (transfer !== undefined && transferType(msg) !== 0) {
          const reply = transfer(msg, remote, true);
          if (reply === null) continue;
          if (Buffer.isBuffer(reply)) {
            send(reply);
            continue;
          }
          streaming = true;
          void this.stream(socket, reply, send, () => closed).finally(() => {
            streaming = false;
            if (socket.isPaused()) socket.resume();
            pump();
          });
          return;
        }
        if (isNotify(msg)) {
          const out = this.notify(msg, remote);
          if (out !== null) send(out);
          continue;
        }
        let out = this.responder.answer(msg, msg.length, true);
        if (out === null) continue;
        if (tsigAnswer !== undefined && this.responder.query.tsigOffset >= 0) out = tsigAnswer(msg, out, this.responder.query.questionEnd);
        send(out);
      }
    };
    socket.on('data', (chunk) => {
      try {
        queue.push(...framer.push(chunk));
      } catch {
        socket.destroy(); // a broken stream cannot be resynchronised
        return;
      }
      // Requests pipelined behind a transfer wait in memory: past a few, stop reading (TCP pushes back).
      if (streaming && queue.length >= MAX_QUEUED) socket.pause();
      pump();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      closed = true;
      this.sockets.delete(socket);
    });
  }

  /** Write a transfer's messages with backpressure; stop (and let the producer clean up) on close. */
  private async stream(socket: net.Socket, messages: Iterator<Buffer, void, undefined>, send: (b: Buffer) => boolean, closed: () => boolean): Promise<void> {
    try {
      for (;;) {
        if (closed()) return;
        const r = messages.next();
        if (r.done) return;
        if (!send(r.value)) await writable(socket);
        // Let queries on other sockets in between messages (the event loop is not ours alone).
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
      socket.destroy();
    } finally {
      messages.return?.();
    }
  }

  /** Stop accepting; let open connections finish what they were sent, then close them. */
  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return Promise.resolve();
    for (const socket of this.sockets) socket.end();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, 2000);
      s.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Resolves when the socket can take more ('drain') or is gone. */
function writable(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
