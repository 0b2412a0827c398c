// Why an inbound transfer or SOA check failed: one closed set of reasons (RFC 1035 4.1.1 rcodes,
// RFC 1034 4.3.5, RFC 1995, RFC 1996, RFC 5936, RFC 8945) shared by the sessions, the refresh logic
// and monitoring.

import { Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';

/**
 * The closed set of failure reasons. The refresh code picks its next step from it (e.g. fall back
 * from IXFR to AXFR on 'inconsistent-ixfr', retry over TCP on 'truncated') and monitoring uses it as
 * a metric label, so it never grows without both being looked at.
 */
export type FailureReason =
  | 'timeout'
  | 'unreachable'
  | 'refused'
  | 'notauth'
  | 'servfail'
  | 'formerr'
  | 'notimp'
  | 'rcode'
  | 'bad-id'
  | 'bad-question'
  | 'not-authoritative'
  | 'no-soa'
  | 'malformed'
  | 'tsig'
  | 'too-many-records'
  | 'too-many-bytes'
  | 'bad-first-record'
  | 'out-of-zone'
  | 'serial-mismatch'
  | 'inconsistent-ixfr'
  | 'truncated';

/** Every FailureReason, for metrics that want all label values present from the start. */
export const FAILURE_REASONS: readonly FailureReason[] = [
  'timeout', 'unreachable', 'refused', 'notauth', 'servfail', 'formerr', 'notimp', 'rcode', 'bad-id', 'bad-question',
  'not-authoritative', 'no-soa', 'malformed', 'tsig', 'too-many-records', 'too-many-bytes',
  'bad-first-record', 'out-of-zone', 'serial-mismatch', 'inconsistent-ixfr', 'truncated',
];

/** A failed transfer or SOA check. `code` is stable for every instance; `reason` says why. */
export class TransferError extends Error {
  readonly code = 'ERR_TRANSFER';
  constructor(
    readonly reason: FailureReason,
    message: string,
    /** The response rcode when the failure is an error rcode. */
    readonly rcode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransferError';
  }
}

/**
 * Reason for a response rcode other than NOERROR. NOTAUTH is its own reason because it is what a
 * primary answers when it does not serve the zone (Knot) or when TSIG failed (RFC 8945 5.3).
 */
export function rcodeReason(rcode: number): FailureReason {
  switch (rcode) {
    case Rcode.REFUSED:
      return 'refused';
    case Rcode.NOTAUTH:
      return 'notauth';
    case Rcode.SERVFAIL:
      return 'servfail';
    case Rcode.FORMERR:
      return 'formerr';
    case Rcode.NOTIMP:
      return 'notimp';
    default:
      return 'rcode';
  }
}

/**
 * Checks a response's TSIG (RFC 8945 5.3). The TSIG code itself lives elsewhere; the sessions only
 * need this much. Both methods throw on failure (any error becomes reason 'tsig').
 */
export interface MessageVerifier {
  /** Verify one response message: `raw` is the message as received, `msg` its decoding. */
  verify(raw: Buffer, msg: Message): void;
  /** Called once after the last message: throws if the stream ended unsigned (RFC 8945 5.3.1). */
  finish(): void;
}
