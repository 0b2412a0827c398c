// Signed zones through the secondary path (RFC 5936, RFC 1995, RFC 1996 with RFC 4035 and RFC 5155):
// Knot DNS is the primary of a signed zone; the daemon transfers it by AXFR, then re-signed and
// changed versions arrive by IXFR after a NOTIFY: one with a new NSEC3 salt (every NSEC3 owner
// changes), then one signed with NSEC instead of NSEC3. After each, DO=1 answers are compared with
// the primary's: whatever the daemon derives from a snapshot (the NSEC3 chain, the hashes) must be
// that snapshot's, never a stale one's.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { parseMessage } from '../helpers/compare.js';
import { queryUdp, type Transport } from '../helpers/dnsclient.js';
import { dnssecQueries } from '../helpers/dnssec-queries.js';
import { formatMismatches, ourCompressionSuperset, ourGlueSuperset, runDifferential, type Mismatch } from '../helpers/differential.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { freePort } from '../helpers/ports.js';
import { startDaemon, type RunningDaemon } from '../helpers/secondaryd.js';
import { makeKeys, signZone } from '../helpers/signzone.js';
import { generateZone } from '../helpers/zonegen.js';
import { waitSerial } from '../helpers/serial.js';

const DO_TRANSPORTS: Transport[] = [
  { name: 'udp1232-do', proto: 'udp', edns: true, payload: 1232, do: true },
  { name: 'udp512-do', proto: 'udp', edns: true, payload: 512, do: true },
  { name: 'tcp-do', proto: 'tcp', edns: true, payload: 1232, do: true },
];

async function transferOf(d: RunningDaemon, serial: number): Promise<{ kind: string; serial: number } | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = d
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"zone transferred"') && l.includes('"records"'))
      .map((l) => JSON.parse(l) as { kind: string; serial: number })
      .find((x) => x.serial === serial);
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const withSerial = (text: string, serial: number): string => text.replace(/(IN\s+SOA\s+\S+\s+\S+\s+\(?\s*)\d+/, `$1${serial}`);

t.test('Knot primary of a signed zone: AXFR, then re-signed versions by IXFR; DO=1 answers identical to the primary', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnssec-secondary-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const gen = generateZone({ origin: 'example.com.', seed: 4034, names: 60 });
  const zone = gen.origin;
  const keys = await makeKeys(dir, zone);
  const v1 = await signZone(keys, withSerial(gen.text, 1000), { denial: 'nsec3', salt: 'aabb', iterations: 3, out: 'v1.zone' });

  const ourPort = await freePort();
  const knot = await startKnotPrimary({ [zone]: v1 }, { notify: [`127.0.0.1:${ourPort}`] });
  t.teardown(() => knot.stop());
  const d = await startDaemon({
    port: ourPort,
    zones: [],
    configText: `server:\n  listen: ["127.0.0.1:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\nzones:\n  - name: ${zone}\n    primaries: ["127.0.0.1:${knot.port}"]\n`,
  });
  t.teardown(() => d.stop());
  const ours = { host: d.host, port: d.port };
  const theirs = { host: knot.host, port: knot.port };

  const compare = async (label: string, signedText: string): Promise<void> => {
    const queries = [...gen.queries.filter((q) => q.class === undefined || q.class === 1), ...dnssecQueries(gen, signedText, 7)];
    const r = await runDifferential({ a: ours, b: theirs, queries, transports: DO_TRANSPORTS, compare: { additional: 'always', labels: ['secondaryd', 'knot'] } });
    const explained = (m: Mismatch): boolean => ourGlueSuperset(m, 'secondaryd') || (m.transport === 'udp512-do' && ourCompressionSuperset(m, 'secondaryd', 512));
    const bad = r.mismatches.filter((m) => !explained(m));
    t.comment(`${label}: ${r.compared} DO=1 answers compared, ${r.compared - r.mismatches.length} identical, ${r.mismatches.length - bad.length} with one more RRset (compression)`);
    t.equal(bad.length, 0, `${label}: answers identical to the primary's\n${formatMismatches(bad, 10, ['secondaryd', 'knot'])}`);
  };

  await waitSerial(ours, zone, 1000);
  t.match(await transferOf(d, 1000), { kind: 'AXFR', serial: 1000 }, 'first transfer: AXFR');
  await compare('NSEC3 after AXFR', v1);

  // A change, re-signed with another salt: every NSEC3 owner and every signature is new.
  const changed = gen.text
    .split('\n')
    .map((l) => (/^www\s/i.test(l) ? l.replace(/192\.0\.2\.\d+/, '198.51.100.77') : l))
    .filter((l) => !/^txt\s/i.test(l))
    .join('\n');
  const v2text = withSerial(changed, 1001) + 'added-by-ixfr 300 IN A 203.0.113.9\nnew.ent.added 300 IN TXT "below an empty non-terminal"\n*.wnew 300 IN A 203.0.113.10\n';
  const v2 = await signZone(keys, v2text, { denial: 'nsec3', salt: 'ccdd', iterations: 4, out: 'v2.zone' });
  await writeFile(knot.file(zone), v2);
  await knot.reload(zone, 1001);
  await waitSerial(ours, zone, 1001, 15000);
  t.match(await transferOf(d, 1001), { kind: 'IXFR', serial: 1001 }, 'the re-signed zone arrived by IXFR');
  const m = parseMessage(await queryUdp(ours, { name: `x.wnew.${zone}`, type: 1 }, { do: true }));
  t.ok(m.answer.some((rr) => rr.type === 46) && m.authority.some((rr) => rr.type === 50), 'a wildcard added by the IXFR answers with its proof');
  await compare('NSEC3 with a new salt after IXFR', v2);

  // The same zone signed with NSEC: the NSEC3 chain and parameters go, an NSEC chain comes.
  const v3 = await signZone(keys, withSerial(v2text, 1002), { denial: 'nsec', out: 'v3.zone' });
  await writeFile(knot.file(zone), v3);
  await knot.reload(zone, 1002);
  await waitSerial(ours, zone, 1002, 15000);
  t.match(await transferOf(d, 1002), { kind: 'IXFR', serial: 1002 }, 'the switch to NSEC arrived by IXFR');
  await compare('NSEC after IXFR', v3);
});
