// The big generated zone the transfer and storage benchmarks share: A, AAAA, MX and TXT records.

export const BIG_ZONE = 'big.test.';

/** Master-file text of about `n` records with SOA serial `serial`. */
export function bigZone(n: number, serial: number): string {
  const lines = [`$ORIGIN ${BIG_ZONE}`, '$TTL 3600', `@ SOA ns1 hostmaster ${serial} 3600 600 864000 300`, '@ NS ns1', 'ns1 A 192.0.2.1'];
  for (let i = 0; lines.length < n; i++) {
    const o = i % 4;
    if (o === 0) lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    else if (o === 1) lines.push(`h${i - 1} AAAA 2001:db8::${(i & 0xffff).toString(16)}`);
    else if (o === 2) lines.push(`m${i} MX 10 h${i - 2}`);
    else lines.push(`t${i} TXT "record ${i}"`);
  }
  return lines.join('\n') + '\n';
}
