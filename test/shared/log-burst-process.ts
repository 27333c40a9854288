// A process that logs a burst through the CLI's logger and is killed right after it: see logger.test.ts.
import { createLogger, logBurst } from '../../src/shared/index.js';

const lines = Number(process.argv[2]);
const logger = createLogger({ level: 'info', fd: 2 });
logger.info({ event: 'before' }, 'before the burst');
logBurst(logger, () => {
  for (let n = 0; n < lines; n++) logger.info({ event: 'change', n, dn: `uid=user${n},ou=people,dc=example,dc=org` }, 'change');
});
logger.info({ event: 'after' }, 'after the burst');
process.kill(process.pid, 'SIGKILL');
