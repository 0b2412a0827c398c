// The daemon as one module: dist/bundle/secondaryd.mjs, what bin/secondaryd runs, bundled by esbuild
// from the compiled dist/main.js (tsc runs first) with its dependencies. Node then starts it in about
// 0.1 s instead of 0.2 s: resolving, reading and compiling some 200 separate ES modules (ours, yaml's,
// pino's, commander's) took longer than node's own start (`secondaryd --help`, 2 cores). That is
// time a restarted secondary is not answering. Source maps chain to src/ (node --enable-source-maps).

import { build } from 'esbuild';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..');

await build({
  entryPoints: [path.join(root, 'dist/main.js')],
  outfile: path.join(root, 'dist/bundle/secondaryd.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // CommonJS dependencies (commander, pino) call require(), which an ES module does not have.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
