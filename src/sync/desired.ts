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

export function isSkip(value: DesiredUser | DesiredGroup | Skip): value is Skip {
  return 'kind' in value;
}
