import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFY_CHANNEL, type NotifyPayload, type Store } from '../../src/store/index.js';
import { makeStoreSite, withPgClient, type StoreSite } from '../helpers/postgres.js';
import { deletes, person, snapshot, syncUsers, userPlan } from './sync-helpers.js';

// What only a real server can show: other sessions (listeners, replicas, a backend killed mid-transaction).
describe('store on a Postgres server', () => {
  let site: StoreSite;
  let store: Store;
  beforeAll(async () => {
    site = await makeStoreSite('postgres');
    store = await site.open();
  });
  afterAll(async () => {
    await store.close();
    await site.remove();
  });

  it('sends one small NOTIFY per applied change, delivered at commit', async () => {
    await withPgClient(async (listener) => {
      const received: NotifyPayload[] = [];
      listener.on('notification', (n) => {
        if (n.channel !== NOTIFY_CHANNEL || n.payload === undefined) return;
        // Other test files' stores share the server (and the channel): keep this store's own.
        const payload = JSON.parse(n.payload) as NotifyPayload;
        if (payload.schema === store.schema) received.push(payload);
      });
      await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);
      const { applied, runId } = await syncUsers(store, 'notify', [person('n1'), person('n2')]);
      for (let i = 0; i < 50 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toEqual(
        applied.map((a) => ({ event: 'user.created', schema: store.schema, source: 'notify', runId, externalId: a.externalId, userId: (a as { userId: number }).userId })),
      );
      expect(Math.max(...received.map((p) => JSON.stringify(p).length))).toBeLessThan(8000);

      // A plan that fails sends nothing.
      received.length = 0;
      const plan = await userPlan(store, 'notify', [person('n3')]);
      const bad = { ...plan, changes: [...plan.changes, { ...plan.changes[0], kind: 'create' as const, externalId: 'dup', login: 'n1@example.com', username: 'n1', dn: 'uid=dup', enabled: true, fields: {} }] };
      const run = await store.beginRun({ source: 'notify', kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' });
      await expect(store.applyUserPlan(run, bad)).rejects.toMatchObject({ code: 'store.failed' });
      await new Promise((r) => setTimeout(r, 200));
      expect(received).toEqual([]);
      await store.finishRun(run, { status: 'failed', error: 'test' });
    });
  });

  it('leaves the store as it was when its connection is killed in the middle of a transaction', async () => {
    const profile = 'killed';
    await syncUsers(store, profile, [person('k1'), person('k2'), person('k3')]);
    const rows = await store.usersOf(profile);
    const k3 = rows.find((r) => r.username === 'k3');
    // Removal of k1 runs first; the update of k3 then waits on a row lock another session holds.
    const plan = await userPlan(store, profile, [person('k2'), person('k3', { fields: { displayName: 'changed' } })], deletes());
    expect(plan.changes.map((c) => c.kind)).toEqual(['update', 'remove']);
    const before = await snapshot(store);
    const runId = await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' });

    await withPgClient(async (blocker) => {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${site.config.schema}.users WHERE id = $1 FOR UPDATE`, [k3?.id]);
      const applying = store.applyUserPlan(runId, plan);
      applying.catch(() => undefined);
      // Watched from outside the blocker's transaction, whose view of pg_stat_activity is frozen at first look.
      await withPgClient(async (watcher) => {
        let pid: number | undefined;
        for (let i = 0; i < 250 && pid === undefined; i++) {
          const { rows: waiting } = await watcher.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
            [`%UPDATE "${site.config.schema}"."users" AS u%`],
          );
          pid = waiting[0]?.pid;
          if (pid === undefined) await new Promise((r) => setTimeout(r, 20));
        }
        expect(pid).toBeDefined();
        await watcher.query('SELECT pg_terminate_backend($1)', [pid]);
      });
      await expect(applying).rejects.toMatchObject({ code: 'store.unreachable' });
      await blocker.query('ROLLBACK');
    });

    expect(await snapshot(store)).toEqual(before);
    expect((await store.lastRuns(profile, 1))[0]).toMatchObject({ id: runId, status: 'running' });
    // The process would now record the failure; a store opened later would find the run stale.
    expect(await store.failStaleRuns()).toBe(1);
    expect((await store.lastRuns(profile, 1))[0]).toMatchObject({ id: runId, status: 'failed' });
    // And the next run applies cleanly.
    await store.applyUserPlan(await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' }), plan);
    expect((await store.usersOf(profile)).find((r) => r.username === 'k1')?.removedAt).toBeInstanceOf(Date);
  });

  it('excludes a second replica from a profile while the first holds its lock, and lets it wait its turn', async () => {
    const replica = await site.open();
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = store.withProfileLock('shared', () => held.then(() => 'first'), { wait: false });
      await new Promise((r) => setTimeout(r, 100));
      expect(await replica.withProfileLock('shared', async () => 'second', { wait: false })).toBe('busy');
      // A run row of the holder is not stale to the replica.
      const runId = await store.beginRun({ source: 'shared', kind: 'users', trigger: 'schedule', dryRun: false, configHash: 'x' });
      expect(await replica.failStaleRuns()).toBe(0);
      const waiter = replica.withProfileLock('shared', async () => 'waited', { wait: true });
      await new Promise((r) => setTimeout(r, 100));
      await store.finishRun(runId, { status: 'failed', error: 'test' });
      release();
      expect(await first).toBe('first');
      expect(await waiter).toBe('waited');
    } finally {
      await replica.close();
    }
  });
});
