// The control socket: a unix socket the CLI talks to (status, refresh, retransfer, reload, dump).
//
// One request per connection, one JSON line: {"cmd": "status", "zone": "example.com"}. The answer is
// one JSON line {"ok": true, "data": ...} or {"ok": false, "error": "..."}; for `dump` the line
// {"ok": true, "stream": true} is followed by the zone's master-file text until the socket closes.

import { chmod, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import net from 'node:net';

export interface ControlRequest {
  cmd: string;
  zone?: string;
}

export type ControlResponse = { ok: true; data?: unknown; stream?: AsyncIterable<string> | Iterable<string> } | { ok: false; error: string };

export type ControlHandler = (req: ControlRequest) => Promise<ControlResponse>;

/** Requests are tiny; anything bigger is not a CLI talking. */
const MAX_REQUEST = 4096;

export class ControlServer {
  private server: net.Server | null = null;

  constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
    private readonly onError: (err: Error) => void,
  ) {}

  async listen(): Promise<void> {
    // The directory may not exist yet (systemd's RuntimeDirectory makes /run/secondaryd; a fresh
    // checkout running the example config has no var/). A socket file left by a crashed daemon would
    // make listen fail with EADDRINUSE.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o755 });
    await unlink(this.path).catch(() => {});
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        server.on('error', this.onError);
        resolve();
      });
    });
    await chmod(this.path, 0o600); // the CLI runs as the daemon's user (or root)
  }

  private accept(socket: net.Socket): void {
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) return socket.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      socket.removeAllListeners('data');
      void this.respond(socket, buf.slice(0, nl));
    });
  }

  private async respond(socket: net.Socket, line: string): Promise<void> {
    let res: ControlResponse;
    try {
      const req = JSON.parse(line) as ControlRequest;
      if (typeof req?.cmd !== 'string') throw new Error('request without "cmd"');
      res = await this.handler(req);
    } catch (err) {
      res = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    socket.setTimeout(0);
    if (res.ok && res.stream !== undefined) {
      socket.write(JSON.stringify({ ok: true, stream: true }) + '\n');
      for await (const chunk of res.stream) {
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
      socket.end();
      return;
    }
    socket.end(JSON.stringify(res) + '\n');
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    await new Promise<void>((r) => s.close(() => r()));
    await unlink(this.path).catch(() => {});
  }
}

/** The CLI side: send one request, get the answer line and, for streams, the text after it. */
export function controlRequest(path: string, req: ControlRequest, onText?: (chunk: string) => void, timeoutMs = 30_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let buf = '';
    let header: ControlResponse | null = null;
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from the daemon in ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(JSON.stringify(req) + '\n'));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      if (header !== null) {
        onText?.(chunk);
        return;
      }
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      header = JSON.parse(buf.slice(0, nl)) as ControlResponse;
      const rest = buf.slice(nl + 1);
      if (rest) onText?.(rest);
    });
    socket.on('close', () => {
      if (header === null) reject(new Error('the daemon closed the control connection without answering'));
      else resolve(header);
    });
  });
}
