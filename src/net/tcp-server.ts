// DNS over TCP (RFC 1035 4.2.2, RFC 7766): length-framed queries, several per connection, answered in
// order; idle connections are closed and the number of connections is capped.

import net from 'node:net';
import type { Responder } from '../answer/responder.js';
import { TcpFramer } from '../wire/tcp-framer.js';
import type { HostPort as ListenAddress } from '../config/address.js';
import { isNotify, type NotifyHandler } from './udp-server.js';

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
    socket.on('data', (chunk) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch {
        socket.destroy(); // a broken stream cannot be resynchronised
        return;
      }
      for (const msg of messages) {
        const out = isNotify(msg) ? this.notify(msg, socket.remoteAddress ?? '') : this.responder.answer(msg, msg.length, true);
        if (out === null) continue;
        const framed = Buffer.allocUnsafe(out.length + 2);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
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
