// Request messages a secondary sends its primary: the SOA check (RFC 1034 4.3.5, RFC 1996),
// AXFR (RFC 5936 2.1) and IXFR with our SOA in the authority section (RFC 1995 3).
//
// Builders return a Message, not octets, so the driver can add a TSIG record (RFC 8945) before
// encoding. IDs are passed in: the driver draws them at random (as RFC 5452 asks of resolvers: an
// off-path spoofer must guess them), tests pass fixed ones.

import { Class, Opcode, Type } from '../wire/constants.js';
import type { Edns } from '../wire/edns.js';
import type { Message } from '../wire/message.js';
import type { ResourceRecord } from '../wire/record.js';
import { firstRdata } from '../zone/node.js';
import type { Zone } from '../zone/zone.js';

export interface RequestOptions {
  /** OPT record to include (none by default: transfers and SOA checks work without EDNS). */
  edns?: Edns;
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`message ID ${id} is not a 16-bit value`);
}

/** A plain query (RD clear) for `name` of `type`, class IN: what every builder here starts from. */
export function query(zone: Buffer, id: number, type: number, opts: RequestOptions = {}): Message {
  checkId(id);
  // RD clear: we ask an authoritative server about its own data, never for recursion.
  const msg: Message = {
    id,
    flags: 0,
    opcode: Opcode.QUERY,
    rcode: 0,
    question: [{ name: zone, type, class: Class.IN }],
    answer: [],
    authority: [],
    additional: [],
  };
  if (opts.edns) msg.edns = opts.edns;
  return msg;
}

/** The SOA query of a refresh check (RFC 1034 4.3.5): one question, RD=0. */
export function soaQuery(zone: Buffer, id: number, opts: RequestOptions = {}): Message {
  return query(zone, id, Type.SOA, opts);
}

/** An AXFR request (RFC 5936 2.1): one question of type AXFR, nothing else. */
export function axfrQuery(zone: Buffer, id: number, opts: RequestOptions = {}): Message {
  return query(zone, id, Type.AXFR, opts);
}

/**
 * An IXFR request (RFC 1995 3): the question of type IXFR and, in the authority section, the SOA of
 * the version we hold, which is how the primary knows where to start the differences.
 */
export function ixfrQuery(zone: Buffer, id: number, currentSoa: ResourceRecord, opts: RequestOptions = {}): Message {
  if (currentSoa.type !== Type.SOA) throw new TypeError('ixfrQuery needs an SOA record for the authority section');
  const msg = query(zone, id, Type.IXFR, opts);
  msg.authority.push(currentSoa);
  return msg;
}

/** The SOA record of a zone snapshot, as it goes into an IXFR request. */
export function soaRecordOf(zone: Zone): ResourceRecord {
  return { owner: zone.origin, type: Type.SOA, class: Class.IN, ttl: zone.soa.ttl, rdata: firstRdata(zone.soa) };
}
