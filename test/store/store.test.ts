// The zone store on a real file system: save and load, journal replay after several IXFRs against an
// independent oracle, compaction, a crash at every step of every kind of write, every partial temp
// file, truncated files, and storage failures that are reported and retried.

import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { encodeCopyBuffer, JOURNAL_HEADER } from '../../src/store/format.js';
import { ZoneStore, type LoadResult, type StoredTimers } from '../../src/store/zone-store.js';
import type { Zone } from '../../src/zone/zone.js';
import { allTypesZone, errno, exactKeys, FaultFs, history, type Fault, type Version } from './util.js';

const NAME = 'example.';
const base = allTypesZone();
const ORIGIN = base.origin;
const VERSIONS = history(base, 8, 42);

function tmp(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'secondaryd-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'storage');
}

const timersFor = (z: Zone, at: number): StoredTimers => ({ serial: z.serial, lastRefreshed: at, expiresAt: at + 3_600_000, primary: '192.0.2.1:53' });

async function loadFresh(dir: string): Promise<LoadResult> {
  const s = new ZoneStore(dir);
  await s.open();
  return s.load(NAME, ORIGIN);
}

function loaded(t: Test, r: LoadResult, what: string): Zone {
  if (r.status !== 'loaded') {
    t.fail(`${what}: ${r.status}${'error' in r ? `: ${r.error.message}` : ''}`);
    throw new Error('not loaded');
  }
  return r.zone;
}

/** Which version of VERSIONS a zone is, by its records; -1 for none. */
function versionOf(z: Zone, versions: Version[] = VERSIONS): number {
  const keys = JSON.stringify(exactKeys(z));
  return versions.findIndex((v) => JSON.stringify(v.keys) === keys);
}

t.test('save and load: the copy, the timers, the modes', async (t) => {
  const dir = tmp(t);
  const s = new ZoneStore(dir);
  t.equal(await s.open(), null);
  t.equal(statSync(dir).mode & 0o777, 0o750, 'directory 0750');
  t.same(await s.load(NAME, ORIGIN), { status: 'none' }, 'nothing stored yet');
  s.saveZone(NAME, base);
  s.saveTimers(NAME, timersFor(base, 1000));
  await s.flush();
  t.same(readdirSync(dir).sort(), ['example.journal', 'example.timers', 'example.zone']);
  for (const f of readdirSync(dir)) t.equal(statSync(path.join(dir, f)).mode & 0o777, 0o640, `${f} 0640`);
  t.equal(s.failure(NAME), null);
  const r = await loadFresh(dir);
  const z = loaded(t, r, 'load');
  t.same(exactKeys(z), exactKeys(base), 'every record back, octet for octet');
  t.equal(z.serial, base.serial);
  t.same(r.status === 'loaded' && r.timers, timersFor(base, 1000), 'timers back');
  t.equal(r.status === 'loaded' && r.journalApplied, 0);
});

t.test('journal replay after several IXFRs gives the zone the changes lead to', async (t) => {
  const dir = tmp(t);
  const s = new ZoneStore(dir, { maxJournalEntries: 1000, compactRatio: 100 });
  await s.open();
  s.saveZone(NAME, VERSIONS[0]!.zone);
  await s.flush();
  const copy = readFileSync(path.join(dir, 'example.zone'));
  for (const v of VERSIONS.slice(1)) {
    s.saveZone(NAME, v.zone, [v.changeset!]);
    await s.flush();
  }
  t.ok(readFileSync(path.join(dir, 'example.zone')).equals(copy), 'the copy was not rewritten by any IXFR');
  t.equal(s.info(NAME)!.journalEntries, 8);
  const r = await loadFresh(dir);
  const z = loaded(t, r, 'replay');
  t.equal(r.status === 'loaded' && r.journalApplied, 8, 'eight entries replayed');
  t.equal(z.serial, VERSIONS[8]!.zone.serial);
  t.same(exactKeys(z), VERSIONS[8]!.keys, 'records equal to the oracle (not computed by applyChangesets)');
  t.same(exactKeys(z), exactKeys(VERSIONS[8]!.zone), 'and to the zone the daemon served');

  // Transfers that come faster than the disk: queued and merged, still incremental.
  const dir2 = tmp(t);
  const s2 = new ZoneStore(dir2, { maxJournalEntries: 1000, compactRatio: 100 });
  await s2.open();
  s2.saveZone(NAME, VERSIONS[0]!.zone);
  for (const v of VERSIONS.slice(1)) s2.saveZone(NAME, v.zone, [v.changeset!]);
  await s2.flush();
  t.equal(versionOf(loaded(t, await loadFresh(dir2), 'merged')), 8, 'back-to-back saves: the last version');
});

t.test('compaction: past the bound the copy is rewritten and the journal reset', async (t) => {
  const dir = tmp(t);
  const s = new ZoneStore(dir, { maxJournalEntries: 3 });
  await s.open();
  s.saveZone(NAME, VERSIONS[0]!.zone);
  await s.flush();
  const sizes: number[] = [];
  for (const v of VERSIONS.slice(1)) {
    s.saveZone(NAME, v.zone, [v.changeset!]);
    await s.flush();
    sizes.push(s.info(NAME)!.journalEntries);
    const r = await loadFresh(dir);
    t.equal(versionOf(loaded(t, r, `after serial ${v.zone.serial}`)), VERSIONS.indexOf(v), `serial ${v.zone.serial} loads`);
  }
  t.same(sizes, [1, 2, 0, 1, 2, 0, 1, 2], 'the journal is emptied at every third entry');
  t.equal(statSync(path.join(dir, 'example.journal')).size, s.info(NAME)!.journalBytes);

  // By size: a ratio of 0 compacts after every append.
  const dir2 = tmp(t);
  const s2 = new ZoneStore(dir2, { compactRatio: 0 });
  await s2.open();
  s2.saveZone(NAME, VERSIONS[0]!.zone);
  s2.saveZone(NAME, VERSIONS[1]!.zone, [VERSIONS[1]!.changeset!]);
  await s2.flush();
  t.equal(statSync(path.join(dir2, 'example.journal')).size, JOURNAL_HEADER, 'journal back to its header');
  t.equal(versionOf(loaded(t, await loadFresh(dir2), 'compacted')), 1);
});

/**
 * Run `write` on a store whose file system crashes at step k, for every k, starting each time from
 * the state `setup` leaves; then load with a healthy store. Returns the version loaded per k.
 */
async function crashEverywhere(t: Test, setup: (s: ZoneStore) => Promise<void>, write: (s: ZoneStore) => void, opts: { maxJournalEntries?: number } = {}): Promise<number[]> {
  const seed = tmp(t);
  const s0 = new ZoneStore(seed, opts);
  await s0.open();
  await setup(s0);
  await s0.close();
  // Count the steps of a write that does not crash.
  const counting = new FaultFs();
  const probeDir = tmp(t);
  cpSync(seed, probeDir, { recursive: true });
  const probe = new ZoneStore(probeDir, { ...opts, fs: counting });
  loaded(t, await probe.load(NAME, ORIGIN), 'probe');
  const before = counting.steps.length;
  write(probe);
  await probe.flush();
  t.equal(probe.failure(NAME), null, 'the write succeeds without a crash');
  const steps = counting.steps.slice(before);
  const outcome: number[] = [];
  for (let k = 0; k <= steps.length; k++) {
    const dir = tmp(t);
    cpSync(seed, dir, { recursive: true });
    const fs = new FaultFs();
    const s = new ZoneStore(dir, { ...opts, fs, retryMs: 1e6 });
    loaded(t, await s.load(NAME, ORIGIN), 'before the crash');
    const start = fs.steps.length;
    fs.hook = (n) => (n === start + k ? 'crash' : 'ok');
    write(s);
    await s.flush();
    const r = await loadFresh(dir);
    outcome.push(r.status === 'loaded' ? versionOf(r.zone) : -1);
    t.notOk(readdirSync(dir).some((f) => f.endsWith('.tmp')), `crash at step ${k} (${steps[k] ?? 'none'}): no temp file after a restart`);
  }
  t.comment(`${steps.length} steps: ${steps.join(', ')}`);
  return outcome;
}

t.test('a crash at any step of a full write (AXFR): the old copy or the new one loads, never neither', async (t) => {
  const outcome = await crashEverywhere(
    t,
    async (s) => {
      s.saveZone(NAME, VERSIONS[0]!.zone);
      s.saveTimers(NAME, timersFor(VERSIONS[0]!.zone, 1));
    },
    (s) => {
      s.saveZone(NAME, VERSIONS[5]!.zone);
      s.saveTimers(NAME, timersFor(VERSIONS[5]!.zone, 2));
    },
  );
  t.notOk(outcome.includes(-1), `every crash point loads a version: ${outcome.join(' ')}`);
  t.equal(outcome[0], 0, 'crash at the first step: the old copy');
  t.equal(outcome[outcome.length - 1], 5, 'no crash: the new copy');
  t.same([...new Set(outcome)].sort(), [0, 5], 'only ever the old or the new version');
  t.ok(outcome.indexOf(5) > 0 && outcome.slice(outcome.indexOf(5)).every((v) => v === 5), 'once the rename happened, always the new');
});

t.test('a crash at any step of a journal append: the version before or after the IXFR', async (t) => {
  const outcome = await crashEverywhere(
    t,
    async (s) => {
      s.saveZone(NAME, VERSIONS[0]!.zone);
      s.saveZone(NAME, VERSIONS[1]!.zone, [VERSIONS[1]!.changeset!]);
    },
    (s) => s.saveZone(NAME, VERSIONS[3]!.zone, [VERSIONS[2]!.changeset!, VERSIONS[3]!.changeset!]),
  );
  t.notOk(outcome.includes(-1), `every crash point loads: ${outcome.join(' ')}`);
  // Two changesets, two entries: a write torn between them keeps the first (serial 2, a version
  // the primary published, whole and consistent) and drops the second.
  t.same([...new Set(outcome)].sort(), [1, 2, 3], 'the version before, after the first entry, or after both');
  t.equal(outcome[outcome.length - 1], 3);
});

t.test('a crash at any step of a compaction: the version before or after', async (t) => {
  const outcome = await crashEverywhere(
    t,
    async (s) => {
      s.saveZone(NAME, VERSIONS[0]!.zone);
      s.saveZone(NAME, VERSIONS[1]!.zone, [VERSIONS[1]!.changeset!]);
    },
    (s) => s.saveZone(NAME, VERSIONS[2]!.zone, [VERSIONS[2]!.changeset!]),
    { maxJournalEntries: 2 },
  );
  t.notOk(outcome.includes(-1), `every crash point loads: ${outcome.join(' ')}`);
  t.same([...new Set(outcome)].sort(), [1, 2]);
  t.equal(outcome[outcome.length - 1], 2);
});

t.test('every possible partial temp file beside the copy: the previous copy loads, and the temp file goes', async (t) => {
  const dir = tmp(t);
  const s = new ZoneStore(dir);
  await s.open();
  s.saveZone(NAME, VERSIONS[0]!.zone);
  await s.flush();
  const next = encodeCopyBuffer(VERSIONS[4]!.zone, { generation: 'ffffffffffffffff', savedAt: 2 });
  const temp = path.join(dir, 'example.zone.tmp');
  let ok = 0;
  for (let len = 0; len <= next.length; len++) {
    writeFileSync(temp, next.subarray(0, len));
    const r = await new ZoneStore(dir).load(NAME, ORIGIN);
    if (r.status === 'loaded' && versionOf(r.zone) === 0) ok++;
  }
  t.equal(ok, next.length + 1, `${next.length + 1} temp files of every length: the previous copy each time`);
  for (const f of ['example.journal.tmp', 'example.timers.tmp']) writeFileSync(path.join(dir, f), 'partial');
  const r = await loadFresh(dir);
  t.equal(r.status === 'loaded' && versionOf(r.zone), 0);
  t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'open() removed every leftover temp file');
});

t.test('a truncated or damaged copy is reported as damaged, never loaded; truncated journals load a prefix', async (t) => {
  const dir = tmp(t);
  const s = new ZoneStore(dir);
  await s.open();
  s.saveZone(NAME, VERSIONS[0]!.zone);
  for (const v of VERSIONS.slice(1, 5)) s.saveZone(NAME, v.zone, [v.changeset!]);
  await s.flush();
  const copyPath = path.join(dir, 'example.zone');
  const journalPath = path.join(dir, 'example.journal');
  const copy = readFileSync(copyPath);
  const journal = readFileSync(journalPath);

  const reasons = new Map<string, number>();
  for (let len = 0; len < copy.length; len += len < 200 ? 1 : 7) {
    writeFileSync(copyPath, copy.subarray(0, len));
    const r = await new ZoneStore(dir).load(NAME, ORIGIN);
    const k = r.status === 'damaged' ? r.error.reason : r.status;
    reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  t.same([...reasons.keys()].filter((k) => !['truncated', 'bad-checksum', 'bad-magic'].includes(k)), [], `truncated copies: ${JSON.stringify(Object.fromEntries(reasons))}`);
  const flipped = Buffer.from(copy);
  flipped[Math.floor(copy.length / 2)]! ^= 0x10;
  writeFileSync(copyPath, flipped);
  const r = await new ZoneStore(dir).load(NAME, ORIGIN);
  t.equal(r.status, 'damaged', 'one flipped bit');
  t.equal(r.status === 'damaged' && r.error.reason, 'bad-checksum');
  const s2 = new ZoneStore(dir);
  await s2.load(NAME, ORIGIN);
  t.match(s2.failure(NAME), { op: 'load', code: 'ERR_STORE_DAMAGED' }, 'shown as a storage error until a write succeeds');
  s2.saveZone(NAME, VERSIONS[4]!.zone);
  await s2.flush();
  t.equal(s2.failure(NAME), null, 'cleared by the next write (the re-transfer)');
  t.equal(versionOf(loaded(t, await loadFresh(dir), 'rewritten')), 4);

  // Back to the copy + 4 entries; the journal cut at every length loads a version of the chain.
  writeFileSync(copyPath, copy);
  const seen = new Set<number>();
  let bad = 0;
  for (let len = 0; len <= journal.length; len++) {
    writeFileSync(journalPath, journal.subarray(0, len));
    const r = await new ZoneStore(dir).load(NAME, ORIGIN);
    const v = r.status === 'loaded' ? versionOf(r.zone) : -1;
    if (v < 0 || v > 4) bad++;
    seen.add(v);
  }
  t.equal(bad, 0, 'every truncated journal loads a version of the chain');
  t.same([...seen].sort(), [0, 1, 2, 3, 4], 'each prefix of entries in turn');

  // Appending after a torn tail overwrites it: the next load sees the new entry.
  truncateSync(journalPath, journal.length - 5);
  const s3 = new ZoneStore(dir);
  t.equal(versionOf(loaded(t, await s3.load(NAME, ORIGIN), 'torn')), 3, 'torn last entry ignored');
  s3.saveZone(NAME, VERSIONS[5]!.zone, [VERSIONS[4]!.changeset!, VERSIONS[5]!.changeset!]);
  await s3.flush();
  const r5 = await loadFresh(dir);
  t.equal(r5.status === 'loaded' && versionOf(r5.zone), 5, 'the entries appended over the torn tail replay');
  t.same(r5.status === 'loaded' && r5.notes, [], 'and no torn tail is left');
});

t.test('a journal from an earlier copy (compaction cut short) is ignored', async (t) => {
  const dir = tmp(t);
  const s = new ZoneStore(dir);
  await s.open();
  s.saveZone(NAME, VERSIONS[0]!.zone);
  s.saveZone(NAME, VERSIONS[1]!.zone, [VERSIONS[1]!.changeset!]);
  await s.flush();
  const oldJournal = readFileSync(path.join(dir, 'example.journal'));
  s.saveZone(NAME, VERSIONS[1]!.zone); // a full rewrite (AXFR of the same version)
  await s.flush();
  writeFileSync(path.join(dir, 'example.journal'), oldJournal);
  const r = await loadFresh(dir);
  t.equal(r.status === 'loaded' && versionOf(r.zone), 1, 'the new copy, the old journal not replayed on it');
  t.match(r.status === 'loaded' && r.notes, [/earlier copy/]);
  // And the next IXFR writes a fresh journal for the new copy.
  const s2 = new ZoneStore(dir);
  await s2.load(NAME, ORIGIN);
  s2.saveZone(NAME, VERSIONS[2]!.zone, [VERSIONS[2]!.changeset!]);
  await s2.flush();
  t.equal(versionOf(loaded(t, await loadFresh(dir), 'after')), 2);
});

t.test('storage failures: reported, kept pending, retried until they succeed', async (t) => {
  const dir = tmp(t);
  let fault: Fault = 'ok';
  const fs = new FaultFs((_n, op) => (op === 'write' || op === 'open' ? fault : 'ok'));
  const logged: string[] = [];
  const logger = { debug: () => {}, info: (_o: object, m: string) => logged.push(m), warn: () => {}, error: (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`) };
  const s = new ZoneStore(dir, { fs, logger, retryMs: 30 });
  await s.open();
  fault = errno('ENOSPC');
  s.saveZone(NAME, VERSIONS[0]!.zone);
  s.saveTimers(NAME, timersFor(VERSIONS[0]!.zone, 1));
  await s.flush();
  t.match(s.failure(NAME), { code: 'ENOSPC', op: 'write-copy' }, 'disk full: shown');
  t.ok(s.info(NAME)!.pending, 'the write stays pending');
  t.match(logged.join('\n'), /storage write failed.*ENOSPC/);
  t.notOk(existsSync(path.join(dir, 'example.zone')), 'no half file in place');
  t.same(readdirSync(dir), [], 'and no temp file left');

  // An IXFR meanwhile: nothing on disk to append to, so it becomes part of a full write.
  fault = errno('EACCES');
  s.saveZone(NAME, VERSIONS[1]!.zone, [VERSIONS[1]!.changeset!]);
  await new Promise((r) => setTimeout(r, 100));
  t.match(s.failure(NAME), { code: 'EACCES' }, 'permission denied: shown');
  fault = 'ok';
  for (let i = 0; i < 100 && s.failure(NAME) !== null; i++) await new Promise((r) => setTimeout(r, 20));
  await s.flush();
  t.equal(s.failure(NAME), null, 'the retry succeeded by itself');
  t.match(logged.join('\n'), /storage writes succeed again/);
  const r = await loadFresh(dir);
  t.equal(r.status === 'loaded' && versionOf(r.zone), 1, 'the latest version is on disk');
  t.same(r.status === 'loaded' && r.timers, timersFor(VERSIONS[0]!.zone, 1));

  // A journal append that fails half-way, then succeeds: the torn part is overwritten.
  fault = 'ok';
  let writes = 0;
  fs.hook = (_n, op) => (op === 'write' && ++writes === 1 ? errno('ENOSPC') : 'ok');
  s.saveZone(NAME, VERSIONS[2]!.zone, [VERSIONS[2]!.changeset!]);
  for (let i = 0; i < 100 && s.failure(NAME) === null; i++) await new Promise((r) => setTimeout(r, 5));
  t.match(s.failure(NAME), { code: 'ENOSPC', op: 'append-journal' });
  await s.close(); // SIGTERM: one more try
  t.equal(s.failure(NAME), null, 'flushed on close');
  t.equal(versionOf(loaded(t, await loadFresh(dir), 'after append retry')), 2);
});

t.test('timers: written after the data, not rewritten when unchanged', async (t) => {
  const dir = tmp(t);
  const fs = new FaultFs();
  const s = new ZoneStore(dir, { fs });
  await s.open();
  s.saveZone(NAME, VERSIONS[0]!.zone);
  s.saveTimers(NAME, timersFor(VERSIONS[0]!.zone, 5));
  await s.flush();
  const renames = fs.steps.filter((x) => x.startsWith('rename'));
  t.same(renames, ['rename example.zone', 'rename example.journal', 'rename example.timers'], 'copy, journal, then timers');
  const n = fs.steps.length;
  s.saveTimers(NAME, timersFor(VERSIONS[0]!.zone, 5));
  await s.flush();
  t.equal(fs.steps.length, n, 'the same timers again: no write');
  s.saveTimers(NAME, timersFor(VERSIONS[0]!.zone, 6));
  await s.flush();
  t.ok(fs.steps.length > n, 'new timers: written');
  writeFileSync(path.join(dir, 'example.timers'), '{"format":"secondaryd-timers","version":1,"data":{}');
  const r = await loadFresh(dir);
  t.equal(r.status, 'loaded', 'damaged timers do not cost the zone');
  t.equal(r.status === 'loaded' && r.timers, null);
  t.match(r.status === 'loaded' && r.notes, [/timers ignored/]);
});
