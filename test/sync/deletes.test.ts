import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserPlan } from '../../src/reconcile/index.js';
import { type Backend, BACKENDS, changeLines, COMPANY_USERS, events, PEOPLE, SLOW, SyncWorld } from './world.js';

const FORMER = 'ou=former,dc=example,dc=org';

function planOf(result: { status: string; plan?: unknown }): UserPlan {
  const plan = result.plan as UserPlan | undefined;
  if (plan?.kind !== 'users') throw new Error(`no user plan in a ${result.status} result`);
  return plan;
}

/** Every user DN of the company fixture, as the store recorded them. */
async function allUserDns(world: SyncWorld): Promise<string[]> {
  return (await world.users()).map((u) => u.dn ?? '');
}

describe.each(BACKENDS)('deletes and the delete guard (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('without deletes, users gone from the directory are only reported', async () => {
    await world.sync('users');
    await world.slapd.ldapdelete(`uid=judy,${PEOPLE}`);
    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { removed: 0, unchanged: COMPANY_USERS - 1 } });
    expect(planOf(result).missing).toEqual([expect.objectContaining({ name: 'judy', dn: `uid=judy,${PEOPLE}` })]);
    expect(changeLines(logs)).toEqual([]);
    expect(await world.user('judy')).toMatchObject({ enabled: true, removed_at: null });
  });

  it('with deletes on (mode disable), a missing user is disabled, and comes back when its entry reappears', async () => {
    await world.configure({ profiles: [{ deletes: { enabled: true, maxPercentage: 10 } }] });
    await world.sync('users');
    const judy = await world.user('judy');
    await world.slapd.ldapadd(`dn: ${FORMER}\nobjectClass: organizationalUnit\nou: former\n`);
    await world.slapd.ldapmodify(`dn: uid=judy,${PEOPLE}\nchangetype: modrdn\nnewrdn: uid=judy\ndeleteoldrdn: 0\nnewsuperior: ${FORMER}\n`);

    const gone = await world.sync('users');
    expect(gone.result).toMatchObject({ status: 'succeeded', counts: { removed: 1 } });
    expect(changeLines(gone.logs)).toEqual([
      expect.objectContaining({ event: 'user.removed', userId: judy.id, externalId: judy.external_id, mode: 'disable', reason: 'missing' }),
    ]);
    const disabled = await world.user('judy');
    expect(disabled).toMatchObject({ id: judy.id, enabled: false, removed_at: expect.any(Date) });

    await world.slapd.ldapmodify(`dn: uid=judy,${FORMER}\nchangetype: modrdn\nnewrdn: uid=judy\ndeleteoldrdn: 0\nnewsuperior: ${PEOPLE}\n`);
    const back = await world.sync('users');
    expect(back.result).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 1 } });
    expect(changeLines(back.logs)).toEqual([
      expect.objectContaining({
        event: 'user.updated',
        userId: judy.id,
        revived: true,
        changes: expect.objectContaining({ enabled: { old: false, new: true }, removedAt: { old: expect.any(String), new: null } }),
      }),
    ]);
    expect(await world.user('judy')).toMatchObject({ id: judy.id, enabled: true, removed_at: null });
  });

  it('with deletes.mode delete, a missing user is deleted with its memberships', async () => {
    await world.configure({ profiles: [{ deletes: { enabled: true, maxPercentage: 10, mode: 'delete' }, groups: {} }] });
    await world.sync('users');
    await world.sync('groups');
    const judy = await world.user('judy');
    expect((await world.memberships())['sales']).toContain('judy');
    await world.slapd.ldapdelete(`uid=judy,${PEOPLE}`);

    const { result, logs } = await world.sync('users');
    expect(result).toMatchObject({ status: 'succeeded', counts: { removed: 1 } });
    expect(events(logs, 'user.removed')).toEqual([expect.objectContaining({ userId: judy.id, mode: 'delete' })]);
    expect((await world.users()).map((u) => u.username)).not.toContain('judy');
    expect((await world.memberships())['sales']).toEqual(['carol', 'erin', 'jnunez']);
  });

  it('an empty search result with live rows trips the guard as 100% removal and writes nothing', async () => {
    await world.configure({ profiles: [{ deletes: { enabled: true, maxPercentage: 50 } }] });
    await world.sync('users');
    const users = await world.users();
    await world.configure({ profiles: [{ users: { filter: '(uid=nobody-by-that-name)' }, deletes: { enabled: true, maxPercentage: 50 } }] });

    const { result, logs } = await world.sync('users');
    expect(result.status).toBe('aborted');
    const plan = planOf(result);
    expect(plan.guard).toMatchObject({ tripped: true, removals: COMPANY_USERS, live: COMPANY_USERS, percentage: 100 });
    expect(plan.guard.reason).toContain('the directory returned no entries');
    expect(changeLines(logs)).toEqual([]);
    expect(events(logs, 'sync.aborted')).toHaveLength(1);
    expect(await world.users()).toEqual(users);
    expect((await world.runs())[0]).toMatchObject({ status: 'aborted', error: expect.stringContaining('would remove 14 of 14 live users') });
  });

  it('the guard trips from the CLI with exit 3, an aborted run row and how to override; the override removes', async () => {
    expect((await world.cli('sync', 'users', 'demo')).code).toBe(0);
    const users = await world.users();
    await world.slapd.ldapdelete(`uid=judy,${PEOPLE}`);
    await world.slapd.ldapdelete(`uid=erin,${PEOPLE}`);

    const tripped = await world.cli('sync', 'users', 'demo', '--delete');
    expect(tripped.code).toBe(3);
    expect(tripped.messages).toContain('would remove 2 of 14 live users (14.3%)');
    expect(tripped.messages).toContain('run "ldapsync sync users demo --delete --max-delete-percentage 15" once');
    expect(tripped.messages.match(/nothing was written/g)).toHaveLength(1);
    expect(changeLines(tripped.logs)).toEqual([]);
    expect(events(tripped.logs, 'sync.aborted')).toEqual([expect.objectContaining({ level: 'warn', reason: expect.stringContaining('deletes.maxPercentage 5%') })]);
    expect(await world.users()).toEqual(users);
    const [aborted] = await world.runs();
    expect(aborted).toMatchObject({ status: 'aborted', error: expect.stringContaining('would remove 2 of 14') });

    const allowed = await world.cli('sync', 'users', 'demo', '--delete', '--max-delete-percentage', '15');
    expect(allowed.code).toBe(0);
    expect(events(allowed.logs, 'user.removed').map((l) => l['dn'])).toEqual(expect.arrayContaining([`uid=judy,${PEOPLE}`, `uid=erin,${PEOPLE}`]));
    expect((await world.users()).filter((u) => !u.enabled && u.removed_at !== null).map((u) => u.username).sort()).toEqual(['erin', 'judy']);
  });

  it('deletes.maxCount trips the guard too, and the advice names that limit, not a percentage that would not help', async () => {
    await world.configure({ profiles: [{ deletes: { enabled: true, maxPercentage: 100, maxCount: 1 } }] });
    await world.sync('users');
    await world.slapd.ldapdelete(`uid=judy,${PEOPLE}`);
    await world.slapd.ldapdelete(`uid=erin,${PEOPLE}`);
    const { result, logs } = await world.sync('users');
    expect(result.status).toBe('aborted');
    const reason = result.status === 'aborted' ? result.reason : '';
    expect(reason).toContain('would remove 2 of 14 live users, more than deletes.maxCount 1');
    expect(reason).toContain('raise deletes.maxCount');
    expect(reason).not.toContain('--max-delete-percentage');
    expect(reason.match(/nothing was written/g)).toHaveLength(1);
    expect(changeLines(logs)).toEqual([]);
  });

  it('an emptied directory aborts the CLI sync; --max-delete-percentage 100 --delete overrides it', async () => {
    expect((await world.cli('sync', 'users', 'demo')).code).toBe(0);
    for (const dn of await allUserDns(world)) await world.slapd.ldapdelete(dn);

    const tripped = await world.cli('sync', 'users', 'demo', '--delete', '--max-delete-percentage', '50');
    expect(tripped.code).toBe(3);
    expect(tripped.messages).toContain('the directory returned no entries');
    expect((await world.users()).every((u) => u.enabled || u.username === 'bob')).toBe(true);

    const forced = await world.cli('sync', 'users', 'demo', '--max-delete-percentage', '100', '--delete');
    expect(forced.code).toBe(0);
    expect(events(forced.logs, 'user.removed')).toHaveLength(COMPANY_USERS);
    expect((await world.users()).every((u) => !u.enabled && u.removed_at !== null)).toBe(true);
  });
});
