// Helpers for the store tests: exact record keys, a zone history made of random changesets (with an
// independent record-set oracle), and a file system that fails or "crashes" at a chosen step.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Class, Type } from '../../src/wire/constants.js';
import { nameFromText, nameToText } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { nodeFs, type StoreFile, type StoreFs } from '../../src/store/files.js';
import { applyChangesets, type Changeset } from '../../src/zone/changeset.js';
import { buildZone, type Zone } from '../../src/zone/zone.js';
import { parseZone } from '../../src/zonefile/reader.js';
import { prng } from '../helpers/prng.js';
import { firstRdata } from '../../src/zone/node.js';

export const FIXTURE = path.join(import.meta.dirname, '..', 'zonefile', 'fixtures', 'all-types.zone');

/** The all-types fixture (every type with a presentation format, RRSIG, NSEC, unknown types) as a zone. */
export function allTypesZone(): Zone {
  const origin = nameFromText('example.');
  return buildZone(origin, parseZone(readFileSync(FIXTURE, 'utf8'), { origin }));
}

/** One line per record, exact: owner octets as spelled, type, class, TTL, RDATA octets. */
export function exactKey(r: ResourceRecord): string {
  return `${r.owner.toString('hex')} ${r.type} ${r.class} ${r.ttl} ${r.rdata.toString('hex')}`;
}

export function exactKeys(z: Zone): string[] {
  return [...z.allRecords()].map(exactKey).sort();
}

/** Case-insensitive owner, for comparing with what a primary sends. */
export function looseKeys(z: Zone): string[] {
  return [...z.allRecords()].map((r) => `${nameToText(r.owner).toLowerCase()} ${r.type} ${r.class} ${r.ttl} ${r.rdata.toString('hex')}`).sort();
}

function soaWithSerial(soa: ResourceRecord, serial: number): ResourceRecord {
  const rdata = Buffer.from(soa.rdata);
  rdata.writeUInt32BE(serial >>> 0, rdata.length - 20);
  return { ...soa, rdata };
}

/** The zone's SOA as a record. */
export function soaOf(z: Zone): ResourceRecord {
  return { owner: z.origin, type: Type.SOA, class: Class.IN, ttl: z.soa.ttl, rdata: firstRdata(z.soa) };
}

export interface Version {
  zone: Zone;
  /** The changeset from the version before (absent for the first). */
  changeset?: Changeset;
  /** Sorted exact keys computed without applyChangesets: the oracle. */
  keys: string[];
}

/**
 * `n` versions after `base`, each a random changeset: a few non-apex A/AAAA/TXT/MX records removed,
 * a few new names added, the serial raised by 1..3. Keys are tracked on a plain set, so a journal
 * replay is checked against something applyChangesets did not compute.
 */
export function history(base: Zone, n: number, seed: number): Version[] {
  const rnd = prng(seed);
  const set = new Map<string, ResourceRecord>();
  for (const r of base.allRecords()) set.set(exactKey(r), r);
  const out: Version[] = [{ zone: base, keys: [...set.keys()].sort() }];
  let z = base;
  for (let v = 1; v <= n; v++) {
    const fromSoa = soaOf(z);
    const toSerial = (z.serial + 1 + Math.floor(rnd() * 3)) >>> 0;
    const toSoa = soaWithSerial(fromSoa, toSerial);
    const candidates = [...set.values()].filter((r) => !r.owner.equals(z.origin) && [Type.A, Type.AAAA, Type.TXT].includes(r.type as 1));
    const removed: ResourceRecord[] = [];
    for (let i = 0; i < 3 && candidates.length > 0; i++) removed.push(candidates.splice(Math.floor(rnd() * candidates.length), 1)[0]!);
    const added: ResourceRecord[] = [];
    for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
      const owner = nameFromText(`v${v}-n${i}.Deep${i}`, z.origin);
      added.push({ owner, type: Type.A, class: Class.IN, ttl: 600, rdata: Buffer.from([10, v & 255, i, Math.floor(rnd() * 256)]) });
      added.push({ owner, type: Type.TXT, class: Class.IN, ttl: 600, rdata: Buffer.from(`\x0bversion ${String(v).padStart(3, '0')}`, 'latin1') });
    }
    const cs: Changeset = { fromSerial: z.serial, toSerial, fromSoa, toSoa, removed, added };
    z = applyChangesets(z, [cs]);
    set.delete(exactKey(fromSoa));
    set.set(exactKey(toSoa), toSoa);
    for (const r of removed) set.delete(exactKey(r));
    for (const r of added) set.set(exactKey(r), r);
    out.push({ zone: z, changeset: cs, keys: [...set.keys()].sort() });
  }
  return out;
}

/** What a FaultFs does at one step. */
export type Fault = 'ok' | 'crash' | NodeJS.ErrnoException;

export function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

/**
 * The real file system, with a hook consulted before every step (every call, on the fs and on open
 * files). 'crash' stops the "process": that step fails (a write writes half its octets first, as a
 * torn write would) and every later step fails too, without running. An error fails that one step.
 */
export class FaultFs implements StoreFs {
  steps: string[] = [];
  dead = false;
  constructor(public hook: (step: number, op: string, path: string) => Fault = () => 'ok') {}

  private async run<T>(op: string, p: string, fn: () => Promise<T>, partial?: () => Promise<unknown>): Promise<T> {
    if (this.dead) throw errno('ECRASHED');
    const n = this.steps.length;
    this.steps.push(`${op} ${path.basename(p)}`);
    const f = this.hook(n, op, p);
    if (f === 'crash') {
      this.dead = true;
      if (partial) await partial();
      throw errno('ECRASHED');
    }
    if (f !== 'ok') throw f;
    return fn();
  }

  mkdir(p: string, o: { recursive: true; mode: number }): Promise<unknown> {
    return this.run('mkdir', p, () => nodeFs.mkdir(p, o));
  }
  readdir(p: string): Promise<string[]> {
    return this.run('readdir', p, () => nodeFs.readdir(p));
  }
  readFile(p: string): Promise<Buffer> {
    return this.run('readFile', p, () => nodeFs.readFile(p));
  }
  unlink(p: string): Promise<void> {
    return this.run('unlink', p, () => nodeFs.unlink(p));
  }
  rename(a: string, b: string): Promise<void> {
    return this.run('rename', b, () => nodeFs.rename(a, b));
  }
  async open(p: string, flags: string, mode?: number): Promise<StoreFile> {
    const fh = await this.run('open', p, () => nodeFs.open(p, flags, mode));
    const file: StoreFile = {
      write: (buf, off, len, pos) =>
        this.run('write', p, () => fh.write(buf, off, len, pos), () => fh.write(buf, off, Math.floor(len / 2), pos)),
      sync: () => this.run('sync', p, () => fh.sync()),
      truncate: (len) => this.run('truncate', p, () => fh.truncate(len)),
      // A dead process's files are closed by the kernel: close never fails for real.
      close: () => (this.dead ? fh.close() : this.run('close', p, () => fh.close(), () => fh.close())),
    };
    return file;
  }
}
