// The HTTP endpoint (server.http): /metrics (Prometheus text format 0.0.4), /healthz, /status.

import http from 'node:http';
import type { HostPort } from '../config/address.js';
import { CONDITIONS, type Health, type ZoneStatus } from './status.js';

/** What the endpoint reads, on each request. */
export interface MonitorSource {
  status(): ZoneStatus[];
  counters(): ServerCounters;
}

/** Upper bounds (seconds) of the transfer duration histogram's buckets. */
export const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300] as const;

/** A Prometheus histogram: counts per bucket (not cumulative here), sum and count. */
export class Histogram {
  readonly counts = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(value: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS.length && value > DURATION_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export interface ServerCounters {
  /** DNS queries received, by transport. */
  queries: { udp: number; tcp: number };
  cacheHits: number;
  malformed: number;
  dropped: number;
  /** Responses by "transport:RCODE" ("udp:NOERROR"). */
  responses: Record<string, number>;
  /** Client TCP connections open now. */
  tcpConnections: number;
  /** Inbound transfers by "KIND:result" (AXFR, IXFR; ok, failed). */
  transfers: Record<string, number>;
  /** Bytes received by successful transfers, and their durations, by kind. */
  transferBytes: Record<string, number>;
  transferDurations: Record<string, Histogram>;
  notifies: Record<string, number>;
  /** Outbound transfers by "KIND:result" (ok, refused, aborted, udp-soa ...) and NOTIFYs sent by result. */
  transfersOut: Record<string, number>;
  notifiesSent: Record<string, number>;
  /** Alerts raised, by event, and their deliveries by "target:result" (webhook:ok, command:failed ...). */
  alerts: Record<string, number>;
  deliveries: Record<string, number>;
}

const STATES = ['loading', 'fresh', 'refreshing', 'retrying', 'expired', 'loaded', 'failed'] as const;
const HEALTHS: readonly Health[] = ['fresh', 'loading', 'stale', 'failing', 'expired'];

/** Label values are quoted with \\, " and newline escaped (exposition format). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}` from pairs. */
function labels(...pairs: [string, string][]): string {
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${label(v)}"`).join(',')}}`;
}

/** "a:b" keyed counters as rows labelled `names`. */
function split(counts: Record<string, number>, ...names: string[]): [string, number][] {
  return Object.entries(counts).map(([k, n]) => [labels(...k.split(':').map((v, i): [string, string] => [names[i]!, v])), n]);
}

export function renderMetrics(zones: ZoneStatus[], c: ServerCounters, now: number): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter' | 'histogram', help: string, rows: [string, number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, value] of rows) out.push(`${name}${l} ${value}`);
  };
  const z = (s: ZoneStatus, ...more: [string, string][]): string => labels(['zone', s.zone], ...more);
  const secondaries = zones.filter((s) => s.kind === 'secondary');
  family('secondaryd_zone_serial', 'gauge', 'SOA serial served (absent while nothing is served).', zones.filter((s) => s.serial !== null).map((s) => [z(s), s.serial!]));
  family('secondaryd_zone_primary_serial', 'gauge', 'SOA serial last seen on a primary.', zones.filter((s) => s.primarySerial !== null).map((s) => [z(s), s.primarySerial!]));
  family(
    'secondaryd_zone_primary_lag_seconds',
    'gauge',
    'Seconds a primary has had a newer serial than the one served (0: current).',
    secondaries.map((s) => [z(s), s.lagSeconds ?? 0]),
  );
  family(
    'secondaryd_zone_seconds_since_refresh',
    'gauge',
    'Seconds since the last successful SOA check or transfer.',
    zones.filter((s) => s.lastSuccess !== null).map((s) => [z(s), Math.round((now - Date.parse(s.lastSuccess!)) / 1000)]),
  );
  family('secondaryd_zone_expires_in_seconds', 'gauge', 'Seconds until EXPIRE passes without a successful check (negative: expired).', zones.filter((s) => s.expiresIn !== null).map((s) => [z(s), s.expiresIn!]));
  family('secondaryd_zone_consecutive_failures', 'gauge', 'SOA checks or transfers in a row that failed.', zones.map((s) => [z(s), s.failures]));
  family('secondaryd_zone_records', 'gauge', 'Records served (RRSIGs included).', zones.filter((s) => s.records !== null).map((s) => [z(s), s.records!]));
  family(
    'secondaryd_zone_signatures_expire_in_seconds',
    'gauge',
    'Signed zones: seconds until the earliest RRSIG served expires.',
    zones.filter((s) => s.signaturesExpireIn !== null).map((s) => [z(s), s.signaturesExpireIn!]),
  );
  family('secondaryd_zone_state', 'gauge', 'Refresh state: 1 for the current one.', zones.flatMap((s) => STATES.map((st): [string, number] => [z(s, ['state', st]), s.state === st ? 1 : 0])));
  family('secondaryd_zone_health', 'gauge', 'Health (fresh, loading, stale, failing, expired): 1 for the current one.', zones.flatMap((s) => HEALTHS.map((h): [string, number] => [z(s, ['health', h]), s.health === h ? 1 : 0])));
  family(
    'secondaryd_zone_condition',
    'gauge',
    'Alert conditions: 1 while it holds.',
    zones.flatMap((s) => CONDITIONS.map((cond): [string, number] => [z(s, ['condition', cond]), s.conditions.includes(cond) ? 1 : 0])),
  );
  family('secondaryd_zone_serial_went_backwards', 'gauge', '1 while a primary reports a serial behind ours.', zones.map((s) => [z(s), s.serialWentBackwards ? 1 : 0]));
  const last = zones.filter((s) => s.lastTransfer !== null);
  family('secondaryd_zone_last_transfer_seconds', 'gauge', 'Duration of the last successful transfer.', last.map((s) => [z(s, ['kind', s.lastTransfer!.kind]), s.lastTransfer!.durationMs / 1000]));
  family('secondaryd_zone_last_transfer_bytes', 'gauge', 'Bytes of the last successful transfer.', last.map((s) => [z(s, ['kind', s.lastTransfer!.kind]), s.lastTransfer!.bytes]));
  family('secondaryd_zone_last_transfer_records', 'gauge', 'Records in the last successful transfer.', last.map((s) => [z(s, ['kind', s.lastTransfer!.kind]), s.lastTransfer!.records]));
  family('secondaryd_queries_total', 'counter', 'DNS queries received, by transport.', [
    [labels(['transport', 'udp']), c.queries.udp],
    [labels(['transport', 'tcp']), c.queries.tcp],
  ]);
  family('secondaryd_responses_total', 'counter', 'Responses by transport and rcode.', split(c.responses, 'transport', 'rcode'));
  family('secondaryd_cache_hits_total', 'counter', 'Queries answered from the response cache.', [['', c.cacheHits]]);
  family('secondaryd_malformed_total', 'counter', 'Malformed queries (answered FORMERR).', [['', c.malformed]]);
  family('secondaryd_dropped_total', 'counter', 'Packets dropped unanswered (responses, short headers).', [['', c.dropped]]);
  family('secondaryd_tcp_connections', 'gauge', 'Client TCP connections open.', [['', c.tcpConnections]]);
  family('secondaryd_transfers_total', 'counter', 'Inbound transfers by kind and result.', split(c.transfers, 'kind', 'result'));
  family('secondaryd_transfer_bytes_total', 'counter', 'Bytes received by successful inbound transfers, by kind.', split(c.transferBytes, 'kind'));
  const hist: [string, number][] = [];
  for (const [kind, h] of Object.entries(c.transferDurations)) {
    let cumulative = 0;
    DURATION_BUCKETS.forEach((le, i) => {
      cumulative += h.counts[i]!;
      hist.push([`_bucket${labels(['kind', kind], ['le', String(le)])}`, cumulative]);
    });
    hist.push([`_bucket${labels(['kind', kind], ['le', '+Inf'])}`, h.count], [`_sum${labels(['kind', kind])}`, h.sum], [`_count${labels(['kind', kind])}`, h.count]);
  }
  family('secondaryd_transfer_duration_seconds', 'histogram', 'Successful inbound transfers, start to serving, by kind.', hist);
  family('secondaryd_notifies_total', 'counter', 'NOTIFY messages received, by result.', split(c.notifies, 'result'));
  family('secondaryd_transfers_out_total', 'counter', 'Outbound AXFR/IXFR requests by kind and result.', split(c.transfersOut, 'kind', 'result'));
  family('secondaryd_notifies_sent_total', 'counter', 'NOTIFY messages sent downstream, by result (ok, refused, timeout, tsig, error).', split(c.notifiesSent, 'result'));
  family('secondaryd_alerts_total', 'counter', 'Alerts raised, by event (reminders included).', split(c.alerts, 'event'));
  family('secondaryd_alert_deliveries_total', 'counter', 'Alert deliveries by target (webhook, command) and result.', split(c.deliveries, 'target', 'result'));
  return out.join('\n') + '\n';
}

export class MonitorServer {
  private server: http.Server | null = null;

  constructor(
    readonly address: HostPort,
    private readonly source: MonitorSource,
  ) {}

  listen(): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.address.port, this.address.host, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
    };
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(this.source.status(), this.source.counters(), Date.now()));
    } else if (path === '/healthz') {
      // For load balancers and anycast checks: is this server serving every zone current? (Conditions
      // every server shares, like expiring signatures, do not make this one unhealthy.)
      const failing = this.source.status().filter((z) => z.health !== 'fresh');
      if (failing.length === 0) json(200, { ok: true });
      else
        json(503, {
          ok: false,
          zones: failing.map((s) => ({ zone: s.zone, health: s.health, conditions: s.conditions, state: s.state, serial: s.serial, primarySerial: s.primarySerial, lagSeconds: s.lagSeconds, expiresIn: s.expiresIn, lastError: s.lastError, serialWentBackwards: s.serialWentBackwards, storageError: s.storageError })),
        });
    } else if (path === '/status') {
      json(200, this.source.status());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /status\n');
    }
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  }
}
