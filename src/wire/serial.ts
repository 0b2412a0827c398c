// Serial number arithmetic for SOA serials (RFC 1982 sections 3.1 and 3.2; used as RFC 1034 4.3.5 and RFC 1996 require).
//
// Serials never compare with < or >: 0xffffffff is *less* than 1 and some pairs are not comparable at
// all. Every function takes the serial width in bits (32 for DNS) so the RFC's own 2- and 8-bit
// examples (section 5) can be checked as written.

export type Serial = number;

function checkSerial(s: number, bits: number): void {
  if (!Number.isInteger(s) || s < 0 || s >= 2 ** bits) throw new RangeError(`serial ${s} is not a ${bits}-bit unsigned integer`);
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) throw new RangeError(`serial width ${bits} not in 2..32`);
}

/**
 * RFC 1982 3.2: -1 when a < b, 0 when equal, 1 when a > b, and undefined when the two are exactly
 * half the number space apart, the one case the RFC leaves undefined (callers must treat it as
 * "not newer", which is what every implementation that matters does).
 */
export function serialCompare(a: Serial, b: Serial, bits = 32): -1 | 0 | 1 | undefined {
  checkBits(bits);
  checkSerial(a, bits);
  checkSerial(b, bits);
  if (a === b) return 0;
  const half = 2 ** (bits - 1);
  // Differences of values below 2^32 are exact in a double, so no wrap-around tricks are needed.
  const d = a > b ? a - b : b - a;
  if (d === half) return undefined;
  if (a < b) return d < half ? -1 : 1;
  return d < half ? 1 : -1;
}

/** a > b in RFC 1982 terms; false for the undefined half-range case. */
export function serialGt(a: Serial, b: Serial, bits = 32): boolean {
  return serialCompare(a, b, bits) === 1;
}

/** a < b in RFC 1982 terms; false for the undefined half-range case. */
export function serialLt(a: Serial, b: Serial, bits = 32): boolean {
  return serialCompare(a, b, bits) === -1;
}

/**
 * RFC 1982 3.1: s + n modulo 2^bits, where n must lie in [0, 2^(bits-1) - 1]; adding more than that
 * is undefined by the RFC, so it is refused rather than silently producing a "smaller" serial.
 */
export function serialAdd(s: Serial, n: number, bits = 32): Serial {
  checkBits(bits);
  checkSerial(s, bits);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** (bits - 1) - 1) {
    throw new RangeError(`cannot add ${n} to a ${bits}-bit serial (RFC 1982 3.1 allows 0..2^${bits - 1}-1)`);
  }
  return (s + n) % 2 ** bits;
}
