/**
 * What a mapping field holds in ldapsync.yaml: a string is an expression, a number/boolean/null a constant, and
 * a map field takes a one-level map of key -> expression or constant.
 */
export type MappingValue =
  | string
  | number
  | boolean
  | null
  | { readonly [key: string]: string | number | boolean | null };

/**
 * The Group-Office LDAP authenticator's default user mapping, made to work on standard schemas. Group-Office
 * reads `s` for state and `organizationname` for organization; neither exists in the core/inetOrgPerson
 * schemas nor in Active Directory, so those two fields were always empty. Here state reads `st` (the X.520
 * stateOrProvinceName, also AD's attribute) and organization reads `o`, falling back to AD's `company`.
 * Fields Group-Office only shows as commented examples (addressType, countryCode, homeDir) stay empty.
 */
export const DEFAULT_USER_MAPPING: Readonly<Record<string, MappingValue>> = Object.freeze({
  enabled: true,
  diskQuota: null,
  email: 'mail',
  recoveryEmail: 'mail',
  displayName: 'cn',
  firstName: 'givenName',
  lastName: 'sn',
  initials: 'initials',
  jobTitle: 'title',
  department: 'department',
  notes: 'info',
  addressType: null,
  street: 'street',
  zipCode: 'postalCode',
  city: 'l',
  state: 'st',
  countryCode: null,
  homePhone: 'homePhone',
  mobile: 'mobile',
  workFax: 'facsimileTelephoneNumber',
  workPhone: 'telephoneNumber',
  organization: 'o ?? company',
  homeDir: null,
  contactCustomFields: Object.freeze({}),
  userCustomFields: Object.freeze({}),
});

export const DEFAULT_GROUP_MAPPING: Readonly<Record<string, MappingValue>> = Object.freeze({
  description: 'description',
  customFields: Object.freeze({}),
});
