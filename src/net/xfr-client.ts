// The network side of refresh: SOA checks over UDP (TCP when truncated) and IXFR/AXFR over TCP to the
// zone's primaries, with TSIG, timeouts, limits and abort (RFC 1034 4.3.5, RFC 1995, RFC 5936,
// RFC 7766, RFC 8945). It implements the refresh Executor; the protocol logic is in src/xfr.
//
// Primaries are tried in order (the one named by a NOTIFY or an SOA check first). An IXFR that the
// primary refuses, does not implement, or answers with diffs that do not apply falls back to AXFR
// from the same primary. A new zone is published only when the whole transfer checked out.

import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { formatHostPort } from '../config/address.js';
import type { Config, PrimaryConfig, TsigKeyConfig, ZoneConfig } from '../config/types.js';
import type { Executor, SoaResult, TransferKind, TransferResult } from '../refresh/types.js';
import { WireFormatError } from '../wire/errors.js';
import { encodeMessage, type Message } from '../wire/message.js';
import { nameFromText } from '../wire/name.js';
import { frame, TcpFramer } from '../wire/tcp-framer.js';
import { signMessage, TsigVerifier } from '../wire/tsig.js';
import { AxfrSession } from '../xfr/axfr-client.js';
import { TransferError, type FailureReason, type MessageVerifier } from '../xfr/errors.js';
import { IxfrSession } from '../xfr/ixfr-client.js';
import { axfrQuery, ixfrQuery, soaQuery, soaRecordOf } from '../xfr/request.js';
import { checkSoaResponse, soaFields } from '../xfr/soa-check.js';
import type { Changeset } from '../zone/changeset.js';
import { firstRdata } from '../zone/node.js';
import type { Zone } from '../zone/zone.js';

/** Where the executor reads and publishes zones, and reports each transfer. */
export interface ZoneSink {
  current(zone: ZoneConfig): Zone | undefined;
  publish(zone: ZoneConfig, snapshot: Zone, info: TransferInfo): void;
  expire(zone: ZoneConfig): void;
}

export interface TransferInfo {
  kind: 'AXFR' | 'IXFR';
  primary: string;
  serial: number;
  records: number;
  bytes: number;
  messages: number;
  durationMs: number;
  /** The IXFR that was asked for and why it became an AXFR, when it did. */
  fallback?: string;
  /** For an IXFR, the changesets applied (oldest first): the store appends them to its journal. */
  changesets?: Changeset[];
}

export interface XfrClientOptions {
  /** One UDP SOA query's wait before trying again / the next primary (ms). */
  soaTimeoutMs?: number;
  /** UDP attempts per primary before moving on. */
  soaAttempts?: number;
  /** Wall clock in unix seconds, for TSIG. */
  now?: () => number;
}

/** IXFR failures after which AXFR from the same primary is worth a try (RFC 1995 4). */
const FALLBACK: ReadonlySet<FailureReason> = new Set(['refused', 'notimp', 'formerr', 'servfail', 'notauth', 'inconsistent-ixfr', 'serial-mismatch', 'malformed', 'bad-first-record']);

export class XfrClient implements Executor {
  private readonly keys: Map<string, TsigKeyConfig>;
  private readonly soaTimeoutMs: number;
  private readonly soaAttempts: number;
  private readonly now: () => number;

  constructor(
    config: Config,
    private readonly sink: ZoneSink,
    opts: XfrClientOptions = {},
  ) {
    this.keys = new Map(config.keys.map((k) => [k.name, k]));
    this.soaTimeoutMs = opts.soaTimeoutMs ?? 2000;
    this.soaAttempts = opts.soaAttempts ?? 2;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Keys change on reload; the executor follows the running config. */
  setConfig(config: Config): void {
    this.keys.clear();
    for (const k of config.keys) this.keys.set(k.name, k);
  }

  async checkSoa(zone: ZoneConfig, signal: AbortSignal, first?: string): Promise<SoaResult> {
    const origin = nameFromText(zone.name);
    let last: TransferError | undefined;
    for (const p of ordered(zone.primaries, first)) {
      const primary = formatHostPort(p);
      try {
        const serial = await this.soaOnce(origin, p, signal);
        return { ok: true, serial, primary };
      } catch (err) {
        last = asTransferError(err);
        if (signal.aborted) break;
      }
    }
    return failure(last ?? new TransferError('timeout', 'no primary configured'));
  }

  async transfer(zone: ZoneConfig, kind: TransferKind, fromSerial: number | undefined, signal: AbortSignal, first?: string): Promise<TransferResult> {
    const origin = nameFromText(zone.name);
    let last: TransferError | undefined;
    let lastPrimary: string | undefined;
    for (const p of ordered(zone.primaries, first)) {
      const primary = formatHostPort(p);
      lastPrimary = primary;
      const current = this.sink.current(zone);
      let fallback: string | undefined;
      if (kind === 'IXFR' && current !== undefined && (fromSerial === undefined || current.serial === fromSerial)) {
        try {
          const started = Date.now();
          let session: IxfrSession | undefined;
          await this.exchange(zone, p, (id, verifier) => {
            session = new IxfrSession({ ...this.limits(zone, origin), id, current, ...(verifier ? { verifier } : {}) });
            return ixfrQuery(origin, id, soaRecordOf(current));
          }, (raw) => session!.push(raw), this.keyOf(p), signal);
          const result = session!.result();
          if (result.kind === 'UPTODATE') return { ok: true, kind: 'UPTODATE', serial: current.serial, soa: soaFields(firstRdata(current.soa)), primary };
          const snapshot = result.zone!;
          this.sink.publish(zone, snapshot, {
            kind: result.kind,
            primary,
            serial: snapshot.serial,
            records: result.records,
            bytes: result.bytes,
            messages: result.messages,
            durationMs: Date.now() - started,
            ...(result.kind === 'IXFR' ? { changesets: result.changesets } : {}),
          });
          return { ok: true, kind: result.kind, serial: snapshot.serial, soa: soaFields(firstRdata(snapshot.soa)), primary };
        } catch (err) {
          const e = asTransferError(err);
          if (signal.aborted || !FALLBACK.has(e.reason)) {
            last = e;
            continue;
          }
          fallback = `IXFR failed (${e.reason}: ${e.message}), falling back to AXFR`;
        }
      }
      try {
        const started = Date.now();
        let session: AxfrSession | undefined;
        await this.exchange(zone, p, (id, verifier) => {
          session = new AxfrSession({ ...this.limits(zone, origin), id, ...(verifier ? { verifier } : {}) });
          return axfrQuery(origin, id);
        }, (raw, deadline) => session!.push(raw, deadline), this.keyOf(p), signal);
        const result = session!.result();
        this.sink.publish(zone, result.zone, { kind: 'AXFR', primary, serial: result.serial, records: result.records, bytes: result.bytes, messages: result.messages, durationMs: Date.now() - started, ...(fallback ? { fallback } : {}) });
        return { ok: true, kind: 'AXFR', serial: result.serial, soa: soaFields(firstRdata(result.zone.soa)), primary };
      } catch (err) {
        last = asTransferError(err);
        if (signal.aborted) break;
      }
    }
    return failure(last ?? new TransferError('timeout', 'no primary configured'), lastPrimary);
  }

  expire(zone: ZoneConfig): void {
    this.sink.expire(zone);
  }

  private limits(zone: ZoneConfig, origin: Buffer): { zone: Buffer; maxRecords: number; maxBytes: number } {
    return { zone: origin, maxRecords: zone.maxTransferRecords, maxBytes: zone.maxTransferBytes };
  }

  private keyOf(p: PrimaryConfig): TsigKeyConfig | undefined {
    if (p.key === undefined) return undefined;
    const key = this.keys.get(p.key);
    if (key === undefined) throw new TransferError('tsig', `key ${p.key} is not defined`);
    return key;
  }

  /** Sign `msg` when there is a key; returns the bytes and a verifier for the answer. */
  private prepare(msg: Message, key: TsigKeyConfig | undefined): { bytes: Buffer; verifier?: MessageVerifier } {
    const bytes = encodeMessage(msg);
    if (key === undefined) return { bytes };
    const { signed, mac } = signMessage(bytes, key, this.now());
    const v = new TsigVerifier(key, mac, this.now);
    return {
      bytes: signed,
      verifier: {
        verify: (raw, m) => v.verify(raw, m.tsig),
        finish: () => v.finish(),
      },
    };
  }

  /** One SOA query to one primary: UDP (retried), then TCP if the answer is truncated. */
  private async soaOnce(origin: Buffer, p: PrimaryConfig, signal: AbortSignal): Promise<number> {
    const key = this.keyOf(p);
    let truncated = false;
    for (let attempt = 0; attempt < this.soaAttempts && !truncated; attempt++) {
      const id = randomInt(65536);
      const { bytes, verifier } = this.prepare(soaQuery(origin, id), key);
      const raw = await udpExchange(p, bytes, id, this.soaTimeoutMs, signal).catch((err: unknown) => {
        if (err instanceof TransferError && err.reason === 'timeout' && attempt + 1 < this.soaAttempts) return null;
        throw err;
      });
      if (raw === null) continue;
      const r = checkSoaResponse(raw, { zone: origin, id, ...(verifier ? { verifier } : {}) });
      if (r.truncated) truncated = true;
      else return r.serial;
    }
    const id = randomInt(65536);
    const { bytes, verifier } = this.prepare(soaQuery(origin, id), key);
    let serial = -1;
    await tcpExchange(p, bytes, this.soaTimeoutMs * 2, this.soaTimeoutMs * 2, signal, (raw) => {
      const r = checkSoaResponse(raw, { zone: origin, id, ...(verifier ? { verifier } : {}) });
      if (r.truncated) throw new TransferError('truncated', 'SOA answer truncated over TCP');
      serial = r.serial;
      return 'done';
    });
    return serial;
  }

  /** A transfer over TCP: build the request (given its ID and verifier), feed each answer message. */
  private async exchange(
    zone: ZoneConfig,
    p: PrimaryConfig,
    request: (id: number, verifier: MessageVerifier | undefined) => Message,
    onMessage: OnMessage,
    key: TsigKeyConfig | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const id = randomInt(65536);
    // The verifier needs the request MAC, which exists only once the request is signed; the session
    // needs the verifier. So: build, sign, then hand the verifier over through a forwarding object.
    let inner: MessageVerifier | undefined;
    const forward: MessageVerifier | undefined = key ? { verify: (raw, m) => inner!.verify(raw, m), finish: () => inner!.finish() } : undefined;
    const msg = request(id, forward);
    const prepared = this.prepare(msg, key);
    inner = prepared.verifier;
    await tcpExchange(p, prepared.bytes, zone.transferIdleTimeout * 1000, zone.transferTimeout * 1000, signal, onMessage);
  }
}

function ordered(primaries: readonly PrimaryConfig[], first: string | undefined): PrimaryConfig[] {
  if (first === undefined) return [...primaries];
  const i = primaries.findIndex((p) => formatHostPort(p) === first);
  return i <= 0 ? [...primaries] : [primaries[i]!, ...primaries.slice(0, i), ...primaries.slice(i + 1)];
}

function asTransferError(err: unknown): TransferError {
  if (err instanceof TransferError) return err;
  // The TCP framer's verdict on the primary's stream (zero-length or oversize frame): a broken answer, not a network failure.
  if (err instanceof WireFormatError) return new TransferError('malformed', `undecodable TCP stream: ${err.message}`, undefined, { cause: err });
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'TsigError' || (typeof e?.code === 'string' && e.code.startsWith('ERR_TSIG'))) return new TransferError('tsig', e.message, undefined, { cause: err });
  if (e?.name === 'AbortError') return new TransferError('timeout', 'aborted', undefined, { cause: err });
  return new TransferError('unreachable', e?.message ?? String(err), undefined, { cause: err });
}

function failure(e: TransferError, primary?: string): SoaResult & TransferResult & { ok: false } {
  return { ok: false, reason: e.reason, message: e.message, ...(primary !== undefined ? { primary } : {}) };
}

/** One UDP query; answers with another ID are ignored (RFC 5452), only a match or the timeout ends it. (Also used by `secondaryd doctor`.) */
export function udpExchange(p: PrimaryConfig, bytes: Buffer, id: number, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(p.family === 6 ? 'udp6' : 'udp4');
    const done = (err: Error | null, raw?: Buffer): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err);
      else resolve(raw!);
    };
    const onAbort = (): void => done(new TransferError('timeout', 'aborted'));
    const timer = setTimeout(() => done(new TransferError('timeout', `no answer from ${formatHostPort(p)} in ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => done(new TransferError('unreachable', err.message)));
    sock.on('message', (raw, rinfo) => {
      if (raw.length < 2 || raw.readUInt16BE(0) !== id || rinfo.port !== p.port) return;
      done(null, raw);
    });
    sock.connect(p.port, p.host, () => sock.send(bytes));
  });
}

/** Handles one answer message of a TCP exchange (see tcpExchange). */
export type OnMessage = (raw: Buffer, deadline: number) => 'more' | 'done' | 'paused';

/**
 * Work between two turns of the event loop while a transfer is parsed and built (ms). libuv reads at
 * most 32 datagrams per socket per turn, so the slice bounds the query rate a transfer leaves room
 * for: 32 queries per (slice + their own time), about 35k/s per socket at 0.5 ms.
 */
const SLICE_MS = 0.5;

/**
 * Send one framed request over TCP and feed every framed answer to `onMessage` until it says 'done'.
 * Work is done in slices of SLICE_MS, with a turn of the event loop between them: `onMessage` gets
 * the slice's deadline and may return 'paused' to be called again with the same message.
 * Times out when nothing arrives for `idleMs` or the whole exchange takes longer than `totalMs`.
 */
export function tcpExchange(p: PrimaryConfig, request: Buffer, idleMs: number, totalMs: number, signal: AbortSignal, onMessage: OnMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    const framer = new TcpFramer();
    const sock = net.connect({ host: p.host, port: p.port, noDelay: true });
    let finished = false;
    const finish = (err: Error | null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(total);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => finish(new TransferError('timeout', 'aborted'));
    const total = setTimeout(() => finish(new TransferError('timeout', `transfer from ${formatHostPort(p)} took longer than ${totalMs} ms`)), totalMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.setTimeout(idleMs, () => finish(new TransferError('timeout', `nothing from ${formatHostPort(p)} for ${idleMs} ms`)));
    sock.on('connect', () => sock.write(frame(request)));
    sock.on('error', (err) => finish(new TransferError('unreachable', `${formatHostPort(p)}: ${err.message}`)));
    sock.on('end', () => finish(new TransferError('truncated', `${formatHostPort(p)} closed the connection mid-transfer`)));
    const queue: Buffer[] = [];
    let scheduled = false;
    const drain = (): void => {
      scheduled = false;
      if (finished) return;
      const deadline = performance.now() + SLICE_MS;
      try {
        while (queue.length > 0) {
          const r = onMessage(queue[0]!, deadline);
          if (r === 'paused') break;
          queue.shift();
          if (r === 'done') {
            finish(null);
            return;
          }
          if (performance.now() > deadline) break;
        }
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (queue.length > 0) {
        scheduled = true;
        setImmediate(drain);
      } else sock.resume();
    };
    sock.on('data', (chunk) => {
      try {
        for (const raw of framer.push(chunk)) queue.push(raw);
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (queue.length > 0) {
        sock.pause();
        if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      }
    });
  });
}
