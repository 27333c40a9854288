import type { Config } from '../config/index.js';
import { createLogger, type Logger } from '../shared/index.js';
import { openStore, type Store } from '../store/index.js';
import { writeLine, type Io } from './io.js';

/** CLI log lines (the audit trail of what a command changed) go to stderr, so stdout stays the command's output. */
export function cliLogger(config: Config, io: Io): Logger {
  return createLogger({ level: config.log.level, fd: 2, pretty: io.stderr.isTTY === true });
}

/** Opens the store, bringing its schema up to date, or says why not (undefined: exit 1). */
export async function openStoreOrReport(config: Config, logger: Logger, io: Io): Promise<Store | undefined> {
  try {
    const store = await openStore(config.store, { logger });
    await store.failStaleRuns();
    return store;
  } catch (err) {
    writeLine(io.stderr, `cannot open the store: ${(err as Error).message}`);
    return undefined;
  }
}
