import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupPlan } from '../../src/reconcile/index.js';
import { type Backend, BACKENDS, changeLines, events, GROUPS, PEOPLE, SLOW, SyncWorld } from './world.js';

function planOf(result: { status: string; plan?: unknown }): GroupPlan {
  const plan = result.plan as GroupPlan | undefined;
  if (plan?.kind !== 'groups') throw new Error(`no group plan in a ${result.status} result`);
  return plan;
}

const ENGINEERING = ['alice', 'dave', 'heidi', 'jsmith', 'zoe'];
const SALES = ['carol', 'erin', 'jnunez', 'judy'];

describe.each(BACKENDS)('group sync against slapd (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('resolves member DNs to synced users whatever their case, spacing and escapes', async () => {
    await world.configure({ profiles: [{ groups: {} }] });
    await world.sync('users');
    // The same people written as an operator might: other case, spaces after commas, a hex-escaped comma.
    await world.slapd.ldapmodify(
      `dn: cn=admins,${GROUPS}\nchangetype: modify\nadd: member\nmember: UID=Erin, OU=People, DC=Example, DC=Org\nmember: cn=Smith\\2C John,ou=people,dc=example,dc=org\n`,
    );

    const { result, logs } = await world.sync('groups');
    expect(result).toMatchObject({ status: 'succeeded', counts: { created: 4 } });
    expect(await world.memberships()).toEqual({
      admins: ['alice', 'erin', 'grace', 'jsmith'],
      engineering: ENGINEERING,
      sales: SALES,
      staff: ['frank'],
    });
    const plan = planOf(result);
    // Without flattenNested, staff's member groups are reported, not expanded.
    expect(plan.unresolved.map((u) => [u.groupDn, u.member, u.cause])).toEqual([
      [`cn=staff,${GROUPS}`, `cn=engineering,${GROUPS}`, 'nested-group'],
      [`cn=staff,${GROUPS}`, `cn=sales,${GROUPS}`, 'nested-group'],
    ]);
    expect(events(logs, 'group.created')).toHaveLength(4);
    const jsmith = await world.user('jsmith');
    expect(events(logs, 'membership.added')).toContainEqual(
      expect.objectContaining({ dn: `cn=engineering,${GROUPS}`, userId: jsmith.id, userDn: jsmith.dn, source: 'demo' }),
    );
    expect(events(logs, 'membership.added')).toHaveLength(4 + ENGINEERING.length + SALES.length + 1);
  });

  it('replaces the membership to match the directory: a member removed in LDAP is removed in the store', async () => {
    await world.configure({ profiles: [{ groups: {} }] });
    await world.sync('users');
    await world.sync('groups');
    const heidi = await world.user('heidi');
    await world.slapd.ldapmodify(`dn: cn=engineering,${GROUPS}\nchangetype: modify\ndelete: member\nmember: uid=heidi,${PEOPLE}\n`);
    await world.slapd.ldapmodify(`dn: cn=sales,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=frank,${PEOPLE}\n`);

    const { result, logs } = await world.sync('groups');
    expect(result).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 2, unchanged: 2 } });
    expect(changeLines(logs).map((l) => [l.event, l['dn'], l['userDn']])).toEqual(
      expect.arrayContaining([
        ['membership.removed', `cn=engineering,${GROUPS}`, heidi.dn],
        ['membership.added', `cn=sales,${GROUPS}`, `uid=frank,${PEOPLE}`],
      ]),
    );
    expect(changeLines(logs)).toHaveLength(2);
    expect((await world.memberships())['engineering']).toEqual(ENGINEERING.filter((u) => u !== 'heidi'));
    expect((await world.memberships())['sales']).toEqual([...SALES, 'frank'].sort());
  });

  it('knows unchanged groups by their digests, yet follows the users and puts right memberships changed by hand', async () => {
    await world.configure({ profiles: [{ groups: {} }] });
    await world.sync('users');
    // newbie is a member in the directory, but not a user of the store yet: the entry stays the same from here on.
    await world.slapd.ldapmodify(`dn: cn=sales,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=newbie,${PEOPLE}\n`);
    await world.sync('groups');
    const digests = async (): Promise<Record<string, string | null>> =>
      world.withStore(async (store) => {
        const rows = await store.kysely.selectFrom('groups').select(['name', 'entry_digest']).where('source', '=', 'demo').execute();
        return Object.fromEntries(rows.map((r) => [r.name, r.entry_digest]));
      });
    const first = await digests();
    expect(Object.values(first).every((d) => typeof d === 'string')).toBe(true);
    const resync = await world.sync('groups');
    expect(resync.result).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, unchanged: 4 } });
    expect(changeLines(resync.logs)).toEqual([]);

    // A membership deleted by hand: its group forgets its digest, and the next sync puts the membership back.
    const heidi = await world.user('heidi');
    await world.withStore((store) => store.kysely.deleteFrom('group_members').where('user_id', '=', heidi.id).execute());
    expect((await digests())['engineering']).toBeNull();
    const repaired = await world.sync('groups');
    expect(repaired.result).toMatchObject({ status: 'succeeded', counts: { updated: 1, unchanged: 3 } });
    expect(changeLines(repaired.logs).map((l) => [l.event, l['dn'], l['userDn']])).toEqual([['membership.added', `cn=engineering,${GROUPS}`, heidi.dn]]);
    expect(await digests()).toEqual(first);

    // The users change, not one group entry: newbie becomes a user, heidi's row is removed by hand.
    await world.slapd.ldapadd(`dn: uid=newbie,${PEOPLE}\nobjectClass: inetOrgPerson\nuid: newbie\ncn: New Bie\nsn: Bie\n`);
    await world.sync('users');
    await world.withStore((store) => store.kysely.updateTable('users').set({ removed_at: new Date() }).where('id', '=', heidi.id).execute());
    const followed = await world.sync('groups');
    expect(followed.result).toMatchObject({ status: 'succeeded', counts: { updated: 2, unchanged: 2 } });
    expect(changeLines(followed.logs).map((l) => [l.event, l['dn'], l['userDn']])).toEqual(
      expect.arrayContaining([
        ['membership.removed', `cn=engineering,${GROUPS}`, heidi.dn],
        ['membership.added', `cn=sales,${GROUPS}`, `uid=newbie,${PEOPLE}`],
      ]),
    );
    expect(changeLines(followed.logs)).toHaveLength(2);
    expect(await world.memberships()).toMatchObject({ engineering: ENGINEERING.filter((u) => u !== 'heidi'), sales: [...SALES, 'newbie'].sort() });
    const again = await world.sync('groups');
    expect(again.result).toMatchObject({ status: 'succeeded', counts: { updated: 0, unchanged: 4 } });
  });

  it('resolves memberUid values of a posixGroup by username, and uniqueMember DNs of a groupOfUniqueNames', async () => {
    await world.configure({ profiles: [{ groups: { filter: '(objectClass=posixGroup)', memberAttribute: 'memberUid' } }] });
    await world.sync('users');
    await world.slapd.ldapmodify(`dn: cn=developers,${GROUPS}\nchangetype: modify\nadd: memberUid\nmemberUid: nobody\n`);
    const posix = await world.sync('groups');
    expect(posix.result).toMatchObject({ status: 'succeeded', counts: { created: 1 } });
    expect(await world.memberships()).toEqual({ developers: ['alice', 'dave', 'jsmith', 'zoe'] });
    expect(planOf(posix.result).unresolved).toEqual([expect.objectContaining({ member: 'nobody', cause: 'not-synced' })]);
    // The daemon prints no plan: one line says which members were left out.
    expect(events(posix.logs, 'sync.members_unresolved')).toEqual([
      expect.objectContaining({ count: 1, causes: { 'not-synced': 1 }, examples: [{ group: `cn=developers,${GROUPS}`, member: 'nobody', cause: 'not-synced' }] }),
    ]);

    await world.configure({ profiles: [{ name: 'unique', domain: 'unique.example', groups: { filter: '(objectClass=groupOfUniqueNames)', memberAttribute: 'uniqueMember' } }] });
    await world.sync('users', { profile: 'unique' });
    await world.sync('groups', { profile: 'unique' });
    expect(await world.memberships('unique')).toEqual({ managers: ['alice', 'carol'] });
  });

  it('flattens nested groups, and reports a nesting cycle instead of looping', async () => {
    await world.configure({ profiles: [{ groups: { flattenNested: true } }] });
    await world.sync('users');
    const first = await world.sync('groups');
    expect(first.result.status).toBe('succeeded');
    expect((await world.memberships())['staff']).toEqual([...ENGINEERING, ...SALES, 'frank'].sort());

    await world.slapd.ldapmodify(`dn: cn=engineering,${GROUPS}\nchangetype: modify\nadd: member\nmember: cn=staff,${GROUPS}\n`);
    const cyclic = await world.sync('groups');
    expect(cyclic.result.status).toBe('succeeded');
    const plan = planOf(cyclic.result);
    expect(plan.cycles).toHaveLength(1);
    expect([...(plan.cycles[0] ?? [])].sort()).toEqual([`cn=engineering,${GROUPS}`, `cn=staff,${GROUPS}`]);
    expect(events(cyclic.logs, 'sync.nesting_cycle')).toEqual([expect.objectContaining({ level: 'warn', groups: plan.cycles[0] })]);
    // Members of a cycle are the union of its groups: nothing is lost, nothing loops.
    const memberships = await world.memberships();
    expect(memberships['staff']).toEqual([...ENGINEERING, ...SALES, 'frank'].sort());
    expect(memberships['engineering']).toEqual(memberships['staff']);
  });

  it('reports members that are not synced users, in the plan the CLI prints', async () => {
    await world.configure({ profiles: [{ users: { filter: '(&(objectClass=inetOrgPerson)(!(uid=heidi)))' }, groups: {} }] });
    expect((await world.cli('sync', 'users', 'demo')).code).toBe(0);
    const run = await world.cli('sync', 'groups', 'demo');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('members not synced (ignored) (3):');
    expect(run.stdout).toContain(`? uid=heidi,${PEOPLE} in cn=engineering,${GROUPS} (not-synced)`);
    expect(run.stdout).toContain(`? cn=sales,${GROUPS} in cn=staff,${GROUPS} (nested-group)`);
    expect((await world.memberships())['engineering']).toEqual(ENGINEERING.filter((u) => u !== 'heidi'));
  });
});
