// Alert delivery: a JSON POST to the webhook and/or a /bin/sh command, per the zone's `alerts` settings.
//
// send() only queues; nothing it does can block, throw or reject. Deliveries run in the background with
// bounded concurrency and a bounded queue:
// - One FIFO per target (the webhook URL, the command string), processed one alert at a time, so a
//   receiver sees a zone's "failing" before its "recovered". A target's retries hold back its later
//   alerts (they wait rather than overtake); other targets are not held back.
// - At most `maxInFlight` deliveries at once (targets), at most `maxQueued` alerts waiting in all; when
//   full, the oldest waiting alert is dropped (counted, and a warning once per burst).
// - Webhook failures are retried like Alertmanager does: network errors, timeouts and 5xx, plus 408
//   and 429 (the receiver asks us to come back), with backoff base, 2 base, 4 base ... capped (1s ... 5m);
//   a Retry-After on 429/503 stretches the wait (up to the cap). Any other 4xx, and 3xx (redirects are
//   not followed: a POST turned into a GET would "succeed" without delivering anything), will fail the
//   same way again, so they are given up on at once.
// - Commands are never retried: a command may have side effects (a page sent, a ticket opened) and
//   fail afterwards; running it again could repeat them. Its exit status is the only signal we get.
//   It runs in a process group of its own, so that a timeout (SIGTERM, SIGKILL after a grace) also ends
//   what it started; its fields are in SECONDARYD_* variables, each cut at 16 KiB (stdin has it all).
// - Logs (op "alert", zone, event, remote or command): a failed POST that will be retried at warn, the
//   giving up at error, a failed command at error with the tail of its stderr, a delivery at info.
//   user:password in a webhook URL is sent as basic auth and kept out of the logs.
// - close() gives what is queued or in flight a bounded time, then aborts it (shutdown must be quick).

import { spawn } from 'node:child_process';
import type { AlertSettings } from '../config/types.js';

/** What an alert is: a plain JSON-able object (alerts.ts defines the daemon's); every field of it is
 * serialized. */
export interface AlertDocument {
  readonly event: string;
  readonly zone: string;
  readonly message: string;
}

/** Where alerts go: the part of a zone's AlertSettings this reads (durations in seconds). */
export type AlertTargets = Pick<AlertSettings, 'webhook' | 'webhookTimeout' | 'webhookRetries' | 'command' | 'commandTimeout'>;

/** A pino Logger fits. */
export interface AlertLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AlertNotifierOptions {
  logger: AlertLogger;
  /** First retry delay of a webhook POST; doubles per retry. Default 1000. */
  backoffBaseMs?: number;
  /** Longest retry delay. Default 300000 (5 min). */
  backoffCapMs?: number;
  /** Deliveries (targets) in flight at once. Default 4. */
  maxInFlight?: number;
  /** Alerts waiting, all targets together. Default 1000. */
  maxQueued?: number;
  /** Between SIGTERM and SIGKILL of a command that timed out. Default 2000. */
  killGraceMs?: number;
  /** The User-Agent of webhook requests: the daemon gives `secondaryd/<version>`. Default `secondaryd`. */
  userAgent?: string;
}

export type AlertTargetKind = 'webhook' | 'command';
export type AlertResult = 'ok' | 'failed' | 'dropped';

interface Job {
  readonly kind: AlertTargetKind;
  /** The webhook URL or the command string. */
  readonly target: string;
  /** One FIFO per key. */
  readonly key: string;
  readonly alert: AlertDocument;
  readonly body: string;
  /** Seconds. */
  readonly timeout: number;
  readonly retries: number;
}

const STDERR_TAIL = 500;

/** `primarySerial`, `primary-serial`, `lastSOASerial` -> `SECONDARYD_PRIMARY_SERIAL`, ..., `SECONDARYD_LAST_SOA_SERIAL`. */
export function envName(field: string): string {
  const snake = field
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return `SECONDARYD_${snake}`;
}

/** Longest value of one variable: Linux refuses an exec with a string over 128 KiB (E2BIG), and all of them together share 2 MiB or so. */
const ENV_VALUE_MAX = 16 * 1024;

/**
 * The alert's top-level fields as environment variables: scalars as text (null: empty), objects and
 * arrays as JSON, each cut at 16 KiB (stdin has the whole document).
 */
export function alertEnv(alert: AlertDocument): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(alert)) {
    let s: string;
    if (v === null) s = '';
    else if (typeof v === 'string') s = v;
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') s = String(v);
    else if (typeof v === 'object') s = JSON.stringify(v) ?? '';
    else continue; // undefined, functions, symbols: not in the JSON either
    env[envName(k)] = s.replace(/\0/g, '').slice(0, ENV_VALUE_MAX); // a NUL cannot be in the environment
  }
  return env;
}

/**
 * The URL to POST to and its headers: user:password in the URL become a basic Authorization header
 * (fetch refuses URLs with credentials; curl and Go's client take them), and stay out of the logs.
 */
export function webhookRequest(url: string): { url: string; authorization: string | null } | Error {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new Error('not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return new Error(`not an http(s) URL: ${u.protocol}`);
  if (u.username === '' && u.password === '') return { url: u.toString(), authorization: null };
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization };
}

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Seconds of a Retry-After header (delta-seconds or an HTTP date), or null. */
function retryAfterMs(value: string | null): number | null {
  if (value === null) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** Resolves when `p` settles or after `ms`, whichever is first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export class AlertNotifier {
  private readonly log: AlertLogger;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly killGraceMs: number;
  private readonly userAgent: string;

  /** Waiting, oldest first, all targets together. */
  private pending: Job[] = [];
  /** Key -> the delivery in flight for that target. */
  private readonly active = new Map<string, Promise<void>>();
  private readonly counters: Record<string, number> = {};
  /** Aborted by close() when its time is up: stops retries, POSTs in flight, and commands. */
  private readonly abort = new AbortController();
  private closed = false;
  private pumpScheduled = false;
  /** Alerts dropped in the current overflow burst (0: not in one). */
  private burstDropped = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: AlertNotifierOptions) {
    this.log = options.logger;
    this.backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.backoffCapMs = options.backoffCapMs ?? 300_000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.maxQueued = Math.max(1, options.maxQueued ?? 1000);
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.userAgent = options.userAgent ?? 'secondaryd';
    for (const kind of ['webhook', 'command'] as const) for (const result of ['ok', 'failed', 'dropped'] as const) this.counters[`${kind}:${result}`] = 0;
  }

  /** Deliveries by target kind and result, keyed `webhook:ok`, `command:dropped`, ... (all six always present). */
  stats(): Record<string, number> {
    return { ...this.counters };
  }

  /** Alerts waiting plus deliveries in flight. */
  get backlog(): number {
    return this.pending.length + this.active.size;
  }

  /** Queues the alert for the webhook and/or the command of `settings` (neither: nothing). Returns at once; never throws. */
  send(alert: AlertDocument, settings: AlertTargets): void {
    try {
      this.enqueue(alert, settings);
    } catch (e) {
      // Only a document that is not JSON (a cycle, a BigInt) gets here.
      this.log.error({ op: 'alert', zone: alert?.zone, event: alert?.event, err: errorOf(e) }, 'cannot send alert');
    }
  }

  private enqueue(alert: AlertDocument, settings: AlertTargets): void {
    const jobs: Job[] = [];
    let body: string | null = null;
    const json = (): string => (body ??= JSON.stringify(alert));
    if (settings.webhook) {
      jobs.push({ kind: 'webhook', target: settings.webhook, key: `webhook ${settings.webhook}`, alert, body: json(), timeout: settings.webhookTimeout, retries: settings.webhookRetries });
    }
    if (settings.command) {
      jobs.push({ kind: 'command', target: settings.command, key: `command ${settings.command}`, alert, body: json(), timeout: settings.commandTimeout, retries: 0 });
    }
    for (const job of jobs) {
      if (this.closed) {
        this.count(job, 'dropped');
        this.log.warn({ op: 'alert', zone: alert.zone, event: alert.event }, 'alert not delivered: shutting down');
        continue;
      }
      if (this.pending.length >= this.maxQueued) this.dropOldest();
      this.pending.push(job);
    }
    if (jobs.length > 0) this.schedulePump();
  }

  private dropOldest(): void {
    const old = this.pending.shift()!;
    this.count(old, 'dropped');
    if (this.burstDropped++ === 0) {
      this.log.warn({ op: 'alert', zone: old.alert.zone, event: old.alert.event }, `alert queue full (${this.maxQueued} waiting): dropping the oldest alerts`);
    }
  }

  private count(job: Job, result: AlertResult): void {
    this.counters[`${job.kind}:${result}`]!++;
  }

  /** Deliveries start from a later turn of the event loop: spawn() takes milliseconds, send() must not. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts the oldest waiting alert of each idle target, while there is room. */
  private pump(): void {
    for (let i = 0; i < this.pending.length && this.active.size < this.maxInFlight; ) {
      const job = this.pending[i]!;
      if (this.active.has(job.key)) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      this.start(job);
    }
    // A burst ends once the queue has room to spare again.
    if (this.burstDropped > 0 && this.pending.length <= this.maxQueued / 2) {
      this.log.warn({ op: 'alert', dropped: this.burstDropped }, `alert queue overflow over: ${this.burstDropped} alerts dropped`);
      this.burstDropped = 0;
    }
    if (this.pending.length === 0 && this.active.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private start(job: Job): void {
    const run = (job.kind === 'webhook' ? this.deliverWebhook(job) : this.runCommand(job))
      .then((ok) => this.count(job, ok ? 'ok' : 'failed'))
      .catch((e: unknown) => {
        // Not expected: the deliverers catch what they can meet.
        this.count(job, 'failed');
        this.log.error({ op: 'alert', zone: job.alert.zone, event: job.alert.event, err: errorOf(e) }, 'alert delivery failed');
      })
      .finally(() => {
        this.active.delete(job.key);
        this.pump();
      });
    this.active.set(job.key, run);
  }

  private async deliverWebhook(job: Job): Promise<boolean> {
    const signal = this.abort.signal;
    const request = webhookRequest(job.target);
    if (request instanceof Error) {
      this.log.error({ op: 'alert', zone: job.alert.zone, event: job.alert.event, attempt: 1, err: request }, 'alert webhook failed, not retrying');
      return false;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': this.userAgent };
    if (request.authorization !== null) headers.authorization = request.authorization;
    const fields = { op: 'alert', zone: job.alert.zone, event: job.alert.event, remote: request.url };
    const attempts = job.retries + 1;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      let err: Error;
      let retryable = true;
      let wait: number | null = null;
      // One controller per attempt, fired by the timeout or by close() (AbortSignal.any() on the
      // notifier's lifelong signal would pile up dependants on it).
      const attemptAbort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        attemptAbort.abort();
      }, job.timeout * 1000);
      const onClose = (): void => attemptAbort.abort();
      signal.addEventListener('abort', onClose, { once: true });
      try {
        const res = await fetch(request.url, { method: 'POST', headers, body: job.body, redirect: 'manual', signal: attemptAbort.signal });
        if (res.status >= 200 && res.status < 300) {
          await res.body?.cancel().catch(() => {});
          this.log.info({ ...fields, attempt, durationMs: Math.round(performance.now() - started) }, 'alert delivered to webhook');
          return true;
        }
        const text = await res.text().catch(() => '');
        err = new Error(`HTTP ${res.status}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`);
        retryable = res.status >= 500 || res.status === 408 || res.status === 429;
        if (res.status === 429 || res.status === 503) wait = retryAfterMs(res.headers.get('retry-after'));
      } catch (e) {
        const error = errorOf(e);
        if (signal.aborted) err = new Error('aborted at shutdown');
        else if (timedOut) err = new Error(`no response within ${job.timeout}s`);
        else err = error.cause instanceof Error ? new Error(`${error.message}: ${error.cause.message}`) : error; // fetch's "fetch failed" says little
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onClose);
      }
      const durationMs = Math.round(performance.now() - started);
      if (signal.aborted || !retryable || attempt >= attempts) {
        this.log.error({ ...fields, attempt, durationMs, err }, signal.aborted || !retryable ? 'alert webhook failed, not retrying' : `alert webhook failed ${attempt} times, giving up`);
        return false;
      }
      const backoff = Math.min(this.backoffBaseMs * 2 ** (attempt - 1), this.backoffCapMs);
      const delay = Math.min(Math.max(backoff, wait ?? 0), this.backoffCapMs);
      this.log.warn({ ...fields, attempt, durationMs, err, retryInMs: delay }, 'alert webhook failed, will retry');
      await sleep(delay, signal);
      if (signal.aborted) {
        this.log.error({ ...fields, attempt, err: new Error('aborted at shutdown') }, 'alert webhook failed, not retrying');
        return false;
      }
    }
  }

  private runCommand(job: Job): Promise<boolean> {
    const fields = { op: 'alert', zone: job.alert.zone, event: job.alert.event, command: job.target };
    const started = performance.now();
    return new Promise<boolean>((resolve) => {
      let child: ReturnType<typeof spawn>;
      try {
        // Its own process group, so that a timeout kills what the shell started too.
        child = spawn('/bin/sh', ['-c', job.target], { env: { ...process.env, ...alertEnv(job.alert) }, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
      } catch (e) {
        this.log.error({ ...fields, err: errorOf(e) }, 'cannot run alert command');
        resolve(false);
        return;
      }
      let tail = Buffer.alloc(0);
      let timedOut = false;
      let aborted = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      let drainTimer: NodeJS.Timeout | undefined;
      const signal = this.abort.signal;

      const killGroup = (sig: NodeJS.Signals): void => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          child.kill(sig);
        }
      };
      const terminate = (): void => {
        killGroup('SIGTERM');
        killTimer ??= setTimeout(() => killGroup('SIGKILL'), this.killGraceMs);
        if (aborted) killTimer.unref(); // at shutdown: do not keep the daemon alive for it
      };
      const timeout = setTimeout(() => {
        timedOut = true;
        terminate();
      }, job.timeout * 1000);
      const onAbort = (): void => {
        aborted = true;
        terminate();
      };
      signal.addEventListener('abort', onAbort, { once: true });

      const finish = (code: number | null, sig: NodeJS.Signals | null, spawnError?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        clearTimeout(drainTimer);
        signal.removeEventListener('abort', onAbort);
        const durationMs = Math.round(performance.now() - started);
        const stderr = tail.toString('utf8').replace(/^\uFFFD/, '').trim();
        if (spawnError === undefined && code === 0 && !timedOut && !aborted) {
          this.log.info({ ...fields, durationMs }, 'alert command succeeded');
          resolve(true);
          return;
        }
        const err =
          spawnError ??
          new Error(
            aborted ? 'aborted at shutdown' : timedOut ? `timed out after ${job.timeout}s, killed` : code !== null ? `exited with status ${code}` : `killed by ${sig}`,
          );
        this.log.error({ ...fields, durationMs, exitCode: code, signal: sig, stderr, err }, 'alert command failed');
        resolve(false);
      };

      child.on('error', (e) => finish(null, null, e));
      child.stderr!.on('data', (chunk: Buffer) => {
        tail = Buffer.concat([tail, chunk]);
        if (tail.length > STDERR_TAIL) tail = tail.subarray(tail.length - STDERR_TAIL);
      });
      child.stderr!.on('error', () => {});
      // 'close' waits for stderr to be drained; something the command left running in the background may
      // hold it open, so give up on the rest of its stderr shortly after the exit.
      child.on('exit', () => {
        drainTimer = setTimeout(() => child.stderr!.destroy(), 500);
      });
      child.on('close', (code, sig) => finish(code, sig));
      // A command that does not read its stdin makes the write fail with EPIPE: that is fine.
      child.stdin!.on('error', () => {});
      child.stdin!.end(job.body + '\n');
    });
  }

  /** Resolves once nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (this.pending.length === 0 && this.active.size === 0 && !this.pumpScheduled) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Stops accepting alerts and lets what is queued or in flight go on for up to `timeoutMs`; then
   * aborts POSTs and retries, terminates commands, and drops what is still queued. Resolves within
   * about `timeoutMs` + 100 ms whatever the receivers do.
   */
  async close(timeoutMs = 1500): Promise<void> {
    this.closed = true;
    await within(this.idle(), timeoutMs);
    if (this.pending.length === 0 && this.active.size === 0) return;
    const left = this.pending;
    this.pending = [];
    for (const job of left) this.count(job, 'dropped');
    if (left.length > 0) this.log.warn({ op: 'alert', dropped: left.length }, `${left.length} queued alerts dropped at shutdown`);
    this.abort.abort();
    // The aborted deliveries settle (and log) within a few ticks; commands may take the kill grace.
    await within(Promise.allSettled([...this.active.values()]), 100);
  }
}
