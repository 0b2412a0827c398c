// Differential testing: ask two servers the same queries over several transports and report every semantic difference in their answers.

import { queryBatch, TRANSPORTS, type BatchOptions, type Endpoint, type QueryOptions, type QuerySpec, type Transport } from './dnsclient.js';
import { compareResponses, messageText, parseMessage, typeName, type CompareOptions } from './compare.js';

export interface DifferentialOptions {
  /** The server under test (labelled "a" in diffs unless `compare.labels` says otherwise). */
  a: Endpoint;
  /** The reference server (e.g. Knot). */
  b: Endpoint;
  queries: QuerySpec[];
  /** Default: UDP with EDNS 1232, UDP without EDNS, UDP with EDNS 512, TCP. */
  transports?: Transport[];
  compare?: CompareOptions;
  /** Extra query options (RD, DO, ...) applied on top of each transport's. */
  queryOptions?: QueryOptions;
  batch?: BatchOptions;
}

export interface Mismatch {
  query: QuerySpec;
  transport: string;
  diffs: string[];
  /** The raw replies (or the error instead of one), for a closer look. */
  a: Buffer | Error;
  b: Buffer | Error;
}

export interface DifferentialResult {
  /** Query/transport pairs compared. */
  compared: number;
  mismatches: Mismatch[];
  /** Wall-clock time spent, in milliseconds. */
  ms: number;
}

export const DEFAULT_TRANSPORTS: Transport[] = [TRANSPORTS.udp1232, TRANSPORTS.udpNoEdns, TRANSPORTS.udp512, TRANSPORTS.tcp];

/** Send every query over every transport to both servers and compare the answers pairwise. */
export async function runDifferential(o: DifferentialOptions): Promise<DifferentialResult> {
  const start = Date.now();
  const transports = o.transports ?? DEFAULT_TRANSPORTS;
  const mismatches: Mismatch[] = [];
  let compared = 0;
  const [la, lb] = o.compare?.labels ?? ['a', 'b'];
  for (const t of transports) {
    const [ra, rb] = await Promise.all([
      queryBatch(o.a, t, o.queries, o.queryOptions, o.batch),
      queryBatch(o.b, t, o.queries, o.queryOptions, o.batch),
    ]);
    for (let i = 0; i < o.queries.length; i++) {
      const x = ra[i]!;
      const y = rb[i]!;
      compared++;
      let diffs: string[];
      if (x instanceof Error || y instanceof Error) {
        if (x instanceof Error && y instanceof Error) continue; // both silent (e.g. both drop): same behaviour
        diffs = [`no reply from ${x instanceof Error ? la : lb}: ${(x instanceof Error ? x : (y as Error)).message}`];
      } else {
        diffs = compareResponses(x, y, o.compare);
      }
      if (diffs.length) mismatches.push({ query: o.queries[i]!, transport: t.name, diffs, a: x, b: y });
    }
  }
  return { compared, mismatches, ms: Date.now() - start };
}

const CLASS_TEXT: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 255: 'ANY' };

/** "www.example. IN A" style text of a query. */
export function queryText(q: QuerySpec): string {
  const TYPE_TEXT: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 39: 'DNAME', 43: 'DS', 255: 'ANY' };
  return `${q.name} ${CLASS_TEXT[q.class ?? 1] ?? `CLASS${q.class}`} ${TYPE_TEXT[q.type] ?? `TYPE${q.type}`}`;
}

/**
 * A name-free summary of one diff line, to group mismatches into classes:
 * "authority: only b has NS", "answer: A differs", "flag TC: false/true", ...
 */
export function diffKind(diff: string): string {
  let m = /^(\w+): only (\S+) has \S+ (\S+) (\S+)/.exec(diff);
  if (m) return `${m[1]}: only ${m[2]} has ${m[4]}`;
  m = /^(\w+): \S+ (\S+) (\S+) (differs|TTL)/.exec(diff);
  if (m) return `${m[1]}: ${m[3]} ${m[4]}`;
  m = /^([^:]+): (\S+) \(\S+\) vs (\S+) \(\S+\)$/.exec(diff);
  if (m && !m[1]!.startsWith('question')) return `${m[1]}: ${m[2]}/${m[3]}`;
  m = /^no reply from (\S+)/.exec(diff);
  if (m) return `no reply from ${m[1]}`;
  return diff.slice(0, Math.max(0, diff.indexOf(':'))) || diff;
}

/** Group mismatches by transport-free diff kinds: kind -> count. */
export function summarize(mismatches: Mismatch[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of mismatches) for (const d of new Set(m.diffs.map(diffKind))) out.set(d, (out.get(d) ?? 0) + 1);
  return new Map([...out.entries()].sort((x, y) => y[1] - x[1]));
}

/** A readable report of the first `limit` mismatches, with both replies in full. */
export function formatMismatches(mismatches: Mismatch[], limit = 10, labels: [string, string] = ['a', 'b']): string {
  const parts: string[] = [];
  for (const m of mismatches.slice(0, limit)) {
    parts.push(
      `### ${queryText(m.query)} over ${m.transport}\n` +
        m.diffs.map((d) => `  - ${d}`).join('\n') +
        `\n--- ${labels[0]}:\n${m.a instanceof Error ? m.a.message : messageText(m.a)}` +
        `\n--- ${labels[1]}:\n${m.b instanceof Error ? m.b.message : messageText(m.b)}`,
    );
  }
  if (mismatches.length > limit) parts.push(`... and ${mismatches.length - limit} more`);
  const summary = [...summarize(mismatches)].map(([k, n]) => `  ${n}\t${k}`).join('\n');
  return `${mismatches.length} mismatches; kinds:\n${summary}\n\n${parts.join('\n\n')}`;
}

/**
 * The one difference from Knot the differential tests allow. Our name compression uses every earlier
 * name in the message (as BIND and NSD do); Knot's compresses against the previous name only, so its
 * messages are sometimes a few octets longer. In a referral whose glue does not all fit, we then
 * carry one more glue RRset than Knot; both set TC. `a` is ours (labelled `label` in the diffs).
 */
export function ourGlueSuperset(m: Mismatch, label = 'a'): boolean {
  if (m.a instanceof Error || m.b instanceof Error) return false;
  const ours = parseMessage(m.a);
  const knot = parseMessage(m.b);
  const re = new RegExp(`^additional: only ${label} has `);
  return ours.tc && knot.tc && !ours.aa && ours.size <= 1232 && m.diffs.every((d) => re.test(d));
}

/**
 * The same compression difference with DNSSEC records: our smaller message left room for one more
 * RRset (an NSEC/NSEC3 or RRSIG in the authority section, an RRSIG or address in the additional
 * section), or one more RRSIG record of an owner, than Knot's. Allowed only when every difference is such an extra RRset of ours, nothing
 * else differs (flags, rcode, answer), and Knot could not have fitted it: its own message plus the
 * extra records at their smallest (the owner a 2-octet pointer, or its first label and a pointer when
 * Knot's message does not hold the name, 10 octets of header, the RDATA) goes past `limit` octets
 * (the UDP payload).
 */
export function ourCompressionSuperset(m: Mismatch, label: string, limit: number): boolean {
  if (m.a instanceof Error || m.b instanceof Error) return false;
  // "only ours has OWNER CLASS TYPE", or "OWNER CLASS TYPE differs (n vs m RRs); only ours: ..." with
  // nothing that only Knot has.
  const extraSet = new RegExp(`^(authority|additional): only ${label} has (\\S+) \\S+ (\\S+)`);
  const extraRecords = new RegExp(`^(authority|additional): (\\S+) \\S+ (\\S+) differs \\((\\d+) vs (\\d+) RRs\\); only ${label}: `);
  const ours = parseMessage(m.a);
  const knot = parseMessage(m.b);
  const knotNames = new Set([...knot.answer, ...knot.authority, ...knot.additional].map((rr) => rr.name.toLowerCase()));
  let extra = 0;
  for (const d of m.diffs) {
    let section: string;
    let owner: string;
    let type: string;
    let count = Infinity;
    let x = extraSet.exec(d);
    if (x !== null) {
      [, section, owner, type] = x as unknown as [string, string, string, string];
    } else {
      x = extraRecords.exec(d);
      if (x === null || (d.match(/; only /g) ?? []).length !== 1) return false;
      [, section, owner, type] = x as unknown as [string, string, string, string];
      count = Number(x[4]) - Number(x[5]);
      if (!(count > 0)) return false;
    }
    const name = owner.toLowerCase();
    const ownerCost = knotNames.has(name) ? 2 : name.indexOf('.') + 3;
    const sizes = (section === 'authority' ? ours.authority : ours.additional)
      .filter((rr) => rr.name.toLowerCase() === name && typeName(rr.type) === type)
      .map((rr) => ownerCost + 10 + rr.rdata.length)
      .sort((p, q) => p - q);
    for (let i = 0; i < Math.min(count, sizes.length); i++) extra += sizes[i]!;
  }
  return ours.size <= limit && knot.size + extra > limit;
}
