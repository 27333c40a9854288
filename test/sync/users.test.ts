import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserPlan } from '../../src/reconcile/index.js';
import { type Backend, BACKENDS, changeLines, COMPANY_USERS, events, PEOPLE, replace, SLOW, SyncWorld } from './world.js';

/** The entryUUID slapd gave an entry, read as the admin with ldapsearch. */
async function entryUuid(world: SyncWorld, dn: string): Promise<string> {
  const { stdout } = await promisify(execFile)('ldapsearch', [
    '-x', '-LLL', '-H', world.slapd.url, '-D', world.slapd.adminDN, '-w', world.slapd.adminPassword, '-s', 'base', '-b', dn, 'entryUUID',
  ]);
  const match = /^entryUUID: (.+)$/m.exec(stdout);
  if (match?.[1] === undefined) throw new Error(`no entryUUID for ${dn}: ${stdout}`);
  return match[1];
}

function userPlan(plan: unknown): UserPlan {
  const p = plan as UserPlan | undefined;
  if (p?.kind !== 'users') throw new Error('not a user plan');
  return p;
}

describe.each(BACKENDS)('user sync against slapd (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('creates every user of the directory with the mapped fields, identified by entryUUID', async () => {
    const { result, logs } = await world.sync('users');
    expect(result.status).toBe('succeeded');
    if (result.status !== 'succeeded') return;
    expect(result.counts).toMatchObject({ created: COMPANY_USERS, updated: 0, removed: 0, unchanged: 0, skipped: 0, conflicts: 0 });

    const users = await world.users();
    expect(users.map((u) => u.username)).toEqual(
      ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'jnunez', 'jsmith', 'judy', 'tri(cky)*\\user', 'zoe'],
    );
    const alice = await world.user('alice');
    expect(alice).toMatchObject({
      source: 'demo',
      dn: `uid=alice,${PEOPLE}`,
      login: 'alice@example.org',
      enabled: true,
      removed_at: null,
      email: 'alice@example.org',
      recovery_email: 'alice@example.org',
      display_name: 'Alice Andersen',
      first_name: 'Alice',
      last_name: 'Andersen',
      job_title: 'Chief Technology Officer',
      work_phone: '+31 20 555 0101',
      disk_quota: null,
    });
    expect(alice.external_id).toBe(await entryUuid(world, `uid=alice,${PEOPLE}`));
    expect(await world.user('zoe')).toMatchObject({ display_name: 'Zoë Ångström', first_name: 'Zoë', last_name: 'Ångström' });
    expect(await world.user('jsmith')).toMatchObject({ display_name: 'Smith, John', login: 'jsmith@example.org' });
    expect(await world.user('jnunez')).toMatchObject({ display_name: 'José Núñez' });
    expect((await world.user('bob')).enabled).toBe(false);
    expect(new Set(users.map((u) => u.external_id)).size).toBe(COMPANY_USERS);

    expect(events(logs, 'user.created')).toHaveLength(COMPANY_USERS);
    expect(events(logs, 'sync.started')).toHaveLength(1);
    expect(events(logs, 'sync.finished')[0]).toMatchObject({ counts: { created: COMPANY_USERS } });
    const [run] = await world.runs();
    expect(run).toMatchObject({ id: result.runId, kind: 'users', trigger: 'cli', status: 'succeeded', counts: { created: COMPANY_USERS, unchanged: 0 } });
  });

  it('changes nothing when the directory has not changed', async () => {
    await world.sync('users');
    const before = await world.users();
    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, removed: 0, unchanged: COMPANY_USERS } });
    expect(changeLines(logs)).toEqual([]);
    expect(await world.users()).toEqual(before);
    const [second] = await world.runs();
    expect(second).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, removed: 0, unchanged: COMPANY_USERS } });
  });

  it('knows unchanged entries by their digests, yet puts right a row changed by hand and follows a changed mapping', async () => {
    await world.sync('users');
    const synced = await world.users();
    expect(synced.every((u) => typeof u.entry_digest === 'string')).toBe(true);

    // An application edits a synced row: the row forgets its digest, so the next sync compares it and puts it back.
    await world.withStore((store) => store.kysely.updateTable('users').set({ job_title: 'Hacked' }).where('source', '=', 'demo').where('username', '=', 'alice').execute());
    const repaired = await world.sync('users');
    expect(repaired.result).toMatchObject({ status: 'succeeded', counts: { updated: 1, unchanged: COMPANY_USERS - 1 } });
    expect(changeLines(repaired.logs)).toEqual([
      expect.objectContaining({ event: 'user.updated', changes: { jobTitle: { old: 'Hacked', new: 'Chief Technology Officer' } } }),
    ]);
    expect(await world.user('alice')).toMatchObject({ job_title: 'Chief Technology Officer', entry_digest: synced.find((u) => u.username === 'alice')?.entry_digest });

    // The same mapping written otherwise: every entry is compared again, nothing changes, only the digests are new.
    await world.configure({ profiles: [{ users: { mapping: { enabled: "(employeeType != 'disabled')" } } }] });
    const before = await world.users();
    const rekeyed = await world.sync('users');
    expect(rekeyed.result).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, unchanged: COMPANY_USERS } });
    expect(changeLines(rekeyed.logs)).toEqual([]);
    const after = await world.users();
    expect(after.map(({ entry_digest: _, ...row }) => row)).toEqual(before.map(({ entry_digest: _, ...row }) => row));
    expect(after.filter((u, i) => u.entry_digest === before[i]?.entry_digest)).toEqual([]);

    // A mapping that makes other records: every row is updated, though not one entry changed.
    await world.configure({ profiles: [{ users: { mapping: { enabled: "employeeType != 'disabled'", homeDir: "'/srv/' + uid" } } }] });
    const remapped = await world.sync('users');
    expect(remapped.result).toMatchObject({ status: 'succeeded', counts: { updated: COMPANY_USERS } });
    expect((await world.user('alice')).home_dir).toBe('/srv/alice');
  });

  it('gives no digest to a row whose id another entry shares: its hand edit is still put right once the id is its own again', async () => {
    // Ids from the title: erin alone is a Sales Representative while judy is a Sales Lead.
    await world.configure({ profiles: [{ users: { idAttribute: 'title' } }] });
    await world.slapd.ldapmodify(replace(`uid=judy,${PEOPLE}`, 'title', 'Sales Lead'));
    await world.sync('users');
    const edit = (title: string) =>
      world.withStore((store) => store.kysely.updateTable('users').set({ display_name: title }).where('source', '=', 'demo').where('username', '=', 'erin').execute());
    await edit('Edited by hand');
    // judy takes erin's id as well: both entries are skipped, erin's row is kept as it is, digest and all.
    await world.slapd.ldapmodify(replace(`uid=judy,${PEOPLE}`, 'title', 'Sales Representative'));
    const shared = await world.sync('users');
    expect(shared.result).toMatchObject({ status: 'succeeded', counts: { updated: 0 } });
    expect(events(shared.logs, 'sync.entry_skipped').filter((l) => l['cause'] === 'duplicate-id').map((l) => l['dn'])).toEqual(
      expect.arrayContaining([`uid=erin,${PEOPLE}`, `uid=judy,${PEOPLE}`]),
    );
    expect(await world.user('erin')).toMatchObject({ display_name: 'Edited by hand', entry_digest: null });
    // The id is erin's alone again: her entry is compared with her row, which is put right.
    await world.slapd.ldapmodify(replace(`uid=judy,${PEOPLE}`, 'title', 'Sales Lead'));
    const own = await world.sync('users');
    expect(changeLines(own.logs)).toEqual([expect.objectContaining({ event: 'user.updated', changes: { displayName: { old: 'Edited by hand', new: 'Erin Evans' } } })]);
  });

  it('turns a changed attribute into an update with old and new values, in the plan and in the audit line', async () => {
    await world.sync('users');
    const dave = await world.user('dave');
    await world.slapd.ldapmodify(replace(`uid=dave,${PEOPLE}`, 'title', 'Principal Engineer'));

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { updated: 1, unchanged: COMPANY_USERS - 1 } });
    const plan = userPlan(result.status === 'succeeded' ? result.plan : undefined);
    expect(plan.changes).toEqual([
      expect.objectContaining({ kind: 'update', id: dave.id, username: 'dave', changes: { jobTitle: { old: 'Engineer', new: 'Principal Engineer' } } }),
    ]);
    expect(changeLines(logs)).toEqual([
      expect.objectContaining({
        event: 'user.updated',
        source: 'demo',
        runId: result.status === 'succeeded' ? result.runId : undefined,
        dn: `uid=dave,${PEOPLE}`,
        externalId: dave.external_id,
        userId: dave.id,
        changes: { jobTitle: { old: 'Engineer', new: 'Principal Engineer' } },
      }),
    ]);
    const after = await world.user('dave');
    expect(after.job_title).toBe('Principal Engineer');
    expect(after.updated_at.getTime()).toBeGreaterThan(dave.updated_at.getTime());
  });

  it('treats a rename and a move as updates of the same row, never as a delete and a create', async () => {
    await world.configure({ profiles: [{ deletes: { enabled: true, maxPercentage: 100 } }] });
    await world.sync('users');
    const erin = await world.user('erin');
    const carol = await world.user('carol');
    await world.slapd.ldapadd(`dn: ou=sales,${PEOPLE}\nobjectClass: organizationalUnit\nou: sales\n`);
    await world.slapd.ldapmodify(`dn: uid=erin,${PEOPLE}\nchangetype: modrdn\nnewrdn: uid=erin.evans\ndeleteoldrdn: 1\n`);
    await world.slapd.ldapmodify(`dn: uid=carol,${PEOPLE}\nchangetype: modrdn\nnewrdn: uid=carol\ndeleteoldrdn: 0\nnewsuperior: ou=sales,${PEOPLE}\n`);

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { created: 0, removed: 0, updated: 2 } });
    expect(events(logs, 'user.created')).toEqual([]);
    expect(events(logs, 'user.removed')).toEqual([]);
    expect(events(logs, 'user.updated').map((l) => l['changes'])).toEqual(
      expect.arrayContaining([
        {
          dn: { old: `uid=erin,${PEOPLE}`, new: `uid=erin.evans,${PEOPLE}` },
          username: { old: 'erin', new: 'erin.evans' },
          login: { old: 'erin@example.org', new: 'erin.evans@example.org' },
        },
        { dn: { old: `uid=carol,${PEOPLE}`, new: `uid=carol,ou=sales,${PEOPLE}` } },
      ]),
    );
    expect(await world.user('erin.evans')).toMatchObject({ id: erin.id, external_id: erin.external_id, login: 'erin.evans@example.org', enabled: true });
    expect(await world.user('carol')).toMatchObject({ id: carol.id, dn: `uid=carol,ou=sales,${PEOPLE}`, removed_at: null });
    expect(await world.users()).toHaveLength(COMPANY_USERS);
  });

  it('reports a local account with the same login as a conflict and leaves it alone', async () => {
    const local = await world.withStore(async (store) =>
      store.kysely
        .insertInto('users')
        .values({ source: 'local', username: 'carol', login: 'carol@example.org', email: 'carol@home.example', display_name: 'Carol (local)' })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { created: COMPANY_USERS - 1, conflicts: 1 } });
    // The daemon prints no plan: its log names the conflict.
    expect(events(logs, 'sync.conflict')).toEqual([
      expect.objectContaining({ level: 'warn', dn: `uid=carol,${PEOPLE}`, login: 'carol@example.org', cause: 'held-by-other-source', holder: expect.objectContaining({ source: 'local' }) }),
    ]);
    const plan = userPlan(result.status === 'succeeded' ? result.plan : undefined);
    expect(plan.changes.filter((c) => c.kind === 'conflict')).toEqual([
      expect.objectContaining({ kind: 'conflict', username: 'carol', login: 'carol@example.org', cause: 'held-by-other-source', holder: expect.objectContaining({ source: 'local', id: local.id }) }),
    ]);
    expect((await world.users()).map((u) => u.username)).not.toContain('carol');
    expect(await world.users('local')).toEqual([local]);

    // It stays a conflict on every run, and the local row is never adopted.
    const again = await world.sync('users');
    expect(again.result).toMatchObject({ status: 'succeeded', counts: { created: 0, conflicts: 1, unchanged: COMPANY_USERS - 1 } });
    expect(await world.users('local')).toEqual([local]);
  });

  it('keeps two profiles on one directory apart: neither touches the rows of the other', async () => {
    await world.configure({
      profiles: [
        { name: 'demo', domain: 'example.org' },
        { name: 'other', domain: 'other.example', deletes: { enabled: true, maxPercentage: 100 } },
      ],
    });
    await world.sync('users', { profile: 'demo' });
    await world.sync('users', { profile: 'other' });
    const demo = await world.users('demo');
    const other = await world.users('other');
    expect(demo).toHaveLength(COMPANY_USERS);
    expect(other).toHaveLength(COMPANY_USERS);
    expect(other.every((u) => u.login.endsWith('@other.example'))).toBe(true);
    expect(new Set([...demo, ...other].map((u) => u.id)).size).toBe(2 * COMPANY_USERS);

    // `other` loses alice (its filter drops her) and syncs a changed title; demo's rows stay exactly as they were.
    await world.configure({
      profiles: [
        { name: 'demo', domain: 'example.org' },
        { name: 'other', domain: 'other.example', users: { filter: '(&(objectClass=inetOrgPerson)(!(uid=alice)))' }, deletes: { enabled: true, maxPercentage: 100 } },
      ],
    });
    await world.slapd.ldapmodify(replace(`uid=dave,${PEOPLE}`, 'title', 'Principal Engineer'));
    const { result } = await world.sync('users', { profile: 'other' });
    expect(result).toMatchObject({ status: 'succeeded', counts: { removed: 1, updated: 1 } });
    expect(await world.users('demo')).toEqual(demo);
    expect(await world.user('alice', 'other')).toMatchObject({ enabled: false, removed_at: expect.any(Date) });
    expect((await world.user('dave', 'other')).job_title).toBe('Principal Engineer');

    // And a demo sync, which now sees dave's new title, leaves other's rows alone.
    const otherNow = await world.users('other');
    await world.sync('users', { profile: 'demo' });
    expect((await world.user('dave')).job_title).toBe('Principal Engineer');
    expect(await world.users('other')).toEqual(otherNow);
  });
});
