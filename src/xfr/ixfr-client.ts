// The receiving side of an incremental zone transfer (RFC 1995 4, as BIND and Knot send it), sans
// I/O: response messages in, the changesets and the next snapshot out.
//
// The first record is the primary's current SOA; what follows decides the form of the answer:
//
//   [SOA] alone in the first message, serial not newer than ours --> UPTODATE        (RFC 1995 2)
//   SOA, then a non-SOA record (or the same SOA again)            --> AXFR form       (RFC 1995 4)
//   SOA(new), then SOA(old) dels.. SOA(next) adds.. [SOA(next) dels.. SOA(next') adds..]... SOA(new)
//                                                                 --> IXFR changesets
//
// A lone SOA that *is* newer, in a first message, says nothing yet: the next record (usually in the
// next message) decides, as Knot does. The changes are applied to `current` aside; the snapshot
// being served is never touched, and a chain that does not fit it fails with 'serial-mismatch' or
// 'inconsistent-ixfr', on which the refresh code falls back to AXFR.

import { Type } from '../wire/constants.js';
import type { ResourceRecord } from '../wire/record.js';
import { serialGt } from '../wire/serial.js';
import { nameEquals } from '../wire/name.js';
import { applyChangesets, ChangesetError } from '../zone/changeset.js';
import type { Changeset } from '../zone/changeset.js';
import type { Zone } from '../zone/zone.js';
import { TransferError } from './errors.js';
import { AxfrBody, checkFirst, checkRecord, isApexSoa, ResponseStream, sameSerial, soaEquals, soaSerial, trailing } from './stream.js';
import type { TransferOptions } from './stream.js';

export interface IxfrOptions extends TransferOptions {
  /** The snapshot we serve now: its serial is the one our request named. */
  current: Zone;
}

export type IxfrKind = 'IXFR' | 'AXFR' | 'UPTODATE';

export interface IxfrResult {
  kind: IxfrKind;
  /** The new snapshot: absent for UPTODATE. */
  zone?: Zone;
  /** The changesets received, oldest first (IXFR only; empty otherwise). */
  changesets: Changeset[];
  /** The primary's serial (for UPTODATE, the one it reported). */
  serial: number;
  /** Answer records received, every SOA included. */
  records: number;
  bytes: number;
  messages: number;
}

/** A changeset being received: deletions until its second SOA, then additions. */
interface Building {
  fromSoa: ResourceRecord;
  toSoa: ResourceRecord | undefined;
  removed: ResourceRecord[];
  added: ResourceRecord[];
}

type State = 'start' | 'undetermined' | 'axfr' | 'ixfr' | 'done';

export class IxfrSession {
  private readonly stream: ResponseStream;
  private state: State = 'start';
  private first: ResourceRecord | undefined;
  private newSerial = 0;
  private body: AxfrBody | undefined;
  private building: Building | undefined;
  private readonly changesets: Changeset[] = [];
  private kind: IxfrKind | undefined;
  private zone: Zone | undefined;
  private failure: TransferError | undefined;

  constructor(private readonly opts: IxfrOptions) {
    if (!nameEquals(opts.current.origin, opts.zone)) throw new RangeError('the current zone is not the zone being transferred');
    this.stream = new ResponseStream(opts, Type.IXFR);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feed the next response message. Throws TransferError; 'done' when the answer is complete. */
  push(raw: Buffer): 'more' | 'done' {
    if (this.failure) throw this.failure;
    try {
      return this.consume(raw);
    } catch (err) {
      if (err instanceof TransferError) this.failure = err;
      throw err;
    }
  }

  private consume(raw: Buffer): 'more' | 'done' {
    if (this.state === 'done') throw new TransferError('malformed', 'message after the end of the transfer');
    const msg = this.stream.next(raw);
    const zone = this.opts.zone;
    const answer = msg.answer;
    let i = 0;
    if (this.state === 'start') {
      const first = checkFirst(answer[0], zone);
      this.first = first;
      this.newSerial = soaSerial(first);
      i = 1;
      // RFC 1995 2: a lone SOA that is not newer than ours means there is nothing to send. Only a
      // first message holding one record can say so; a newer lone SOA waits for what follows.
      if (answer.length === 1 && !serialGt(this.newSerial, this.opts.current.serial)) {
        this.stream.finish();
        this.kind = 'UPTODATE';
        this.state = 'done';
        return 'done';
      }
      this.state = 'undetermined';
    }
    for (; i < answer.length; i++) {
      const rr = answer[i]!;
      checkRecord(rr, zone);
      if (this.state === 'undetermined') {
        if (isApexSoa(rr, zone) && !soaEquals(rr, this.first!)) {
          this.state = 'ixfr';
          this.startChangeset(rr);
          continue;
        }
        // Anything else (the same SOA again is an AXFR of a zone holding only its SOA, which the
        // zone checks then refuse) makes this an AXFR-form answer.
        this.state = 'axfr';
        this.body = new AxfrBody(zone, this.first!);
      }
      if (this.state === 'axfr') {
        if (this.body!.add(rr)) {
          trailing(i, msg);
          this.stream.finish();
          this.zone = this.body!.build();
          this.kind = 'AXFR';
          this.state = 'done';
          return 'done';
        }
        continue;
      }
      if (this.incremental(rr)) {
        trailing(i, msg);
        this.stream.finish();
        this.zone = this.apply();
        this.kind = 'IXFR';
        this.state = 'done';
        return 'done';
      }
    }
    return 'more';
  }

  private startChangeset(fromSoa: ResourceRecord): void {
    const from = soaSerial(fromSoa);
    const prev = this.changesets[this.changesets.length - 1];
    if (!prev) {
      // The primary diffed from another version than ours: nothing it sends can apply.
      const ours = this.opts.current.serial;
      if (!sameSerial(from, ours)) throw new TransferError('serial-mismatch', `the first difference starts at serial ${from}, ours is ${ours}`);
    } else if (!sameSerial(from, prev.toSerial)) {
      throw new TransferError('inconsistent-ixfr', `a difference starts at serial ${from}, the previous one ended at ${prev.toSerial}`);
    }
    this.building = { fromSoa, toSoa: undefined, removed: [], added: [] };
  }

  /** Take one record of the incremental form; true at the final SOA. */
  private incremental(rr: ResourceRecord): boolean {
    const b = this.building!;
    if (!isApexSoa(rr, this.opts.zone)) {
      (b.toSoa ? b.added : b.removed).push(rr);
      return false;
    }
    if (!b.toSoa) {
      // The SOA between deletions and additions: the version this difference leads to.
      b.toSoa = rr;
      return false;
    }
    // An SOA after additions: the end of this difference, and either the final SOA or the start of
    // the next difference.
    const cs: Changeset = {
      fromSerial: soaSerial(b.fromSoa),
      toSerial: soaSerial(b.toSoa),
      fromSoa: b.fromSoa,
      toSoa: b.toSoa,
      removed: b.removed,
      added: b.added,
    };
    this.changesets.push(cs);
    this.building = undefined;
    const serial = soaSerial(rr);
    if (!sameSerial(serial, this.newSerial)) {
      this.startChangeset(rr);
      return false;
    }
    if (!soaEquals(rr, this.first!)) throw new TransferError('inconsistent-ixfr', `the final SOA (serial ${serial}) differs from the opening one`);
    if (!sameSerial(cs.toSerial, this.newSerial)) {
      throw new TransferError('inconsistent-ixfr', `the differences end at serial ${cs.toSerial}, not at the announced ${this.newSerial}`);
    }
    if (!soaEquals(cs.toSoa, this.first!)) {
      throw new TransferError('inconsistent-ixfr', `the last difference's SOA (serial ${cs.toSerial}) differs from the announced one`);
    }
    return true;
  }

  private apply(): Zone {
    try {
      return applyChangesets(this.opts.current, this.changesets);
    } catch (err) {
      if (err instanceof ChangesetError) {
        throw new TransferError('inconsistent-ixfr', `the differences do not apply to serial ${this.opts.current.serial}: ${err.message}`, undefined, { cause: err });
      }
      throw err;
    }
  }

  /** The outcome. Before 'done' (a stream that ended early) it throws TransferError('truncated'). */
  result(): IxfrResult {
    if (this.failure) throw this.failure;
    if (this.state !== 'done') throw new TransferError('truncated', 'the transfer ended before its final SOA');
    const s = this.stream;
    const out: IxfrResult = {
      kind: this.kind!,
      changesets: this.kind === 'IXFR' ? this.changesets : [],
      serial: this.newSerial,
      records: s.records,
      bytes: s.bytes,
      messages: s.messages,
    };
    if (this.zone) out.zone = this.zone;
    return out;
  }
}
