// Master-file reader (RFC 1035 5, RFC 2308 4 $TTL, RFC 3597 5 generic RDATA): text to ResourceRecords.
//
// Behaviour worth knowing (chosen to match Knot DNS, or BIND where Knot leaves it to its config):
// - An omitted TTL is the $TTL in force (or `defaultTtl`, which acts as an initial $TTL). With no
//   $TTL at all, it is the MINIMUM of the zone's SOA once the SOA has been read (the SOA itself
//   included), as BIND does; before any SOA, 3600 (Knot's default-ttl). An earlier record's explicit
//   TTL is NOT inherited: neither Knot 3.2 nor BIND 9.18 do that, whatever RFC 1035 said.
// - An omitted class is the zone's class; any other class is an error.
// - An omitted owner is the previous record's owner in the same file; the first record of a file
//   must name one. $INCLUDE parses the file with the given origin (default: the current one) and
//   the $TTL in force; after it, origin, $TTL and owner are what they were before (RFC 1035 5.1).
// - TTLs above 2^31-1 are errors (RFC 2181 8). Owners must be at or below the zone origin.
// - Meta types (OPT, 128-255) cannot appear. `\# LEN HEX` is accepted for every type and checked
//   against the type's format when we know it.

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Class, Type, classFromText, typeFromText, typeToText } from '../wire/constants.js';
import { NameSyntaxError } from '../wire/errors.js';
import { isSubdomain, nameFromText, nameToText } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { parseDuration, unescapeText } from './encoding.js';
import { RdataTextError, ZoneFileError, type ZoneFileErrorCode } from './errors.js';
import { LexError, Lexer, toOctetString, type Entry, type Token } from './lexer.js';
import { rdataFromTokens } from './rdata-text.js';

export { ZoneFileError } from './errors.js';

export interface ParseZoneOptions {
  /** The zone apex: the initial $ORIGIN, and every owner must be at or below it. */
  origin: Buffer;
  /** File name for error messages and for resolving relative $INCLUDE paths. */
  file?: string;
  /** TTL for records without one before any $TTL (an implicit initial $TTL). */
  defaultTtl?: number;
  /** The zone's class (default IN). */
  class?: number;
  /** Reads an $INCLUDE file (path already resolved against the including file). Absent: $INCLUDE is an error. */
  readInclude?: (path: string) => string | Buffer;
  /** Collect mode: every error is passed here and parsing goes on with the next entry. Absent: throw the first. */
  onError?: (err: ZoneFileError) => void;
  /** Deepest $INCLUDE nesting allowed (default 10). */
  maxIncludeDepth?: number;
}

const MAX_TTL = 0x7fffffff; // RFC 2181 8
const FALLBACK_TTL = 3600; // Knot's default-ttl, when neither $TTL nor an SOA says anything

/** What a whole parse shares, across included files. */
interface Shared {
  apex: Buffer;
  zoneClass: number;
  records: ResourceRecord[];
  /** SOA MINIMUM, the default TTL when no $TTL is in force (once the SOA is read). */
  soaMinimum: number | undefined;
  opts: ParseZoneOptions;
  maxDepth: number;
}

/** What one file has in force. */
interface FileState {
  file: string;
  depth: number;
  origin: Buffer;
  ttl: number | undefined;
  owner: Buffer | undefined;
  ownerText: string;
  ownerOrigin: Buffer | undefined;
}

class EntryError extends Error {
  constructor(
    readonly code: ZoneFileErrorCode,
    readonly why: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(why);
  }
}

function at(code: ZoneFileErrorCode, why: string, t: Token): never {
  throw new EntryError(code, why, t.line, t.col);
}

/** Position just after the last token of an entry (where a missing field would have been). */
function afterEntry(e: Entry): { line: number; col: number } {
  const t = e.tokens[e.tokens.length - 1]!;
  return { line: t.line, col: t.col + t.len };
}

function octets(text: string | Buffer): string {
  // Buffers (files) are taken octet for octet; JS strings are UTF-8 encoded first.
  return typeof text === 'string' ? toOctetString(text) : text.toString('latin1');
}

function nameAt(t: Token, origin: Buffer, code: ZoneFileErrorCode, what: string): Buffer {
  try {
    return nameFromText(t.text, origin);
  } catch (err) {
    if (err instanceof NameSyntaxError) at(code, `bad ${what}: ${err.message}`, t);
    throw err;
  }
}

function parseFile(text: string, st: FileState, sh: Shared): void {
  const lexer = new Lexer(text);
  const report = (err: ZoneFileError): void => {
    if (!sh.opts.onError) throw err;
    sh.opts.onError(err);
  };
  for (;;) {
    let entry: Entry | null;
    try {
      entry = lexer.next();
    } catch (err) {
      if (!(err instanceof LexError)) throw err;
      report(new ZoneFileError('ERR_ZONE_SYNTAX', err.why, st.file, err.line, err.col));
      continue;
    }
    if (!entry) return;
    try {
      const first = entry.tokens[0]!;
      if (!entry.blankStart && !first.quoted && first.text.charCodeAt(0) === 0x24 /* $ */) directive(entry, st, sh);
      else record(entry, st, sh);
    } catch (err) {
      if (err instanceof EntryError) report(new ZoneFileError(err.code, err.why, st.file, err.line, err.col));
      else if (err instanceof RdataTextError) {
        const pos = err.token ?? afterEntry(entry);
        report(new ZoneFileError('ERR_ZONE_RDATA', err.message, st.file, pos.line, pos.col));
      } else throw err;
    }
  }
}

function directive(e: Entry, st: FileState, sh: Shared): void {
  const [d, a, b, extra] = e.tokens as [Token, Token | undefined, Token | undefined, Token | undefined];
  const name = d.text.toUpperCase();
  const missing: (what: string) => never = (what) => {
    const pos = afterEntry(e);
    throw new EntryError('ERR_ZONE_DIRECTIVE', `${name} needs ${what}`, pos.line, pos.col);
  };
  switch (name) {
    case '$ORIGIN':
      if (!a) missing('a domain name');
      if (b) at('ERR_ZONE_DIRECTIVE', `unexpected "${b.text}" after $ORIGIN`, b);
      st.origin = nameAt(a, st.origin, 'ERR_ZONE_DIRECTIVE', '$ORIGIN');
      return;
    case '$TTL': {
      if (!a) missing('a TTL');
      if (b) at('ERR_ZONE_DIRECTIVE', `unexpected "${b.text}" after $TTL`, b);
      const v = a.quoted ? undefined : parseDuration(a.text, MAX_TTL);
      if (v === undefined) at('ERR_ZONE_TTL', `bad TTL "${a.text}"`, a);
      st.ttl = v;
      return;
    }
    case '$INCLUDE': {
      if (!a) missing('a file name');
      if (extra) at('ERR_ZONE_DIRECTIVE', `unexpected "${extra.text}" after $INCLUDE`, extra);
      const origin = b ? nameAt(b, st.origin, 'ERR_ZONE_DIRECTIVE', '$INCLUDE origin') : st.origin;
      if (!sh.opts.readInclude) at('ERR_ZONE_INCLUDE', '$INCLUDE is not allowed here', d);
      if (st.depth + 1 > sh.maxDepth) at('ERR_ZONE_INCLUDE', `$INCLUDE nested deeper than ${sh.maxDepth} (a loop?)`, d);
      let file: string;
      try {
        file = unescapeText(a.text).toString('utf8');
      } catch (err) {
        return at('ERR_ZONE_INCLUDE', `bad file name: ${(err as Error).message}`, a);
      }
      // Relative to the including file, as BIND and Knot resolve it.
      if (!path.isAbsolute(file) && sh.opts.file !== undefined) file = path.resolve(path.dirname(st.file), file);
      let text: string;
      try {
        text = octets(sh.opts.readInclude(file));
      } catch (err) {
        return at('ERR_ZONE_INCLUDE', `cannot read included file "${file}": ${(err as Error).message}`, a);
      }
      parseFile(text, { file, depth: st.depth + 1, origin, ttl: st.ttl, owner: undefined, ownerText: '', ownerOrigin: undefined }, sh);
      return;
    }
    default:
      at('ERR_ZONE_DIRECTIVE', `unknown directive "${d.text}"`, d);
  }
}

function record(e: Entry, st: FileState, sh: Shared): void {
  const tokens = e.tokens;
  let i = 0;
  let owner: Buffer;
  if (e.blankStart) {
    if (!st.owner) at('ERR_ZONE_OWNER', 'no owner name, and no previous record to take it from', tokens[0]!);
    owner = st.owner;
  } else {
    const t = tokens[0]!;
    i = 1;
    if (st.owner && t.text === st.ownerText && st.origin === st.ownerOrigin) {
      owner = st.owner; // the common case of repeated owners: no second parse
    } else {
      owner = nameAt(t, st.origin, 'ERR_ZONE_OWNER', 'owner name');
      if (!isSubdomain(owner, sh.apex)) at('ERR_ZONE_OUT_OF_ZONE', `owner ${nameToText(owner)} is outside the zone ${nameToText(sh.apex)}`, t);
      st.owner = owner;
      st.ownerText = t.text;
      st.ownerOrigin = st.origin;
    }
  }
  // TTL and class, each optional, in either order (RFC 1035 5.1).
  let ttl: number | undefined;
  let cls: number | undefined;
  for (;;) {
    const t = tokens[i];
    if (!t) {
      const pos = afterEntry(e);
      throw new EntryError('ERR_ZONE_TYPE', 'missing type', pos.line, pos.col);
    }
    const c = t.text.charCodeAt(0);
    if (!t.quoted && c >= 0x30 && c <= 0x39) {
      if (ttl !== undefined) at('ERR_ZONE_TTL', `second TTL "${t.text}"`, t);
      ttl = parseDuration(t.text, MAX_TTL);
      if (ttl === undefined) at('ERR_ZONE_TTL', `bad TTL "${t.text}" (seconds, or units like 1h30m; at most ${MAX_TTL})`, t);
      i++;
      continue;
    }
    const k = t.quoted ? undefined : t.text === 'IN' ? Class.IN : classFromText(t.text);
    if (k === undefined) break;
    if (cls !== undefined) at('ERR_ZONE_CLASS', `second class "${t.text}"`, t);
    if (k !== sh.zoneClass) at('ERR_ZONE_CLASS', `class ${t.text} differs from the zone's class`, t);
    cls = k;
    i++;
  }
  const tt = tokens[i]!;
  const type = tt.quoted ? undefined : typeFromText(tt.text);
  if (type === undefined) at('ERR_ZONE_TYPE', `unknown type "${tt.text}"`, tt);
  if (type === Type.OPT || (type >= 128 && type <= 255)) at('ERR_ZONE_TYPE', `${typeToText(type)} is a meta type, not data`, tt);
  const rdata = rdataFromTokens(type, tokens, i + 1, st.origin);
  if (ttl === undefined) {
    if (st.ttl !== undefined) ttl = st.ttl;
    else if (type === Type.SOA && isApexSoa(owner, sh)) ttl = rdata.readUInt32BE(rdata.length - 4);
    else ttl = sh.soaMinimum ?? FALLBACK_TTL;
  }
  if (type === Type.SOA && sh.soaMinimum === undefined && isApexSoa(owner, sh)) sh.soaMinimum = rdata.readUInt32BE(rdata.length - 4);
  sh.records.push({ owner, type, class: sh.zoneClass, ttl, rdata });
}

function isApexSoa(owner: Buffer, sh: Shared): boolean {
  return owner.length === sh.apex.length && isSubdomain(owner, sh.apex);
}

/**
 * Parse master-file text into records, in file order. Throws a ZoneFileError (`FILE:LINE:COL: why`)
 * on the first error, unless `onError` is given (then every error goes there and the records that
 * did parse are returned). A Buffer is taken octet for octet; a string is UTF-8 encoded first.
 */
export function parseZone(text: string | Buffer, opts: ParseZoneOptions): ResourceRecord[] {
  const sh: Shared = {
    apex: opts.origin,
    zoneClass: opts.class ?? Class.IN,
    records: [],
    soaMinimum: undefined,
    opts,
    maxDepth: opts.maxIncludeDepth ?? 10,
  };
  const st: FileState = {
    file: opts.file ?? '<input>',
    depth: 0,
    origin: opts.origin,
    ttl: opts.defaultTtl,
    owner: undefined,
    ownerText: '',
    ownerOrigin: undefined,
  };
  parseFile(octets(text), st, sh);
  return sh.records;
}

export interface ReadZoneOptions {
  defaultTtl?: number;
  class?: number;
  maxIncludeDepth?: number;
  onError?: (err: ZoneFileError) => void;
}

/** Read and parse a zone file; $INCLUDE paths are relative to the including file. Throws ZoneFileError. */
export async function readZoneFile(file: string, origin: Buffer, opts: ReadZoneOptions = {}): Promise<ResourceRecord[]> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new ZoneFileError('ERR_ZONE_READ', `cannot read zone file: ${(err as Error).message}`, file, 1, 1);
  }
  return parseZone(buf, { ...opts, origin, file, readInclude: (p) => readFileSync(p) });
}

/** Every error of a zone file (for `secondaryd check`), with the records that did parse. */
export async function checkZoneFile(
  file: string,
  origin: Buffer,
  opts: Omit<ReadZoneOptions, 'onError'> = {},
): Promise<{ records: ResourceRecord[]; errors: ZoneFileError[] }> {
  const errors: ZoneFileError[] = [];
  try {
    const records = await readZoneFile(file, origin, { ...opts, onError: (e) => errors.push(e) });
    return { records, errors };
  } catch (err) {
    if (err instanceof ZoneFileError) return { records: [], errors: [err] };
    throw err;
  }
}
