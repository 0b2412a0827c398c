// Outbound AXFR/IXFR requests (RFC 5936 4.2, RFC 1995, RFC 8945): who may transfer which zone, and
// the stream of signed messages that answers them. The TCP server writes that stream with
// backpressure; the records and messages come from src/xfr/outbound.ts.
//
// Checks, in Knot's order and with Knot 3.2's answers (checked against knotd):
//   undecodable                 FORMERR (header only) or dropped
//   TSIG fails                  NOTAUTH, with the TSIG error in a TSIG RR (RFC 8945 5.2)
//   not a zone we serve         NOTAUTH
//   allow-transfer denies       NOTAUTH (Knot; BIND says REFUSED)
//   zone loading or expired     SERVFAIL
//   AXFR over UDP               NOTIMP (answered by the Responder, before any of this)
//   IXFR over UDP               our SOA only (RFC 1995 2: what does not fit in UDP is not sent)
//   IXFR without an SOA         FORMERR
//   too many transfers at once  SERVFAIL (BIND's answer past transfers-out)
// Every response to a request with a valid TSIG is signed with its key; an AXFR/IXFR stream is
// signed message by message (RFC 8945 5.3.1).

import { matchAcl } from '../config/acl.js';
import type { AclEntry, TsigKeyConfig } from '../config/types.js';
import { Class, Rcode, Type } from '../wire/constants.js';
import { WireFormatError } from '../wire/errors.js';
import { decodeMessage, type Message } from '../wire/message.js';
import { nameEquals, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { signResponse, tsigErrorResponse, TsigError, TsigSigner, verifyRequest } from '../wire/tsig.js';
import type { Changeset } from '../zone/changeset.js';
import { nameKey, type Zone } from '../zone/zone.js';
import { UnservedZone, type ZoneTable } from '../zone/zone-table.js';
import { axfrRecords, bareResponse, ixfrRecords, packMessages, planIxfr, soaRecord, type ResponseHeader } from '../xfr/outbound.js';

/** What a transfer request gets: one message, a stream of messages, or nothing (dropped). */
export type TransferReply = Buffer | Iterator<Buffer, void, undefined> | null;

/** Answers AXFR/IXFR requests (`msg`) from `remote` (an IP address). */
export type TransferHandler = (msg: Buffer, remote: string, tcp: boolean) => TransferReply;

/** Enough of a pino logger. */
export interface XfrServerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface XfrServerDeps {
  table: ZoneTable;
  /** The allow-transfer ACL of a configured zone (lower-case name, final dot), or undefined. */
  acl(zone: string): readonly AclEntry[] | undefined;
  /** TSIG keys by lower-case name with the final dot. */
  keys(): ReadonlyMap<string, TsigKeyConfig>;
  /** The zone's history for IXFR, if any. */
  history(zone: string): { chain(from: number, to: number): readonly Changeset[] | undefined } | undefined;
  logger: XfrServerLogger;
  /** Concurrent outbound transfers (default 10). */
  maxTransfers?: number;
  /** UDP payload we advertise in OPT (the server's). */
  udpPayload?: number;
  /** Unix seconds (tests). */
  now?: () => number;
  /** Octets per message before TSIG (default 16 KiB). */
  messageSize?: number;
}

/** The qtype of a query's single question when it is AXFR or IXFR (opcode QUERY, QR clear), else 0. */
export function transferType(msg: Buffer): number {
  if (msg.length < 17 || (msg[2]! & 0xf8) !== 0 || msg.readUInt16BE(4) !== 1) return 0;
  let p = 12;
  for (;;) {
    const l = msg[p];
    if (l === undefined || l > 63) return 0;
    p += l + 1;
    if (l === 0) break;
  }
  if (p + 2 > msg.length) return 0;
  const t = msg.readUInt16BE(p);
  return t === Type.AXFR || t === Type.IXFR ? t : 0;
}

type Counts = Record<string, number>;

export class XfrServer {
  private active = 0;
  /** Outbound transfers by "KIND:result" (ok, aborted, refused, ...), for /metrics. */
  readonly counts: Counts = {};

  constructor(private readonly d: XfrServerDeps) {}

  get running(): number {
    return this.active;
  }

  readonly handle: TransferHandler = (raw, remote, tcp) => {
    let msg: Message;
    try {
      msg = decodeMessage(raw);
    } catch (err) {
      if (!(err instanceof WireFormatError) || raw.length < 12) return null;
      const b = Buffer.alloc(12);
      raw.copy(b, 0, 0, 2);
      b.writeUInt16BE(0x8000 | Rcode.FORMERR, 2);
      return b;
    }
    const q = msg.question[0]!;
    const kind = q.type === Type.AXFR ? 'AXFR' : 'IXFR';
    const zoneName = nameToText(q.name).toLowerCase();
    const qbytes = Buffer.alloc(q.name.length + 4);
    q.name.copy(qbytes, 0);
    qbytes.writeUInt16BE(q.type, q.name.length);
    qbytes.writeUInt16BE(q.class, q.name.length + 2);
    const header: ResponseHeader = { id: msg.id, rd: (msg.flags & 0x0100) !== 0, question: qbytes, ednsPayload: msg.edns ? (this.d.udpPayload ?? 1232) : undefined, ednsDo: msg.edns?.do };
    const now = this.d.now?.() ?? Math.floor(Date.now() / 1000);
    const fields = { zone: zoneName, op: 'transfer-out', kind, remote, transport: tcp ? 'tcp' : 'udp' };
    const refuse = (rcode: number, reason: string, sign: (b: Buffer) => Buffer = (b) => b): Buffer => {
      bump(this.counts, `${kind}:refused`);
      this.d.logger.warn({ ...fields, rcode: RCODES[rcode] ?? rcode, reason }, 'transfer request refused');
      return sign(bareResponse(header, rcode));
    };

    // TSIG first (RFC 8945 5.2): a bad signature is answered as such, whatever was asked.
    let keyName: string | undefined;
    let signer: TsigSigner | undefined;
    let sign = (b: Buffer): Buffer => b;
    if (msg.tsig !== undefined) {
      try {
        const v = verifyRequest(raw, msg.tsig, this.d.keys(), now);
        keyName = v.key.name;
        const { key, mac } = v;
        signer = new TsigSigner(key, mac);
        sign = (b) => signResponse(b, key, mac, now).signed;
      } catch (err) {
        if (!(err instanceof TsigError)) throw err;
        return refuse(err.rcode, `TSIG: ${err.message}`, (b) => tsigErrorResponse(b, msg.tsig!, err, now));
      }
    }
    if (msg.question.length !== 1 || q.class !== Class.IN) return refuse(Rcode.FORMERR, 'not one question of class IN', sign);
    const acl = this.d.acl(zoneName);
    const entry = this.d.table.get(nameKey(q.name));
    if (acl === undefined || entry === undefined) return refuse(Rcode.NOTAUTH, 'not a zone we serve', sign);
    if (!matchAcl(acl, remote, keyName)) {
      const why = acl.length === 0 ? 'allow-transfer is not set for the zone' : keyName === undefined ? 'source not in allow-transfer (or the key is missing)' : `source or key ${keyName} not in allow-transfer`;
      return refuse(Rcode.NOTAUTH, why, sign);
    }
    if (entry instanceof UnservedZone) return refuse(Rcode.SERVFAIL, `zone ${entry.why}`, sign);
    const zone = entry;

    let clientSerial: number | undefined;
    if (kind === 'IXFR') {
      const soa = msg.authority.find((rr) => rr.type === Type.SOA && nameEquals(rr.owner, q.name) && rr.rdata.length >= 22);
      if (soa === undefined) return refuse(Rcode.FORMERR, 'IXFR without an SOA in the authority section', sign);
      clientSerial = soa.rdata.readUInt32BE(soa.rdata.length - 20);
    }
    if (!tcp) {
      // RFC 1995 2: over UDP, only what fits; Knot sends its SOA whatever the client has.
      bump(this.counts, `${kind}:udp-soa`);
      this.d.logger.info({ ...fields, serial: zone.serial, clientSerial }, 'IXFR over UDP answered with the SOA');
      return sign(packOne(zone, header));
    }
    const limit = this.d.maxTransfers ?? 10;
    if (this.active >= limit) return refuse(Rcode.SERVFAIL, `${limit} outbound transfers already running`, sign);

    let records: Iterable<ResourceRecord>;
    let form: string;
    if (clientSerial === undefined) {
      records = axfrRecords(zone);
      form = 'AXFR';
    } else {
      const plan = planIxfr(zone, clientSerial, this.d.history(zoneName));
      if (plan.kind === 'current') {
        records = [soaRecord(zone)];
        form = 'up-to-date';
      } else if (plan.kind === 'incremental') {
        records = ixfrRecords(zone, plan.changesets);
        form = `incremental (${plan.changesets.length} changesets)`;
      } else {
        records = axfrRecords(zone);
        form = 'AXFR (no history from that serial)';
      }
    }
    return this.stream(records, header, signer, { ...fields, serial: zone.serial, ...(clientSerial !== undefined ? { clientSerial } : {}), form });
  };

  /** The messages of one transfer, signed; counts it as running until done or abandoned. */
  private *stream(records: Iterable<ResourceRecord>, header: ResponseHeader, signer: TsigSigner | undefined, fields: Record<string, unknown>): Generator<Buffer, void, undefined> {
    this.active++;
    const started = performance.now();
    let messages = 0;
    let bytes = 0;
    let count = 0;
    let done = false;
    const counting = function* (rs: Iterable<ResourceRecord>): Generator<ResourceRecord> {
      for (const rr of rs) {
        count++;
        yield rr;
      }
    };
    // Room for the TSIG RR: owner, fixed fields, algorithm name, times, MAC (64 octets at most).
    const reserve = signer ? 255 + 10 + 40 + 16 + 64 : 0;
    this.d.logger.info(fields, 'transfer started');
    try {
      for (const m of packMessages(counting(records), header, { reserve, ...(this.d.messageSize ? { maxSize: this.d.messageSize } : {}) })) {
        const out = signer ? signer.sign(m, this.d.now?.() ?? Math.floor(Date.now() / 1000)) : m;
        messages++;
        bytes += out.length;
        yield out;
      }
      done = true;
    } finally {
      this.active--;
      const kind = String(fields['kind']);
      bump(this.counts, `${kind}:${done ? 'ok' : 'aborted'}`);
      const log = { ...fields, records: count, messages, bytes, durationMs: Math.round(performance.now() - started) };
      if (done) this.d.logger.info(log, 'transfer done');
      else this.d.logger.warn(log, 'transfer aborted (connection closed or server stopping)');
    }
  }
}

/** One message holding the zone's SOA (IXFR over UDP). */
function packOne(zone: Zone, header: ResponseHeader): Buffer {
  for (const m of packMessages([soaRecord(zone)], header)) return m;
  throw new Error('unreachable');
}

function bump(counts: Counts, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const RCODES: Record<number, string> = { [Rcode.FORMERR]: 'FORMERR', [Rcode.SERVFAIL]: 'SERVFAIL', [Rcode.NOTAUTH]: 'NOTAUTH', [Rcode.NOTIMP]: 'NOTIMP', [Rcode.REFUSED]: 'REFUSED' };
