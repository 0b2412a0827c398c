// Timer maths for refresh (RFC 1034 4.3.5): clamps, jitter that only shortens, retry backoff, caps.

import t from 'tap';
import {
  backoffMs,
  clampTimers,
  firstCheckAt,
  jitter,
  JITTER_FRACTION,
  nextRefreshAt,
  nextRetryAt,
  START_SPREAD_MS,
} from '../../src/refresh/timers.js';
import { CLAMPS, DAY, prng, SOA, T0 } from './helpers.js';

t.test('RFC 1034 4.3.5 timers: clamped to the zone bounds, in ms', async (t) => {
  t.same(clampTimers(SOA, CLAMPS), { refreshMs: 3_600_000, retryMs: 600_000, expireMs: 7 * DAY * 1000, retryMaxMs: 3_600_000 });
  const low = clampTimers({ refresh: 1, retry: 1, expire: 1, minimum: 0 }, CLAMPS);
  t.same([low.refreshMs, low.retryMs, low.expireMs], [60_000, 10_000, 3_600_000], 'raised to the minimums');
  const high = clampTimers({ refresh: 2 ** 32 - 1, retry: 2 ** 32 - 1, expire: 2 ** 32 - 1, minimum: 0 }, CLAMPS);
  t.same([high.refreshMs, high.retryMs, high.expireMs], [DAY * 1000, 3_600_000, 28 * DAY * 1000], 'lowered to the maximums');
  const none = clampTimers(null, CLAMPS);
  t.equal(none.retryMs, 10_000, 'no SOA yet: retry-min paces the first retries');
});

t.test('an SOA with REFRESH >= EXPIRE is tamed so a check and a retry fit before expiry', async (t) => {
  const c = { ...CLAMPS, refreshMax: 30 * DAY, retryMax: 30 * DAY };
  const x = clampTimers({ refresh: 2 * DAY, retry: DAY, expire: DAY + 3600, minimum: 0 }, c);
  t.equal(x.retryMs, ((DAY + 3600) * 1000) / 2, 'retry at most half the expire');
  t.equal(x.refreshMs, x.expireMs - x.retryMs, 'refresh at most expire - retry');
  const y = clampTimers({ refresh: 2 * DAY, retry: 600, expire: DAY, minimum: 0 }, c);
  t.equal(y.refreshMs, (DAY - 600) * 1000);
  t.equal(y.expireMs, DAY * 1000, 'EXPIRE itself is never raised');
});

t.test('jitter only shortens, by at most 10% (property)', async (t) => {
  const rnd = prng(1982);
  const edge = [0, Number.MIN_VALUE, 1e-12, 0.5, 0.999999999, 1, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY];
  let bad = 0;
  for (let i = 0; i < 20_000; i++) {
    const ms = i < 10_000 ? Math.floor(rnd() * 40 * DAY * 1000) : 1 + Math.floor(rnd() * 1000);
    for (const r of [rnd(), ...(i < edge.length ? [edge[i] as number] : [])]) {
      const j = jitter(ms, r);
      if (!(Number.isInteger(j) && j <= ms && j >= Math.floor(ms * (1 - JITTER_FRACTION)))) bad += 1;
    }
  }
  t.equal(bad, 0, 'never longer, never below 90%, always an integer');
  t.equal(jitter(1_000_000, 0), 1_000_000, 'random 0: no jitter');
  t.equal(jitter(1_000_000, 0.5), 950_000);
});

t.test('next refresh: REFRESH minus jitter, never after expiry', async (t) => {
  const tm = clampTimers(SOA, CLAMPS);
  const rnd = prng(7);
  for (let i = 0; i < 1000; i++) {
    const at = nextRefreshAt(T0, tm, T0 + tm.expireMs, rnd());
    if (at > T0 + tm.refreshMs || at < T0 + tm.refreshMs * 0.9) t.fail(`refresh at ${at - T0}`);
  }
  t.equal(nextRefreshAt(T0, tm, T0 + 1000, 0), T0 + 1000, 'capped at expiresAt');
});

t.test('retry backoff: RETRY, 2x, 4x ... capped at retry-max', async (t) => {
  const tm = clampTimers({ ...SOA, retry: 10 }, CLAMPS);
  const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => backoffMs(tm, n) / 1000);
  t.same(seq, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
  t.equal(backoffMs(tm, 1e9), 3_600_000, 'no overflow to Infinity after very many failures');
  t.equal(backoffMs(tm, 0), 10_000, 'zero failures reads as the first retry');
  const big = clampTimers({ ...SOA, retry: 7200 }, CLAMPS);
  t.equal(backoffMs(big, 1), 3_600_000, 'RETRY itself above retry-max is clamped first');
});

t.test('retry never after expiry while not yet expired; unbounded once expired (property)', async (t) => {
  const tm = clampTimers(SOA, CLAMPS);
  const rnd = prng(1034);
  let bad = 0;
  for (let i = 0; i < 5000; i++) {
    const failures = 1 + Math.floor(rnd() * 20);
    const expiresAt = T0 + 1 + Math.floor(rnd() * 2 * 3_600_000);
    const at = nextRetryAt(T0, tm, failures, expiresAt, rnd());
    if (at > expiresAt || at <= T0) bad += 1;
  }
  t.equal(bad, 0);
  t.equal(nextRetryAt(T0, tm, 3, T0 - 1, 0), T0 + 2_400_000, 'already expired: plain backoff');
  t.equal(nextRetryAt(T0, tm, 3, null, 0), T0 + 2_400_000, 'nothing served: plain backoff');
});

t.test('first check of a zone loaded from disk', async (t) => {
  const tm = clampTimers(SOA, CLAMPS);
  const expiresAt = T0 + tm.expireMs;
  t.equal(firstCheckAt(T0 + 60_000, tm, T0, expiresAt, 0, 0.9), T0 + tm.refreshMs, 'not due yet: on the stored schedule');
  const now = T0 + 2 * tm.refreshMs;
  const rnd = prng(5);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const at = firstCheckAt(now, tm, T0, expiresAt, rnd(), rnd());
    if (at < now || at >= now + START_SPREAD_MS) t.fail(`overdue check at +${at - now}`);
    seen.add(Math.floor((at - now) / 1000));
  }
  t.ok(seen.size >= 25, 'overdue checks are spread over the start window');
  t.equal(firstCheckAt(now, tm, T0, now + 5, 0, 0.99), now + 5, 'never after expiry');
});
