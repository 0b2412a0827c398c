// Pure timer maths for zone refresh: SOA REFRESH/RETRY/EXPIRE clamped and in milliseconds, jitter,
// retry backoff (RFC 1034 4.3.5, RFC 1912 2.2). No clock, no randomness of its own: callers pass both.

import type { ZoneConfig } from '../config/types.js';
import type { SoaTimers } from './types.js';

/** Jitter takes off at most this fraction of a delay. It only ever shortens, never lengthens, so a
 * zone is checked a little early rather than expiring late (NSD does the same). */
export const JITTER_FRACTION = 0.1;

/** A zone loaded from disk whose check is already overdue waits a random slice of this long (at most
 * its REFRESH, never past its expiry), so a restart with thousands of zones does not send thousands
 * of SOA queries in the same millisecond. */
export const START_SPREAD_MS = 30_000;

/** Node fires a setTimeout longer than this after 1 ms; longer delays must be re-armed in chunks. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Backoff doubles at most this many times; beyond it retryMax has long been reached anyway and the
 * power of two would only grow towards Infinity. */
const MAX_DOUBLINGS = 30;

/** The zone's clamps on the SOA timers, in seconds (a ZoneConfig is one). */
export type TimerClamps = Pick<ZoneConfig, 'refreshMin' | 'refreshMax' | 'retryMin' | 'retryMax' | 'expireMin' | 'expireMax'>;

/** The timers the refresh logic runs on, in milliseconds. */
export interface RefreshTimers {
  readonly refreshMs: number;
  readonly retryMs: number;
  readonly expireMs: number;
  /** Ceiling of the retry backoff (the zone's retry-max). */
  readonly retryMaxMs: number;
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(Math.max(v, min), max);
}

/**
 * The served SOA's timers clamped to the zone's bounds; with no SOA yet (nothing loaded) the lower
 * bounds, of which only the retry matters. Two further rules keep the EXPIRE the operator wrote
 * meaningful when the SOA is inconsistent (RFC 1912 2.2 wants EXPIRE well above REFRESH):
 * RETRY is at most half the EXPIRE and REFRESH at most EXPIRE - RETRY, so a check and a retry always
 * fit before the zone expires. BIND raises EXPIRE instead; we lower REFRESH, which costs only SOA
 * queries and never serves data longer than the zone owner allowed.
 */
export function clampTimers(soa: SoaTimers | null, c: TimerClamps): RefreshTimers {
  const expireMs = clamp(soa?.expire ?? c.expireMin, c.expireMin, c.expireMax) * 1000;
  const retryMs = Math.min(clamp(soa?.retry ?? c.retryMin, c.retryMin, c.retryMax) * 1000, Math.floor(expireMs / 2));
  const refreshMs = Math.min(clamp(soa?.refresh ?? c.refreshMin, c.refreshMin, c.refreshMax) * 1000, expireMs - retryMs);
  return { refreshMs, retryMs, expireMs, retryMaxMs: Math.max(c.retryMax * 1000, retryMs) };
}

/** `random` forced into [0, 1): a misbehaving source must not lengthen a timer or produce NaN. */
function unit(random: number): number {
  return Number.isFinite(random) && random > 0 ? Math.min(random, 1 - Number.EPSILON) : 0;
}

/** `ms` shortened by up to JITTER_FRACTION: never longer than `ms`, never below 90% of it. */
export function jitter(ms: number, random: number): number {
  return Math.floor(ms * (1 - unit(random) * JITTER_FRACTION));
}

/**
 * The delay before retry number `failures` (1 for the first retry): RETRY, 2x, 4x ... capped at
 * retryMax, because a primary that has been down for an hour is unlikely to be back in ten seconds
 * and hammering it helps nobody (NSD backs off the same way).
 */
export function backoffMs(t: RefreshTimers, failures: number): number {
  const doublings = clamp(Math.floor(failures) - 1, 0, MAX_DOUBLINGS);
  return Math.min(t.retryMs * 2 ** doublings, t.retryMaxMs);
}

/** `at`, but not after `expiresAt` when that is still ahead: an attempt due after the expiry would
 * let the zone expire unchecked. Once expired there is nothing left to protect. */
function beforeExpiry(at: number, now: number, expiresAt: number | null): number {
  return expiresAt !== null && expiresAt > now ? Math.min(at, expiresAt) : at;
}

/** When to check next after a success: REFRESH from now, jittered, not after expiry. */
export function nextRefreshAt(now: number, t: RefreshTimers, expiresAt: number | null, random: number): number {
  return beforeExpiry(now + jitter(t.refreshMs, random), now, expiresAt);
}

/** When to try again after `failures` failures in a row: backoff, jittered, not after expiry. */
export function nextRetryAt(now: number, t: RefreshTimers, failures: number, expiresAt: number | null, random: number): number {
  return beforeExpiry(now + jitter(backoffMs(t, failures), random), now, expiresAt);
}

/**
 * The first check of a zone loaded from disk: REFRESH after its last successful check, as if the
 * daemon had never stopped; when that is already past, a random moment in the next START_SPREAD_MS
 * (or REFRESH, if shorter). Never after expiry.
 */
export function firstCheckAt(
  now: number,
  t: RefreshTimers,
  lastRefreshed: number,
  expiresAt: number,
  random: number,
  spreadRandom: number,
): number {
  const due = lastRefreshed + jitter(t.refreshMs, random);
  const at = due > now ? due : now + Math.floor(unit(spreadRandom) * Math.min(START_SPREAD_MS, t.refreshMs));
  return beforeExpiry(at, now, expiresAt);
}
