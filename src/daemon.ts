// The composition root: reads the config, loads zones (master files, and the secondaries' copies
// from storage), runs the refresh scheduler, binds the listeners, answers NOTIFY, handles signals.

import { type FSWatcher, watch } from 'chokidar';
import { handleNotify, type NotifyPolicy, type NotifyTsig } from './answer/notify.js';
import { Responder } from './answer/responder.js';
import { matchAcl } from './config/acl.js';
import { formatHostPort, ipOctets, unmapV4, type HostPort as ListenAddress } from './config/address.js';
import { type Config, loadConfig, normalizeName, type TsigKeyConfig, type ZoneConfig } from './config/parse.js';
import type { Logger } from './log.js';
import { notifyReady } from './net/sd-notify.js';
import { ControlServer, type ControlRequest, type ControlResponse } from './net/control-server.js';
import { TcpServer } from './net/tcp-server.js';
import { UdpServer } from './net/udp-server.js';
import { XfrClient, type TransferInfo, type ZoneSink } from './net/xfr-client.js';
import { XfrServer } from './net/xfr-server.js';
import { tsigAnswerer } from './net/tsig-answer.js';
import { NotifySender } from './net/notify-sender.js';
import { soaRecord } from './xfr/outbound.js';
import { ZoneHistory } from './xfr/history.js';
import { hostname } from 'node:os';
import { AlertEngine } from './monitor/alerts.js';
import { AlertNotifier } from './monitor/notifier.js';
import { Histogram, MonitorServer, type ServerCounters } from './monitor/http.js';
import { zoneStatus, type LastTransfer, type ZoneStatus } from './monitor/status.js';
import type { LoadedZone, ZoneRefreshState } from './refresh/reducer.js';
import { RefreshScheduler } from './refresh/scheduler.js';
import { clampTimers } from './refresh/timers.js';
import { ZoneStore } from './store/zone-store.js';
import { rcodeToText } from './wire/constants.js';
import { nameFromText } from './wire/name.js';
import { signResponse, TsigError, verifyRequest } from './wire/tsig.js';
import { buildZone, nameKey, type Zone } from './zone/zone.js';
import { UnservedZone, ZoneTable } from './zone/zone-table.js';
import { readZoneFile } from './zonefile/reader.js';
import { zoneLines } from './zonefile/writer.js';
import { soaFields } from './xfr/soa-check.js';
import { VERSION } from './version.js';
import { firstRdata } from './zone/node.js';

export class Daemon implements ZoneSink {
  readonly table = new ZoneTable();
  private responder: Responder | null = null;
  /** UDP and TCP servers by configured listen address ("host:port"). */
  private listeners = new Map<string, { udp: UdpServer; tcp: TcpServer }>();
  private watcher: FSWatcher | null = null;
  private monitor: MonitorServer | null = null;
  /** Transfers by "KIND:result" and NOTIFYs by result, for /metrics. */
  private readonly transferCounts: Record<string, number> = {};
  private readonly notifyCounts: Record<string, number> = {};
  private readonly transferBytes: Record<string, number> = {};
  private readonly transferDurations: Record<string, Histogram> = {};
  private readonly lastTransfers = new Map<string, LastTransfer>();
  /** Alert conditions per zone, turned into alerts (see monitor/alerts.ts); evaluated on every
   * refresh state change and once a second (time alone moves stale, expiring, signatures). */
  private readonly alerts = new AlertEngine(hostname());
  private readonly alertCounts: Record<string, number> = {};
  /** Delivers alerts (webhook, command) off the daemon's path: queued, retried, bounded. */
  private readonly notifier: AlertNotifier;
  private alertTimer: NodeJS.Timeout | null = null;
  private control: ControlServer | null = null;
  private stopping = false;
  private readonly xfr: XfrClient;
  readonly scheduler: RefreshScheduler;
  /** Secondary zones by key (lower-case name with the final dot). */
  private secondaries = new Map<string, ZoneConfig>();
  private keys = new Map<string, TsigKeyConfig>();
  /** Zone copies, journals and timers under server.storage. */
  readonly store: ZoneStore;
  /** The storage directory is created (and cleaned of temp files) with the first secondary zone. */
  private storeOpened: Promise<unknown> | null = null;
  /** Outbound AXFR/IXFR (allow-transfer). */
  readonly xfrOut: XfrServer;
  /** Signs answers to TSIG-signed queries (a downstream secondary's SOA checks). */
  private readonly tsigAnswer = tsigAnswerer(() => this.keys);
  /** Outbound NOTIFY (notify), after each new version. */
  readonly notifyOut: NotifySender;
  /** Per zone (lower-case name, final dot): the changesets behind the served version, for IXFR out. */
  private readonly histories = new Map<string, ZoneHistory>();

  constructor(
    private config: Config,
    private readonly configPath: string,
    private readonly log: Logger,
  ) {
    this.xfr = new XfrClient(config, this);
    this.store = new ZoneStore(config.server.storage, { logger: log });
    this.scheduler = new RefreshScheduler({ executor: this.xfr, logger: log, onChange: (zone, state, prev) => this.onRefreshChange(zone, state, prev) });
    this.keys = new Map(config.keys.map((k) => [k.name, k]));
    this.notifier = new AlertNotifier({ logger: log, userAgent: `secondaryd/${VERSION}` });
    this.xfrOut = new XfrServer({
      table: this.table,
      acl: (zone) => this.config.zones.find((z) => z.name === zone)?.allowTransfer,
      keys: () => this.keys,
      history: (zone) => this.histories.get(zone),
      logger: log,
      udpPayload: config.server.udpPayload,
    });
    this.notifyOut = new NotifySender({ keys: () => this.keys, logger: log });
  }

  /** Load every zone, bind every listener, then start refreshing. Zones that fail to load are logged and skipped. */
  async start(): Promise<void> {
    await this.loadZones(this.config);
    // Secondaries from storage, before any listener and any primary: served from the first query.
    const loaded = new Map<string, LoadedZone | undefined>();
    for (const zc of this.config.zones) if (zc.file === undefined) loaded.set(zc.name, await this.loadStored(zc));
    const server = this.config.server;
    this.responder = new Responder(this.table, { udpPayload: server.udpPayload, identity: server.identity });
    for (const address of server.listen) await this.bind(address);
    this.control = new ControlServer(server.control, (req) => this.onControl(req), (err) => this.log.error({ err, op: 'control' }, 'control socket error'));
    await this.control.listen();
    for (const zc of this.config.zones) if (zc.file === undefined) this.addSecondary(zc, loaded.get(zc.name));
    if (server.http !== undefined) {
      this.monitor = new MonitorServer(server.http, { status: () => this.status(), counters: () => this.counters() });
      const port = await this.monitor.listen();
      this.log.info({ op: 'listen', remote: formatHostPort({ host: server.http.host, port }) }, 'HTTP: /metrics, /healthz, /status');
    }
    if (server.watchConfig) this.watchConfig();
    this.alertTimer = setInterval(() => this.checkAlerts(), 1000).unref();
    this.log.info({ op: 'start', zones: this.config.zones.length }, 'serving');
    notifyReady(`serving ${this.config.zones.length} zones`, (err) => this.log.warn({ op: 'start', err }, 'cannot tell systemd we are ready'));
  }

  /** Reload when the config file changes on disk (editors write in bursts: debounced). */
  private watchConfig(): void {
    let timer: NodeJS.Timeout | undefined;
    this.watcher = watch(this.configPath, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
    this.watcher.on('all', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.log.info({ op: 'reload' }, 'config file changed');
        void this.reload();
      }, 300);
    });
    this.watcher.on('error', (err) => this.log.warn({ op: 'watch', err }, 'cannot watch the config file'));
  }

  /** Bind the listen addresses that are new in `next`, close the ones that are gone. */
  private async rebind(next: Config): Promise<void> {
    const want = new Map(next.server.listen.map((a) => [formatHostPort(a), a]));
    for (const [key, l] of [...this.listeners]) {
      if (want.has(key)) continue;
      this.listeners.delete(key);
      await Promise.all([l.udp.close(), l.tcp.close()]);
      this.log.info({ op: 'listen', remote: key }, 'stopped listening');
    }
    for (const [key, address] of want) {
      if (this.listeners.has(key)) continue;
      try {
        await this.bind(address);
      } catch (err) {
        this.log.error({ op: 'listen', remote: key, err }, 'cannot listen on a new address');
      }
    }
  }

  private async bind(address: ListenAddress): Promise<void> {
    const responder = this.responder!;
    const server = this.config.server;
    const onError = (err: Error): void => this.log.error({ err, op: 'listen', remote: formatHostPort(address) }, 'socket error');
    const notify = (msg: Buffer, remote: string): Buffer | null => this.onNotify(msg, remote);
    const hooks = { transfer: this.xfrOut.handle, tsigAnswer: this.tsigAnswer };
    const udp = new UdpServer(address, responder, notify, onError, hooks);
    const port = await udp.listen();
    // With port 0 the kernel picks the UDP port; TCP then binds the same one.
    const tcp = new TcpServer({ ...address, port }, responder, notify, { idleTimeoutMs: server.tcpIdleTimeout * 1000, maxConnections: server.tcpMaxConnections }, onError, hooks);
    await tcp.listen();
    this.listeners.set(formatHostPort(address), { udp, tcp });
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
        const before = this.table.served(tableKey(zc));
        this.table.publish(zone);
        if (before?.serial !== zone.serial) {
          this.historyOf(zc.name).record(undefined); // a file gives no differences: AXFR form below it
          this.sendNotify(zc, zone);
        }
        log.info({ op: 'load', serial: zone.serial, records: zone.records, durationMs: Date.now() - started }, 'zone loaded');
      } catch (err) {
        log.error({ op: 'load', err }, 'zone not loaded');
      }
    }
  }

  /**
   * A zone pulled from primaries: served from its stored copy when `loaded`, else SERVFAIL until its
   * first transfer; then refreshed (from the stored timers when loaded).
   */
  private addSecondary(zc: ZoneConfig, loaded?: LoadedZone): void {
    this.secondaries.set(zc.name, zc);
    if (this.table.get(tableKey(zc)) === undefined) this.table.publish(new UnservedZone(nameFromText(zc.name), 'loading'));
    this.scheduler.addZone(zc.name, zc, loaded);
  }

  /**
   * Load a secondary's copy (and journal) from storage and publish it, or publish it as expired when
   * its EXPIRE passed while we were down (the reducer then agrees and transfers it anew). Returns the
   * timers for the scheduler; undefined when there is nothing usable (the zone is then transferred).
   */
  private async loadStored(zc: ZoneConfig): Promise<LoadedZone | undefined> {
    const started = Date.now();
    const log = this.log.child({ zone: zc.name });
    const origin = nameFromText(zc.name);
    this.storeOpened ??= this.store.open();
    await this.storeOpened;
    const r = await this.store.load(zc.name, origin);
    if (r.status === 'none') return undefined;
    if (r.status !== 'loaded') {
      log.error({ op: 'load', err: r.error, ...('reason' in r.error ? { reason: r.error.reason } : {}) }, 'stored copy not usable, ignored: the zone will be transferred again');
      return undefined;
    }
    const { zone, timers } = r;
    this.historyOf(zc.name).record(r.changesets.length > 0 ? r.changesets : undefined);
    const { refresh, retry, expire, minimum } = soaFields(firstRdata(zone.soa));
    const soa = { refresh, retry, expire, minimum };
    const expireMs = clampTimers(soa, zc).expireMs;
    // The stored timers speak for the version loaded only when their serial is its serial; else (the
    // data or the timers write was cut short) the version's own save time is when it was last known
    // current. Never later than the expire the config allows now.
    let lastRefreshed = r.dataSavedAt;
    let expiresAt = r.dataSavedAt + expireMs;
    if (timers !== null && timers.serial === zone.serial) {
      lastRefreshed = timers.lastRefreshed;
      expiresAt = Math.min(timers.expiresAt, timers.lastRefreshed + expireMs);
    }
    const now = Date.now();
    for (const note of r.notes) log.warn({ op: 'load' }, note);
    const fields = { op: 'load', serial: zone.serial, records: zone.records, bytes: r.bytes, journal: r.journalApplied, durationMs: now - started };
    if (expiresAt <= now) {
      this.table.publish(new UnservedZone(origin, 'expired'));
      log.warn({ ...fields, expiredAt: new Date(expiresAt).toISOString() }, 'stored copy expired while the daemon was down: not served until a transfer succeeds');
    } else {
      this.table.publish(zone);
      log.info(fields, 'zone loaded from storage');
    }
    return { serial: zone.serial, soa, lastRefreshed, expiresAt };
  }

  /** Server-wide counters for /metrics. */
  counters(): ServerCounters {
    const st = this.responder?.stats;
    const responses: Record<string, number> = {};
    if (st) st.rcodes.forEach((n, i) => n > 0 && (responses[`${i < 24 ? 'udp' : 'tcp'}:${rcodeToText(i % 24)}`] = n));
    let tcpConnections = 0;
    for (const l of this.listeners.values()) tcpConnections += l.tcp.connections;
    return {
      queries: { udp: (st?.queries ?? 0) - (st?.tcpQueries ?? 0), tcp: st?.tcpQueries ?? 0 },
      cacheHits: st?.cacheHits ?? 0,
      malformed: st?.malformed ?? 0,
      dropped: st?.dropped ?? 0,
      responses,
      tcpConnections,
      transfers: { ...this.transferCounts },
      transferBytes: { ...this.transferBytes },
      transferDurations: { ...this.transferDurations },
      notifies: { ...this.notifyCounts },
      transfersOut: { ...this.xfrOut.counts },
      notifiesSent: { ...this.notifyOut.counts },
      alerts: { ...this.alertCounts },
      deliveries: this.notifier.stats(),
    };
  }

  /** Raise the alerts due now (all zones, or one), log them and hand them to the notifier. */
  private checkAlerts(zone?: string): void {
    if (this.stopping) return;
    const byName = new Map(this.config.zones.map((z) => [z.name, z]));
    for (const { document, settings } of this.alerts.evaluate(this.status(zone), (z) => byName.get(z)?.alerts, Date.now())) {
      bump(this.alertCounts, document.event);
      const fields = { zone: document.zone, op: 'alert', event: document.event, reminder: document.reminder };
      if (document.event === 'recovered') this.log.info(fields, document.message);
      else this.log.warn(fields, document.message);
      this.notifier.send(document, settings);
    }
  }

  /** The scheduler's state changed: count failed transfers; keep the timers on disk when they changed. */
  private onRefreshChange(zone: string, s: ZoneRefreshState, prev: ZoneRefreshState): void {
    queueMicrotask(() => this.checkAlerts(zone));
    // A failed transfer shows as one more failure with a transfer error: count it for /metrics.
    if (s.failures > prev.failures && s.lastError?.op === 'transfer') bump(this.transferCounts, `${prev.inFlight?.op === 'transfer' ? prev.inFlight.kind : 'AXFR'}:failed`);
    if (s.servedSerial === null || s.lastRefreshed === null || s.expiresAt === null) return;
    if (s.servedSerial === prev.servedSerial && s.lastRefreshed === prev.lastRefreshed && s.expiresAt === prev.expiresAt && s.primary === prev.primary) return;
    this.store.saveTimers(zone, { serial: s.servedSerial, lastRefreshed: s.lastRefreshed, expiresAt: s.expiresAt, primary: s.primary });
  }

  /** RFC 1996: tell the zone's `notify` targets about the version just published. */
  private sendNotify(zc: ZoneConfig, zone: Zone): void {
    if (zc.notify.length > 0 && !this.stopping) this.notifyOut.notify(zone.origin, zc.name, soaRecord(zone), zc.notify);
  }

  private historyOf(zone: string): ZoneHistory {
    let h = this.histories.get(zone);
    if (h === undefined) this.histories.set(zone, (h = new ZoneHistory()));
    return h;
  }

  private removeSecondary(name: string): void {
    this.secondaries.delete(name);
    this.scheduler.removeZone(name);
  }

  // ZoneSink: what the transfer code reads and publishes.

  current(zc: ZoneConfig): Zone | undefined {
    return this.table.served(tableKey(zc));
  }

  publish(zc: ZoneConfig, snapshot: Zone, info: TransferInfo): void {
    if (!this.secondaries.has(zc.name)) return; // removed by a reload while the transfer ran
    bump(this.transferCounts, `${info.kind}:ok`);
    this.transferBytes[info.kind] = (this.transferBytes[info.kind] ?? 0) + info.bytes;
    (this.transferDurations[info.kind] ??= new Histogram()).observe(info.durationMs / 1000);
    this.lastTransfers.set(zc.name, { kind: info.kind, at: new Date().toISOString(), primary: info.primary, durationMs: info.durationMs, bytes: info.bytes, records: info.records });
    this.table.publish(snapshot);
    this.historyOf(zc.name).record(info.kind === 'IXFR' ? info.changesets : undefined);
    this.sendNotify(zc, snapshot);
    this.store.saveZone(zc.name, snapshot, info.kind === 'IXFR' ? info.changesets : undefined);
    this.log.info(
      { zone: zc.name, op: 'transfer', kind: info.kind, remote: info.primary, serial: info.serial, records: info.records, bytes: info.bytes, durationMs: info.durationMs, ...(info.fallback ? { fallback: info.fallback } : {}) },
      'zone transferred',
    );
  }

  expire(zc: ZoneConfig): void {
    if (!this.secondaries.has(zc.name)) return;
    this.table.publish(new UnservedZone(nameFromText(zc.name), 'expired'));
    this.log.error({ zone: zc.name, op: 'expire' }, 'zone expired: no successful refresh within EXPIRE, answering SERVFAIL');
  }

  /** A NOTIFY (RFC 1996) from `remote`: check, answer, and tell the scheduler. */
  private onNotify(msg: Buffer, remote: string): Buffer | null {
    const outcome = handleNotify(msg, remote, (zone) => this.notifyPolicy(zone), this.notifyTsig);
    const fields = { zone: outcome.zone, op: 'notify', remote, ...(outcome.serial !== undefined ? { serial: outcome.serial } : {}) };
    bump(this.notifyCounts, outcome.accepted ? 'accepted' : 'refused');
    if (outcome.accepted) this.log.info(fields, 'NOTIFY accepted');
    else this.log.warn({ ...fields, reason: outcome.reason }, 'NOTIFY refused');
    return outcome.response;
  }

  private notifyPolicy(zone: string): NotifyPolicy | undefined {
    const zc = this.secondaries.get(zone);
    if (zc === undefined) return undefined;
    return {
      allowed: (address, keyName) => matchAcl(zc.allowNotify, address, keyName),
      notify: (address, serial) => {
        // RFC 1996 3.11: query the notifier first when it is one of the primaries.
        const primary = zc.primaries.find((p) => sameAddress(p.host, address));
        this.scheduler.notify(zc.name, serial, primary === undefined ? undefined : formatHostPort(primary));
      },
    };
  }

  private readonly notifyTsig: NotifyTsig = {
    verify: (raw, msg) => {
      const now = Math.floor(Date.now() / 1000);
      try {
        const { key, mac } = verifyRequest(raw, msg.tsig!, this.keys, now);
        return { keyName: key.name, sign: (response: Buffer) => signResponse(response, key, mac, now).signed };
      } catch (err) {
        if (err instanceof TsigError) return { error: err.message, rcode: err.rcode };
        throw err;
      }
    },
  };

  /** Per-zone status, in config order (`zone` narrows it to one). */
  status(zone?: string): ZoneStatus[] {
    const now = Date.now();
    const want = zone === undefined ? undefined : normalizeName(zone);
    return this.config.zones
      .filter((zc) => want === undefined || zc.name === want)
      .map((zc) =>
        zoneStatus(zc, this.table.get(tableKey(zc)), this.scheduler.state(zc.name), now, {
          storage: zc.file === undefined ? this.store.failure(zc.name) : null,
          lastTransfer: this.lastTransfers.get(zc.name) ?? null,
        }),
      );
  }

  /** The control socket's commands (`secondaryd status|refresh|retransfer|reload|dump`). */
  private async onControl(req: ControlRequest): Promise<ControlResponse> {
    const zone = req.zone === undefined ? undefined : normalizeName(req.zone);
    const known = zone !== undefined && this.config.zones.some((z) => z.name === zone);
    const log = this.log.child({ op: 'control', cmd: req.cmd, ...(zone ? { zone } : {}) });
    switch (req.cmd) {
      case 'status': {
        if (zone !== undefined && !known) return { ok: false, error: `no zone ${zone} in the config` };
        return { ok: true, data: this.status(zone) };
      }
      case 'refresh':
      case 'retransfer': {
        if (zone === undefined || !this.secondaries.has(zone)) return { ok: false, error: `${zone ?? '(none)'} is not a secondary zone` };
        log.info({}, `${req.cmd} requested`);
        if (req.cmd === 'refresh') this.scheduler.refresh(zone);
        else this.scheduler.retransfer(zone);
        return { ok: true };
      }
      case 'reload': {
        const problems = await this.reload();
        return problems === null ? { ok: true } : { ok: false, error: problems };
      }
      case 'dump': {
        const snapshot = zone === undefined ? undefined : this.table.served(nameKey(nameFromText(zone)));
        if (snapshot === undefined) return { ok: false, error: `${zone ?? '(none)'} is not served` };
        return { ok: true, stream: dumpText(snapshot) };
      }
      default:
        return { ok: false, error: `unknown command "${req.cmd}"` };
    }
  }

  /**
   * Re-read the config and the zone files (SIGHUP, `secondaryd reload`). An invalid config keeps the
   * running one; returns its problems then, null when the new config is running.
   */
  reload(): Promise<string | null> {
    // One reload at a time: SIGHUP, the CLI and the file watch may all ask at once.
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => null);
    return run;
  }

  private reloading: Promise<unknown> = Promise.resolve();

  private async reloadNow(): Promise<string | null> {
    let next: Config;
    try {
      next = await loadConfig(this.configPath);
    } catch (err) {
      this.log.error({ op: 'reload', err }, 'invalid config, keeping the running one');
      return err instanceof Error ? err.message : String(err);
    }
    const keep = new Set(next.zones.map(tableKey));
    for (const entry of [...this.table.values()]) {
      const key = nameKey(entry.origin);
      if (!keep.has(key)) this.table.remove(key);
    }
    const names = new Set(next.zones.map((z) => z.name));
    for (const name of [...this.secondaries.keys()]) if (!names.has(name)) this.removeSecondary(name);
    for (const zc of this.config.zones) {
      if (names.has(zc.name)) continue;
      this.alerts.forget(zc.name);
      this.lastTransfers.delete(zc.name);
    }
    for (const name of [...this.histories.keys()]) if (!names.has(name)) this.histories.delete(name);
    this.config = next;
    this.keys = new Map(next.keys.map((k) => [k.name, k]));
    this.xfr.setConfig(next);
    this.log.level = next.log.level;
    await this.rebind(next);
    if (next.server.storage !== this.store.dir) this.log.warn({ op: 'reload' }, 'server.storage changed: the new directory is used after a restart');
    for (const zc of next.zones) {
      const old = this.secondaries.get(zc.name);
      if (old === undefined) continue;
      if (zc.file !== undefined) {
        this.removeSecondary(zc.name); // now served from a master file (loaded below)
        continue;
      }
      if (JSON.stringify(old) === JSON.stringify(zc)) continue;
      // Changed settings (primaries, clamps, limits): re-plan the zone, keeping its data and timers.
      const st = this.scheduler.state(zc.name);
      const keepTimers =
        st !== undefined && st.servedSerial !== null && st.soa !== null && st.lastRefreshed !== null && st.expiresAt !== null
          ? { serial: st.servedSerial, soa: st.soa, lastRefreshed: st.lastRefreshed, expiresAt: st.expiresAt }
          : undefined;
      this.removeSecondary(zc.name);
      this.addSecondary(zc, keepTimers);
      this.log.info({ op: 'reload', zone: zc.name }, 'zone settings changed: re-planned, data and timers kept');
    }
    await this.loadZones(next);
    for (const zc of next.zones) {
      if (zc.file !== undefined || this.secondaries.has(zc.name)) continue;
      const loaded = this.table.get(tableKey(zc)) === undefined ? await this.loadStored(zc) : undefined;
      this.addSecondary(zc, loaded);
    }
    this.log.info({ op: 'reload', zones: next.zones.length }, 'reloaded');
    return null;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.alertTimer !== null) clearInterval(this.alertTimer);
    this.notifyOut.close();
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all([this.watcher?.close(), this.monitor?.close(), this.scheduler.stop(), this.control?.close(), ...listeners.flatMap((l) => [l.udp.close(), l.tcp.close()])]);
    // Transfers are over: what they published and the last timers go to disk before we exit, while
    // alerts still being delivered get a moment.
    await Promise.all([this.store.close(), this.notifier.close()]);
    this.log.info({ op: 'stop' }, 'stopped');
  }
}


function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** The served zone as master-file text, in chunks (a big zone is not built as one string). */
function* dumpText(zone: Zone): Generator<string> {
  let chunk = '';
  for (const line of zoneLines([...zone.allRecords()], zone.origin)) {
    chunk += line + '\n';
    if (chunk.length > 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The zone table's key of a configured zone. */
function tableKey(zc: ZoneConfig): string {
  return nameKey(nameFromText(zc.name));
}

/** Same IP address, however written (an IPv4-mapped IPv6 form matches its IPv4 form). */
function sameAddress(a: string, b: string): boolean {
  const x = ipOctets(a);
  const y = ipOctets(b);
  return x !== undefined && y !== undefined && unmapV4(x).join('.') === unmapV4(y).join('.');
}

async function loadZoneFile(name: string, file: string): Promise<Zone> {
  const origin = nameFromText(name); // config names are normalised: lower case, final dot
  const records = await readZoneFile(file, origin);
  return buildZone(origin, records);
}
