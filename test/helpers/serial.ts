// The SOA serial a server answers for a zone, and waiting until it answers a given one.

import { parseMessage } from './compare.js';
import { queryUdp, type Endpoint } from './dnsclient.js';

/** The serial `ep` serves for `zone`, or undefined (no answer, not NOERROR, no SOA). */
export async function servedSerial(ep: Endpoint, zone: string): Promise<number | undefined> {
  try {
    const m = parseMessage(await queryUdp(ep, { name: zone, type: 6 }, {}, 500));
    const soa = m.answer.find((r) => r.type === 6);
    return m.rcode === 0 && soa ? soa.rdata.readUInt32BE(soa.rdata.length - 20) : undefined;
  } catch {
    return undefined;
  }
}

/** Poll every `everyMs` until `ep` serves `serial`; resolves with the ms it took. `what` is added to the timeout error. */
export async function waitSerial(ep: Endpoint, zone: string, serial: number, ms = 20000, what = '', everyMs = 10): Promise<number> {
  const started = Date.now();
  for (;;) {
    if ((await servedSerial(ep, zone)) === serial) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`serial ${serial} of ${zone} not served within ${ms} ms${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
