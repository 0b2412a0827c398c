// Test helpers for the refresh code: a fake clock that behaves like Node's timers (including the
// 2^31-1 ms overflow), a seeded PRNG, zone configs and a scriptable Executor.

import { defaultAlerts } from '../../src/config/parse.js';
import type { ZoneConfig } from '../../src/config/types.js';
import type { Clock } from '../../src/refresh/scheduler.js';
import type { TimerClamps } from '../../src/refresh/timers.js';
import type { Executor, SoaResult, SoaTimers, TransferKind, TransferResult } from '../../src/refresh/types.js';
export { prng } from '../helpers/prng.js';

export const DAY = 86_400;
export const T0 = 1_700_000_000_000;
export const P1 = '192.0.2.1:53';

/** Clamps like the config defaults (seconds). */
export const CLAMPS: TimerClamps = { refreshMin: 60, refreshMax: DAY, retryMin: 10, retryMax: 3600, expireMin: 3600, expireMax: 28 * DAY };

/** A typical SOA: refresh 1h, retry 10 min, expire 1 week. */
export const SOA: SoaTimers = { refresh: 3600, retry: 600, expire: 7 * DAY, minimum: 300 };

export function zoneConfig(name: string, over: Partial<ZoneConfig> = {}): ZoneConfig {
  return {
    name,
    primaries: [{ host: '192.0.2.1', port: 53, family: 4 }],
    allowNotify: [],
    allowTransfer: [],
    notify: [],
    ...CLAMPS,
    transferTimeout: 300,
    transferIdleTimeout: 30,
    maxTransferRecords: 1_000_000,
    maxTransferBytes: 2 ** 31,
    alerts: defaultAlerts(),
    ...over,
  };
}


/** Let pending promise callbacks run (a macrotask turn drains all microtasks). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const NODE_TIMEOUT_MAX = 2 ** 31 - 1;

/** A manual clock. Like Node, a delay above 2^31-1 ms (or below 1) fires after 1 ms, so code that
 * forgets to chunk long timers fails here as it would in production. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; seq: number; fn: () => void }>();
  /** Largest delay ever asked for. */
  maxDelay = 0;

  constructor(now = T0) {
    this.#now = now;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    this.maxDelay = Math.max(this.maxDelay, ms);
    const delay = ms > NODE_TIMEOUT_MAX || !(ms >= 1) ? 1 : Math.floor(ms);
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + delay, seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(target: number): Promise<void> {
    // A timer that re-arms itself every millisecond (the symptom of an unchunked long delay, which
    // Node turns into 1 ms) would spin here for billions of rounds: fail fast instead.
    let rounds = 0;
    for (;;) {
      if (++rounds > 100_000) throw new Error('timer storm: more than 100000 timers fired in one advance');
      await settle();
      let next: { at: number; seq: number; fn: () => void } | undefined;
      for (const timer of this.#timers.values()) {
        if (timer.at <= target && (next === undefined || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))) next = timer;
      }
      if (next === undefined) break;
      this.#timers.delete(next.seq);
      this.#now = next.at;
      next.fn();
    }
    this.#now = Math.max(this.#now, target);
    await settle();
  }
}

export interface Call {
  readonly op: 'soa' | 'transfer';
  readonly zone: string;
  readonly at: number;
  readonly signal: AbortSignal;
  readonly kind?: TransferKind;
  readonly fromSerial?: number;
  readonly primary?: string;
  resolve(result: SoaResult | TransferResult): void;
  settled: boolean;
}

type Answer<R> = (call: Call) => R | 'hang' | 'manual';

/**
 * An Executor whose answers the test scripts: a function per operation returning the result (after
 * `delayMs` of fake time), 'manual' (the test calls call.resolve) or 'hang' (settles only by abort).
 */
export class ScriptedExecutor implements Executor {
  readonly calls: Call[] = [];
  readonly expired: Array<{ zone: string; at: number }> = [];
  readonly active = { soa: 0, transfer: 0 };
  readonly maxActive = { soa: 0, transfer: 0 };
  /** Honour the abort signal (a well-behaved executor does). */
  honourAbort = true;

  constructor(
    readonly clock: FakeClock,
    public soa: Answer<SoaResult>,
    public xfr: Answer<TransferResult>,
    public delayMs = 0,
  ) {}

  checkSoa(zone: ZoneConfig, signal: AbortSignal, primary?: string): Promise<SoaResult> {
    return this.#run<SoaResult>({ op: 'soa', zone: zone.name, signal, ...(primary === undefined ? {} : { primary }) }, this.soa);
  }

  transfer(zone: ZoneConfig, kind: TransferKind, fromSerial: number | undefined, signal: AbortSignal, primary?: string): Promise<TransferResult> {
    const extra = { ...(fromSerial === undefined ? {} : { fromSerial }), ...(primary === undefined ? {} : { primary }) };
    return this.#run<TransferResult>({ op: 'transfer', zone: zone.name, signal, kind, ...extra }, this.xfr);
  }

  expire(zone: ZoneConfig): void {
    this.expired.push({ zone: zone.name, at: this.clock.now() });
  }

  of(op: 'soa' | 'transfer', zone?: string): Call[] {
    return this.calls.filter((c) => c.op === op && (zone === undefined || c.zone === zone));
  }

  #run<R extends SoaResult | TransferResult>(base: Omit<Call, 'resolve' | 'settled' | 'at'>, answer: Answer<R>): Promise<R> {
    const op = base.op;
    this.active[op] += 1;
    this.maxActive[op] = Math.max(this.maxActive[op], this.active[op]);
    return new Promise<R>((resolve, reject) => {
      const call: Call = {
        ...base,
        at: this.clock.now(),
        settled: false,
        resolve: (result) => {
          if (call.settled) return;
          call.settled = true;
          this.active[op] -= 1;
          resolve(result as R);
        },
      };
      this.calls.push(call);
      if (this.honourAbort) {
        base.signal.addEventListener('abort', () => {
          if (call.settled) return;
          call.settled = true;
          this.active[op] -= 1;
          reject(base.signal.reason);
        });
      }
      const result = answer(call);
      if (result === 'hang' || result === 'manual') return;
      if (this.delayMs === 0) call.resolve(result);
      else this.clock.setTimeout(() => call.resolve(result), this.delayMs);
    });
  }
}
