// Building zone snapshots (RFC 1034 4.2, RFC 2181 5, RFC 4592, RFC 6672): ZoneBuilder from a stream
// of records (zone files, AXFR message by message), ZoneEditor from an older snapshot and the RRsets
// an IXFR changes (RFC 1995), with the checks every snapshot must pass.
//
// ZoneBuilder does its work in add(), a record at a time, so a transfer's cost is spread over its
// messages and finish() has little left: flags (cut, DNAME, occluded, wildcard) are set as nodes and
// RRsets appear, a node's records are packed into the zone's slab when the next owner comes (RRSIGs
// grouped by the type they cover, each group the signatures of that RRset), children are kept in
// canonical order as they are inserted (a big node that receives names out of order keeps an
// unsorted tail, merged in whenever it reaches an eighth of the node, so no single step sorts much),
// and the per-name checks run only over the names that could fail them (a CNAME, a second DNAME, an
// SOA off the apex). Octets a snapshot keeps are copied into slabs of its own (Arena, up to 1 MiB
// each): no Buffer per record or name, and none of the Buffers a decoded message hands us, which sit
// in Node's shared 8 kB pool between garbage that the pool could then never free.
//
// ZoneEditor copies the path from the apex to each changed name (path copying): the new snapshot
// shares every untouched subtree with the old one, which is never modified and keeps serving. Of a
// wide node (node.ts Chunks) it copies the index of chunks and only the chunks it changes.

import { Type } from '../wire/constants.js';
import { canonicalCompare, isSubdomain, LOWER, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import {
  childAt,
  childCount,
  CHUNK,
  CHUNK_MAX,
  Chunks,
  compareLabel,
  compareNodes,
  findChild,
  getRRset,
  insertAt,
  isChunks,
  isWildcard,
  lowerBound,
  lowerBoundNode,
  MAX_RECORDS,
  newNode,
  newRRset,
  NODE_APEX,
  NODE_DELEGATION,
  NODE_DNAME,
  NODE_OCCLUDED,
  NODE_WILDCARD,
  nodeKey,
  nodeName,
  packChildren,
  type RRset,
  rrsetsOf,
  runEnd,
  runsLength,
  setRRsets,
  writeRuns,
  type ZoneNode,
} from './node.js';
import { OutOfZoneError, Zone, ZoneError } from './zone.js';

const CUT = NODE_DELEGATION | NODE_DNAME;
/** A node's children are not authoritative when it has one of these. */
const HIDES = NODE_DELEGATION | NODE_DNAME | NODE_OCCLUDED;

/** Arrays shorter than this are replaced by exact-length copies when they grow. */
const EXACT = 16;
/** Children arrays shorter than this take an out-of-order child by insertion (a small memmove). */
const SPLICE_MAX = 2048;
/** A big node's unsorted tail is merged in once it is this long and an eighth of the sorted part. */
const MERGE_MIN = 256;
/** RRsets longer than this get a hash set of their RDATA for duplicate checks while building. */
const LINEAR_DEDUPE = 16;
/** Slabs grow from 1 kB to this. */
const SLAB_MAX = 1 << 20;
const EMPTY = Buffer.alloc(0);

/** `arr` with `x` appended: a new exact-length array while short, else `arr` itself, grown. */
function append<T>(arr: T[], x: T): T[] {
  const n = arr.length;
  if (n >= EXACT) {
    arr.push(x);
    return arr;
  }
  const out = new Array<T>(n + 1);
  for (let i = 0; i < n; i++) out[i] = arr[i]!;
  out[n] = x;
  return out;
}

/** Copy `src[start, end)` into `dst` at `at` (a loop for the short RDATA most records have). */
function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  if (end - start > 32) dst.set(src.subarray(start, end), at);
  else for (let i = start; i < end; i++) dst[at++] = src[i]!;
}

/** Copy the record [RDLENGTH][RDATA] at `at` of `src` into `dst` at `o`: the offset past it there. */
function copyRun(src: Uint8Array, at: number, dst: Uint8Array, o: number): number {
  const end = at + 2 + ((src[at]! << 8) | src[at + 1]!);
  copyBytes(src, at, end, dst, o);
  return o + end - at;
}

/** Whether `a[i, i + n)` and `b[j, j + n)` hold the same octets. */
function sameBytes(a: Uint8Array, i: number, b: Uint8Array, j: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}


/**
 * The octets a snapshot keeps (owner names, runs of records), packed into slabs that grow from 1 kB
 * to 1 MiB: a few big Buffers per zone rather than one per record.
 */
export class Arena {
  /** The slab being filled. */
  slab = EMPTY;
  private used = 0;
  private next = 1024;
  /** Octets taken so far (slabs' unused ends not counted). */
  taken = 0;

  /** Room for `n` octets: the offset in `slab` (which may be a new one) to write them at. */
  reserve(n: number): number {
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(n, this.next));
      this.next = Math.min(this.next * 2, SLAB_MAX);
      this.used = 0;
    }
    const o = this.used;
    this.used = o + n;
    this.taken += n;
    return o;
  }

  /** A copy of `src` in `slab`: its offset there. */
  put(src: Uint8Array, start = 0, length = src.length): number {
    const o = this.reserve(length);
    copyBytes(src, start, start + length, this.slab, o);
    return o;
  }

  /** An RRset of `rdata` (in that order) whose run is in this arena. */
  pack(type: number, ttl: number, rdata: readonly Uint8Array[]): RRset {
    const o = this.reserve(runsLength(rdata));
    writeRuns(this.slab, o, rdata);
    return newRRset(type, ttl, this.slab, o, rdata.length);
  }
}

/** Type covered by the RRSIG `rdata` (RFC 4034 3.1.1), -1 when too short to say. */
function coveredOf(rdata: Uint8Array): number {
  return rdata.length >= 2 ? (rdata[0]! << 8) | rdata[1]! : -1;
}

/** `rrsig` RDATA grouped by type covered, the groups in order of first appearance (stable within). */
function groupSigs(rdata: readonly Buffer[]): Buffer[] {
  const types: number[] = [];
  for (const d of rdata) {
    const t = coveredOf(d);
    if (!types.includes(t)) types.push(t);
  }
  if (types.length < 2) return rdata.slice();
  const out: Buffer[] = [];
  for (const t of types) for (const d of rdata) if (coveredOf(d) === t) out.push(d);
  return out;
}

/** Start and count of the records of `rrsig` (grouped by type covered) that cover `type`. */
function sigGroup(rrsig: RRset, type: number): { start: number; count: number } | undefined {
  const d = rrsig.data;
  let p = rrsig.start;
  let start = -1;
  let count = 0;
  for (let i = 0; i < rrsig.count; i++) {
    const n = (d[p]! << 8) | d[p + 1]!;
    const t = n >= 2 ? (d[p + 2]! << 8) | d[p + 3]! : -1;
    if (t === type) {
      if (start < 0) start = p;
      count++;
    } else if (start >= 0) {
      break;
    }
    p += 2 + n;
  }
  return start < 0 ? undefined : { start, count };
}

/** Whether the run of `a` holds the same octets as `count` records of `data` from `start`. */
function sameRun(a: RRset, data: Buffer, start: number, count: number): boolean {
  if (a.count !== count) return false;
  if (a.data === data && a.start === start) return true;
  const aEnd = runEnd(a);
  const len = aEnd - a.start;
  return data.length >= start + len && a.data.compare(data, start, start + len, a.start, aEnd) === 0;
}

function tooMany(zone: string, owner: Buffer, type: number): ZoneError {
  return new ZoneError(zone, `more than ${MAX_RECORDS} records of type ${type} at ${nameToText(owner)}`);
}

/** Why `node` breaks the per-name rules, or undefined (the checks Knot and BIND make at load). */
function nodeProblem(node: ZoneNode): string | undefined {
  const where = (): string => nameToText(nodeName(node));
  if (!(node.flags & NODE_APEX) && getRRset(node, Type.SOA)) return `SOA record at ${where()} is not at the apex`;
  const cname = getRRset(node, Type.CNAME);
  if (cname) {
    if (cname.count > 1) return `more than one CNAME at ${where()}`;
    for (const r of rrsetsOf(node)) {
      if (r.type !== Type.CNAME && r.type !== Type.RRSIG && r.type !== Type.NSEC) return `CNAME and other data at ${where()}`;
    }
  }
  const dname = getRRset(node, Type.DNAME);
  if (dname && dname.count > 1) return `more than one DNAME at ${where()}`;
  return undefined;
}

/**
 * The apex rules, then the per-name rules over `nodes`; throws a ZoneError for the failure a walk
 * in canonical order would meet first (so the message does not depend on the order records came in).
 */
function checkZone(zone: string, apex: ZoneNode, nodes: Iterable<ZoneNode>): void {
  const soa = getRRset(apex, Type.SOA);
  if (!soa) throw new ZoneError(zone, 'no SOA record at the zone apex');
  if (soa.count !== 1) throw new ZoneError(zone, 'more than one SOA record');
  if (!getRRset(apex, Type.NS)) throw new ZoneError(zone, 'no NS records at the zone apex');
  let first: ZoneNode | undefined;
  let problem: string | undefined;
  for (const node of nodes) {
    if (first !== undefined && canonicalCompare(nodeName(node), nodeName(first)) >= 0) continue;
    const p = nodeProblem(node);
    if (p !== undefined) {
      first = node;
      problem = p;
    }
  }
  if (problem !== undefined) throw new ZoneError(zone, problem);
}

/**
 * An RRset of the node being built: its records, in the builder's scratch buffer until the node is
 * sealed. Reused from node to node (a transfer opens a million), its arrays with their room.
 */
class OpenSet {
  rrset: RRset = EMPTY_SET;
  /** Records so far: offs[0, n) and, for an RRSIG RRset, ttls[0, n). */
  n = 0;
  /** Offsets in the scratch buffer of each record's [RDLENGTH][RDATA]. */
  readonly offs: number[] = [];
  /** Octets of the run. */
  bytes = 0;
  /** An RRSIG RRset: `ttls` holds each record's TTL (its group's signatures take the first one's). */
  sig = false;
  readonly ttls: number[] = [];
  /** RDATA (latin1) of an RRset too long for a linear duplicate check. */
  set: Set<string> | undefined = undefined;

  reset(rrset: RRset): this {
    this.rrset = rrset;
    this.n = 0;
    this.bytes = 0;
    this.sig = rrset.type === Type.RRSIG;
    this.set = undefined;
    return this;
  }
}

const EMPTY_SET = newRRset(0, 0);

/** A node's children while the zone is built: finish() turns wide nodes' arrays into Chunks. */
type Kids = ZoneNode | ZoneNode[] | null;

/** A big node whose children arrived out of order: kids[0, sorted) is sorted, the rest is not. */
interface Tail {
  sorted: number;
  /** The unsorted children by key. */
  index: Map<string, ZoneNode>;
}

/**
 * Builds one snapshot from records given in any order, a few at a time. add() throws ZoneError for a
 * record outside the zone; finish() runs the remaining checks and returns the Zone. The records'
 * Buffers are copied, not kept. Duplicate records are dropped; differing TTLs inside an RRset are
 * reduced to the first one seen (RFC 2181 5.2).
 *
 * Records come grouped by owner (zone files, AXFR): the records of the node at hand are gathered in
 * a scratch buffer and, when the next owner comes, sealed: each RRset's run is copied into the
 * zone's slab (RRSIGs grouped by the type they cover, each group the `sigs` of the RRset it covers).
 * A node whose records come back later is reopened (its runs copied back to the scratch buffer; the
 * octets it had in the slab are lost until finish() compacts a slab with much lost).
 */
export class ZoneBuilder {
  private readonly zoneText: string;
  private readonly apex: ZoneNode;
  /** Owner names (never moved) and runs of records (moved by compact()). */
  private readonly names = new Arena();
  private arena = new Arena();
  private records = 0;
  private cuts = 0;
  private finished = false;
  /** The owner of the last record (`lastOwner[0, lastLength)`) and its node: records come grouped by owner. */
  private readonly lastOwner = Buffer.alloc(256);
  private lastLength = 0;
  private lastNode: ZoneNode | undefined;
  private readonly lower = Buffer.alloc(256);
  private readonly starts = new Int32Array(128);
  /** The node being built and its RRsets, their records in `scratch`. */
  private open: ZoneNode | undefined;
  /** Its RRsets: sets[0, open) (the rest are kept for reuse). */
  private readonly sets: OpenSet[] = [];
  private openSets = 0;
  private scratch = Buffer.allocUnsafe(4096);
  private scratchUsed = 0;
  /** Octets of the slabs lost to reopened nodes. */
  private lost = 0;
  /** TTLs of sealed RRSIG groups whose covered RRset is not there (yet), by node and type covered. */
  private readonly orphanTtls = new Map<ZoneNode, Map<number, number>>();
  /** Names that may break a per-name rule, checked by finish(). */
  private readonly suspects = new Set<ZoneNode>();
  private readonly tails = new Map<ZoneNode, Tail>();
  /** Nodes whose children array grew in place (with spare room V8 gives a growing array). */
  private readonly grown = new Set<ZoneNode>();

  constructor(readonly origin: Buffer) {
    this.zoneText = nameToText(origin);
    this.apex = newNode(Buffer.from(origin), 0, NODE_APEX);
  }

  /** Records kept so far (duplicates not counted). */
  get count(): number {
    return this.records;
  }

  add(rr: ResourceRecord): void {
    this.addWire(rr.owner, rr.owner.length, rr.type, rr.ttl, rr.rdata, 0, rr.rdata.length);
  }

  /**
   * add() for a record read straight from a message: owner name `owner[0, ownerLength)`, RDATA
   * `rdata[start, start + length)` (uncompressed), both copied.
   */
  addWire(owner: Uint8Array, ownerLength: number, type: number, ttl: number, rdata: Uint8Array, start: number, length: number): void {
    if (this.finished) throw new Error('ZoneBuilder.add after finish');
    let node = this.lastNode;
    if (node === undefined || !this.sameOwner(owner, ownerLength)) {
      node = this.nodeOf(owner, ownerLength);
      copyBytes(owner, 0, ownerLength, this.lastOwner, 0);
      this.lastLength = ownerLength;
      this.lastNode = node;
      if (node !== this.open) {
        this.seal();
        this.reopen(node);
      }
    }
    this.addRecord(node, type, ttl, rdata, start, length);
  }

  /** Whether `owner[0, length)` is spelled as the last record's owner. */
  private sameOwner(owner: Uint8Array, length: number): boolean {
    if (length !== this.lastLength) return false;
    const last = this.lastOwner;
    for (let i = 0; i < length; i++) if (owner[i] !== last[i]) return false;
    return true;
  }

  /** Run the checks left and return the snapshot. The builder cannot be used after. */
  finish(): Zone {
    if (this.finished) throw new Error('ZoneBuilder.finish called twice');
    this.finished = true;
    this.seal();
    this.open = undefined;
    this.scratch = EMPTY;
    this.lastNode = undefined;
    checkZone(this.zoneText, this.apex, this.suspects);
    for (const [node, tail] of this.tails) this.merge(node, tail);
    this.tails.clear();
    // Exact-length copies (a grown array keeps up to half its length spare), wide nodes' in chunks.
    for (const node of this.grown) node.kids = packChildren(node.kids as ZoneNode[]);
    this.grown.clear();
    this.orphanTtls.clear();
    this.suspects.clear();
    if (this.lost > this.arena.taken / 4) this.compact();
    return new Zone(this.apex.nameData, this.apex, this.records, this.cuts);
  }

  /** Copy every run into new slabs, leaving the octets lost to reopened nodes behind. */
  private compact(): void {
    const arena = new Arena();
    const stack: ZoneNode[] = [this.apex];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (let i = 0; i < childCount(node); i++) stack.push(childAt(node, i));
      for (const r of rrsetsOf(node)) {
        const end = runEnd(r);
        const o = arena.reserve(end - r.start);
        r.data.copy(arena.slab, o, r.start, end);
        r.data = arena.slab;
        r.start = o;
      }
      // Each group of signatures lies inside its node's RRSIG run, which has moved.
      const rrsig = getRRset(node, Type.RRSIG);
      if (rrsig === undefined) continue;
      for (const r of rrsetsOf(node)) {
        const sigs = r.sigs;
        const g = sigs === undefined ? undefined : sigGroup(rrsig, r.type);
        if (g !== undefined) {
          sigs!.data = rrsig.data;
          sigs!.start = g.start;
        }
      }
    }
    this.arena = arena;
  }

  /** The node of `owner` (at or below the origin), created with its empty non-terminals if new. */
  private nodeOf(owner: Uint8Array, ownerLength: number): ZoneNode {
    const starts = this.starts;
    const lower = this.lower;
    const origin = this.origin;
    const stop = ownerLength - origin.length;
    let n = 0;
    let i = 0;
    for (; i < stop; i += owner[i]! + 1) starts[n++] = i;
    // At or below the origin: the labels end exactly where the origin's spelling (in any case) starts.
    let inside = i === stop;
    for (let j = 0; inside && j < origin.length; j++) inside = LOWER[owner[stop + j]!] === LOWER[origin[j]!];
    if (!inside) throw new OutOfZoneError(this.zoneText, nameToText(owner));
    // Length octets are <= 63, below 'A', so folding them too is harmless.
    for (let k = 0; k < stop; k++) lower[k] = LOWER[owner[k]!]!;
    let node = this.apex;
    let copyAt = -1;
    let slab = EMPTY;
    for (let k = n - 1; k >= 0; k--) {
      const s = starts[k]!;
      let next = this.builtChild(node, lower, s);
      if (next === undefined) {
        // Every node below a new one is new too: they share one copy of the owner name.
        if (copyAt < 0) {
          copyAt = this.names.put(owner, 0, ownerLength);
          slab = this.names.slab;
        }
        next = newNode(slab, copyAt + s);
        if (node.flags & HIDES) next.flags = NODE_OCCLUDED;
        if (lower[s] === 1 && lower[s + 1] === 0x2a) node.flags |= NODE_WILDCARD;
        this.insertChild(node, next);
      }
      node = next;
    }
    return node;
  }

  /** The child of `parent` whose label is the lower-cased label at `s` of `lower`, in a big node's unsorted tail too. */
  private builtChild(parent: ZoneNode, lower: Buffer, s: number): ZoneNode | undefined {
    const k = parent.kids as Kids;
    if (k === null) return undefined;
    if (!Array.isArray(k)) return compareLabel(k, lower, s) === 0 ? k : undefined;
    const n = k.length;
    const last = k[n - 1]!;
    const c = compareLabel(last, lower, s);
    if (c === 0) return last;
    // (No tail anywhere when names come in canonical order, as in an AXFR: no lookup then.)
    if (n >= SPLICE_MAX && this.tails.size > 0) {
      const tail = this.tails.get(parent);
      if (tail !== undefined) {
        const i = lowerBound(k, lower, s, 0, tail.sorted);
        if (i < tail.sorted && compareLabel(k[i]!, lower, s) === 0) return k[i];
        return tail.index.get(lower.toString('latin1', s + 1, s + 1 + lower[s]!));
      }
    }
    if (c < 0) return undefined;
    const i = lowerBound(k, lower, s);
    return compareLabel(k[i]!, lower, s) === 0 ? k[i] : undefined;
  }

  /** Insert a new child, keeping the children in canonical order (but for a big node's tail). */
  private insertChild(parent: ZoneNode, child: ZoneNode): void {
    const k = parent.kids as Kids;
    if (k === null) {
      parent.kids = child;
      return;
    }
    if (!Array.isArray(k)) {
      parent.kids = compareNodes(k, child) < 0 ? [k, child] : [child, k];
      return;
    }
    const n = k.length;
    if (n >= SPLICE_MAX && this.tails.size > 0) {
      const tail = this.tails.get(parent);
      if (tail !== undefined) {
        k.push(child);
        tail.index.set(nodeKey(child), child);
        if (n + 1 - tail.sorted >= Math.max(MERGE_MIN, tail.sorted >>> 3)) {
          this.merge(parent, tail);
          this.tails.delete(parent);
        }
        return;
      }
    }
    // Inserting into EXACT children or more grows the array in place (with spare room): once.
    if (n === EXACT) this.grown.add(parent);
    if (compareNodes(k[n - 1]!, child) < 0) {
      parent.kids = append(k, child);
    } else if (n < EXACT) {
      parent.kids = insertAt(k, lowerBoundNode(k, child), child);
    } else if (n < SPLICE_MAX) {
      k.splice(lowerBoundNode(k, child), 0, child);
    } else {
      k.push(child);
      this.tails.set(parent, { sorted: n, index: new Map([[nodeKey(child), child]]) });
    }
  }

  /** Sort a big node's tail and merge it into the sorted part. */
  private merge(parent: ZoneNode, tail: Tail): void {
    const k = parent.kids as ZoneNode[];
    const rest = k.slice(tail.sorted).sort(compareNodes);
    const out: ZoneNode[] = [];
    let i = 0;
    let j = 0;
    const n = tail.sorted;
    while (i < n && j < rest.length) out.push(compareNodes(k[i]!, rest[j]!) < 0 ? k[i++]! : rest[j++]!);
    while (i < n) out.push(k[i++]!);
    while (j < rest.length) out.push(rest[j++]!);
    parent.kids = out;
  }

  private addRecord(node: ZoneNode, type: number, ttl: number, rdata: Uint8Array, start: number, length: number): void {
    const sets = this.sets;
    let os: OpenSet | undefined;
    for (let i = 0; i < this.openSets; i++) {
      if (sets[i]!.rrset.type === type) {
        os = sets[i];
        break;
      }
    }
    if (os === undefined) {
      const created = newRRset(type, ttl);
      // The node is being built, not published: its last RRset may be linked to the new one.
      let last = node.sets;
      if (last === null) node.sets = created;
      else {
        while (last.next !== null) last = last.next;
        last.next = created;
      }
      os = this.openSet(created);
      this.keep(os, ttl, rdata, start, start + length);
      this.records++;
      this.created(node, created);
      return;
    }
    if (!this.isNew(os, rdata, start, length)) return;
    if (os.rrset.count >= MAX_RECORDS) throw tooMany(this.zoneText, nodeName(node), type);
    this.keep(os, ttl, rdata, start, start + length);
    this.records++;
    if (type === Type.CNAME || type === Type.DNAME) this.suspects.add(node);
  }

  /** The next free OpenSet, for `rrset`. */
  private openSet(rrset: RRset): OpenSet {
    const i = this.openSets++;
    return (this.sets[i] ??= new OpenSet()).reset(rrset);
  }

  /** Append the record `src[start, end)` to `os`, in the scratch buffer. */
  private keep(os: OpenSet, ttl: number, src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let o = this.scratchUsed;
    if (o + n + 2 > this.scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.scratch.length, o + n + 2));
      this.scratch.copy(grown, 0, 0, o);
      this.scratch = grown;
    }
    const b = this.scratch;
    b[o] = n >>> 8;
    b[o + 1] = n & 0xff;
    copyBytes(src, start, end, b, o + 2);
    os.offs[os.n] = o;
    if (os.sig) os.ttls[os.n] = ttl;
    os.n++;
    os.bytes += n + 2;
    os.set?.add(b.toString('latin1', o + 2, o + 2 + n));
    os.rrset.count++;
    this.scratchUsed = o + n + 2;
  }

  /** True when `rdata[start, start + len)` is not in `os` yet (octet for octet). */
  private isNew(os: OpenSet, rdata: Uint8Array, start: number, len: number): boolean {
    const offs = os.offs;
    const n = os.n;
    const b = this.scratch;
    if (n < LINEAR_DEDUPE) {
      for (let i = 0; i < n; i++) {
        const o = offs[i]!;
        if (((b[o]! << 8) | b[o + 1]!) === len && sameBytes(b, o + 2, rdata, start, len)) return false;
      }
      return true;
    }
    let set = os.set;
    if (set === undefined) {
      set = new Set();
      for (let i = 0; i < n; i++) {
        const o = offs[i]!;
        set.add(b.toString('latin1', o + 2, o + 2 + ((b[o]! << 8) | b[o + 1]!)));
      }
      os.set = set;
    }
    return !set.has(Buffer.from(rdata.buffer, rdata.byteOffset + start, len).toString('latin1'));
  }

  /**
   * Copy the runs of the open node into the slab: its RRsets' records in order, then its RRSIGs
   * grouped by type covered, each group the `sigs` of the RRset it covers.
   */
  private seal(): void {
    const node = this.open;
    const sets = this.sets;
    const count = this.openSets;
    this.open = undefined;
    this.openSets = 0;
    if (node === undefined || count === 0) return;
    let total = 0;
    for (let i = 0; i < count; i++) total += sets[i]!.bytes;
    const arena = this.arena;
    let o = arena.reserve(total);
    const slab = arena.slab;
    const b = this.scratch;
    let sig: OpenSet | undefined;
    for (let i = 0; i < count; i++) {
      const os = sets[i]!;
      const r = os.rrset;
      r.sigs = undefined;
      if (os.sig) {
        sig = os;
        continue;
      }
      r.data = slab;
      r.start = o;
      const offs = os.offs;
      for (let j = 0; j < os.n; j++) o = copyRun(b, offs[j]!, slab, o);
    }
    if (sig !== undefined) {
      const r = sig.rrset;
      r.data = slab;
      r.start = o;
      const offs = sig.offs.slice(0, sig.n);
      const ttls = sig.ttls;
      const covered = offs.map((at) => (((b[at]! << 8) | b[at + 1]!) >= 2 ? (b[at + 2]! << 8) | b[at + 3]! : -1));
      const types: number[] = [];
      for (const t of covered) if (!types.includes(t)) types.push(t);
      let orphans: Map<number, number> | undefined;
      for (const t of types) {
        const start = o;
        let count = 0;
        let ttl = -1;
        for (let i = 0; i < offs.length; i++) {
          if (covered[i] !== t) continue;
          const at = offs[i]!;
          o = copyRun(b, at, slab, o);
          if (count++ === 0) ttl = ttls[i]!;
        }
        const target = t < 0 ? undefined : getRRset(node, t);
        if (target !== undefined) target.sigs = newRRset(Type.RRSIG, ttl, slab, start, count);
        else (orphans ??= new Map()).set(t, ttl);
      }
      if (orphans !== undefined) this.orphanTtls.set(node, orphans);
    }
    this.scratchUsed = 0;
  }

  /** Make `node` the open node, its records (if it has some already) back in the scratch buffer. */
  private reopen(node: ZoneNode): void {
    this.open = node;
    if (node.sets === null) return;
    const rrsets = rrsetsOf(node);
    const orphans = this.orphanTtls.get(node);
    if (orphans !== undefined) this.orphanTtls.delete(node);
    for (const r of rrsets) {
      const sig = r.type === Type.RRSIG;
      const os = this.openSet(r);
      const d = r.data;
      const count = r.count;
      r.count = 0;
      let p = r.start;
      for (let i = 0; i < count; i++) {
        const n = (d[p]! << 8) | d[p + 1]!;
        let ttl = r.ttl;
        if (sig) {
          const t = n >= 2 ? (d[p + 2]! << 8) | d[p + 3]! : -1;
          ttl = (t >= 0 ? getRRset(node, t)?.sigs?.ttl : undefined) ?? orphans?.get(t) ?? r.ttl;
        }
        this.keep(os, ttl, d, p + 2, p + 2 + n);
        p += 2 + n;
      }
      this.lost += p - r.start;
    }
  }

  /** A new RRset at `node`: flags, rules to check, RRSIGs that were waiting for it. */
  private created(node: ZoneNode, rrset: RRset): void {
    const type = rrset.type;
    const before = node.flags;
    if (type === Type.NS && !(before & NODE_APEX)) node.flags |= NODE_DELEGATION;
    else if (type === Type.DNAME) node.flags |= NODE_DNAME;
    else if (type === Type.SOA && !(before & NODE_APEX)) this.suspects.add(node);
    if (!(before & CUT) && node.flags & CUT) {
      this.cuts++;
      // Names already below a new cut are glue or hidden now (in canonical order there are none).
      if (!(before & NODE_OCCLUDED)) this.occlude(node);
    }
    if (node.sets!.next !== null && (type === Type.CNAME || getRRset(node, Type.CNAME) !== undefined)) this.suspects.add(node);
  }

  /** Flag every descendant of `cut` occluded (those already flagged are below another cut). */
  private occlude(cut: ZoneNode): void {
    const stack: ZoneNode[] = [];
    // (childCount covers a big node's unsorted tail too.)
    for (let i = 0; i < childCount(cut); i++) stack.push(childAt(cut, i));
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.flags & NODE_OCCLUDED) continue;
      node.flags |= NODE_OCCLUDED;
      for (let i = 0; i < childCount(node); i++) stack.push(childAt(node, i));
    }
  }
}

/**
 * A new snapshot made from an old one by replacing whole RRsets (IXFR, RFC 1995), by path copying:
 * the nodes from the apex to each changed name are copied, everything else is shared with the old
 * snapshot, which is never modified. finish() prunes names left empty, recomputes the flags of the
 * changed names and the occlusion of the subtrees below cuts that appeared or went away, re-attaches
 * RRSIGs where they changed, and runs the zone checks on the changed names.
 */
export class ZoneEditor {
  private readonly zoneText: string;
  private readonly apex: ZoneNode;
  private readonly arena = new Arena();
  /** Nodes (RRsets, chunks of children) made for the new snapshot: these may be modified, the others not. */
  private readonly owned = new Set<ZoneNode>();
  private readonly ownedSets = new Set<RRset>();
  private readonly ownedChunks = new Set<ZoneNode[]>();
  /** Changed names and their paths from the apex (apex first, the node last). */
  private readonly touched = new Map<ZoneNode, ZoneNode[]>();
  /** Nodes created by the edit, with their paths. */
  private readonly created: ZoneNode[][] = [];
  private records: number;
  private cuts: number;
  private finished = false;
  private readonly lower = Buffer.alloc(256);

  constructor(private readonly base: Zone) {
    this.zoneText = base.name;
    this.apex = this.own(base.apex);
    this.records = base.records;
    this.cuts = base.cuts;
  }

  /** RDATA for put(): `b` itself (put() copies what it keeps). */
  copy(b: Buffer): Buffer {
    return b;
  }

  /**
   * The RRset of `type` at `owner` becomes `rdata` (copied into the new snapshot's own storage; an
   * RRSIG RRset's records grouped by type covered), with `ttl`; an empty list removes it. `owner`
   * must be at or below the origin.
   */
  put(owner: Buffer, type: number, ttl: number, rdata: Buffer[]): void {
    if (this.finished) throw new Error('ZoneEditor.put after finish');
    if (rdata.length > MAX_RECORDS) throw tooMany(this.zoneText, owner, type);
    const path = this.path(owner, rdata.length > 0);
    if (path === undefined) return;
    const node = path[path.length - 1]!;
    const old = getRRset(node, type);
    const rrsets = rrsetsOf(node).filter((r) => r.type !== type);
    if (rdata.length > 0) {
      const rrset = this.arena.pack(type, ttl, type === Type.RRSIG ? groupSigs(rdata) : rdata);
      // Kept for now so that unchanged signatures can be reused by finish().
      rrset.sigs = old?.sigs;
      this.ownedSets.add(rrset);
      const at = old === undefined ? -1 : rrsetsOf(node).indexOf(old);
      if (at < 0) rrsets.push(rrset);
      else rrsets.splice(at, 0, rrset);
    }
    setRRsets(node, rrsets);
    this.records += rdata.length - (old === undefined ? 0 : old.count);
    this.touched.set(node, path);
  }

  finish(): Zone {
    if (this.finished) throw new Error('ZoneEditor.finish called twice');
    this.finished = true;
    const pruned = new Set<ZoneNode>();
    for (const path of this.touched.values()) this.prune(path, pruned);

    // Cut and DNAME flags of the changed names; a change of either re-derives the subtree's occlusion.
    const roots: ZoneNode[][] = [];
    for (const [node, path] of this.touched) {
      const was = node.flags & CUT;
      const now = (getRRset(node, Type.NS) && !(node.flags & NODE_APEX) ? NODE_DELEGATION : 0) | (getRRset(node, Type.DNAME) ? NODE_DNAME : 0);
      if (was !== now) {
        node.flags = (node.flags & ~CUT) | now;
        this.cuts += (now !== 0 ? 1 : 0) - (was !== 0 ? 1 : 0);
        if (!pruned.has(node)) roots.push(path);
      }
      if (!pruned.has(node)) this.resign(node);
    }
    for (const path of this.created) if (!pruned.has(path[path.length - 1]!)) roots.push(path);
    // Shallow first, so a root's parent has its final flags when the root is done.
    roots.sort((a, b) => a.length - b.length);
    for (const path of roots) {
      // (The apex is a root when a DNAME appears or goes there; nothing is above it.)
      const parent = path.length > 1 ? path[path.length - 2]! : undefined;
      this.reflag(path[path.length - 1]!, parent !== undefined && (parent.flags & HIDES) !== 0);
    }

    const live: ZoneNode[] = [];
    for (const node of this.touched.keys()) if (!pruned.has(node)) live.push(node);
    checkZone(this.zoneText, this.apex, live);
    return new Zone(this.base.origin, this.apex, this.records, this.cuts);
  }

  /** A node of the new snapshot standing for `node`: `node` itself if it is one, else a copy. */
  private own(node: ZoneNode): ZoneNode {
    if (this.owned.has(node)) return node;
    const c = newNode(node.nameData, node.nameStart, node.flags);
    c.sets = node.sets;
    const k = node.kids;
    c.kids = Array.isArray(k) ? k.slice() : isChunks(k) ? k.copy() : k;
    this.owned.add(c);
    return c;
  }

  /** The path of owned nodes from the apex to `owner`'s node; the node is created if `create`. */
  private path(owner: Buffer, create: boolean): ZoneNode[] | undefined {
    const origin = this.base.origin;
    if (!isSubdomain(owner, origin)) throw new ZoneError(this.zoneText, `record ${nameToText(owner)} is outside the zone`);
    const starts: number[] = [];
    const stop = owner.length - origin.length;
    for (let i = 0; i < stop; i += owner[i]! + 1) starts.push(i);
    const lower = this.lower;
    for (let i = 0; i < stop; i++) lower[i] = LOWER[owner[i]!]!;
    let node = this.apex;
    const path = [node];
    let copyAt = -1;
    let slab = EMPTY;
    for (let k = starts.length - 1; k >= 0; k--) {
      const s = starts[k]!;
      let next = findChild(node, lower, s);
      if (next !== undefined) {
        if (!this.owned.has(next)) {
          const c = this.own(next);
          setChild(node, c, this.ownedChunks);
          next = c;
        }
      } else {
        if (!create) return undefined;
        if (copyAt < 0) {
          copyAt = this.arena.put(owner);
          slab = this.arena.slab;
        }
        next = newNode(slab, copyAt + s);
        this.owned.add(next);
        addChild(node, next, this.ownedChunks);
        this.created.push([...path, next]);
      }
      path.push(next);
      node = next;
    }
    return path;
  }

  /** Remove the path's last node and its ancestors while they own nothing and have no children. */
  private prune(path: ZoneNode[], pruned: Set<ZoneNode>): void {
    for (let i = path.length - 1; i > 0; i--) {
      const node = path[i]!;
      if (pruned.has(node) || node.sets !== null || node.kids !== null) return;
      removeChild(path[i - 1]!, node, this.ownedChunks);
      pruned.add(node);
    }
  }

  /**
   * Attach the RRSIGs of a changed node to the RRsets they cover. Signatures that did not change keep
   * their RRset (and TTL); new ones take the TTL the covered RRset's signatures had, else the RRSIG
   * RRset's.
   */
  private resign(node: ZoneNode): void {
    const rrsig = getRRset(node, Type.RRSIG);
    let out: RRset[] | undefined;
    rrsetsOf(node).forEach((r, i) => {
      const g = rrsig === undefined ? undefined : sigGroup(rrsig, r.type);
      const cur = r.sigs;
      if (g === undefined ? cur === undefined : cur !== undefined && sameRun(cur, rrsig!.data, g.start, g.count)) return;
      const sigs = g === undefined ? undefined : newRRset(Type.RRSIG, cur?.ttl ?? rrsig!.ttl, rrsig!.data, g.start, g.count);
      if (this.ownedSets.has(r)) {
        r.sigs = sigs;
        return;
      }
      const c = newRRset(r.type, r.ttl, r.data, r.start, r.count);
      c.sigs = sigs;
      out ??= rrsetsOf(node).slice();
      out[i] = c;
    });
    if (out !== undefined) setRRsets(node, out);
  }

  /**
   * Give `node` and its subtree the occlusion `occluded` implies (copying the nodes that change);
   * returns the node to use in its parent.
   */
  private reflag(node: ZoneNode, occluded: boolean): ZoneNode {
    const want = occluded ? node.flags | NODE_OCCLUDED : node.flags & ~NODE_OCCLUDED;
    let out = node;
    if (want !== node.flags) {
      out = this.own(node);
      out.flags = want;
    }
    const below = (out.flags & HIDES) !== 0;
    const n = childCount(out);
    for (let i = 0; i < n; i++) {
      const c = childAt(out, i);
      const r = this.reflag(c, below);
      if (r !== c) {
        out = this.own(out);
        setChild(out, r, this.ownedChunks);
      }
    }
    return out;
  }
}

/**
 * Put `child` in place of the child of `parent` with the same key (`parent` is owned, so are its
 * children array or Chunks; `owned`: the chunks that are, see Chunks).
 */
function setChild(parent: ZoneNode, child: ZoneNode, owned: Set<ZoneNode[]>): void {
  const k = parent.kids;
  if (isChunks(k)) k.set(child, owned);
  else if (Array.isArray(k)) k[lowerBoundNode(k, child)] = child;
  else parent.kids = child;
}

/** Insert a new child in canonical order (`parent` is owned, see setChild). */
function addChild(parent: ZoneNode, child: ZoneNode, owned: Set<ZoneNode[]>): void {
  const k = parent.kids;
  if (isWildcard(child)) parent.flags |= NODE_WILDCARD;
  if (k === null) parent.kids = child;
  else if (isChunks(k)) k.insert(child, owned);
  else if (!Array.isArray(k)) parent.kids = compareNodes(k, child) < 0 ? [k, child] : [child, k];
  else if (k.length < EXACT) parent.kids = insertAt(k, lowerBoundNode(k, child), child);
  else if (k.length < CHUNK_MAX) k.splice(lowerBoundNode(k, child), 0, child);
  else parent.kids = Chunks.of(insertAt(k, lowerBoundNode(k, child), child));
}

/** Remove a child (`parent` is owned, see setChild). */
function removeChild(parent: ZoneNode, child: ZoneNode, owned: Set<ZoneNode[]>): void {
  const k = parent.kids;
  if (isWildcard(child)) parent.flags &= ~NODE_WILDCARD;
  if (isChunks(k)) {
    k.remove(child, owned);
    if (k.size <= CHUNK) parent.kids = k.parts.flat();
  } else if (Array.isArray(k)) {
    k.splice(lowerBoundNode(k, child), 1);
    if (k.length === 1) parent.kids = k[0]!;
  } else {
    parent.kids = null;
  }
}
