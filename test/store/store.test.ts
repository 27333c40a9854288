import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_FIELDS } from '../../src/reconcile/index.js';
import { MIGRATION_NAMES, type AppliedChange, type EntryDigests, type Store } from '../../src/store/index.js';
import { openTestStore, withPgClient, type Backend } from '../helpers/postgres.js';
import { deletes, groupPlan, insertLocalUser, person, snapshot, syncGroups, syncUsers, team, userPlan } from './sync-helpers.js';

const BACKENDS: Backend[] = ['postgres', 'pglite'];

function events(applied: ReadonlyArray<AppliedChange>): string[] {
  return applied.map((a) => `${a.event} ${a.externalId}`);
}

describe.each(BACKENDS)('store on %s', (backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore(backend));
  });
  afterAll(async () => {
    await cleanup();
  });

  describe('migrations', () => {
    it('created every table in the configured schema, with a column for every mapped user field', async () => {
      const { rows } = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = ${store.schema} ORDER BY table_name`.execute(store.kysely);
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['group_members', 'groups', 'kysely_migration', 'kysely_migration_lock', 'sync_runs', 'users']),
      );
      const cols = await sql<{ column_name: string }>`
        SELECT column_name FROM information_schema.columns WHERE table_schema = ${store.schema} AND table_name = 'users'`.execute(store.kysely);
      const names = cols.rows.map((c) => c.column_name);
      for (const f of USER_FIELDS) expect(names).toContain(f.column);
    });

    it('does nothing when run again', async () => {
      expect(await store.migrate()).toEqual({ applied: [], current: MIGRATION_NAMES[MIGRATION_NAMES.length - 1] });
    });
  });

  describe('applying user plans', () => {
    it('creates, renames, updates and removes rows, returning one event per change and closing the run', async () => {
      const profile = 'apply';
      const first = await syncUsers(store, profile, [person('fry'), person('leela'), person('bender')]);
      expect(events(first.applied)).toEqual(['user.created uuid-fry', 'user.created uuid-leela', 'user.created uuid-bender']);
      const rows = await store.usersOf(profile);
      expect(rows.map((r) => r.username).sort()).toEqual(['bender', 'fry', 'leela']);
      const fry = rows.find((r) => r.username === 'fry');
      expect(fry).toMatchObject({
        source: profile,
        externalId: 'uuid-fry',
        login: 'fry@example.com',
        enabled: true,
        removedAt: null,
        fields: { email: 'fry@example.com', displayName: 'FRY', diskQuota: 1024, userCustomFields: { employeeType: 'staff', tags: ['a', 'b'] }, notes: null },
      });
      expect(first.applied[0]).toMatchObject({ event: 'user.created', userId: fry?.id, source: profile, runId: first.runId, dn: fry?.dn });

      const second = await syncUsers(
        store,
        profile,
        [person('pjfry', { externalId: 'uuid-fry', fields: { displayName: 'Philip' } }), person('leela', { fields: { enabled: false } })],
        deletes(),
      );
      expect(events(second.applied)).toEqual(['user.removed uuid-bender', 'user.updated uuid-fry', 'user.updated uuid-leela']);
      const after = await store.usersOf(profile);
      const renamed = after.find((r) => r.externalId === 'uuid-fry');
      expect(renamed).toMatchObject({ id: fry?.id, username: 'pjfry', login: 'pjfry@example.com', fields: { displayName: 'Philip' } });
      expect(after.find((r) => r.externalId === 'uuid-leela')?.enabled).toBe(false);
      const bender = after.find((r) => r.externalId === 'uuid-bender');
      expect(bender?.enabled).toBe(false);
      expect(bender?.removedAt).toBeInstanceOf(Date);

      const [run] = await store.lastRuns(profile, 1);
      expect(run).toMatchObject({ id: second.runId, status: 'succeeded', kind: 'users', trigger: 'cli', counts: { created: 0, updated: 2, removed: 1, unchanged: 0 } });
      expect(run?.finishedAt).toBeInstanceOf(Date);

      // A no-op run plans nothing; the removed row comes back when its entry does.
      expect((await userPlan(store, profile, [person('pjfry', { externalId: 'uuid-fry', fields: { displayName: 'Philip' } }), person('leela', { fields: { enabled: false } })])).changes).toEqual([]);
      const third = await syncUsers(store, profile, [person('bender')]);
      expect(third.applied).toEqual([expect.objectContaining({ event: 'user.updated', revived: true, userId: bender?.id })]);
      expect((await store.usersOf(profile)).find((r) => r.externalId === 'uuid-bender')).toMatchObject({ enabled: true, removedAt: null });
    });

    it('stores awkward values exactly as mapped, so that a resync finds nothing to change', async () => {
      const profile = 'awkward';
      const fields = {
        email: 'o\'brien "quoted" \\ back{slash},comma',
        displayName: 'NULL',
        notes: '',
        street: 'line one\nline two\ttab',
        city: 'Zürich ☃ 東京',
        diskQuota: 5_000_000_000_000,
        userCustomFields: { 'key with "quote"': ['{', '}', null, 1.5, true], nested: { b: 1, a: [] } },
        contactCustomFields: {},
      };
      await syncUsers(store, profile, [person('awk', { fields }), person('plain', { fields: { displayName: null, email: null, diskQuota: null, userCustomFields: null } })]);
      const [row] = (await store.usersOf(profile)).filter((r) => r.username === 'awk');
      expect(row?.fields).toMatchObject(fields);
      const again = await userPlan(store, profile, [person('awk', { fields }), person('plain', { fields: { displayName: null, email: null, diskQuota: null, userCustomFields: null } })]);
      expect(again.changes).toEqual([]);
      expect(again.unchanged).toBe(2);
    });

    it('stores values containing the control characters batches are packed with', async () => {
      const profile = 'control';
      const fields = { notes: 'fields\x1fseparated\x1erows\x1dnull', displayName: '\x1d' };
      await syncUsers(store, profile, [person('ctl', { fields }), person('ctl2')]);
      expect((await store.usersOf(profile)).find((r) => r.username === 'ctl')?.fields).toMatchObject(fields);
      expect((await userPlan(store, profile, [person('ctl', { fields }), person('ctl2')])).unchanged).toBe(2);
    });

    it('writes a run of several batches whole, however long and however multibyte its values', async () => {
      const profile = 'batches';
      // 12,001 users: three insert batches of 5,000 and one of 1, each packed into a buffer the one before last used.
      const people = Array.from({ length: 12_001 }, (_, i) =>
        person(`u${i}`, { fields: { displayName: `Zoë Ångström ${i} ☃`, notes: i % 1000 === 0 ? `東京 ${'x'.repeat(70_000)} ${i}` : `n${i}` } }),
      );
      const { applied } = await syncUsers(store, profile, people);
      expect(applied).toHaveLength(12_001);
      const rows = new Map((await store.usersOf(profile)).map((r) => [r.externalId, r]));
      expect(rows.size).toBe(12_001);
      const wrong = people.filter((p) => {
        const fields = rows.get(p.externalId)?.fields;
        return fields?.['displayName'] !== p.fields['displayName'] || fields?.['notes'] !== p.fields['notes'];
      });
      expect(wrong.map((p) => p.username)).toEqual([]);
      expect((await userPlan(store, profile, people)).unchanged).toBe(12_001);
    });

    it("reads every row of a source whose ids another source's rows interleave, over more rows than PGlite reads at once", async () => {
      // 13,000 rows of one source with 6,000 of another's among their ids: on PGlite more than one chunk of the
      // JSON reads (10,000 rows each), and neither chunk a range of ids alone.
      const a = (from: number, count: number) => Array.from({ length: count }, (_, i) => person(`sparse-a${from + i}`));
      const b = Array.from({ length: 6000 }, (_, i) => person(`sparse-b${i}`));
      await syncUsers(store, 'sparse-a', a(0, 6000));
      await syncUsers(store, 'sparse-b', b);
      const wanted = [...a(1, 5999), ...a(6000, 7000)];
      await syncUsers(store, 'sparse-a', wanted, deletes());

      const rows = await store.usersOf('sparse-a');
      expect(rows).toHaveLength(13_000);
      expect(new Set(rows.map((r) => r.username))).toEqual(new Set(['sparse-a0', ...wanted.map((p) => p.username)]));
      expect(rows.find((r) => r.username === 'sparse-a6999')?.fields).toMatchObject({ displayName: 'SPARSE-A6999', diskQuota: 1024, userCustomFields: { tags: ['a', 'b'] } });
      const gone = rows.find((r) => r.username === 'sparse-a0');
      const { rows: held } = await sql<{ removed_at: Date }>`
        SELECT removed_at FROM ${sql.id(store.schema, 'users')} WHERE source = 'sparse-a' AND username = 'sparse-a0'`.execute(store.kysely);
      expect(gone?.removedAt).toBeInstanceOf(Date);
      expect(gone?.removedAt?.getTime()).toBe(held[0]?.removed_at.getTime());

      expect((await store.userSummariesOf('sparse-b')).map((r) => r.username).sort()).toEqual(b.map((p) => p.username).sort());
      const candidates = await store.memberCandidatesOf('sparse-a');
      expect(candidates).toHaveLength(13_000);
      expect(candidates.filter((c) => c.removedAt !== null).map((c) => c.username)).toEqual(['sparse-a0']);
    });

    it('deletes rows in mode delete', async () => {
      const profile = 'hard-delete';
      await syncUsers(store, profile, [person('a'), person('b')]);
      const { applied } = await syncUsers(store, profile, [person('a')], deletes({ mode: 'delete' }));
      expect(applied).toEqual([expect.objectContaining({ event: 'user.removed', mode: 'delete', externalId: 'uuid-b' })]);
      expect((await store.usersOf(profile)).map((r) => r.username)).toEqual(['a']);
    });

    it('swaps two logins in one run', async () => {
      const profile = 'swap';
      await syncUsers(store, profile, [person('x'), person('y')]);
      await syncUsers(store, profile, [person('x', { login: 'y@example.com' }), person('y', { login: 'x@example.com' })]);
      const rows = await store.usersOf(profile);
      expect(rows.map((r) => [r.externalId, r.login]).sort()).toEqual([
        ['uuid-x', 'y@example.com'],
        ['uuid-y', 'x@example.com'],
      ]);
    });

    it('never touches a local row: a login it holds is a conflict, and a forged plan aimed at it fails whole', async () => {
      const profile = 'conflicts';
      const localId = await insertLocalUser(store, 'zoidberg', 'Zoidberg@example.com');
      const before = await store.kysely.selectFrom('users').selectAll().where('id', '=', localId).executeTakeFirst();
      const { plan, applied } = await syncUsers(store, profile, [person('zoidberg'), person('amy')]);
      expect(plan.changes.find((c) => c.kind === 'conflict')).toMatchObject({ externalId: 'uuid-zoidberg', holder: { source: 'local', id: localId } });
      expect(events(applied)).toEqual(['user.created uuid-amy']);
      expect(await store.kysely.selectFrom('users').selectAll().where('id', '=', localId).executeTakeFirst()).toEqual(before);

      const forged = await userPlan(store, profile, [person('amy', { fields: { displayName: 'Forged' } })]);
      const update = forged.changes[0];
      if (update?.kind !== 'update') throw new Error('expected an update');
      const aimed = { ...forged, changes: [{ ...update, id: localId }] };
      const runId = await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' });
      const state = await snapshot(store);
      await expect(store.applyUserPlan(runId, aimed)).rejects.toMatchObject({ code: 'store.stale-plan' });
      expect(await snapshot(store)).toEqual(state);
      expect(await store.findLocalUser('ZOIDBERG')).toMatchObject({ id: localId, source: 'local', externalId: '', dn: '', login: 'Zoidberg@example.com' });
      expect(await store.findLocalUser('zoidberg@example.com')).toMatchObject({ id: localId });
      expect(await store.findLocalUser('amy')).toBeUndefined();
      await store.finishRun(runId, { status: 'failed', error: 'test' });
    });

    it("never touches another profile's rows, and finds their logins as conflicts", async () => {
      await syncUsers(store, 'one', [person('hermes'), person('scruffy')]);
      const before = await store.usersOf('one');
      await syncUsers(store, 'two', [person('other')], deletes());
      await syncUsers(store, 'two', [], deletes());
      expect(await store.usersOf('one')).toEqual(before);
      const holders = await store.usersWithLogins(['HERMES@example.com', 'nobody@example.com'], 'two');
      expect(holders.map((h) => [h.source, h.username])).toEqual([['one', 'hermes']]);
      expect(await store.usersWithLogins(['hermes@example.com'], 'one')).toEqual([]);
      const { plan } = await syncUsers(store, 'two', [person('hermes', { externalId: 'two-hermes' })]);
      expect(plan.changes).toEqual([expect.objectContaining({ kind: 'conflict', holder: expect.objectContaining({ source: 'one' }) })]);
    });

    it('keeps logins unique among live rows in any case, while removed rows may share one', async () => {
      const profile = 'unique';
      await syncUsers(store, profile, [person('kif')]);
      await expect(insertLocalUser(store, 'kif2', 'KIF@example.com')).rejects.toThrow(/users_live_login_key|unique/i);
      await syncUsers(store, profile, [], deletes());
      await insertLocalUser(store, 'kif3', 'kif@example.com');
      expect(await store.usersWithLogins(['kif@example.com'], profile)).toEqual([expect.objectContaining({ source: 'local', username: 'kif3' })]);
    });

    it('refuses a plan the delete guard stopped, writing nothing', async () => {
      const profile = 'guarded';
      await syncUsers(store, profile, [person('guard1'), person('guard2')]);
      const plan = await userPlan(store, profile, [], deletes({ maxPercentage: 5 }));
      expect(plan.guard.tripped).toBe(true);
      const runId = await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' });
      await expect(store.applyUserPlan(runId, plan)).rejects.toMatchObject({ code: 'store.guard-tripped' });
      await store.finishRun(runId, { status: 'aborted', error: plan.guard.reason ?? '', counts: { created: 0, updated: 0, removed: 2, unchanged: 0, skipped: 0, conflicts: 0 } });
      expect((await store.usersOf(profile)).every((r) => r.removedAt === null)).toBe(true);
      expect((await store.lastRuns(profile, 1))[0]).toMatchObject({ status: 'aborted', counts: { removed: 2 }, error: expect.stringMatching(/2 of 2 live users/) });
    });

    it('rolls everything back when a statement fails in the middle of a plan', async () => {
      const profile = 'midway';
      await syncUsers(store, profile, [person('a'), person('b'), person('c')]);
      await insertLocalUser(store, 'taken', 'taken@example.com');
      // Removal and update run first; the last create collides with the local row (a plan made before it existed).
      const plan = await userPlan(store, profile, [person('a', { fields: { displayName: 'changed' } }), ...Array.from({ length: 30 }, (_, i) => person(`n${i}`))], deletes());
      const forged = { ...plan, changes: [...plan.changes, { kind: 'create' as const, externalId: 'late', dn: 'uid=late,dc=x', username: 'taken', login: 'TAKEN@example.com', enabled: true, fields: {} }] };
      const state = await snapshot(store);
      const runId = await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' });
      await expect(store.applyUserPlan(runId, forged)).rejects.toMatchObject({ code: 'store.failed', where: { table: 'users' } });
      expect(await snapshot(store)).toEqual(state);
      expect((await store.lastRuns(profile, 1))[0]).toMatchObject({ id: runId, status: 'running' });
      await store.finishRun(runId, { status: 'failed', error: 'duplicate login' });
      expect((await store.lastRuns(profile, 1))[0]).toMatchObject({ status: 'failed', error: 'duplicate login' });
    });
  });

  describe('entry digests (how a resync knows an unchanged entry)', () => {
    it('keeps the digest a sync wrote a row from, and forgets it when anything but a sync of the entry updates the row', async () => {
      const profile = 'digests';
      const digestsOf = async () => new Map((await store.userSummariesOf(profile)).map((r) => [r.username, r.entryDigest]));
      const apply = async (desired: ReturnType<typeof person>[], digests: EntryDigests, del = deletes()) => {
        const plan = await userPlan(store, profile, desired, del);
        const runId = await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'x' });
        return store.applyUserPlan(runId, plan, undefined, digests);
      };
      const fry = person('dgfry');
      const leela = person('dgleela');
      await apply([fry, leela], { of: new Map([[fry.externalId, 'k:fry-1']]), refresh: [] });
      expect(await digestsOf()).toEqual(new Map([['dgfry', 'k:fry-1'], ['dgleela', null]]));

      // A row found unchanged gets its entry's digest, and nothing else about it changes.
      const [leelaBefore] = await store.usersByExternalIds(profile, [leela.externalId]);
      const updatedAt = async (username: string) =>
        (await store.kysely.selectFrom('users').select('updated_at').where('source', '=', profile).where('username', '=', username).executeTakeFirstOrThrow()).updated_at;
      const leelaUpdated = await updatedAt('dgleela');
      const refreshed = await apply([fry, leela], { of: new Map(), refresh: [{ id: leelaBefore?.id ?? 0, digest: 'k:leela-1' }] });
      expect(refreshed).toEqual([]);
      expect(await digestsOf()).toEqual(new Map([['dgfry', 'k:fry-1'], ['dgleela', 'k:leela-1']]));
      expect(await updatedAt('dgleela')).toEqual(leelaUpdated);
      expect(await store.usersByExternalIds(profile, [leela.externalId])).toEqual([leelaBefore]);

      // An update by the sync keeps the new digest; an application's update, or a removal, forgets it.
      await apply([{ ...fry, fields: { ...fry.fields, jobTitle: 'Delivery Boy' } }, leela], { of: new Map([[fry.externalId, 'k:fry-2']]), refresh: [] });
      expect((await digestsOf()).get('dgfry')).toBe('k:fry-2');
      await store.kysely.updateTable('users').set({ job_title: 'Captain' }).where('source', '=', profile).where('username', '=', 'dgfry').execute();
      expect((await digestsOf()).get('dgfry')).toBeNull();
      await apply([fry], { of: new Map(), refresh: [] }, deletes({ enabled: true, maxPercentage: 100 }));
      expect(await digestsOf()).toEqual(new Map([['dgfry', null], ['dgleela', null]]));
    });
  });

  describe('applying group plans', () => {
    it('creates groups with their members, replaces memberships, and removes groups with theirs', async () => {
      const profile = 'groups';
      await syncUsers(store, profile, [person('gfry'), person('gleela'), person('gbender')]);
      const dn = (n: string) => `uid=${n},ou=people,dc=example,dc=com`;
      const first = await syncGroups(store, profile, [team('crew', [dn('gfry'), dn('GLEELA'), dn('nobody')]), team('robots', [dn('gbender')])]);
      expect(first.plan.unresolved.map((u) => u.member)).toEqual([dn('nobody')]);
      expect(events(first.applied)).toEqual([
        'group.created guuid-crew',
        'group.created guuid-robots',
        'membership.added guuid-crew',
        'membership.added guuid-crew',
        'membership.added guuid-robots',
      ]);
      const users = new Map((await store.usersOf(profile)).map((u) => [u.username, u.id]));
      let groups = await store.groupsOf(profile);
      const crew = groups.find((g) => g.name === 'crew');
      expect(crew).toMatchObject({ externalId: 'guuid-crew', fields: { description: 'crew team', customFields: { gid: 500 } }, removedAt: null });
      expect(crew?.memberIds).toEqual([users.get('gfry'), users.get('gleela')].sort((a, b) => (a ?? 0) - (b ?? 0)));

      const second = await syncGroups(store, profile, [team('crew', [dn('gbender'), dn('gleela')], { name: 'Crew', dn: 'cn=Crew,ou=groups,dc=example,dc=com' })], deletes());
      expect(events(second.applied).sort()).toEqual([
        'group.removed guuid-robots',
        'group.updated guuid-crew',
        'membership.added guuid-crew',
        'membership.removed guuid-crew',
        'membership.removed guuid-robots',
      ]);
      groups = await store.groupsOf(profile);
      expect(groups.find((g) => g.externalId === 'guuid-crew')).toMatchObject({ id: crew?.id, name: 'Crew', memberIds: [users.get('gleela'), users.get('gbender')].sort((a, b) => (a ?? 0) - (b ?? 0)) });
      expect(groups.find((g) => g.externalId === 'guuid-robots')).toMatchObject({ memberIds: [], removedAt: expect.any(Date) });
      expect((await groupPlan(store, profile, [team('crew', [dn('gbender'), dn('gleela')], { name: 'Crew', dn: 'cn=Crew,ou=groups,dc=example,dc=com' })])).counts).toMatchObject({ unchanged: 1, updated: 0 });

      // Deleting a user (mode delete) drops its memberships with it.
      await syncUsers(store, profile, [person('gfry'), person('gleela')], deletes({ mode: 'delete' }));
      expect((await store.groupsOf(profile)).find((g) => g.externalId === 'guuid-crew')?.memberIds).toEqual([users.get('gleela')]);
    });

    it('keeps memberships pointing at real rows, whoever writes them (an application as much as a sync)', async () => {
      const profile = 'integrity';
      await syncUsers(store, profile, [person('ifry'), person('ileela'), person('ibender')]);
      await syncGroups(store, profile, [team('icrew', ['uid=ifry,ou=people,dc=example,dc=com', 'uid=ileela,ou=people,dc=example,dc=com']), team('irobots', ['uid=ibender,ou=people,dc=example,dc=com'])]);
      const users = new Map((await store.usersOf(profile)).map((u) => [u.username, u.id]));
      const groups = new Map((await store.groupsOf(profile)).map((g) => [g.name, g.id]));
      const crew = groups.get('icrew') ?? 0;
      const robots = groups.get('irobots') ?? 0;
      const members = (groupId: number) =>
        store.kysely.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).orderBy('user_id').execute().then((rows) => rows.map((r) => Number(r.user_id)));

      const missingUser = store.kysely.insertInto('group_members').values([{ group_id: crew, user_id: users.get('ibender') ?? 0 }, { group_id: crew, user_id: 987654321 }]).execute();
      await expect(missingUser).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('user 987654321') });
      await expect(store.kysely.insertInto('group_members').values({ group_id: 987654322, user_id: users.get('ibender') ?? 0 }).execute()).rejects.toMatchObject({
        code: '23503',
        message: expect.stringContaining('group 987654322'),
      });
      await expect(store.kysely.updateTable('group_members').set({ user_id: 987654323 }).where('group_id', '=', robots).execute()).rejects.toMatchObject({ code: '23503' });
      expect(await members(crew)).toEqual([users.get('ifry'), users.get('ileela')].sort((a, b) => (a ?? 0) - (b ?? 0)));

      // Deleting rows by hand takes their memberships along, as a cascading foreign key would.
      await store.kysely.deleteFrom('users').where('id', '=', users.get('ifry') ?? 0).execute();
      expect(await members(crew)).toEqual([users.get('ileela')]);
      await store.kysely.deleteFrom('groups').where('id', '=', robots).execute();
      expect(await members(robots)).toEqual([]);
      expect(await members(crew)).toEqual([users.get('ileela')]);
    });

    it('writes nothing of a group plan whose members are no longer, or never were, live users of the profile', async () => {
      const profile = 'stalemembers';
      await syncUsers(store, profile, [person('sfry'), person('sleela')]);
      await syncUsers(store, 'otherprofile', [person('sother')]);
      const dn = (n: string) => `uid=${n},ou=people,dc=example,dc=com`;
      const plan = await groupPlan(store, profile, [team('screw', [dn('sfry'), dn('sleela')])]);
      expect(plan.memberships[0]?.add).toHaveLength(2);
      // Between plan and write, sleela's entry went and her row was disabled.
      await syncUsers(store, profile, [person('sfry')], deletes({ maxPercentage: 100 }));
      const state = await snapshot(store);
      const runId = await store.beginRun({ source: profile, kind: 'groups', trigger: 'cli', dryRun: false, configHash: 'x' });
      await expect(store.applyGroupPlan(runId, plan)).rejects.toMatchObject({ code: 'store.stale-plan', message: expect.stringMatching(/1 of the 2 users/) });
      expect(await snapshot(store)).toEqual(state);

      // A forged plan naming another profile's user fails the same way.
      const other = (await store.usersOf('otherprofile'))[0];
      const fresh = await groupPlan(store, profile, [team('screw', [dn('sfry')])]);
      const membership = fresh.memberships[0];
      if (membership === undefined || other === undefined) throw new Error('expected a membership and a user of the other profile');
      const forged = { ...fresh, memberships: [{ ...membership, add: [...membership.add, { id: other.id, dn: other.dn, username: other.username }] }] };
      await expect(store.applyGroupPlan(runId, forged)).rejects.toMatchObject({ code: 'store.stale-plan' });
      expect(await snapshot(store)).toEqual(state);
      await store.finishRun(runId, { status: 'failed', error: 'test' });
    });

    it.runIf(backend === 'postgres')('never leaves a membership behind when its user is deleted while the membership is being written', async () => {
      const profile = 'race';
      await syncUsers(store, profile, [person('rfry'), person('rleela')]);
      await syncGroups(store, profile, [team('rcrew', [])]);
      const users = new Map((await store.usersOf(profile)).map((u) => [u.username, u.id]));
      const crew = (await store.groupsOf(profile))[0]?.id ?? 0;
      const table = (name: string) => `"${store.schema}"."${name}"`;
      // The writer holds SHARE ROW EXCLUSIVE as a sync does, or locks nothing itself as an application would.
      for (const [username, lockFirst] of [['rfry', true], ['rleela', false]] as const) {
        const userId = users.get(username) ?? 0;
        await withPgClient(async (writer) => {
          await writer.query('BEGIN');
          if (lockFirst) await writer.query(`LOCK TABLE ${table('group_members')} IN SHARE ROW EXCLUSIVE MODE`);
          await writer.query(`INSERT INTO ${table('group_members')} (group_id, user_id) VALUES ($1, $2)`, [crew, userId]);
          let deleted = false;
          const deleting = withPgClient((deleter) => deleter.query(`DELETE FROM ${table('users')} WHERE id = $1`, [userId])).then(() => {
            deleted = true;
          });
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(deleted).toBe(false);
          await writer.query('COMMIT');
          await deleting;
        });
        const left = await store.kysely.selectFrom('group_members').select('user_id').where('user_id', '=', userId).execute();
        expect(left).toEqual([]);
      }
    });
  });

  describe('runs and locks', () => {
    it('lists the last runs newest first, per source or all', async () => {
      const a = await store.beginRun({ source: 'runs-a', kind: 'users', trigger: 'schedule', dryRun: false, configHash: 'h1' });
      await store.finishRun(a, { status: 'failed', error: 'LDAP went away' });
      const b = await store.beginRun({ source: 'runs-b', kind: 'groups', trigger: 'reload', dryRun: false, configHash: 'h2' });
      await store.finishRun(b, { status: 'aborted', error: 'guard' });
      expect((await store.lastRuns(undefined, 2)).map((r) => r.id)).toEqual([b, a]);
      expect(await store.lastRuns('runs-a')).toEqual([
        expect.objectContaining({ id: a, source: 'runs-a', kind: 'users', trigger: 'schedule', dryRun: false, status: 'failed', error: 'LDAP went away', configHash: 'h1' }),
      ]);
      await expect(store.finishRun(a, { status: 'failed', error: 'again' })).rejects.toMatchObject({ code: 'store.run-not-running' });
    });

    it('marks runs left running by a dead process as failed, but not one whose profile lock is held', async () => {
      const dead = await store.beginRun({ source: 'stale', kind: 'users', trigger: 'schedule', dryRun: false, configHash: 'h' });
      let live = '';
      const result = await store.withProfileLock(
        'busy-profile',
        async () => {
          live = await store.beginRun({ source: 'busy-profile', kind: 'users', trigger: 'schedule', dryRun: false, configHash: 'h' });
          return store.failStaleRuns();
        },
        { wait: false },
      );
      expect(result).toBe(1);
      expect((await store.lastRuns('stale', 1))[0]).toMatchObject({ id: dead, status: 'failed', error: expect.stringMatching(/stopped before it finished/) });
      expect((await store.lastRuns('busy-profile', 1))[0]).toMatchObject({ id: live, status: 'running' });
      expect(await store.failStaleRuns()).toBe(1);
    });

    it('lets one holder at a time have a profile lock; a waiter gets it when the holder is done', async () => {
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = store.withProfileLock('locked', async () => {
        order.push('first in');
        await held;
        order.push('first out');
        return 'first';
      }, { wait: false });
      await new Promise((r) => setTimeout(r, 100));
      expect(await store.withProfileLock('locked', async () => 'second', { wait: false })).toBe('busy');
      expect(await store.withProfileLock('other', async () => 'free', { wait: false })).toBe('free');
      const waiter = store.withProfileLock('locked', async () => {
        order.push('waiter in');
        return 'waiter';
      }, { wait: true });
      await new Promise((r) => setTimeout(r, 100));
      release();
      expect(await first).toBe('first');
      expect(await waiter).toBe('waiter');
      expect(order).toEqual(['first in', 'first out', 'waiter in']);
      expect(await store.withProfileLock('locked', async () => 'again', { wait: false })).toBe('again');
    });

    it('releases the lock when the work throws', async () => {
      await expect(store.withProfileLock('throws', async () => Promise.reject(new Error('boom')), { wait: false })).rejects.toThrow('boom');
      expect(await store.withProfileLock('throws', async () => 'ok', { wait: false })).toBe('ok');
    });
  });
});
