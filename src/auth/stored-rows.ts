import type { StoredUser } from '../reconcile/index.js';
import type { Store } from '../store/index.js';

/** No source is named '': passed as the source to leave out, the store's login lookup returns every source's rows. */
const NO_SOURCE = '';

/** Live rows of any source (this profile's, other profiles', local ones) holding one of `logins`, case-insensitively. */
export function loginHolders(store: Store, logins: ReadonlyArray<string>): Promise<StoredUser[]> {
  return store.usersWithLogins(logins, NO_SOURCE);
}

/**
 * The profile's rows of these directory entries, removed or not, by external id. Read by their key (source,
 * external id): a login must not read every row of a large profile the way a sync does.
 */
export async function ownRows(store: Store, source: string, externalIds: ReadonlyArray<string>): Promise<Map<string, StoredUser>> {
  const users = await store.usersByExternalIds(source, externalIds);
  return new Map(users.map((user) => [user.externalId, user]));
}

/**
 * A stored user as an application receives it: the identity columns and every mapped field, flat, in JSON
 * terms (camelCase names, as in ldapsync.yaml).
 */
export function userView(user: StoredUser): Readonly<Record<string, unknown>> {
  return {
    ...user.fields,
    id: user.id,
    source: user.source,
    externalId: user.externalId === '' ? null : user.externalId,
    dn: user.dn === '' ? null : user.dn,
    username: user.username,
    login: user.login,
    enabled: user.enabled,
  };
}
