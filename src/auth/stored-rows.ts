import { USER_FIELDS, type MappedRecord, type StoredUser } from '../reconcile/index.js';
import { toLdapsyncError } from '../shared/index.js';
import type { Store } from '../store/index.js';

/** No source is named '': passed as the source to leave out, the store's login lookup returns every source's rows. */
const NO_SOURCE = '';

const MAPPED_COLUMNS = USER_FIELDS.filter((f) => f.name !== 'enabled');

/** Live rows of any source (this profile's, other profiles', local ones) holding one of `logins`, case-insensitively. */
export function loginHolders(store: Store, logins: ReadonlyArray<string>): Promise<StoredUser[]> {
  return store.usersWithLogins(logins, NO_SOURCE);
}

/**
 * The profile's rows of these directory entries, removed or not, by external id. Read by their key (source,
 * external id): a login must not read every row of a large profile the way a sync does.
 */
export async function ownRows(store: Store, source: string, externalIds: ReadonlyArray<string>): Promise<Map<string, StoredUser>> {
  if (externalIds.length === 0) return new Map();
  try {
    const rows = await store.kysely.selectFrom('users').selectAll().where('source', '=', source).where('external_id', 'in', [...externalIds]).execute();
    const users = rows.map((row) => toStoredUser(row as unknown as Readonly<Record<string, unknown>>));
    return new Map(users.map((user) => [user.externalId, user]));
  } catch (err) {
    throw toLdapsyncError(err, 'store.failed', { table: 'users' });
  }
}

/** A users row as the planner sees it: the identity columns, and the mapped columns under their field names. */
function toStoredUser(row: Readonly<Record<string, unknown>>): StoredUser {
  const fields: Record<string, unknown> = {};
  for (const field of MAPPED_COLUMNS) fields[field.name] = row[field.column] ?? null;
  return {
    id: row['id'] as number,
    source: row['source'] as string,
    externalId: (row['external_id'] as string | null) ?? '',
    dn: (row['dn'] as string | null) ?? '',
    username: row['username'] as string,
    login: row['login'] as string,
    enabled: row['enabled'] as boolean,
    removedAt: (row['removed_at'] as Date | null) ?? null,
    fields: fields as MappedRecord,
  };
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
