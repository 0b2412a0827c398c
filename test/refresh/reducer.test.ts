// The per-zone refresh reducer, table-driven: (state, event, now) -> (state, effects), named after
// RFC 1034 4.3.5 (refresh/retry/expire), RFC 1996 (NOTIFY), RFC 1995 (IXFR) and RFC 1982 (serials).

import t from 'tap';

const tap = t;
import {
  initialState,
  step,
  type Effect,
  type Env,
  type RefreshEvent,
  type ZoneRefreshState,
} from '../../src/refresh/reducer.js';
import type { SoaTimers } from '../../src/refresh/types.js';
import { CLAMPS, DAY, P1, SOA, T0 } from './helpers.js';

const H = 3_600_000;
const WEEK = 7 * DAY * 1000;
const RETRY = 600_000;
const NOW = T0 + 2 * H; // a moment well inside the refresh/expiry window of FRESH
const ZERO: Env = { random: () => 0 }; // no jitter: exact expectations
const SOA2: SoaTimers = { refresh: 7200, retry: 900, expire: 14 * DAY, minimum: 60 };

/** A zone served at serial 100, last checked at T0, next check due at T0 + REFRESH. */
const FRESH: ZoneRefreshState = {
  ...initialState(CLAMPS),
  status: 'fresh',
  servedSerial: 100,
  soa: SOA,
  primarySerial: 100,
  primary: P1,
  lastRefreshed: T0,
  expiresAt: T0 + WEEK,
  nextAttemptAt: T0 + H,
};
const SOA_IN_FLIGHT: ZoneRefreshState = { ...FRESH, status: 'refreshing', nextAttemptAt: null, inFlight: { op: 'soa', since: NOW } };
const IXFR_IN_FLIGHT: ZoneRefreshState = { ...SOA_IN_FLIGHT, inFlight: { op: 'transfer', kind: 'IXFR', fromSerial: 100, since: NOW } };
const RETRYING: ZoneRefreshState = {
  ...FRESH,
  status: 'retrying',
  failures: 2,
  nextAttemptAt: NOW,
  lastError: { reason: 'ERR_TIMEOUT', message: 'timed out', at: NOW - RETRY, op: 'soa' },
};
const LOADING_IN_FLIGHT: ZoneRefreshState = { ...initialState(CLAMPS), inFlight: { op: 'transfer', kind: 'AXFR', since: NOW } };
const EXPIRED: ZoneRefreshState = { ...FRESH, status: 'expired', servedSerial: null, failures: 9, expiresAt: NOW - 1, nextAttemptAt: NOW };
const AXFR_EXPIRED: ZoneRefreshState = { ...EXPIRED, nextAttemptAt: null, inFlight: { op: 'transfer', kind: 'AXFR', since: NOW } };

const soaOk = (serial: number): RefreshEvent => ({ type: 'soaResult', result: { ok: true, serial, primary: P1 } });
const soaFail: RefreshEvent = { type: 'soaResult', result: { ok: false, reason: 'ERR_TIMEOUT', message: 'no answer', primary: P1 } };
const xfrOk = (serial: number, kind: 'AXFR' | 'IXFR' | 'UPTODATE' = 'IXFR', soa = SOA2): RefreshEvent => ({
  type: 'transferResult',
  result: { ok: true, serial, kind, soa, primary: P1 },
});
const xfrFail: RefreshEvent = { type: 'transferResult', result: { ok: false, reason: 'ERR_REFUSED', message: 'REFUSED', primary: P1 } };

/** What a row asserts: any subset of the state, nested objects matched partially too. */
type DeepPartial<T> = { readonly [K in keyof T]?: T[K] extends object | null ? DeepPartial<NonNullable<T[K]>> | null : T[K] };

interface Row {
  readonly name: string;
  readonly state: ZoneRefreshState;
  readonly event: RefreshEvent;
  readonly now?: number;
  readonly env?: Env;
  /** Fields of the new state that must have these values. */
  readonly expect: DeepPartial<ZoneRefreshState>;
  /** The effects, log lines left out, in order. */
  readonly effects: readonly Effect[];
}

const checkSoa: Effect = { type: 'checkSoa' };
const axfr: Effect = { type: 'transfer', kind: 'AXFR' };
const timer = (at: number): Effect => ({ type: 'setTimer', at });
const clearTimer: Effect = { type: 'clearTimer' };
const changed = (from: ZoneRefreshState['status'], to: ZoneRefreshState['status']): Effect => ({ type: 'stateChanged', from, to });

function run(t: Pick<typeof tap, 'test'>, rows: readonly Row[]): void {
  for (const row of rows) {
    t.test(row.name, async (t) => {
      const frozen = structuredClone(row.state);
      const { state, effects } = step(row.state, row.event, row.now ?? NOW, row.env ?? ZERO);
      t.same(row.state, frozen, 'the input state is not mutated');
      t.match(state, row.expect);
      t.same(
        effects.filter((e) => e.type !== 'log'),
        row.effects,
      );
    });
  }
}

t.test('RFC 1034 4.3.5: start', async (t) =>
  run(t, [
    {
      name: 'no data: transfer at once (AXFR), nothing served',
      state: initialState(CLAMPS),
      event: { type: 'start' },
      expect: { status: 'loading', servedSerial: null, inFlight: { op: 'transfer', kind: 'AXFR' }, nextAttemptAt: null },
      effects: [axfr, clearTimer],
    },
    {
      name: 'data on disk, refresh not due: served, checked on the stored schedule',
      state: initialState(CLAMPS),
      event: { type: 'start', loaded: { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: T0 + WEEK } },
      now: T0 + 60_000,
      expect: { status: 'fresh', servedSerial: 100, lastRefreshed: T0, expiresAt: T0 + WEEK, nextAttemptAt: T0 + H, inFlight: null },
      effects: [timer(T0 + H), changed('loading', 'fresh')],
    },
    {
      name: 'data on disk, refresh overdue: checked within the start spread, not at once',
      state: initialState(CLAMPS),
      event: { type: 'start', loaded: { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: T0 + WEEK } },
      env: { random: () => 0.5 },
      expect: { status: 'fresh', nextAttemptAt: NOW + 15_000 },
      effects: [timer(NOW + 15_000), changed('loading', 'fresh')],
    },
    {
      name: 'data on disk already past EXPIRE: expired, not served, AXFR at once',
      state: initialState(CLAMPS),
      event: { type: 'start', loaded: { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: NOW - 1 } },
      expect: { status: 'expired', servedSerial: null, inFlight: { op: 'transfer', kind: 'AXFR' } },
      effects: [{ type: 'expire' }, axfr, clearTimer, changed('loading', 'expired')],
    },
  ]),
);

t.test('RFC 1034 4.3.5: refresh', async (t) =>
  run(t, [
    {
      name: 'REFRESH timer fires: SOA query; the timer now guards the expiry',
      state: FRESH,
      event: { type: 'timer' },
      now: T0 + H,
      expect: { status: 'refreshing', inFlight: { op: 'soa' }, nextAttemptAt: null },
      effects: [checkSoa, timer(T0 + WEEK), changed('fresh', 'refreshing')],
    },
    {
      name: 'timer fired early (clock stepped): re-armed, nothing else',
      state: FRESH,
      event: { type: 'timer' },
      now: T0 + H - 5,
      expect: { status: 'fresh', inFlight: null, nextAttemptAt: T0 + H },
      effects: [timer(T0 + H)],
    },
    {
      name: 'primary serial equal: fresh, lastRefreshed = now, EXPIRE restarts, next at REFRESH',
      state: SOA_IN_FLIGHT,
      event: soaOk(100),
      expect: { status: 'fresh', inFlight: null, lastRefreshed: NOW, expiresAt: NOW + WEEK, nextAttemptAt: NOW + H, failures: 0, primarySerial: 100 },
      effects: [timer(NOW + H), changed('refreshing', 'fresh')],
    },
    {
      name: 'jitter shortens the next refresh (random 0.5: 5% earlier)',
      state: SOA_IN_FLIGHT,
      event: soaOk(100),
      env: { random: () => 0.5 },
      expect: { nextAttemptAt: NOW + 0.95 * H, expiresAt: NOW + WEEK },
      effects: [timer(NOW + 0.95 * H), changed('refreshing', 'fresh')],
    },
    {
      name: 'RFC 1995: primary serial newer: IXFR from our serial, from that primary',
      state: SOA_IN_FLIGHT,
      event: soaOk(101),
      expect: { status: 'refreshing', primarySerial: 101, primary: P1, inFlight: { op: 'transfer', kind: 'IXFR', fromSerial: 100 }, lastRefreshed: T0 },
      effects: [{ type: 'transfer', kind: 'IXFR', fromSerial: 100, primary: P1 }],
    },
    {
      name: 'IXFR done: fresh at the new serial, timers from the new SOA',
      state: IXFR_IN_FLIGHT,
      event: xfrOk(101),
      expect: { status: 'fresh', servedSerial: 101, soa: SOA2, lastRefreshed: NOW, expiresAt: NOW + 14 * DAY * 1000, nextAttemptAt: NOW + 2 * H, inFlight: null },
      effects: [timer(NOW + 2 * H), changed('refreshing', 'fresh')],
    },
    {
      name: 'IXFR says up to date: a successful check',
      state: IXFR_IN_FLIGHT,
      event: xfrOk(100, 'UPTODATE', SOA),
      expect: { status: 'fresh', servedSerial: 100, lastRefreshed: NOW, expiresAt: NOW + WEEK },
      effects: [timer(NOW + H), changed('refreshing', 'fresh')],
    },
    {
      name: 'a successful transfer arriving after expiresAt is served, not expired',
      state: { ...IXFR_IN_FLIGHT, expiresAt: NOW - 1 },
      event: xfrOk(101),
      expect: { status: 'fresh', servedSerial: 101 },
      effects: [timer(NOW + 2 * H), changed('refreshing', 'fresh')],
    },
  ]),
);

t.test('RFC 1034 4.3.5: retry', async (t) =>
  run(t, [
    {
      name: 'SOA query failed: retrying after RETRY, still served',
      state: SOA_IN_FLIGHT,
      event: soaFail,
      expect: {
        status: 'retrying',
        servedSerial: 100,
        failures: 1,
        nextAttemptAt: NOW + RETRY,
        expiresAt: T0 + WEEK,
        lastError: { reason: 'ERR_TIMEOUT', message: 'no answer', at: NOW, op: 'soa', primary: P1 },
      },
      effects: [timer(NOW + RETRY), changed('refreshing', 'retrying')],
    },
    {
      name: 'third failure in a row: 4x RETRY',
      state: { ...SOA_IN_FLIGHT, failures: 2 },
      event: soaFail,
      expect: { failures: 3, nextAttemptAt: NOW + 4 * RETRY },
      effects: [timer(NOW + 4 * RETRY), changed('refreshing', 'retrying')],
    },
    {
      name: 'backoff capped at retry-max',
      state: { ...SOA_IN_FLIGHT, failures: 10 },
      event: soaFail,
      expect: { failures: 11, nextAttemptAt: NOW + H },
      effects: [timer(NOW + H), changed('refreshing', 'retrying')],
    },
    {
      name: 'retry never later than the expiry',
      state: { ...SOA_IN_FLIGHT, expiresAt: NOW + 1000 },
      event: soaFail,
      expect: { nextAttemptAt: NOW + 1000 },
      effects: [timer(NOW + 1000), changed('refreshing', 'retrying')],
    },
    {
      name: 'transfer failed: retrying; the next attempt is an SOA query again',
      state: IXFR_IN_FLIGHT,
      event: xfrFail,
      expect: { status: 'retrying', failures: 1, nextAttemptAt: NOW + RETRY, lastError: { reason: 'ERR_REFUSED', op: 'transfer' }, servedSerial: 100 },
      effects: [timer(NOW + RETRY), changed('refreshing', 'retrying')],
    },
    {
      name: 'RETRY timer fires: SOA query',
      state: RETRYING,
      event: { type: 'timer' },
      expect: { status: 'refreshing', inFlight: { op: 'soa' }, failures: 2 },
      effects: [checkSoa, timer(T0 + WEEK), changed('retrying', 'refreshing')],
    },
    {
      name: 'first transfer failed: still loading, retried from retry-min',
      state: LOADING_IN_FLIGHT,
      event: xfrFail,
      expect: { status: 'loading', failures: 1, nextAttemptAt: NOW + 10_000, inFlight: null },
      effects: [timer(NOW + 10_000)],
    },
    {
      name: 'loading retry timer: AXFR again',
      state: { ...initialState(CLAMPS), failures: 1, nextAttemptAt: NOW },
      event: { type: 'timer' },
      expect: { status: 'loading', inFlight: { op: 'transfer', kind: 'AXFR' } },
      effects: [axfr, clearTimer],
    },
  ]),
);

t.test('RFC 1034 4.3.5: expire', async (t) =>
  run(t, [
    {
      name: 'retry timer at expiresAt: expire (stop serving), then AXFR',
      state: { ...RETRYING, nextAttemptAt: T0 + WEEK },
      event: { type: 'timer' },
      now: T0 + WEEK,
      expect: { status: 'expired', servedSerial: null, inFlight: { op: 'transfer', kind: 'AXFR' }, expiresAt: T0 + WEEK },
      effects: [{ type: 'expire' }, axfr, clearTimer, changed('retrying', 'expired')],
    },
    {
      name: 'EXPIRE passes while a check hangs: expired at once, the check goes on',
      state: SOA_IN_FLIGHT,
      event: { type: 'timer' },
      now: T0 + WEEK,
      expect: { status: 'expired', servedSerial: null, inFlight: { op: 'soa' } },
      effects: [{ type: 'expire' }, changed('refreshing', 'expired')],
    },
    {
      name: 'that check then answers: nothing served any more, so AXFR',
      state: { ...SOA_IN_FLIGHT, status: 'expired', servedSerial: null },
      event: soaOk(100),
      now: T0 + WEEK + 5,
      expect: { status: 'expired', inFlight: { op: 'transfer', kind: 'AXFR' }, primarySerial: 100 },
      effects: [{ type: 'transfer', kind: 'AXFR', primary: P1 }],
    },
    {
      name: 'a NOTIFY arriving after expiresAt (timer late) expires first',
      state: FRESH,
      event: { type: 'notify' },
      now: T0 + WEEK + 1,
      expect: { status: 'expired', servedSerial: null, inFlight: { op: 'transfer', kind: 'AXFR' } },
      effects: [{ type: 'expire' }, axfr, clearTimer, changed('fresh', 'expired')],
    },
    {
      name: 'expired and still failing: stays expired, retried at the capped backoff',
      state: AXFR_EXPIRED,
      event: xfrFail,
      expect: { status: 'expired', failures: 10, nextAttemptAt: NOW + H, inFlight: null },
      effects: [timer(NOW + H)],
    },
    {
      name: 'expired, transfer succeeds: fresh again',
      state: AXFR_EXPIRED,
      event: xfrOk(105, 'AXFR'),
      expect: { status: 'fresh', servedSerial: 105, failures: 0, lastError: null, expiresAt: NOW + 14 * DAY * 1000 },
      effects: [timer(NOW + 2 * H), changed('expired', 'fresh')],
    },
  ]),
);

t.test('RFC 1996 3.11: a NOTIFY means "check the SOA now"', async (t) =>
  run(t, [
    {
      name: 'fresh: SOA query at once, at the notifier first',
      state: FRESH,
      event: { type: 'notify', serial: 101, primary: P1 },
      expect: { status: 'refreshing', inFlight: { op: 'soa' }, notifiedSerial: 101 },
      effects: [{ type: 'checkSoa', primary: P1 }, timer(T0 + WEEK), changed('fresh', 'refreshing')],
    },
    {
      name: 'retrying: SOA query at once, not waiting for the backoff',
      state: { ...RETRYING, nextAttemptAt: NOW + H },
      event: { type: 'notify' },
      expect: { status: 'refreshing', inFlight: { op: 'soa' } },
      effects: [checkSoa, timer(T0 + WEEK), changed('retrying', 'refreshing')],
    },
    {
      name: 'expired: nothing to compare, AXFR at once',
      state: { ...EXPIRED, nextAttemptAt: NOW + H },
      event: { type: 'notify', serial: 7 },
      expect: { status: 'expired', inFlight: { op: 'transfer', kind: 'AXFR' }, notifiedSerial: 7 },
      effects: [axfr, clearTimer],
    },
    {
      name: 'carrying our own serial: still checked (a NOTIFY is an unauthenticated hint)',
      state: FRESH,
      event: { type: 'notify', serial: 100 },
      expect: { status: 'refreshing', inFlight: { op: 'soa' } },
      effects: [checkSoa, timer(T0 + WEEK), changed('fresh', 'refreshing')],
    },
    {
      name: 'an out-of-range serial in a NOTIFY is ignored, the check still happens',
      state: FRESH,
      event: { type: 'notify', serial: -1 },
      expect: { notifiedSerial: null, inFlight: { op: 'soa' } },
      effects: [checkSoa, timer(T0 + WEEK), changed('fresh', 'refreshing')],
    },
  ]),
);

t.test('RFC 1996 4.7: a NOTIFY while busy is remembered, answered by one check afterwards', async (t) =>
  run(t, [
    {
      name: 'during an SOA query: pending, no new operation',
      state: SOA_IN_FLIGHT,
      event: { type: 'notify', serial: 101 },
      expect: { pendingNotify: true, inFlight: { op: 'soa' }, notifiedSerial: 101 },
      effects: [],
    },
    {
      name: 'during a transfer: pending, no new operation',
      state: IXFR_IN_FLIGHT,
      event: { type: 'notify' },
      expect: { pendingNotify: true, inFlight: { op: 'transfer', kind: 'IXFR' } },
      effects: [],
    },
    {
      name: 'during the first transfer: pending',
      state: LOADING_IN_FLIGHT,
      event: { type: 'notify' },
      expect: { pendingNotify: true, status: 'loading' },
      effects: [],
    },
    {
      name: 'check ends equal with a NOTIFY pending: one more SOA query at once',
      state: { ...SOA_IN_FLIGHT, pendingNotify: true },
      event: soaOk(100),
      expect: { status: 'refreshing', pendingNotify: false, inFlight: { op: 'soa' }, lastRefreshed: NOW, expiresAt: NOW + WEEK },
      effects: [checkSoa, timer(NOW + WEEK)],
    },
    {
      name: 'transfer ends with a NOTIFY pending: one more SOA query',
      state: { ...IXFR_IN_FLIGHT, pendingNotify: true },
      event: xfrOk(101),
      expect: { status: 'refreshing', servedSerial: 101, pendingNotify: false, inFlight: { op: 'soa' } },
      effects: [checkSoa, timer(NOW + 14 * DAY * 1000)],
    },
    {
      name: 'newer serial with a NOTIFY pending: the transfer first, the flag kept for after it',
      state: { ...SOA_IN_FLIGHT, pendingNotify: true },
      event: soaOk(101),
      expect: { pendingNotify: true, inFlight: { op: 'transfer', kind: 'IXFR' } },
      effects: [{ type: 'transfer', kind: 'IXFR', fromSerial: 100, primary: P1 }],
    },
    {
      name: 'failure with a NOTIFY pending: the NOTIFY wins over the backoff',
      state: { ...SOA_IN_FLIGHT, pendingNotify: true },
      event: soaFail,
      expect: { status: 'refreshing', failures: 1, pendingNotify: false, inFlight: { op: 'soa' } },
      effects: [checkSoa, timer(T0 + WEEK)],
    },
  ]),
);

t.test('operator commands', async (t) =>
  run(t, [
    {
      name: 'refresh: SOA query now',
      state: FRESH,
      event: { type: 'refreshCommand' },
      expect: { status: 'refreshing', inFlight: { op: 'soa' } },
      effects: [checkSoa, timer(T0 + WEEK), changed('fresh', 'refreshing')],
    },
    {
      name: 'refresh while busy: pending',
      state: IXFR_IN_FLIGHT,
      event: { type: 'refreshCommand' },
      expect: { pendingNotify: true },
      effects: [],
    },
    {
      name: 'retransfer: AXFR now, whatever the serial',
      state: FRESH,
      event: { type: 'retransferCommand' },
      expect: { status: 'refreshing', forceAxfr: true, inFlight: { op: 'transfer', kind: 'AXFR' } },
      effects: [axfr, timer(T0 + WEEK), changed('fresh', 'refreshing')],
    },
    {
      name: 'retransfer during an SOA query: remembered',
      state: SOA_IN_FLIGHT,
      event: { type: 'retransferCommand' },
      expect: { forceAxfr: true, pendingNotify: true, inFlight: { op: 'soa' } },
      effects: [],
    },
    {
      name: '... and the SOA answer leads to the AXFR, whatever its serial',
      state: { ...SOA_IN_FLIGHT, forceAxfr: true, pendingNotify: true },
      event: soaOk(100),
      expect: { inFlight: { op: 'transfer', kind: 'AXFR' }, forceAxfr: true },
      effects: [{ type: 'transfer', kind: 'AXFR', primary: P1 }],
    },
    {
      name: 'a failed forced AXFR keeps the request: the retry is an AXFR too',
      state: { ...SOA_IN_FLIGHT, forceAxfr: true, inFlight: { op: 'transfer', kind: 'AXFR', since: NOW } },
      event: xfrFail,
      expect: { forceAxfr: true, status: 'retrying' },
      effects: [timer(NOW + RETRY), changed('refreshing', 'retrying')],
    },
    {
      name: '... whose timer starts an AXFR, not an SOA query',
      state: { ...RETRYING, forceAxfr: true },
      event: { type: 'timer' },
      expect: { inFlight: { op: 'transfer', kind: 'AXFR' } },
      effects: [axfr, timer(T0 + WEEK), changed('retrying', 'refreshing')],
    },
    {
      name: 'a successful AXFR clears the request (even to a lower serial: the operator asked)',
      state: { ...SOA_IN_FLIGHT, forceAxfr: true, inFlight: { op: 'transfer', kind: 'AXFR', since: NOW } },
      event: xfrOk(50, 'AXFR'),
      expect: { forceAxfr: false, servedSerial: 50, status: 'fresh' },
      effects: [timer(NOW + 2 * H), changed('refreshing', 'fresh')],
    },
  ]),
);

const BIG = 0xffffffff;
t.test('RFC 1982 3.2: serial comparison decides whether to transfer', async (t) =>
  run(t, [
    {
      name: 'wrap-around: 0 follows 0xffffffff, so transfer',
      state: { ...SOA_IN_FLIGHT, servedSerial: BIG },
      event: soaOk(0),
      expect: { inFlight: { op: 'transfer', kind: 'IXFR', fromSerial: BIG } },
      effects: [{ type: 'transfer', kind: 'IXFR', fromSerial: BIG, primary: P1 }],
    },
    {
      name: 'wrap-around: 5 follows 0xfffffff0',
      state: { ...SOA_IN_FLIGHT, servedSerial: 0xfffffff0 },
      event: soaOk(5),
      expect: { inFlight: { op: 'transfer', kind: 'IXFR' } },
      effects: [{ type: 'transfer', kind: 'IXFR', fromSerial: 0xfffffff0, primary: P1 }],
    },
    {
      name: 'primary behind us: no transfer, reported, not a success for expiry, next look at REFRESH',
      state: { ...SOA_IN_FLIGHT, servedSerial: 5 },
      event: soaOk(0xfffffff0),
      expect: {
        status: 'retrying',
        servedSerial: 5,
        primarySerial: 0xfffffff0,
        serialWentBackwards: { ours: 5, theirs: 0xfffffff0, primary: P1, at: NOW, incomparable: false },
        lastError: { reason: 'serial-backwards', op: 'soa' },
        lastRefreshed: T0,
        expiresAt: T0 + WEEK,
        nextAttemptAt: NOW + H,
        failures: 1,
      },
      effects: [timer(NOW + H), changed('refreshing', 'retrying')],
    },
    {
      name: 'plain lower serial: same',
      state: SOA_IN_FLIGHT,
      event: soaOk(99),
      expect: { status: 'retrying', serialWentBackwards: { ours: 100, theirs: 99 }, expiresAt: T0 + WEEK },
      effects: [timer(NOW + H), changed('refreshing', 'retrying')],
    },
    {
      name: 'exactly half the space apart (undefined): not newer, reported as incomparable',
      state: { ...SOA_IN_FLIGHT, servedSerial: 0 },
      event: soaOk(0x80000000),
      expect: { status: 'retrying', serialWentBackwards: { ours: 0, theirs: 0x80000000, incomparable: true }, lastError: { reason: 'serial-incomparable' } },
      effects: [timer(NOW + H), changed('refreshing', 'retrying')],
    },
    {
      name: 'half-range the other way round: also not newer',
      state: { ...SOA_IN_FLIGHT, servedSerial: 0x80000000 },
      event: soaOk(0),
      expect: { serialWentBackwards: { incomparable: true }, inFlight: null },
      effects: [timer(NOW + H), changed('refreshing', 'retrying')],
    },
    {
      name: 'the primary catches up again: the report is cleared',
      state: {
        ...SOA_IN_FLIGHT,
        failures: 1,
        serialWentBackwards: { ours: 100, theirs: 99, primary: P1, at: NOW - H, incomparable: false },
      },
      event: soaOk(100),
      expect: { status: 'fresh', serialWentBackwards: null, lastError: null, failures: 0 },
      effects: [timer(NOW + H), changed('refreshing', 'fresh')],
    },
    {
      name: 'a serial that is not a 32-bit integer is a failed check',
      state: SOA_IN_FLIGHT,
      event: soaOk(2 ** 32),
      expect: { status: 'retrying', lastError: { reason: 'bad-serial' }, inFlight: null },
      effects: [timer(NOW + RETRY), changed('refreshing', 'retrying')],
    },
  ]),
);

t.test('stop, and results nobody asked for', async (t) =>
  run(t, [
    {
      name: 'stop: abort the operation, clear the timer',
      state: IXFR_IN_FLIGHT,
      event: { type: 'stop' },
      expect: { stopped: true, inFlight: null, pendingNotify: false },
      effects: [{ type: 'abort' }, clearTimer],
    },
    {
      name: 'after stop everything is ignored',
      state: { ...FRESH, stopped: true },
      event: { type: 'notify' },
      expect: { stopped: true, status: 'fresh', inFlight: null },
      effects: [],
    },
    {
      name: 'an SOA result while idle is ignored',
      state: FRESH,
      event: soaOk(200),
      expect: { status: 'fresh', primarySerial: 100, inFlight: null },
      effects: [],
    },
    {
      name: 'a transfer result during an SOA query is ignored',
      state: SOA_IN_FLIGHT,
      event: xfrOk(200),
      expect: { servedSerial: 100, inFlight: { op: 'soa' } },
      effects: [],
    },
  ]),
);

/** Fold events over a state, collecting the effects. */
function fold(state: ZoneRefreshState, events: Array<[RefreshEvent, number]>): { state: ZoneRefreshState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const [event, now] of events) {
    const r = step(state, event, now, ZERO);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

t.test('RFC 1996 4.7: a burst of NOTIFYs leads to one SOA query', async (t) => {
  const { effects } = fold(FRESH, [
    [{ type: 'notify', serial: 101 }, NOW],
    [{ type: 'notify', serial: 101 }, NOW + 1],
    [{ type: 'notify', serial: 102 }, NOW + 2],
    [{ type: 'notify' }, NOW + 3],
  ]);
  t.equal(effects.filter((e) => e.type === 'checkSoa').length, 1);
  const after = fold(FRESH, [
    [{ type: 'notify' }, NOW],
    [{ type: 'notify' }, NOW + 1],
    [soaOk(101), NOW + 2],
    [{ type: 'notify' }, NOW + 3],
    [{ type: 'notify' }, NOW + 4],
    [xfrOk(102), NOW + 5],
    [soaOk(102), NOW + 6],
  ]);
  const ops = after.effects.filter((e) => e.type === 'checkSoa' || e.type === 'transfer').map((e) => e.type);
  t.same(ops, ['checkSoa', 'transfer', 'checkSoa'], 'NOTIFYs during the check and transfer: exactly one more check');
  t.equal(after.state.status, 'fresh');
  t.equal(after.state.servedSerial, 102);
});

t.test('RFC 1982 + RFC 1034 4.3.5: a primary stuck behind us eventually expires the zone', async (t) => {
  let state: ZoneRefreshState = FRESH;
  let now = T0 + H;
  let expired = false;
  for (let i = 0; i < 500 && !expired; i++) {
    const timerStep = step(state, { type: 'timer' }, now, ZERO);
    expired = timerStep.effects.some((e) => e.type === 'expire');
    if (expired) break;
    const r = step(timerStep.state, soaOk(99), now, ZERO);
    state = r.state;
    t.notOk(r.effects.some((e) => e.type === 'transfer'), 'never transfers an older serial');
    now = state.nextAttemptAt as number;
  }
  t.ok(expired, 'expired');
  t.equal(now, T0 + WEEK, 'exactly at EXPIRE after the last success');
});

t.test('log effects use the fixed vocabulary', async (t) => {
  const { effects } = step(SOA_IN_FLIGHT, soaFail, NOW, ZERO);
  const log = effects.find((e) => e.type === 'log');
  t.match(log, { type: 'log', level: 'warn', fields: { op: 'soa', remote: P1, err: { code: 'ERR_TIMEOUT' } } });
});

t.test('staleness: since when a primary is ahead of us, and the serial each primary reports', async (t) => {
  let s = step(SOA_IN_FLIGHT, soaOk(101), NOW, ZERO).state;
  t.equal(s.primaryAheadSince, NOW, 'the SOA check saw a newer serial: ahead since now');
  t.same(s.primarySerials, { [P1]: { serial: 101, at: NOW } });
  s = step(s, xfrFail, NOW + 1000, ZERO).state;
  t.equal(s.primaryAheadSince, NOW, 'a failed transfer keeps us behind');
  s = step(step(s, { type: 'timer' }, s.nextAttemptAt!, ZERO).state, soaOk(102), NOW + H, ZERO).state;
  t.equal(s.primaryAheadSince, NOW, 'a later, newer serial does not restart the clock');
  t.same(s.primarySerials[P1], { serial: 102, at: NOW + H });
  s = step(s, xfrOk(102), NOW + H + 5, ZERO).state;
  t.equal(s.primaryAheadSince, null, 'caught up by the transfer');
  t.equal(s.servedSerial, 102);
  const back = step(SOA_IN_FLIGHT, soaOk(99), NOW, ZERO).state;
  t.equal(back.primaryAheadSince, null, 'a primary behind us is not ahead');
  t.same(back.primarySerials, { [P1]: { serial: 99, at: NOW } }, 'but what it reported is kept');
  const equal = step({ ...SOA_IN_FLIGHT, primaryAheadSince: NOW - H }, soaOk(100), NOW, ZERO).state;
  t.equal(equal.primaryAheadSince, null, 'the same serial: not behind');
});
