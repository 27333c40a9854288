import { assertNever } from './assert-never.js';

/** The type a target field (a store column) holds. */
export type FieldType = 'string' | 'integer' | 'boolean' | 'map';

export type MappingKind = 'users' | 'groups';

/** A field a mapping can produce, and the store column it lands in. */
export interface TargetField {
  /** camelCase, as written in ldapsync.yaml. */
  readonly name: string;
  /** snake_case column of the store table. */
  readonly column: string;
  readonly type: FieldType;
}

function field(name: string, type: FieldType): TargetField {
  const column = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return Object.freeze({ name, column, type });
}

/** The user fields of Group-Office's default mapping plus its commented extras (addressType, countryCode, homeDir, custom fields). */
export const USER_FIELDS: ReadonlyArray<TargetField> = Object.freeze([
  field('enabled', 'boolean'),
  field('diskQuota', 'integer'),
  field('email', 'string'),
  field('recoveryEmail', 'string'),
  field('displayName', 'string'),
  field('firstName', 'string'),
  field('lastName', 'string'),
  field('initials', 'string'),
  field('jobTitle', 'string'),
  field('department', 'string'),
  field('notes', 'string'),
  field('addressType', 'string'),
  field('street', 'string'),
  field('zipCode', 'string'),
  field('city', 'string'),
  field('state', 'string'),
  field('countryCode', 'string'),
  field('homePhone', 'string'),
  field('mobile', 'string'),
  field('workFax', 'string'),
  field('workPhone', 'string'),
  field('organization', 'string'),
  field('homeDir', 'string'),
  field('contactCustomFields', 'map'),
  field('userCustomFields', 'map'),
]);

export const GROUP_FIELDS: ReadonlyArray<TargetField> = Object.freeze([
  field('description', 'string'),
  field('customFields', 'map'),
]);

export function fieldsOf(kind: MappingKind): ReadonlyArray<TargetField> {
  switch (kind) {
    case 'users':
      return USER_FIELDS;
    case 'groups':
      return GROUP_FIELDS;
    default:
      return assertNever(kind);
  }
}
