// The refresh driver for many zones: feeds each zone's reducer with timers, NOTIFYs, commands and
// results, runs its effects through an injected Executor and Clock (RFC 1034 4.3.5, RFC 1996).
//
// Per zone: one reducer state, one timer, at most one operation. Operations wait in FIFO queues,
// one for SOA checks and one for transfers, each with its own concurrency cap: a restart with
// thousands of empty zones fetches them a few at a time instead of opening thousands of TCP
// connections to the same primary. A queued operation counts as in flight for its zone.

import type { ZoneConfig } from '../config/types.js';
import type { Serial } from '../wire/serial.js';
import { initialState, step, type Effect, type LoadedZone, type RefreshEvent, type ZoneRefreshState } from './reducer.js';
import { MAX_TIMER_DELAY_MS } from './timers.js';
import type { Executor, Failure, SoaResult, TransferKind, TransferResult } from './types.js';

/** Time and timers, injected so tests run on a fake clock. `now` is wall-clock ms (Date.now()):
 * expiry times are stored on disk and must survive a restart. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time. Timers are unref'd: the listening sockets, not the refresh timers, keep the daemon up. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Enough of a pino logger (a pino Logger or child fits). */
export interface RefreshLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SchedulerOptions {
  readonly executor: Executor;
  readonly clock?: Clock;
  /** Uniform in [0, 1); default Math.random. */
  readonly random?: () => number;
  /** Transfers running at once over all zones (default 10). */
  readonly maxConcurrentTransfers?: number;
  /** SOA checks running at once over all zones (default 50). */
  readonly maxConcurrentSoaChecks?: number;
  /**
   * A watchdog over the executor: an SOA check still running after soaTimeoutMs (default 60 s), or
   * a transfer after the zone's transfer-timeout plus this grace (default 60 s), is aborted and
   * counted as failed, so a hung network call cannot hold a zone or a queue slot forever.
   */
  readonly soaTimeoutMs?: number;
  readonly transferGraceMs?: number;
  readonly logger?: RefreshLogger;
  /** Called after every change of a zone's state (persistence, metrics, alerts). */
  readonly onChange?: (zone: string, state: ZoneRefreshState, previous: ZoneRefreshState) => void;
}

type Job =
  | { readonly op: 'soa'; readonly zone: ZoneEntry; readonly primary?: string }
  | { readonly op: 'transfer'; readonly zone: ZoneEntry; readonly kind: TransferKind; readonly fromSerial?: Serial; readonly primary?: string };

interface Running {
  readonly job: Job;
  readonly controller: AbortController;
  started: boolean;
  watchdog: unknown;
  /** The executor's promise, once started, with its outcome handled. */
  settled: Promise<void> | null;
}

interface ZoneEntry {
  readonly name: string;
  readonly config: ZoneConfig;
  state: ZoneRefreshState;
  timer: unknown;
  /** The zone's operation, queued or started; null when idle. */
  op: Running | null;
}

/** Zone names are case-insensitive and written with or without the final dot. */
function zoneKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function failureFrom(err: unknown, signal: AbortSignal): Failure {
  if (signal.aborted) return { ok: false, reason: 'ERR_ABORTED', message: 'operation aborted' };
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, reason: typeof code === 'string' ? code : 'executor', message };
}

export class RefreshScheduler {
  readonly #executor: Executor;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #caps: { readonly soa: number; readonly transfer: number };
  readonly #soaTimeoutMs: number;
  readonly #transferGraceMs: number;
  readonly #logger: RefreshLogger | undefined;
  readonly #onChange: SchedulerOptions['onChange'];

  readonly #zones = new Map<string, ZoneEntry>();
  readonly #queues: { soa: Running[]; transfer: Running[] } = { soa: [], transfer: [] };
  readonly #active = { soa: 0, transfer: 0 };
  /** Executor promises not yet settled, so stop() can wait for them. */
  readonly #settling = new Set<Promise<unknown>>();
  /** Events are applied one at a time, even when an effect (executor.expire) calls back into us. */
  readonly #events: Array<[ZoneEntry, RefreshEvent]> = [];
  #draining = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#executor = options.executor;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#caps = { soa: Math.max(1, options.maxConcurrentSoaChecks ?? 50), transfer: Math.max(1, options.maxConcurrentTransfers ?? 10) };
    this.#soaTimeoutMs = options.soaTimeoutMs ?? 60_000;
    this.#transferGraceMs = options.transferGraceMs ?? 60_000;
    this.#logger = options.logger;
    this.#onChange = options.onChange;
  }

  /**
   * Start refreshing a zone. With `loaded` (its copy on disk) it is served and checked when its
   * stored timers say; without, it is transferred as soon as a transfer slot is free.
   */
  addZone(name: string, config: ZoneConfig, loaded?: LoadedZone): void {
    if (this.#stopped) throw new Error('refresh scheduler is stopped');
    const key = zoneKey(name);
    if (this.#zones.has(key)) throw new Error(`zone ${key} is already scheduled`);
    const { refreshMin, refreshMax, retryMin, retryMax, expireMin, expireMax } = config;
    const clamps = { refreshMin, refreshMax, retryMin, retryMax, expireMin, expireMax };
    const zone: ZoneEntry = { name: key, config, state: initialState(clamps), timer: null, op: null };
    this.#zones.set(key, zone);
    this.#dispatch(zone, loaded === undefined ? { type: 'start' } : { type: 'start', loaded });
  }

  /** Forget a zone: abort its operation and timer. Serving it or not is the zone table's business. */
  removeZone(name: string): boolean {
    const zone = this.#zones.get(zoneKey(name));
    if (zone === undefined) return false;
    // Directly, not through the event queue: this may be called from inside an effect, and a
    // queued stop would find the zone already gone.
    this.#zones.delete(zone.name);
    this.#abort(zone);
    this.#disarm(zone);
    this.#pump();
    return true;
  }

  /** A NOTIFY for the zone arrived (already authorised); `primary` is its source ("host:port"). */
  notify(name: string, serial?: Serial, primary?: string): boolean {
    const event: RefreshEvent = { type: 'notify', ...(serial === undefined ? {} : { serial }), ...(primary === undefined ? {} : { primary }) };
    return this.#send(name, event);
  }

  /** Operator: SOA check now. */
  refresh(name: string): boolean {
    return this.#send(name, { type: 'refreshCommand' });
  }

  /** Operator: full AXFR now, whatever the serial. */
  retransfer(name: string): boolean {
    return this.#send(name, { type: 'retransferCommand' });
  }

  state(name: string): ZoneRefreshState | undefined {
    return this.#zones.get(zoneKey(name))?.state;
  }

  /** Every zone's state, in the order the zones were added. */
  states(): Map<string, ZoneRefreshState> {
    return new Map([...this.#zones].map(([key, zone]) => [key, zone.state]));
  }

  /** Abort every operation and timer; resolves once the executor's promises have settled. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      // Stopped first: aborting one zone frees a slot, which must not start the next queued job.
      this.#stopped = true;
      for (const zone of this.#zones.values()) this.#dispatch(zone, { type: 'stop' });
    }
    await Promise.allSettled([...this.#settling]);
  }

  #send(name: string, event: RefreshEvent): boolean {
    const zone = this.#zones.get(zoneKey(name));
    if (zone === undefined || this.#stopped) return false;
    this.#dispatch(zone, event);
    return true;
  }

  #dispatch(zone: ZoneEntry, event: RefreshEvent): void {
    this.#events.push([zone, event]);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#events.shift(); next !== undefined; next = this.#events.shift()) this.#apply(...next);
    } finally {
      this.#draining = false;
    }
    this.#pump();
  }

  #apply(zone: ZoneEntry, event: RefreshEvent): void {
    if (this.#zones.get(zone.name) !== zone) return; // removed meanwhile
    const previous = zone.state;
    const { state, effects } = step(previous, event, this.#clock.now(), { random: this.#random });
    zone.state = state;
    for (const effect of effects) this.#run(zone, effect);
    if (state !== previous && this.#onChange !== undefined) {
      try {
        this.#onChange(zone.name, state, previous);
      } catch (err) {
        this.#logger?.error({ zone: zone.name, err }, 'refresh onChange hook threw');
      }
    }
  }

  #run(zone: ZoneEntry, effect: Effect): void {
    switch (effect.type) {
      case 'checkSoa':
        this.#enqueue(zone, effect.primary === undefined ? { op: 'soa', zone } : { op: 'soa', zone, primary: effect.primary });
        break;
      case 'transfer': {
        const { kind, fromSerial, primary } = effect;
        this.#enqueue(zone, { op: 'transfer', zone, kind, ...(fromSerial === undefined ? {} : { fromSerial }), ...(primary === undefined ? {} : { primary }) });
        break;
      }
      case 'setTimer':
        this.#arm(zone, effect.at);
        break;
      case 'clearTimer':
        this.#disarm(zone);
        break;
      case 'abort':
        this.#abort(zone);
        break;
      case 'expire':
        try {
          this.#executor.expire(zone.config);
        } catch (err) {
          this.#logger?.error({ zone: zone.name, op: 'expire', err }, 'expiring the zone failed');
        }
        break;
      case 'log':
        this.#logger?.[effect.level]({ zone: zone.name, ...effect.fields }, effect.msg);
        break;
      case 'stateChanged':
        this.#logger?.info({ zone: zone.name, from: effect.from, to: effect.to }, `zone ${effect.to}`);
        break;
    }
  }

  // --- the zone's one timer -------------------------------------------------------------------

  /**
   * Fire the zone's timer at absolute time `at`. Node fires a setTimeout longer than 2^31-1 ms
   * (~24.8 days) after 1 ms, and a 28-day EXPIRE is legitimate, so long delays go in chunks; each
   * wake-up re-reads the clock, which also absorbs a wall clock stepped backwards.
   */
  #arm(zone: ZoneEntry, at: number): void {
    this.#disarm(zone);
    const delay = Math.min(Math.max(0, at - this.#clock.now()), MAX_TIMER_DELAY_MS);
    zone.timer = this.#clock.setTimeout(() => {
      zone.timer = null;
      if (this.#clock.now() < at) this.#arm(zone, at);
      else this.#dispatch(zone, { type: 'timer' });
    }, delay);
  }

  #disarm(zone: ZoneEntry): void {
    if (zone.timer !== null) this.#clock.clearTimeout(zone.timer);
    zone.timer = null;
  }

  // --- operations -----------------------------------------------------------------------------

  #enqueue(zone: ZoneEntry, job: Job): void {
    // The reducer never asks for a second operation while one runs; if it did, the newer wins.
    if (zone.op !== null) this.#abort(zone);
    const running: Running = { job, controller: new AbortController(), started: false, watchdog: null, settled: null };
    zone.op = running;
    this.#queues[job.op].push(running);
  }

  #pump(): void {
    if (this.#stopped) return;
    for (const op of ['soa', 'transfer'] as const) {
      const queue = this.#queues[op];
      while (this.#active[op] < this.#caps[op] && queue.length > 0) this.#launch(queue.shift() as Running);
    }
  }

  #launch(running: Running): void {
    const { job, controller } = running;
    const { signal } = controller;
    running.started = true;
    this.#active[job.op] += 1;
    const limit = job.op === 'soa' ? this.#soaTimeoutMs : job.zone.config.transferTimeout * 1000 + this.#transferGraceMs;
    running.watchdog = this.#clock.setTimeout(() => {
      running.watchdog = null;
      const message = `${job.op === 'soa' ? 'SOA check' : 'transfer'} still running after ${limit} ms`;
      controller.abort(new Error(message));
      // An executor that ignores its signal must not hold up stop() either.
      if (running.settled !== null) this.#settling.delete(running.settled);
      this.#finish(running, { ok: false, reason: 'ERR_WATCHDOG', message });
    }, limit);

    let promise: Promise<SoaResult | TransferResult>;
    try {
      promise =
        job.op === 'soa'
          ? this.#executor.checkSoa(job.zone.config, signal, job.primary)
          : this.#executor.transfer(job.zone.config, job.kind, job.fromSerial, signal, job.primary);
    } catch (err) {
      promise = Promise.reject(err);
    }
    const settled: Promise<void> = promise
      .then(
        (result) => this.#finish(running, result),
        (err: unknown) => this.#finish(running, failureFrom(err, signal)),
      )
      // Only a throwing hook (logger) lands here; never let it become an unhandled rejection.
      .catch(() => undefined);
    running.settled = settled;
    this.#settling.add(settled);
    void settled.finally(() => this.#settling.delete(settled));
  }

  /** An operation ended (result, rejection or watchdog): free its slot and tell the reducer, unless
   * it was aborted or superseded meanwhile, in which case its slot was already freed. */
  #finish(running: Running, result: SoaResult | TransferResult): void {
    const { job } = running;
    const zone = job.zone;
    if (zone.op !== running) return;
    this.#release(running);
    zone.op = null;
    const event: RefreshEvent = job.op === 'soa' ? { type: 'soaResult', result: result as SoaResult } : { type: 'transferResult', result: result as TransferResult };
    this.#dispatch(zone, event);
    this.#pump();
  }

  /** Abort the zone's operation, queued or running, and free its slot at once. */
  #abort(zone: ZoneEntry): void {
    const running = zone.op;
    if (running === null) return;
    zone.op = null;
    if (running.started) this.#release(running);
    else {
      const queue = this.#queues[running.job.op];
      queue.splice(queue.indexOf(running), 1);
    }
    running.controller.abort(new Error('refresh operation aborted'));
  }

  #release(running: Running): void {
    if (running.watchdog !== null) this.#clock.clearTimeout(running.watchdog);
    running.watchdog = null;
    this.#active[running.job.op] -= 1;
  }
}
