// The zone store: what a secondary keeps under `server.storage` so a restart serves at once, without
// its primary (RFC 1034 4.3.5: the copy stays authoritative until EXPIRE). Per zone:
//
//   NAME.zone     the full copy (format.ts), rewritten atomically after an AXFR and on compaction
//   NAME.journal  the changesets applied since that copy (RFC 1995 differences, with serials),
//                 appended after each IXFR: a one-record change costs one small fsync'd write
//   NAME.timers   last successful refresh, expiry, served serial, primary (JSON with a digest)
//
// Writes are queued per zone and run one at a time, data before timers; a transfer that arrives
// while one is written is merged into the next write (changesets that chain stay incremental). A
// failed write (disk full, permission denied) is logged, kept pending, reported by failure() and
// retried with backoff; the zone in memory keeps serving. When the journal passes a bound (half
// the copy's size, or maxJournalEntries) the copy is rewritten and the journal reset (compaction).
//
// Durable state, and what a crash between any two steps leaves:
//
//   copy(G, serial S) + journal(G: S->S1->...->Sn)   load: copy, then replay the chain
//   full write:  temp, fsync, rename -> copy(G', S') + journal(G, ...)   journal of another
//                generation: ignored (all it held is in the new copy) -> header(G') replaces it
//   append:      entry written at the end of the valid part, fsync      a torn entry is ignored

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { nameFromText } from '../wire/name.js';
import { applyChangesets, ChangesetError, type Changeset } from '../zone/changeset.js';
import { buildZone, ZoneError, type Zone } from '../zone/zone.js';
import { StoreDamagedError, StoreIoError, ioError } from './errors.js';
import {
  decodeCopy,
  decodeJournal,
  decodeTimers,
  encodeCopy,
  encodeJournalEntry,
  encodeJournalHeader,
  encodeTimers,
  fileStem,
  JOURNAL_HEADER,
  type Generation,
  type StoredTimers,
} from './format.js';
import { FILE_MODE, nodeFs, readIfExists, TMP_SUFFIX, writeAll, writeAtomic, type StoreFs } from './files.js';

export type { StoredTimers } from './format.js';

/** Enough of a pino logger. */
export interface StoreLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ZoneStoreOptions {
  fs?: StoreFs;
  logger?: StoreLogger;
  now?: () => number;
  /** Compact when the journal's entries take more than this fraction of the copy's size (0.5). */
  compactRatio?: number;
  /** Compact when the journal holds this many entries (1000). */
  maxJournalEntries?: number;
  /** First retry of a failed write after this long, doubling up to retryMaxMs (5 s, 5 min). */
  retryMs?: number;
  retryMaxMs?: number;
}

/** The last failed store operation of a zone, for `secondaryd status`. */
export interface StoreFailure {
  readonly op: string;
  /** ENOSPC, EACCES, ... or ERR_STORE_DAMAGED for a copy that failed its checks at load. */
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

export type LoadResult =
  | { readonly status: 'none' }
  | { readonly status: 'damaged'; readonly error: StoreDamagedError }
  | { readonly status: 'error'; readonly error: StoreIoError }
  | {
      readonly status: 'loaded';
      readonly zone: Zone;
      /** The stored timers when present and sound (their serial may lag or lead the data's). */
      readonly timers: StoredTimers | null;
      /** When the version loaded was written: the copy's time, or its last journal entry's. */
      readonly dataSavedAt: number;
      readonly copySerial: number;
      readonly journalApplied: number;
      /** The journal's changesets applied on the copy (oldest first): the history outbound IXFR serves. */
      readonly changesets: readonly Changeset[];
      /** Octets read (copy and journal). */
      readonly bytes: number;
      /** What was found and set aside: a torn journal tail, a stale journal, damaged timers. */
      readonly notes: string[];
    };

interface Pending {
  zone: Zone;
  /** The changesets from the serial on disk to `zone`, or null: write the whole copy. */
  changesets: Changeset[] | null;
}

interface ZoneFiles {
  readonly name: string;
  readonly stem: string;
  /** Generation of the copy on disk that the journal continues; null: no known copy, write one. */
  generation: Generation | null;
  /** Serial that copy + journal give. */
  diskSerial: number | null;
  copyBytes: number;
  /** Where the next journal entry goes; 0: the journal needs its header first. */
  journalBytes: number;
  journalEntries: number;
  /** Octets past journalBytes may be junk (a torn tail, a failed append): truncate on next append. */
  journalDirty: boolean;
  timersOnDisk: StoredTimers | null;
  pending: Pending | null;
  pendingTimers: StoredTimers | null;
  writing: Promise<void> | null;
  failure: StoreFailure | null;
  retryTimer: NodeJS.Timeout | null;
  retryDelay: number;
}

function chains(older: Changeset[] | null, newer: Changeset[] | null, olderZone: Zone): boolean {
  return older !== null && newer !== null && newer.length > 0 && newer[0]!.fromSerial === olderZone.serial;
}

function sameTimers(a: StoredTimers | null, b: StoredTimers): boolean {
  return a !== null && a.serial === b.serial && a.lastRefreshed === b.lastRefreshed && a.expiresAt === b.expiresAt && a.primary === b.primary;
}

export class ZoneStore {
  readonly dir: string;
  private readonly fs: StoreFs;
  private readonly log: StoreLogger | undefined;
  private readonly now: () => number;
  private readonly compactRatio: number;
  private readonly maxJournalEntries: number;
  private readonly retryMs: number;
  private readonly retryMaxMs: number;
  private readonly zones = new Map<string, ZoneFiles>();
  private closed = false;
  /** The directory exists (open() or a write made it); until then every write tries to make it. */
  private dirReady = false;

  constructor(dir: string, opts: ZoneStoreOptions = {}) {
    this.dir = dir;
    this.fs = opts.fs ?? nodeFs;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.compactRatio = opts.compactRatio ?? 0.5;
    this.maxJournalEntries = opts.maxJournalEntries ?? 1000;
    this.retryMs = opts.retryMs ?? 5000;
    this.retryMaxMs = opts.retryMaxMs ?? 300_000;
  }

  /**
   * Create the directory (0750) and remove temp files a crash left behind. A failure is logged and
   * returned; the store still works as far as the file system lets it (every write then fails,
   * visibly, and is retried).
   */
  async open(): Promise<StoreIoError | null> {
    try {
      await this.fs.mkdir(this.dir, { recursive: true, mode: 0o750 });
      this.dirReady = true;
      for (const f of await this.fs.readdir(this.dir)) {
        if (!f.endsWith(TMP_SUFFIX)) continue;
        await this.fs.unlink(join(this.dir, f));
        this.log?.warn({ op: 'store-open', file: join(this.dir, f) }, 'removed a temp file left by an interrupted write');
      }
      return null;
    } catch (err) {
      const e = ioError('open', this.dir, err);
      this.log?.error({ op: 'store-open', err: e }, 'storage directory unusable: zones will not survive a restart');
      return e;
    }
  }

  /** The file names of a zone, relative to the directory. */
  files(name: string): { copy: string; journal: string; timers: string } {
    const stem = this.entry(name).stem;
    return { copy: `${stem}.zone`, journal: `${stem}.journal`, timers: `${stem}.timers` };
  }

  private entry(name: string): ZoneFiles {
    let f = this.zones.get(name);
    if (f === undefined) {
      f = {
        name,
        stem: fileStem(originOf(name)),
        generation: null,
        diskSerial: null,
        copyBytes: 0,
        journalBytes: 0,
        journalEntries: 0,
        journalDirty: false,
        timersOnDisk: null,
        pending: null,
        pendingTimers: null,
        writing: null,
        failure: null,
        retryTimer: null,
        retryDelay: 0,
      };
      this.zones.set(name, f);
    }
    return f;
  }

  /**
   * Load a zone: its copy, the journal replayed on it, its timers. `name` is the zone as the config
   * spells it (lower case, final dot); `origin` its wire form, which the snapshot takes.
   */
  async load(name: string, origin: Buffer): Promise<LoadResult> {
    const f = this.entry(name);
    const files = this.files(name);
    const path = (n: string): string => join(this.dir, n);
    const notes: string[] = [];
    let zone: Zone;
    let copyBuf: Buffer | null;
    let generation: Generation;
    let copySerial: number;
    let dataSavedAt: number;
    try {
      copyBuf = await readIfExists(this.fs, path(files.copy), 'read-copy');
      if (copyBuf === null) return { status: 'none' };
      const copy = decodeCopy(copyBuf, path(files.copy), origin);
      try {
        zone = buildZone(origin, copy.records());
      } catch (err) {
        if (err instanceof ZoneError) throw new StoreDamagedError('bad-contents', path(files.copy), err.message);
        throw err;
      }
      generation = copy.header.generation;
      copySerial = copy.header.serial;
      dataSavedAt = copy.header.savedAt;
    } catch (err) {
      if (err instanceof StoreDamagedError) {
        this.fail(f, 'load', err.code, err.message);
        return { status: 'damaged', error: err };
      }
      const e = ioError('read-copy', path(files.copy), err);
      this.fail(f, 'load', e.errno, e.message);
      return { status: 'error', error: e };
    }

    // The journal: applies only on top of its own copy, as a chain from the copy's serial.
    let journalBytes = 0;
    let journalEntries = 0;
    let journalDirty = false;
    let applied = 0;
    let history: Changeset[] = [];
    let bytes = copyBuf.length;
    try {
      const jbuf = await readIfExists(this.fs, path(files.journal), 'read-journal');
      if (jbuf !== null) {
        bytes += jbuf.length;
        const j = decodeJournal(jbuf, path(files.journal));
        if (j.generation !== generation) {
          notes.push('journal belongs to an earlier copy (interrupted compaction): ignored');
        } else {
          journalBytes = JOURNAL_HEADER;
          if (j.tail !== null) {
            notes.push(`journal tail ignored: ${j.tail}`);
            journalDirty = true;
          }
          const { zone: replayed, count } = replay(zone, j.entries.map((e) => e.changeset), notes);
          zone = replayed;
          applied = count;
          history = j.entries.slice(0, count).map((e) => e.changeset);
          if (count > 0) {
            journalBytes = j.entries[count - 1]!.end;
            dataSavedAt = j.entries[count - 1]!.savedAt;
          }
          if (count < j.entries.length) journalDirty = true;
          journalEntries = count;
        }
      }
    } catch (err) {
      notes.push(`journal ignored: ${(err as Error).message}`);
      journalBytes = 0;
    }

    let timers: StoredTimers | null = null;
    try {
      const tbuf = await readIfExists(this.fs, path(files.timers), 'read-timers');
      if (tbuf !== null) {
        const t = decodeTimers(tbuf.toString('utf8'), path(files.timers), name);
        timers = { serial: t.serial, lastRefreshed: t.lastRefreshed, expiresAt: t.expiresAt, primary: t.primary };
      }
    } catch (err) {
      notes.push(`timers ignored: ${(err as Error).message}`);
    }

    f.generation = generation;
    f.diskSerial = zone.serial;
    f.copyBytes = copyBuf.length;
    f.journalBytes = journalBytes;
    f.journalEntries = journalEntries;
    f.journalDirty = journalDirty;
    f.timersOnDisk = timers;
    return { status: 'loaded', zone, timers, dataSavedAt, copySerial, journalApplied: applied, changesets: history, bytes, notes };
  }

  /**
   * Persist a newly published version. `changesets` (an IXFR's, oldest first) lead from the version
   * saved before to `zone`: they are appended to the journal when they chain onto what is on disk;
   * otherwise (AXFR, or no usable copy on disk) the whole copy is written.
   */
  saveZone(name: string, zone: Zone, changesets?: readonly Changeset[]): void {
    const f = this.entry(name);
    const cs = changesets !== undefined && changesets.length > 0 ? [...changesets] : null;
    const p = f.pending;
    if (p === null) f.pending = { zone, changesets: cs };
    else f.pending = { zone, changesets: chains(p.changesets, cs, p.zone) ? [...p.changesets!, ...cs!] : null };
    this.kick(f);
  }

  /** Persist the zone's timers (written after any zone data queued before them). */
  saveTimers(name: string, timers: StoredTimers): void {
    const f = this.entry(name);
    if (f.pendingTimers === null && sameTimers(f.timersOnDisk, timers)) return;
    f.pendingTimers = { ...timers };
    this.kick(f);
  }

  /** The zone's last store failure, until a write succeeds. */
  failure(name: string): StoreFailure | null {
    return this.zones.get(name)?.failure ?? null;
  }

  /** What the store knows of a zone's files (for tests, bench and status). */
  info(name: string): { diskSerial: number | null; copyBytes: number; journalBytes: number; journalEntries: number; pending: boolean } | undefined {
    const f = this.zones.get(name);
    if (f === undefined) return undefined;
    return { diskSerial: f.diskSerial, copyBytes: f.copyBytes, journalBytes: f.journalBytes, journalEntries: f.journalEntries, pending: f.pending !== null || f.pendingTimers !== null };
  }

  /** Wait until every queued write has been tried once (failures stay pending and reported). */
  async flush(): Promise<void> {
    for (;;) {
      const busy = [...this.zones.values()].filter((f) => f.writing !== null).map((f) => f.writing);
      if (busy.length === 0) break;
      await Promise.all(busy);
    }
    // Pending writes whose retry timer has not fired yet: one more attempt now.
    const waiting = [...this.zones.values()].filter((f) => (f.pending !== null || f.pendingTimers !== null) && f.writing === null);
    for (const f of waiting) {
      if (f.retryTimer !== null) clearTimeout(f.retryTimer);
      f.retryTimer = null;
      this.kick(f, true);
    }
    await Promise.all(waiting.map((f) => f.writing));
  }

  /** Flush, then stop retrying (SIGTERM). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const f of this.zones.values()) {
      if (f.retryTimer !== null) clearTimeout(f.retryTimer);
      f.retryTimer = null;
    }
  }

  // --- the per-zone writer ----------------------------------------------------------------------

  private kick(f: ZoneFiles, force = false): void {
    if (f.writing !== null || (this.closed && !force)) return;
    if (f.retryTimer !== null && !force) return; // a failed write waits for its retry
    f.writing = this.drain(f).finally(() => {
      f.writing = null;
    });
  }

  private async drain(f: ZoneFiles): Promise<void> {
    while (f.pending !== null || f.pendingTimers !== null) {
      const p = f.pending;
      const t = f.pendingTimers;
      f.pending = null;
      f.pendingTimers = null;
      try {
        if (!this.dirReady) {
          await this.fs.mkdir(this.dir, { recursive: true, mode: 0o750 }).catch((err: unknown) => {
            throw ioError('mkdir', this.dir, err);
          });
          this.dirReady = true;
        }
        if (p !== null) await this.writeZone(f, p);
        if (t !== null) {
          await writeAtomic(this.fs, this.dir, `${f.stem}.timers`, [Buffer.from(encodeTimers(f.name, t, this.now()))], 'write-timers');
          f.timersOnDisk = t;
        }
        if (f.failure !== null) this.log?.info({ zone: f.name, op: 'store' }, 'storage writes succeed again');
        f.failure = null;
        f.retryDelay = 0;
      } catch (err) {
        // Put back what was not written, under anything newer that came meanwhile.
        if (p !== null) {
          const newer = f.pending as Pending | null; // set again by a saveZone meanwhile
          f.pending = newer === null ? p : { zone: newer.zone, changesets: chains(p.changesets, newer.changesets, p.zone) ? [...p.changesets!, ...newer.changesets!] : null };
        }
        if (t !== null && f.pendingTimers === null) f.pendingTimers = t;
        const e = ioError('write', this.dir, err);
        this.fail(f, e.op, e.errno, e.message);
        f.retryDelay = Math.min(f.retryDelay === 0 ? this.retryMs : f.retryDelay * 2, this.retryMaxMs);
        this.log?.error({ zone: f.name, op: 'store', err: e, retryInMs: f.retryDelay }, 'storage write failed: the zone keeps serving from memory; retrying');
        if (!this.closed) {
          f.retryTimer = setTimeout(() => {
            f.retryTimer = null;
            this.kick(f);
          }, f.retryDelay);
          f.retryTimer.unref();
        }
        return;
      }
    }
  }

  private fail(f: ZoneFiles, op: string, code: string, message: string): void {
    f.failure = { op, code, message, at: this.now() };
  }

  private async writeZone(f: ZoneFiles, p: Pending): Promise<void> {
    const cs = p.changesets;
    if (cs !== null && f.generation !== null && f.diskSerial === cs[0]!.fromSerial) {
      const started = performance.now();
      const n = await this.append(f, cs);
      this.log?.debug({ zone: f.name, op: 'store-journal', serial: p.zone.serial, bytes: n, entries: f.journalEntries, durationMs: Math.round(performance.now() - started) }, 'changesets appended to the journal');
      if (f.journalEntries >= this.maxJournalEntries || f.journalBytes - JOURNAL_HEADER > f.copyBytes * this.compactRatio) {
        await this.writeCopy(f, p.zone, 'compaction');
      }
      return;
    }
    await this.writeCopy(f, p.zone, cs === null ? 'full' : 'no base on disk');
  }

  /** Rewrite the copy (new generation), then reset the journal to an empty one of that generation. */
  private async writeCopy(f: ZoneFiles, zone: Zone, why: string): Promise<void> {
    const started = performance.now();
    const generation = randomBytes(8).toString('hex');
    // Until both files are in place, what is on disk is unknown to us: a failure here means the
    // next write is a full one again.
    f.generation = null;
    f.diskSerial = null;
    const bytes = await writeAtomic(this.fs, this.dir, `${f.stem}.zone`, encodeCopy(zone, { generation, savedAt: this.now() }), 'write-copy');
    f.generation = generation;
    f.diskSerial = zone.serial;
    f.copyBytes = bytes;
    f.journalBytes = 0;
    f.journalEntries = 0;
    f.journalDirty = false;
    await this.resetJournal(f);
    this.log?.info({ zone: f.name, op: 'store', serial: zone.serial, records: zone.records, bytes, why, durationMs: Math.round(performance.now() - started) }, 'zone copy written');
  }

  private async resetJournal(f: ZoneFiles): Promise<void> {
    f.journalBytes = await writeAtomic(this.fs, this.dir, `${f.stem}.journal`, [encodeJournalHeader(f.generation!)], 'write-journal');
    f.journalEntries = 0;
    f.journalDirty = false;
  }

  /** Append changesets at the end of the journal's valid part, fsync'd. Returns the octets added. */
  private async append(f: ZoneFiles, cs: readonly Changeset[]): Promise<number> {
    if (f.journalBytes === 0) await this.resetJournal(f);
    const now = this.now();
    const buf = Buffer.concat(cs.map((c) => encodeJournalEntry(c, now)));
    const file = join(this.dir, `${f.stem}.journal`);
    let fh;
    try {
      fh = await this.fs.open(file, 'r+', FILE_MODE);
    } catch (err) {
      throw ioError('append-journal', file, err);
    }
    try {
      // A failure past this point may leave a partial entry after journalBytes: the next append
      // overwrites it, and on replay a bad entry ends the journal.
      f.journalDirty = true;
      await writeAll(fh, buf, f.journalBytes);
      await fh.truncate(f.journalBytes + buf.length);
      await fh.sync();
      f.journalDirty = false;
    } catch (err) {
      throw ioError('append-journal', file, err);
    } finally {
      await fh.close().catch(() => undefined);
    }
    f.journalBytes += buf.length;
    f.journalEntries += cs.length;
    f.diskSerial = cs[cs.length - 1]!.toSerial;
    return buf.length;
  }
}

/** Apply the journal's changesets to the copy: all at once (O(change)), or else one at a time up to
 * the first that does not apply. Returns the zone and how many applied. */
function replay(zone: Zone, changesets: Changeset[], notes: string[]): { zone: Zone; count: number } {
  if (changesets.length === 0) return { zone, count: 0 };
  try {
    return { zone: applyChangesets(zone, changesets), count: changesets.length };
  } catch (err) {
    if (!(err instanceof ChangesetError)) throw err;
  }
  let z = zone;
  for (let i = 0; i < changesets.length; i++) {
    try {
      z = applyChangesets(z, [changesets[i]!]);
    } catch (err) {
      if (!(err instanceof ChangesetError)) throw err;
      notes.push(`journal entry ${i} (serial ${changesets[i]!.fromSerial} to ${changesets[i]!.toSerial}) does not apply, it and later ones ignored: ${err.message}`);
      return { zone: z, count: i };
    }
  }
  return { zone: z, count: changesets.length };
}

/** The wire form of a zone name as the config spells it. */
function originOf(name: string): Buffer {
  return nameFromText(name.endsWith('.') ? name : `${name}.`);
}
