// Checks every response message of an SOA check or a transfer shares (RFC 1035 4.1.1, RFC 5936 2.2,
// RFC 8945 5.3): decodes, ID, QR, opcode, TSIG, rcode and the echoed question, each failure a
// TransferError with its reason.

import { Class, Flag, Opcode } from '../wire/constants.js';
import { WireFormatError } from '../wire/errors.js';
import { decodeMessage } from '../wire/message.js';
import type { Message } from '../wire/message.js';
import { nameEquals, nameToText } from '../wire/name.js';
import { rcodeReason, TransferError } from './errors.js';
import type { MessageVerifier } from './errors.js';

export interface Expected {
  zone: Buffer;
  id: number;
  qtype: number;
}

/** Decode `raw` (see DecodeOptions for `lazyAnswer`), turning any malformation into reason 'malformed'. */
export function decodeResponse(raw: Buffer, lazyAnswer = false): Message {
  try {
    return decodeMessage(raw, { lazyAnswer });
  } catch (err) {
    if (err instanceof WireFormatError) throw new TransferError('malformed', `undecodable response: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

/** Run the verifier on one message; any error it throws becomes reason 'tsig'. */
export function verifyTsig(verifier: MessageVerifier | undefined, raw: Buffer, msg: Message): void {
  if (!verifier) return;
  try {
    verifier.verify(raw, msg);
  } catch (err) {
    throw new TransferError('tsig', `TSIG check failed: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** End of the exchange for the verifier (RFC 8945 5.3.1: the last message must be signed). */
export function finishTsig(verifier: MessageVerifier | undefined): void {
  if (!verifier) return;
  try {
    verifier.finish();
  } catch (err) {
    throw new TransferError('tsig', `TSIG check failed at the end of the response: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/**
 * Checks one decoded response, in this order: ID, QR and opcode, TSIG, rcode, question. The ID comes
 * first because a message with another ID is not an answer to us at all (a UDP driver drops it and
 * keeps waiting); TSIG comes before the rcode so that a forged REFUSED cannot pass for the primary's
 * word; the rcode comes before the question because error responses (FORMERR in particular) may
 * carry no question. `questionRequired` is false for the second and later messages of a transfer,
 * which RFC 5936 2.2.1 lets the server send without one.
 */
export function checkResponse(
  raw: Buffer,
  msg: Message,
  want: Expected,
  verifier: MessageVerifier | undefined,
  questionRequired: boolean,
): void {
  if (msg.id !== want.id) throw new TransferError('bad-id', `response ID ${msg.id} does not match query ID ${want.id}`);
  if ((msg.flags & Flag.QR) === 0) throw new TransferError('malformed', 'QR bit clear in a response');
  if (msg.opcode !== Opcode.QUERY) throw new TransferError('malformed', `response opcode ${msg.opcode} is not QUERY`);
  verifyTsig(verifier, raw, msg);
  if (msg.rcode !== 0) throw new TransferError(rcodeReason(msg.rcode), `primary answered rcode ${msg.rcode}`, msg.rcode);
  if (msg.question.length > 1) throw new TransferError('bad-question', `${msg.question.length} questions in the response`);
  if (msg.question.length === 0) {
    if (questionRequired) throw new TransferError('bad-question', 'response carries no question');
    return;
  }
  const q = msg.question[0]!;
  // Names compare case-insensitively (RFC 4343): a server may echo our 0x20 spelling or its own.
  if (!nameEquals(q.name, want.zone) || q.type !== want.qtype || q.class !== Class.IN) {
    throw new TransferError(
      'bad-question',
      `response question ${nameToText(q.name)} type ${q.type} class ${q.class} does not echo ${nameToText(want.zone)} type ${want.qtype}`,
    );
  }
}
