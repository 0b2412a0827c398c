// The contract between the refresh logic and the network layer: SOA timers, check and transfer
// results, and the Executor the scheduler drives (RFC 1034 4.3.5, RFC 1995, RFC 5936).

import type { ZoneConfig } from '../config/types.js';
import type { Serial } from '../wire/serial.js';

export type { Serial };

/** The timer fields of an SOA RR, in seconds, as they are on the wire (RFC 1035 3.3.13). */
export interface SoaTimers {
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** What a transfer is asked to be. The executor falls back from IXFR to AXFR by itself (RFC 1995 4). */
export type TransferKind = 'IXFR' | 'AXFR';

/**
 * Why something failed: `reason` is a stable code ("timeout", "refused", "notauth",
 * "tsig", "malformed", ...: src/xfr/errors.ts) that metrics and alerts key on; `message` is for people.
 * `primary` is the primary (as "host:port", "[v6]:port") last tried, when there was one.
 */
export interface Failure {
  readonly ok: false;
  readonly reason: string;
  readonly message: string;
  readonly primary?: string;
}

/** An SOA query to the primaries (tried in order): the serial of the first that answered. */
export type SoaResult = { readonly ok: true; readonly serial: Serial; readonly primary: string } | Failure;

/**
 * A finished transfer. `ok` means the new contents are already published (or, for UPTODATE, the
 * primary said by IXFR that we hold its current version); `serial` and `soa` are those of the zone
 * now served.
 */
export type TransferResult =
  | {
      readonly ok: true;
      readonly serial: Serial;
      readonly kind: 'AXFR' | 'IXFR' | 'UPTODATE';
      readonly soa: SoaTimers;
      readonly primary?: string;
    }
  | Failure;

/**
 * The network side, implemented in src/net. Promises should resolve (not reject) with a Failure;
 * a rejection is turned into one (reason = the error's `code`, else "executor"). Both operations
 * must stop promptly once `signal` aborts.
 */
export interface Executor {
  /** Query the zone's primaries for its SOA serial; `primary` ("host:port"), when given, first: it
   * sent the NOTIFY, and RFC 1996 asks to query the notifier since the others may lag behind it. */
  checkSoa(zone: ZoneConfig, signal: AbortSignal, primary?: string): Promise<SoaResult>;
  /**
   * Transfer the zone and publish it. `fromSerial` is the served serial for IXFR (absent for AXFR);
   * `primary` ("host:port"), when known, is the one whose SOA showed the newer serial: try it first,
   * the others may not have the new version yet.
   */
  transfer(zone: ZoneConfig, kind: TransferKind, fromSerial: Serial | undefined, signal: AbortSignal, primary?: string): Promise<TransferResult>;
  /** EXPIRE passed without a successful check: stop serving the zone (answer SERVFAIL). A transfer
   * that succeeds later publishes the zone again. */
  expire(zone: ZoneConfig): void;
}
