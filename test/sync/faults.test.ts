import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { type Backend, BACKENDS, changeLines, type CliRun, COMPANY_USERS, parseCli, SLOW, SyncWorld } from './world.js';

const CLI_ENTRY = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));

/** The CLI as a child process the test can signal, what it wrote so far, and its result once it ends. */
function startCli(world: SyncWorld, ...args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<CliRun> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, '-c', world.configFile, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(parseCli({ code, stdout, stderr })));
  });
  return { child, stderr: () => stderr, done };
}

async function waitUntil(what: string, condition: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runningRow(world: SyncWorld): Promise<boolean> {
  return (await world.runs()).some((r) => r.status === 'running');
}

describe('faults: the store cannot be reached', SLOW, () => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create('postgres');
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('Postgres unreachable at start: a clear error naming the store, exit 1', async () => {
    await world.configure({ storeUrl: 'postgres://postgres@127.0.0.1:1/test' });
    const run = await world.cli('sync', 'users', 'demo');
    expect(run.code).toBe(1);
    expect(run.messages).toMatch(/^cannot open the store: cannot reach the store at postgres:\/\/postgres@127\.0\.0\.1:1\/test: .*ECONNREFUSED/m);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(changeLines(run.logs)).toEqual([]);
  });

  it('an embedded store path that cannot be created: a clear error, exit 1', async () => {
    await writeFile(join(world.dir, 'not-a-directory'), '');
    await world.configure({ storeUrl: `pglite://${join(world.dir, 'not-a-directory', 'store')}` });
    const run = await world.cli('sync', 'users', 'demo');
    expect(run.code).toBe(1);
    expect(run.messages).toContain(`cannot open the store: cannot create the embedded store directory ${join(world.dir, 'not-a-directory', 'store')}`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe.each(BACKENDS)('faults mid-run (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  afterEach(async () => {
    world.slapd.resume();
    await world.dispose();
  });

  it('slapd stopped mid-read: the run fails, its row says so, and the store is as before', async () => {
    world = await SyncWorld.create(backend, { generate: { users: 1000 } });
    await world.configure({ profiles: [{ pageSize: 20, operationTimeout: '5s' }] });
    expect((await world.sync('users')).result).toMatchObject({ status: 'succeeded', counts: { created: 1000 } });
    // Every row would change under the new mapping: a run that wrote anything would show.
    await world.configure({ profiles: [{ pageSize: 20, operationTimeout: '5s', users: { mapping: { displayName: "'Dr. ' + cn" } } }] });
    const before = await world.users();

    let stopped: Promise<void> | undefined;
    const { result, logs } = await world.sync('users', {
      onProgress: ({ read }) => {
        if (stopped !== undefined || read < 200) return;
        world.slapd.pause();
        stopped = world.slapd.stop();
      },
    });
    await stopped;
    expect(stopped).toBeDefined();
    expect(result.status).toBe('failed');
    if (result.status !== 'failed') return;
    expect(result.error.message).toContain(world.slapd.url);
    expect(changeLines(logs)).toEqual([]);
    expect(logs.find((l) => l.event === 'sync.failed')).toMatchObject({ level: 'error', runId: result.runId });
    expect(await world.users()).toEqual(before);
    const [run] = await world.runs();
    expect(run).toMatchObject({ id: result.runId, status: 'failed', error: expect.stringContaining(world.slapd.url), finishedAt: expect.any(Date) });

    await world.slapd.start();
    expect((await world.sync('users')).result).toMatchObject({ status: 'succeeded', counts: { updated: 1000 } });
  });

  it('two syncs of one profile at once: the second says it is busy and writes nothing, the first completes', async () => {
    world = await SyncWorld.create(backend);
    await world.configure({ profiles: [{ operationTimeout: '90s' }] });
    // A paused directory holds the first run inside its lock, reading.
    world.slapd.pause();
    const first = world.sync('users');
    await waitUntil('the first run has begun', () => runningRow(world));

    const second = await world.sync('users');
    expect(second.result).toMatchObject({ status: 'busy', reason: expect.stringContaining('sync of demo is running') });
    expect(second.logs.find((l) => l.event === 'sync.skipped')).toBeDefined();

    world.slapd.resume();
    expect((await first).result).toMatchObject({ status: 'succeeded', counts: { created: COMPANY_USERS } });
    expect(await world.users()).toHaveLength(COMPANY_USERS);
    expect((await world.runs()).map((r) => r.status)).toEqual(['succeeded']);
  });
});

describe('faults between processes (postgres)', SLOW, () => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create('postgres');
    await world.configure({ profiles: [{ operationTimeout: '90s' }] });
  });
  afterEach(async () => {
    world.slapd.resume();
    await world.dispose();
  });

  it('two CLI syncs of one profile at once: the second refuses (exit 1), the runs never interleave', async () => {
    world.slapd.pause();
    const first = startCli(world, 'sync', 'users', 'demo');
    await waitUntil('the first CLI run has begun', () => runningRow(world));

    const second = await world.cli('sync', 'users', 'demo');
    expect(second.code).toBe(1);
    expect(second.messages).toMatch(/^not run: another .* sync of demo is running/m);

    world.slapd.resume();
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(await world.users()).toHaveLength(COMPANY_USERS);
    expect((await world.runs()).map((r) => r.status)).toEqual(['succeeded']);
  });

  it('a run left running by a killed process is marked failed at the next start', async () => {
    world.slapd.pause();
    const killed = startCli(world, 'sync', 'users', 'demo');
    await waitUntil('the CLI run has begun', () => runningRow(world));
    killed.child.kill('SIGKILL');
    expect((await killed.done).code).toBeNull();
    world.slapd.resume();

    const status = await world.cli('status', '--json');
    expect(status.code).toBe(0);
    const out = JSON.parse(status.stdout) as { profiles: { profile: string; runs: { status: string; error: string | null }[] }[] };
    expect(out.profiles[0]?.runs).toEqual([
      expect.objectContaining({ status: 'failed', error: 'the process running this sync stopped before it finished; nothing it planned was written' }),
    ]);
    expect(await world.users()).toEqual([]);
    expect((await world.cli('sync', 'users', 'demo')).code).toBe(0);
  });
});

describe('faults between processes (pglite)', SLOW, () => {
  let world: SyncWorld;
  afterEach(async () => {
    world.slapd.resume();
    await world.dispose();
  });

  it('a second process refuses to open the embedded store while another has it open, and leaves its run alone', async () => {
    world = await SyncWorld.create('pglite');
    await world.configure({ profiles: [{ operationTimeout: '90s' }] });
    world.slapd.pause();
    const first = startCli(world, 'sync', 'users', 'demo');
    await waitUntil('the first CLI run has begun', async () => first.stderr().includes('"event":"sync.started"'));

    const second = await world.cli('sync', 'users', 'demo');
    expect(second.code).toBe(1);
    expect(second.messages).toMatch(/^cannot open the store: the embedded store .* is in use by process \d+/m);
    expect(second.logs.find((l) => l.event === 'store.stale_runs_failed')).toBeUndefined();

    world.slapd.resume();
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect((await world.runs()).map((r) => r.status)).toEqual(['succeeded']);
    expect(await world.users()).toHaveLength(COMPANY_USERS);
  });

  it('a run left running by a killed CLI process is marked failed when the embedded store is next opened', async () => {
    world = await SyncWorld.create('pglite');
    await world.configure({ profiles: [{ operationTimeout: '90s' }] });
    world.slapd.pause();
    const killed = startCli(world, 'sync', 'users', 'demo');
    // The CLI holds the embedded store, so its log says when the run has started; its run row is written
    // right after that line, before the (paused) directory is read.
    await waitUntil('the CLI run has begun', async () => killed.stderr().includes('"event":"sync.started"'));
    await new Promise((r) => setTimeout(r, 3000));
    killed.child.kill('SIGKILL');
    await killed.done;
    world.slapd.resume();

    const sync = await world.cli('sync', 'users', 'demo');
    expect(sync.code, sync.stderr).toBe(0);
    const runs = await world.runs();
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(runs[1]?.error).toContain('stopped before it finished');
    expect(await world.users()).toHaveLength(COMPANY_USERS);
  });
});
