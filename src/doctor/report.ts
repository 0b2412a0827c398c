// The two forms of the doctor's report: aligned text for people, and a JSON document for scripts
// ({zone, nameservers, findings, ok}; missing values are null so every key is always there).

import type { Finding, Severity } from './analyze.js';
import { healthy } from './analyze.js';
import type { DoctorFacts } from './facts.js';

export interface DoctorReport {
  zone: string;
  kind: 'secondary' | 'file';
  port: number;
  self: { address: string; serial: number | null; error: string | null };
  nameservers: {
    name: string;
    inZone: boolean;
    resolveError: string | null;
    addresses: { address: string; serial: number | null; authoritative: boolean; error: string | null; local: boolean }[];
  }[];
  primaries: { address: string; key: string | null; allowed: boolean; serial: number | null; error: string | null }[];
  findings: Finding[];
  /** No error and no warning. */
  ok: boolean;
}

export function buildReport(f: DoctorFacts, findings: Finding[]): DoctorReport {
  return {
    zone: f.zone,
    kind: f.kind,
    port: f.port,
    self: { address: f.self.address, serial: f.self.serial ?? null, error: f.self.error ?? null },
    nameservers: f.nameservers.map((ns) => ({
      name: ns.name,
      inZone: ns.inZone,
      resolveError: ns.resolveError ?? null,
      addresses: ns.addresses.map((a) => ({ address: a.address, serial: a.serial ?? null, authoritative: a.authoritative, error: a.error ?? null, local: a.local === true })),
    })),
    primaries: f.primaries.map((p) => ({ address: p.address, key: p.key ?? null, allowed: p.allowed, serial: p.serial ?? null, error: p.error ?? null })),
    findings,
    ok: healthy(findings),
  };
}

export function formatJson(r: DoctorReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) => indent + row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
}

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "2 errors, 1 warning" (or the all-clear), the report's last line. */
export function summary(findings: readonly Finding[]): string {
  const n = (s: Severity): number => findings.filter((x) => x.severity === s).length;
  const errors = n('error');
  const warnings = n('warning');
  if (errors === 0 && warnings === 0) return `healthy: ${count(n('ok'), 'check')} passed`;
  return `${count(errors, 'error')}, ${count(warnings, 'warning')}`;
}

export function formatText(r: DoctorReport): string {
  let out = `${r.zone} (${r.kind === 'file' ? 'file zone' : 'secondary'}), as served by ${r.self.address}; nameservers asked on port ${r.port}\n\n`;
  if (r.nameservers.length > 0) {
    const rows: string[][] = [];
    for (const ns of r.nameservers) {
      if (ns.addresses.length === 0) rows.push([ns.name, '-', '-', `no address: ${ns.resolveError ?? 'none found'}`]);
      ns.addresses.forEach((a, i) => {
        const state = a.authoritative ? 'authoritative' : (a.error ?? 'no answer');
        rows.push([i === 0 ? ns.name : '', a.address, a.serial === null ? '-' : `serial ${a.serial}`, state + (a.local ? ' (this machine)' : '')]);
      });
    }
    out += 'nameservers\n' + table(rows) + '\n';
  }
  if (r.primaries.length > 0) {
    const rows = r.primaries.map((p) => [p.address, p.key === null ? 'no key' : `key ${p.key}`, p.serial === null ? '-' : `serial ${p.serial}`, p.allowed ? 'transfer allowed' : `transfer refused: ${p.error ?? ''}`]);
    out += 'primaries\n' + table(rows) + '\n';
  }
  out += 'checks\n' + table(r.findings.map((x) => [x.severity, x.code, x.message])) + '\n';
  return out + summary(r.findings) + '\n';
}
