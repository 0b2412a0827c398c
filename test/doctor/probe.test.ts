// The doctor's probe against a running daemon serving file zones, called in-process so that the
// system resolver can be replaced: out-of-zone NS targets (resolved, lame, NXDOMAIN), an in-zone
// target without addresses, IPv6 nameserver addresses, and an NS answer too big for UDP (TCP retry,
// RFC 7766).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { doctorCommand } from '../../src/doctor/command.js';
import type { AddressResolver } from '../../src/doctor/probe.js';
import type { DoctorReport } from '../../src/doctor/report.js';
import { startKnot } from '../helpers/knot.js';
import { queryUdp } from '../helpers/dnsclient.js';
import { freePort } from '../helpers/ports.js';
import { startDaemon } from '../helpers/secondaryd.js';

const PROBE = `$ORIGIN probe.test.
$TTL 300
@    IN SOA ns1 hostmaster 5 3600 600 86400 300
@    IN NS  ns1
@    IN NS  bare
@    IN NS  ns.elsewhere.example.
@    IN NS  gone.example.
ns1  IN A    127.0.0.1
ns1  IN AAAA ::1
bare IN TXT  "a name with no address"
`;

/** 24 NS names of 50-odd octets: the NS answer alone is over 512 octets, so UDP says TC. */
const BIG =
  `$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns00 hostmaster 9 3600 600 86400 300\n` +
  Array.from({ length: 24 }, (_, i) => {
    const n = `ns${String(i).padStart(2, '0')}-a-rather-long-label-to-fill-the-udp-message`;
    return `@ IN NS ${n}\n${n} IN A 127.0.0.1\n`;
  }).join('');

const OTHER = `$ORIGIN other.test.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n@ IN NS ns\nns IN A 127.0.0.2\n`;

/** A stand-in for the system resolver. */
const resolver: AddressResolver = {
  async resolve4(name) {
    if (name === 'ns.elsewhere.example') return ['127.0.0.2'];
    throw Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  },
  async resolve6(name) {
    if (name === 'ns.elsewhere.example') throw Object.assign(new Error(`queryAaaa ENODATA ${name}`), { code: 'ENODATA' });
    throw Object.assign(new Error(`queryAaaa ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  },
};

async function doctor(configPath: string, zone: string, port: number): Promise<{ code: number; doc: DoctorReport; stderr: string }> {
  let out = '';
  let stderr = '';
  const code = await doctorCommand(configPath, zone, { json: true, port: String(port), timeout: '1s' }, { resolver }, (s) => (out += s), (s) => (stderr += s));
  return { code, doc: JSON.parse(out) as DoctorReport, stderr };
}

t.test('probing through our own answers and a stand-in resolver', async (t) => {
  const work = await mkdtemp(path.join(tmpdir(), 'secondaryd-doctor-probe-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const port = await freePort('127.0.0.1');
  // A lame server: Knot on 127.0.0.2:P serving another zone only.
  const otherFile = path.join(work, 'other.zone');
  await writeFile(otherFile, OTHER);
  const lame = await startKnot({ zones: [{ name: 'other.test.', file: otherFile }], host: '127.0.0.2', port });
  t.teardown(() => lame.stop());
  const d = await startDaemon({
    port,
    zones: [],
    files: { 'probe.zone': PROBE, 'big.zone': BIG },
    configText:
      `server:\n  listen: ["127.0.0.1:{PORT}", "[::1]:{PORT}"]\n  storage: "{DIR}/s"\n  control: "{DIR}/c.sock"\n` +
      `zones:\n  - name: probe.test\n    file: probe.zone\n  - name: big.test\n    file: big.zone\n    alerts: { webhook: "https://alerts.example/hook" }\n`,
  });
  t.teardown(() => d.stop());

  await t.test('in-zone and out-of-zone targets, IPv4 and IPv6', async (t) => {
    const { code, doc, stderr } = await doctor(d.configPath, 'probe.test', port);
    t.equal(code, 1);
    t.equal(stderr, '');
    t.same(
      doc.nameservers.map((ns) => ({ name: ns.name, inZone: ns.inZone, resolveError: ns.resolveError, addresses: ns.addresses.map((a) => [a.address, a.serial, a.authoritative, a.error]) })),
      [
        { name: 'ns1.probe.test.', inZone: true, resolveError: null, addresses: [['127.0.0.1', 5, true, null], ['::1', 5, true, null]] },
        { name: 'bare.probe.test.', inZone: true, resolveError: 'no A or AAAA record in the zone', addresses: [] },
        { name: 'ns.elsewhere.example.', inZone: false, resolveError: null, addresses: [['127.0.0.2', null, false, 'answered REFUSED']] },
        { name: 'gone.example.', inZone: false, resolveError: 'NXDOMAIN', addresses: [] },
      ],
    );
    t.same(
      doc.findings.filter((f) => f.severity !== 'ok').map((f) => [f.severity, f.code, f.nameserver ?? null]),
      [
        ['error', 'ns-unresolvable', 'bare.probe.test.'],
        ['error', 'ns-unresolvable', 'gone.example.'],
        ['warning', 'ns-single-network', null],
        ['error', 'ns-not-authoritative', 'ns.elsewhere.example.'],
        ['warning', 'no-alerts', null],
      ],
    );
    t.same(doc.findings.find((f) => f.code === 'ns-single-network')!.networks, ['127.0.0.0/24', '::/48']);
    t.match(doc.findings.find((f) => f.code === 'transfer-not-applicable'), { severity: 'ok' });
    t.match(doc.findings.find((f) => f.code === 'in-ns-set')!.message, /ns1\.probe\.test\. \(127\.0\.0\.1\), ns1\.probe\.test\. \(::1\)/);
  });

  await t.test('an NS answer too big for UDP is asked again over TCP', async (t) => {
    // Without EDNS (as the probe asks) the answer does not fit in 512 octets.
    const udp = await queryUdp({ host: '127.0.0.1', port }, { name: 'big.test.', type: 2 }, { edns: false }, 1000);
    t.ok(udp.readUInt16BE(2) & 0x0200, 'TC over UDP');
    const { doc } = await doctor(d.configPath, 'big.test', port);
    t.equal(doc.nameservers.length, 24);
    t.ok(doc.nameservers.every((ns) => ns.addresses.length === 1 && ns.addresses[0]!.serial === 9));
    t.same(
      doc.findings.filter((f) => f.severity !== 'ok').map((f) => f.code),
      ['ns-single-network'],
    );
    t.match(doc.findings.find((f) => f.code === 'alerts-configured')!.message, /webhook/);
  });
});
