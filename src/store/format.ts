// The on-disk formats of the store, sans I/O: the zone copy, the journal of applied changesets
// (RFC 1995 differences with their serials) and the timers file. Bytes in, records out, and back.
//
// Zone copy (`NAME.zone`), all integers big-endian:
//
//   "SECDZONE" u16 version  u16 header-length  u32 serial  8 generation  f64 saved-at(ms)
//   u8 origin-length  origin (wire form)
//   records: owner  u16 type  u16 class  u32 ttl  u16 rdlength  rdata
//            owner is a wire name, or the single octet 0xFF: "same owner as the record before"
//            (allRecords yields a node's records together, so most owners are one octet)
//   trailer: u32 record-count  SHA-256 of every octet before the digest (32)
//
// The count sits in the trailer so the copy can be written as a stream, and so a file cut short
// can never look complete. The digest is checked before anything is parsed.
//
// Journal (`NAME.journal`): a header, then entries appended one by one:
//
//   "SECDJRNL" u16 version  u16 0  8 generation  SHA-256 of the 20 octets before (32)
//   entry: u32 length  payload  SHA-256(length + payload) (32)
//   payload: u32 from-serial  u32 to-serial  f64 saved-at  u32 removed  u32 added
//            from-SOA  to-SOA  removed records  added records          (records as above)
//
// The generation ties a journal to one copy: a journal whose generation is not the copy's (a crash
// between rewriting the copy and resetting the journal) holds nothing the copy lacks, and is
// ignored. An entry cut short or failing its digest ends the journal (a torn append): it and
// anything after it are ignored.
//
// Timers (`NAME.timers`): JSON {format, version, data: {...}, sha256: hex of JSON(data)}.

import { createHash } from 'node:crypto';
import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH, nameEquals, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { Type } from '../wire/constants.js';
import type { Changeset } from '../zone/changeset.js';
import { StoreDamagedError } from './errors.js';

export const FORMAT_VERSION = 1;
export const COPY_MAGIC = Buffer.from('SECDZONE', 'latin1');
export const JOURNAL_MAGIC = Buffer.from('SECDJRNL', 'latin1');
const DIGEST = 32;
const SAME_OWNER = 0xff;
/** Fixed part of the copy header, before the origin. */
const COPY_FIXED = 8 + 2 + 2 + 4 + 8 + 8 + 1;
const COPY_TRAILER = 4 + DIGEST;
export const JOURNAL_HEADER = 8 + 2 + 2 + 8 + DIGEST;
/** Largest journal entry we accept when reading (a corrupt length must not allocate gigabytes). */
const MAX_ENTRY = 1 << 30;

/** 8 random octets naming one copy and the journal that continues it, as hex. */
export type Generation = string;

export interface CopyHeader {
  readonly version: number;
  readonly serial: number;
  readonly generation: Generation;
  /** When the copy was written (ms since the epoch). */
  readonly savedAt: number;
  readonly origin: Buffer;
}

/** What encodeCopy needs of a zone (a Zone fits). */
export interface CopySource {
  readonly origin: Buffer;
  readonly serial: number;
  allRecords(): Iterable<ResourceRecord>;
}

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Appends records and fixed-size fields to a buffer handed out in chunks of about `chunk` octets.
 * `take()` returns what is buffered so far.
 */
class ChunkWriter {
  private buf: Buffer;
  private pos = 0;
  private prevOwner: Buffer | null = null;

  constructor(private readonly chunk: number) {
    this.buf = Buffer.allocUnsafe(chunk);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  record(rr: ResourceRecord): void {
    const rdlen = rr.rdata.length;
    if (rdlen > 0xffff) throw new RangeError(`RDATA of ${rdlen} octets cannot be stored`);
    this.room(rr.owner.length + 10 + rdlen);
    const b = this.buf;
    let p = this.pos;
    const prev = this.prevOwner;
    // Same Buffer (the common case: a node's records share its name) or same octets.
    if (prev !== null && (prev === rr.owner || prev.equals(rr.owner))) b[p++] = SAME_OWNER;
    else {
      b.set(rr.owner, p);
      p += rr.owner.length;
      this.prevOwner = rr.owner;
    }
    b.writeUInt16BE(rr.type, p);
    b.writeUInt16BE(rr.class, p + 2);
    b.writeUInt32BE(rr.ttl >>> 0, p + 4);
    b.writeUInt16BE(rdlen, p + 8);
    b.set(rr.rdata, p + 10);
    this.pos = p + 10 + rdlen;
  }

  /** Forget the previous owner: the next record spells its owner out. */
  resetOwner(): void {
    this.prevOwner = null;
  }

  /** The buffered octets (a copy-free view, valid until the next write), then start afresh. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.chunk);
    this.pos = 0;
    return out;
  }

  full(): boolean {
    return this.pos >= this.chunk;
  }
}

function generationBytes(g: Generation): Buffer {
  const b = Buffer.from(g, 'hex');
  if (b.length !== 8) throw new RangeError(`generation ${g} is not 8 octets of hex`);
  return b;
}

/**
 * The zone copy as chunks of about `chunkSize` octets, the digest in the last one. Synchronous
 * work happens a chunk at a time, so a writer that awaits each chunk never blocks for long: 64 KiB
 * is under a millisecond of encoding, and queries need the turns of the event loop between chunks
 * (libuv reads at most 32 datagrams per turn: with 256 KiB chunks, about 3 ms each, a 1M-record copy
 * written after a transfer held the query rate near 10k/s for half a second).
 */
export function* encodeCopy(zone: CopySource, meta: { generation: Generation; savedAt: number }, chunkSize = 1 << 16): Generator<Buffer, { records: number }> {
  const hash = createHash('sha256');
  const w = new ChunkWriter(chunkSize);
  w.bytes(COPY_MAGIC);
  w.u16(FORMAT_VERSION);
  w.u16(COPY_FIXED + zone.origin.length);
  w.u32(zone.serial);
  w.bytes(generationBytes(meta.generation));
  w.f64(meta.savedAt);
  w.u8(zone.origin.length);
  w.bytes(zone.origin);
  let records = 0;
  for (const rr of zone.allRecords()) {
    w.record(rr);
    records++;
    if (w.full()) {
      const chunk = w.take();
      hash.update(chunk);
      yield chunk;
    }
  }
  w.u32(records);
  const last = w.take();
  hash.update(last);
  yield Buffer.concat([last, hash.digest()]);
  return { records };
}

/** The whole copy in one buffer (tests, small zones). */
export function encodeCopyBuffer(zone: CopySource, meta: { generation: Generation; savedAt: number }): Buffer {
  return Buffer.concat([...encodeCopy(zone, meta)]);
}

/** Reads records written by ChunkWriter.record, bounds-checked: a bad one throws `fail`. */
class RecordReader {
  pos: number;
  private prevOwner: Buffer | null = null;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly fail: (msg: string) => never,
  ) {
    this.pos = start;
  }

  private owner(): Buffer {
    const b = this.buf;
    const start = this.pos;
    if (start >= this.end) this.fail(`record owner at offset ${start} runs past the end`);
    if (b[start] === SAME_OWNER) {
      if (this.prevOwner === null) this.fail(`record at offset ${start} repeats an owner before any was given`);
      this.pos = start + 1;
      return this.prevOwner;
    }
    let p = start;
    for (;;) {
      if (p >= this.end) this.fail(`owner name at offset ${start} runs past the end`);
      const len = b[p]!;
      if (len > MAX_LABEL_LENGTH) this.fail(`owner name at offset ${start} has a label of ${len} octets`);
      p += len + 1;
      if (p - start > MAX_NAME_LENGTH) this.fail(`owner name at offset ${start} is longer than ${MAX_NAME_LENGTH} octets`);
      if (len === 0) break;
    }
    if (p > this.end) this.fail(`owner name at offset ${start} runs past the end`);
    const owner = b.subarray(start, p);
    this.prevOwner = owner;
    this.pos = p;
    return owner;
  }

  next(): ResourceRecord {
    const owner = this.owner();
    const b = this.buf;
    const p = this.pos;
    if (p + 10 > this.end) this.fail(`record at offset ${p} runs past the end`);
    const rdlen = b.readUInt16BE(p + 8);
    const q = p + 10 + rdlen;
    if (q > this.end) this.fail(`RDATA at offset ${p + 10} runs past the end`);
    this.pos = q;
    return { owner, type: b.readUInt16BE(p), class: b.readUInt16BE(p + 2), ttl: b.readUInt32BE(p + 4), rdata: b.subarray(p + 10, q) };
  }
}

export interface DecodedCopy {
  readonly header: CopyHeader;
  readonly count: number;
  /**
   * The records, SOA first, decoded lazily (they are views into the file's buffer): feed them to a
   * zone builder without holding an array of a million objects. Throws StoreDamagedError on
   * contents that do not parse (the digest makes that a writer's bug, not a disk's).
   */
  records(): Generator<ResourceRecord>;
}

/**
 * Check a zone copy (length, magic, version, digest, origin) and give access to its records.
 * Throws StoreDamagedError. `origin`, when given, must be the copy's (case-insensitively).
 */
export function decodeCopy(buf: Buffer, file: string, origin?: Buffer): DecodedCopy {
  const damaged = (reason: ConstructorParameters<typeof StoreDamagedError>[0], msg: string): never => {
    throw new StoreDamagedError(reason, file, msg);
  };
  if (buf.length < COPY_MAGIC.length || !buf.subarray(0, COPY_MAGIC.length).equals(COPY_MAGIC)) {
    if (buf.length < COPY_MAGIC.length && COPY_MAGIC.subarray(0, buf.length).equals(buf)) damaged('truncated', `${buf.length} octets: shorter than the header`);
    damaged('bad-magic', 'not a secondaryd zone copy');
  }
  if (buf.length < COPY_FIXED + 1 + COPY_TRAILER) damaged('truncated', `${buf.length} octets: shorter than header and trailer`);
  const version = buf.readUInt16BE(8);
  if (version !== FORMAT_VERSION) damaged('bad-version', `format version ${version}, this daemon reads ${FORMAT_VERSION}`);
  const headerLength = buf.readUInt16BE(10);
  const originLength = buf[COPY_FIXED - 1]!;
  if (headerLength !== COPY_FIXED + originLength || headerLength + COPY_TRAILER > buf.length) {
    damaged('truncated', `header of ${headerLength} octets does not fit ${buf.length}`);
  }
  const body = buf.length - DIGEST;
  if (!sha256(buf.subarray(0, body)).equals(buf.subarray(body))) damaged('bad-checksum', 'SHA-256 does not match: damaged or cut short');
  const header: CopyHeader = {
    version,
    serial: buf.readUInt32BE(12),
    generation: buf.subarray(16, 24).toString('hex'),
    savedAt: buf.readDoubleBE(24),
    origin: buf.subarray(COPY_FIXED, headerLength),
  };
  if (origin !== undefined && !nameEquals(header.origin, origin)) {
    damaged('bad-contents', `holds zone ${safeText(header.origin)}, not ${nameToText(origin)}`);
  }
  const countAt = buf.length - COPY_TRAILER;
  const count = buf.readUInt32BE(countAt);
  const fail = (msg: string): never => damaged('bad-contents', msg);
  return {
    header,
    count,
    *records() {
      const r = new RecordReader(buf, headerLength, countAt, fail);
      for (let i = 0; i < count; i++) {
        const rr = r.next();
        if (i === 0 && (rr.type !== Type.SOA || rr.rdata.length < 22 || rr.rdata.readUInt32BE(rr.rdata.length - 20) !== header.serial)) {
          fail(`the first record is not the SOA of serial ${header.serial}`);
        }
        yield rr;
      }
      if (r.pos !== countAt) fail(`${countAt - r.pos} octets after the last of ${count} records`);
    },
  };
}

function safeText(name: Buffer): string {
  try {
    return nameToText(name);
  } catch {
    return `(${name.length} octets)`;
  }
}

// --- journal ------------------------------------------------------------------------------------

/** One applied changeset as the journal keeps it. */
export interface JournalEntry {
  readonly changeset: Changeset;
  /** When it was appended (ms since the epoch): the time its version was confirmed current. */
  readonly savedAt: number;
  /** Offset just past it in the journal file. */
  readonly end: number;
}

export function encodeJournalHeader(generation: Generation): Buffer {
  const head = Buffer.alloc(20);
  JOURNAL_MAGIC.copy(head, 0);
  head.writeUInt16BE(FORMAT_VERSION, 8);
  generationBytes(generation).copy(head, 12);
  return Buffer.concat([head, sha256(head)]);
}

/** One journal entry, framed: length, payload, digest. */
export function encodeJournalEntry(cs: Changeset, savedAt: number): Buffer {
  const w = new ChunkWriter(256);
  w.u32(0); // the length, filled in below
  w.u32(cs.fromSerial);
  w.u32(cs.toSerial);
  w.f64(savedAt);
  w.u32(cs.removed.length);
  w.u32(cs.added.length);
  w.record(cs.fromSoa);
  w.record(cs.toSoa);
  for (const rr of cs.removed) w.record(rr);
  for (const rr of cs.added) w.record(rr);
  const framed = w.take();
  framed.writeUInt32BE(framed.length - 4, 0);
  return Buffer.concat([framed, sha256(framed)]);
}

export interface DecodedJournal {
  readonly generation: Generation;
  readonly entries: JournalEntry[];
  /** Octets of header plus the entries returned: where the next append goes. */
  readonly validBytes: number;
  /** Why reading stopped before the end of the file (a torn or damaged tail), or null. */
  readonly tail: string | null;
}

/** Read a journal: its header must be sound (else StoreDamagedError); a bad tail ends it quietly. */
export function decodeJournal(buf: Buffer, file: string): DecodedJournal {
  if (buf.length < JOURNAL_HEADER) throw new StoreDamagedError('truncated', file, `${buf.length} octets: shorter than the journal header`);
  if (!buf.subarray(0, 8).equals(JOURNAL_MAGIC)) throw new StoreDamagedError('bad-magic', file, 'not a secondaryd journal');
  if (!sha256(buf.subarray(0, 20)).equals(buf.subarray(20, JOURNAL_HEADER))) throw new StoreDamagedError('bad-checksum', file, 'journal header SHA-256 does not match');
  const version = buf.readUInt16BE(8);
  if (version !== FORMAT_VERSION) throw new StoreDamagedError('bad-version', file, `journal format version ${version}, this daemon reads ${FORMAT_VERSION}`);
  const generation = buf.subarray(12, 20).toString('hex');
  const entries: JournalEntry[] = [];
  let pos = JOURNAL_HEADER;
  let tail: string | null = null;
  while (pos < buf.length) {
    if (buf.length - pos < 4) {
      tail = `entry at offset ${pos} cut short`;
      break;
    }
    const len = buf.readUInt32BE(pos);
    if (len < 24 || len > MAX_ENTRY || buf.length - pos < 4 + len + DIGEST) {
      tail = `entry at offset ${pos} cut short or of impossible length ${len}`;
      break;
    }
    const end = pos + 4 + len;
    if (!sha256(buf.subarray(pos, end)).equals(buf.subarray(end, end + DIGEST))) {
      tail = `entry at offset ${pos} fails its SHA-256`;
      break;
    }
    try {
      entries.push(decodeEntry(buf, pos + 4, end, file, end + DIGEST));
    } catch (err) {
      tail = `entry at offset ${pos}: ${(err as Error).message}`;
      break;
    }
    pos = end + DIGEST;
  }
  return { generation, entries, validBytes: pos, tail };
}

function decodeEntry(buf: Buffer, start: number, end: number, file: string, next: number): JournalEntry {
  const fail = (msg: string): never => {
    throw new StoreDamagedError('bad-contents', file, msg);
  };
  const fromSerial = buf.readUInt32BE(start);
  const toSerial = buf.readUInt32BE(start + 4);
  const savedAt = buf.readDoubleBE(start + 8);
  const nRemoved = buf.readUInt32BE(start + 16);
  const nAdded = buf.readUInt32BE(start + 20);
  const r = new RecordReader(buf, start + 24, end, fail);
  const fromSoa = r.next();
  const toSoa = r.next();
  // Each record takes at least 11 octets: a count beyond what is left is a lie, not a big entry.
  if (nRemoved + nAdded > (end - r.pos) / 11) fail(`claims ${nRemoved + nAdded} records in ${end - r.pos} octets`);
  const removed: ResourceRecord[] = [];
  for (let i = 0; i < nRemoved; i++) removed.push(r.next());
  const added: ResourceRecord[] = [];
  for (let i = 0; i < nAdded; i++) added.push(r.next());
  if (r.pos !== end) fail(`${end - r.pos} octets after the last record`);
  return { changeset: { fromSerial, toSerial, fromSoa, toSoa, removed, added }, savedAt, end: next };
}

// --- timers -------------------------------------------------------------------------------------

/** The refresh timers of a zone as stored (times in ms since the epoch). */
export interface StoredTimers {
  /** Serial these timers are about (the serial served when they were written). */
  readonly serial: number;
  /** Last successful check (SOA serial equal, or transfer). */
  readonly lastRefreshed: number;
  /** When the zone stops being served without a successful check. */
  readonly expiresAt: number;
  /** The primary ("host:port") that last answered, when known. */
  readonly primary: string | null;
}

const TIMERS_FORMAT = 'secondaryd-timers';

export function encodeTimers(zone: string, t: StoredTimers, savedAt: number): string {
  const data = { zone, serial: t.serial, lastRefreshed: t.lastRefreshed, expiresAt: t.expiresAt, primary: t.primary, savedAt };
  const json = JSON.stringify(data);
  return `{"format":"${TIMERS_FORMAT}","version":${FORMAT_VERSION},"data":${json},"sha256":"${sha256(Buffer.from(json)).toString('hex')}"}\n`;
}

/** Check and read a timers file; `zone` must be the one it names. Throws StoreDamagedError. */
export function decodeTimers(text: string, file: string, zone: string): StoredTimers & { savedAt: number } {
  const bad = (reason: 'truncated' | 'bad-magic' | 'bad-version' | 'bad-checksum' | 'bad-contents', msg: string): never => {
    throw new StoreDamagedError(reason, file, msg);
  };
  // The digest covers the exact text of `data` as written, so take it from the text, not a re-encoding.
  const m = /^\{"format":"([^"]*)","version":(\d+),"data":(\{.*\}),"sha256":"([0-9a-f]{64})"\}\n?$/s.exec(text);
  if (m === null) return bad(text.length === 0 || !text.trimEnd().endsWith('}') ? 'truncated' : 'bad-magic', 'not a complete secondaryd timers file');
  if (m[1] !== TIMERS_FORMAT) return bad('bad-magic', `format "${m[1]}"`);
  if (Number(m[2]) !== FORMAT_VERSION) return bad('bad-version', `timers format version ${m[2]}`);
  if (sha256(Buffer.from(m[3]!)).toString('hex') !== m[4]) return bad('bad-checksum', 'SHA-256 does not match');
  const d = JSON.parse(m[3]!) as Record<string, unknown>;
  const num = (k: string): number => {
    const v = d[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) return bad('bad-contents', `${k} is not a number`);
    return v;
  };
  if (d.zone !== zone) return bad('bad-contents', `is about zone ${String(d.zone)}, not ${zone}`);
  const serial = num('serial');
  if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) bad('bad-contents', `serial ${serial}`);
  const primary = d.primary;
  if (primary !== null && typeof primary !== 'string') bad('bad-contents', 'primary is not a string');
  return { serial, lastRefreshed: num('lastRefreshed'), expiresAt: num('expiresAt'), primary: primary as string | null, savedAt: num('savedAt') };
}

// --- file names ---------------------------------------------------------------------------------

const KEEP = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-_') KEEP[c.charCodeAt(0)] = 1;

/**
 * A file-name stem for a zone: its labels lower-cased, joined by '.', every octet other than a-z,
 * 0-9, '-' and '_' written %XX (so '/', '.', '%', control and 8-bit octets are escaped and the map
 * is one-to-one); the root zone is '@'. A stem too long for a file name is cut and given a hash.
 */
export function fileStem(origin: Buffer): string {
  const labels: string[] = [];
  let p = 0;
  for (let len = origin[p]!; len !== 0; len = origin[p]!) {
    let s = '';
    for (let i = p + 1; i <= p + len; i++) {
      let c = origin[i]!;
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      s += KEEP[c] ? String.fromCharCode(c) : `%${c.toString(16).padStart(2, '0').toUpperCase()}`;
    }
    labels.push(s);
    p += len + 1;
  }
  const stem = labels.length === 0 ? '@' : labels.join('.');
  if (stem.length <= 200) return stem;
  const lower = Buffer.from(origin.map((c) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c)));
  return `${stem.slice(0, 160)}~${sha256(lower).toString('hex').slice(0, 32)}`;
}
