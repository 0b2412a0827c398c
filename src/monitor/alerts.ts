// Alerts on zone trouble: which conditions hold (status.ts decides), turned into one alert per
// transition. A condition that starts sends its alert once; while it holds, a reminder every
// `repeat-interval`; when the last one of an episode clears, one `recovered` alert names them all.
// Pure bookkeeping on an injected clock; delivery (webhook, command) is notifier.ts's job.

import type { AlertSettings } from '../config/types.js';
import { CONDITIONS, human, type Condition, type Health, type ZoneStatus } from './status.js';

export type AlertEvent = Condition | 'recovered';

/** The JSON document a webhook receives (and a command reads on stdin). */
export interface AlertDocument {
  /** Payload format version. */
  readonly version: 1;
  readonly event: AlertEvent;
  readonly zone: string;
  /** A condition still holding, sent again after `repeat-interval`. */
  readonly reminder: boolean;
  /** ISO time of the alert. */
  readonly at: string;
  /** The host the daemon runs on. */
  readonly host: string;
  /** One line for people. */
  readonly message: string;
  readonly health: Health;
  /** The conditions that hold now (after this alert's transition). */
  readonly conditions: readonly Condition[];
  /** For `recovered`: the conditions of the episode that ended. */
  readonly resolved: readonly Condition[];
  /** ISO time the condition (or, for recovered, the episode) started. */
  readonly since: string;
  readonly serial: number | null;
  readonly primarySerial: number | null;
  readonly primary: string | null;
  readonly lagSeconds: number | null;
  readonly failures: number;
  readonly lastError: ZoneStatus['lastError'];
  readonly expiresIn: number | null;
  readonly signaturesExpireIn: number | null;
}

export interface PendingAlert {
  readonly document: AlertDocument;
  readonly settings: AlertSettings;
}

interface Active {
  readonly since: number;
  lastSent: number;
}

interface ZoneAlerts {
  readonly active: Map<Condition, Active>;
  /** Every condition alerted since the zone was last clear, and when that began. */
  readonly episode: Set<Condition>;
  episodeSince: number;
}

/** The alert's line for people. */
export function alertMessage(event: AlertEvent, s: ZoneStatus, resolved: readonly Condition[]): string {
  const z = s.zone;
  const err = s.lastError === null ? '' : ` (last: ${s.lastError.reason}: ${s.lastError.message})`;
  switch (event) {
    case 'expired':
      return `${z}: expired: no successful refresh within EXPIRE, answering SERVFAIL${err}`;
    case 'failing':
      return s.kind === 'file' ? `${z}: the zone file did not load` : `${z}: ${s.failures} refresh attempts failed in a row${err}`;
    case 'stale':
      return s.lagSeconds !== null
        ? `${z}: primary ${s.primary ?? '?'} has had serial ${s.primarySerial ?? '?'} for ${human(s.lagSeconds)}; still serving ${s.serial ?? '-'}`
        : `${z}: no successful check since ${s.lastSuccess ?? 'start'}; serving ${s.serial ?? '-'}`;
    case 'expiring':
      return `${z}: expires in ${human(s.expiresIn ?? 0)} unless a refresh succeeds${err}`;
    case 'serial-backwards': {
      const b = s.serialWentBackwards;
      return b === null ? `${z}: a primary's serial went backwards` : `${z}: primary ${b.primary} reports serial ${b.theirs}, behind ours (${b.ours}): not following it`;
    }
    case 'signatures-expiring':
      return `${z}: the earliest RRSIG expires in ${human(s.signaturesExpireIn ?? 0)} (${s.signaturesExpire ?? '?'}): has the primary's signer stopped?`;
    case 'storage-failing':
      return `${z}: cannot save the zone to storage${s.storageError ? ` (${s.storageError.code}: ${s.storageError.message})` : ''}: it would not survive a restart`;
    case 'recovered':
      return `${z}: recovered from ${resolved.join(', ')}; serving serial ${s.serial ?? '-'}`;
  }
}

export class AlertEngine {
  private readonly zones = new Map<string, ZoneAlerts>();

  constructor(private readonly host: string) {}

  /**
   * Compare each zone's conditions with what was already alerted. Returns the alerts to send now, in
   * zone order, worst condition first. `settingsOf` gives a zone's alert settings (reminder interval
   * and targets).
   */
  evaluate(statuses: readonly ZoneStatus[], settingsOf: (zone: string) => AlertSettings | undefined, now: number): PendingAlert[] {
    const out: PendingAlert[] = [];
    for (const s of statuses) {
      const settings = settingsOf(s.zone);
      if (settings === undefined) continue;
      let z = this.zones.get(s.zone);
      if (z === undefined) {
        z = { active: new Map(), episode: new Set(), episodeSince: now };
        this.zones.set(s.zone, z);
      }
      const holding = new Set(s.conditions);
      for (const c of [...z.active.keys()]) if (!holding.has(c)) z.active.delete(c);
      for (const c of CONDITIONS) {
        if (!holding.has(c)) continue;
        const a = z.active.get(c);
        if (a === undefined) {
          if (z.episode.size === 0) z.episodeSince = now;
          z.active.set(c, { since: now, lastSent: now });
          z.episode.add(c);
          out.push({ document: this.document(c, s, false, now, now, []), settings });
        } else if (settings.repeatInterval > 0 && now - a.lastSent >= settings.repeatInterval * 1000) {
          a.lastSent = now;
          out.push({ document: this.document(c, s, true, a.since, now, []), settings });
        }
      }
      if (z.active.size === 0 && z.episode.size > 0) {
        const resolved = CONDITIONS.filter((c) => z.episode.has(c));
        z.episode.clear();
        out.push({ document: this.document('recovered', s, false, z.episodeSince, now, resolved), settings });
      }
    }
    return out;
  }

  /** Drop a zone's bookkeeping (removed from the config). */
  forget(zone: string): void {
    this.zones.delete(zone);
  }

  private document(event: AlertEvent, s: ZoneStatus, reminder: boolean, since: number, now: number, resolved: readonly Condition[]): AlertDocument {
    return {
      version: 1,
      event,
      zone: s.zone,
      reminder,
      at: new Date(now).toISOString(),
      host: this.host,
      message: alertMessage(event, s, resolved),
      health: s.health,
      conditions: s.conditions,
      resolved,
      since: new Date(since).toISOString(),
      serial: s.serial,
      primarySerial: s.primarySerial,
      primary: s.primary,
      lagSeconds: s.lagSeconds,
      failures: s.failures,
      lastError: s.lastError,
      expiresIn: s.expiresIn,
      signaturesExpireIn: s.signaturesExpireIn,
    };
  }
}
