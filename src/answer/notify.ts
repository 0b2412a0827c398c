// NOTIFY requests from primaries (RFC 1996 3.7-3.11, 4.7), off the query hot path.
//
// A NOTIFY is answered with the same ID, QR and AA, opcode NOTIFY and the question echoed. It is
// accepted only for a zone we pull, from a source the zone's allow-notify lets in, carrying a valid
// TSIG when that entry names a key; then the refresh code is told (it checks the SOA at once).
// Everything else gets NOTAUTH (not our zone, bad TSIG) or REFUSED (source not allowed), and a reason
// for the log line.

import { Flag, Opcode, Rcode, Type } from '../wire/constants.js';
import { WireFormatError } from '../wire/errors.js';
import { decodeMessage, encodeMessage, type Message } from '../wire/message.js';
import { nameToText } from '../wire/name.js';

/** What the daemon knows about NOTIFY for one zone. */
export interface NotifyPolicy {
  /** Is `address` (with the key that signed the message, if any) allowed to NOTIFY this zone? */
  allowed(address: string, keyName: string | undefined): boolean;
  /** Called for an accepted NOTIFY, with the SOA serial it carried (RFC 1996 3.7), if any. */
  notify(remote: string, serial: number | undefined): void;
}

/** TSIG on the request: the key that signed it, or a TSIG error; sign the response with it. */
export interface NotifyTsig {
  verify(raw: Buffer, msg: Message): { keyName: string; sign(response: Buffer): Buffer } | { error: string; rcode: number };
}

export interface NotifyOutcome {
  /** The response to send, or null to send nothing (not even a FORMERR could be formed). */
  response: Buffer | null;
  /** Zone name (lower case, final dot) when the question parsed. */
  zone?: string;
  accepted: boolean;
  /** Why it was refused, for the log. */
  reason?: string;
  serial?: number;
}

/**
 * Handle one NOTIFY message from `address`. `policyOf` finds the policy of the zone named in the
 * question (lower-case text with the final dot), undefined when we do not pull that zone.
 */
export function handleNotify(raw: Buffer, address: string, policyOf: (zone: string) => NotifyPolicy | undefined, tsig: NotifyTsig): NotifyOutcome {
  let msg: Message;
  try {
    msg = decodeMessage(raw);
  } catch (err) {
    if (!(err instanceof WireFormatError) || raw.length < 12) return { response: null, accepted: false, reason: 'malformed' };
    return { response: header(raw.readUInt16BE(0), Rcode.FORMERR), accepted: false, reason: `malformed: ${err.message}` };
  }
  const q = msg.question[0];
  if (msg.question.length !== 1 || q === undefined || q.type !== Type.SOA) {
    return { response: reply(msg, Rcode.FORMERR), accepted: false, reason: 'NOTIFY without one SOA question' };
  }
  const zone = nameToText(q.name).toLowerCase();
  let keyName: string | undefined;
  let sign = (b: Buffer): Buffer => b;
  if (msg.tsig !== undefined) {
    const v = tsig.verify(raw, msg);
    if ('error' in v) return { response: reply(msg, Rcode.NOTAUTH), zone, accepted: false, reason: `TSIG: ${v.error}` };
    keyName = v.keyName;
    sign = v.sign;
  }
  const policy = policyOf(zone);
  if (policy === undefined) return { response: sign(reply(msg, Rcode.NOTAUTH)), zone, accepted: false, reason: 'not a zone we pull' };
  if (!policy.allowed(address, keyName)) {
    const why = keyName === undefined ? 'source not in allow-notify (or the key is missing)' : `source or key ${keyName} not in allow-notify`;
    return { response: sign(reply(msg, Rcode.REFUSED)), zone, accepted: false, reason: why };
  }
  const soa = msg.answer.find((r) => r.type === Type.SOA);
  const serial = soa !== undefined && soa.rdata.length >= 20 ? soa.rdata.readUInt32BE(soa.rdata.length - 20) : undefined;
  policy.notify(address, serial);
  return { response: sign(reply(msg, Rcode.NOERROR)), zone, accepted: true, ...(serial !== undefined ? { serial } : {}) };
}

/** The NOTIFY response: ID, opcode, question echoed, QR and AA set (RFC 1996 4.7). */
function reply(msg: Message, rcode: number): Buffer {
  return encodeMessage({
    id: msg.id,
    flags: Flag.QR | Flag.AA,
    opcode: Opcode.NOTIFY,
    rcode,
    question: msg.question,
    answer: [],
    authority: [],
    additional: [],
  });
}

function header(id: number, rcode: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(Flag.QR | (Opcode.NOTIFY << 11) | rcode, 2);
  return b;
}
