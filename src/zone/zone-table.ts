// The zone table: every served zone by name, longest-match lookup (RFC 1034 4.3.2 step 2).
// This is the one place a snapshot is published: replacing a zone is one Map.set.

import { nameKey, type Zone } from './zone.js';

/**
 * A zone we are authoritative for but cannot serve: a secondary not yet transferred, or one whose
 * EXPIRE passed (RFC 1034 4.3.5). Its names get SERVFAIL rather than REFUSED or a parent's answer.
 */
export class UnservedZone {
  constructor(
    readonly origin: Buffer,
    readonly why: 'loading' | 'expired',
  ) {}
}

export type TableEntry = Zone | UnservedZone;

export class ZoneTable {
  private readonly zones = new Map<string, TableEntry>();
  /** Bumped on every change, so answers cached from an older table are not used. */
  generation = 0;

  /** Publish (or replace) a zone snapshot. Queries already holding the old one finish with it. */
  publish(zone: TableEntry): void {
    this.zones.set(nameKey(zone.origin), zone);
    this.generation++;
  }

  remove(key: string): boolean {
    this.generation++;
    return this.zones.delete(key);
  }

  get(key: string): TableEntry | undefined {
    return this.zones.get(key);
  }

  /** The servable snapshot under `key`, if there is one. */
  served(key: string): Zone | undefined {
    const z = this.zones.get(key);
    return z instanceof UnservedZone ? undefined : z;
  }

  get size(): number {
    return this.zones.size;
  }

  values(): IterableIterator<TableEntry> {
    return this.zones.values();
  }

  /**
   * The zone with the longest origin that is a suffix of the query name. `lower` holds the lower-cased
   * wire-form query name from offset `start`; `labelStarts` the offset of each label, leftmost first.
   * `skip` labels at the left are not considered (DS queries look one level up, RFC 4035 3.1.4.1).
   */
  find(lower: Buffer, labelStarts: ArrayLike<number>, labelCount: number, end: number, skip = 0): TableEntry | undefined {
    if (this.zones.size === 0) return undefined;
    for (let i = skip; i <= labelCount; i++) {
      const z = this.zones.get(lower.toString('latin1', i < labelCount ? labelStarts[i]! : end - 1, end));
      if (z !== undefined) return z;
    }
    return undefined;
  }
}
