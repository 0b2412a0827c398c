// Typed errors of the master-file reader and of the RDATA presentation codecs (RFC 1035 5, RFC 3597).

import type { Token } from './lexer.js';

/** Stable codes of zone-file errors, by what went wrong. */
export type ZoneFileErrorCode =
  | 'ERR_ZONE_SYNTAX' // lexical: quotes, parentheses, escapes
  | 'ERR_ZONE_DIRECTIVE' // $ORIGIN, $TTL, $INCLUDE misuse, unknown directive
  | 'ERR_ZONE_READ' // the zone file itself cannot be read
  | 'ERR_ZONE_INCLUDE' // an included file cannot be read, or nesting too deep
  | 'ERR_ZONE_OWNER' // bad owner name, or none to inherit
  | 'ERR_ZONE_OUT_OF_ZONE' // owner not at or below the zone origin
  | 'ERR_ZONE_TTL' // bad TTL
  | 'ERR_ZONE_CLASS' // class other than the zone's
  | 'ERR_ZONE_TYPE' // unknown type mnemonic
  | 'ERR_ZONE_RDATA'; // RDATA that does not parse

/** An error in a master file, located as `FILE:LINE:COL: why` (line and column 1-based). */
export class ZoneFileError extends Error {
  constructor(
    readonly code: ZoneFileErrorCode,
    readonly why: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`${file}:${line}:${col}: ${why}`);
    this.name = 'ZoneFileError';
  }
}

/** RDATA text that does not parse; `token` is where (absent: the RDATA ended too early). */
export class RdataTextError extends Error {
  readonly code = 'ERR_RDATA_TEXT';
  constructor(
    message: string,
    readonly token?: Token,
  ) {
    super(message);
    this.name = 'RdataTextError';
  }
}

/** Valid RDATA that the type's presentation format cannot express (the writer then uses RFC 3597 `\#`). */
export class UnpresentableError extends Error {
  readonly code = 'ERR_RDATA_UNPRESENTABLE';
  constructor(message: string) {
    super(message);
    this.name = 'UnpresentableError';
  }
}
