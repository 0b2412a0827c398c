// The HTTP endpoint (server.http): /metrics (Prometheus text format 0.0.4), /healthz, /status.

import http from 'node:http';
import type { HostPort } from '../config/address.js';
import { isFailing, type ZoneStatus } from './status.js';

/** What the endpoint reads, on each request. */
export interface MonitorSource {
  status(): ZoneStatus[];
  counters(): ServerCounters;
}

export interface ServerCounters {
  queries: number;
  cacheHits: number;
  malformed: number;
  dropped: number;
  /** Responses by rcode name. */
  rcodes: Record<string, number>;
  /** Transfers by kind (AXFR, IXFR) and result (ok, failed). */
  transfers: Record<string, number>;
  notifies: Record<string, number>;
}

const STATES = ['loading', 'fresh', 'refreshing', 'retrying', 'expired', 'loaded', 'failed'] as const;

/** Label values are quoted with \\, " and newline escaped (exposition format). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(zones: ZoneStatus[], c: ServerCounters, now: number): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, rows: [string, number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) out.push(`${name}${labels} ${value}`);
  };
  const z = (s: ZoneStatus): string => `{zone="${label(s.zone)}"}`;
  family('secondaryd_zone_serial', 'gauge', 'SOA serial served (absent while nothing is served).', zones.filter((s) => s.serial !== null).map((s) => [z(s), s.serial!]));
  family('secondaryd_zone_primary_serial', 'gauge', 'SOA serial last seen on a primary.', zones.filter((s) => s.primarySerial !== null).map((s) => [z(s), s.primarySerial!]));
  family(
    'secondaryd_zone_seconds_since_refresh',
    'gauge',
    'Seconds since the last successful SOA check or transfer.',
    zones.filter((s) => s.lastSuccess !== null).map((s) => [z(s), Math.round((now - Date.parse(s.lastSuccess!)) / 1000)]),
  );
  family('secondaryd_zone_expires_in_seconds', 'gauge', 'Seconds until EXPIRE passes without a successful check (negative: expired).', zones.filter((s) => s.expiresIn !== null).map((s) => [z(s), s.expiresIn!]));
  family('secondaryd_zone_consecutive_failures', 'gauge', 'SOA checks or transfers in a row that failed.', zones.map((s) => [z(s), s.failures]));
  family(
    'secondaryd_zone_state',
    'gauge',
    'Zone state: 1 for the current one.',
    zones.flatMap((s) => STATES.map((st): [string, number] => [`{zone="${label(s.zone)}",state="${st}"}`, s.state === st ? 1 : 0])),
  );
  family('secondaryd_zone_serial_went_backwards', 'gauge', '1 while a primary reports a serial behind ours.', zones.map((s) => [z(s), s.serialWentBackwards ? 1 : 0]));
  family('secondaryd_queries_total', 'counter', 'DNS queries received (UDP and TCP).', [['', c.queries]]);
  family('secondaryd_cache_hits_total', 'counter', 'Queries answered from the response cache.', [['', c.cacheHits]]);
  family('secondaryd_malformed_total', 'counter', 'Malformed queries (answered FORMERR).', [['', c.malformed]]);
  family('secondaryd_dropped_total', 'counter', 'Packets dropped unanswered (responses, short headers).', [['', c.dropped]]);
  family('secondaryd_responses_total', 'counter', 'Responses by rcode.', Object.entries(c.rcodes).map(([r, n]) => [`{rcode="${r}"}`, n]));
  family(
    'secondaryd_transfers_total',
    'counter',
    'Inbound transfers by kind and result.',
    Object.entries(c.transfers).map(([k, n]) => {
      const [kind, result] = k.split(':');
      return [`{kind="${kind}",result="${result}"}`, n];
    }),
  );
  family('secondaryd_notifies_total', 'counter', 'NOTIFY messages received, by result.', Object.entries(c.notifies).map(([r, n]) => [`{result="${r}"}`, n]));
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
      const failing = this.source.status().filter(isFailing);
      if (failing.length === 0) json(200, { ok: true });
      else json(503, { ok: false, zones: failing.map((s) => ({ zone: s.zone, state: s.state, lastError: s.lastError, serialWentBackwards: s.serialWentBackwards, storageError: s.storageError })) });
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
