import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigWatcher } from '../../src/daemon/config-watcher.js';
import { captureLogger } from './log-capture.js';

const DEBOUNCE = 100;
let dir: string;
let watcher: ConfigWatcher | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldapsync-watch-'));
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function watching(file: string): Promise<{ calls: () => number }> {
  let count = 0;
  watcher = new ConfigWatcher({ file, logger: captureLogger().logger, debounceMs: DEBOUNCE, onChange: () => (count += 1) });
  await watcher.start();
  return { calls: () => count };
}

/** Waits for the debounced call to have had time to come (or not). */
const quiet = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, DEBOUNCE * 6));

/** Waits (up to 5 s, for a loaded machine) for `n` calls, then a while longer to see that no extra one comes. */
async function expectCalls(w: { calls: () => number }, n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (w.calls() < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await quiet();
  expect(w.calls()).toBe(n);
}

describe('ConfigWatcher', () => {
  it('sees in-place writes, sed -i and a vim-style rename over the file, one call per burst', async () => {
    const file = join(dir, 'ldapsync.yaml');
    await writeFile(file, 'a: 1\n');
    const w = await watching(file);

    await writeFile(file, 'a: 2\n');
    await expectCalls(w, 1);

    execFileSync('sed', ['-i', 's/2/3/', file]);
    await expectCalls(w, 2);

    await writeFile(join(dir, '.ldapsync.yaml.swp'), 'x');
    await writeFile(join(dir, 'ldapsync.yaml.tmp'), 'a: 4\n');
    await rename(join(dir, 'ldapsync.yaml.tmp'), file);
    await expectCalls(w, 3);

    for (let i = 0; i < 5; i++) await writeFile(file, `a: ${10 + i}\n`);
    await expectCalls(w, 4);
  });

  it('ignores other files in the directory, such as an embedded store beside the config', async () => {
    const file = join(dir, 'ldapsync.yaml');
    await writeFile(file, 'a: 1\n');
    await mkdir(join(dir, 'data'));
    const w = await watching(file);
    await writeFile(join(dir, 'other.yaml'), 'b: 1\n');
    await writeFile(join(dir, 'data', 'PG_VERSION'), '17\n');
    await expectCalls(w, 0);
  });

  it('sees a Kubernetes ConfigMap update (the ..data symlink swapped to a new directory)', async () => {
    await mkdir(join(dir, '..2025_01'));
    await writeFile(join(dir, '..2025_01', 'ldapsync.yaml'), 'a: 1\n');
    await symlink('..2025_01', join(dir, '..data'));
    await symlink('..data/ldapsync.yaml', join(dir, 'ldapsync.yaml'));
    const w = await watching(join(dir, 'ldapsync.yaml'));

    await mkdir(join(dir, '..2025_02'));
    await writeFile(join(dir, '..2025_02', 'ldapsync.yaml'), 'a: 2\n');
    await symlink('..2025_02', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2025_01'), { recursive: true });
    await expectCalls(w, 1);
  });

  it('sees the file deleted and written again, and stops calling after stop()', async () => {
    const file = join(dir, 'ldapsync.yaml');
    await writeFile(file, 'a: 1\n');
    const w = await watching(file);
    await rm(file);
    await expectCalls(w, 1);
    await writeFile(file, 'a: 2\n');
    await expectCalls(w, 2);
    await watcher?.stop();
    await watcher?.stop();
    await writeFile(file, 'a: 3\n');
    await expectCalls(w, 2);
  });
});
