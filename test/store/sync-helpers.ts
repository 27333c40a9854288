import type { DeletesConfig } from '../../src/config/index.js';
import {
  planGroups,
  planUsers,
  type DesiredGroup,
  type DesiredUser,
  type GroupPlan,
  type MappedRecord,
  type Skip,
  type UserPlan,
} from '../../src/reconcile/index.js';
import type { AppliedChange, Store } from '../../src/store/index.js';

export const NO_DELETES: DeletesConfig = { enabled: false, maxPercentage: 5, maxCount: undefined, mode: 'disable', purgeAfter: undefined };

export function deletes(overrides: Partial<DeletesConfig> = {}): DeletesConfig {
  return { enabled: true, maxPercentage: 100, maxCount: undefined, mode: 'disable', purgeAfter: undefined, ...overrides };
}

export function person(name: string, overrides: Partial<Omit<DesiredUser, 'fields'>> & { fields?: MappedRecord } = {}): DesiredUser {
  const { fields, ...rest } = overrides;
  return {
    externalId: `uuid-${name}`,
    dn: `uid=${name},ou=people,dc=example,dc=com`,
    username: name,
    login: `${name}@example.com`,
    fields: {
      enabled: true,
      email: `${name}@example.com`,
      displayName: name.toUpperCase(),
      diskQuota: 1024,
      userCustomFields: { employeeType: 'staff', tags: ['a', 'b'] },
      ...fields,
    },
    ...rest,
  };
}

export function team(name: string, memberDns: string[], overrides: Partial<DesiredGroup> = {}): DesiredGroup {
  return {
    externalId: `guuid-${name}`,
    dn: `cn=${name},ou=groups,dc=example,dc=com`,
    name,
    fields: { description: `${name} team`, customFields: { gid: 500 } },
    memberDns,
    memberUids: [],
    ...overrides,
  };
}

/** Plans a user sync of `profile` from the store's current rows, as the sync stage does. */
export async function userPlan(store: Store, profile: string, desired: DesiredUser[], del: DeletesConfig = NO_DELETES, skipped: Skip[] = []): Promise<UserPlan> {
  const own = await store.usersOf(profile);
  const others = await store.usersWithLogins(desired.map((d) => d.login), profile);
  return planUsers({ profile, desired, stored: [...own, ...others], skipped, deletes: del, now: new Date() });
}

export async function groupPlan(store: Store, profile: string, desired: DesiredGroup[], del: DeletesConfig = NO_DELETES, flattenNested = false): Promise<GroupPlan> {
  return planGroups({
    profile,
    desired,
    stored: await store.groupsOf(profile),
    users: await store.usersOf(profile),
    skipped: [],
    deletes: del,
    flattenNested,
    normalizeDn: (dn) => dn.toLowerCase().replace(/\s*([,=])\s*/g, '$1'),
    now: new Date(),
  });
}

/** A whole real run: plan, run row, apply. */
export async function syncUsers(store: Store, profile: string, desired: DesiredUser[], del: DeletesConfig = NO_DELETES): Promise<{ plan: UserPlan; applied: AppliedChange[]; runId: string }> {
  const plan = await userPlan(store, profile, desired, del);
  const runId = await store.beginRun({ source: profile, kind: 'users', trigger: 'cli', dryRun: false, configHash: 'test' });
  const applied = await store.applyUserPlan(runId, plan);
  return { plan, applied, runId };
}

export async function syncGroups(store: Store, profile: string, desired: DesiredGroup[], del: DeletesConfig = NO_DELETES, flattenNested = false): Promise<{ plan: GroupPlan; applied: AppliedChange[] }> {
  const plan = await groupPlan(store, profile, desired, del, flattenNested);
  const runId = await store.beginRun({ source: profile, kind: 'groups', trigger: 'cli', dryRun: false, configHash: 'test' });
  const applied = await store.applyGroupPlan(runId, plan);
  return { plan, applied };
}

/** Inserts an application-owned account. */
export async function insertLocalUser(store: Store, username: string, login: string): Promise<number> {
  const row = await store.kysely
    .insertInto('users')
    .values({ source: 'local', username, login, email: `${username}@local`, display_name: 'Local ' + username } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Everything in the users table, by id, as plain comparable data. */
export async function snapshot(store: Store): Promise<unknown[]> {
  const users = await store.kysely.selectFrom('users').selectAll().orderBy('id').execute();
  const groups = await store.kysely.selectFrom('groups').selectAll().orderBy('id').execute();
  const members = await store.kysely.selectFrom('group_members').selectAll().orderBy('group_id').orderBy('user_id').execute();
  return [users, groups, members];
}
