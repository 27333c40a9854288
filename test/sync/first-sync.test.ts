import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { NOTIFY_CHANNEL } from '../../src/store/index.js';
import { generatedUid } from '../helpers/ldif-generator.js';
import { PG_URL } from '../helpers/postgres.js';
import { type Backend, BACKENDS, changeLines, events, PEOPLE, SLOW, SyncWorld, waitFor } from './world.js';

/** More than one batch of creates (BATCH_ROWS, 5,000), so that a first sync has written rows before it ends. */
const USERS = 6000;
const PAGE = 500;

/**
 * On Postgres a first sync writes each batch of creates as it reads the directory, in the run's one transaction:
 * these are the ways that can go wrong after rows have been written, and what a user must see of it (nothing). The
 * embedded store plans first syncs in memory, and must show the same.
 */
describe.each(BACKENDS)('a first sync written as it is read (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  let listener: pg.Client | undefined;
  const notified: string[] = [];
  afterEach(async () => {
    await listener?.end();
    listener = undefined;
    notified.length = 0;
    world.slapd.resume();
    await world.dispose();
  });

  /** On Postgres, every NOTIFY payload of this world's schema. */
  async function listen(): Promise<void> {
    if (backend !== 'postgres') return;
    listener = new pg.Client({ connectionString: PG_URL });
    await listener.connect();
    listener.on('notification', (n) => {
      if (n.payload?.includes(`"schema":${JSON.stringify(world.store.schema)}`) === true) notified.push(n.payload);
    });
    await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);
  }

  it('slapd stopped after batches were written: the run fails and leaves no row, no audit line, no NOTIFY; the next run writes every row with its digest', async () => {
    world = await SyncWorld.create(backend, { generate: { users: USERS } });
    await world.configure({ profiles: [{ pageSize: PAGE, operationTimeout: '5s' }] });
    await listen();

    let stopped: Promise<void> | undefined;
    const { result, logs } = await world.sync('users', {
      onProgress: ({ read }) => {
        // The first batch goes to the store once page 10 (5,000 entries) is taken; a page or so is read ahead.
        if (stopped !== undefined || read < 5000) return;
        world.slapd.pause();
        stopped = world.slapd.stop();
      },
    });
    await stopped;
    expect(stopped).toBeDefined();
    expect(result).toMatchObject({ status: 'failed', error: { message: expect.stringContaining(world.slapd.url) } });
    expect(changeLines(logs)).toEqual([]);
    expect(await world.users()).toEqual([]);
    expect((await world.runs()).map((r) => r.status)).toEqual(['failed']);

    await world.slapd.start();
    // The real CLI, as an operator runs it: the plan it prints lists the first creates and counts them all.
    const run = await world.cli('sync', 'users', 'demo');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`create users (${USERS}):`);
    expect(run.stdout).toContain(`+ ${generatedUid(1)}  uid=${generatedUid(1)},${PEOPLE}`);
    expect(run.stdout).toContain(`… and ${USERS - 50} more (use --json for all)`);
    expect(run.stdout).toContain(`users of demo: ${USERS} to create, 0 to update, 0 to remove, 0 unchanged, 0 skipped, 0 conflicts, 0 missing`);
    const rows = await world.users();
    expect(rows).toHaveLength(USERS);
    expect(rows.filter((r) => r.entry_digest === null)).toEqual([]);
    expect(events(run.logs, 'user.created').map((l) => l['userId']).sort((a, b) => Number(a) - Number(b))).toEqual(rows.map((r) => Number(r.id)).sort((a, b) => a - b));
    if (backend === 'postgres') {
      await waitFor(() => notified.length >= USERS, 20_000);
      expect(notified).toHaveLength(USERS);
    }

    // The digests were written with the rows: the resync knows every entry by them.
    const again = await world.sync('users');
    expect(again.result).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, unchanged: USERS } });
  });

  it('two entries wanting one login: what was written is rolled back and the directory planned in memory, as planUsers would', async () => {
    world = await SyncWorld.create(backend, { generate: { users: USERS } });
    const twin = generatedUid(7).toUpperCase();
    // Added last, so read after the first batch was written; its login is user000007's in another case.
    await world.slapd.ldapadd(
      [
        `dn: ou=contractors,${PEOPLE}\nobjectClass: organizationalUnit\nou: contractors\n`,
        `dn: uid=${twin},ou=contractors,${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${twin}\ncn: Twin\nsn: Twin\ngivenName: Twin\nmail: twin@example.org\n`,
      ].join('\n'),
    );
    await world.configure({ profiles: [{ pageSize: PAGE }] });
    await listen();

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { read: USERS + 1, created: USERS - 1, conflicts: 2 } });
    // The embedded store plans a first sync in memory from the start (its one connection is not held open).
    expect(logs.filter((l) => l.event === 'sync.replanned')).toHaveLength(backend === 'postgres' ? 1 : 0);
    const conflicts = logs.filter((l) => l.event === 'sync.conflict').map((l) => l['dn']);
    expect(conflicts.sort()).toEqual([`uid=${generatedUid(7)},${PEOPLE}`, `uid=${twin},ou=contractors,${PEOPLE}`].sort());
    const rows = await world.users();
    expect(rows).toHaveLength(USERS - 1);
    expect(rows.map((r) => r.username.toLowerCase())).not.toContain(generatedUid(7));
    // One audit line per row there is: none for the rows written before the roll back.
    const created = events(logs, 'user.created');
    expect(created).toHaveLength(USERS - 1);
    expect(new Set(created.map((l) => l['userId']))).toEqual(new Set(rows.map((r) => Number(r.id))));
    if (backend === 'postgres') {
      await waitFor(() => notified.length >= USERS - 1, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(notified).toHaveLength(USERS - 1);
    }
    expect((await world.runs()).map((r) => ({ status: r.status, created: r.counts.created, conflicts: r.counts.conflicts }))).toEqual([
      { status: 'succeeded', created: USERS - 1, conflicts: 2 },
    ]);
  });
});
