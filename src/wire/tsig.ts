// TSIG transaction signatures: sign and verify requests, responses and multi-message transfers (RFC 8945; HMAC RFC 2104; SHA-2 names RFC 4635).
//
// What the MAC covers (RFC 8945 4.3):
//
//   request:             message | full variables
//   first response:      len+MAC of the request | message | full variables
//   later TCP messages:  len+MAC of the previous signed message | every message since it | timers
//
// where "message" is the DNS message as it was before the TSIG RR was added: the RR cut off, ARCOUNT
// one less and the header ID put back to the TSIG Original ID; unsigned messages in a TCP stream
// are digested exactly as received. The full variables are key name and algorithm name (both in
// canonical lower case), CLASS ANY, TTL 0, time signed, fudge, error and other data; the timers are
// time signed and fudge only.
//
// Decisions, where the RFC leaves a choice:
// - MAC truncation (5.2.2.1): a MAC shorter than the hash is accepted when it is at least
//   max(10, hash length / 2) octets; shorter or longer is FORMERR. We never truncate our own MACs.
// - Verification order is the RFC's (5.2): format, key, MAC, then time, so a forger cannot make us
//   answer BADTIME, and a MAC that fails is reported as BADSIG whatever its time.
// - A response whose TSIG carries an error (BADSIG, BADKEY, BADTIME...) is reported as that error
//   (`remote: true`) without checking its MAC: it fails the transaction either way.
// - Up to 99 unsigned messages in a row are accepted in a TCP stream (5.3.1); the 100th, a stream
//   that does not start signed, or one whose last message is unsigned, is ERR_TSIG_UNSIGNED.
//
// Pure: no sockets, no clock (every function takes the time), no logging.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Hmac } from 'node:crypto';
import { Class, Rcode, Type } from './constants.js';
import type { MessageTsig } from './message.js';
import { nameEquals, nameFromText, nameToLower, nameToText, readName } from './name.js';
import type { ResourceRecord } from './record.js';

// ------------------------------------------------------------------------------------------------
// Keys and algorithms
// ------------------------------------------------------------------------------------------------

export type TsigAlgorithm = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

/** A shared secret. The config's TsigKeyConfig has this shape; the wire layer does not import config. */
export interface TsigKey {
  /** Key name in presentation format with the final dot ("xfr-key."); matched case-insensitively. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
}

interface AlgorithmInfo {
  readonly id: TsigAlgorithm;
  /** Wire form of the algorithm name, lower case (RFC 8945 6). */
  readonly wire: Buffer;
  /** node:crypto digest name. */
  readonly hash: string;
  /** Octets of the full HMAC output. */
  readonly size: number;
}

const ALGORITHMS: ReadonlyMap<TsigAlgorithm, AlgorithmInfo> = new Map(
  (
    [
      ['hmac-md5', 'hmac-md5.sig-alg.reg.int.', 'md5', 16],
      ['hmac-sha1', 'hmac-sha1.', 'sha1', 20],
      ['hmac-sha224', 'hmac-sha224.', 'sha224', 28],
      ['hmac-sha256', 'hmac-sha256.', 'sha256', 32],
      ['hmac-sha384', 'hmac-sha384.', 'sha384', 48],
      ['hmac-sha512', 'hmac-sha512.', 'sha512', 64],
    ] as const
  ).map(([id, name, hash, size]) => [id, { id, wire: nameFromText(name), hash, size }]),
);

/** The algorithm names we know, as lower-case presentation text. */
const BY_NAME: ReadonlyMap<string, AlgorithmInfo> = new Map([...ALGORITHMS.values()].map((a) => [nameToText(a.wire), a]));

/** The registered name of an algorithm ("hmac-md5.sig-alg.reg.int.", "hmac-sha256."). */
export function tsigAlgorithmName(alg: TsigAlgorithm): string {
  return nameToText(algorithmInfo(alg).wire);
}

/** The algorithm a wire-format algorithm name stands for, or undefined when we do not know it. */
export function tsigAlgorithmFromName(wire: Uint8Array): TsigAlgorithm | undefined {
  return BY_NAME.get(nameToText(nameToLower(wire)))?.id;
}

/** The shortest MAC we accept for an algorithm: max(10, half the hash) octets (RFC 8945 5.2.2.1). */
export function tsigMinMacLength(alg: TsigAlgorithm): number {
  return Math.max(10, Math.ceil(algorithmInfo(alg).size / 2));
}

function algorithmInfo(alg: TsigAlgorithm): AlgorithmInfo {
  const a = ALGORITHMS.get(alg);
  if (!a) throw new RangeError(`unknown TSIG algorithm ${String(alg)}`);
  return a;
}

interface PreparedKey {
  /** Key name, wire form, lower case: both the TSIG owner we write and the name in the variables. */
  readonly owner: Buffer;
  readonly alg: AlgorithmInfo;
}

const prepared = new WeakMap<TsigKey, PreparedKey>();

function prepare(key: TsigKey): PreparedKey {
  let p = prepared.get(key);
  if (!p) {
    p = { owner: nameToLower(nameFromText(key.name.endsWith('.') ? key.name : `${key.name}.`)), alg: algorithmInfo(key.algorithm) };
    prepared.set(key, p);
  }
  return p;
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

export const TsigErrorValue = { BADSIG: Rcode.BADSIG, BADKEY: Rcode.BADKEY, BADTIME: Rcode.BADTIME, BADTRUNC: Rcode.BADTRUNC } as const;

export type TsigErrorCode =
  | 'ERR_TSIG_BADSIG'
  | 'ERR_TSIG_BADKEY'
  | 'ERR_TSIG_BADTIME'
  | 'ERR_TSIG_BADTRUNC'
  | 'ERR_TSIG_FORMERR'
  | 'ERR_TSIG_UNSIGNED'
  | 'ERR_TSIG_PEER';

/**
 * A TSIG failure. `tsigError` is the value for the TSIG Error field (16 BADSIG, 17 BADKEY, 18 BADTIME,
 * 22 BADTRUNC; 0 for FORMERR and UNSIGNED), `rcode` the header RCODE a server answers with (NOTAUTH,
 * or FORMERR), `remote` true when the peer reported the error in its own TSIG RR.
 */
export class TsigError extends Error {
  readonly code: TsigErrorCode;
  readonly tsigError: number;
  readonly rcode: number;
  readonly remote: boolean;
  /** For a BADTIME request whose MAC verified: what tsigErrorResponse needs to sign the answer. */
  readonly key: TsigKey | undefined;
  readonly requestMac: Buffer | undefined;

  constructor(code: TsigErrorCode, tsigError: number, message: string, extra: { remote?: boolean; key?: TsigKey; requestMac?: Buffer } = {}) {
    super(message);
    this.name = 'TsigError';
    this.code = code;
    this.tsigError = tsigError;
    this.rcode = code === 'ERR_TSIG_FORMERR' ? Rcode.FORMERR : Rcode.NOTAUTH;
    this.remote = extra.remote ?? false;
    this.key = extra.key;
    this.requestMac = extra.requestMac;
  }
}

const formErr = (m: string): TsigError => new TsigError('ERR_TSIG_FORMERR', 0, m);
const badKey = (m: string): TsigError => new TsigError('ERR_TSIG_BADKEY', Rcode.BADKEY, m);
const badSig = (m: string): TsigError => new TsigError('ERR_TSIG_BADSIG', Rcode.BADSIG, m);
const unsigned = (m: string): TsigError => new TsigError('ERR_TSIG_UNSIGNED', 0, m);

const ERROR_NAMES: ReadonlyMap<number, string> = new Map([
  [Rcode.BADSIG, 'BADSIG'],
  [Rcode.BADKEY, 'BADKEY'],
  [Rcode.BADTIME, 'BADTIME'],
  [Rcode.BADMODE, 'BADMODE'],
  [Rcode.BADNAME, 'BADNAME'],
  [Rcode.BADALG, 'BADALG'],
  [Rcode.BADTRUNC, 'BADTRUNC'],
]);

/** The error a peer put in the Error field of its TSIG RR. */
function remoteError(t: TsigRdata): TsigError {
  const name = ERROR_NAMES.get(t.error) ?? `error ${t.error}`;
  let m = `peer reported TSIG ${name}`;
  if (t.error === Rcode.BADTIME && t.otherData.length === 6) {
    m += ` (its clock: ${readU48(t.otherData, 0)}, our request was signed at ${t.timeSigned})`;
  }
  const code: TsigErrorCode =
    t.error === Rcode.BADSIG ? 'ERR_TSIG_BADSIG'
    : t.error === Rcode.BADKEY ? 'ERR_TSIG_BADKEY'
    : t.error === Rcode.BADTIME ? 'ERR_TSIG_BADTIME'
    : t.error === Rcode.BADTRUNC ? 'ERR_TSIG_BADTRUNC'
    : 'ERR_TSIG_PEER';
  return new TsigError(code, t.error, m, { remote: true });
}

// ------------------------------------------------------------------------------------------------
// The TSIG RDATA (RFC 8945 4.2)
// ------------------------------------------------------------------------------------------------

export interface TsigRdata {
  /** Algorithm name, uncompressed wire form, as received. */
  algorithm: Buffer;
  /** Seconds since the epoch, 48 bits. */
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

function readU48(b: Uint8Array, p: number): number {
  return ((b[p]! << 8) | b[p + 1]!) * 0x100000000 + (((b[p + 2]! << 24) | (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!) >>> 0);
}

function writeU48(b: Buffer, p: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffffffff) throw new RangeError(`time ${v} is not a 48-bit value`);
  b.writeUInt16BE(Math.floor(v / 0x100000000), p);
  b.writeUInt32BE(v % 0x100000000, p + 2);
}

/** A 6-octet time, as BADTIME's Other Data carries the server's clock (RFC 8945 5.2.3). */
export function encodeTime48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  writeU48(b, 0, Math.floor(seconds));
  return b;
}

/** Parse TSIG RDATA. The algorithm name must not be compressed (RFC 8945 4.2). Throws ERR_TSIG_FORMERR. */
export function decodeTsigRdata(rdata: Uint8Array): TsigRdata {
  let p = 0;
  for (;;) {
    if (p >= rdata.length) throw formErr('TSIG algorithm name runs past the RDATA');
    const len = rdata[p]!;
    if (len === 0) break;
    if (len > 63) throw formErr('TSIG algorithm name is compressed or has a bad label');
    p += 1 + len;
  }
  p++;
  if (p > 255) throw formErr('TSIG algorithm name longer than 255 octets');
  const algorithm = Buffer.from(rdata.subarray(0, p));
  if (p + 10 > rdata.length) throw formErr('TSIG RDATA too short');
  const timeSigned = readU48(rdata, p);
  const fudge = (rdata[p + 6]! << 8) | rdata[p + 7]!;
  const macLen = (rdata[p + 8]! << 8) | rdata[p + 9]!;
  p += 10;
  if (p + macLen + 6 > rdata.length) throw formErr('TSIG MAC runs past the RDATA');
  const mac = Buffer.from(rdata.subarray(p, p + macLen));
  p += macLen;
  const originalId = (rdata[p]! << 8) | rdata[p + 1]!;
  const error = (rdata[p + 2]! << 8) | rdata[p + 3]!;
  const otherLen = (rdata[p + 4]! << 8) | rdata[p + 5]!;
  p += 6;
  if (p + otherLen !== rdata.length) throw formErr('TSIG Other Len does not match the RDATA length');
  return { algorithm, timeSigned, fudge, mac, originalId, error, otherData: Buffer.from(rdata.subarray(p)) };
}

export function encodeTsigRdata(t: TsigRdata): Buffer {
  const b = Buffer.alloc(t.algorithm.length + 16 + t.mac.length + t.otherData.length);
  let p = t.algorithm.copy(b, 0);
  writeU48(b, p, t.timeSigned);
  b.writeUInt16BE(t.fudge, p + 6);
  b.writeUInt16BE(t.mac.length, p + 8);
  p += 10 + t.mac.copy(b, p + 10);
  b.writeUInt16BE(t.originalId, p);
  b.writeUInt16BE(t.error, p + 2);
  b.writeUInt16BE(t.otherData.length, p + 4);
  t.otherData.copy(b, p + 6);
  return b;
}

// ------------------------------------------------------------------------------------------------
// Digest pieces
// ------------------------------------------------------------------------------------------------

const HEADER = 12;

function startHmac(key: TsigKey, alg: AlgorithmInfo, prior: Uint8Array | undefined): Hmac {
  const h = createHmac(alg.hash, key.secret);
  if (prior) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(prior.length, 0);
    h.update(len);
    h.update(prior);
  }
  return h;
}

/**
 * Digest `raw[0, end)` as the message before its TSIG RR was added: header ID = `originalId`, and,
 * when the RR is being cut off (`arDecrement`), ARCOUNT one less.
 */
function updateMessage(h: Hmac, raw: Uint8Array, end: number, originalId: number, arDecrement: boolean): void {
  const header = Buffer.from(raw.subarray(0, HEADER));
  header.writeUInt16BE(originalId, 0);
  if (arDecrement) header.writeUInt16BE(header.readUInt16BE(10) - 1, 10);
  h.update(header);
  h.update(raw.subarray(HEADER, end));
}

/** The TSIG variables of RFC 8945 4.3.3 (owner and algorithm must already be lower case). */
function fullVariables(owner: Uint8Array, algorithm: Uint8Array, t: { timeSigned: number; fudge: number; error: number; otherData: Uint8Array }): Buffer {
  const b = Buffer.alloc(owner.length + 6 + algorithm.length + 12 + t.otherData.length);
  let p = 0;
  b.set(owner, p);
  p += owner.length;
  b.writeUInt16BE(Class.ANY, p);
  b.writeUInt32BE(0, p + 2); // TTL
  p += 6;
  b.set(algorithm, p);
  p += algorithm.length;
  writeU48(b, p, t.timeSigned);
  b.writeUInt16BE(t.fudge, p + 6);
  b.writeUInt16BE(t.error, p + 8);
  b.writeUInt16BE(t.otherData.length, p + 10);
  b.set(t.otherData, p + 12);
  return b;
}

/** The TSIG timers of RFC 8945 4.3.1: what later messages of a TCP stream cover instead. */
function timers(timeSigned: number, fudge: number): Buffer {
  const b = Buffer.alloc(8);
  writeU48(b, 0, timeSigned);
  b.writeUInt16BE(fudge, 6);
  return b;
}

/** `msg` with the TSIG RR appended and ARCOUNT incremented. */
function appendTsig(msg: Buffer, owner: Uint8Array, rdata: Buffer): Buffer {
  if (msg.length < HEADER) throw new RangeError('message shorter than the DNS header');
  const arcount = msg.readUInt16BE(10);
  if (arcount === 0xffff) throw new RangeError('ARCOUNT is already 65535');
  const total = msg.length + owner.length + 10 + rdata.length;
  if (total > 65535) throw new RangeError(`signed message would be ${total} octets, more than 65535`);
  const out = Buffer.alloc(total);
  msg.copy(out, 0);
  out.writeUInt16BE(arcount + 1, 10);
  let p = msg.length;
  out.set(owner, p);
  p += owner.length;
  out.writeUInt16BE(Type.TSIG, p);
  out.writeUInt16BE(Class.ANY, p + 2);
  out.writeUInt32BE(0, p + 4);
  out.writeUInt16BE(rdata.length, p + 8);
  rdata.copy(out, p + 10);
  return out;
}

/** A MAC as received is accepted only with a length RFC 8945 5.2.2.1 allows. */
function checkMacLength(mac: Uint8Array, alg: AlgorithmInfo): void {
  if (mac.length > alg.size) throw formErr(`TSIG MAC of ${mac.length} octets is longer than ${alg.id} output (${alg.size})`);
  const min = Math.max(10, Math.ceil(alg.size / 2));
  if (mac.length < min) throw formErr(`TSIG MAC of ${mac.length} octets is shorter than the ${min} allowed for ${alg.id}`);
}

/** Compare a computed HMAC with a (possibly truncated) received MAC in constant time. */
function macMatches(computed: Buffer, received: Buffer): boolean {
  return timingSafeEqual(computed.subarray(0, received.length), received);
}

function checkTime(t: TsigRdata, now: number): string | undefined {
  const skew = Math.floor(now) - t.timeSigned;
  if (Math.abs(skew) <= t.fudge) return undefined;
  return `TSIG time signed ${t.timeSigned} is ${Math.abs(skew)} s ${skew > 0 ? 'in the past' : 'in the future'}, beyond the fudge of ${t.fudge} s`;
}

function parseRecord(rr: ResourceRecord): TsigRdata {
  if (rr.type !== Type.TSIG) throw formErr('not a TSIG record');
  if (rr.class !== Class.ANY) throw formErr(`TSIG record of class ${rr.class}, not ANY`);
  return decodeTsigRdata(rr.rdata);
}

function checkPlacement(raw: Uint8Array, tsig: MessageTsig): void {
  if (raw.length < HEADER || tsig.offset < HEADER || tsig.offset >= raw.length) throw formErr('TSIG offset outside the message');
  if (((raw[10]! << 8) | raw[11]!) === 0) throw formErr('TSIG present but ARCOUNT is 0');
}

// ------------------------------------------------------------------------------------------------
// Locating the TSIG RR without a full decode
// ------------------------------------------------------------------------------------------------

function skipName(raw: Uint8Array, p: number): number {
  for (;;) {
    if (p >= raw.length) throw formErr('name runs past the end of the message');
    const len = raw[p]!;
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2;
    if (len > 63) throw formErr('unknown label type');
    p += 1 + len;
  }
}

/**
 * The TSIG RR of a message when it is the last record, found by skipping over the records (no
 * RDATA parsing), or undefined. Throws ERR_TSIG_FORMERR when the message cannot be walked.
 */
export function findTsig(raw: Uint8Array): MessageTsig | undefined {
  if (raw.length < HEADER) throw formErr('message shorter than the header');
  const qd = (raw[4]! << 8) | raw[5]!;
  const rrs = ((raw[6]! << 8) | raw[7]!) + ((raw[8]! << 8) | raw[9]!) + ((raw[10]! << 8) | raw[11]!);
  if (((raw[10]! << 8) | raw[11]!) === 0) return undefined;
  let p = HEADER;
  for (let i = 0; i < qd; i++) p = skipName(raw, p) + 4;
  for (let i = 0; i < rrs - 1; i++) {
    p = skipName(raw, p) + 10;
    if (p > raw.length) throw formErr('record runs past the end of the message');
    p += (raw[p - 2]! << 8) | raw[p - 1]!;
  }
  const start = p;
  if (start >= raw.length) throw formErr('record runs past the end of the message');
  let owner: Buffer;
  let next: number;
  try {
    ({ name: owner, next } = readName(raw, start));
  } catch (err) {
    throw formErr(`last record: ${(err as Error).message}`);
  }
  if (next + 10 > raw.length) throw formErr('record runs past the end of the message');
  const type = (raw[next]! << 8) | raw[next + 1]!;
  if (type !== Type.TSIG) return undefined;
  const rdlen = (raw[next + 8]! << 8) | raw[next + 9]!;
  if (next + 10 + rdlen !== raw.length) throw formErr('TSIG record does not end the message');
  const record: ResourceRecord = {
    owner,
    type,
    class: (raw[next + 2]! << 8) | raw[next + 3]!,
    ttl: ((raw[next + 4]! << 24) | (raw[next + 5]! << 16) | (raw[next + 6]! << 8) | raw[next + 7]!) >>> 0,
    rdata: Buffer.from(raw.subarray(next + 10)),
  };
  return { record, offset: start };
}

// ------------------------------------------------------------------------------------------------
// Signing
// ------------------------------------------------------------------------------------------------

export interface SignOptions {
  /** Seconds of clock skew the receiver may allow (default 300, RFC 8945 10). */
  fudge?: number;
  /** TSIG Original ID; defaults to the message's ID. */
  originalId?: number;
}

export interface SignResponseOptions extends SignOptions {
  /** TSIG Error (default 0). */
  error?: number;
  otherData?: Buffer;
  /** Time Signed to write instead of `now` (BADTIME answers echo the request's, RFC 8945 5.2.3). */
  timeSigned?: number;
}

export interface Signed {
  /** The message with the TSIG RR appended. */
  signed: Buffer;
  /** The MAC, to verify the answer with (TsigVerifier) or to chain the next message. */
  mac: Buffer;
}

const DEFAULT_FUDGE = 300;

function sign(msg: Buffer, key: TsigKey, prior: Uint8Array | undefined, now: number, o: SignResponseOptions): Signed {
  const pk = prepare(key);
  if (msg.length < HEADER) throw new RangeError('message shorter than the DNS header');
  const v = {
    timeSigned: o.timeSigned ?? Math.floor(now),
    fudge: o.fudge ?? DEFAULT_FUDGE,
    error: o.error ?? 0,
    otherData: o.otherData ?? Buffer.alloc(0),
  };
  const originalId = o.originalId ?? msg.readUInt16BE(0);
  const h = startHmac(key, pk.alg, prior);
  updateMessage(h, msg, msg.length, originalId, false);
  h.update(fullVariables(pk.owner, pk.alg.wire, v));
  const mac = h.digest();
  const rdata = encodeTsigRdata({ algorithm: pk.alg.wire, mac, originalId, ...v });
  return { signed: appendTsig(msg, pk.owner, rdata), mac };
}

/** Sign a request (RFC 8945 4.3.3): append the TSIG RR, ARCOUNT + 1. `now` is Unix seconds. */
export function signMessage(msg: Buffer, key: TsigKey, now: number, opts: SignOptions = {}): Signed {
  return sign(msg, key, undefined, now, opts);
}

/** Sign a single response to a signed request (RFC 8945 4.3.2): the request MAC comes first. */
export function signResponse(msg: Buffer, key: TsigKey, requestMac: Uint8Array, now: number, opts: SignResponseOptions = {}): Signed {
  return sign(msg, key, requestMac, now, opts);
}

/**
 * Signs the messages of a TCP response stream (AXFR/IXFR out, RFC 8945 5.3.1): the first with the
 * request MAC and the full variables, each later one with the previous MAC, the messages since it
 * and the timers. `passUnsigned` sends a message without TSIG (at most 99 in a row).
 */
export class TsigSigner {
  private prior: Buffer;
  private h: Hmac | undefined;
  private signedCount = 0;
  private unsignedRun = 0;
  private readonly pk: PreparedKey;
  private readonly fudge: number;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    opts: { fudge?: number } = {},
  ) {
    this.pk = prepare(key);
    this.prior = Buffer.from(requestMac);
    this.fudge = opts.fudge ?? DEFAULT_FUDGE;
  }

  /** The MAC of the last signed message. */
  get mac(): Buffer {
    return this.prior;
  }

  sign(msg: Buffer, now: number, opts: { originalId?: number } = {}): Buffer {
    if (this.signedCount === 0) {
      const r = signResponse(msg, this.key, this.prior, now, { fudge: this.fudge, ...opts });
      this.prior = r.mac;
      this.signedCount++;
      return r.signed;
    }
    const timeSigned = Math.floor(now);
    const originalId = opts.originalId ?? msg.readUInt16BE(0);
    const h = this.h ?? startHmac(this.key, this.pk.alg, this.prior);
    this.h = undefined;
    updateMessage(h, msg, msg.length, originalId, false);
    h.update(timers(timeSigned, this.fudge));
    const mac = h.digest();
    const rdata = encodeTsigRdata({ algorithm: this.pk.alg.wire, timeSigned, fudge: this.fudge, mac, originalId, error: 0, otherData: Buffer.alloc(0) });
    this.prior = mac;
    this.signedCount++;
    this.unsignedRun = 0;
    return appendTsig(msg, this.pk.owner, rdata);
  }

  /** Digest `msg` into the next MAC and return it unchanged. Throws RangeError where the RFC requires a signature. */
  passUnsigned(msg: Buffer): Buffer {
    if (this.signedCount === 0) throw new RangeError('the first message of a TSIG stream must be signed');
    if (this.unsignedRun >= 99) throw new RangeError('a TSIG stream may not have 100 unsigned messages in a row');
    this.h ??= startHmac(this.key, this.pk.alg, this.prior);
    this.h.update(msg);
    this.unsignedRun++;
    return msg;
  }
}

// ------------------------------------------------------------------------------------------------
// Verifying responses
// ------------------------------------------------------------------------------------------------

/**
 * Verifies the answer(s) to a request we signed: a single UDP/TCP response, or every message of an
 * AXFR/IXFR stream in order (RFC 8945 5.3, 5.3.1). After one failure every later call throws it again.
 */
export class TsigVerifier {
  private prior: Buffer;
  private h: Hmac | undefined;
  private signedCount = 0;
  private unsignedRun = 0;
  private failed: TsigError | undefined;
  private readonly pk: PreparedKey;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    private readonly now: () => number,
  ) {
    this.pk = prepare(key);
    this.prior = Buffer.from(requestMac);
  }

  /** Messages verified so far that carried a TSIG. */
  get signedMessages(): number {
    return this.signedCount;
  }

  /**
   * Verify the next message. `tsig` is the decoder's `Message.tsig`; when undefined the message is
   * scanned for one (so passing nothing is safe, only slower). Throws TsigError.
   */
  verify(raw: Uint8Array, tsig?: MessageTsig): void {
    if (this.failed) throw this.failed;
    try {
      this.step(raw, tsig ?? findTsig(raw));
    } catch (err) {
      if (err instanceof TsigError) this.failed = err;
      throw err;
    }
  }

  /** Call after the last message: throws when the stream ended unsigned (or nothing was verified). */
  finish(): void {
    if (this.failed) throw this.failed;
    if (this.signedCount === 0) this.failed = unsigned('no signed response');
    else if (this.unsignedRun > 0) this.failed = unsigned(`the last ${this.unsignedRun} message(s) of the stream are unsigned`);
    if (this.failed) throw this.failed;
  }

  private step(raw: Uint8Array, tsig: MessageTsig | undefined): void {
    if (!tsig) {
      if (this.signedCount === 0) throw unsigned('the response to a signed request is not signed');
      if (this.unsignedRun >= 99) throw unsigned('100 messages in a row without TSIG');
      this.h ??= startHmac(this.key, this.pk.alg, this.prior);
      this.h.update(raw);
      this.unsignedRun++;
      return;
    }
    checkPlacement(raw, tsig);
    const t = parseRecord(tsig.record);
    if (!nameEquals(tsig.record.owner, this.pk.owner)) {
      throw badKey(`response signed with key ${nameToText(tsig.record.owner)}, not ${this.key.name}`);
    }
    if (!nameEquals(t.algorithm, this.pk.alg.wire)) {
      throw badKey(`response signed with algorithm ${nameToText(t.algorithm)}, not ${this.key.algorithm}`);
    }
    if (t.error !== 0) throw remoteError(t);
    checkMacLength(t.mac, this.pk.alg);
    const h = this.h ?? startHmac(this.key, this.pk.alg, this.prior);
    this.h = undefined;
    updateMessage(h, raw, tsig.offset, t.originalId, true);
    h.update(this.signedCount === 0 ? fullVariables(this.pk.owner, this.pk.alg.wire, t) : timers(t.timeSigned, t.fudge));
    if (!macMatches(h.digest(), t.mac)) {
      throw badSig(`TSIG MAC of ${this.signedCount === 0 ? 'the response' : `signed message ${this.signedCount + 1}`} does not verify`);
    }
    const late = checkTime(t, this.now());
    if (late) throw new TsigError('ERR_TSIG_BADTIME', Rcode.BADTIME, late);
    this.prior = t.mac;
    this.signedCount++;
    this.unsignedRun = 0;
  }
}

// ------------------------------------------------------------------------------------------------
// Verifying requests (server side)
// ------------------------------------------------------------------------------------------------

export interface VerifiedRequest<K extends TsigKey> {
  /** The key that signed it. */
  key: K;
  /** The request MAC, to sign the answer with (signResponse, TsigSigner). */
  mac: Buffer;
  tsig: TsigRdata;
}

/**
 * Verify a signed request (RFC 8945 5.2) against the keys we know, by lower-case name with the final
 * dot. Throws TsigError: FORMERR, BADKEY (unknown key or algorithm), BADSIG, BADTIME.
 */
export function verifyRequest<K extends TsigKey>(raw: Uint8Array, tsig: MessageTsig, keys: ReadonlyMap<string, K>, now: number): VerifiedRequest<K> {
  checkPlacement(raw, tsig);
  const t = parseRecord(tsig.record);
  const name = nameToText(nameToLower(tsig.record.owner));
  const key = keys.get(name);
  if (!key) throw badKey(`unknown TSIG key ${name}`);
  const pk = prepare(key);
  if (!nameEquals(t.algorithm, pk.alg.wire)) throw badKey(`key ${name} is ${key.algorithm}, the request used ${nameToText(t.algorithm)}`);
  checkMacLength(t.mac, pk.alg);
  const h = startHmac(key, pk.alg, undefined);
  updateMessage(h, raw, tsig.offset, t.originalId, true);
  h.update(fullVariables(pk.owner, pk.alg.wire, t));
  if (!macMatches(h.digest(), t.mac)) throw badSig(`TSIG MAC of the request (key ${name}) does not verify`);
  const late = checkTime(t, now);
  if (late) throw new TsigError('ERR_TSIG_BADTIME', Rcode.BADTIME, late, { key, requestMac: t.mac });
  return { key, mac: t.mac, tsig: t };
}

/**
 * Add the TSIG RR that tells a requester why its TSIG failed (RFC 8945 5.2): `response` is the
 * answer already built with `err.rcode` (NOTAUTH). BADKEY/BADSIG/BADTRUNC get an unsigned TSIG
 * (empty MAC) naming the request's key and algorithm; BADTIME a signed one that echoes the request
 * time and carries our clock in Other Data; FORMERR nothing (the response is returned as it is).
 */
export function tsigErrorResponse(response: Buffer, request: MessageTsig, err: TsigError, now: number): Buffer {
  if (err.code === 'ERR_TSIG_FORMERR' || err.code === 'ERR_TSIG_UNSIGNED' || err.tsigError === 0) return response;
  const t = parseRecord(request.record);
  if (err.code === 'ERR_TSIG_BADTIME' && err.key && err.requestMac) {
    return signResponse(response, err.key, err.requestMac, now, {
      fudge: t.fudge,
      error: Rcode.BADTIME,
      timeSigned: t.timeSigned,
      otherData: encodeTime48(now),
    }).signed;
  }
  const owner = nameToLower(request.record.owner);
  const rdata = encodeTsigRdata({
    algorithm: t.algorithm,
    timeSigned: Math.floor(now),
    fudge: t.fudge,
    mac: Buffer.alloc(0),
    originalId: response.readUInt16BE(0),
    error: err.tsigError,
    otherData: Buffer.alloc(0),
  });
  return appendTsig(response, owner, rdata);
}
