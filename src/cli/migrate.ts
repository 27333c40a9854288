import { createLogger } from '../shared/index.js';
import { openStore } from '../store/index.js';
import { ExitCode, writeLine, type Io } from './io.js';
import { loadOrReport } from './load.js';

/** `ldapsync migrate`: brings the store's schema up to date (the daemon and every command do it too). */
export async function migrateCommand(options: { config: string }, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(options.config, io);
  if (config === undefined) return ExitCode.usage;
  try {
    const store = await openStore(config.store, { logger: createLogger({ level: config.log.level, fd: 2 }) });
    try {
      // openStore has migrated; asking again reports the state without applying anything twice.
      const report = await store.migrate();
      writeLine(io.stdout, `store ${store.label}: schema "${store.schema}" at ${report.current ?? 'no migration'}`);
    } finally {
      await store.close();
    }
    return ExitCode.ok;
  } catch (err) {
    writeLine(io.stderr, `migration failed: ${(err as Error).message}`);
    return ExitCode.failure;
  }
}
