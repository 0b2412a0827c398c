// The validated, deeply frozen configuration the daemon runs on (what parse.ts produces).
// Durations are in seconds, sizes in bytes, names lower case with the final dot, paths absolute.

import type { HostPort, Network } from './address.js';

export type { HostPort, Network };

/** A socket address we listen on (UDP and TCP), or the HTTP endpoint. */
export type ListenAddress = HostPort;

/** A remote server: a primary we pull from, or a downstream server we NOTIFY. */
export interface RemoteConfig extends HostPort {
  /** TSIG key name (lower case, final dot) signing what we send to it and required on its answers. */
  readonly key?: string;
}
export type PrimaryConfig = RemoteConfig;
export type NotifyTargetConfig = RemoteConfig;

/** One ACL entry. With a network, the peer address must be in it; with a key, the message must be
 * signed with it (TSIG verified); with both, both. First matching entry allows; no entry denies. */
export type AclEntry =
  | { readonly network: Network; readonly key?: string }
  | { readonly network?: undefined; readonly key: string };

export type TsigAlgorithm = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

/** A TSIG key (RFC 8945). */
export interface TsigKeyConfig {
  /** Lower case, with the final dot: the owner name of the TSIG RR. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  /** Not frozen (Node cannot freeze a Buffer's contents): treat it as read-only. */
  readonly secret: Buffer;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LogConfig {
  readonly level: LogLevel;
}

export interface ServerConfig {
  readonly listen: readonly ListenAddress[];
  /** Absolute directory for zone copies and timers. */
  readonly storage: string;
  /** Absolute path of the control socket. */
  readonly control: string;
  readonly http?: ListenAddress;
  /** NSID and id.server; absent: not answered. */
  readonly identity?: string;
  /** EDNS UDP payload size we offer and clamp requesters to (octets). */
  readonly udpPayload: number;
  /** Seconds. */
  readonly tcpIdleTimeout: number;
  readonly tcpMaxConnections: number;
  readonly watchConfig: boolean;
}

/** Where alerts go and the thresholds behind them (`alerts`, overridden per zone). Seconds. */
export interface AlertSettings {
  /** http(s) URL; absent: no webhook. */
  readonly webhook?: string;
  readonly webhookTimeout: number;
  readonly webhookRetries: number;
  /** Run by /bin/sh; absent: no command. */
  readonly command?: string;
  readonly commandTimeout: number;
  /** 0: no reminders. */
  readonly repeatInterval: number;
  readonly failingAfter: number;
  readonly staleAfter: number;
  /** 0: off. */
  readonly expiringWithin: number;
  readonly signaturesExpiringWithin: number;
}

export interface ZoneConfig {
  /** Lower case with the final dot ("example.com."); the root zone is ".". */
  readonly name: string;
  /** Absolute path of the master file when the zone is served from one; then `primaries` is empty. */
  readonly file?: string;
  /** In order of preference; empty for a file zone. */
  readonly primaries: readonly PrimaryConfig[];
  /** Who may NOTIFY us; when not configured, the primaries (with their keys). */
  readonly allowNotify: readonly AclEntry[];
  /** Who may AXFR/IXFR from us; when not configured, nobody. */
  readonly allowTransfer: readonly AclEntry[];
  readonly notify: readonly NotifyTargetConfig[];
  /** Clamps on the SOA REFRESH/RETRY/EXPIRE timers, in whole seconds. */
  readonly refreshMin: number;
  readonly refreshMax: number;
  readonly retryMin: number;
  readonly retryMax: number;
  readonly expireMin: number;
  readonly expireMax: number;
  /** Seconds for a whole transfer, and without any bytes arriving. */
  readonly transferTimeout: number;
  readonly transferIdleTimeout: number;
  readonly maxTransferRecords: number;
  readonly maxTransferBytes: number;
  /** Seconds; a transfer with a larger TTL is refused. Absent: no limit. */
  readonly maxZoneTtl?: number;
  /** The top-level alerts with this zone's overrides applied. */
  readonly alerts: AlertSettings;
}

export interface Config {
  /** Absolute path of the file this was read from. */
  readonly file: string;
  readonly server: ServerConfig;
  readonly log: LogConfig;
  readonly keys: readonly TsigKeyConfig[];
  /** The top-level `alerts` (each zone carries its own effective settings). */
  readonly alerts: AlertSettings;
  /** In file order. */
  readonly zones: readonly ZoneConfig[];
}
