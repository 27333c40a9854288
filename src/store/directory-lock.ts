import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LdapsyncError } from '../shared/index.js';

/** Gives the lock up; never throws, safe twice. */
export type Unlock = () => Promise<void>;

export const LOCK_FILE = 'ldapsync.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderOf(file: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes the embedded store's directory for this process. PGlite has no lock of its own, and a second PGlite on
 * the same directory (a CLI sync while the daemon runs, or a second reload-opened store) is a second Postgres
 * on one data directory: the runs interleave and the files corrupt. The holder's pid is written to
 * `PATH/ldapsync.lock`, created exclusively; a later opener is refused while that process lives, and takes over
 * a lock left by a process that died.
 */
export async function lockDirectory(path: string, label: string): Promise<Unlock> {
  const file = join(path, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(file, { force: true }).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LdapsyncError('store.unreachable', `cannot lock the embedded store ${path}: ${(err as Error).message}`, { url: label }, { cause: err });
      }
    }
    const holder = await holderOf(file);
    if (holder !== undefined && isAlive(holder)) {
      throw new LdapsyncError(
        'store.busy',
        `the embedded store ${path} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: it serves one process at a time; ` +
          `stop that process, or use a postgres:// store to share one between the daemon and the CLI (if no ldapsync process is running, remove ${file})`,
        { url: label },
      );
    }
    // Left by a process that died. A file without a pid may be one being written right now: give it a moment.
    if (holder === undefined && attempt < 20) await new Promise((resolve) => setTimeout(resolve, 50));
    else await rm(file, { force: true });
  }
}
