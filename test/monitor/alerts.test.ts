// Alerts on a fake clock, through the real chain: the refresh scheduler and reducer driven by a
// scripted primary -> zoneStatus (health, conditions) -> AlertEngine (one alert per transition,
// reminders, recovered). The documents are compared whole.

import t from 'tap';
import { defaultAlerts } from '../../src/config/parse.js';
import type { AlertSettings } from '../../src/config/types.js';
import { AlertEngine, type AlertDocument } from '../../src/monitor/alerts.js';
import { zoneStatus } from '../../src/monitor/status.js';
import { RefreshScheduler } from '../../src/refresh/scheduler.js';
import type { SoaResult, TransferResult } from '../../src/refresh/types.js';
import { FakeClock, P1, ScriptedExecutor, T0, zoneConfig } from '../refresh/helpers.js';

const S = 1000;
const SOA = { refresh: 3600, retry: 600, expire: 7200, minimum: 300 };
const timeout: SoaResult = { ok: false, reason: 'ERR_TIMEOUT', message: 'no answer from 192.0.2.1:53 within 2s', primary: P1 };

function setup(settings: Partial<AlertSettings>, soa = SOA) {
  const clock = new FakeClock(T0);
  const alerts: AlertSettings = { ...defaultAlerts(), failingAfter: 2, staleAfter: 3600, expiringWithin: 1800, repeatInterval: 0, ...settings };
  const zc = zoneConfig('alert.test.', { alerts });
  const exec = new ScriptedExecutor(clock, () => timeout, () => ({ ok: false, reason: 'ERR_REFUSED', message: 'REFUSED', primary: P1 }));
  const scheduler = new RefreshScheduler({ executor: exec, clock, random: () => 0, logger: undefined as never });
  const engine = new AlertEngine('ns2.example.net');
  const sent: AlertDocument[] = [];
  const evaluate = (): void => {
    const s = zoneStatus(zc, undefined, scheduler.state(zc.name), clock.now());
    for (const a of engine.evaluate([s], () => alerts, clock.now())) sent.push(a.document);
  };
  /** Move time on, evaluating every `step` ms as the daemon's tick does. */
  const run = async (ms: number, step = 10 * S): Promise<void> => {
    for (let left = ms; left > 0; left -= step) {
      await clock.advance(Math.min(step, left));
      evaluate();
    }
  };
  scheduler.addZone(zc.name, zc, { serial: 100, soa, lastRefreshed: T0, expiresAt: T0 + soa.expire * S });
  return { clock, exec, scheduler, sent, run, evaluate, zc };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const base = { version: 1, zone: 'alert.test.', host: 'ns2.example.net', resolved: [], primary: null, primarySerial: null, lagSeconds: null, signaturesExpireIn: null };

t.test('a primary that stops answering: failing, expiring, expired, then recovered: one alert each', async (t) => {
  const { exec, sent, run, scheduler } = setup({});
  t.teardown(() => scheduler.stop());
  await run(3 * 3600 * S);
  const lastError = (at: number) => ({ reason: 'ERR_TIMEOUT', message: timeout.message, at: iso(at), op: 'soa' });
  // The check at REFRESH (T0+1h) fails; the retry a RETRY later (10 min) fails too: failing.
  t.same(sent[0], {
    ...base,
    event: 'failing',
    reminder: false,
    at: iso(T0 + 4200 * S),
    message: `alert.test.: 2 refresh attempts failed in a row (last: ERR_TIMEOUT: ${timeout.message})`,
    health: 'failing',
    conditions: ['failing'],
    since: iso(T0 + 4200 * S),
    serial: 100,
    failures: 2,
    lastError: lastError(T0 + 4200 * S),
    expiresIn: 3000,
  });
  t.same(sent[1], {
    ...base,
    event: 'expiring',
    reminder: false,
    at: iso(T0 + 5400 * S),
    message: `alert.test.: expires in 30m unless a refresh succeeds (last: ERR_TIMEOUT: ${timeout.message})`,
    health: 'failing',
    conditions: ['failing', 'expiring'],
    since: iso(T0 + 5400 * S),
    serial: 100,
    failures: 3,
    lastError: lastError(T0 + 5400 * S), // the retry interval doubled: 20 min after the 2nd failure
    expiresIn: 1800,
  });
  // At EXPIRE the zone stops being served and an AXFR is tried at once (refused here).
  t.match(sent[2], { event: 'expired', at: iso(T0 + 7200 * S), health: 'expired', conditions: ['expired', 'failing'], serial: null, expiresIn: 0, failures: 4 });
  t.equal(sent[2]!.message, 'alert.test.: expired: no successful refresh within EXPIRE, answering SERVFAIL (last: ERR_REFUSED: REFUSED)');
  t.equal(sent.length, 3, 'nothing more while it stays down (reminders off)');
  t.equal(exec.expired.length, 1);

  // The primary is back: the next attempt (AXFR, nothing is served) succeeds.
  exec.xfr = () => ({ ok: true, serial: 101, kind: 'AXFR', soa: SOA, primary: P1 }) satisfies TransferResult;
  await run(3600 * S);
  t.equal(sent.length, 4);
  t.same(sent[3], {
    ...base,
    event: 'recovered',
    reminder: false,
    at: sent[3]!.at,
    message: 'alert.test.: recovered from expired, failing, expiring; serving serial 101',
    health: 'fresh',
    conditions: [],
    resolved: ['expired', 'failing', 'expiring'],
    since: iso(T0 + 4200 * S),
    serial: 101,
    primary: P1,
    primarySerial: 101,
    failures: 0,
    lastError: null,
    expiresIn: sent[3]!.expiresIn,
  });
  t.equal(sent[3]!.expiresIn, 7200 - (Date.parse(sent[3]!.at) - exec.of('transfer').at(-1)!.at) / S, 'EXPIRE counts from the transfer');
});

t.test('reminders at repeat-interval while a condition holds, and only then', async (t) => {
  const { sent, run, scheduler } = setup({ repeatInterval: 1800, expiringWithin: 0 });
  t.teardown(() => scheduler.stop());
  await run(7100 * S);
  t.same(
    sent.map((d) => [d.event, d.reminder, (Date.parse(d.at) - T0) / S]),
    [
      ['failing', false, 4200],
      ['failing', true, 6000],
    ],
  );
  t.equal(sent[1]!.since, iso(T0 + 4200 * S), 'a reminder carries when the condition began');
});

t.test('transfers blocked while the primary moves ahead: stale with the lag, and failing', async (t) => {
  const { exec, sent, run, scheduler } = setup({ staleAfter: 1800, failingAfter: 3, expiringWithin: 0 });
  t.teardown(() => scheduler.stop());
  exec.soa = () => ({ ok: true, serial: 105, primary: P1 });
  await run(3 * 3600 * S);
  const stale = sent.find((d) => d.event === 'stale')!;
  t.same(stale, {
    ...base,
    event: 'stale',
    reminder: false,
    at: iso(T0 + 5410 * S),
    message: 'alert.test.: primary 192.0.2.1:53 has had serial 105 for 30m; still serving 100',
    health: 'failing',
    conditions: ['failing', 'stale'],
    since: iso(T0 + 5410 * S),
    serial: 100,
    primary: P1,
    primarySerial: 105,
    lagSeconds: 1810,
    failures: 3,
    lastError: { reason: 'ERR_REFUSED', message: 'REFUSED', at: iso(T0 + 5400 * S), op: 'transfer' },
    expiresIn: 1790,
  });
  t.same(
    sent.map((d) => d.event),
    ['failing', 'stale', 'expired'],
  );
  exec.xfr = () => ({ ok: true, serial: 105, kind: 'AXFR', soa: SOA, primary: P1 });
  await run(3600 * S);
  t.match(sent.at(-1), { event: 'recovered', resolved: ['expired', 'failing', 'stale'], serial: 105, lagSeconds: null, health: 'fresh' });
});

t.test('a primary whose serial goes backwards is reported, then recovered when it is back', async (t) => {
  const { exec, sent, run, scheduler } = setup({}, { ...SOA, expire: 7 * 86400 });
  t.teardown(() => scheduler.stop());
  exec.soa = () => ({ ok: true, serial: 90, primary: P1 });
  await run(3610 * S);
  t.same(sent.map((d) => d.event), ['serial-backwards']);
  t.equal(sent[0]!.message, 'alert.test.: primary 192.0.2.1:53 reports serial 90, behind ours (100): not following it');
  t.equal(exec.of('transfer').length, 0, 'not followed');
  exec.soa = () => ({ ok: true, serial: 100, primary: P1 });
  await run(3600 * S);
  t.same(sent.map((d) => [d.event, d.resolved]), [['serial-backwards', []], ['recovered', ['serial-backwards']]]);
});
