// A process that defers lines through the CLI's logger, releases one set and discards another, then is killed
// right after: see logger.test.ts.
import { fstatSync, readdirSync, readlinkSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { createLogger, deferLines } from '../../src/shared/index.js';

const count = Number(process.argv[2]);

/** The spool files' descriptors: unlinked, so only this process's descriptors show them. */
function spoolFds(): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return /ldapsync-lines-.*\(deleted\)$/.test(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

function spoolFileBytes(): number {
  return spoolFds().reduce((sum, fd) => sum + fstatSync(Number(fd)).size, 0);
}

const logger = createLogger({ level: 'info', fd: 2 });
// Lines of about 2 KB: a few thousand of them outgrow what the spool keeps in memory before its file.
const padding = 'x'.repeat(2000);
const kept = deferLines<number>(logger, (n) => logger.info({ event: 'kept', n, padding }, 'kept'));
const dropped = deferLines<number>(logger, (n) => logger.info({ event: 'dropped', n }, 'dropped'));

logger.info({ event: 'before' }, 'before');
for (let n = 0; n < count; n += 500) {
  kept.add(Array.from({ length: Math.min(500, count - n) }, (_, i) => n + i));
  dropped.add([n]);
  // The event loop gets turns, as it does while Postgres writes: some lines are made now, none written.
  await turn();
  if (n === 0) logger.info({ event: 'between' }, 'logged while lines are deferred');
}
dropped.discard();
logger.info({ event: 'spooled', spoolFiles: spoolFds().length }, 'lines made ahead');
kept.release();

// Without an idle turn, catchUp makes the lines of all but the last items: into the spool (its file past 1 MB).
const caught = deferLines<number>(logger, (n) => logger.info({ event: 'caught', n, padding }, 'caught'));
caught.add(Array.from({ length: 1000 }, (_, i) => i));
caught.catchUp(100);
logger.info({ event: 'caught-up', spoolBytes: spoolFileBytes() }, 'lines made by catchUp');
caught.release();
logger.info({ event: 'after' }, 'after');
process.kill(process.pid, 'SIGKILL');
