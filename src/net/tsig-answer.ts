// TSIG on ordinary queries (RFC 8945 5.2, 5.3): a secondary downstream of us (Knot, BIND) signs its
// SOA queries with the transfer key and rejects an unsigned answer. The Responder answers as usual
// (it only notes where the TSIG is); this verifies the request's TSIG and signs the answer, or turns
// it into NOTAUTH carrying the TSIG error. Off the hot path: only requests with a TSIG come here.

import type { TsigKeyConfig } from '../config/types.js';
import { Rcode } from '../wire/constants.js';
import { findTsig, signResponse, tsigErrorResponse, TsigError, verifyRequest } from '../wire/tsig.js';

/** Sign `response` to the signed `request` (question ends at `questionEnd`), or answer the TSIG error. */
export type TsigAnswer = (request: Buffer, response: Buffer, questionEnd: number) => Buffer;

export function tsigAnswerer(keys: () => ReadonlyMap<string, TsigKeyConfig>, clock: () => number = () => Math.floor(Date.now() / 1000)): TsigAnswer {
  return (request, response, questionEnd) => {
    const now = clock();
    let tsig;
    try {
      tsig = findTsig(request);
    } catch {
      tsig = undefined;
    }
    if (tsig === undefined) return response; // the Responder already said what it thinks (FORMERR)
    try {
      const v = verifyRequest(request, tsig, keys(), now);
      return signResponse(response, v.key, v.mac, now).signed;
    } catch (err) {
      if (!(err instanceof TsigError)) throw err;
      // Header and question only, with the TSIG's rcode (NOTAUTH; FORMERR for a malformed TSIG).
      const bare = Buffer.from(response.subarray(0, Math.min(questionEnd, response.length)));
      bare.writeUInt16BE((bare.readUInt16BE(2) & ~0x060f) | (err.rcode & 0xf), 2); // AA and TC cleared too
      bare.writeUInt16BE(questionEnd <= response.length && bare.readUInt16BE(4) > 0 ? 1 : 0, 4);
      bare.writeUInt32BE(0, 6);
      bare.writeUInt16BE(0, 10);
      return err.rcode === Rcode.FORMERR ? bare : tsigErrorResponse(bare, tsig, err, now);
    }
  };
}
