// Per-zone status: what `secondaryd status`, and later /status and the metrics, report.

import type { ZoneRefreshState } from '../refresh/reducer.js';
import type { ZoneConfig } from '../config/types.js';
import { UnservedZone, type TableEntry } from '../zone/zone-table.js';

export type ZoneState = 'loading' | 'fresh' | 'refreshing' | 'retrying' | 'expired' | 'loaded' | 'failed';

export interface ZoneStatus {
  zone: string;
  /** Pulled from primaries, or served from a master file. */
  kind: 'secondary' | 'file';
  state: ZoneState;
  /** Serial served now, or null. */
  serial: number | null;
  /** Serial last seen on a primary, and which primary. */
  primarySerial: number | null;
  primary: string | null;
  /** ISO times. */
  lastSuccess: string | null;
  nextRefresh: string | null;
  /** Seconds until EXPIRE passes without a successful check (negative once expired). */
  expiresIn: number | null;
  failures: number;
  lastError: { reason: string; message: string; at: string; op: string } | null;
  serialWentBackwards: { ours: number; theirs: number; primary: string } | null;
  /** The last failed write (or unusable copy) under server.storage, until a write succeeds: the
   * zone keeps serving from memory, but would not survive a restart as it is. */
  storageError: { op: string; code: string; message: string; at: string } | null;
}

/** A store failure as the store reports it (structural: monitor does not import the store). */
export interface StorageFailure {
  readonly op: string;
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function zoneStatus(zc: ZoneConfig, entry: TableEntry | undefined, refresh: ZoneRefreshState | undefined, now: number, storage: StorageFailure | null = null): ZoneStatus {
  const storageError = storage === null ? null : { op: storage.op, code: storage.code, message: storage.message, at: new Date(storage.at).toISOString() };
  if (zc.file !== undefined || refresh === undefined) {
    const served = entry === undefined || entry instanceof UnservedZone ? undefined : entry;
    return {
      zone: zc.name,
      kind: 'file',
      state: served ? 'loaded' : 'failed',
      serial: served ? served.serial : null,
      primarySerial: null,
      primary: null,
      lastSuccess: null,
      nextRefresh: null,
      expiresIn: null,
      failures: served ? 0 : 1,
      lastError: null,
      serialWentBackwards: null,
      storageError,
    };
  }
  const e = refresh.lastError;
  const back = refresh.serialWentBackwards;
  return {
    zone: zc.name,
    kind: 'secondary',
    state: refresh.status,
    serial: refresh.servedSerial,
    primarySerial: refresh.primarySerial,
    primary: refresh.primary,
    lastSuccess: iso(refresh.lastRefreshed),
    nextRefresh: iso(refresh.nextAttemptAt),
    expiresIn: refresh.expiresAt === null ? null : Math.round((refresh.expiresAt - now) / 1000),
    failures: refresh.failures,
    lastError: e === null ? null : { reason: e.reason, message: e.message, at: new Date(e.at).toISOString(), op: e.op },
    serialWentBackwards: back === null ? null : { ours: back.ours, theirs: back.theirs, primary: back.primary },
    storageError,
  };
}

/** Is this zone in trouble (failing, expired, not loaded, not being saved)? `status` exits 1 when any is. */
export function isFailing(s: ZoneStatus): boolean {
  return s.state === 'expired' || s.state === 'failed' || s.state === 'loading' || s.state === 'retrying' || s.serialWentBackwards !== null || s.storageError !== null;
}

/** The human table of `secondaryd status`. */
export function formatStatusTable(rows: ZoneStatus[], now: number): string {
  const ago = (t: string | null): string => (t === null ? '-' : `${human((now - Date.parse(t)) / 1000)} ago`);
  const until = (t: string | null): string => (t === null ? '-' : `in ${human((Date.parse(t) - now) / 1000)}`);
  const header = ['ZONE', 'STATE', 'SERIAL', 'PRIMARY SERIAL', 'LAST SUCCESS', 'NEXT REFRESH', 'EXPIRES IN', 'LAST ERROR'];
  const lines = rows.map((r) => [
    r.zone,
    r.state,
    r.serial === null ? '-' : String(r.serial),
    r.primarySerial === null ? '-' : String(r.primarySerial),
    ago(r.lastSuccess),
    until(r.nextRefresh),
    r.expiresIn === null ? '-' : r.expiresIn < 0 ? 'expired' : human(r.expiresIn),
    [
      r.serialWentBackwards ? `primary serial went backwards (${r.serialWentBackwards.theirs} < ${r.serialWentBackwards.ours})` : r.lastError ? `${r.lastError.reason}: ${r.lastError.message}` : '',
      r.storageError ? `storage ${r.storageError.code}: ${r.storageError.message}` : '',
    ]
      .filter((x) => x !== '')
      .join('; ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines].map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

function human(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
