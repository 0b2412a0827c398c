// The composition root: reads the config, loads zones, binds the listeners, handles signals.

import { Responder } from './answer/responder.js';
import { type Config, loadConfig } from './config/parse.js';
import type { Logger } from './log.js';
import { formatHostPort, type HostPort as ListenAddress } from './config/address.js';
import { TcpServer } from './net/tcp-server.js';
import { UdpServer } from './net/udp-server.js';
import { nameFromText } from './wire/name.js';
import { buildZone, nameKey, type Zone } from './zone/zone.js';
import { ZoneTable } from './zone/zone-table.js';
import { readZoneFile } from './zonefile/reader.js';

export class Daemon {
  readonly table = new ZoneTable();
  private responder: Responder | null = null;
  private udp: UdpServer[] = [];
  private tcp: TcpServer[] = [];
  private stopping = false;

  constructor(
    private config: Config,
    private readonly configPath: string,
    private readonly log: Logger,
  ) {}

  /** Load every zone, then bind every listener. Zones that fail to load are logged and skipped. */
  async start(): Promise<void> {
    await this.loadZones(this.config);
    const server = this.config.server;
    this.responder = new Responder(this.table, { udpPayload: server.udpPayload, identity: server.identity });
    for (const address of server.listen) await this.bind(address);
    this.log.info({ op: 'start', zones: this.table.size }, 'serving');
  }

  private async bind(address: ListenAddress): Promise<void> {
    const responder = this.responder!;
    const server = this.config.server;
    const onError = (err: Error): void => this.log.error({ err, op: 'listen', remote: formatHostPort(address) }, 'socket error');
    const udp = new UdpServer(address, responder, onError);
    const port = await udp.listen();
    // With port 0 the kernel picks the UDP port; TCP then binds the same one.
    const tcp = new TcpServer({ ...address, port }, responder, { idleTimeoutMs: server.tcpIdleTimeout * 1000, maxConnections: server.tcpMaxConnections }, onError);
    await tcp.listen();
    this.udp.push(udp);
    this.tcp.push(tcp);
    this.log.info({ op: 'listen', remote: formatHostPort({ host: address.host, port }) }, 'listening on UDP and TCP');
  }

  /** Load the zones that are served from master files. A broken file leaves that zone unloaded. */
  private async loadZones(config: Config): Promise<void> {
    for (const zc of config.zones) {
      if (zc.file === undefined) continue;
      const started = Date.now();
      const log = this.log.child({ zone: zc.name });
      try {
        const zone = await loadZoneFile(zc.name, zc.file);
        this.table.publish(zone);
        log.info({ op: 'load', serial: zone.serial, records: zone.records, durationMs: Date.now() - started }, 'zone loaded');
      } catch (err) {
        log.error({ op: 'load', err }, 'zone not loaded');
      }
    }
  }

  /** Re-read the config and the zone files (SIGHUP). An invalid config keeps the running one. */
  async reload(): Promise<void> {
    let next: Config;
    try {
      next = await loadConfig(this.configPath);
    } catch (err) {
      this.log.error({ op: 'reload', err }, 'invalid config, keeping the running one');
      return;
    }
    const keep = new Set(next.zones.map((z) => nameKey(nameFromText(z.name))));
    for (const zone of [...this.table.values()]) {
      const key = nameKey(zone.origin);
      if (!keep.has(key)) this.table.remove(key);
    }
    this.config = next;
    await this.loadZones(next);
    this.log.info({ op: 'reload', zones: this.table.size }, 'reloaded');
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all([...this.udp.map((s) => s.close()), ...this.tcp.map((s) => s.close())]);
    this.udp = [];
    this.tcp = [];
    this.log.info({ op: 'stop' }, 'stopped');
  }
}

export async function loadZoneFile(name: string, file: string): Promise<Zone> {
  const origin = nameFromText(name.endsWith('.') ? name : name + '.');
  const records = await readZoneFile(file, origin);
  return buildZone(origin, records);
}
