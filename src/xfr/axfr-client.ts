// The receiving side of a full zone transfer (RFC 5936), sans I/O: response messages in, a checked
// zone snapshot out.
//
//   push(first message)  --SOA first?--> building --push()...--> closing SOA == opening SOA
//                                             |                                    |
//                        any check fails: TransferError      builder.finish() -> 'done', result()
//
// Each push handles exactly one message, so a driver can return to the event loop between messages;
// the work per message is linear in its size: its answer records are read one at a time straight
// from the message (RecordReader: no object per record) into a ZoneBuilder, and the closing push only
// runs the final checks (milliseconds, even for a million records). Once a push has thrown, the
// session stays failed.

import { Type } from '../wire/constants.js';
import { WireFormatError } from '../wire/errors.js';
import { RecordReader, type ResourceRecord } from '../wire/record.js';
import type { Zone } from '../zone/zone.js';
import { TransferError } from './errors.js';
import { AxfrBody, checkFirst, ResponseStream, soaSerial } from './stream.js';
import type { TransferOptions } from './stream.js';

export type AxfrOptions = TransferOptions;

export interface AxfrResult {
  zone: Zone;
  serial: number;
  /** Answer records received, both SOAs included (what BIND and Knot log as "records"). */
  records: number;
  /** Octets of the response messages. */
  bytes: number;
  messages: number;
}

export class AxfrSession {
  private readonly stream: ResponseStream;
  private body: AxfrBody | undefined;
  private zone: Zone | undefined;
  private failure: TransferError | undefined;
  /** Reads each message's answer records straight into the zone builder. */
  private readonly reader = new RecordReader();
  /** The message being read and its answer records not read yet (a push returned 'paused' when > 0). */
  private current: Buffer | undefined;
  private left = 0;

  constructor(private readonly opts: AxfrOptions) {
    this.stream = new ResponseStream(opts, Type.AXFR);
  }

  /** True once the closing SOA arrived and the zone was built. */
  get done(): boolean {
    return this.zone !== undefined;
  }

  /**
   * Feed the next response message. Throws TransferError; 'done' after the closing SOA. Past
   * `deadline` (performance.now() ms) it stops between records and returns 'paused': push the same
   * message again to go on (a 64 KiB message holds about a thousand records, several ms of work that
   * queries would otherwise wait for).
   */
  push(raw: Buffer): 'more' | 'done';
  push(raw: Buffer, deadline: number): 'more' | 'done' | 'paused';
  push(raw: Buffer, deadline = Infinity): 'more' | 'done' | 'paused' {
    if (this.failure) throw this.failure;
    try {
      if (this.zone) throw new TransferError('malformed', 'message after the end of the transfer');
      const reader = this.reader;
      if (this.current !== raw || this.left === 0) {
        const msg = this.stream.next(raw, true);
        this.current = raw;
        this.left = msg.answerCount!;
        reader.reset(raw, msg.answerStart!);
        if (!this.body) {
          let first: ResourceRecord | undefined;
          if (this.left > 0) {
            wire(reader);
            this.left--;
            first = reader.record();
          }
          this.body = new AxfrBody(this.opts.zone, checkFirst(first, this.opts.zone));
        }
      }
      const body = this.body!;
      for (let n = 1; this.left > 0; n++) {
        if ((n & 127) === 0 && performance.now() > deadline) return 'paused';
        wire(reader);
        this.left--;
        if (body.addWire(reader)) {
          if (this.left > 0) throw new TransferError('malformed', `${this.left} records after the closing SOA`);
          this.stream.finish();
          this.zone = body.build();
          return 'done';
        }
      }
      return 'more';
    } catch (err) {
      if (err instanceof TransferError) this.failure = err;
      throw err;
    }
  }

  /** The transferred zone. Before 'done' (a stream that ended early) it throws TransferError('truncated'). */
  result(): AxfrResult {
    if (this.failure) throw this.failure;
    if (!this.zone) throw new TransferError('truncated', 'the transfer ended before its closing SOA');
    const s = this.stream;
    return { zone: this.zone, serial: soaSerial(this.body!.first), records: s.records, bytes: s.bytes, messages: s.messages };
  }
}

/** Read the next record, a malformed one failing the transfer as an undecodable message would. */
function wire(reader: RecordReader): void {
  try {
    reader.next();
  } catch (err) {
    if (err instanceof WireFormatError) throw new TransferError('malformed', `undecodable response: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}
