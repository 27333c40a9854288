// A process that logs a burst through the CLI's logger and is killed right after it: see logger.test.ts.
import { readFileSync } from 'node:fs';
import { createLogger, logBurst } from '../../src/shared/index.js';

/** Whether fd 2's file description is in non-blocking mode (O_NONBLOCK, octal 04000 in /proc's flags). */
function stderrNonBlocking(): boolean {
  const flags = /flags:\s*([0-7]+)/.exec(readFileSync('/proc/self/fdinfo/2', 'utf8'))?.[1] ?? '0';
  return (Number.parseInt(flags, 8) & 0o4000) !== 0;
}

const lines = Number(process.argv[2]);
// The CLI looks at process.stderr (is it a terminal?) before it makes its logger, which makes a pipe non-blocking.
const touchedNonBlocking = process.stderr.isTTY !== true && stderrNonBlocking();
const logger = createLogger({ level: 'info', fd: 2 });
logger.info({ event: 'before', touchedNonBlocking, loggerNonBlocking: stderrNonBlocking() }, 'before the burst');
logBurst(logger, () => {
  for (let n = 0; n < lines; n++) logger.info({ event: 'change', n, dn: `uid=user${n},ou=people,dc=example,dc=org` }, 'change');
});
logger.info({ event: 'after' }, 'after the burst');
process.kill(process.pid, 'SIGKILL');
