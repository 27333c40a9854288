import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const burstScript = fileURLToPath(new URL('./log-burst-process.ts', import.meta.url));
const deferredScript = fileURLToPath(new URL('./deferred-lines-process.ts', import.meta.url));

/** Runs the burst script in its own process (JSON lines to its stderr, a pipe) and collects what it wrote. */
function runBurst(lines: number, script = burstScript, env = process.env): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(lines)], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
}

describe('logBurst', () => {
  it('has every line of a burst on the descriptor when it returns, in order, with the lines before and after', async () => {
    // The script logs a line, a burst of many (several 64 KB writes and a remainder), a line, then SIGKILLs
    // itself: nothing held in memory could be written after that.
    const { signal, stderr } = await runBurst(5000);
    expect(signal).toBe('SIGKILL');
    const events = stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; n?: number; touchedNonBlocking?: boolean; loggerNonBlocking?: boolean });
    expect(events).toHaveLength(5002);
    expect(events[0]?.event).toBe('before');
    expect(events.slice(1, -1).map((e) => e.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(events[5001]?.event).toBe('after');
  });

  it.runIf(existsSync('/proc/self/fdinfo'))('makes a non-blocking stderr pipe block, so that a full pipe waits for its reader instead of sleeping', async () => {
    // sonic-boom meets EAGAIN in synchronous mode with a 100 ms sleep: 100,000 lines into `| tee` took 12 s.
    const { stderr } = await runBurst(1);
    const before = JSON.parse(stderr.split('\n')[0] ?? '{}') as { touchedNonBlocking?: boolean; loggerNonBlocking?: boolean };
    expect(before).toMatchObject({ touchedNonBlocking: true, loggerNonBlocking: false });
  });
});

describe('deferLines', () => {
  it('writes released lines in order after the lines logged meanwhile, none of the discarded ones, and leaves no file behind', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'ldapsync-deferred-'));
    try {
      // 3,000 lines of 2 KB: several megabytes, so most of them wait in the spool file.
      const { signal, stderr } = await runBurst(3000, deferredScript, { ...process.env, TMPDIR: tmp });
      expect(signal).toBe('SIGKILL');
      const events = stderr
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { event: string; n?: number; spoolFiles?: number; spoolBytes?: number });
      expect(events.map((e) => e.event).filter((e, i, all) => e !== all[i - 1])).toEqual(['before', 'between', 'spooled', 'kept', 'caught-up', 'caught', 'after']);
      expect(events.filter((e) => e.event === 'kept').map((e) => e.n)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      // catchUp made 900 lines of 2 KB (1.8 MB) with no idle turn: past the spool's 1 MB buffer, into its file.
      expect(events.find((e) => e.event === 'caught-up')?.spoolBytes).toBeGreaterThan(2 ** 19);
      expect(events.filter((e) => e.event === 'caught').map((e) => e.n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      // The lines waited in a file of their own (one, the released set's), unlinked from the start.
      expect(events.find((e) => e.event === 'spooled')?.spoolFiles).toBe(1);
      expect((await readdir(tmp)).filter((name) => name.startsWith('ldapsync-'))).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
