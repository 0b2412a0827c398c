// Typed errors for the wire layer: every malformed input becomes one of these, never a stray exception.

/** A DNS message (or part of one) that cannot be parsed. Turned into FORMERR or a drop at the edge. */
export class WireFormatError extends Error {
  readonly code = 'ERR_WIRE_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/** A domain name in presentation format that is not valid. */
export class NameSyntaxError extends Error {
  readonly code = 'ERR_NAME_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'NameSyntaxError';
  }
}
