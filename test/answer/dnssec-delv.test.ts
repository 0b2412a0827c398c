// A validating resolver accepts the daemon's signed answers: BIND's delv, with the zone's KSK as its
// only trust anchor (+root=ZONE), validates positive answers, NXDOMAIN, NODATA, wildcard answers and
// wildcard NODATA, CNAME and DNAME chains, empty non-terminals, DS and its absence at cuts, for zones
// signed with NSEC, NSEC3, and NSEC3 with Opt-Out (RFC 4035 5, RFC 5155 8).
//
// One exception, the validator's and by design: in the Opt-Out zone every NSEC3 has the Opt-Out flag,
// so the NSEC3 covering a wildcard answer's next closer name cannot prove that no closer name exists
// (an unsigned delegation could hide there, RFC 5155 6 and 9.2); delv calls those answers insecure
// ("; unsigned answer"). Knot's identical answers get the same verdict, which is checked too.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startKnot } from '../helpers/knot.js';
import { startDaemon } from '../helpers/secondaryd.js';
import { makeKeys, signZone, type Denial } from '../helpers/signzone.js';
import { generateZone } from '../helpers/zonegen.js';

const run = promisify(execFile);

/** Relative name, type, and whether the answer is negative. */
const SAMPLE: [string, string, 'positive' | 'negative'][] = [
  ['www', 'A', 'positive'],
  ['@', 'DNSKEY', 'positive'],
  ['@', 'SOA', 'positive'],
  ['mx-in', 'MX', 'positive'],
  ['nothere', 'A', 'negative'],
  ['a.b.nothere', 'TXT', 'negative'],
  ['www', 'TXT', 'negative'],
  ['b.c', 'A', 'negative'],
  ['x.b.c', 'A', 'negative'],
  ['foo.wild', 'A', 'positive'],
  ['x.y.wild', 'TXT', 'positive'],
  ['n1.wild', 'AAAA', 'negative'],
  ['q.wc.sub', 'A', 'positive'],
  ['c1', 'A', 'positive'],
  ['x.dn', 'A', 'positive'],
  ['d1', 'DS', 'positive'],
  ['d2', 'DS', 'negative'],
  ['mixed.d7', 'DS', 'negative'],
  ['d7', 'A', 'negative'],
];

t.test('delv validates the daemon\'s answers with the KSK as trust anchor', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnssec-delv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const variants: { origin: string; denial: Denial }[] = [
    { origin: 'nsec.test.', denial: 'nsec' },
    { origin: 'nsec3.test.', denial: 'nsec3' },
    { origin: 'optout.test.', denial: 'optout' },
  ];
  const zones: { name: string; file: string }[] = [];
  const anchors: string[] = [];
  for (const v of variants) {
    const gen = generateZone({ origin: v.origin, seed: 99, names: 20 });
    const keys = await makeKeys(dir, v.origin);
    const file = path.join(dir, `${v.denial}.signed`);
    await writeFile(file, await signZone(keys, gen.text, { denial: v.denial, out: `${v.denial}.zone`, salt: 'beef', iterations: 3 }));
    zones.push({ name: v.origin, file });
    const k = keys.kskFields;
    const anchor = path.join(dir, `${v.denial}.anchor`);
    await writeFile(anchor, `trust-anchors {\n  ${v.origin} static-key ${k.flags} ${k.protocol} ${k.algorithm} "${k.key}";\n};\n`);
    anchors.push(anchor);
  }
  const [d, knot] = await Promise.all([startDaemon({ zones }), startKnot({ zones })]);
  t.teardown(async () => {
    await d.stop();
    await knot.stop();
  });
  const delv = async (anchor: string, root: string, port: number, name: string, type: string): Promise<string> => {
    try {
      const r = await run('delv', ['-a', anchor, `+root=${root}`, '@127.0.0.1', '-p', String(port), name, type], { timeout: 10000 });
      return r.stdout + r.stderr;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      return `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`;
    }
  };

  let validated = 0;
  await Promise.all(
    variants.map(async (v, i) => {
      for (const [rel, type, kind] of SAMPLE) {
        const name = rel === '@' ? v.origin : `${rel}.${v.origin}`;
        const out = await delv(anchors[i]!, v.origin, d.port, name, type);
        if (v.denial === 'optout' && /wild|wc\./.test(rel) && kind === 'positive') {
          t.match(out, /^; unsigned answer$/m, `optout: ${name} ${type}: a wildcard answer in an Opt-Out span is insecure`);
          t.match(await delv(anchors[i]!, v.origin, knot.port, name, type), /^; unsigned answer$/m, 'and so is Knot\'s');
          continue;
        }
        const want = kind === 'negative' ? /; negative response, fully validated/ : /^; fully validated$/m;
        if (want.test(out)) validated++;
        t.match(out, want, `${v.denial}: ${name} ${type} (${kind}) fully validated`);
      }
    }),
  );
  t.comment(`delv: ${validated} answers fully validated (${variants.length * SAMPLE.length} asked; the Opt-Out zone's wildcard answers are insecure by design)`);
});
