// A Knot DNS secondary of our daemon, for the outbound transfer tests (RFC 1995, 1996, 5936, 8945):
// knotd with `master:` pointing at the daemon (with a TSIG key), an ACL taking NOTIFY from it, and
// a journal so it asks for IXFR once it has the zone. Written by hand like knot-primary.ts; its log
// (stderr, info) says how each transfer came in ("AXFR, incoming", "IXFR, incoming").

import { mkdtemp, rm } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { knotBaseConfig } from './knot-primary.js';
import { freePort } from './ports.js';
import { spawnWatched } from './watched.js';

export interface KnotSecondary {
  host: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

export interface KnotSecondaryOptions {
  /** Our daemon, where the zones are pulled from. */
  primary: { host: string; port: number };
  zones: string[];
  key?: { name: string; algorithm: string; secret: string };
  port?: number;
}

const abs = (z: string): string => (z.endsWith('.') ? z : `${z}.`);

export async function startKnotSecondary(o: KnotSecondaryOptions): Promise<KnotSecondary> {
  const port = o.port ?? (await freePort());
  const dir = await mkdtemp(path.join(tmpdir(), 'secondaryd-knot-secondary-'));
  const q = (s: string): string => JSON.stringify(s);
  const keyRef = o.key ? `\n    key: ${q(o.key.name)}` : '';
  const conf = `# knotd config written by test/helpers/knot-secondary.ts
${knotBaseConfig(dir, port)}
${o.key ? `key:\n  - id: ${q(o.key.name)}\n    algorithm: ${o.key.algorithm}\n    secret: ${q(o.key.secret)}\n\n` : ''}remote:
  - id: primary
    address: ${o.primary.host}@${o.primary.port}${keyRef}

acl:
  - id: notify-from-primary
    address: ${o.primary.host}${keyRef}
    action: notify

template:
  - id: default
    storage: ${q(dir)}
    semantic-checks: off
    journal-content: changes
    zonefile-sync: -1
    master: primary
    acl: notify-from-primary

zone:
${o.zones.map((z) => `  - domain: ${q(abs(z))}\n    file: ${q(path.join(dir, `${abs(z)}zone`))}\n`).join('')}`;
  await writeFile(path.join(dir, 'knot.conf'), conf);
  const proc = spawnWatched('knotd', ['-c', path.join(dir, 'knot.conf')], dir);
  return {
    host: '127.0.0.1',
    port,
    output: proc.output,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
