// A test client for zone transfers out of a server (RFC 5936 AXFR, RFC 1995 IXFR, RFC 8945 TSIG):
// sends one AXFR/IXFR request over TCP or UDP, optionally TSIG-signed, and collects the response
// messages up to the end of the transfer (the closing SOA), an error rcode, or the connection's end.

import net from 'node:net';
import { Class, Opcode, Type } from '../../src/wire/constants.js';
import { decodeMessage, encodeMessage, type Message } from '../../src/wire/message.js';
import { nameFromText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { signMessage, TsigVerifier, type TsigKey } from '../../src/wire/tsig.js';
import { sendUdp, TcpFramer, frameTcp, type Endpoint } from './dnsclient.js';

export interface XfrRequest {
  zone: string;
  type: 'AXFR' | 'IXFR' | 'SOA';
  /** IXFR: the SOA serial we claim to have (the rest of the SOA is made up). */
  serial?: number;
  key?: TsigKey;
  /** Sign with this key but a corrupted MAC. */
  badMac?: boolean;
  udp?: boolean;
  id?: number;
  timeoutMs?: number;
  /** Sign at this time (Unix seconds) instead of now. */
  signedAt?: number;
  /** TCP: connect from this local address (e.g. 127.0.0.2, to test address ACLs). */
  localAddress?: string;
}

export interface XfrResult {
  messages: Message[];
  raw: Buffer[];
  /** Answer records of all messages, in order. */
  records: ResourceRecord[];
  rcode: number;
  /** TSIG of every message verified (when a key was given and nothing failed); else the error. */
  tsig: 'ok' | 'none' | string;
}

const soaSerial = (rr: ResourceRecord): number => rr.rdata.readUInt32BE(rr.rdata.length - 20);

export function buildXfrRequest(r: XfrRequest): { msg: Buffer; mac: Buffer | undefined } {
  const zone = nameFromText(r.zone.endsWith('.') ? r.zone : `${r.zone}.`);
  const type = r.type === 'AXFR' ? Type.AXFR : r.type === 'IXFR' ? Type.IXFR : Type.SOA;
  const authority: ResourceRecord[] = [];
  if (r.type === 'IXFR') {
    const mname = nameFromText('ns.invalid.');
    const rdata = Buffer.alloc(mname.length * 2 + 20);
    mname.copy(rdata, 0);
    mname.copy(rdata, mname.length);
    rdata.writeUInt32BE(r.serial ?? 0, mname.length * 2);
    authority.push({ owner: zone, type: Type.SOA, class: Class.IN, ttl: 0, rdata });
  }
  const id = r.id ?? Math.floor(Math.random() * 0x10000);
  let msg = encodeMessage({ id, flags: 0, opcode: Opcode.QUERY, rcode: 0, question: [{ name: zone, type, class: Class.IN }], answer: [], authority, additional: [] });
  let mac: Buffer | undefined;
  if (r.key) {
    const s = signMessage(msg, r.key, r.signedAt ?? Math.floor(Date.now() / 1000));
    msg = s.signed;
    mac = s.mac;
    if (r.badMac) {
      // The MAC is the 32 octets before original ID, error and other len (6) at the end.
      msg[msg.length - 7] ^= 0xff;
    }
  }
  return { msg, mac };
}

/** Whether the records so far make a complete transfer (AXFR, IXFR in either form, or one SOA). */
function complete(records: ResourceRecord[], type: XfrRequest['type'], firstMessageDone: boolean): boolean {
  if (records.length === 0) return firstMessageDone;
  if (records[0]!.type !== Type.SOA) return true;
  if (type === 'SOA') return true;
  const last = soaSerial(records[0]!);
  if (records.length === 1) return type === 'IXFR' && firstMessageDone;
  const incremental = type === 'IXFR' && records[1]!.type === Type.SOA;
  let n = 0;
  for (const rr of records) if (rr.type === Type.SOA && soaSerial(rr) === last) n++;
  return n >= (incremental ? 3 : 2);
}

export async function xfr(ep: Endpoint, r: XfrRequest): Promise<XfrResult> {
  const { msg, mac } = buildXfrRequest(r);
  const verifier = r.key && mac && !r.badMac ? new TsigVerifier(r.key, mac, () => Date.now() / 1000) : undefined;
  let tsigErr: string | undefined;
  const result = (raw: Buffer[]): XfrResult => {
    const messages = raw.map((b) => decodeMessage(b));
    if (verifier && tsigErr === undefined) {
      try {
        for (let i = 0; i < raw.length; i++) verifier.verify(raw[i]!, messages[i]!.tsig);
        verifier.finish();
      } catch (err) {
        tsigErr = (err as Error).message;
      }
    }
    return {
      messages,
      raw,
      records: messages.flatMap((m) => m.answer),
      rcode: messages[0]?.rcode ?? -1,
      tsig: !verifier ? 'none' : (tsigErr ?? 'ok'),
    };
  };
  if (r.udp) return result([await sendUdp(ep, msg, r.timeoutMs ?? 2000)]);
  return new Promise((resolve, reject) => {
    const raw: Buffer[] = [];
    const records: ResourceRecord[] = [];
    const framer = new TcpFramer();
    const sock = net.connect({ host: ep.host, port: ep.port, ...(r.localAddress ? { localAddress: r.localAddress } : {}) });
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err && raw.length === 0) reject(err);
      else resolve(result(raw));
    };
    const timer = setTimeout(() => finish(new Error(`transfer from ${ep.host}:${ep.port} timed out after ${raw.length} messages`)), r.timeoutMs ?? 30000);
    sock.on('connect', () => sock.write(frameTcp(msg)));
    sock.on('data', (chunk: Buffer) => {
      for (const m of framer.push(chunk)) {
        raw.push(m);
        const d = decodeMessage(m);
        if (d.rcode !== 0) return finish();
        records.push(...d.answer);
        if (complete(records, r.type, true)) return finish();
      }
    });
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error('connection closed')));
  });
}
