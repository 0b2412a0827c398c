// Building zone snapshots (RFC 1034 4.2, RFC 2181 5, RFC 4592, RFC 6672): ZoneBuilder from a stream
// of records (zone files, AXFR message by message), ZoneEditor from an older snapshot and the RRsets
// an IXFR changes (RFC 1995), with the checks every snapshot must pass.
//
// ZoneBuilder does its work in add(), a record at a time, so a transfer's cost is spread over its
// messages and finish() has little left: flags (cut, DNAME, occluded, wildcard) are set as nodes and
// RRsets appear, RRSIGs are attached to the RRset they cover as they come, children are kept in
// canonical order as they are inserted (a big node that receives names out of order keeps an
// unsorted tail, merged in whenever it reaches an eighth of the node, so no single step sorts much),
// and the per-name checks run only over the names that could fail them (a CNAME, a second DNAME, an
// SOA off the apex). Octets a snapshot keeps are copied into slabs of its own (Arena): the Buffers a
// decoded message hands us sit in Node's shared 8 kB pool between garbage that the pool could then
// never free.
//
// ZoneEditor copies the path from the apex to each changed name (path copying): the new snapshot
// shares every untouched subtree with the old one, which is never modified and keeps serving.

import { Type } from '../wire/constants.js';
import { canonicalCompare, isSubdomain, LOWER, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import {
  lowerBound,
  NO_RRSETS,
  NODE_APEX,
  NODE_DELEGATION,
  NODE_DNAME,
  NODE_OCCLUDED,
  NODE_WILDCARD,
  RRset,
  ZoneNode,
} from './node.js';
import { Zone, ZoneError } from './zone.js';

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

/** A new exact-length copy of `arr` with `x` inserted at `pos`. */
function insertAt<T>(arr: readonly T[], pos: number, x: T): T[] {
  const n = arr.length;
  const out = new Array<T>(n + 1);
  for (let i = 0; i < pos; i++) out[i] = arr[i]!;
  out[pos] = x;
  for (let i = pos; i < n; i++) out[i + 1] = arr[i]!;
  return out;
}

const byKey = (a: ZoneNode, b: ZoneNode): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Copies of octets a snapshot keeps, packed into slabs that grow from 1 kB to 64 kB. */
export class Arena {
  private slab = Buffer.alloc(0);
  private used = 0;
  private next = 1024;

  copy(src: Buffer, start = 0, end = src.length): Buffer {
    const n = end - start;
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(n, this.next));
      this.next = Math.min(this.next * 2, 65536);
      this.used = 0;
    }
    const o = this.used;
    src.copy(this.slab, o, start, end);
    this.used = o + n;
    return this.slab.subarray(o, o + n);
  }
}

/** Why `node` breaks the per-name rules, or undefined (the checks Knot and BIND make at load). */
function nodeProblem(node: ZoneNode): string | undefined {
  const where = (): string => nameToText(node.name);
  if (!(node.flags & NODE_APEX) && node.get(Type.SOA)) return `SOA record at ${where()} is not at the apex`;
  const cname = node.get(Type.CNAME);
  if (cname) {
    if (cname.rdata.length > 1) return `more than one CNAME at ${where()}`;
    for (const r of node.rrsets) {
      if (r.type !== Type.CNAME && r.type !== Type.RRSIG && r.type !== Type.NSEC) return `CNAME and other data at ${where()}`;
    }
  }
  const dname = node.get(Type.DNAME);
  if (dname && dname.rdata.length > 1) return `more than one DNAME at ${where()}`;
  return undefined;
}

/**
 * The apex rules, then the per-name rules over `nodes`; throws a ZoneError for the failure a walk
 * in canonical order would meet first (so the message does not depend on the order records came in).
 */
function checkZone(zone: string, apex: ZoneNode, nodes: Iterable<ZoneNode>): void {
  const soa = apex.get(Type.SOA);
  if (!soa) throw new ZoneError(zone, 'no SOA record at the zone apex');
  if (soa.rdata.length !== 1) throw new ZoneError(zone, 'more than one SOA record');
  if (!apex.get(Type.NS)) throw new ZoneError(zone, 'no NS records at the zone apex');
  let first: ZoneNode | undefined;
  let problem: string | undefined;
  for (const node of nodes) {
    if (first !== undefined && canonicalCompare(node.name, first.name) >= 0) continue;
    const p = nodeProblem(node);
    if (p !== undefined) {
      first = node;
      problem = p;
    }
  }
  if (problem !== undefined) throw new ZoneError(zone, problem);
}

/** RDATA of the RRSIGs in `rrsig` that cover `type` (RFC 4034 3.1.1), in order. */
function covering(rrsig: RRset | undefined, type: number): Buffer[] {
  if (rrsig === undefined) return [];
  const out: Buffer[] = [];
  for (const d of rrsig.rdata) if (d.length >= 2 && d.readUInt16BE(0) === type) out.push(d);
  return out;
}

interface PendingSig {
  covered: number;
  ttl: number;
  rdata: Buffer;
}

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
 */
export class ZoneBuilder {
  private readonly zoneText: string;
  private readonly apex: ZoneNode;
  private readonly arena = new Arena();
  private records = 0;
  private cuts = 0;
  private finished = false;
  /** The owner of the last record and its node: records come grouped by owner. */
  private lastOwner: Buffer | undefined;
  private lastNode: ZoneNode | undefined;
  private readonly lower = Buffer.alloc(256);
  private readonly starts = new Int32Array(128);
  /** RDATA (latin1) of the RRsets too long for a linear duplicate check. */
  private readonly rdataSets = new Map<RRset, Set<string>>();
  /** RRSIGs that came before the RRset they cover. */
  private readonly pendingSigs = new Map<ZoneNode, PendingSig[]>();
  /** Names that may break a per-name rule, checked by finish(). */
  private readonly suspects = new Set<ZoneNode>();
  private readonly tails = new Map<ZoneNode, Tail>();

  constructor(readonly origin: Buffer) {
    this.zoneText = nameToText(origin);
    this.apex = new ZoneNode(Buffer.from(origin), '');
    this.apex.flags = NODE_APEX;
  }

  /** Records kept so far (duplicates not counted). */
  get count(): number {
    return this.records;
  }

  add(rr: ResourceRecord): void {
    if (this.finished) throw new Error('ZoneBuilder.add after finish');
    const owner = rr.owner;
    let node: ZoneNode;
    if (this.lastOwner !== undefined && owner.equals(this.lastOwner)) {
      node = this.lastNode!;
    } else {
      if (!isSubdomain(owner, this.origin)) throw new ZoneError(this.zoneText, `record ${nameToText(owner)} is outside the zone`);
      node = this.nodeOf(owner);
      this.lastOwner = owner;
      this.lastNode = node;
    }
    this.addRecord(node, rr.type, rr.ttl, rr.rdata);
  }

  /** Run the checks left and return the snapshot. The builder cannot be used after. */
  finish(): Zone {
    if (this.finished) throw new Error('ZoneBuilder.finish called twice');
    this.finished = true;
    this.lastOwner = this.lastNode = undefined;
    checkZone(this.zoneText, this.apex, this.suspects);
    for (const [node, tail] of this.tails) this.merge(node, tail);
    this.tails.clear();
    this.rdataSets.clear();
    this.pendingSigs.clear();
    this.suspects.clear();
    return new Zone(this.apex.name, this.apex, this.records, this.cuts);
  }

  /** The node of `owner` (at or below the origin), created with its empty non-terminals if new. */
  private nodeOf(owner: Buffer): ZoneNode {
    const starts = this.starts;
    const lower = this.lower;
    const stop = owner.length - this.origin.length;
    let n = 0;
    for (let i = 0; i < stop; i += owner[i]! + 1) starts[n++] = i;
    // Length octets are <= 63, below 'A', so folding them too is harmless.
    for (let i = 0; i < stop; i++) lower[i] = LOWER[owner[i]!]!;
    let node = this.apex;
    let copy: Buffer | undefined;
    for (let k = n - 1; k >= 0; k--) {
      const s = starts[k]!;
      const key = lower.toString('latin1', s + 1, s + 1 + owner[s]!);
      let next = this.findChild(node, key);
      if (next === undefined) {
        // Every node below a new one is new too: they share one copy of the owner name.
        copy ??= this.arena.copy(owner);
        next = new ZoneNode(s === 0 ? copy : copy.subarray(s), key);
        if (node.flags & HIDES) next.flags = NODE_OCCLUDED;
        if (key === '*') node.flags |= NODE_WILDCARD;
        this.insertChild(node, next);
      }
      node = next;
    }
    return node;
  }

  private findChild(parent: ZoneNode, key: string): ZoneNode | undefined {
    const k = parent.kids;
    if (k === null) return undefined;
    if (!Array.isArray(k)) return k.key === key ? k : undefined;
    const n = k.length;
    const last = k[n - 1]!;
    if (last.key === key) return last;
    if (n >= SPLICE_MAX) {
      const tail = this.tails.get(parent);
      if (tail !== undefined) {
        const i = lowerBound(k, key, 0, tail.sorted);
        if (i < tail.sorted && k[i]!.key === key) return k[i];
        return tail.index.get(key);
      }
    }
    if (last.key < key) return undefined;
    const i = lowerBound(k, key);
    return k[i]!.key === key ? k[i] : undefined;
  }

  /** Insert a new child, keeping the children in canonical order (but for a big node's tail). */
  private insertChild(parent: ZoneNode, child: ZoneNode): void {
    const k = parent.kids;
    const key = child.key;
    if (k === null) {
      parent.kids = child;
      return;
    }
    if (!Array.isArray(k)) {
      parent.kids = k.key < key ? [k, child] : [child, k];
      return;
    }
    const n = k.length;
    if (n >= SPLICE_MAX) {
      const tail = this.tails.get(parent);
      if (tail !== undefined) {
        k.push(child);
        tail.index.set(key, child);
        if (n + 1 - tail.sorted >= Math.max(MERGE_MIN, tail.sorted >>> 3)) {
          this.merge(parent, tail);
          this.tails.delete(parent);
        }
        return;
      }
    }
    if (k[n - 1]!.key < key) {
      parent.kids = append(k, child);
    } else if (n < EXACT) {
      parent.kids = insertAt(k, lowerBound(k, key), child);
    } else if (n < SPLICE_MAX) {
      k.splice(lowerBound(k, key), 0, child);
    } else {
      k.push(child);
      this.tails.set(parent, { sorted: n, index: new Map([[key, child]]) });
    }
  }

  /** Sort a big node's tail and merge it into the sorted part. */
  private merge(parent: ZoneNode, tail: Tail): void {
    const k = parent.kids as ZoneNode[];
    const rest = k.slice(tail.sorted).sort(byKey);
    const out: ZoneNode[] = [];
    let i = 0;
    let j = 0;
    const n = tail.sorted;
    while (i < n && j < rest.length) out.push(k[i]!.key < rest[j]!.key ? k[i++]! : rest[j++]!);
    while (i < n) out.push(k[i++]!);
    while (j < rest.length) out.push(rest[j++]!);
    parent.kids = out;
  }

  private addRecord(node: ZoneNode, type: number, ttl: number, rdata: Buffer): void {
    const rrset = node.get(type);
    if (rrset === undefined) {
      const rd = this.arena.copy(rdata);
      const created = new RRset(type, ttl, [rd]);
      node.rrsets = append(node.rrsets, created);
      this.records++;
      this.created(node, created);
      if (type === Type.RRSIG) this.signature(node, ttl, rd);
      return;
    }
    if (!this.isNew(rrset, rdata)) return;
    const rd = this.arena.copy(rdata);
    rrset.rdata = append(rrset.rdata, rd);
    this.records++;
    if (type === Type.CNAME || type === Type.DNAME) this.suspects.add(node);
    if (type === Type.RRSIG) this.signature(node, ttl, rd);
  }

  /** True when `rdata` is not in `rrset` yet (octet for octet). */
  private isNew(rrset: RRset, rdata: Buffer): boolean {
    const list = rrset.rdata;
    if (list.length < LINEAR_DEDUPE) {
      for (let i = 0; i < list.length; i++) {
        const d = list[i]!;
        if (d.length === rdata.length && d.equals(rdata)) return false;
      }
      return true;
    }
    let set = this.rdataSets.get(rrset);
    if (set === undefined) {
      set = new Set();
      for (const d of list) set.add(d.toString('latin1'));
      this.rdataSets.set(rrset, set);
    }
    const key = rdata.toString('latin1');
    if (set.has(key)) return false;
    set.add(key);
    return true;
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
    if (node.rrsets.length > 1 && (type === Type.CNAME || node.get(Type.CNAME) !== undefined)) this.suspects.add(node);
    if (this.pendingSigs.size > 0) {
      const waiting = this.pendingSigs.get(node);
      if (waiting !== undefined) {
        const left = waiting.filter((s) => {
          if (s.covered !== type) return true;
          this.attach(rrset, s.ttl, s.rdata);
          return false;
        });
        if (left.length === 0) this.pendingSigs.delete(node);
        else this.pendingSigs.set(node, left);
      }
    }
  }

  /** Flag every descendant of `cut` occluded (those already flagged are below another cut). */
  private occlude(cut: ZoneNode): void {
    const stack: ZoneNode[] = [];
    // (childCount covers a big node's unsorted tail too.)
    for (let i = 0; i < cut.childCount; i++) stack.push(cut.childAt(i));
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.flags & NODE_OCCLUDED) continue;
      node.flags |= NODE_OCCLUDED;
      for (let i = 0; i < node.childCount; i++) stack.push(node.childAt(i));
    }
  }

  /** A new RRSIG at `node`: attach it to the RRset it covers (RFC 4035 3.1), or wait for that RRset. */
  private signature(node: ZoneNode, ttl: number, rdata: Buffer): void {
    if (rdata.length < 2) return;
    const covered = rdata.readUInt16BE(0);
    const target = node.get(covered);
    if (target !== undefined) {
      this.attach(target, ttl, rdata);
      return;
    }
    const waiting = this.pendingSigs.get(node);
    if (waiting === undefined) this.pendingSigs.set(node, [{ covered, ttl, rdata }]);
    else waiting.push({ covered, ttl, rdata });
  }

  private attach(target: RRset, ttl: number, rdata: Buffer): void {
    if (target.sigs === undefined) target.sigs = new RRset(Type.RRSIG, ttl, [rdata]);
    else target.sigs.rdata = append(target.sigs.rdata, rdata);
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
  /** Nodes (and RRsets) made for the new snapshot: these may be modified, the others not. */
  private readonly owned = new Set<ZoneNode>();
  private readonly ownedSets = new Set<RRset>();
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

  /** A copy of `b` in the new snapshot's own storage. */
  copy(b: Buffer): Buffer {
    return this.arena.copy(b);
  }

  /**
   * The RRset of `type` at `owner` becomes `rdata` (Buffers of the old snapshot or from copy()), with
   * `ttl`; an empty list removes it. `owner` must be at or below the origin.
   */
  put(owner: Buffer, type: number, ttl: number, rdata: Buffer[]): void {
    if (this.finished) throw new Error('ZoneEditor.put after finish');
    const path = this.path(owner, rdata.length > 0);
    if (path === undefined) return;
    const node = path[path.length - 1]!;
    const old = node.get(type);
    const rrsets = node.rrsets.filter((r) => r.type !== type);
    if (rdata.length > 0) {
      const rrset = new RRset(type, ttl, rdata);
      // Kept for now so that unchanged signatures can be reused by finish().
      rrset.sigs = old?.sigs;
      this.ownedSets.add(rrset);
      const at = old === undefined ? -1 : node.rrsets.indexOf(old);
      if (at < 0) rrsets.push(rrset);
      else rrsets.splice(at, 0, rrset);
    }
    node.rrsets = rrsets.length === 0 ? NO_RRSETS : rrsets;
    this.records += rdata.length - (old === undefined ? 0 : old.rdata.length);
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
      const now = (node.get(Type.NS) && !(node.flags & NODE_APEX) ? NODE_DELEGATION : 0) | (node.get(Type.DNAME) ? NODE_DNAME : 0);
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
    const c = new ZoneNode(node.name, node.key);
    c.rrsets = node.rrsets;
    c.flags = node.flags;
    const k = node.kids;
    c.kids = Array.isArray(k) ? k.slice() : k;
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
    let copy: Buffer | undefined;
    for (let k = starts.length - 1; k >= 0; k--) {
      const s = starts[k]!;
      const key = lower.toString('latin1', s + 1, s + 1 + owner[s]!);
      let next = node.child(key);
      if (next !== undefined) {
        if (!this.owned.has(next)) {
          const c = this.own(next);
          setChild(node, c);
          next = c;
        }
      } else {
        if (!create) return undefined;
        copy ??= this.arena.copy(owner);
        next = new ZoneNode(s === 0 ? copy : copy.subarray(s), key);
        this.owned.add(next);
        addChild(node, next);
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
      if (pruned.has(node) || node.rrsets.length > 0 || node.kids !== null) return;
      removeChild(path[i - 1]!, node);
      pruned.add(node);
    }
  }

  /**
   * Attach the RRSIGs of a changed node to the RRsets they cover. Signatures that did not change keep
   * their RRset (and TTL); new ones take the TTL the covered RRset's signatures had, else the RRSIG
   * RRset's.
   */
  private resign(node: ZoneNode): void {
    const rrsig = node.get(Type.RRSIG);
    let out: RRset[] | undefined;
    node.rrsets.forEach((r, i) => {
      const list = covering(rrsig, r.type);
      const cur = r.sigs;
      if (list.length === 0 ? cur === undefined : cur !== undefined && sameBuffers(cur.rdata, list)) return;
      const sigs = list.length === 0 ? undefined : new RRset(Type.RRSIG, cur?.ttl ?? rrsig!.ttl, list);
      if (this.ownedSets.has(r)) {
        r.sigs = sigs;
        return;
      }
      const c = new RRset(r.type, r.ttl, r.rdata);
      c.sigs = sigs;
      out ??= node.rrsets.slice();
      out[i] = c;
    });
    if (out !== undefined) node.rrsets = out;
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
    const n = out.childCount;
    for (let i = 0; i < n; i++) {
      const c = out.childAt(i);
      const r = this.reflag(c, below);
      if (r !== c) {
        out = this.own(out);
        setChild(out, r);
      }
    }
    return out;
  }
}

function sameBuffers(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !a[i]!.equals(b[i]!)) return false;
  return true;
}

/** Put `child` in place of the child of `parent` with the same key (`parent` is owned). */
function setChild(parent: ZoneNode, child: ZoneNode): void {
  const k = parent.kids;
  if (!Array.isArray(k)) {
    parent.kids = child;
    return;
  }
  k[lowerBound(k, child.key)] = child;
}

/** Insert a new child in canonical order (`parent` is owned, so are its children arrays). */
function addChild(parent: ZoneNode, child: ZoneNode): void {
  const k = parent.kids;
  const key = child.key;
  if (key === '*') parent.flags |= NODE_WILDCARD;
  if (k === null) parent.kids = child;
  else if (!Array.isArray(k)) parent.kids = k.key < key ? [k, child] : [child, k];
  else if (k.length < EXACT) parent.kids = insertAt(k, lowerBound(k, key), child);
  else k.splice(lowerBound(k, key), 0, child);
}

function removeChild(parent: ZoneNode, child: ZoneNode): void {
  const k = parent.kids;
  if (child.key === '*') parent.flags &= ~NODE_WILDCARD;
  if (!Array.isArray(k)) {
    parent.kids = null;
    return;
  }
  k.splice(lowerBound(k, child.key), 1);
  if (k.length === 1) parent.kids = k[0]!;
}
