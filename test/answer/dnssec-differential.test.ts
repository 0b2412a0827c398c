// Differential test with DNSSEC (RFC 4033-4035, RFC 5155): secondaryd and Knot DNS serve the same
// generated zones, signed three ways, and must answer DO=1 queries identically.
//
// Three zones from test/helpers/zonegen.ts (delegations with and without DS, glue, wildcards, CNAME
// and DNAME chains, empty non-terminals, mixed case, big RRsets), each signed with its own keys:
// Example.COM. with NSEC (ldns-signzone), example.net. with NSEC3 (ldns-signzone, salt and extra
// iterations), example.org. with NSEC3 Opt-Out (dnssec-signzone -A: insecure delegations and the
// empty non-terminals above only them have no NSEC3); and child.Example.COM. (NSEC3), delegated from
// Example.COM. with a DS, served beside it, so that DS questions for it are answered from the parent
// side of the cut (RFC 4035 3.1.4.1); example.info. (NSEC3 without salt or extra iterations) and
// example.edu. (ldns-signzone -p). Knot loads the signed files as they are (it
// does not sign: no dnssec-signing in its config); the daemon serves them as file zones. Every query
// goes over UDP with EDNS 1232 and DO, UDP with a 512-octet payload and DO (truncation), TCP with DO,
// and UDP without DO; rcode, flags, answer, authority and additional must be identical, with one
// documented class of exceptions, the one the unsigned differential allows grown to the DNSSEC
// records: our name compression uses every earlier name in the message, Knot's only the previous
// one, so at a 512-octet payload our message sometimes has room for one more glue, NSEC/NSEC3 or
// RRSIG RRset than Knot's (`ourGlueSuperset`, `ourCompressionSuperset`, which checks that Knot could
// not have fitted it).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { TRANSPORTS, type QuerySpec, type Transport } from '../helpers/dnsclient.js';
import { formatMismatches, ourCompressionSuperset, ourGlueSuperset, runDifferential, summarize } from '../helpers/differential.js';
import { startKnot } from '../helpers/knot.js';
import { startDaemon } from '../helpers/secondaryd.js';
import { makeKeys, signZone, type Denial } from '../helpers/signzone.js';
import { dnssecQueries } from '../helpers/dnssec-queries.js';
import { generateZone } from '../helpers/zonegen.js';

interface ZoneCase {
  origin: string;
  seed: number;
  denial: Denial;
  salt: string;
  iterations: number;
  names?: number;
  childZones?: string[];
  optOutFlag?: boolean;
}

const ZONES: ZoneCase[] = [
  { origin: 'child.example.com.', seed: 7, denial: 'nsec3', salt: 'aabbccdd', iterations: 5, names: 30 },
  { origin: 'Example.COM.', seed: 20261124, denial: 'nsec', salt: '', iterations: 0, childZones: ['child'] },
  { origin: 'example.net.', seed: 4035, denial: 'nsec3', salt: 'aabbccdd', iterations: 5 },
  { origin: 'example.org.', seed: 5155, denial: 'optout', salt: '1234', iterations: 2 },
  // RFC 9276 3.1 parameters (no salt, no extra iteration), and ldns-signzone -p: the Opt-Out flag on
  // every NSEC3 but every delegation still in the chain.
  { origin: 'example.info.', seed: 9276, denial: 'nsec3', salt: '', iterations: 0, names: 60 },
  { origin: 'example.edu.', seed: 5156, denial: 'nsec3', salt: 'ff', iterations: 1, names: 60, optOutFlag: true },
];

const DO_TRANSPORTS: Transport[] = [
  { name: 'udp1232-do', proto: 'udp', edns: true, payload: 1232, do: true },
  { name: 'udp512-do', proto: 'udp', edns: true, payload: 512, do: true },
  { name: 'tcp-do', proto: 'tcp', edns: true, payload: 1232, do: true },
];

t.test('signed zones: secondaryd answers DO=1 queries exactly as Knot DNS', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnssec-differential-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const zones: { name: string; file: string }[] = [];
  let queries: QuerySpec[] = [];
  let childDs = '';
  for (const [i, z] of ZONES.entries()) {
    const gen = generateZone({ origin: z.origin, seed: z.seed, names: z.names ?? 120, ...(z.childZones ? { childZones: z.childZones } : {}) });
    const keys = await makeKeys(dir, z.origin);
    // The child comes first: its DS goes into its parent (the zone after it).
    const unsigned = z.childZones ? `${gen.text}${childDs}\n` : gen.text;
    if (i === 0) childDs = keys.ds;
    const text = await signZone(keys, unsigned, { denial: z.denial, out: `${i}.zone`, salt: z.salt, iterations: z.iterations, optOutFlag: z.optOutFlag === true });
    const file = path.join(dir, `${i}.signed`);
    await writeFile(file, text);
    zones.push({ name: z.origin, file });
    queries = queries.concat(gen.queries, dnssecQueries(gen, text, z.seed));
  }
  const [knot, ours] = await Promise.all([startKnot({ zones }), startDaemon({ zones })]);
  t.teardown(async () => {
    await knot.stop();
    await ours.stop();
  });

  const result = await runDifferential({
    a: { host: ours.host, port: ours.port },
    b: { host: knot.host, port: knot.port },
    queries,
    transports: [...DO_TRANSPORTS, TRANSPORTS.udp1232],
    compare: { additional: 'always', labels: ['secondaryd', 'knot'] },
  });
  const glue = result.mismatches.filter((m) => ourGlueSuperset(m, 'secondaryd'));
  const compression = result.mismatches.filter((m) => !ourGlueSuperset(m, 'secondaryd') && m.transport === 'udp512-do' && ourCompressionSuperset(m, 'secondaryd', 512));
  const unexplained = result.mismatches.filter((m) => !glue.includes(m) && !compression.includes(m));
  const kinds = [...summarize(unexplained)].map(([k, n]) => `${k}: ${n}`).join('\n');
  t.comment(
    `compared ${result.compared} query/transport pairs (${queries.length} queries) in ${result.ms} ms: ${result.compared - result.mismatches.length} identical, ` +
      `${glue.length} truncated referrals with one more glue RRset than Knot, ${compression.length} with one more DNSSEC RRset than Knot (compression)`,
  );
  t.equal(unexplained.length, 0, `every answer identical to Knot's\n${kinds}\n${formatMismatches(unexplained, 15, ['secondaryd', 'knot'])}`);
  // The glue case comes from the 40-NS referral (bigns) and the many names below it that are asked.
  t.ok(glue.length <= result.compared / 50, `the glue exception stays limited (${glue.length})`);
  t.ok(compression.length <= result.compared / 500, `the compression exception stays rare (${compression.length})`);
  t.ok(result.compared >= 4 * 5000, `thousands of queries compared (${result.compared})`);
});
