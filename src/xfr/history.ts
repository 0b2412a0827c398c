// A zone's recent history for outbound IXFR (RFC 1995 4): the changesets between the versions we
// served, oldest first, as one unbroken chain ending at the served version.
//
// Kept in memory by the daemon: seeded from the store's journal when a zone is loaded from storage
// (so it survives restarts as far as the journal goes, which is back to the last compaction), then
// extended by every IXFR we apply. A version that does not continue the chain (an AXFR, a reloaded
// master file) restarts it empty: a client older than that version gets the AXFR form. Bounded by
// changesets and by records so a busy zone's history costs at most about one zone's worth of memory.

import { serialCompare } from '../wire/serial.js';
import type { Changeset } from '../zone/changeset.js';

export interface HistoryLimits {
  /** Most changesets kept (1000, the store's journal bound). */
  maxChangesets?: number;
  /** Most records (deletions and additions) kept over all changesets. */
  maxRecords?: number;
}

export class ZoneHistory {
  private changesets: Changeset[] = [];
  private records = 0;
  private readonly maxChangesets: number;
  private readonly maxRecords: number;

  constructor(limits: HistoryLimits = {}) {
    this.maxChangesets = limits.maxChangesets ?? 1000;
    this.maxRecords = limits.maxRecords ?? 1_000_000;
  }

  get length(): number {
    return this.changesets.length;
  }

  /** Serial the chain ends at, or undefined when empty. */
  get lastSerial(): number | undefined {
    return this.changesets.at(-1)?.toSerial;
  }

  /** Serial the chain starts at, or undefined when empty. */
  get firstSerial(): number | undefined {
    return this.changesets[0]?.fromSerial;
  }

  /**
   * A new version was published. `changesets` (oldest first) lead to it from the version before:
   * appended when they continue the chain, else the chain starts again with them. Without
   * changesets (AXFR, file reload) the chain is cleared.
   */
  record(changesets: readonly Changeset[] | undefined): void {
    if (changesets === undefined || changesets.length === 0) {
      this.clear();
      return;
    }
    const last = this.lastSerial;
    if (last === undefined || serialCompare(last, changesets[0]!.fromSerial) !== 0) this.clear();
    for (const cs of changesets) {
      this.changesets.push(cs);
      this.records += cs.added.length + cs.removed.length;
    }
    this.trim();
  }

  clear(): void {
    this.changesets = [];
    this.records = 0;
  }

  /** The changesets from version `from` to version `to` (oldest first), or undefined when not held. */
  chain(from: number, to: number): readonly Changeset[] | undefined {
    if (this.lastSerial !== to) return undefined;
    const i = this.changesets.findIndex((cs) => cs.fromSerial === from);
    return i < 0 ? undefined : this.changesets.slice(i);
  }

  private trim(): void {
    let drop = 0;
    let records = this.records;
    while (this.changesets.length - drop > 1 && (this.changesets.length - drop > this.maxChangesets || records > this.maxRecords)) {
      const cs = this.changesets[drop]!;
      records -= cs.added.length + cs.removed.length;
      drop++;
    }
    if (drop > 0) {
      this.changesets = this.changesets.slice(drop);
      this.records = records;
    }
  }
}
