// The refresh scheduler on a fake clock: long timers re-armed in chunks (28-day EXPIRE), the
// transfer cap and FIFO queue, NOTIFY coalescing (RFC 1996), stop/remove aborting work, watchdog.

import t from 'tap';
import type { Logger } from '../../src/log.js';
import { RefreshScheduler, type RefreshLogger, type SchedulerOptions } from '../../src/refresh/scheduler.js';
import type { SoaResult, TransferResult } from '../../src/refresh/types.js';
import { DAY, FakeClock, P1, prng, ScriptedExecutor, SOA, T0, zoneConfig, type Call } from './helpers.js';

const MAX = 2 ** 31 - 1;
const H = 3_600_000;

const ok = (serial: number): SoaResult => ({ ok: true, serial, primary: P1 });
const down: SoaResult = { ok: false, reason: 'ERR_TIMEOUT', message: 'no answer', primary: P1 };
const xfr = (serial: number, kind: 'AXFR' | 'IXFR' = 'AXFR'): TransferResult => ({ ok: true, serial, kind, soa: SOA, primary: P1 });

// A pino logger is a RefreshLogger (type-level check only).
const _loggerFits: (l: Logger) => RefreshLogger = (l) => l;
void _loggerFits;

function setup(
  soa: ScriptedExecutor['soa'],
  transfer: ScriptedExecutor['xfr'],
  options: Partial<SchedulerOptions> = {},
  delayMs = 0,
): { clock: FakeClock; exec: ScriptedExecutor; sched: RefreshScheduler } {
  const clock = new FakeClock();
  const exec = new ScriptedExecutor(clock, soa, transfer, delayMs);
  const sched = new RefreshScheduler({ executor: exec, clock, random: () => 0, ...options });
  return { clock, exec, sched };
}

t.test('RFC 1034 4.3.5: a 28-day EXPIRE (> 2^31-1 ms) through the scheduler', async (t) => {
  const { clock, exec, sched } = setup(() => down, () => 'hang');
  const config = zoneConfig('long.example.', { refreshMax: 30 * DAY, expireMax: 30 * DAY, retryMax: DAY });
  const soa = { refresh: 27 * DAY, retry: 3600, expire: 28 * DAY, minimum: 300 };
  sched.addZone('long.example', config, { serial: 100, soa, lastRefreshed: T0, expiresAt: T0 + 28 * DAY * 1000 });
  t.ok(27 * DAY * 1000 > MAX, 'the REFRESH alone is beyond what setTimeout can hold');

  await clock.advance(1000);
  t.equal(exec.calls.length, 0, 'the timer did not fire after 1 ms (it was chunked)');
  await clock.advanceTo(T0 + 27 * DAY * 1000 - 1);
  t.equal(exec.calls.length, 0, 'nothing before REFRESH');
  await clock.advance(1);
  t.equal(exec.of('soa').length, 1, 'the SOA query at REFRESH to the millisecond');
  t.equal(sched.state('long.example')?.status, 'retrying');

  // Retries back off (1h, 2h, 4h, 8h) and the last one is pulled in to the expiry time.
  await clock.advanceTo(T0 + 28 * DAY * 1000 - 1);
  t.same(
    exec.of('soa').map((c) => (c.at - T0 - 27 * DAY * 1000) / H),
    [0, 1, 3, 7, 15],
  );
  t.same(exec.expired, [], 'not expired a millisecond early');
  await clock.advance(1);
  t.same(exec.expired, [{ zone: 'long.example.', at: T0 + 28 * DAY * 1000 }], 'expired exactly at EXPIRE');
  t.equal(sched.state('long.example')?.status, 'expired');
  t.equal(exec.of('transfer').length, 1, 'and an AXFR attempt right away');
  t.ok(clock.maxDelay <= MAX, `no timer longer than 2^31-1 ms was asked for (max ${clock.maxDelay})`);
  await sched.stop();
});

t.test('transfer cap: 10 new zones, cap 2: at most 2 in flight, FIFO, all complete', async (t) => {
  const { clock, exec, sched } = setup(() => ok(1), () => xfr(1), { maxConcurrentTransfers: 2 }, 1000);
  const names = Array.from({ length: 10 }, (_, i) => `z${i}.example.`);
  for (const name of names) sched.addZone(name, zoneConfig(name));
  await clock.advance(0);
  t.equal(exec.active.transfer, 2, 'two started at once');
  await clock.advance(10_000);
  t.equal(exec.maxActive.transfer, 2, 'never more than two');
  t.same(
    exec.of('transfer').map((c) => c.zone),
    names,
    'started in the order the zones were added',
  );
  t.same(
    exec.of('transfer').map((c) => c.at - T0),
    [0, 0, 1000, 1000, 2000, 2000, 3000, 3000, 4000, 4000],
  );
  t.ok([...sched.states().values()].every((s) => s.status === 'fresh' && s.servedSerial === 1), 'all fresh');
  await sched.stop();
});

t.test('SOA checks have their own cap and do not wait behind transfers', async (t) => {
  const { clock, exec, sched } = setup(() => ok(100), () => 'hang', { maxConcurrentTransfers: 1, maxConcurrentSoaChecks: 3 }, 500);
  const loaded = { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: T0 + 7 * DAY * 1000 };
  sched.addZone('new1.example', zoneConfig('new1.example.'));
  sched.addZone('new2.example', zoneConfig('new2.example.'));
  for (let i = 0; i < 6; i++) sched.addZone(`s${i}.example`, zoneConfig(`s${i}.example.`), loaded);
  for (let i = 0; i < 6; i++) sched.refresh(`s${i}.example`);
  await clock.advance(2000);
  t.equal(exec.maxActive.soa, 3);
  t.equal(exec.of('soa').length, 6, 'all six checks done while the transfer slot is held');
  t.equal(exec.of('transfer').length, 1, 'the second new zone still queued behind the cap');
  await sched.stop();
});

t.test('RFC 1996 4.7: a burst of NOTIFYs leads to one SOA query', async (t) => {
  const { clock, exec, sched } = setup(() => 'manual', () => 'manual');
  sched.addZone('a.example', zoneConfig('a.example.'), { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: T0 + 7 * DAY * 1000 });
  for (let i = 0; i < 5; i++) t.ok(sched.notify('A.Example.', 100 + i, P1));
  await clock.advance(0);
  t.equal(exec.of('soa').length, 1, 'one query while the burst lasts');
  t.equal(exec.of('soa')[0]?.primary, P1, 'asked of the notifier first');
  t.equal(sched.state('a.example')?.pendingNotify, true);
  (exec.of('soa')[0] as Call).resolve(ok(100));
  await clock.advance(0);
  t.equal(exec.of('soa').length, 2, 'and exactly one more for the NOTIFYs that arrived meanwhile');
  (exec.of('soa')[1] as Call).resolve(ok(100));
  await clock.advance(60_000);
  t.equal(exec.of('soa').length, 2, 'then quiet until REFRESH');
  t.equal(sched.state('a.example')?.status, 'fresh');
  await sched.stop();
});

t.test('RFC 1996 4.7: NOTIFY mid-transfer leads to exactly one more check', async (t) => {
  const { clock, exec, sched } = setup(() => 'manual', () => 'manual');
  sched.addZone('b.example', zoneConfig('b.example.'), { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: T0 + 7 * DAY * 1000 });
  sched.notify('b.example', 101);
  await clock.advance(0);
  (exec.of('soa')[0] as Call).resolve(ok(101));
  await clock.advance(0);
  const transfer = exec.of('transfer')[0] as Call;
  t.match(transfer, { kind: 'IXFR', fromSerial: 100, primary: P1 }, 'RFC 1995: IXFR from our serial');
  for (let i = 0; i < 3; i++) sched.notify('b.example', 102);
  sched.refresh('b.example');
  await clock.advance(0);
  t.equal(exec.calls.length, 2, 'nothing new while the transfer runs');
  transfer.resolve(xfr(101, 'IXFR'));
  await clock.advance(0);
  t.equal(exec.of('soa').length, 2, 'one more SOA query after the transfer');
  (exec.of('soa')[1] as Call).resolve(ok(101));
  await clock.advance(60_000);
  t.equal(exec.calls.length, 3);
  t.match(sched.state('b.example'), { status: 'fresh', servedSerial: 101, pendingNotify: false });
  await sched.stop();
});

t.test('retransfer: a full AXFR whatever the serial', async (t) => {
  const { clock, exec, sched } = setup(() => ok(100), () => xfr(100));
  sched.addZone('c.example', zoneConfig('c.example.'), { serial: 100, soa: SOA, lastRefreshed: T0, expiresAt: T0 + 7 * DAY * 1000 });
  t.ok(sched.retransfer('c.example'));
  await clock.advance(0);
  t.same(
    exec.calls.map((c) => [c.op, c.kind, c.fromSerial]),
    [['transfer', 'AXFR', undefined]],
  );
  t.equal(sched.state('c.example')?.forceAxfr, false);
  t.notOk(sched.retransfer('nope.example'), 'unknown zone');
  t.notOk(sched.refresh('nope.example'));
  t.notOk(sched.notify('nope.example'));
  await sched.stop();
});

t.test('stop aborts in-flight and queued work and every timer', async (t) => {
  const { clock, exec, sched } = setup(() => 'hang', () => 'hang', { maxConcurrentTransfers: 1 });
  sched.addZone('new.example', zoneConfig('new.example.'));
  sched.addZone('queued.example', zoneConfig('queued.example.'));
  sched.addZone('old.example', zoneConfig('old.example.'), { serial: 1, soa: SOA, lastRefreshed: T0, expiresAt: T0 + 7 * DAY * 1000 });
  sched.refresh('old.example');
  await clock.advance(0);
  t.equal(exec.calls.length, 2, 'one transfer (cap 1) and one SOA query running');
  await sched.stop();
  t.ok(
    exec.calls.every((c) => c.signal.aborted),
    'their signals aborted',
  );
  t.ok(exec.calls.every((c) => c.settled), 'and stop() waited for them to settle');
  await clock.advance(30 * DAY * 1000);
  t.equal(exec.calls.length, 2, 'the queued transfer never started, no timer fired');
  t.same(exec.expired, [], 'stopping does not expire zones');
  t.equal(clock.pendingTimers, 0, 'no timer left behind');
  t.notOk(sched.notify('old.example'), 'commands refused after stop');
  t.throws(() => sched.addZone('late.example', zoneConfig('late.example.')));
});

t.test('removeZone aborts its work and frees its slot', async (t) => {
  const { clock, exec, sched } = setup(() => 'hang', () => 'hang', { maxConcurrentTransfers: 1 });
  sched.addZone('one.example', zoneConfig('one.example.'));
  sched.addZone('two.example', zoneConfig('two.example.'));
  await clock.advance(0);
  t.same(exec.calls.map((c) => c.zone), ['one.example.']);
  t.ok(sched.removeZone('one.example'));
  await clock.advance(0);
  t.ok(exec.calls[0]?.signal.aborted);
  t.same(exec.calls.map((c) => c.zone), ['one.example.', 'two.example.'], 'the queued zone got the slot');
  t.equal(sched.state('one.example'), undefined);
  t.same([...sched.states().keys()], ['two.example.']);
  t.notOk(sched.removeZone('one.example'));
  t.throws(() => sched.addZone('two.example.', zoneConfig('two.example.')), 'no duplicates');
  await sched.stop();
});

t.test('at start, zones loaded from disk are checked on their stored timers, overdue ones spread', async (t) => {
  const { clock, exec, sched } = setup(() => ok(7), () => 'hang', { random: prng(42) });
  const expiresAt = T0 + 7 * DAY * 1000;
  for (let i = 0; i < 50; i++) sched.addZone(`old${i}.example`, zoneConfig(`old${i}.example.`), { serial: 7, soa: SOA, lastRefreshed: T0 - DAY * 1000, expiresAt });
  for (let i = 0; i < 5; i++) sched.addZone(`recent${i}.example`, zoneConfig(`recent${i}.example.`), { serial: 7, soa: SOA, lastRefreshed: T0, expiresAt });
  await clock.advance(0);
  t.equal(exec.calls.length, 0, 'no thundering herd at t=0');
  await clock.advance(30_000);
  const times = new Set(exec.of('soa').map((c) => c.at));
  t.equal(exec.of('soa').length, 50, 'every overdue zone checked within the 30 s start window');
  t.ok(times.size >= 40, `at many different moments (${times.size})`);
  await clock.advanceTo(T0 + 0.9 * H - 1);
  t.equal(exec.of('soa').length, 50, 'the recently refreshed zones wait for their REFRESH');
  await clock.advanceTo(T0 + H);
  t.equal(exec.of('soa').filter((c) => c.zone.startsWith('recent')).length, 5, 'and are checked at it');
  await sched.stop();
});

t.test('watchdog: an executor that never answers does not hold a zone or a slot forever', async (t) => {
  const { clock, exec, sched } = setup(() => 'hang', () => 'hang', { maxConcurrentTransfers: 1, transferGraceMs: 10_000 });
  exec.honourAbort = false;
  sched.addZone('stuck.example', zoneConfig('stuck.example.', { transferTimeout: 60 }));
  sched.addZone('next.example', zoneConfig('next.example.'));
  await clock.advance(70_000 - 1);
  t.equal(exec.calls.length, 1);
  await clock.advance(1);
  t.match(sched.state('stuck.example'), { status: 'loading', failures: 1, lastError: { reason: 'ERR_WATCHDOG', op: 'transfer' } });
  t.equal(exec.calls.length, 2, 'the slot went to the next zone');
  t.ok(exec.calls[0]?.signal.aborted, 'the stuck call was told to abort');
  (exec.calls[1] as Call).resolve(xfr(1)); // it ignores abort too: let it finish so stop() can settle
  await sched.stop();
  t.ok(true, 'stop() did not wait for the call the watchdog gave up on');
});

t.test('an executor that throws or rejects counts as a failure with its code', async (t) => {
  const { clock, sched } = setup(
    () => {
      throw Object.assign(new Error('socket exploded'), { code: 'ERR_SOCKET' });
    },
    () => xfr(1),
  );
  sched.addZone('d.example', zoneConfig('d.example.'), { serial: 1, soa: SOA, lastRefreshed: T0, expiresAt: T0 + 7 * DAY * 1000 });
  sched.refresh('d.example');
  await clock.advance(0);
  t.match(sched.state('d.example'), { status: 'retrying', lastError: { reason: 'ERR_SOCKET', message: 'socket exploded' } });
  await sched.stop();
});

t.test('onChange sees every state change, and logs carry the zone', async (t) => {
  const seen: string[] = [];
  const lines: Array<[string, object, string]> = [];
  const log = (level: string) => (obj: object, msg: string) => void lines.push([level, obj, msg]);
  const logger: RefreshLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const { clock, sched } = setup(() => down, () => xfr(9), {
    logger,
    onChange: (zone, state, prev) => {
      if (state.status !== prev.status) seen.push(`${zone} ${prev.status}->${state.status}`);
    },
  });
  sched.addZone('e.example', zoneConfig('e.example.'));
  await clock.advance(0);
  sched.refresh('e.example');
  await clock.advance(0);
  t.same(seen, ['e.example. loading->fresh', 'e.example. fresh->refreshing', 'e.example. refreshing->retrying']);
  t.ok(lines.some(([level, obj]) => level === 'warn' && (obj as { zone?: string }).zone === 'e.example.'));
  await sched.stop();
});
