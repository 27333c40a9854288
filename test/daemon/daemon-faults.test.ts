import { afterEach, describe, expect, it } from 'vitest';
import type { StoredUser } from '../../src/reconcile/index.js';
import type { RunRow } from '../../src/store/index.js';
import type { DaemonProcess } from './daemon-process.js';
import { freePort, makeWorld, sleep, type DaemonWorld } from './daemon-setup.js';
import { TcpProxy } from './tcp-proxy.js';

// The daemon under faults: shutdown during a sync, two replicas on one database, a directory that goes away.

const EVERY_2S = '*/2 * * * * *';

let world: DaemonWorld | undefined;

afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

/** Runs of a profile, oldest first, each as [start, end] in ms. */
function intervals(runs: ReadonlyArray<RunRow>): Array<[number, number]> {
  return runs
    .map((r): [number, number] => [r.startedAt.getTime(), (r.finishedAt ?? new Date()).getTime()])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * Waits for a run of `profile` to finish, gives alice a new cn and freezes the server (runs then connect and
 * hear nothing), until that happens between two runs: a run that started before the freeze may have read the
 * change, or may hang and fail on its own later. Returns the store as the freeze found it, a mark taken at the
 * freeze and the cn the directory now has.
 */
async function pauseBetweenRuns(daemon: DaemonProcess, w: DaemonWorld, profile: string): Promise<{ before: StoredUser[]; mark: number; cn: string }> {
  let from = 0;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const finished = await daemon.waitFor('sync.finished', { from });
    const before = await w.users(profile);
    const cn = `Alice Changed ${attempt}`;
    await w.slapd.ldapmodify(`dn: uid=alice,ou=people,${w.slapd.baseDN}\nchangetype: modify\nreplace: cn\ncn: ${cn}\n`);
    const pausedAt = Date.now();
    w.slapd.pause();
    const mark = daemon.mark();
    // Lines reach the test through a pipe: let those of a run that began just before the freeze arrive.
    await sleep(300);
    const startedBefore = daemon.lines
      .slice(daemon.lines.indexOf(finished) + 1)
      .some((l) => l.event === 'sync.started' && Date.parse(String(l['time'])) < pausedAt);
    if (!startedBefore) return { before, mark, cn };
    w.slapd.resume();
    from = mark;
  }
  throw new Error(`no quiet moment between two runs to freeze the server in\n${daemon.describe()}`);
}

describe('ldapsync run under faults', () => {
  it('on SIGTERM during a sync lets it finish (not ready meanwhile), then exits 0', async () => {
    world = await makeWorld({ generate: { users: 4000 } });
    const port = await freePort();
    await world.write([world.profile('pe', { schedule: EVERY_2S })], { httpPort: port });
    const daemon = world.start();
    await daemon.waitFor('sync.started', { timeoutMs: 30_000 });
    daemon.signal('SIGTERM');
    await daemon.waitFor('daemon.stopping');
    if (daemon.events('sync.finished').length === 0) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reason: 'stopping' });
    }
    const exit = await daemon.exited;
    expect(exit, daemon.describe()).toEqual({ code: 0, signal: null });
    const finished = daemon.events('sync.finished');
    expect(finished).toHaveLength(1);
    const order = ['daemon.stopping', 'sync.finished', 'daemon.stopped'].map((e) => daemon.lines.findIndex((l) => l.event === e));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect((await world.users('pe')).length).toBe(4000);
    expect((await world.runs('pe')).map((r) => r.status)).toEqual(['succeeded']);
  });

  it('on SIGTERM aborts a sync that outlasts the shutdown timeout: it rolls back, the store is as before, exit 0', async () => {
    world = await makeWorld();
    await world.write([world.profile('pe', { schedule: EVERY_2S, operationTimeout: '3s' })]);
    const daemon = world.start({ LDAPSYNC_SHUTDOWN_TIMEOUT_MS: '1000' });
    const { before, mark, cn } = await pauseBetweenRuns(daemon, world, 'pe');
    // The run to abort has a change to write: alice's new cn, which the store does not have.
    expect(before.find((u) => u.username === 'alice')?.fields['displayName']).not.toBe(cn);
    await daemon.waitFor('sync.started', { from: mark });
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    world.slapd.resume();
    expect(exit, daemon.describe()).toEqual({ code: 0, signal: null });
    expect(daemon.events('daemon.shutdown_timeout')).toHaveLength(1);
    expect(daemon.events('sync.failed', (l) => daemon.lines.indexOf(l) > mark)).toHaveLength(1);
    const after = await world.users('pe');
    expect(after).toEqual(before);
    const runs = await world.runs('pe');
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    expect(runs[0]?.status).toBe('failed');
  });

  it('says not ready while Postgres is unreachable, fails runs meanwhile, and recovers when it is back', async () => {
    world = await makeWorld();
    const pg = new URL(world.site.config.url);
    const proxy = await TcpProxy.start(Number(pg.port || 5432));
    try {
      pg.port = String(proxy.port);
      const port = await freePort();
      await world.write([world.profile('pe', { schedule: EVERY_2S })], { httpPort: port, store: { url: pg.toString(), schema: world.site.config.schema } });
      const daemon = world.start();
      await daemon.waitFor('sync.finished');
      const readyz = (): Promise<Response> => fetch(`http://127.0.0.1:${port}/readyz`);
      expect((await readyz()).status).toBe(200);

      await proxy.cut();
      const down = daemon.mark();
      const notReady = await readyz();
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ status: 'not ready', reason: expect.stringMatching(/store unreachable/) });
      await daemon.waitFor('sync.failed', { from: down });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

      await proxy.restore();
      const up = daemon.mark();
      await daemon.waitFor('sync.finished', { from: up, timeoutMs: 20_000 });
      expect((await readyz()).status).toBe(200);
      expect(await daemon.stop()).toMatchObject({ code: 0 });
    } finally {
      await proxy.cut();
    }
  });

  it('a second SIGTERM exits at once', async () => {
    world = await makeWorld();
    await world.write([world.profile('pe', { schedule: EVERY_2S, operationTimeout: '20s' })]);
    const daemon = world.start({ LDAPSYNC_SHUTDOWN_TIMEOUT_MS: '60000' });
    await daemon.waitFor('sync.finished');
    world.slapd.pause();
    const mark = daemon.mark();
    await daemon.waitFor('sync.started', { from: mark });
    daemon.signal('SIGTERM');
    await daemon.waitFor('daemon.stopping', { from: mark });
    const t0 = Date.now();
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    world.slapd.resume();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(daemon.events('daemon.forced_exit')).toHaveLength(1);
  });

  it('two daemons on one database never run one profile at once: the other replica skips', async () => {
    world = await makeWorld({ generate: { users: 3000 } });
    await world.write([world.profile('pe', { schedule: EVERY_2S, groups: true })]);
    const a = world.start();
    const b = world.start();
    const byReplica = (l: Record<string, unknown>): boolean => /another/.test(String(l['reason']));
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const skips = [...a.events('sync.skipped', byReplica), ...b.events('sync.skipped', byReplica)];
      const done = [...a.events('sync.finished'), ...b.events('sync.finished')];
      if (skips.length >= 1 && done.length >= 4) break;
      await sleep(250);
    }
    expect(await a.stop()).toMatchObject({ code: 0 });
    expect(await b.stop()).toMatchObject({ code: 0 });

    const runs = await world.runs('pe');
    expect(runs.length).toBeGreaterThanOrEqual(4);
    const spans = intervals(runs);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.[0], `run ${i} starts before run ${i - 1} ends`).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
    }
    // Skipped because the other replica held the profile's lock (not the in-process overlap guard).
    expect([...a.events('sync.skipped', byReplica), ...b.events('sync.skipped', byReplica)].length).toBeGreaterThanOrEqual(1);
    expect((await world.users('pe')).length).toBe(3000);
  });

  it('survives a directory that goes away: runs fail and are retried, other profiles go on, syncs resume when it is back', async () => {
    world = await makeWorld();
    const port = await freePort();
    const gone = await freePort();
    await world.write(
      [
        world.profile('pe', { schedule: EVERY_2S, operationTimeout: '2s' }),
        world.profile('gone', { schedule: '0 0 1 1 *', url: `ldap://127.0.0.1:${gone}` }),
      ],
      { httpPort: port },
    );
    const daemon = world.start({ LDAPSYNC_FIRST_RUN_DELAY_MS: '200' });
    await daemon.waitFor('sync.finished', { match: (l) => l['profile'] === 'pe' });
    // The profile whose server is gone fails, and is retried with growing delays, while pe goes on.
    await daemon.waitFor('sync.retry_scheduled', { match: (l) => l['profile'] === 'gone', nth: 3 });
    const gaps = daemon.events('sync.retry_scheduled', (l) => l['profile'] === 'gone').map((l) => Number(l['delayMs']));
    expect(gaps.slice(0, 3)).toEqual([500, 1000, 2000]);
    await daemon.waitFor('sync.finished', { match: (l) => l['profile'] === 'pe', nth: 2 });

    await world.slapd.stop();
    const down = daemon.mark();
    await daemon.waitFor('sync.failed', { from: down, match: (l) => l['profile'] === 'pe', nth: 2 });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/ldapsync_sync_runs_total\{profile="pe",kind="users",outcome="failed"\} [1-9]/);

    await world.slapd.start();
    const up = daemon.mark();
    await daemon.waitFor('sync.finished', { from: up, match: (l) => l['profile'] === 'pe', timeoutMs: 20_000 });
    expect(daemon.exit).toBeUndefined();
    expect(await daemon.stop()).toMatchObject({ code: 0 });
    const runs = await world.runs('pe');
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    expect(runs[0]?.status).toBe('succeeded');
  });
});
