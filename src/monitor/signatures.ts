// The signature watchdog's input: when the earliest RRSIG of a served zone expires. A secondary
// serves the primary's signatures as they are, so when the primary's signer stops, the zone goes
// bogus for validating resolvers at that moment, with every serial and transfer looking fine.

import { Type } from '../wire/constants.js';
import { childAt, childCount, getRRset, type ZoneNode } from '../zone/node.js';
import type { Zone } from '../zone/zone.js';

/** RRSIG RDATA (RFC 4034 3.1): type covered (2), algorithm, labels, original TTL (4), then expiration. */
const EXPIRATION_OFFSET = 8;

const cache = new WeakMap<Zone, number | null>();

/**
 * The earliest RRSIG expiration in `zone` as Unix seconds, or null when it has no RRSIG. The field
 * is 32-bit serial arithmetic (RFC 4034 3.1.5): each value is read as the time nearest to `nowSec`.
 * Computed once per snapshot and cached with it: nothing to do for an unsigned zone (no RRSIG at
 * the apex), a walk over the names of a signed one (about 50 ms per million names).
 */
export function earliestSignatureExpiration(zone: Zone, nowSec: number): number | null {
  const hit = cache.get(zone);
  if (hit !== undefined) return hit;
  let earliest: number | null = null;
  const now32 = nowSec >>> 0;
  if (getRRset(zone.apex, Type.RRSIG) !== undefined) {
    const stack: ZoneNode[] = [zone.apex];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (let i = childCount(node) - 1; i >= 0; i--) stack.push(childAt(node, i));
      const sigs = getRRset(node, Type.RRSIG);
      if (sigs === undefined) continue;
      // The records' runs, read in place (no view per record).
      const d = sigs.data;
      let p = sigs.start;
      for (let i = 0; i < sigs.count; i++) {
        const len = (d[p]! << 8) | d[p + 1]!;
        const rd = p + 2;
        p = rd + len;
        if (len < EXPIRATION_OFFSET + 4) continue;
        const at = nowSec + ((d.readUInt32BE(rd + EXPIRATION_OFFSET) - now32) | 0); // signed 32-bit distance
        if (earliest === null || at < earliest) earliest = at;
      }
    }
  }
  cache.set(zone, earliest);
  return earliest;
}
