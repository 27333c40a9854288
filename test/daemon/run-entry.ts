import { resolve } from 'node:path';
import { processIo } from '../../src/cli/io.js';
import { runCommand } from '../../src/cli/run.js';

// `ldapsync run -c FILE` until the CLI registers the command: argv is [-c, FILE].
process.exitCode = await runCommand({ config: resolve(process.argv[3] ?? 'ldapsync.yaml') }, processIo());
