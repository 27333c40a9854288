import type { GroupQuery, Profile, UserQuery } from '../config/index.js';
import { DslError } from '../dsl/index.js';
import { identityOf } from '../ldap/index.js';
import type { DesiredGroup, DesiredUser, Skip } from '../reconcile/index.js';
import type { Entry } from '../shared/index.js';

/** The first text value of an attribute, or undefined. */
function firstText(entry: Entry, name: string): string | undefined {
  const value = entry.attributes.get(name.toLowerCase())?.[0];
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  return text.trim() === '' ? undefined : text;
}

function identity(entry: Entry, idAttribute: string): { id: string } | Skip {
  try {
    const id = identityOf(entry, idAttribute);
    if (id !== undefined) return { id };
    return {
      kind: 'no-id',
      dn: entry.dn,
      reason: `the entry has no ${idAttribute} (idAttribute); if it is operational, the bind account must be allowed to read it`,
    };
  } catch (err) {
    return { kind: 'no-id', dn: entry.dn, reason: `${idAttribute}: ${(err as Error).message}` };
  }
}

/** Whether a value holds U+0000, which PostgreSQL stores neither in text nor in a jsonb string. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.entries(value).some(([key, v]) => key.includes('\u0000') || hasNul(v));
  }
  return false;
}

/**
 * An entry whose record cannot be stored would fail the whole run's transaction, on every run, for everyone:
 * like a mapping error, it skips the entry alone.
 */
function unstorable(entry: Entry, externalId: string, nameField: string, name: string, fields: Readonly<Record<string, unknown>>): Skip | undefined {
  const skip = (field: string): Skip => ({
    kind: 'mapping-error',
    dn: entry.dn,
    externalId,
    reason: `${field}: the value holds a NUL character (U+0000), which PostgreSQL cannot store`,
  });
  if (hasNul(name)) return skip(nameField);
  for (const field in fields) if (hasNul(fields[field])) return skip(field);
  return undefined;
}

function mappingSkip(entry: Entry, externalId: string, err: unknown): Skip {
  const reason = err instanceof DslError ? `mapping of ${err.field} failed: ${err.message}` : `mapping failed: ${(err as Error).message}`;
  return { kind: 'mapping-error', dn: entry.dn, externalId, reason };
}

/** Turns one directory entry into the user the store should hold, or says why it is skipped. */
export function desiredUser(entry: Entry, profile: Profile, query: UserQuery): DesiredUser | Skip {
  const id = identity(entry, query.idAttribute);
  if (!('id' in id)) return id;
  const username = firstText(entry, query.usernameAttribute);
  if (username === undefined) {
    return { kind: 'no-username', dn: entry.dn, externalId: id.id, reason: `the entry has no ${query.usernameAttribute} (usernameAttribute)` };
  }
  let fields;
  try {
    fields = query.mapping.map(entry);
  } catch (err) {
    return mappingSkip(entry, id.id, err);
  }
  const bad = unstorable(entry, id.id, `${query.usernameAttribute} (usernameAttribute)`, username, fields);
  if (bad !== undefined) return bad;
  const domain = profile.domains[0];
  return { externalId: id.id, dn: entry.dn, username, login: domain === undefined ? username : `${username}@${domain}`, fields };
}

/** `uniqueMember` values may carry an optional `#'0101'B` unique identifier after the DN (RFC 4517 NameAndOptionalUID). */
function stripOptionalUid(value: string): string {
  return value.replace(/#'[01]*'B$/, '');
}

/** Turns one directory entry into the group the store should hold, or says why it is skipped. */
export function desiredGroup(entry: Entry, query: GroupQuery): DesiredGroup | Skip {
  const id = identity(entry, query.idAttribute);
  if (!('id' in id)) return id;
  const name = firstText(entry, query.nameAttribute);
  if (name === undefined) {
    return { kind: 'no-username', dn: entry.dn, externalId: id.id, reason: `the entry has no ${query.nameAttribute} (nameAttribute)` };
  }
  let fields;
  try {
    fields = query.mapping.map(entry);
  } catch (err) {
    return mappingSkip(entry, id.id, err);
  }
  const bad = unstorable(entry, id.id, `${query.nameAttribute} (nameAttribute)`, name, fields);
  if (bad !== undefined) return bad;
  const members = (entry.attributes.get(query.memberAttribute.toLowerCase()) ?? []).map((v) =>
    typeof v === 'string' ? v : Buffer.from(v).toString('utf8'),
  );
  return query.memberAttribute === 'memberUid'
    ? { externalId: id.id, dn: entry.dn, name, fields, memberDns: [], memberUids: members }
    : {
        externalId: id.id,
        dn: entry.dn,
        name,
        fields,
        memberDns: query.memberAttribute === 'uniqueMember' ? members.map(stripOptionalUid) : members,
        memberUids: [],
      };
}

export function isSkip<T extends object>(value: T | Skip): value is Skip {
  return 'kind' in value;
}
