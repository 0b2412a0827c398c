// The config schema, declared once (as Knot does): every key with its type, default and one line of
// documentation. parse.ts validates against it; renderReference() turns it into the README table.

import { formatDuration } from './duration.js';
import { formatSize } from './size.js';

export type ValueType =
  | { readonly kind: 'string'; readonly maxLength?: number; readonly allowEmpty?: boolean }
  /** A file system path; relative ones are resolved against the config file's directory. */
  | { readonly kind: 'path' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'size'; readonly min: number; readonly max: number }
  /** Seconds; `integer` when the value ends up in a 32-bit DNS field (SOA timers, TTLs). */
  | { readonly kind: 'duration'; readonly min: number; readonly max: number; readonly integer: boolean }
  /** Matched case-insensitively; the value is the spelling in `values`. */
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A domain name, stored lower case with the final dot. */
  | { readonly kind: 'domain' }
  /** RFC 4648 base64 with padding; the value is a Buffer. */
  | { readonly kind: 'base64' }
  /** The name of a key defined under `keys`. */
  | { readonly kind: 'key-ref' }
  /** "addr:port" / "[v6]:port"; the port may be left out when there is a default. */
  | { readonly kind: 'address'; readonly defaultPort?: number; readonly allowZeroPort?: boolean }
  /** "addr[/prefix]". */
  | { readonly kind: 'network' }
  /** A remote server: "addr[:port]" (port 53) or a mapping of REMOTE_OPTIONS. */
  | { readonly kind: 'remote' }
  /** An ACL entry: "addr[/prefix]" or a mapping of ACL_OPTIONS (address and/or key). */
  | { readonly kind: 'acl' }
  | { readonly kind: 'list'; readonly of: ValueType; readonly nonEmpty?: boolean }
  | { readonly kind: 'map'; readonly options: Options };

export interface Option {
  readonly type: ValueType;
  /** One line for the reference. */
  readonly doc: string;
  /** The default as it would be written in the config file (parsed by the same code as user values). */
  readonly default?: unknown;
  /** Shown instead of `default` when the default is computed, or to say what absence means. */
  readonly defaultDoc?: string;
  readonly required?: boolean;
  /** A zone key that cannot be inherited from `defaults`. */
  readonly perZone?: boolean;
}

export type Options = Readonly<Record<string, Option>>;

const U32 = 2 ** 32 - 1;
/** RFC 2181 section 8: TTLs are 0..2^31-1. */
const MAX_TTL = 2 ** 31 - 1;

const path: ValueType = { kind: 'path' };
const bool: ValueType = { kind: 'bool' };
const domain: ValueType = { kind: 'domain' };
const keyRef: ValueType = { kind: 'key-ref' };
const int = (min: number, max: number): ValueType => ({ kind: 'int', min, max });
const size = (min: number, max: number): ValueType => ({ kind: 'size', min, max });
const timeout = (min: number, max: number): ValueType => ({ kind: 'duration', min, max, integer: false });
// At least one second: a zero REFRESH/RETRY would query a failing primary in a tight loop, and a
// zero EXPIRE would expire the zone right after each transfer.
const soaTimer: ValueType = { kind: 'duration', min: 1, max: U32, integer: true };
const list = (of: ValueType, nonEmpty = false): ValueType => ({ kind: 'list', of, nonEmpty });
const map = (options: Options): ValueType => ({ kind: 'map', options });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const TSIG_ALGORITHMS = ['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;

/** The mapping form of a primary or NOTIFY target. */
export const REMOTE_OPTIONS: Options = {
  address: { type: { kind: 'address', defaultPort: 53 }, required: true, doc: 'IP address, with ":port" when not 53' },
  key: { type: keyRef, doc: 'TSIG key for everything exchanged with this server' },
};

/** The mapping form of an ACL entry: at least one of the two; both must then match. */
export const ACL_OPTIONS: Options = {
  address: { type: { kind: 'network' }, doc: 'IP address or network the peer must be in' },
  key: { type: keyRef, doc: 'TSIG key the message must be signed with' },
};

export const SERVER_OPTIONS: Options = {
  listen: {
    type: list({ kind: 'address', defaultPort: 53, allowZeroPort: true }),
    default: ['0.0.0.0:53', '[::]:53'],
    doc: 'addresses to answer on, UDP and TCP each; port 53 when left out',
  },
  storage: { type: path, default: '/var/lib/secondaryd', doc: 'directory for zone copies and timers (the daemon writes only here)' },
  control: { type: path, default: '/run/secondaryd/control.sock', doc: 'unix socket the CLI talks to' },
  http: {
    type: { kind: 'address', allowZeroPort: true },
    defaultDoc: 'off',
    doc: 'host:port serving /metrics, /healthz and /status',
  },
  identity: { type: { kind: 'string', maxLength: 255 }, defaultDoc: 'off', doc: 'NSID (RFC 5001) and id.server answer' },
  'udp-payload': {
    type: int(512, 4096),
    default: 1232,
    doc: 'EDNS UDP payload size we offer and clamp requesters to (1232: DNS flag day 2020, no fragmentation)',
  },
  'tcp-idle-timeout': { type: timeout(1, 3600), default: '10s', doc: 'close an idle client TCP connection after this (RFC 7766)' },
  'tcp-max-connections': { type: int(1, 100000), default: 250, doc: 'client TCP connections open at once; more are refused' },
  'watch-config': { type: bool, default: true, doc: 'reload when the config file changes, as on SIGHUP' },
};

export const LOG_OPTIONS: Options = {
  level: { type: { kind: 'enum', values: LOG_LEVELS }, default: 'info', doc: 'pino log level; JSON lines on stdout' },
};

export const KEY_OPTIONS: Options = {
  name: { type: domain, required: true, doc: 'key name as both sides spell it (case-insensitive)' },
  algorithm: { type: { kind: 'enum', values: TSIG_ALGORITHMS }, required: true, doc: 'HMAC algorithm (RFC 8945)' },
  secret: { type: { kind: 'base64' }, required: true, doc: 'shared secret, base64 (as tsig-keygen or keymgr print it)' },
};

/** Alerting: where alerts go and when a zone counts as in trouble. Every key can be overridden per
 * zone (`zones[].alerts`). Durations are thresholds; 0 turns that alert (or the reminders) off. */
export const ALERT_OPTIONS: Options = {
  webhook: { type: { kind: 'string', maxLength: 2048, allowEmpty: true }, defaultDoc: 'off', doc: 'http(s) URL that gets each alert as a JSON POST; "" turns an inherited one off' },
  'webhook-timeout': { type: timeout(0.1, 300), default: '10s', doc: 'give up on one POST after this' },
  'webhook-retries': { type: int(0, 20), default: 5, doc: 'POSTs retried this often on failure (backoff 1s, 2s, 4s ... at most 5m)' },
  command: { type: { kind: 'string', maxLength: 4096, allowEmpty: true }, defaultDoc: 'off', doc: 'run by /bin/sh with the alert in SECONDARYD_* variables and as JSON on stdin; "" turns an inherited one off' },
  'command-timeout': { type: timeout(0.1, 3600), default: '30s', doc: 'kill the command after this' },
  'repeat-interval': { type: timeout(0, 30 * 86400), default: '4h', doc: 'remind of a condition still present this often (0: never)' },
  'failing-after': { type: int(1, 1000), default: 2, doc: 'SOA checks or transfers failed in a row before the zone counts as failing' },
  'stale-after': {
    type: timeout(0, 365 * 86400),
    default: '1h',
    doc: 'stale: a primary has had a newer serial for this long, or no check succeeded for REFRESH plus this',
  },
  'expiring-within': { type: timeout(0, 365 * 86400), default: '1d', doc: 'alert when the zone would expire within this (0: off)' },
  'signatures-expiring-within': {
    type: timeout(0, 365 * 86400),
    default: '2d',
    doc: 'signed zones: alert when the earliest RRSIG expires within this (the primary\'s signer has stopped) (0: off)',
  },
};

/**
 * Zone keys. The timer clamps bound what the zone's SOA asks for: a REFRESH of 5 seconds would hammer
 * the primary, one of a month would leave a missed NOTIFY unnoticed for a month. The bounds are BIND's
 * and Knot's spirit, tightened where a secondary that is "never silently stale" benefits.
 */
export const ZONE_OPTIONS: Options = {
  name: { type: domain, required: true, perZone: true, doc: 'zone apex; case-insensitive, final dot optional' },
  file: {
    type: path,
    perZone: true,
    doc: 'serve the zone from this master file instead of pulling it (exclusive with primaries)',
  },
  primaries: {
    type: list({ kind: 'remote' }, true),
    defaultDoc: 'none',
    doc: 'servers to pull from, tried in order',
  },
  'allow-notify': { type: list({ kind: 'acl' }), defaultDoc: 'the primaries (with their keys)', doc: 'who may send NOTIFY' },
  'allow-transfer': { type: list({ kind: 'acl' }), default: [], defaultDoc: 'nobody', doc: 'who may AXFR/IXFR from us' },
  notify: { type: list({ kind: 'remote' }), default: [], defaultDoc: 'none', doc: 'servers to NOTIFY after each change' },
  'refresh-min': { type: soaTimer, default: '1m', doc: 'lower bound on the SOA REFRESH (NOTIFY still triggers sooner)' },
  'refresh-max': { type: soaTimer, default: '1d', doc: 'upper bound on the SOA REFRESH, so a missed NOTIFY is caught daily' },
  'retry-min': { type: soaTimer, default: '10s', doc: 'lower bound on the SOA RETRY' },
  'retry-max': { type: soaTimer, default: '1h', doc: 'upper bound on the SOA RETRY, so a failing zone is retried hourly' },
  'expire-min': { type: soaTimer, default: '1h', doc: 'lower bound on the SOA EXPIRE (guards against a typo expiring the zone)' },
  'expire-max': { type: soaTimer, default: '4w', doc: 'upper bound on the SOA EXPIRE (RFC 1912 suggests 2-4 weeks)' },
  'transfer-timeout': { type: timeout(1, 86400), default: '5m', doc: 'abort a transfer that takes longer than this in all' },
  'transfer-idle-timeout': { type: timeout(0.1, 3600), default: '30s', doc: 'abort a transfer when nothing arrives for this long' },
  'max-transfer-records': { type: int(1, Number.MAX_SAFE_INTEGER), default: 10_000_000, doc: 'refuse a transfer with more records' },
  'max-transfer-bytes': { type: size(512, Number.MAX_SAFE_INTEGER), default: '2GiB', doc: 'refuse a transfer with more bytes on the wire' },
  'max-zone-ttl': { type: { kind: 'duration', min: 0, max: MAX_TTL, integer: true }, defaultDoc: 'no limit', doc: 'refuse a zone version with a larger TTL' },
  alerts: { type: map(ALERT_OPTIONS), perZone: true, defaultDoc: 'the top-level alerts', doc: 'any key of the top-level `alerts`, for this zone only' },
};

/** What `defaults` may hold: every zone key except the per-zone ones. */
export const DEFAULTS_OPTIONS: Options = Object.fromEntries(Object.entries(ZONE_OPTIONS).filter(([, o]) => !o.perZone));

export const ROOT_OPTIONS: Options = {
  server: { type: map(SERVER_OPTIONS), doc: 'the daemon itself' },
  log: { type: map(LOG_OPTIONS), doc: 'logging' },
  keys: { type: list(map(KEY_OPTIONS)), default: [], doc: 'TSIG keys, referred to by name' },
  alerts: { type: map(ALERT_OPTIONS), doc: 'alerts on zone trouble (webhook and/or command)' },
  defaults: { type: map(DEFAULTS_OPTIONS), doc: 'any zone key except name, file and alerts; every zone inherits it' },
  zones: { type: list(map(ZONE_OPTIONS)), default: [], doc: 'the zones served' },
};

/** Where each timer clamp's bound lives, for the min <= max check. */
export const CLAMP_PAIRS = [
  ['refresh-min', 'refresh-max'],
  ['retry-min', 'retry-max'],
  ['expire-min', 'expire-max'],
] as const;

/** Words from BIND, Knot and NSD configs (and near misses) that mean one of our keys. */
export const SYNONYMS: Readonly<Record<string, string>> = {
  master: 'primaries',
  masters: 'primaries',
  primary: 'primaries',
  remote: 'primaries',
  remotes: 'primaries',
  'request-xfr': 'primaries',
  'also-notify': 'notify',
  'provide-xfr': 'allow-transfer',
  'allow-axfr': 'allow-transfer',
  'allow-xfr': 'allow-transfer',
  acl: 'allow-transfer',
  zonefile: 'file',
  'zone-file': 'file',
  'listen-on': 'listen',
  interface: 'listen',
  interfaces: 'listen',
  directory: 'storage',
  'zonefiles-path': 'storage',
  tsig: 'keys',
  key: 'keys',
  algo: 'algorithm',
  zone: 'zones',
  template: 'defaults',
  alert: 'alerts',
  alerting: 'alerts',
  'notify-url': 'webhook',
  url: 'webhook',
};

/** "zones[].primaries" for every key anywhere, to point at the right section for a misplaced key. */
export function keyLocations(): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, string[]>();
  const walk = (options: Options, prefix: string): void => {
    for (const [key, o] of Object.entries(options)) {
      const at = prefix ? `${prefix}.${key}` : key;
      out.set(key, [...(out.get(key) ?? []), at]);
      if (o.type.kind === 'map') walk(o.type.options, at);
      if (o.type.kind === 'list' && o.type.of.kind === 'map') walk(o.type.of.options, `${at}[]`);
    }
  };
  walk(ROOT_OPTIONS, '');
  return out;
}

/** A short description of a type for messages and the reference. */
export function describeType(t: ValueType): string {
  switch (t.kind) {
    case 'string':
      return 'string';
    case 'path':
      return 'path';
    case 'bool':
      return 'boolean';
    case 'int':
      return t.max >= Number.MAX_SAFE_INTEGER ? `integer >= ${t.min}` : `integer ${t.min}..${t.max}`;
    case 'size':
      return 'size (bytes, or k/M/G/T binary units)';
    case 'duration':
      return t.integer ? 'duration (whole seconds)' : 'duration';
    case 'enum':
      return t.values.join(', ');
    case 'domain':
      return 'domain name';
    case 'base64':
      return 'base64';
    case 'key-ref':
      return 'key name (from keys)';
    case 'address':
      return t.defaultPort === undefined ? '"addr:port"' : '"addr[:port]"';
    case 'network':
      return '"addr[/len]"';
    case 'remote':
      return '"addr[:port]" or {address, key}';
    case 'acl':
      return '"addr[/len]" or {address, key}';
    case 'list':
      return `list of ${describeType(t.of)}`;
    case 'map':
      return 'mapping';
  }
}

function describeDefault(o: Option, t: ValueType): string {
  if (o.required) return 'required';
  if (o.defaultDoc !== undefined) return o.defaultDoc;
  const v = o.default;
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `\`${JSON.stringify(v).replaceAll(',', ', ')}\``;
  if (t.kind === 'duration' && typeof v === 'string') return `\`${v}\``;
  if (t.kind === 'duration' && typeof v === 'number') return `\`${formatDuration(v)}\``;
  if (t.kind === 'size' && typeof v === 'number') return `\`${formatSize(v)}\``;
  if (t.kind === 'int' && typeof v === 'number' && v >= 10000) return `\`${v.toLocaleString('en-US').replaceAll(',', '_')}\``;
  return `\`${String(v)}\``;
}

const cell = (s: string): string => s.replaceAll('|', '\\|');

/** The config reference as a Markdown table: one row per key, in schema order. */
export function renderReference(): string {
  const rows: string[] = ['| key | type | default | description |', '|---|---|---|---|'];
  const walk = (options: Options, prefix: string): void => {
    for (const [key, o] of Object.entries(options)) {
      const at = prefix ? `${prefix}.${key}` : key;
      const t = o.type;
      const nested = t.kind === 'map' ? t.options : t.kind === 'list' && t.of.kind === 'map' ? t.of.options : undefined;
      // defaults and zones[].alerts repeat sections documented once.
      if (nested && key !== 'defaults' && !(nested === ALERT_OPTIONS && prefix !== '')) {
        if (t.kind === 'list') rows.push(`| \`${at}\` | list | ${cell(describeDefault(o, t))} | ${cell(o.doc)} |`);
        walk(nested, t.kind === 'list' ? `${at}[]` : at);
        continue;
      }
      rows.push(`| \`${at}\` | ${cell(describeType(t))} | ${cell(describeDefault(o, t))} | ${cell(o.doc)} |`);
    }
  };
  walk(ROOT_OPTIONS, '');
  return rows.join('\n') + '\n';
}
