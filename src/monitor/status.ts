// Per-zone status: what `secondaryd status`, and later /status and the metrics, report.

import { timersOf, type ZoneRefreshState } from '../refresh/reducer.js';
import type { ZoneConfig } from '../config/types.js';
import { UnservedZone, type TableEntry } from '../zone/zone-table.js';
import { earliestSignatureExpiration } from './signatures.js';

/** What the refresh machinery is doing (secondaries), or whether the file loaded (file zones). */
export type ZoneState = 'loading' | 'fresh' | 'refreshing' | 'retrying' | 'expired' | 'loaded' | 'failed';

/**
 * The zone's health, worst first: expired (nothing served), failing (checks or transfers failed
 * `alerts.failing-after` times in a row, or a file that did not load), stale (a primary has had a
 * newer serial for `alerts.stale-after`, or no check succeeded for REFRESH + `stale-after`),
 * loading (first transfer not done yet, not failing yet), fresh.
 */
export type Health = 'fresh' | 'loading' | 'stale' | 'failing' | 'expired';

/** Conditions that raise an alert while they hold (see alerts.ts). */
export const CONDITIONS = ['expired', 'failing', 'stale', 'expiring', 'serial-backwards', 'signatures-expiring', 'storage-failing'] as const;
export type Condition = (typeof CONDITIONS)[number];

export interface ZoneStatus {
  zone: string;
  /** Pulled from primaries, or served from a master file. */
  kind: 'secondary' | 'file';
  state: ZoneState;
  health: Health;
  /** The alert conditions that hold now, worst first. */
  conditions: Condition[];
  /** Serial served now, or null. */
  serial: number | null;
  /** Serial last seen on a primary, and which primary. */
  primarySerial: number | null;
  primary: string | null;
  /** Every primary that answered, with the serial it last reported and when (ISO). */
  primaries: { primary: string; serial: number; at: string }[];
  /** Since when (ISO), and for how many seconds, a primary has had a newer serial than we serve. */
  primaryAheadSince: string | null;
  lagSeconds: number | null;
  /** Records served (RRSIGs included), or null. */
  records: number | null;
  /** The SOA REFRESH we run on (clamped), in seconds; null until known. */
  refreshSeconds: number | null;
  /** ISO times. */
  lastSuccess: string | null;
  nextRefresh: string | null;
  /** Seconds until EXPIRE passes without a successful check (negative once expired). */
  expiresIn: number | null;
  failures: number;
  lastError: { reason: string; message: string; at: string; op: string } | null;
  serialWentBackwards: { ours: number; theirs: number; primary: string } | null;
  /** The last successful transfer since the daemon started. */
  lastTransfer: LastTransfer | null;
  /** Signed zones: when the earliest RRSIG served expires (ISO), and in how many seconds. */
  signaturesExpire: string | null;
  signaturesExpireIn: number | null;
  /** The last failed write (or unusable copy) under server.storage, until a write succeeds: the
   * zone keeps serving from memory, but would not survive a restart as it is. */
  storageError: { op: string; code: string; message: string; at: string } | null;
}

export interface LastTransfer {
  kind: string;
  at: string;
  primary: string;
  durationMs: number;
  bytes: number;
  records: number;
}

/** What the daemon knows about a zone beyond its refresh state. */
export interface ZoneExtras {
  readonly storage?: StorageFailure | null;
  readonly lastTransfer?: LastTransfer | null;
}

/** A store failure as the store reports it (structural: monitor does not import the store). */
export interface StorageFailure {
  readonly op: string;
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function zoneStatus(zc: ZoneConfig, entry: TableEntry | undefined, refresh: ZoneRefreshState | undefined, now: number, extras: ZoneExtras = {}): ZoneStatus {
  const storage = extras.storage ?? null;
  const lastTransfer = extras.lastTransfer ?? null;
  const storageError = storage === null ? null : { op: storage.op, code: storage.code, message: storage.message, at: new Date(storage.at).toISOString() };
  const served = entry === undefined || entry instanceof UnservedZone ? undefined : entry;
  const sigs = served === undefined ? null : earliestSignatureExpiration(served, Math.floor(now / 1000));
  const signatures = { signaturesExpire: sigs === null ? null : iso(sigs * 1000), signaturesExpireIn: sigs === null ? null : sigs - Math.floor(now / 1000) };
  const records = served === undefined ? null : served.records;
  let status: ZoneStatus;
  if (zc.file !== undefined || refresh === undefined) {
    status = {
      zone: zc.name,
      kind: 'file',
      state: served ? 'loaded' : 'failed',
      health: served ? 'fresh' : 'failing',
      conditions: [],
      serial: served ? served.serial : null,
      primarySerial: null,
      primary: null,
      primaries: [],
      primaryAheadSince: null,
      lagSeconds: null,
      records,
      refreshSeconds: null,
      lastSuccess: null,
      nextRefresh: null,
      expiresIn: null,
      failures: served ? 0 : 1,
      lastError: null,
      serialWentBackwards: null,
      lastTransfer,
      ...signatures,
      storageError,
    };
  } else {
    const e = refresh.lastError;
    const back = refresh.serialWentBackwards;
    const ahead = refresh.primaryAheadSince;
    status = {
      zone: zc.name,
      kind: 'secondary',
      state: refresh.status,
      health: 'fresh',
      conditions: [],
      serial: refresh.servedSerial,
      primarySerial: refresh.primarySerial,
      primary: refresh.primary,
      primaries: Object.entries(refresh.primarySerials).map(([primary, p]) => ({ primary, serial: p.serial, at: new Date(p.at).toISOString() })),
      primaryAheadSince: iso(ahead),
      lagSeconds: ahead === null ? null : Math.round((now - ahead) / 1000),
      records,
      refreshSeconds: refresh.soa === null ? null : timersOf(refresh).refreshMs / 1000,
      lastSuccess: iso(refresh.lastRefreshed),
      nextRefresh: iso(refresh.nextAttemptAt),
      expiresIn: refresh.expiresAt === null ? null : Math.round((refresh.expiresAt - now) / 1000),
      failures: refresh.failures,
      lastError: e === null ? null : { reason: e.reason, message: e.message, at: new Date(e.at).toISOString(), op: e.op },
      serialWentBackwards: back === null ? null : { ours: back.ours, theirs: back.theirs, primary: back.primary },
      lastTransfer,
      ...signatures,
      storageError,
    };
  }
  status.conditions = conditionsOf(status, zc.alerts, now);
  status.health = healthOf(status, zc.alerts, now);
  return status;
}

/** Thresholds, in seconds, that turn a zone's facts into conditions (a subset of AlertSettings). */
export interface Thresholds {
  readonly failingAfter: number;
  readonly staleAfter: number;
  readonly expiringWithin: number;
  readonly signaturesExpiringWithin: number;
}

function isStale(s: ZoneStatus, t: Thresholds, now: number): boolean {
  if (s.kind !== 'secondary' || s.state === 'expired') return false;
  if (s.lagSeconds !== null && s.lagSeconds > t.staleAfter) return true;
  // A check is due every REFRESH: none succeeded for REFRESH + stale-after is stale too.
  return s.lastSuccess !== null && s.refreshSeconds !== null && (now - Date.parse(s.lastSuccess)) / 1000 > s.refreshSeconds + t.staleAfter;
}

function conditionsOf(s: ZoneStatus, t: Thresholds, now: number): Condition[] {
  const out: Condition[] = [];
  if (s.state === 'expired') out.push('expired');
  if (s.state === 'failed' || (s.kind === 'secondary' && s.failures >= t.failingAfter)) out.push('failing');
  if (isStale(s, t, now)) out.push('stale');
  // Only once a check has failed: a zone whose EXPIRE is shorter than the threshold is not in
  // trouble while its checks succeed.
  if (s.state !== 'expired' && s.failures > 0 && s.expiresIn !== null && t.expiringWithin > 0 && s.expiresIn <= t.expiringWithin) out.push('expiring');
  if (s.serialWentBackwards !== null) out.push('serial-backwards');
  if (s.signaturesExpireIn !== null && t.signaturesExpiringWithin > 0 && s.signaturesExpireIn <= t.signaturesExpiringWithin) out.push('signatures-expiring');
  if (s.storageError !== null) out.push('storage-failing');
  return out;
}

function healthOf(s: ZoneStatus, t: Thresholds, now: number): Health {
  if (s.state === 'expired') return 'expired';
  if (s.conditions.includes('failing')) return 'failing';
  if (isStale(s, t, now)) return 'stale';
  if (s.state === 'loading') return 'loading';
  return 'fresh';
}

/** Is this zone in trouble (an alert condition holds, or it is not served yet)? `status` exits 1
 * and /healthz answers 503 when any is. */
export function isFailing(s: ZoneStatus): boolean {
  return s.conditions.length > 0 || s.health === 'loading';
}

/** The human table of `secondaryd status`. */
export function formatStatusTable(rows: ZoneStatus[], now: number): string {
  const ago = (t: string | null): string => (t === null ? '-' : `${human((now - Date.parse(t)) / 1000)} ago`);
  const until = (t: string | null): string => (t === null ? '-' : `in ${human((Date.parse(t) - now) / 1000)}`);
  const header = ['ZONE', 'HEALTH', 'STATE', 'SERIAL', 'PRIMARY SERIAL', 'LAST SUCCESS', 'NEXT REFRESH', 'EXPIRES IN', 'PROBLEMS'];
  const lines = rows.map((r) => [
    r.zone,
    r.health,
    r.state,
    r.serial === null ? '-' : String(r.serial),
    r.primarySerial === null ? '-' : r.lagSeconds === null ? String(r.primarySerial) : `${r.primarySerial} (ahead ${human(r.lagSeconds)})`,
    ago(r.lastSuccess),
    until(r.nextRefresh),
    r.expiresIn === null ? '-' : r.expiresIn < 0 ? 'expired' : human(r.expiresIn),
    [
      r.conditions.join(','),
      r.serialWentBackwards ? `primary serial went backwards (${r.serialWentBackwards.theirs} < ${r.serialWentBackwards.ours})` : r.lastError ? `${r.lastError.reason}: ${r.lastError.message}` : '',
      r.storageError ? `storage ${r.storageError.code}: ${r.storageError.message}` : '',
      r.signaturesExpireIn !== null && r.conditions.includes('signatures-expiring') ? `signatures expire in ${human(r.signaturesExpireIn)}` : '',
    ]
      .filter((x) => x !== '')
      .join('; ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines].map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** A duration for people: 45s, 12m, 5h, 3d. */
export function human(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
