// One resource record (RFC 1035 3.2.1) with uncompressed RDATA, as zone files and transfers yield them.

export interface ResourceRecord {
  /** Owner name, uncompressed wire form, original spelling. */
  owner: Buffer;
  type: number;
  class: number;
  ttl: number;
  /** Uncompressed RDATA (names inside it written out in full, original spelling). */
  rdata: Buffer;
}
