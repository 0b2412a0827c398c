// Differential test: secondaryd and Knot DNS serve the same generated zones; every answer must match.
//
// The zones (test/helpers/zonegen.ts) hold delegations with and without glue, wildcards, CNAME chains
// and loops, DNAME, empty non-terminals, mixed-case owners, many RR types and an unknown one, and
// RRsets too big for 512 and 1232 octets; a child zone is served beside its parent. Thousands of
// queries go to both over UDP with EDNS, without EDNS, with a 512-octet payload, and over TCP.
// rcode, flags, question (case-exact), answer, authority and additional must be identical: 100%,
// with one documented exception. Our name compression uses every earlier name in the message (as BIND
// and NSD do); Knot's compresses against the previous name only, so Knot's messages are sometimes a
// few octets longer. In a referral whose glue does not all fit, we then carry one more glue RRset than
// Knot (both set TC). That, and nothing else, is allowed: `ourGlueSuperset` in test/helpers/differential.ts.
//
// DNAME substitutions longer than 255 octets are judged against RFC 6672 2.2 instead (YXDOMAIN with
// the DNAME alone): Knot 3.2 goes on resolving at the DNAME target there.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { checkEcho, parseMessage } from '../helpers/compare.js';
import { buildQuery, queryUdp, TRANSPORTS } from '../helpers/dnsclient.js';
import { formatMismatches, ourGlueSuperset, runDifferential, summarize } from '../helpers/differential.js';
import { startKnot } from '../helpers/knot.js';
import { startDaemon } from '../helpers/secondaryd.js';
import { generateZone } from '../helpers/zonegen.js';

const ORIGIN = 'Example.COM.';

const CHILD = 'child.example.com.';

t.test('secondaryd answers exactly as Knot DNS', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'differential-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const parent = generateZone({ origin: ORIGIN, seed: 20261124, childZones: ['child'] });
  const child = generateZone({ origin: CHILD, seed: 7, names: 40 });
  const parentFile = path.join(dir, 'parent.zone');
  const childFile = path.join(dir, 'child.zone');
  await writeFile(parentFile, parent.text);
  await writeFile(childFile, child.text);
  const zones = [
    { name: ORIGIN, file: parentFile },
    { name: CHILD, file: childFile },
  ];
  const [knot, ours] = await Promise.all([startKnot({ zones }), startDaemon({ zones })]);
  t.teardown(async () => {
    await knot.stop();
    await ours.stop();
  });

  // Out-of-zone names, the root, other classes, and qtypes the generator already covers.
  const transfersAsQueries = parent.edgeQueries.filter((q) => q.type === 251 || q.type === 252);
  const longDname = parent.edgeQueries.filter((q) => q.type !== 251 && q.type !== 252);
  const queries = [
    ...parent.queries,
    ...child.queries,
    ...transfersAsQueries,
    { name: 'example.net.', type: 1 },
    { name: '.', type: 2 },
    { name: 'com.', type: 6 },
    { name: 'id.server.', type: 16, class: 3 },
    { name: 'www.example.com.', type: 1, class: 4 },
  ];
  const result = await runDifferential({
    a: { host: ours.host, port: ours.port },
    b: { host: knot.host, port: knot.port },
    queries,
    transports: [TRANSPORTS.udp1232, TRANSPORTS.udpNoEdns, TRANSPORTS.udp512, TRANSPORTS.tcp],
    compare: { additional: 'always', labels: ['secondaryd', 'knot'] },
  });
  const allowed = result.mismatches.filter((m) => ourGlueSuperset(m, 'secondaryd'));
  const unexplained = result.mismatches.filter((m) => !ourGlueSuperset(m, 'secondaryd'));
  const kinds = [...summarize(unexplained)].map(([k, n]) => `${k}: ${n}`).join('\n');
  t.comment(`compared ${result.compared} query/transport pairs in ${result.ms} ms: ${result.compared - result.mismatches.length} identical, ${allowed.length} with one more glue RRset than Knot`);
  t.equal(unexplained.length, 0, `every answer identical to Knot's\n${kinds}\n${formatMismatches(unexplained, 15, ['secondaryd', 'knot'])}`);
  t.ok(allowed.length <= result.compared / 500, `the glue exception stays rare (${allowed.length})`);
  t.ok(result.compared >= 4 * 5000, `thousands of queries compared (${result.compared})`);

  // RFC 6672 2.2: a substitution that would overflow 255 octets gives YXDOMAIN and the DNAME alone.
  t.ok(longDname.length > 0, 'the generator has DNAME overflow cases');
  for (const q of longDname) {
    const m = parseMessage(await queryUdp({ host: ours.host, port: ours.port }, q));
    t.equal(m.rcode, 6, `YXDOMAIN for ${q.name.slice(-40)}`);
    t.same(m.answer.map((r) => r.type), [39], 'only the DNAME in the answer');
  }

  // The question comes back exactly as asked, whatever its case (0x20).
  const q = buildQuery({ name: 'wWw.ExAmPlE.cOm.', type: 1 }, { id: 4242 });
  const reply = await queryUdp({ host: ours.host, port: ours.port }, { name: 'wWw.ExAmPlE.cOm.', type: 1 }, { id: 4242 });
  t.same(checkEcho(q, reply), [], 'question echoed case for case');
});
