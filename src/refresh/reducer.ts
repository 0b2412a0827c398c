// The per-zone refresh state machine as a pure reducer, step(state, event, now) -> (state, effects):
// RFC 1034 4.3.5 (REFRESH/RETRY/EXPIRE), RFC 1996 (NOTIFY), RFC 1995 (IXFR), RFC 1982 (serials).
//
//   start, no data              start, data from disk
//        |                            |
//        v         AXFR ok            v     timer, NOTIFY, command       SOA newer: IXFR/AXFR
//     loading ------------------->  fresh ------------------------> refreshing --+ (stays
//      |    ^                        ^ ^                              |  ^  ^----+ refreshing)
//      +----+ AXFR failed:           | +-- SOA = ours, transfer ok ---+  |
//             retry with backoff     |                                |  | timer, NOTIFY,
//                                    |     failed, or primary serial  v  | command
//                                    |     behind ours (RFC 1982)   retrying
//                                    |                                |
//                                    |          EXPIRE passed, from   v
//                                    +-- AXFR ok ---------------- expired --+ AXFR failed:
//                                                any serving state    ^-----+ retry with backoff
//
// `status` says what is served: loading and expired serve nothing (so they skip the SOA query and
// transfer AXFR at once, like Knot's bootstrap), fresh/refreshing/retrying serve `servedSerial`.
// Whether an operation is running is `inFlight`, which is also set while loading or expired.
// One operation per zone at a time; what arrives meanwhile sets `pendingNotify` and is served by
// exactly one more check afterwards. Times are absolute milliseconds; the driver owns the clock.

import { serialCompare, type Serial } from '../wire/serial.js';
import { clampTimers, firstCheckAt, nextRefreshAt, nextRetryAt, type RefreshTimers, type TimerClamps } from './timers.js';
import type { Failure, SoaResult, SoaTimers, TransferKind, TransferResult } from './types.js';

export type RefreshStatus = 'loading' | 'fresh' | 'refreshing' | 'retrying' | 'expired';

/** The last failure, for `secondaryd status` and alerts. */
export interface RefreshError {
  /** Stable code: the executor's (timeout, refused, ...: src/xfr/errors.ts) or ours (serial-backwards, ...). */
  readonly reason: string;
  readonly message: string;
  readonly at: number;
  readonly op: 'soa' | 'transfer';
  readonly primary?: string;
}

/** A primary answered with a serial that is not newer than ours and not equal (RFC 1982 3.2). */
export interface SerialRegression {
  readonly ours: Serial;
  readonly theirs: Serial;
  readonly primary: string;
  readonly at: number;
  /** Exactly half the serial space apart: RFC 1982 leaves the order undefined. */
  readonly incomparable: boolean;
}

export type Operation =
  | { readonly op: 'soa'; readonly since: number }
  | { readonly op: 'transfer'; readonly kind: TransferKind; readonly fromSerial?: Serial; readonly since: number };

export interface ZoneRefreshState {
  readonly status: RefreshStatus;
  /** The zone's clamps on the SOA timers (seconds), from its config. */
  readonly clamps: TimerClamps;
  /** The serial being served; null while loading and once expired. */
  readonly servedSerial: Serial | null;
  /** Timers of the last SOA we served (kept after expiry: they still pace the retries). */
  readonly soa: SoaTimers | null;
  /** Serial last seen on a primary, and which primary ("host:port"). */
  readonly primarySerial: Serial | null;
  readonly primary: string | null;
  /** Since when a primary has reported a serial newer than the one we serve (cleared when we catch
   * up): how long our copy has been behind, for the stale state and its alert. */
  readonly primaryAheadSince: number | null;
  /** The serial each primary ("host:port") last reported, and when: by SOA check or transfer. */
  readonly primarySerials: Readonly<Record<string, { readonly serial: Serial; readonly at: number }>>;
  /** Serial carried by the last NOTIFY, when it carried one. */
  readonly notifiedSerial: Serial | null;
  /** Time of the last successful check (SOA serial equal, or transfer). */
  readonly lastRefreshed: number | null;
  /** When the served data stops being served without a successful check (kept after expiry). */
  readonly expiresAt: number | null;
  /** When the next check or retry is due; null while an operation runs. */
  readonly nextAttemptAt: number | null;
  /** Attempts in a row that did not succeed. */
  readonly failures: number;
  readonly lastError: RefreshError | null;
  /** Set while the primary's serial is behind ours (or incomparable); cleared by any success. */
  readonly serialWentBackwards: SerialRegression | null;
  /** A NOTIFY or command arrived while busy: check once more when the operation ends. */
  readonly pendingNotify: boolean;
  readonly inFlight: Operation | null;
  /** The operator asked for a full AXFR; cleared only by a successful AXFR. */
  readonly forceAxfr: boolean;
  /** After `stop`, every event is ignored. */
  readonly stopped: boolean;
}

/** Data found on disk at startup (written by the state store). */
export interface LoadedZone {
  readonly serial: Serial;
  readonly soa: SoaTimers;
  readonly lastRefreshed: number;
  readonly expiresAt: number;
}

export type RefreshEvent =
  | { readonly type: 'start'; readonly loaded?: LoadedZone }
  | { readonly type: 'timer' }
  | { readonly type: 'notify'; readonly serial?: Serial; readonly primary?: string }
  | { readonly type: 'refreshCommand' }
  | { readonly type: 'retransferCommand' }
  | { readonly type: 'soaResult'; readonly result: SoaResult }
  | { readonly type: 'transferResult'; readonly result: TransferResult }
  | { readonly type: 'stop' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Effect =
  /** Query the primaries' SOA; `primary` first when given (it sent the NOTIFY). */
  | { readonly type: 'checkSoa'; readonly primary?: string }
  | { readonly type: 'transfer'; readonly kind: TransferKind; readonly fromSerial?: Serial; readonly primary?: string }
  /** The zone's one timer: replaces whatever timer was set before. */
  | { readonly type: 'setTimer'; readonly at: number }
  | { readonly type: 'clearTimer' }
  /** Abort the operation in flight (only on stop). */
  | { readonly type: 'abort' }
  /** Stop serving the zone. */
  | { readonly type: 'expire' }
  | { readonly type: 'log'; readonly level: LogLevel; readonly msg: string; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly type: 'stateChanged'; readonly from: RefreshStatus; readonly to: RefreshStatus };

export interface Env {
  /** Uniform in [0, 1); injected so tests are exact. */
  random(): number;
}

export interface StepResult {
  readonly state: ZoneRefreshState;
  readonly effects: readonly Effect[];
}

/** A zone before its `start` event. */
export function initialState(clamps: TimerClamps): ZoneRefreshState {
  return {
    status: 'loading',
    clamps,
    servedSerial: null,
    soa: null,
    primarySerial: null,
    primary: null,
    primaryAheadSince: null,
    primarySerials: {},
    notifiedSerial: null,
    lastRefreshed: null,
    expiresAt: null,
    nextAttemptAt: null,
    failures: 0,
    lastError: null,
    serialWentBackwards: null,
    pendingNotify: false,
    inFlight: null,
    forceAxfr: false,
    stopped: false,
  };
}

/** The clamped timers a state runs on, in milliseconds. */
export function timersOf(state: ZoneRefreshState): RefreshTimers {
  return clampTimers(state.soa, state.clamps);
}

function isSerial(n: unknown): n is Serial {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

type Draft = { -readonly [K in keyof ZoneRefreshState]: ZoneRefreshState[K] };

/** One step's working copy: the state being built and the effects collected on the way. */
class Step {
  readonly fx: Effect[] = [];
  constructor(
    readonly d: Draft,
    readonly now: number,
    readonly env: Env,
  ) {}

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    this.fx.push({ type: 'log', level, msg, fields });
  }

  /** RFC 1034 4.3.5: past EXPIRE without a successful check the data is no longer authoritative.
   * Checked on every event, not only the timer, so a late timer cannot keep stale data served. */
  expireIfDue(): void {
    const d = this.d;
    if (d.servedSerial === null || d.expiresAt === null || this.now < d.expiresAt) return;
    this.log('error', 'zone expired: no successful refresh within EXPIRE, no longer served', { op: 'expire', serial: d.servedSerial });
    this.fx.push({ type: 'expire' });
    d.servedSerial = null;
    d.status = 'expired';
  }

  /** Start the next check. Without data (loading, expired) or when the operator asked for a full
   * transfer an SOA query tells us nothing we would act on, so go straight to AXFR. */
  beginAttempt(primary?: string): void {
    const d = this.d;
    d.nextAttemptAt = null;
    if (d.servedSerial === null || d.forceAxfr) {
      this.beginTransfer('AXFR', undefined, primary);
    } else {
      d.inFlight = { op: 'soa', since: this.now };
      this.fx.push(primary === undefined ? { type: 'checkSoa' } : { type: 'checkSoa', primary });
    }
    if (d.status === 'fresh' || d.status === 'retrying') d.status = 'refreshing';
    // The zone's one timer now guards the expiry: a check that hangs must not keep stale data served.
    if (d.servedSerial !== null && d.expiresAt !== null) this.fx.push({ type: 'setTimer', at: d.expiresAt });
    else this.fx.push({ type: 'clearTimer' });
  }

  beginTransfer(kind: TransferKind, fromSerial: Serial | undefined, primary: string | undefined): void {
    this.d.inFlight = fromSerial === undefined ? { op: 'transfer', kind, since: this.now } : { op: 'transfer', kind, fromSerial, since: this.now };
    const fx: { type: 'transfer'; kind: TransferKind; fromSerial?: Serial; primary?: string } = { type: 'transfer', kind };
    if (fromSerial !== undefined) fx.fromSerial = fromSerial;
    if (primary !== undefined) fx.primary = primary;
    this.fx.push(fx);
  }

  /** The operation ended and no follow-up started: honour a NOTIFY that came meanwhile (RFC 1996:
   * one more check, however many arrived), else sleep until the next attempt. */
  endOperation(): void {
    const d = this.d;
    d.inFlight = null;
    if (d.pendingNotify) {
      d.pendingNotify = false;
      this.beginAttempt();
      return;
    }
    if (d.nextAttemptAt !== null) this.fx.push({ type: 'setTimer', at: d.nextAttemptAt });
  }

  /** A successful check: the data is confirmed current until now + EXPIRE (RFC 1034 4.3.5). */
  succeeded(): void {
    const d = this.d;
    const t = timersOf(d);
    d.status = 'fresh';
    d.failures = 0;
    d.lastError = null;
    d.serialWentBackwards = null;
    d.lastRefreshed = this.now;
    d.expiresAt = this.now + t.expireMs;
    d.nextAttemptAt = nextRefreshAt(this.now, t, d.expiresAt, this.env.random());
    this.endOperation();
  }

  failed(op: 'soa' | 'transfer', r: Failure): void {
    const d = this.d;
    d.failures += 1;
    d.lastError = r.primary === undefined ? { reason: r.reason, message: r.message, at: this.now, op } : { reason: r.reason, message: r.message, at: this.now, op, primary: r.primary };
    // loading and expired stay as they are: they still have nothing to serve.
    if (d.status === 'refreshing') d.status = 'retrying';
    const expiresAt = d.servedSerial === null ? null : d.expiresAt;
    d.nextAttemptAt = nextRetryAt(this.now, timersOf(d), d.failures, expiresAt, this.env.random());
    this.log('warn', op === 'soa' ? 'SOA check failed' : 'zone transfer failed', {
      op,
      remote: r.primary,
      failures: d.failures,
      err: { code: r.reason, message: r.message },
      retryInMs: d.nextAttemptAt - this.now,
    });
    this.endOperation();
  }

  start(loaded: LoadedZone | undefined): void {
    const d = this.d;
    if (loaded === undefined || !isSerial(loaded.serial)) {
      d.status = 'loading';
      this.beginAttempt();
      return;
    }
    d.servedSerial = loaded.serial;
    d.soa = loaded.soa;
    d.lastRefreshed = loaded.lastRefreshed;
    d.expiresAt = loaded.expiresAt;
    d.status = 'fresh';
    // Expired while we were down: never serve it, fetch anew (NSD keeps its expiry across restarts
    // for the same reason).
    this.expireIfDue();
    if (d.servedSerial === null) {
      this.beginAttempt();
      return;
    }
    d.nextAttemptAt = firstCheckAt(this.now, timersOf(d), loaded.lastRefreshed, loaded.expiresAt, this.env.random(), this.env.random());
    this.fx.push({ type: 'setTimer', at: d.nextAttemptAt });
  }

  soaResult(r: SoaResult): void {
    const d = this.d;
    if (d.inFlight?.op !== 'soa') return; // stale: the scheduler dropped it, or a bug; nothing to do
    if (!r.ok) return this.failed('soa', r);
    if (!isSerial(r.serial)) return this.failed('soa', { ok: false, reason: 'bad-serial', message: `SOA serial ${String(r.serial)} is not a 32-bit unsigned integer`, primary: r.primary });
    this.sawPrimarySerial(r.serial, r.primary);
    if (d.servedSerial === null || d.forceAxfr) return this.beginTransfer('AXFR', undefined, r.primary);
    const order = serialCompare(r.serial, d.servedSerial);
    if (order === 1) d.primaryAheadSince ??= this.now;
    else d.primaryAheadSince = null;
    if (order === 1) {
      this.log('info', 'primary has a newer serial', { op: 'soa', remote: r.primary, serial: r.serial, ours: d.servedSerial });
      return this.beginTransfer('IXFR', d.servedSerial, r.primary);
    }
    if (order === 0) {
      this.log('debug', 'zone is current', { op: 'soa', remote: r.primary, serial: r.serial });
      return this.succeeded();
    }
    this.serialNotNewer(r.serial, r.primary, order === undefined);
  }

  sawPrimarySerial(serial: Serial, primary: string): void {
    const d = this.d;
    d.primarySerial = serial;
    d.primary = primary;
    d.primarySerials = { ...d.primarySerials, [primary]: { serial, at: this.now } };
  }

  /**
   * The primary's serial is lower than ours, or exactly half the space away (RFC 1982 3.2 leaves
   * that undefined; like every serious implementation we read it as "not newer"). No transfer:
   * RFC 1034 4.3.5 only transfers a newer serial. It is NOT a success for expiry either: a primary
   * that went backwards is broken (a restored backup, a reset serial) and we must not vouch for our
   * copy forever on its word; if it stays broken for EXPIRE the zone expires, loudly, and the
   * operator can `retransfer` to accept the primary's version. It is not a network failure either,
   * so we do not back off and hammer: next look at REFRESH.
   */
  serialNotNewer(theirs: Serial, primary: string, incomparable: boolean): void {
    const d = this.d;
    const ours = d.servedSerial as Serial;
    d.serialWentBackwards = { ours, theirs, primary, at: this.now, incomparable };
    d.failures += 1;
    const reason = incomparable ? 'serial-incomparable' : 'serial-backwards';
    const message = incomparable
      ? `primary serial ${theirs} is exactly half the serial space from ours (${ours}): order undefined (RFC 1982), not transferring`
      : `primary serial ${theirs} is behind ours (${ours}): not transferring`;
    d.lastError = { reason, message, at: this.now, op: 'soa', primary };
    d.status = 'retrying';
    d.nextAttemptAt = nextRefreshAt(this.now, timersOf(d), d.expiresAt, this.env.random());
    this.log('warn', message, { op: 'soa', remote: primary, serial: theirs, ours });
    this.endOperation();
  }

  transferResult(r: TransferResult): void {
    const d = this.d;
    const op = d.inFlight;
    if (op?.op !== 'transfer') return;
    if (!r.ok) return this.failed('transfer', r);
    if (!isSerial(r.serial)) {
      const failure: Failure = { ok: false, reason: 'bad-serial', message: `transfer reported serial ${String(r.serial)}` };
      return this.failed('transfer', r.primary === undefined ? failure : { ...failure, primary: r.primary });
    }
    // The executor has published the new contents: they are what we serve from now on.
    d.servedSerial = r.serial;
    if (r.primary !== undefined) this.sawPrimarySerial(r.serial, r.primary);
    else d.primarySerial = r.serial;
    d.primaryAheadSince = null;
    d.soa = r.soa;
    if (r.kind === 'AXFR') d.forceAxfr = false;
    // The network layer logs each transfer in full (records, bytes, duration): here only at debug.
    this.log(r.kind === 'UPTODATE' ? 'info' : 'debug', r.kind === 'UPTODATE' ? 'zone is current (IXFR)' : 'zone transferred', {
      op: r.kind,
      remote: r.primary,
      serial: r.serial,
      ...(op.fromSerial === undefined ? {} : { from: op.fromSerial }),
    });
    this.succeeded();
  }
}

/**
 * Apply one event. Never throws and never touches a clock: `now` is the event's time in ms, and
 * `env.random` feeds the jitter.
 */
export function step(state: ZoneRefreshState, event: RefreshEvent, now: number, env: Env): StepResult {
  if (state.stopped) return { state, effects: [] };
  const s = new Step({ ...state }, now, env);
  const d = s.d;
  switch (event.type) {
    case 'stop':
      d.stopped = true;
      d.inFlight = null;
      d.pendingNotify = false;
      d.nextAttemptAt = null;
      s.fx.push({ type: 'abort' }, { type: 'clearTimer' });
      break;
    case 'start':
      s.start(event.loaded);
      break;
    default:
      // A successful transfer has just published fresh data: expiring first would unpublish it.
      if (!(event.type === 'transferResult' && event.result.ok && d.inFlight?.op === 'transfer')) s.expireIfDue();
      switch (event.type) {
        case 'timer':
          // While an operation runs the timer only guards the expiry, handled above; the operation
          // is the check the timer would start.
          if (d.inFlight !== null) break;
          if (d.nextAttemptAt !== null && now < d.nextAttemptAt) {
            s.fx.push({ type: 'setTimer', at: d.nextAttemptAt }); // fired early (clock step): re-arm
            break;
          }
          s.beginAttempt();
          break;
        case 'notify':
          // RFC 1996: a NOTIFY is a hint to check now, as if REFRESH had expired. Even one carrying
          // our own serial is checked: it is unauthenticated and cheap to verify.
          if (isSerial(event.serial)) d.notifiedSerial = event.serial;
          if (d.inFlight !== null) d.pendingNotify = true;
          else s.beginAttempt(event.primary);
          break;
        case 'refreshCommand':
          if (d.inFlight !== null) d.pendingNotify = true;
          else s.beginAttempt();
          break;
        case 'retransferCommand':
          d.forceAxfr = true;
          if (d.inFlight !== null) d.pendingNotify = true;
          else s.beginAttempt();
          break;
        case 'soaResult':
          s.soaResult(event.result);
          break;
        case 'transferResult':
          s.transferResult(event.result);
          break;
      }
  }
  if (d.status !== state.status) s.fx.push({ type: 'stateChanged', from: state.status, to: d.status });
  return { state: d, effects: s.fx };
}
