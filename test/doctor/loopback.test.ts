// `secondaryd doctor` end to end over real sockets. Linux routes all of 127.0.0.0/8 to lo, so three
// "nameservers" share one port P on their own addresses:
//
//   ns1 127.0.0.1:P  our daemon, a secondary of a Knot primary (127.0.0.1:Q, TSIG) at serial 2
//   ns2 127.0.0.2:P  Knot serving the same zone at serial 1 (a secondary that fell behind)
//   ns3 127.0.0.3:P  nothing at all
//
// The doctor must see the shared /24, the serial mismatch with both serials, ns3 not answering, and
// exit 1; --json gives the same findings. Then the transfer check against a wrong TSIG key and a
// primary without a transfer ACL, alerts, and the usage errors.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { DoctorReport } from '../../src/doctor/report.js';
import { startKnot } from '../helpers/knot.js';
import { startKnotPrimary } from '../helpers/knot-primary.js';
import { freePort } from '../helpers/ports.js';
import { queryUdp } from '../helpers/dnsclient.js';
import { decodeMessage } from '../../src/wire/message.js';
import { runCli, startDaemon } from '../helpers/secondaryd.js';

const ZONE = 'doctor.test.';
const KEY = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: Buffer.from('the key primary and secondary share').toString('base64') };
const WRONG = Buffer.from('not the key the primary knows').toString('base64');

function zoneText(serial: number): string {
  return `$ORIGIN ${ZONE}
$TTL 300
@    IN SOA ns1 hostmaster ${serial} 3600 600 86400 300
@    IN NS  ns1
@    IN NS  ns2
@    IN NS  ns3
ns1  IN A   127.0.0.1
ns2  IN A   127.0.0.2
ns3  IN A   127.0.0.3
www  IN A   192.0.2.80
`;
}

async function servedSerial(port: number): Promise<number | undefined> {
  try {
    const m = decodeMessage(await queryUdp({ host: '127.0.0.1', port }, { name: ZONE, type: 6 }, { edns: false }, 500));
    const soa = m.answer.find((r) => r.type === 6);
    return m.rcode === 0 && soa ? soa.rdata.readUInt32BE(soa.rdata.length - 20) : undefined;
  } catch {
    return undefined;
  }
}

/** The daemon's config with the zone's primaries (and the rest of the zone entry) replaced. */
function config(port: number, dir: string, zoneYaml: string, secret = KEY.secret): string {
  return (
    `server:\n  listen: ["127.0.0.1:${port}"]\n  storage: "${dir}/s"\n  control: "${dir}/c.sock"\n` +
    `log:\n  level: info\n` +
    `keys:\n  - name: ${KEY.name}\n    algorithm: ${KEY.algorithm}\n    secret: "${secret}"\n` +
    `zones:\n  - name: ${ZONE}\n${zoneYaml}`
  );
}

t.test('doctor against three loopback nameservers', async (t) => {
  const work = await mkdtemp(path.join(tmpdir(), 'secondaryd-doctor-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const port = await freePort('127.0.0.1');

  const behindFile = path.join(work, 'behind.zone');
  await writeFile(behindFile, zoneText(1));
  const ns2 = await startKnot({ zones: [{ name: ZONE, file: behindFile }], host: '127.0.0.2', port });
  t.teardown(() => ns2.stop());

  const primary = await startKnotPrimary({ [ZONE]: zoneText(2) }, { key: KEY });
  t.teardown(() => primary.stop());
  const primaryYaml = `    primaries:\n      - { address: "127.0.0.1:${primary.port}", key: ${KEY.name} }\n`;

  const d = await startDaemon({ port, zones: [], configText: config(port, '{DIR}', primaryYaml) });
  t.teardown(() => d.stop());
  for (let i = 0; (await servedSerial(port)) !== 2; i++) {
    if (i > 400) throw new Error(`the daemon never served serial 2:\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const doctor = (configPath: string, ...more: string[]) => runCli(['doctor', ZONE, '-c', configPath, '--port', String(port), '--timeout', '1s', ...more]);

  await t.test('the report: shared /24, serial mismatch, ns3 silent; exit 1', async (t) => {
    const r = await doctor(d.configPath);
    t.equal(r.code, 1, r.stdout + r.stderr);
    t.equal(r.stderr, '');
    const out = r.stdout;
    t.match(out, /^\s+warning\s+ns-single-network\s+all 3 nameserver addresses are in one network \(127\.0\.0\.0\/24\)/m);
    t.match(out, /^\s+warning\s+serial-mismatch\s+1 server behind serial 2: ns1\.doctor\.test\. \(127\.0\.0\.1\) 2, ns2\.doctor\.test\. \(127\.0\.0\.2\) 1/m);
    t.match(out, /^\s+error\s+ns-no-answer\s+ns3\.doctor\.test\. \(127\.0\.0\.3\) does not answer: nothing listening \(ECONNREFUSED\)$/m);
    t.match(out, new RegExp(`^\\s+ok\\s+transfer-allowed\\s+primary 127\\.0\\.0\\.1:${primary.port} allows AXFR with key xfr-key, serial 2`, 'm'));
    t.match(out, /^\s+ok\s+in-ns-set\s+this server is in the NS set as ns1\.doctor\.test\. \(127\.0\.0\.1\)/m);
    t.match(out, /^\s+warning\s+no-alerts\s+/m);
    t.match(out, /^\s+ns2\.doctor\.test\.\s+127\.0\.0\.2\s+serial 1\s+authoritative$/m);
    t.equal(out.trimEnd().split('\n').at(-1), '1 error, 3 warnings');
  });

  await t.test('--json: the same findings as a document', async (t) => {
    const r = await doctor(d.configPath, '--json');
    t.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as DoctorReport;
    t.equal(doc.zone, ZONE);
    t.equal(doc.ok, false);
    t.same(
      doc.findings.map((f) => [f.severity, f.code]),
      [
        ['ok', 'serving'],
        ['ok', 'ns-resolved'],
        ['warning', 'ns-single-network'],
        ['error', 'ns-no-answer'],
        ['warning', 'serial-mismatch'],
        ['ok', 'transfer-allowed'],
        ['ok', 'in-ns-set'],
        ['warning', 'no-alerts'],
      ],
    );
    t.same(doc.findings.find((f) => f.code === 'ns-single-network')!.networks, ['127.0.0.0/24']);
    t.same(doc.findings.find((f) => f.code === 'serial-mismatch')!.serials, [
      { server: 'ns1.doctor.test. (127.0.0.1)', serial: 2, status: 'newest' },
      { server: 'ns2.doctor.test. (127.0.0.2)', serial: 1, status: 'behind' },
    ]);
    t.match(doc.findings.find((f) => f.code === 'ns-no-answer')!, { nameserver: 'ns3.doctor.test.', address: '127.0.0.3' });
    t.same(
      doc.nameservers.map((ns) => [ns.name, ns.addresses.map((a) => [a.address, a.serial, a.authoritative, a.error === null])]),
      [
        ['ns1.doctor.test.', [['127.0.0.1', 2, true, true]]],
        ['ns2.doctor.test.', [['127.0.0.2', 1, true, true]]],
        ['ns3.doctor.test.', [['127.0.0.3', null, false, false]]],
      ],
    );
    t.same(doc.primaries, [{ address: `127.0.0.1:${primary.port}`, key: KEY.name, allowed: true, serial: 2, error: null }]);
    t.same(doc.self, { address: `127.0.0.1:${port}`, serial: 2, error: null });
  });

  await t.test('a wrong TSIG key: transfer-refused with the TSIG error', async (t) => {
    const file = path.join(work, 'wrong-key.yaml');
    await writeFile(file, config(port, work, primaryYaml, WRONG));
    const r = await doctor(file, '--json');
    t.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as DoctorReport;
    const f = doc.findings.find((x) => x.check === 'transfer')!;
    t.equal(f.code, 'transfer-refused');
    t.equal(f.severity, 'error');
    t.match(f.message, new RegExp(`primary 127\\.0\\.0\\.1:${primary.port} does not allow AXFR with key xfr-key: answered NOTAUTH, TSIG BADSIG`));
    t.match(doc.primaries[0]!, { allowed: false, error: 'answered NOTAUTH, TSIG BADSIG' });
  });

  await t.test('a primary without a transfer ACL refuses; a closed port fails to connect', async (t) => {
    // Knot on 127.0.0.2 serves the zone but allows no transfer; nothing listens on 127.0.0.3.
    const file = path.join(work, 'no-acl.yaml');
    await writeFile(file, config(port, work, `    primaries: ["127.0.0.2:${port}", "127.0.0.3:${port}"]\n`));
    const r = await doctor(file);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, new RegExp(`^\\s+error\\s+transfer-refused\\s+primary 127\\.0\\.0\\.2:${port} does not allow AXFR \\(no TSIG key\\): answered (REFUSED|NOTAUTH)$`, 'm'));
    t.match(r.stdout, new RegExp(`^\\s+error\\s+transfer-refused\\s+primary 127\\.0\\.0\\.3:${port} does not allow AXFR \\(no TSIG key\\): nothing listening \\(ECONNREFUSED\\)$`, 'm'));
  });

  await t.test('alerts configured for the zone: no warning about them', async (t) => {
    const file = path.join(work, 'alerts.yaml');
    await writeFile(file, config(port, work, `${primaryYaml}    alerts:\n      command: "logger secondaryd"\n`));
    const r = await doctor(file, '--json');
    const doc = JSON.parse(r.stdout) as DoctorReport;
    t.match(doc.findings.find((x) => x.check === 'alerts'), { severity: 'ok', code: 'alerts-configured' });
    t.notOk(doc.findings.some((x) => x.code === 'no-alerts'));
  });

  await t.test('this server not answering: not-serving, and no NS set to check', async (t) => {
    // The same zone, but "our" listen address is 127.0.0.3:P, where nothing runs.
    const file = path.join(work, 'down.yaml');
    await writeFile(file, config(port, work, primaryYaml).replace(`listen: ["127.0.0.1:${port}"]`, `listen: ["127.0.0.3:${port}"]`));
    const r = await doctor(file, '--json');
    t.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as DoctorReport;
    t.same(doc.self, { address: `127.0.0.3:${port}`, serial: null, error: 'nothing listening (ECONNREFUSED)' });
    t.same(doc.nameservers, []);
    t.same(
      doc.findings.map((f) => [f.severity, f.code]),
      [
        ['error', 'not-serving'],
        ['ok', 'transfer-allowed'],
        ['warning', 'no-alerts'],
      ],
    );
  });

  await t.test('usage errors exit 2', async (t) => {
    const r = await runCli(['doctor', 'not-configured.test', '-c', d.configPath]);
    t.equal(r.code, 2);
    t.match(r.stderr, /zone not-configured\.test\. is not configured in /);
    t.equal(r.stdout, '');
    const badPort = await runCli(['doctor', ZONE, '-c', d.configPath, '--port', '70000']);
    t.equal(badPort.code, 2);
    t.match(badPort.stderr, /--port 70000/);
    const missing = await runCli(['doctor', ZONE, '-c', path.join(work, 'missing.yaml')]);
    t.equal(missing.code, 2);
    t.not(missing.stderr, '');
  });
});
