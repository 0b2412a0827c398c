// Extra queries for signed zones (RFC 4035 3.1, RFC 5155 7.2): DNSSEC types at every name, the apex
// keys and parameters, NSEC3 owner names (not names of the zone), wildcard NODATA, DS at and off cuts.

import type { QuerySpec } from './dnsclient.js';
import { prng } from './prng.js';
import type { GeneratedZone } from './zonegen.js';

const DNSSEC_TYPES = [43, 46, 47, 48, 50, 51]; // DS RRSIG NSEC DNSKEY NSEC3 NSEC3PARAM

/** Queries probing the DNSSEC side of `gen` once signed as `signedText`. */
export function dnssecQueries(gen: GeneratedZone, signedText: string, seed: number): QuerySpec[] {
  const rnd = prng(seed);
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)]!;
  const origin = gen.origin;
  const out: QuerySpec[] = [];
  const q = (name: string, type: number): void => {
    out.push({ name, type });
  };
  for (const t of [6, 2, 48, 51, 47, 46, 255, 43, 50, 1, 16]) q(origin, t);
  for (const n of gen.names) {
    q(n, pick(DNSSEC_TYPES));
    q(n, pick([1, 28, 16, 15, 43]));
  }
  // NSEC3 owners: not names of the zone (NXDOMAIN), nor is anything below them.
  const hashes = [...signedText.matchAll(/^([0-9a-vA-V]{32})\.\S*\s+\d+\s+IN\s+NSEC3\s/gm)].map((m) => m[1]!);
  for (let i = 0; i < Math.min(20, hashes.length); i++) {
    const h = pick(hashes);
    q(`${h}.${origin}`, pick([50, 1, 46, 255]));
    q(`x.${h.toUpperCase()}.${origin}`, 1);
  }
  // Wildcard NODATA and answers, several labels deep, and names that are wildcards themselves.
  for (let i = 0; i < 30; i++) {
    const l = `n${Math.floor(rnd() * 100000)}`;
    q(`${l}.wild.${origin}`, pick([28, 16, 15, 1, 43, 47, 46]));
    q(`${l}.x.wild.${origin}`, pick([28, 1]));
    q(`${l}.wc.sub.${origin}`, pick([28, 1, 16]));
    q(`${l}.wchild.${origin}`, pick([28, 1]));
    q(`${l}.wcname.${origin}`, pick([1, 28, 5, 46]));
    q(`${l}.wcchain.${origin}`, pick([1, 28]));
    q(`*.${l}.wild.${origin}`, 1);
  }
  // DS where there is no cut, at cuts, below cuts; NXDOMAIN under empty non-terminals.
  for (const n of ['www', 'nothere', 'b.c', 'c', 'a.b.c', 'x.b.c', 'd1', 'd2', 'd3', 'mixed.d7', 'd7', 'x.d7', 'bigns', 'x.d2', 'ns.d1', 'dn', 'x.dn', 'cn-apex', 'below.d3', 'deep.below.d3']) {
    for (const t of [43, 1, 47, 50]) q(`${n}.${origin}`, t);
  }
  return out;
}
