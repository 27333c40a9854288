import type { DeletesConfig } from '../../src/config/index.js';
import type { DesiredGroup, DesiredUser, MappedRecord, StoredGroup, StoredUser } from '../../src/reconcile/index.js';

export const PROFILE = 'planetexpress';
export const NOW = new Date('2024-06-01T12:00:00Z');

export const DELETES_OFF: DeletesConfig = { enabled: false, maxPercentage: 5, maxCount: undefined, mode: 'disable', purgeAfter: undefined };

export function deletesOn(overrides: Partial<DeletesConfig> = {}): DeletesConfig {
  return { enabled: true, maxPercentage: 100, maxCount: undefined, mode: 'disable', purgeAfter: undefined, ...overrides };
}

const BASE_FIELDS: MappedRecord = { enabled: true, email: null, displayName: null };

export function desiredUser(name: string, overrides: Partial<DesiredUser> = {}): DesiredUser {
  return {
    externalId: `id-${name}`,
    dn: `uid=${name},ou=people,dc=planetexpress,dc=com`,
    username: name,
    login: `${name}@planetexpress.com`,
    fields: { ...BASE_FIELDS, email: `${name}@planetexpress.com`, displayName: name },
    ...overrides,
  };
}

let nextId = 1;

/** The stored row that a sync of `desiredUser(name)` would have written. */
export function storedUser(name: string, overrides: Partial<StoredUser> = {}): StoredUser {
  const d = desiredUser(name);
  const { enabled: _enabled, ...fields } = d.fields;
  return {
    id: nextId++,
    source: PROFILE,
    externalId: d.externalId,
    dn: d.dn,
    username: d.username,
    login: d.login,
    enabled: true,
    removedAt: null,
    fields,
    ...overrides,
  };
}

export function desiredGroup(name: string, overrides: Partial<DesiredGroup> = {}): DesiredGroup {
  return {
    externalId: `gid-${name}`,
    dn: `cn=${name},ou=groups,dc=planetexpress,dc=com`,
    name,
    fields: { description: `the ${name} group`, customFields: {} },
    memberDns: [],
    memberUids: [],
    ...overrides,
  };
}

export function storedGroup(name: string, overrides: Partial<StoredGroup> = {}): StoredGroup {
  const d = desiredGroup(name);
  return {
    id: nextId++,
    source: PROFILE,
    externalId: d.externalId,
    dn: d.dn,
    name: d.name,
    removedAt: null,
    fields: d.fields,
    memberIds: [],
    ...overrides,
  };
}

/** A stand-in for the LDAP stage's DN normalisation: case and spacing around separators. */
export function normalizeDn(dn: string): string {
  return dn
    .split(',')
    .map((rdn) => rdn.split('=').map((part) => part.trim().toLowerCase()).join('='))
    .join(',');
}
