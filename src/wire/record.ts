// One resource record (RFC 1035 3.2.1) with uncompressed RDATA, as zone files and transfers yield
// them; and RecordReader, which reads the records of a message one by one without an object each.

import { WireFormatError } from './errors.js';
import { MAX_NAME_LENGTH, NameReader, skipName } from './name.js';
import { layoutOf, RDATA_SCRATCH, readRdataInto } from './rdata.js';

export interface ResourceRecord {
  /** Owner name, uncompressed wire form, original spelling. */
  owner: Buffer;
  type: number;
  class: number;
  ttl: number;
  /** Uncompressed RDATA (names inside it written out in full, original spelling). */
  rdata: Buffer;
}

/** What a reader reads before reset() (nothing). */
const NOTHING = new Uint8Array(0);

/**
 * A cursor over the records of a message: next() reads one (owner name decompressed into `owner`,
 * RDATA with its names decompressed into a scratch buffer, or left in the message when its type
 * holds no names), so a big transfer costs no allocation per record; record() makes the
 * ResourceRecord of the one read. Malformed records throw WireFormatError.
 */
export class RecordReader {
  /** The owner name of the record read: `owner[0, ownerLength)`. */
  readonly owner = Buffer.allocUnsafe(MAX_NAME_LENGTH);
  ownerLength = 0;
  type = 0;
  class = 0;
  ttl = 0;
  /** Its uncompressed RDATA: `rdata[rdataStart, rdataStart + rdataLength)` (the message or scratch). */
  rdata: Uint8Array = NOTHING;
  rdataStart = 0;
  rdataLength = 0;
  /** Offset of the next record in the message. */
  offset = 0;
  private msg: Uint8Array = NOTHING;
  private readonly names = new NameReader();
  private scratch: Uint8Array | undefined;

  /** Read from `msg` at `offset`. */
  reset(msg: Uint8Array, offset: number): void {
    this.msg = msg;
    this.offset = offset;
  }

  /** Read the record at the cursor and move past it. */
  next(): void {
    const msg = this.msg;
    const names = this.names;
    names.read(msg, this.offset, this.owner, 0);
    this.ownerLength = names.length;
    const p = names.next;
    if (p + 10 > msg.length) throw new WireFormatError('record header runs past the end of the message');
    const type = (msg[p]! << 8) | msg[p + 1]!;
    this.type = type;
    this.class = (msg[p + 2]! << 8) | msg[p + 3]!;
    this.ttl = ((msg[p + 4]! << 24) | (msg[p + 5]! << 16) | (msg[p + 6]! << 8) | msg[p + 7]!) >>> 0;
    const rdlen = (msg[p + 8]! << 8) | msg[p + 9]!;
    const start = p + 10;
    if (start + rdlen > msg.length) throw new WireFormatError('RDLENGTH runs past the end of the message');
    const layout = layoutOf(type);
    if (layout === undefined) {
      this.rdata = msg;
      this.rdataStart = start;
      this.rdataLength = rdlen;
    } else {
      const out = (this.scratch ??= new Uint8Array(RDATA_SCRATCH));
      this.rdata = out;
      this.rdataStart = 0;
      this.rdataLength = readRdataInto(msg, start, rdlen, layout, out, names, type);
    }
    this.offset = start + rdlen;
  }

  /** Move past the record at the cursor, checking only its framing (next() checks the rest). */
  skip(): void {
    const msg = this.msg;
    const p = skipName(msg, this.offset);
    if (p + 10 > msg.length) throw new WireFormatError('record header runs past the end of the message');
    const end = p + 10 + ((msg[p + 8]! << 8) | msg[p + 9]!);
    if (end > msg.length) throw new WireFormatError('RDLENGTH runs past the end of the message');
    this.offset = end;
  }

  /** The record read last, in Buffers of its own. */
  record(): ResourceRecord {
    const rdata = Buffer.allocUnsafe(this.rdataLength);
    rdata.set(this.rdata.subarray(this.rdataStart, this.rdataStart + this.rdataLength));
    return { owner: Buffer.from(this.owner.subarray(0, this.ownerLength)), type: this.type, class: this.class, ttl: this.ttl, rdata };
  }
}
