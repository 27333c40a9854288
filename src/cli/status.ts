import type { RunRow } from '../store/index.js';
import { cliLogger, openStoreOrReport } from './context.js';
import { ExitCode, writeJson, writeLine, type Io } from './io.js';
import { loadOrReport } from './load.js';

const RUNS_PER_PROFILE = 5;

/** `ldapsync status`: per profile, its last runs with their counts and errors. */
export async function statusCommand(options: { config: string; json: boolean }, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(options.config, io);
  if (config === undefined) return ExitCode.usage;
  const store = await openStoreOrReport(config, cliLogger(config, io), io);
  if (store === undefined) return ExitCode.failure;
  try {
    const profiles = await Promise.all(
      [...config.servers.keys()].map(async (name) => ({ profile: name, runs: await store.lastRuns(name, RUNS_PER_PROFILE) })),
    );
    if (options.json) {
      writeJson(io.stdout, { store: store.label, profiles });
      return ExitCode.ok;
    }
    writeLine(io.stdout, `store ${store.label}`);
    for (const { profile, runs } of profiles) {
      writeLine(io.stdout, `${profile}:${runs.length === 0 ? ' never synced' : ''}`);
      for (const run of runs) writeLine(io.stdout, `  ${describeRun(run)}`);
    }
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}

function describeRun(run: RunRow): string {
  const c = run.counts;
  const when = run.startedAt.toISOString().replace('T', ' ').slice(0, 19);
  const took = run.finishedAt === null ? '' : ` in ${((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1)} s`;
  const counts = `${c.created} created, ${c.updated} updated, ${c.removed} removed, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.conflicts} conflicts`;
  const error = run.error === null ? '' : `\n      ${run.error}`;
  // An aborted run's counts are what it would have done: saying "1 removed" of it would be false.
  const outcome = run.status === 'aborted' ? `nothing written (planned: ${counts})` : counts;
  return `#${run.id} ${when} ${run.kind} (${run.trigger}) ${run.status}${took}: ${outcome}${error}`;
}
