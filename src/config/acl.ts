// Access lists for NOTIFY and outbound transfers: CIDR match on the peer address (IPv4-mapped IPv6 peers
// count as IPv4) and/or a TSIG key name.

import { ipOctets, unmapV4, type Network } from './address.js';
import type { AclEntry } from './types.js';

/** Whether `octets` (4 or 16) fall in `net`. Host bits written in the network are ignored. */
export function inNetwork(net: Network, octets: readonly number[]): boolean {
  const base = ipOctets(net.address);
  if (!base || base.length !== octets.length) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((base[i]! & mask) !== (octets[i]! & mask)) return false;
  }
  return true;
}

/** Lower case with the final dot, as config key names are stored. */
function keyForm(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : lower + '.';
}

/**
 * True when some entry allows a message from `remoteAddress` (as the socket reports it, e.g.
 * "::ffff:192.0.2.1" on a dual-stack socket) signed with the (already verified) TSIG key `keyName`.
 * An unparsable address matches no network entry.
 */
export function matchAcl(entries: readonly AclEntry[], remoteAddress: string, keyName?: string): boolean {
  if (entries.length === 0) return false;
  const raw = ipOctets(remoteAddress);
  const octets = raw && unmapV4(raw);
  const key = keyName === undefined ? undefined : keyForm(keyName);
  for (const e of entries) {
    if (e.network && !(octets && inNetwork(e.network, octets))) continue;
    if (e.key !== undefined && e.key !== key) continue;
    return true;
  }
  return false;
}
