// Config loading: YAML -> schema check (every problem, each with FILE:LINE:COL and its YAML path) ->
// defaults and inheritance -> a deeply frozen Config.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { NameSyntaxError } from '../wire/errors.js';
import { nameFromText, nameToLower, nameToText, ROOT } from '../wire/name.js';
import { AddressSyntaxError, ipOctets, parseHostPort, parseNetwork, type HostPort, type Network } from './address.js';
import { DurationSyntaxError, formatDuration, parseDuration } from './duration.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import {
  ACL_OPTIONS,
  ALERT_OPTIONS,
  CLAMP_PAIRS,
  DEFAULTS_OPTIONS,
  KEY_OPTIONS,
  keyLocations,
  LOG_OPTIONS,
  REMOTE_OPTIONS,
  ROOT_OPTIONS,
  SERVER_OPTIONS,
  SYNONYMS,
  ZONE_OPTIONS,
  type Option,
  type Options,
  type ValueType,
} from './schema.js';
import { formatSize, parseSize, SizeSyntaxError } from './size.js';
import type { AclEntry, AlertSettings, Config, LogConfig, RemoteConfig, ServerConfig, TsigKeyConfig, ZoneConfig } from './types.js';

export { ConfigError, formatProblem, type ConfigErrorCode, type ConfigProblem } from './errors.js';
export type * from './types.js';

/** Read and check a config file. Throws ConfigError (code ERR_CONFIG_READ when it cannot be read). */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError([{ file: path, line: 0, col: 0, path: '', message: `cannot read the config: ${reason}` }], 'ERR_CONFIG_READ');
  }
  return parseConfig(text, path);
}

/** Check config text read from `path` (named in messages; relative paths in the config are resolved
 * against its directory). Throws ConfigError listing every problem found. */
export function parseConfig(text: string, path: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  const ctx = new Context(doc, dirname(resolve(path)), lineCounter);
  for (const e of doc.errors) ctx.problem(e.pos[0], '', yamlMessage(e.code, e.message));
  for (const w of doc.warnings) ctx.problem(w.pos[0], '', yamlMessage(w.code, w.message));
  let config: Config | undefined;
  // After a syntax error the tree is a guess; checking it would mostly report noise.
  if (doc.errors.length === 0) {
    const root = doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null) ? emptyMap('') : readMap(doc.contents, ROOT_OPTIONS, '', ctx);
    config = build(root === FAIL ? emptyMap('') : root, ctx, resolve(path));
  }
  if (ctx.problems.length > 0 || !config) throw new ConfigError(ctx.finish(path));
  return deepFreeze(config);
}

// ---------------------------------------------------------------------------------------------------
// Walking the YAML tree against the schema.

/** The marker for a value that was reported as a problem. */
const FAIL = Symbol('invalid');
type Parsed = unknown;

/** A checked mapping: the valid values, and which keys were written at all (valid or not). */
interface RawMap {
  readonly path: string;
  readonly values: Record<string, Parsed>;
  readonly present: Set<string>;
}

const emptyMap = (path: string): RawMap => ({ path, values: {}, present: new Set() });

interface Located {
  readonly offset: number | undefined;
  readonly path: string;
  readonly message: string;
}

interface KeyRef {
  readonly name: string;
  readonly written: string;
  readonly offset: number | undefined;
  readonly path: string;
}

/** A YAML node: typed loosely because it may also be a default built from a plain value. */
type YNode = unknown;

class Context {
  readonly problems: Located[] = [];
  readonly keyRefs: KeyRef[] = [];
  /** Offsets of keys and of values, by YAML path, for checks that run after the walk. */
  readonly keyAt = new Map<string, number | undefined>();
  readonly valueAt = new Map<string, number | undefined>();
  constructor(
    readonly doc: Document,
    readonly baseDir: string,
    readonly lineCounter?: LineCounter,
  ) {}

  /** "LINE:COL" of an offset, for messages that point at a second place. */
  lineCol(offset: number | undefined): string {
    if (offset === undefined || !this.lineCounter) return '?';
    const { line, col } = this.lineCounter.linePos(offset);
    return `${line}:${col}`;
  }

  problem(offset: number | undefined, path: string, message: string): typeof FAIL {
    this.problems.push({ offset, path, message });
    return FAIL;
  }

  /** Where the key of `path` is written, else (for list items) the value. */
  at(path: string): number | undefined {
    return this.keyAt.get(path) ?? this.valueAt.get(path);
  }

  finish(file: string): Omit<ConfigProblem, 'text'>[] {
    const lc = this.lineCounter;
    const sorted = this.problems
      .map((p, i) => ({ p, i }))
      .sort((a, b) => (a.p.offset ?? Infinity) - (b.p.offset ?? Infinity) || a.i - b.i);
    return sorted.map(({ p }) => {
      const pos = p.offset === undefined || !lc ? { line: 0, col: 0 } : lc.linePos(p.offset);
      return { file, line: pos.line, col: pos.col, path: p.path, message: p.message };
    });
  }
}

function yamlMessage(code: string, message: string): string {
  switch (code) {
    case 'MULTIPLE_DOCS':
      return 'the config must be a single YAML document (a second "---" starts another)';
    case 'DUPLICATE_KEY':
      return 'this key is given twice in the same mapping';
    case 'TAB_AS_INDENT':
      return 'tabs are not allowed for indentation in YAML; use spaces';
    default:
      return `YAML: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  }
}

function offsetOf(node: YNode): number | undefined {
  const range = (node as { range?: readonly number[] } | null)?.range;
  return range ? range[0] : undefined;
}

function deref(node: YNode, ctx: Context): YNode {
  return isAlias(node) ? (node.resolve(ctx.doc) ?? null) : node;
}

function isNull(node: YNode): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** The text of a scalar as written (so `secret: 1234` or `name: 1.2` stay strings), or undefined. */
function scalarText(node: YNode): string | undefined {
  if (!isScalar(node) || node.value === null) return undefined;
  return typeof node.source === 'string' ? node.source : String(node.value);
}

function describeNode(node: YNode): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isNull(node)) return 'nothing';
  if (isScalar(node)) return typeof node.value === 'string' ? `"${node.value}"` : String(node.value);
  return 'something else';
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

function readMap(node: YNode, options: Options, path: string, ctx: Context): RawMap | typeof FAIL {
  node = deref(node, ctx);
  if (!isMap(node)) return ctx.problem(offsetOf(node), path, `expected a mapping (key: value), got ${describeNode(node)}`);
  const out: RawMap = { path, values: {}, present: new Set() };
  for (const pair of node.items) {
    const keyNode = deref(pair.key, ctx);
    const key = scalarText(keyNode);
    if (key === undefined) {
      ctx.problem(offsetOf(keyNode), path, `a key must be a plain word, got ${describeNode(keyNode)}`);
      continue;
    }
    const option = Object.hasOwn(options, key) ? options[key] : undefined;
    const at = join(path, key);
    if (!option) {
      ctx.problem(offsetOf(keyNode), at, unknownKey(key, options));
      continue;
    }
    const value = deref(pair.value, ctx);
    ctx.keyAt.set(at, offsetOf(keyNode));
    ctx.valueAt.set(at, offsetOf(value) ?? offsetOf(keyNode));
    // `key:` with nothing (or ~) means "not set": the default applies.
    if (isNull(value)) continue;
    out.present.add(key);
    const v = readValue(value, option.type, at, ctx);
    if (v !== FAIL) out.values[key] = v;
  }
  for (const [key, option] of Object.entries(options)) {
    if (option.required && !out.present.has(key)) ctx.problem(offsetOf(node), path, `missing required key "${key}"`);
  }
  return out;
}

const LOCATIONS = keyLocations();

function unknownKey(key: string, options: Options): string {
  const norm = key.toLowerCase().replaceAll('_', '-');
  const candidates = Object.keys(options);
  if (options === DEFAULTS_OPTIONS && Object.hasOwn(ZONE_OPTIONS, norm)) {
    return `"${key}" cannot be set in defaults: it is set per zone`;
  }
  const synonym = SYNONYMS[norm];
  let suggestion = synonym !== undefined && candidates.includes(synonym) ? synonym : nearest(norm, candidates);
  if (suggestion === undefined) {
    // Right key, wrong section ("listen" at the top instead of under "server").
    const elsewhere = LOCATIONS.get(norm) ?? LOCATIONS.get(SYNONYMS[norm] ?? '');
    if (elsewhere) suggestion = elsewhere[0];
  }
  return `unknown key "${key}"${suggestion !== undefined ? `; did you mean "${suggestion}"?` : ''}`;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions, the commonest typo). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word`, if close enough to be a plausible typo of it. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(c.length, word.length) / 3));
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** A domain name in the stored form: lower case with the final dot. */
export function normalizeName(text: string): string {
  if (text === '@' || text.trim() !== text || text === '') throw new NameSyntaxError(`"${text}" is not a domain name`);
  return nameToText(nameToLower(nameFromText(text, ROOT)));
}

function expected(node: YNode, path: string, ctx: Context, what: string): typeof FAIL {
  return ctx.problem(offsetOf(node), path, `expected ${what}, got ${describeNode(node)}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function readValue(node: YNode, type: ValueType, path: string, ctx: Context): Parsed | typeof FAIL {
  node = deref(node, ctx);
  const offset = offsetOf(node);
  const text = scalarText(node);
  const fail = (message: string): typeof FAIL => ctx.problem(offset, path, message);
  const needText = (what: string): string | typeof FAIL => (text === undefined ? expected(node, path, ctx, what) : text);
  try {
    switch (type.kind) {
      case 'string': {
        const s = needText('a string');
        if (s === FAIL) return FAIL;
        if (s === '' && !type.allowEmpty) return fail('must not be empty');
        if (type.maxLength !== undefined && s.length > type.maxLength) return fail(`longer than ${type.maxLength} characters`);
        return s;
      }
      case 'path': {
        const s = needText('a path');
        if (s === FAIL) return FAIL;
        if (s === '') return fail('must not be empty');
        return resolve(ctx.baseDir, s);
      }
      case 'bool': {
        if (isScalar(node) && typeof node.value === 'boolean') return node.value;
        const s = text?.toLowerCase();
        if (s === 'yes' || s === 'on' || s === 'true') return true;
        if (s === 'no' || s === 'off' || s === 'false') return false;
        return expected(node, path, ctx, 'true or false');
      }
      case 'int':
      case 'size': {
        let n: number;
        if (type.kind === 'size' && text !== undefined) {
          n = parseSize(isScalar(node) && typeof node.value === 'number' ? node.value : text);
        } else if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value)) {
          n = node.value;
        } else if (text !== undefined && /^\d+(?:_\d+)*$/.test(text)) {
          // YAML 1.2 reads 10_000_000 as a string; the reference writes big numbers that way.
          n = Number(text.replaceAll('_', ''));
        } else {
          return expected(node, path, ctx, type.kind === 'int' ? 'a whole number' : 'a size');
        }
        const show = type.kind === 'size' ? formatSize : String;
        if (n < type.min || n > type.max) {
          const range = type.max >= Number.MAX_SAFE_INTEGER ? `at least ${show(type.min)}` : `between ${show(type.min)} and ${show(type.max)}`;
          return fail(`out of range: must be ${range}, got ${text}`);
        }
        return n;
      }
      case 'duration': {
        if (text === undefined) return expected(node, path, ctx, 'a duration (seconds, or e.g. 30s, 5m, 2h, 1d, 1w)');
        const n = parseDuration(isScalar(node) && typeof node.value === 'number' ? node.value : text);
        if (type.integer && !Number.isInteger(n)) return fail(`must be whole seconds, got ${text}`);
        if (n < type.min || n > type.max) {
          return fail(`out of range: must be between ${formatDuration(type.min)} and ${formatDuration(type.max)}, got ${text}`);
        }
        return n;
      }
      case 'enum': {
        const s = needText(`one of ${type.values.join(', ')}`);
        if (s === FAIL) return FAIL;
        const found = type.values.find((v) => v === s.toLowerCase());
        if (found !== undefined) return found;
        const near = nearest(s, type.values);
        return fail(`"${s}" is not one of ${type.values.join(', ')}${near !== undefined ? `; did you mean "${near}"?` : ''}`);
      }
      case 'domain': {
        const s = needText('a domain name');
        return s === FAIL ? FAIL : normalizeName(s);
      }
      case 'base64': {
        const s = needText('a base64 string');
        if (s === FAIL) return FAIL;
        if (s === '' || !BASE64.test(s)) return fail('not valid base64 (RFC 4648 alphabet, padded with "=" to a multiple of 4)');
        return Buffer.from(s, 'base64');
      }
      case 'key-ref': {
        const s = needText('a key name');
        if (s === FAIL) return FAIL;
        const name = normalizeName(s);
        ctx.keyRefs.push({ name, written: s, offset, path });
        return name;
      }
      case 'address': {
        const s = needText(type.defaultPort === undefined ? 'an "address:port"' : 'an "address[:port]"');
        if (s === FAIL) return FAIL;
        const opts = type.defaultPort === undefined ? { allowZeroPort: type.allowZeroPort ?? false } : { defaultPort: type.defaultPort, allowZeroPort: type.allowZeroPort ?? false };
        return parseHostPort(s, opts);
      }
      case 'network': {
        const s = needText('an address or network ("addr[/len]")');
        return s === FAIL ? FAIL : parseNetwork(s);
      }
      case 'remote': {
        if (text !== undefined) return parseHostPort(text, { defaultPort: 53 });
        if (!isMap(node)) return expected(node, path, ctx, 'an "address[:port]" or {address, key}');
        const m = readMap(node, REMOTE_OPTIONS, path, ctx);
        if (m === FAIL || m.values.address === undefined) return FAIL;
        const out: RemoteConfig = { ...(m.values.address as HostPort) };
        return m.values.key === undefined ? out : { ...out, key: m.values.key as string };
      }
      case 'acl': {
        if (text !== undefined) return { network: parseNetwork(text) } satisfies AclEntry;
        if (!isMap(node)) return expected(node, path, ctx, 'an "address[/len]" or {address, key}');
        const m = readMap(node, ACL_OPTIONS, path, ctx);
        if (m === FAIL) return FAIL;
        // (A mapping holding only unknown keys has been reported already.)
        if (node.items.length === 0) return fail('an ACL entry needs an address, a key, or both');
        if (m.present.size === 0) return FAIL;
        if (m.present.size !== Object.keys(m.values).length) return FAIL;
        const entry: { network?: Network; key?: string } = {};
        if (m.values.address !== undefined) entry.network = m.values.address as Network;
        if (m.values.key !== undefined) entry.key = m.values.key as string;
        return entry;
      }
      case 'list': {
        const one = type.of.kind !== 'map' && !isSeq(node) && !isMap(node) && !isNull(node);
        // A single value stands for a list of one (`listen: 127.0.0.1:53`), except for lists of mappings.
        const items: YNode[] = isSeq(node) ? node.items : one ? [node] : [];
        if (!isSeq(node) && !one) return expected(node, path, ctx, `a list of ${type.of.kind === 'map' ? 'mappings' : 'values'}`);
        if (type.nonEmpty && items.length === 0) return fail('must not be empty');
        const out: Parsed[] = [];
        let failed = false;
        items.forEach((item, i) => {
          const at = `${path}[${i}]`;
          const it = deref(item, ctx);
          ctx.valueAt.set(at, offsetOf(it) ?? offset);
          if (isNull(it)) {
            ctx.problem(offsetOf(it) ?? offset, at, 'empty list item');
            failed = true;
            return;
          }
          const v = readValue(it, type.of, at, ctx);
          if (v === FAIL) failed = true;
          else out.push(v);
        });
        // A list of mappings (zones, keys) keeps its good items, so each is checked further on its own.
        return failed && type.of.kind !== 'map' ? FAIL : out;
      }
      case 'map':
        return readMap(node, type.options, path, ctx);
    }
  } catch (err) {
    if (err instanceof AddressSyntaxError || err instanceof DurationSyntaxError || err instanceof SizeSyntaxError || err instanceof NameSyntaxError) {
      return fail(err.message);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// From checked values to the Config: defaults, inheritance and the checks across keys.

const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const defaultCache = new WeakMap<Option, Parsed>();

/** An option's default, parsed by the same code as a user's value (so the reference shows config syntax). */
function defaultOf(option: Option): Parsed {
  if (option.default === undefined) return undefined;
  if (defaultCache.has(option)) return defaultCache.get(option);
  const doc = new Document();
  const ctx = new Context(doc, '/');
  const v = readValue(doc.createNode(option.default), option.type, 'default', ctx);
  if (v === FAIL) throw new Error(`schema default ${JSON.stringify(option.default)} is invalid: ${ctx.problems[0]?.message}`);
  defaultCache.set(option, v);
  return v;
}

/** Every key of `options`, camelCased, from the first layer that has it, else its default. */
function resolveOptions(options: Options, layers: readonly (RawMap | undefined)[]): Record<string, Parsed> {
  const out: Record<string, Parsed> = {};
  for (const [key, option] of Object.entries(options)) {
    const layer = layers.find((l) => l !== undefined && Object.hasOwn(l.values, key));
    const v = layer ? layer.values[key] : defaultOf(option);
    if (v !== undefined) out[camel(key)] = v;
  }
  return out;
}

function section(root: RawMap, key: string): RawMap | undefined {
  return root.values[key] as RawMap | undefined;
}

function build(root: RawMap, ctx: Context, file: string): Config {
  const server = resolveOptions(SERVER_OPTIONS, [section(root, 'server')]) as unknown as ServerConfig;
  const log = resolveOptions(LOG_OPTIONS, [section(root, 'log')]) as unknown as LogConfig;
  checkListen(server, ctx);
  const keys = buildKeys((root.values.keys as RawMap[] | undefined) ?? [], ctx);
  checkKeyRefs(keys, ctx);
  const defaults = section(root, 'defaults');
  if (defaults) checkClamps(defaults, [defaults], ctx);
  const rootAlerts = section(root, 'alerts');
  const alerts = buildAlerts([rootAlerts], ctx);
  const zones = buildZones((root.values.zones as RawMap[] | undefined) ?? [], defaults, rootAlerts, ctx);
  return { file, server, log, keys, alerts, zones };
}

/** The alert settings when nothing is configured (no webhook, no command, default thresholds). */
export function defaultAlerts(): AlertSettings {
  return Object.freeze(resolveOptions(ALERT_OPTIONS, [])) as unknown as AlertSettings;
}

/** Alert settings from the first layer that sets each key; a webhook or command of "" is off.
 * Problems are reported once, at the layer that wrote the value (the first layer). */
function buildAlerts(layers: readonly (RawMap | undefined)[], ctx: Context): AlertSettings {
  const v = resolveOptions(ALERT_OPTIONS, layers) as { -readonly [K in keyof AlertSettings]: AlertSettings[K] };
  const own = layers[0];
  if (v.webhook === '') delete v.webhook;
  else if (v.webhook !== undefined && own?.present.has('webhook')) {
    const path = `${own.path}.webhook`;
    let url: URL | undefined;
    try {
      url = new URL(v.webhook);
    } catch {
      // reported below
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.problem(ctx.valueAt.get(path), path, `webhook "${v.webhook}" is not an http:// or https:// URL`);
    }
  }
  if (v.command === '') delete v.command;
  return v;
}

function checkListen(server: ServerConfig, ctx: Context): void {
  const seen = new Set<string>();
  server.listen.forEach((a, i) => {
    const id = `${ipOctets(a.host)!.join('.')}#${a.port}`;
    if (seen.has(id)) ctx.problem(ctx.at(`server.listen[${i}]`), `server.listen[${i}]`, `"${a.host}" port ${a.port} is listed twice`);
    seen.add(id);
  });
}

function buildKeys(raw: readonly RawMap[], ctx: Context): TsigKeyConfig[] {
  const keys: TsigKeyConfig[] = [];
  const first = new Map<string, number | undefined>();
  for (const k of raw) {
    const v = resolveOptions(KEY_OPTIONS, [k]) as Partial<TsigKeyConfig>;
    if (v.name === undefined || v.algorithm === undefined || v.secret === undefined) continue;
    const prev = first.get(v.name);
    if (first.has(v.name)) {
      ctx.problem(ctx.valueAt.get(`${k.path}.name`), `${k.path}.name`, `TSIG key "${v.name}" is defined twice (first at ${ctx.lineCol(prev)})`);
      continue;
    }
    first.set(v.name, ctx.valueAt.get(`${k.path}.name`));
    keys.push({ name: v.name, algorithm: v.algorithm, secret: v.secret });
  }
  return keys;
}

function checkKeyRefs(keys: readonly TsigKeyConfig[], ctx: Context): void {
  const names = new Set(keys.map((k) => k.name));
  for (const ref of ctx.keyRefs) {
    if (names.has(ref.name)) continue;
    if (keys.length === 0) {
      ctx.problem(ref.offset, ref.path, `unknown key "${ref.written}": no keys are defined under "keys"`);
      continue;
    }
    const near = nearest(ref.name, [...names]);
    const hint = near !== undefined ? `; did you mean "${near.replace(/\.$/, '')}"?` : '';
    ctx.problem(ref.offset, ref.path, `unknown key "${ref.written}": not defined under "keys"${hint}`);
  }
}

/** min <= max for each timer clamp, reported once, at the layer that set the offending value. */
function checkClamps(own: RawMap, layers: readonly (RawMap | undefined)[], ctx: Context): void {
  for (const [minKey, maxKey] of CLAMP_PAIRS) {
    if (!own.present.has(minKey) && !own.present.has(maxKey)) continue;
    const v = resolveOptions({ [minKey]: ZONE_OPTIONS[minKey]!, [maxKey]: ZONE_OPTIONS[maxKey]! }, layers);
    const min = v[camel(minKey)] as number | undefined;
    const max = v[camel(maxKey)] as number | undefined;
    if (min === undefined || max === undefined || min <= max) continue;
    const key = own.present.has(minKey) ? minKey : maxKey;
    const path = `${own.path}.${key}`;
    ctx.problem(ctx.valueAt.get(path), path, `${minKey} (${formatDuration(min)}) is above ${maxKey} (${formatDuration(max)})`);
  }
}

/** A primary's address as an allow-notify entry: NOTIFY comes from where we pull from, with its key. */
function aclFromRemote(r: RemoteConfig): AclEntry {
  const network: Network = { address: r.host, prefix: r.family === 4 ? 32 : 128, family: r.family };
  return r.key === undefined ? { network } : { network, key: r.key };
}

function buildZones(raw: readonly RawMap[], defaults: RawMap | undefined, rootAlerts: RawMap | undefined, ctx: Context): ZoneConfig[] {
  const zones: ZoneConfig[] = [];
  const first = new Map<string, number | undefined>();
  for (const z of raw) {
    const hasFile = z.present.has('file');
    const ownPrimaries = z.present.has('primaries');
    if (hasFile && ownPrimaries) {
      ctx.problem(ctx.at(`${z.path}.file`), `${z.path}.file`, 'a zone has either "file" or "primaries", not both');
    } else if (!hasFile && !ownPrimaries && !defaults?.present.has('primaries') && z.present.has('name')) {
      const name = (z.values.name as string | undefined) ?? '';
      ctx.problem(ctx.valueAt.get(z.path), z.path, `zone "${name}" has neither "file" nor "primaries" (set one, or primaries in defaults)`);
    }
    checkClamps(z, [z, defaults], ctx);
    // A file zone does not inherit primaries: `defaults.primaries` is for the secondaries beside it.
    const inherited = hasFile && defaults ? { ...defaults, values: { ...defaults.values, primaries: [] } } : defaults;
    const v = resolveOptions(ZONE_OPTIONS, [z, inherited]);
    const name = v.name as string | undefined;
    if (name === undefined) continue;
    if (first.has(name)) {
      const prev = ctx.lineCol(first.get(name));
      ctx.problem(ctx.valueAt.get(`${z.path}.name`), `${z.path}.name`, `zone "${name}" is defined twice (first at ${prev})`);
      continue;
    }
    first.set(name, ctx.valueAt.get(`${z.path}.name`));
    const primaries = (v.primaries as RemoteConfig[] | undefined) ?? [];
    const zone = {
      ...v,
      primaries,
      allowNotify: (v.allowNotify as AclEntry[] | undefined) ?? primaries.map(aclFromRemote),
      alerts: buildAlerts([z.values.alerts as RawMap | undefined, rootAlerts], ctx),
    } as unknown as ZoneConfig;
    zones.push(zone);
  }
  return zones;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
