import type { Profile } from '../../src/config/types.js';
import { Secret } from '../../src/shared/index.js';
import type { SlapdInfo } from '../helpers/slapd.js';

/** The reading stage never evaluates mappings; a profile for its tests needs none. */
const NO_MAPPING = Object.freeze({}) as unknown as Profile['users']['mapping'];

export interface ProfileOverrides {
  readonly name?: string;
  readonly url?: string;
  readonly startTLS?: boolean;
  readonly tls?: Partial<Profile['tls']>;
  readonly bindDN?: string | undefined;
  readonly bindPassword?: string | undefined;
  readonly timeouts?: Partial<Profile['timeouts']>;
  readonly pageSize?: number;
  readonly serverType?: Profile['serverType'];
  readonly users?: Partial<Omit<Profile['users'], 'mapping'>>;
  readonly groups?: Partial<Omit<NonNullable<Profile['groups']>, 'mapping'>>;
}

/**
 * A profile as the config stage would build it for the test server: the reader account, the company fixture's
 * people and groups, entryUUID as identity. Overrides replace single fields.
 */
export function testProfile(slapd: SlapdInfo, overrides: ProfileOverrides = {}): Profile {
  const password = 'bindPassword' in overrides ? overrides.bindPassword : slapd.readerPassword;
  return {
    name: overrides.name ?? 'company',
    url: overrides.url ?? slapd.url,
    startTLS: overrides.startTLS ?? false,
    tls: { caFile: slapd.caFile, rejectUnauthorized: true, serverName: undefined, ...overrides.tls },
    bindDN: 'bindDN' in overrides ? overrides.bindDN : slapd.readerDN,
    bindPassword: password === undefined ? undefined : new Secret(password, 'inline'),
    domains: ['example.org'],
    timeouts: { connect: 5_000, operation: 10_000, ...overrides.timeouts },
    pageSize: overrides.pageSize ?? 3,
    serverType: overrides.serverType ?? 'openldap',
    users: {
      baseDN: `ou=people,${slapd.baseDN}`,
      scope: 'sub',
      filter: '(objectClass=inetOrgPerson)',
      sync: true,
      usernameAttribute: 'uid',
      idAttribute: 'entryUUID',
      ...overrides.users,
      mapping: NO_MAPPING,
    },
    groups: {
      baseDN: `ou=groups,${slapd.baseDN}`,
      scope: 'sub',
      filter: '(|(objectClass=groupOfNames)(objectClass=posixGroup)(objectClass=groupOfUniqueNames))',
      sync: true,
      nameAttribute: 'cn',
      idAttribute: 'entryUUID',
      memberAttribute: 'member',
      flattenNested: false,
      ...overrides.groups,
      mapping: NO_MAPPING,
    },
    schedule: '0 0 * * *',
    timezone: undefined,
    deletes: { enabled: false, maxPercentage: 5, maxCount: undefined, mode: 'disable', purgeAfter: undefined },
  };
}
