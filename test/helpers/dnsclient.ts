// Test DNS client: builds queries by hand (RFC 1035 4.1, RFC 6891 OPT) and sends them over UDP or TCP (RFC 7766 framing), singly or in batches.

import dgram from 'node:dgram';
import net from 'node:net';

/** One question to ask. `name` is in presentation format; its spelling (case) is sent as written. */
export interface QuerySpec {
  name: string;
  type: number;
  /** Defaults to IN (1). */
  class?: number;
}

export interface QueryOptions {
  /** Message ID; random when absent. */
  id?: number;
  /** Add an OPT record (default true). */
  edns?: boolean;
  /** EDNS UDP payload size advertised (default 1232). */
  payload?: number;
  /** Set the DO bit (RFC 3225). */
  do?: boolean;
  /** RD flag (default false: we talk to authoritative servers). */
  rd?: boolean;
  /** CD flag. */
  cd?: boolean;
  /** AD flag. */
  ad?: boolean;
  /** Opcode (default 0, QUERY). */
  opcode?: number;
  /** EDNS version (default 0). */
  ednsVersion?: number;
  /** Raw EDNS options to include: code and data. */
  ednsOptions?: { code: number; data: Buffer }[];
}

/** Where a server listens. */
export interface Endpoint {
  host: string;
  port: number;
}

/** How a query travels. */
export interface Transport {
  /** Short label used in reports, e.g. "udp1232". */
  name: string;
  proto: 'udp' | 'tcp';
  edns: boolean;
  payload?: number;
  do?: boolean;
}

/** The transports the differential tests use. */
export const TRANSPORTS = {
  udp1232: { name: 'udp1232', proto: 'udp', edns: true, payload: 1232 },
  udpNoEdns: { name: 'udp-noedns', proto: 'udp', edns: false },
  udp512: { name: 'udp512', proto: 'udp', edns: true, payload: 512 },
  udp4096: { name: 'udp4096', proto: 'udp', edns: true, payload: 4096 },
  udpDo: { name: 'udp1232-do', proto: 'udp', edns: true, payload: 1232, do: true },
  tcp: { name: 'tcp', proto: 'tcp', edns: true, payload: 1232 },
  tcpNoEdns: { name: 'tcp-noedns', proto: 'tcp', edns: false },
} as const satisfies Record<string, Transport>;

/** Wire form of a presentation-format name, keeping its case. Handles `\X` and `\DDD`. */
export function encodeName(text: string): Buffer {
  if (text === '.' || text === '') return Buffer.from([0]);
  const out: number[] = [];
  let label: number[] = [];
  const flush = (): void => {
    if (label.length === 0 || label.length > 63) throw new Error(`bad label in name "${text}"`);
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      flush();
    } else if (c === 0x5c) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        label.push(Number(d) & 0xff);
        i += 3;
      } else {
        label.push(text.charCodeAt(i + 1) & 0xff);
        i += 1;
      }
    } else {
      label.push(c & 0xff);
    }
  }
  if (label.length > 0) flush();
  out.push(0);
  if (out.length > 255) throw new Error(`name too long: "${text}"`);
  return Buffer.from(out);
}

function randomId(): number {
  return Math.floor(Math.random() * 0x10000);
}

/** A query message in wire form. */
export function buildQuery(q: QuerySpec, opts: QueryOptions = {}): Buffer {
  const name = encodeName(q.name);
  const edns = opts.edns ?? true;
  const optData = Buffer.concat(
    (opts.ednsOptions ?? []).map((o) => {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(o.code, 0);
      h.writeUInt16BE(o.data.length, 2);
      return Buffer.concat([h, o.data]);
    }),
  );
  const buf = Buffer.alloc(12 + name.length + 4 + (edns ? 11 + optData.length : 0));
  buf.writeUInt16BE(opts.id ?? randomId(), 0);
  let flags = ((opts.opcode ?? 0) & 0xf) << 11;
  if (opts.rd) flags |= 0x0100;
  if (opts.ad) flags |= 0x0020;
  if (opts.cd) flags |= 0x0010;
  buf.writeUInt16BE(flags, 2);
  buf.writeUInt16BE(1, 4);
  buf.writeUInt16BE(edns ? 1 : 0, 10);
  let o = 12;
  name.copy(buf, o);
  o += name.length;
  buf.writeUInt16BE(q.type, o);
  buf.writeUInt16BE(q.class ?? 1, o + 2);
  o += 4;
  if (edns) {
    buf[o] = 0; // root owner
    buf.writeUInt16BE(41, o + 1);
    buf.writeUInt16BE(opts.payload ?? 1232, o + 3);
    buf[o + 5] = 0; // extended rcode
    buf[o + 6] = opts.ednsVersion ?? 0;
    buf.writeUInt16BE(opts.do ? 0x8000 : 0, o + 7);
    buf.writeUInt16BE(optData.length, o + 9);
    optData.copy(buf, o + 11);
  }
  return buf;
}

/** Query options that a transport implies, merged over `base`. */
export function transportOptions(t: Transport, base: QueryOptions = {}): QueryOptions {
  const o: QueryOptions = { ...base, edns: t.edns };
  if (t.payload !== undefined) o.payload = t.payload;
  if (t.do !== undefined) o.do = t.do;
  return o;
}

export class DnsTimeoutError extends Error {
  readonly code = 'ERR_DNS_TIMEOUT';
  constructor(what: string) {
    super(`timeout: ${what}`);
    this.name = 'DnsTimeoutError';
  }
}

/** Send one raw message over UDP and return the first reply with the same ID. */
export function sendUdp(ep: Endpoint, msg: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(ep.host.includes(':') ? 'udp6' : 'udp4');
    const id = msg.readUInt16BE(0);
    const timer = setTimeout(() => {
      sock.close();
      reject(new DnsTimeoutError(`UDP ${ep.host}:${ep.port}`));
    }, timeoutMs);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.on('message', (reply) => {
      if (reply.length < 2 || reply.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    });
    sock.send(msg, ep.port, ep.host);
  });
}

/**
 * Splits a TCP byte stream into DNS messages (2-octet length prefix, RFC 1035 4.2.2).
 * Feed it chunks as they arrive, in any split.
 */
export class TcpFramer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      out.push(Buffer.from(this.buf.subarray(2, 2 + len)));
      this.buf = this.buf.subarray(2 + len);
    }
    return out;
  }
  get pending(): number {
    return this.buf.length;
  }
}

export function frameTcp(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

/**
 * Send messages over one TCP connection (pipelined, RFC 7766 6.2.1.1) and collect one reply per
 * message, matched by ID (IDs must be distinct). Resolves in the order of `msgs`.
 */
export function sendTcp(ep: Endpoint, msgs: Buffer[], timeoutMs = 5000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const want = new Map<number, number>();
    msgs.forEach((m, i) => want.set(m.readUInt16BE(0), i));
    if (want.size !== msgs.length) {
      reject(new Error('sendTcp: message IDs must be distinct'));
      return;
    }
    const replies: Buffer[] = new Array(msgs.length);
    let got = 0;
    const framer = new TcpFramer();
    const sock = net.connect({ host: ep.host, port: ep.port });
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(replies);
    };
    const timer = setTimeout(() => finish(new DnsTimeoutError(`TCP ${ep.host}:${ep.port} (${got}/${msgs.length} replies)`)), timeoutMs);
    sock.setNoDelay(true);
    sock.on('connect', () => sock.write(Buffer.concat(msgs.map(frameTcp))));
    sock.on('data', (chunk: Buffer) => {
      for (const reply of framer.push(chunk)) {
        const i = reply.length >= 2 ? want.get(reply.readUInt16BE(0)) : undefined;
        if (i === undefined || replies[i] !== undefined) continue;
        replies[i] = reply;
        if (++got === msgs.length) finish();
      }
    });
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error(`TCP ${ep.host}:${ep.port} closed after ${got}/${msgs.length} replies`)));
  });
}

/** One query over UDP; returns the raw reply. */
export function queryUdp(ep: Endpoint, q: QuerySpec, opts: QueryOptions = {}, timeoutMs = 2000): Promise<Buffer> {
  return sendUdp(ep, buildQuery(q, opts), timeoutMs);
}

/** One query over TCP; returns the raw reply. */
export async function queryTcp(ep: Endpoint, q: QuerySpec, opts: QueryOptions = {}, timeoutMs = 5000): Promise<Buffer> {
  const [r] = await sendTcp(ep, [buildQuery(q, opts)], timeoutMs);
  return r!;
}

/** One query over the given transport. */
export function query(ep: Endpoint, t: Transport, q: QuerySpec, opts: QueryOptions = {}, timeoutMs?: number): Promise<Buffer> {
  const o = transportOptions(t, opts);
  return t.proto === 'tcp' ? queryTcp(ep, q, o, timeoutMs) : queryUdp(ep, q, o, timeoutMs);
}

export interface BatchOptions {
  /** Queries in flight at once (default 50). */
  concurrency?: number;
  /** Per-attempt timeout (default 1000 ms for UDP, 10000 ms for a TCP chunk). */
  timeoutMs?: number;
  /** UDP resends after a timeout, each with a new ID (default 3). */
  retries?: number;
  /** For TCP: queries pipelined per connection (default 100). */
  perConnection?: number;
}

/** A reply, or the error that stopped us getting one. */
export type BatchResult = Buffer | Error;

/**
 * Many UDP queries through one socket with up to `concurrency` in flight, matched by ID.
 * Results are in the order of `queries`. Lost or slow replies are resent with a fresh ID.
 * The query ID is chosen by the batch (opts.id is ignored) so that each in-flight ID is unique.
 */
export function queryUdpBatch(ep: Endpoint, queries: QuerySpec[], opts: QueryOptions = {}, batch: BatchOptions = {}): Promise<BatchResult[]> {
  const concurrency = batch.concurrency ?? 50;
  const timeoutMs = batch.timeoutMs ?? 1000;
  const retries = batch.retries ?? 3;
  return new Promise((resolve, reject) => {
    const results: BatchResult[] = new Array(queries.length);
    if (queries.length === 0) {
      resolve(results);
      return;
    }
    const sock = dgram.createSocket(ep.host.includes(':') ? 'udp6' : 'udp4');
    const inflight = new Map<number, { index: number; attempt: number; timer: NodeJS.Timeout }>();
    let next = 0;
    let finished = 0;
    let nextId = Math.floor(Math.random() * 0x10000);
    let closed = false;

    const allocId = (): number => {
      for (;;) {
        nextId = (nextId + 1) & 0xffff;
        if (!inflight.has(nextId)) return nextId;
      }
    };
    const send = (index: number, attempt: number): void => {
      const id = allocId();
      const msg = buildQuery(queries[index]!, { ...opts, id });
      const timer = setTimeout(() => {
        inflight.delete(id);
        if (attempt < retries) send(index, attempt + 1);
        else complete(index, new DnsTimeoutError(`UDP ${ep.host}:${ep.port} ${queries[index]!.name}/${queries[index]!.type}`));
      }, timeoutMs);
      inflight.set(id, { index, attempt, timer });
      sock.send(msg, ep.port, ep.host);
    };
    const complete = (index: number, r: BatchResult): void => {
      results[index] = r;
      finished++;
      if (finished === queries.length) {
        closed = true;
        sock.close();
        resolve(results);
      } else if (next < queries.length) {
        send(next++, 0);
      }
    };
    sock.on('error', (err) => {
      if (closed) return;
      closed = true;
      for (const f of inflight.values()) clearTimeout(f.timer);
      sock.close();
      reject(err);
    });
    sock.on('message', (reply) => {
      if (reply.length < 2) return;
      const f = inflight.get(reply.readUInt16BE(0));
      if (!f) return;
      clearTimeout(f.timer);
      inflight.delete(reply.readUInt16BE(0));
      complete(f.index, reply);
    });
    sock.bind(0, () => {
      while (next < queries.length && inflight.size < concurrency) send(next++, 0);
    });
  });
}

/**
 * Many TCP queries: split into chunks of `perConnection`, each pipelined over its own connection,
 * with up to `concurrency / perConnection` (at least 1) connections open at once.
 */
export async function queryTcpBatch(ep: Endpoint, queries: QuerySpec[], opts: QueryOptions = {}, batch: BatchOptions = {}): Promise<BatchResult[]> {
  const per = batch.perConnection ?? 100;
  const conns = Math.max(1, Math.floor((batch.concurrency ?? 400) / per));
  const timeoutMs = batch.timeoutMs ?? 10000;
  const results: BatchResult[] = new Array(queries.length);
  const chunks: number[] = [];
  for (let i = 0; i < queries.length; i += per) chunks.push(i);
  let nextChunk = 0;
  const worker = async (): Promise<void> => {
    while (nextChunk < chunks.length) {
      const start = chunks[nextChunk++]!;
      const slice = queries.slice(start, start + per);
      const msgs = slice.map((q, j) => buildQuery(q, { ...opts, id: j }));
      try {
        const replies = await sendTcp(ep, msgs, timeoutMs);
        replies.forEach((r, j) => (results[start + j] = r));
      } catch {
        // Fall back to one connection per query so one bad answer does not spoil the chunk.
        for (let j = 0; j < slice.length; j++) {
          try {
            results[start + j] = await queryTcp(ep, slice[j]!, { ...opts, id: j }, timeoutMs);
          } catch (err) {
            results[start + j] = err as Error;
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: conns }, worker));
  return results;
}

/** Many queries over the given transport. */
export function queryBatch(ep: Endpoint, t: Transport, queries: QuerySpec[], opts: QueryOptions = {}, batch: BatchOptions = {}): Promise<BatchResult[]> {
  const o = transportOptions(t, opts);
  return t.proto === 'tcp' ? queryTcpBatch(ep, queries, o, batch) : queryUdpBatch(ep, queries, o, batch);
}
