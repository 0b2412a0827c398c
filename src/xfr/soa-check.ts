// Checking a primary's answer to our SOA query: the refresh check of RFC 1034 4.3.5, also run on NOTIFY (RFC 1996).
//
// The answer decides whether we transfer, so it must really be the primary's authoritative word on
// this zone: our ID, our question echoed, NOERROR, AA set, and exactly one SOA owned by the zone name
// in the answer section. TC (RFC 2181 9) is reported rather than failed: the driver asks again over
// TCP, as BIND and Knot do.

import { Flag, Type } from '../wire/constants.js';
import { nameEquals, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { TransferError } from './errors.js';
import type { MessageVerifier } from './errors.js';
import { checkResponse, decodeResponse, finishTsig } from './response.js';

/** The numbers of an SOA record (RFC 1035 3.3.13). */
export interface SoaFields {
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** The five numbers at the end of SOA RDATA. Throws TransferError('malformed') if it is too short. */
export function soaFields(rdata: Buffer): SoaFields {
  // Two names of at least one octet each, then 20 octets (the decoder checks the layout exactly).
  if (rdata.length < 22) throw new TransferError('malformed', `SOA RDATA of ${rdata.length} octets is too short`);
  const o = rdata.length - 20;
  return {
    serial: rdata.readUInt32BE(o),
    refresh: rdata.readUInt32BE(o + 4),
    retry: rdata.readUInt32BE(o + 8),
    expire: rdata.readUInt32BE(o + 12),
    minimum: rdata.readUInt32BE(o + 16),
  };
}

export interface SoaCheckOptions {
  /** Zone name (wire form) we asked about. */
  zone: Buffer;
  /** ID of our query. */
  id: number;
  /** TSIG verifier for this exchange, when the primary has a key. */
  verifier?: MessageVerifier;
}

export interface SoaCheckAnswer extends SoaFields {
  truncated: false;
  /** The SOA record as received. */
  soa: ResourceRecord;
}

/** TC was set: nothing else in the message counts; ask again over TCP. */
export interface SoaCheckTruncated {
  truncated: true;
}

export type SoaCheckResult = SoaCheckAnswer | SoaCheckTruncated;

/**
 * Validate the response to an SOA query (built by soaQuery). Returns the serial and timers, or
 * `{ truncated: true }`; throws TransferError otherwise. Over UDP a driver should treat reason
 * 'bad-id' as "not our answer" and keep waiting rather than fail; over TCP it is a failure.
 */
export function checkSoaResponse(raw: Buffer, opts: SoaCheckOptions): SoaCheckResult {
  const msg = decodeResponse(raw);
  checkResponse(raw, msg, { zone: opts.zone, id: opts.id, qtype: Type.SOA }, opts.verifier, true);
  if (msg.flags & Flag.TC) return { truncated: true };
  finishTsig(opts.verifier);
  // RFC 1034 4.3.5: only an authoritative answer may start a transfer (a cache's SOA would not do).
  if ((msg.flags & Flag.AA) === 0) throw new TransferError('not-authoritative', 'AA bit clear in the SOA answer');
  let soa: ResourceRecord | undefined;
  for (const rr of msg.answer) {
    if (rr.type !== Type.SOA || !nameEquals(rr.owner, opts.zone)) continue; // e.g. an RRSIG beside it
    if (rr.class !== 1) throw new TransferError('malformed', `SOA of class ${rr.class} in the answer`);
    if (soa) throw new TransferError('malformed', `more than one SOA for ${nameToText(opts.zone)} in the answer`);
    soa = rr;
  }
  if (!soa) throw new TransferError('no-soa', `no SOA for ${nameToText(opts.zone)} in the answer`);
  return { truncated: false, soa, ...soaFields(soa.rdata) };
}
