import { GROUP_FIELDS, USER_FIELDS, type MappingKind } from './fields.js';
import { assertNever } from './assert-never.js';
import type { Value } from './value.js';

/** Builds a mapped record from the field values in field order; the result is frozen. */
export type RecordBuilder = (values: ReadonlyArray<Value>) => Readonly<Record<string, Value>>;

/*
 * The records are object literals written out, not objects filled in a loop: V8 turns an object that gets more
 * than a dozen properties by computed key into a slow dictionary, which made building a user record cost more
 * than evaluating its 25 fields. A literal has one fixed shape. The check below keeps these in step with the
 * field lists.
 */

const buildUser: RecordBuilder = (v) =>
  Object.freeze({
    enabled: v[0]!,
    diskQuota: v[1]!,
    email: v[2]!,
    recoveryEmail: v[3]!,
    displayName: v[4]!,
    firstName: v[5]!,
    lastName: v[6]!,
    initials: v[7]!,
    jobTitle: v[8]!,
    department: v[9]!,
    notes: v[10]!,
    addressType: v[11]!,
    street: v[12]!,
    zipCode: v[13]!,
    city: v[14]!,
    state: v[15]!,
    countryCode: v[16]!,
    homePhone: v[17]!,
    mobile: v[18]!,
    workFax: v[19]!,
    workPhone: v[20]!,
    organization: v[21]!,
    homeDir: v[22]!,
    contactCustomFields: v[23]!,
    userCustomFields: v[24]!,
  });

const buildGroup: RecordBuilder = (v) =>
  Object.freeze({
    description: v[0]!,
    customFields: v[1]!,
  });

function verified(builder: RecordBuilder, names: ReadonlyArray<string>): RecordBuilder {
  const keys = Object.keys(builder(names.map(() => null)));
  if (keys.join() !== names.join()) throw new Error(`record shape out of step with the field list: ${keys.join()} vs ${names.join()}`);
  return builder;
}

const USER_BUILDER = verified(buildUser, USER_FIELDS.map((f) => f.name));
const GROUP_BUILDER = verified(buildGroup, GROUP_FIELDS.map((f) => f.name));

export function recordBuilder(kind: MappingKind): RecordBuilder {
  switch (kind) {
    case 'users':
      return USER_BUILDER;
    case 'groups':
      return GROUP_BUILDER;
    default:
      return assertNever(kind);
  }
}
