// Free loopback port picker for test servers: a port number free for both UDP and TCP.

import dgram from 'node:dgram';
import net from 'node:net';

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(port, host, () => resolve(s));
  });
}

function listenTcp(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => resolve(srv));
  });
}

// Ports handed out by this process; never hand one out twice even if the server using it has not bound yet.
const handedOut = new Set<number>();

/**
 * A port number on `host` that is free for both UDP and TCP right now. The kernel picks an
 * ephemeral UDP port, then we check TCP on the same number; both are closed before returning.
 * There is a race with other processes until the caller binds it: callers that start a server
 * retry with a new port when the server fails to bind (see `startKnot`).
 */
export async function freePort(host = '127.0.0.1', attempts = 50): Promise<number> {
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    let udp: dgram.Socket | undefined;
    let tcp: net.Server | undefined;
    try {
      udp = await bindUdp(host, 0);
      const port = udp.address().port;
      if (handedOut.has(port) || port < 1024) continue;
      tcp = await listenTcp(host, port);
      handedOut.add(port);
      return port;
    } catch (err) {
      lastErr = err;
    } finally {
      udp?.close();
      if (tcp) await new Promise<void>((r) => tcp!.close(() => r()));
    }
  }
  throw new Error(`no free UDP+TCP port on ${host} after ${attempts} attempts: ${String(lastErr)}`);
}
