// A scripted fake primary for fault tests: serves one zone over UDP (SOA) and TCP (SOA, AXFR, IXFR in
// AXFR form) on one loopback port (RFC 1035 4.2, RFC 5936, RFC 1995, RFC 8945), and lets the test
// replace any answer with a fault: an rcode, silence, a closed or reset connection, garbage, a wrong
// first record, an out-of-zone record, a wrong ID, a lower serial, a bad TSIG, an endless stream or
// an IXFR whose differences do not apply. It counts what it was asked, by type and transport.
//
// Like NSD's tpkg fake primaries, it is deliberately simple: one zone, every answer built from the
// current version when the query arrives, so a test can change the zone (or the fault) between steps.

import dgram from 'node:dgram';
import net from 'node:net';
import { Class, Flag, Opcode, Rcode, Type } from '../../src/wire/constants.js';
import { WireFormatError } from '../../src/wire/errors.js';
import { decodeMessage, encodeMessage, type Message } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { frame, TcpFramer } from '../../src/wire/tcp-framer.js';
import { tsigErrorResponse, TsigError, TsigSigner, verifyRequest, type TsigKey } from '../../src/wire/tsig.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { freePort } from './ports.js';

export type FakeTransport = 'udp' | 'tcp';
export type QueryKind = 'SOA' | 'IXFR' | 'AXFR' | 'other';

/**
 * What the fake does with one query. Absent (or `answer`): the normal answer from the current version.
 * Actions that make no sense for a transport (e.g. `close` over UDP) behave as `silent` there.
 */
export type Action =
  /** The normal answer. */
  | { type: 'answer' }
  /** One response with this rcode and no records (question echoed). */
  | { type: 'rcode'; rcode: number }
  /** Read the query, never answer (TCP: the connection stays open). */
  | { type: 'silent' }
  /** TCP: send the first `after` messages of the normal answer, then close the connection (FIN). */
  | { type: 'close'; after: number }
  /** TCP: send the first `after` messages of the normal answer, then nothing, connection open. */
  | { type: 'stall'; after: number }
  /** TCP: reset the connection (RST) without answering. */
  | { type: 'reset' }
  /** Bytes that are no DNS message (default 64 x 0xff), framed over TCP unless `unframed`. */
  | { type: 'garbage'; bytes?: Buffer; unframed?: boolean }
  /** The transfer starts with a non-SOA record (the SOA comes second). */
  | { type: 'wrong-first-record' }
  /** The normal answer with a record outside the zone in the middle (default intruder.example.net. A). */
  | { type: 'out-of-zone'; owner?: string }
  /** The normal answer with another message ID (query ID + 1). */
  | { type: 'wrong-id' }
  /** An SOA query is answered with this serial instead of the current one (e.g. lower). */
  | { type: 'serial'; serial: number }
  /** Sign the answer badly: with a key of the same name and another secret, or flip a MAC octet. */
  | { type: 'bad-tsig'; how: 'wrong-key' | 'corrupt-mac' }
  /**
   * Answer a transfer with the SOA, then records forever (until the client hangs up): as fast as the
   * connection takes them, or one message every `intervalMs` (a slow drip that never goes idle).
   */
  | { type: 'endless'; perMessage?: number; intervalMs?: number }
  /**
   * IXFR: an incremental answer from the client's version (its SOA from the request) to the current
   * one that deletes a record the zone does not hold, so the client cannot apply it (RFC 1995 4).
   * Other query types get the normal answer.
   */
  | { type: 'bad-ixfr' }
  /** Send these messages as they are (TCP: framed), built from the decoded query. */
  | { type: 'raw'; messages: (query: Message) => Buffer[] };

export interface ReceivedQuery {
  transport: FakeTransport;
  kind: QueryKind;
  /** The decoded query (TSIG in `message.tsig`). */
  message: Message;
  raw: Buffer;
  /** For IXFR: the serial of the SOA in the request's authority section. */
  clientSerial?: number;
  /** Date.now() when it arrived. */
  at: number;
  remote: string;
  /** The action taken (`answer` for the normal answer, `tsig-refused` for a request failing our TSIG check). */
  action: Action['type'] | 'tsig-refused';
}

export type Script = (query: ReceivedQuery) => Action | undefined;

export interface SoaParams {
  mname?: string;
  rname?: string;
  refresh?: number;
  retry?: number;
  expire?: number;
  minimum?: number;
  ttl?: number;
}

export interface ZoneVersion {
  serial: number;
  /** Master-file text of the records other than the SOA (relative names are under the zone), or records. */
  records?: string | ResourceRecord[];
  /** SOA fields other than the serial; default: those of the previous version. */
  soa?: SoaParams;
}

export interface FakePrimaryOptions extends ZoneVersion {
  /** Zone name, with or without the final dot. */
  zone: string;
  /** TSIG key: when set, every request must be signed with it and every answer is signed. */
  key?: TsigKey;
  /** Answer records per transfer message (default 3, so a small zone spans several messages). */
  perMessage?: number;
  script?: Script;
}

/** The zone used when `records` is not given: apex NS, glue and a few names. */
export const DEFAULT_RECORDS = `
@      NS   ns1
@      NS   ns2
ns1    A    192.0.2.1
ns2    A    192.0.2.2
www    A    192.0.2.80
www    TXT  "version one"
mail   MX   10 www
`;

export interface FakePrimary {
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:PORT", as the daemon's config wants it. */
  readonly address: string;
  /** Zone name with the final dot. */
  readonly zone: string;
  /** The serial served now. */
  readonly serial: number;
  /** Queries received so far, by kind. */
  readonly counts: Readonly<Record<QueryKind, number>>;
  /** Every query received, in order. */
  readonly queries: readonly ReceivedQuery[];
  /** The SOA record served now. */
  soaRecord(): ResourceRecord;
  /** Serve a new version (from the next query on). */
  setZone(version: ZoneVersion): void;
  /** Replace the script (undefined: answer everything normally). */
  setScript(script: Script | undefined): void;
  /** Stop listening on TCP (connections are then refused) and drop the open connections. */
  closeTcp(): Promise<void>;
  /** Listen on TCP again, on the same port. */
  openTcp(): Promise<void>;
  /** Resolves with the first query (received at or after `since`, default now) that `pred` accepts. */
  waitFor(pred: (q: ReceivedQuery) => boolean, timeoutMs?: number, since?: number): Promise<ReceivedQuery>;
  stop(): Promise<void>;
}

function kindOf(qtype: number | undefined): QueryKind {
  return qtype === Type.SOA ? 'SOA' : qtype === Type.IXFR ? 'IXFR' : qtype === Type.AXFR ? 'AXFR' : 'other';
}

function soaRdata(origin: Buffer, serial: number, p: Required<Omit<SoaParams, 'ttl' | 'mname' | 'rname'>> & { mname: string; rname: string }): Buffer {
  const b = Buffer.concat([nameFromText(p.mname, origin), nameFromText(p.rname, origin), Buffer.alloc(20)]);
  const o = b.length - 20;
  b.writeUInt32BE(serial >>> 0, o);
  b.writeUInt32BE(p.refresh >>> 0, o + 4);
  b.writeUInt32BE(p.retry >>> 0, o + 8);
  b.writeUInt32BE(p.expire >>> 0, o + 12);
  b.writeUInt32BE(p.minimum >>> 0, o + 16);
  return b;
}

/** An A record with an absolute owner name. */
export function aRecord(owner: string, ip: string, ttl = 3600): ResourceRecord {
  return { owner: nameFromText(owner), type: Type.A, class: Class.IN, ttl, rdata: Buffer.from(ip.split('.').map(Number)) };
}

export async function startFakePrimary(opts: FakePrimaryOptions): Promise<FakePrimary> {
  const host = '127.0.0.1';
  const zoneText = opts.zone.endsWith('.') ? opts.zone : `${opts.zone}.`;
  const origin = nameFromText(zoneText);
  const perMessage = opts.perMessage ?? 3;
  const key = opts.key;

  let soaParams = { mname: 'ns1', rname: 'hostmaster', refresh: 3600, retry: 1, expire: 86400, minimum: 60, ttl: 3600 };
  let serial = 0;
  let records: ResourceRecord[] = [];
  let soa: ResourceRecord;
  const setZone = (v: ZoneVersion): void => {
    soaParams = { ...soaParams, ...v.soa };
    serial = v.serial >>> 0;
    if (v.records !== undefined || records.length === 0) {
      const given = v.records ?? DEFAULT_RECORDS;
      records = typeof given === 'string' ? parseZone(given, { origin, defaultTtl: 3600 }) : given;
    }
    soa = { owner: origin, type: Type.SOA, class: Class.IN, ttl: soaParams.ttl, rdata: soaRdata(origin, serial, soaParams) };
  };
  setZone(opts);

  let script = opts.script;
  const counts: Record<QueryKind, number> = { SOA: 0, IXFR: 0, AXFR: 0, other: 0 };
  const queries: ReceivedQuery[] = [];
  const waiters = new Set<{ pred: (q: ReceivedQuery) => boolean; since: number; resolve: (q: ReceivedQuery) => void }>();

  const record = (q: ReceivedQuery): void => {
    counts[q.kind]++;
    queries.push(q);
    for (const w of waiters) {
      if (q.at >= w.since && w.pred(q)) {
        waiters.delete(w);
        w.resolve(q);
      }
    }
  };

  // ---- building answers -------------------------------------------------------------------------

  const response = (query: Message, answer: ResourceRecord[], o: { withQuestion?: boolean; rcode?: number; id?: number } = {}): Buffer =>
    encodeMessage({
      id: o.id ?? query.id,
      flags: Flag.QR | Flag.AA,
      opcode: Opcode.QUERY,
      rcode: o.rcode ?? Rcode.NOERROR,
      question: o.withQuestion === false ? [] : query.question,
      answer,
      authority: [],
      additional: [],
    });

  /** Records split into messages; only the first carries the question (RFC 5936 2.2.1). */
  const stream = (query: Message, rrs: ResourceRecord[], per = perMessage, id?: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let i = 0; i < rrs.length; i += per) out.push(response(query, rrs.slice(i, i + per), { withQuestion: i === 0, ...(id === undefined ? {} : { id }) }));
    return out;
  };

  /** The unsigned answer messages for a query, by action (null: no answer at all). */
  const build = (q: ReceivedQuery, action: Action): Buffer[] | null => {
    const query = q.message;
    const axfr = (): ResourceRecord[] => [soa, ...records, soa];
    switch (action.type) {
      case 'silent':
      case 'reset':
        return null;
      case 'rcode':
        return [response(query, [], { rcode: action.rcode })];
      case 'raw':
        return action.messages(query);
      case 'garbage':
        return [action.bytes ?? Buffer.alloc(64, 0xff)];
      case 'wrong-id':
        return q.kind === 'SOA' ? [response(query, [soa], { id: (query.id + 1) & 0xffff })] : stream(query, axfr(), perMessage, (query.id + 1) & 0xffff);
      case 'serial': {
        if (q.kind !== 'SOA') return stream(query, axfr());
        const fake = { ...soa, rdata: Buffer.from(soa.rdata) };
        fake.rdata.writeUInt32BE(action.serial >>> 0, fake.rdata.length - 20);
        return [response(query, [fake])];
      }
      case 'wrong-first-record':
        if (q.kind === 'SOA') return [response(query, [soa])];
        return stream(query, [records[0]!, soa, ...records.slice(1), soa]);
      case 'out-of-zone': {
        if (q.kind === 'SOA') return [response(query, [soa])];
        const intruder = aRecord(action.owner ?? 'intruder.example.net.', '192.0.2.66');
        const mid = Math.floor(records.length / 2);
        return stream(query, [soa, ...records.slice(0, mid), intruder, ...records.slice(mid), soa]);
      }
      case 'bad-ixfr': {
        const theirs = query.authority.find((r) => r.type === Type.SOA);
        if (q.kind !== 'IXFR' || theirs === undefined) break;
        const missing = aRecord(`no-such-record.${zoneText}`, '203.0.113.99');
        const added = aRecord(`added-by-ixfr.${zoneText}`, '203.0.113.98');
        return stream(query, [soa, theirs, missing, soa, added, soa]);
      }
      case 'endless':
      case 'answer':
      case 'close':
      case 'stall':
      case 'bad-tsig':
        break;
    }
    if (q.kind === 'SOA') return [response(query, [soa])];
    if (q.kind === 'AXFR' || q.kind === 'IXFR') {
      // IXFR: a client holding our serial gets the lone SOA (RFC 1995 2), anyone else the AXFR form.
      if (q.kind === 'IXFR' && q.clientSerial === serial) return [response(query, [soa])];
      return stream(query, axfr());
    }
    return [response(query, [], { rcode: Rcode.NOTIMP })];
  };

  /** Sign the messages of one answer when we have a key (every message of a stream, RFC 8945 5.3.1). */
  const sign = (action: Action, msgs: Buffer[], requestMac: Buffer | undefined): Buffer[] => {
    if (key === undefined || requestMac === undefined || action.type === 'garbage' || action.type === 'raw') return msgs;
    const now = Math.floor(Date.now() / 1000);
    const signingKey = action.type === 'bad-tsig' && action.how === 'wrong-key' ? { ...key, secret: Buffer.from('not the secret the secondary has') } : key;
    const signer = new TsigSigner(signingKey, requestMac);
    return msgs.map((m) => {
      const signed = signer.sign(m, now);
      if (action.type === 'bad-tsig' && action.how === 'corrupt-mac') {
        // The MAC ends 6 octets before the end (Original ID, Error, Other Len 0 follow it).
        signed[signed.length - 7]! ^= 0xff;
      }
      return signed;
    });
  };

  /** Decode a query and decide: the messages to send (signed), or null; 'reset' for TCP RST. */
  const handle = (raw: Buffer, transport: FakeTransport, remote: string): { action: Action; msgs: Buffer[] | null; q: ReceivedQuery } | null => {
    let message: Message;
    try {
      message = decodeMessage(raw);
    } catch (err) {
      if (err instanceof WireFormatError) return null;
      throw err;
    }
    const kind = kindOf(message.question[0]?.type);
    const theirs = message.authority.find((r) => r.type === Type.SOA);
    const q: ReceivedQuery = {
      transport,
      kind,
      message,
      raw,
      at: Date.now(),
      remote,
      action: 'answer',
      ...(kind === 'IXFR' && theirs !== undefined && theirs.rdata.length >= 20 ? { clientSerial: theirs.rdata.readUInt32BE(theirs.rdata.length - 20) } : {}),
    };
    let requestMac: Buffer | undefined;
    if (key !== undefined) {
      try {
        if (message.tsig === undefined) throw new TsigError('ERR_TSIG_UNSIGNED', 0, 'request not signed');
        requestMac = verifyRequest(raw, message.tsig, new Map([[key.name.toLowerCase(), key]]), Math.floor(Date.now() / 1000)).mac;
      } catch (err) {
        if (!(err instanceof TsigError)) throw err;
        q.action = 'tsig-refused';
        record(q);
        const refused = response(message, [], { rcode: Rcode.NOTAUTH });
        return { action: { type: 'rcode', rcode: Rcode.NOTAUTH }, q, msgs: [message.tsig ? tsigErrorResponse(refused, message.tsig, err, Math.floor(Date.now() / 1000)) : refused] };
      }
    }
    const action = script?.(q) ?? { type: 'answer' };
    q.action = action.type;
    record(q);
    if (action.type === 'endless') return { action, q, msgs: [] };
    const built = build(q, action);
    return { action, q, msgs: built === null ? null : sign(action, built, requestMac) };
  };

  // ---- UDP ----------------------------------------------------------------------------------------

  const port = await freePort(host);
  const udp = dgram.createSocket('udp4');
  udp.on('message', (raw, rinfo) => {
    const h = handle(raw, 'udp', `${rinfo.address}:${rinfo.port}`);
    if (h === null || h.msgs === null) return;
    if (['close', 'stall', 'reset', 'endless'].includes(h.action.type)) return;
    for (const m of h.msgs) udp.send(m, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, host, () => resolve());
  });

  // ---- TCP ----------------------------------------------------------------------------------------

  const sockets = new Set<net.Socket>();
  let stopped = false;

  const endless = async (sock: net.Socket, q: ReceivedQuery, per: number, intervalMs: number): Promise<void> => {
    let n = 0;
    const write = (b: Buffer): Promise<void> =>
      new Promise((resolve) => {
        if (sock.destroyed) return resolve();
        if (sock.write(frame(b))) resolve();
        else sock.once('drain', () => resolve());
      });
    await write(response(q.message, [soa]));
    while (!sock.destroyed && !stopped) {
      const batch: ResourceRecord[] = [];
      for (let i = 0; i < per; i++, n++) batch.push(aRecord(`r${n}.${zoneText}`, `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`));
      await write(response(q.message, batch, { withQuestion: false }));
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
      // Let the event loop breathe so 'close' and timers are seen.
      else if (n % (per * 50) === 0) await new Promise((r) => setImmediate(r));
    }
  };

  const onConnection = (sock: net.Socket): void => {
    sockets.add(sock);
    sock.setNoDelay(true);
    const framer = new TcpFramer();
    let busy = false; // after stall/silent/endless we ignore whatever else comes on the connection
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk) => {
      let msgs: Buffer[];
      try {
        msgs = framer.push(chunk);
      } catch {
        sock.destroy();
        return;
      }
      for (const raw of msgs) {
        if (busy || sock.destroyed) return;
        const h = handle(raw, 'tcp', `${sock.remoteAddress}:${sock.remotePort}`);
        if (h === null) {
          sock.destroy();
          return;
        }
        const { action } = h;
        switch (action.type) {
          case 'reset':
            sock.resetAndDestroy();
            return;
          case 'silent':
            busy = true;
            return;
          case 'endless':
            busy = true;
            void endless(sock, h.q, action.perMessage ?? 100, action.intervalMs ?? 0);
            return;
          case 'close':
          case 'stall': {
            busy = true;
            for (const m of (h.msgs ?? []).slice(0, action.after)) sock.write(frame(m));
            if (action.type === 'close') sock.end();
            return;
          }
          case 'garbage':
            for (const m of h.msgs ?? []) sock.write(action.unframed ? m : frame(m));
            continue;
          default:
            for (const m of h.msgs ?? []) sock.write(frame(m));
        }
      }
    });
  };

  let server: net.Server | null = null;
  const openTcp = async (): Promise<void> => {
    if (server !== null) return;
    const s = net.createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ port, host, exclusive: true }, () => resolve());
    });
    server = s;
  };
  const closeTcp = async (): Promise<void> => {
    const s = server;
    if (s === null) return;
    server = null;
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  try {
    await openTcp();
  } catch (err) {
    udp.close();
    throw err;
  }

  return {
    host,
    port,
    address: `${host}:${port}`,
    zone: zoneText,
    get serial() {
      return serial;
    },
    counts,
    queries,
    soaRecord: () => soa,
    setZone,
    setScript(s) {
      script = s;
    },
    closeTcp,
    openTcp,
    waitFor(pred, timeoutMs = 10000, since = Date.now()) {
      const hit = queries.find((q) => q.at >= since && pred(q));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          since,
          resolve: (q: ReceivedQuery) => {
            clearTimeout(timer);
            resolve(q);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`fake primary ${zoneText}: no matching query within ${timeoutMs} ms (counts ${JSON.stringify(counts)})`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    async stop() {
      stopped = true;
      await closeTcp();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}
