import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, BACKENDS, changeLines, COMPANY_USERS, events, PEOPLE, replace, SLOW, SyncWorld } from './world.js';

const POSIX_USERS = ['alice', 'dave', 'jsmith', 'zoe'];

describe.each(BACKENDS)('entries a sync skips (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('a mapping error skips that entry only: the others sync, its row is kept as it was and never counts as missing', async () => {
    // Deletes on with the default 5% limit: one of 14 users counted as missing would trip the guard.
    await world.configure({
      profiles: [{ users: { mapping: { enabled: "employeeType != 'disabled'", diskQuota: 'int(employeeNumber)' } }, deletes: { enabled: true, maxPercentage: 5 } }],
    });
    await world.sync('users');
    const dave = await world.user('dave');
    await world.slapd.ldapmodify(`dn: uid=dave,${PEOPLE}\nchangetype: modify\nadd: employeeNumber\nemployeeNumber: abc\n-\nreplace: title\ntitle: Principal Engineer\n`);
    await world.slapd.ldapmodify(replace(`uid=alice,${PEOPLE}`, 'employeeNumber', '42'));

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { skipped: 1, updated: 1, removed: 0, unchanged: COMPANY_USERS - 2 } });
    expect(events(logs, 'sync.entry_skipped')).toEqual([
      expect.objectContaining({
        level: 'warn',
        dn: `uid=dave,${PEOPLE}`,
        externalId: dave.external_id,
        cause: 'mapping-error',
        reason: expect.stringMatching(/diskQuota.*'abc' is not a whole number/),
      }),
    ]);
    expect(changeLines(logs)).toEqual([expect.objectContaining({ event: 'user.updated', changes: { diskQuota: { old: null, new: 42 } } })]);
    expect(await world.user('dave')).toEqual(dave);
    expect((await world.user('alice')).disk_quota).toBe(42);
    const [run] = await world.runs();
    expect(run).toMatchObject({ status: 'succeeded', counts: { skipped: 1, updated: 1, removed: 0 } });
  });

  it('a value PostgreSQL cannot store (a NUL character) skips that entry, not the whole run', async () => {
    await world.configure({ profiles: [{ users: { mapping: { enabled: "employeeType != 'disabled'", notes: 'description', userCustomFields: { note: 'description' } } } }] });
    await world.slapd.ldapmodify(`dn: uid=dave,${PEOPLE}\nchangetype: modify\nreplace: description\ndescription:: YQBi\n`);
    await world.slapd.ldapmodify(`dn: cn=Smith\\, John,${PEOPLE}\nchangetype: modify\nreplace: uid\nuid:: anNtaXRoAA==\n`);

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { created: COMPANY_USERS - 2, skipped: 2 } });
    expect(events(logs, 'sync.entry_skipped')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dn: `uid=dave,${PEOPLE}`, cause: 'mapping-error', reason: expect.stringMatching(/^notes: .*NUL/) }),
        expect.objectContaining({ cause: 'mapping-error', reason: expect.stringMatching(/^uid \(usernameAttribute\): .*NUL/) }),
      ]),
    );
    expect((await world.users()).map((u) => u.username)).not.toContain('dave');
  });

  it('an entry without the idAttribute is skipped with a clear reason, in the plan the CLI prints', async () => {
    await world.configure({ profiles: [{ users: { idAttribute: 'uidNumber' } }] });
    const run = await world.cli('sync', 'users', 'demo');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`skipped entries (their rows are kept) (${COMPANY_USERS - POSIX_USERS.length}):`);
    expect(run.stdout).toContain(`? uid=bob,${PEOPLE}: the entry has no uidNumber (idAttribute)`);
    expect(run.stdout).toContain(`users of demo: ${POSIX_USERS.length} to create`);
    expect(events(run.logs, 'sync.entry_skipped')).toHaveLength(COMPANY_USERS - POSIX_USERS.length);
    expect(events(run.logs, 'sync.entry_skipped')[0]).toMatchObject({ cause: 'no-id', reason: expect.stringContaining('uidNumber') });
    const users = await world.users();
    expect(users.map((u) => u.username)).toEqual(POSIX_USERS);
    expect(users.find((u) => u.username === 'alice')?.external_id).toBe('1001');
  });

  it('an entry without the usernameAttribute is skipped and its stored row kept', async () => {
    await world.sync('users');
    const bob = await world.user('bob');
    await world.configure({ profiles: [{ users: { usernameAttribute: 'homeDirectory' } }] });
    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { skipped: COMPANY_USERS - POSIX_USERS.length, updated: POSIX_USERS.length } });
    expect(events(logs, 'sync.entry_skipped')).toContainEqual(
      expect.objectContaining({ dn: `uid=bob,${PEOPLE}`, cause: 'no-username', reason: 'the entry has no homeDirectory (usernameAttribute)' }),
    );
    expect(await world.user('bob')).toEqual(bob);
    expect((await world.user('/home/alice')).login).toBe('/home/alice@example.org');
  });
});
