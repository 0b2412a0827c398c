// Process entry: run the CLI and exit with its status.

import { main } from './cli.js';

process.exitCode = await main(process.argv);
