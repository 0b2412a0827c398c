// Outbound NOTIFY (RFC 1996 3.6, 3.7, 4.7; TSIG RFC 8945): after a new version of a zone is served,
// tell each of its `notify` targets over UDP, signed with the target's key when it has one, and
// retransmit with backoff until the target answers.
//
// Per target: one socket, attempts at 0, 2, 6, 14, 30 s (a 2 s wait doubling each time; RFC 1996
// suggests 60 s and 5 retransmissions, Knot retries after a few seconds: targets are usually near).
// A newer version of the zone replaces a NOTIFY still being retried for the same target. Nothing
// here blocks: each target runs on its own, and one log line says how it ended.

import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { formatHostPort } from '../config/address.js';
import type { NotifyTargetConfig, TsigKeyConfig } from '../config/types.js';
import { Class, Flag, Opcode, Rcode, Type } from '../wire/constants.js';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import type { ResourceRecord } from '../wire/record.js';
import { signMessage, TsigVerifier } from '../wire/tsig.js';

/** Enough of a pino logger. */
export interface NotifySenderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface NotifySenderOptions {
  keys(): ReadonlyMap<string, TsigKeyConfig>;
  logger: NotifySenderLogger;
  /** First wait for an answer (ms); doubles after each attempt. Default 2000. */
  timeoutMs?: number;
  /** Attempts per target (the first send included). Default 5. */
  attempts?: number;
  /** Unix seconds, for TSIG. */
  now?: () => number;
}

interface Job {
  cancelled: boolean;
  cancel(): void;
}

/** Outcome of one NOTIFY: answered (with its rcode), or not answered / failed. */
export type NotifyResult = 'ok' | 'refused' | 'timeout' | 'tsig' | 'error';

export class NotifySender {
  /** Results by name, for /metrics. */
  readonly counts: Record<NotifyResult, number> = { ok: 0, refused: 0, timeout: 0, tsig: 0, error: 0 };
  private readonly jobs = new Map<string, Job>();
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: NotifySenderOptions) {
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.attempts = o.attempts ?? 5;
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** NOTIFY `targets` that `zone` (wire name; `zoneText` for logs) is now at `soa`. Returns at once. */
  notify(zone: Buffer, zoneText: string, soa: ResourceRecord, targets: readonly NotifyTargetConfig[]): void {
    if (this.closed) return;
    for (const target of targets) {
      const id = `${zoneText} ${formatHostPort(target)}`;
      this.jobs.get(id)?.cancel();
      const job = this.start(zone, zoneText, soa, target);
      this.jobs.set(id, job);
    }
  }

  /** Number of NOTIFYs still waiting for an answer. */
  get pending(): number {
    return this.jobs.size;
  }

  /** Stop every retransmission (shutdown). */
  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) job.cancel();
    this.jobs.clear();
  }

  private start(zone: Buffer, zoneText: string, soa: ResourceRecord, target: NotifyTargetConfig): Job {
    const remote = formatHostPort(target);
    const serial = soa.rdata.readUInt32BE(soa.rdata.length - 20);
    const fields = { zone: zoneText, op: 'notify-out', remote, serial };
    const key = target.key === undefined ? undefined : this.o.keys().get(target.key);
    const socket = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let attempt = 0;
    // One message for every attempt (same ID, same signature: the TSIG fudge of 300 s outlasts the
    // retries), so a late answer to an earlier attempt counts too.
    const msgId = randomInt(0x10000);
    let raw = encodeMessage({
      id: msgId,
      flags: Flag.AA,
      opcode: Opcode.NOTIFY,
      rcode: 0,
      question: [{ name: zone, type: Type.SOA, class: Class.IN }],
      answer: [soa],
      authority: [],
      additional: [],
    });
    let verifier: TsigVerifier | undefined;
    if (key !== undefined) {
      const s = signMessage(raw, key, this.now());
      raw = s.signed;
      verifier = new TsigVerifier(key, s.mac, this.now);
    }
    const jobKey = `${zoneText} ${remote}`;
    const job: Job = {
      cancelled: false,
      cancel: () => {
        if (job.cancelled) return;
        job.cancelled = true;
        clearTimeout(timer);
        socket.close();
        if (this.jobs.get(jobKey) === job) this.jobs.delete(jobKey);
      },
    };
    const end = (result: NotifyResult, extra: object, msg: string): void => {
      if (job.cancelled) return;
      this.counts[result]++;
      const log = { ...fields, attempts: attempt, durationMs: Math.round(performance.now() - started), ...extra };
      if (result === 'ok') this.o.logger.info(log, msg);
      else this.o.logger.warn(log, msg);
      job.cancel();
    };
    const send = (): void => {
      if (job.cancelled) return;
      if (attempt >= this.attempts) return end('timeout', {}, 'NOTIFY not answered');
      attempt++;
      socket.send(raw, target.port, target.host, (err) => {
        if (err) end('error', { err }, 'NOTIFY not sent');
      });
      timer = setTimeout(send, this.timeoutMs * 2 ** (attempt - 1));
    };
    socket.on('message', (reply, rinfo) => {
      if (rinfo.port !== target.port) return;
      let m;
      try {
        m = decodeMessage(reply);
      } catch {
        return; // not an answer we can read: keep waiting
      }
      if (m.id !== msgId || !(m.flags & Flag.QR) || m.opcode !== Opcode.NOTIFY) return;
      if (verifier !== undefined) {
        try {
          verifier.verify(reply, m.tsig);
          verifier.finish();
        } catch (err) {
          return end('tsig', { err }, 'NOTIFY answer failed its TSIG check');
        }
      }
      if (m.rcode !== Rcode.NOERROR) return end('refused', { rcode: m.rcode }, 'NOTIFY refused by the target');
      end('ok', {}, 'NOTIFY answered');
    });
    socket.on('error', (err) => end('error', { err }, 'NOTIFY socket error'));
    if (key === undefined && target.key !== undefined) {
      queueMicrotask(() => end('error', { key: target.key }, 'NOTIFY not sent: unknown key'));
    } else {
      send();
    }
    return job;
  }
}
