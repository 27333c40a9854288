import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GROUP_MAPPING,
  DEFAULT_USER_MAPPING,
  DslError,
  GROUP_FIELDS,
  USER_FIELDS,
  compileMapping,
  interpretMapping,
  type CompiledMapping,
  type MappedRecord,
  type MappingKind,
  type MappingValue,
} from '../../src/dsl/index.js';
import { LdapsyncError, makeEntry, type Entry } from '../../src/shared/index.js';
import { adService, adUser, fry, hermes } from './sample-entries.js';

function compiled(fields: Readonly<Record<string, MappingValue>>, kind: MappingKind = 'users'): CompiledMapping {
  const result = compileMapping(kind, fields);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.code} ${e.field}: ${e.message}`).join('\n'));
  return result.mapping;
}

function failures(fields: Readonly<Record<string, unknown>>, kind: MappingKind = 'users'): DslError[] {
  const result = compileMapping(kind, fields as Record<string, MappingValue>);
  if (result.ok) throw new Error('expected the mapping to be rejected');
  return [...result.errors];
}

/** Maps with the compiled closures, and checks the reference interpreter gives the same record. */
function mapBoth(mapping: CompiledMapping, entry: Entry): MappedRecord {
  const record = mapping.map(entry);
  expect(interpretMapping(mapping, entry)).toEqual(record);
  return record;
}

/** The Group-Office example mapping (its commented examples), written in this language. */
const GROUP_OFFICE_EXAMPLES: Readonly<Record<string, MappingValue>> = {
  enabled: "ou != 'Delivering Crew'",
  diskQuota: "bytes('1 GiB')",
  email: "find(values(mail), m => endsWith(lower(m), '@example.com')) ?? mail",
  addressType: "'work'",
  countryCode: "'NL'",
  homeDir: "'ldap_homes/' + uid",
  contactCustomFields: { employeeType: 'employeeType', crew: "isMemberOf('cn=ship_crew,ou=people,dc=planetexpress,dc=com')" },
  userCustomFields: { employeeType: 'employeeType', source: "'ldap'", level: 3, vip: false, nothing: null },
};

describe('the field lists', () => {
  it('name every field of Group-Office with its store column', () => {
    expect(USER_FIELDS.map((f) => f.name)).toEqual([
      'enabled', 'diskQuota', 'email', 'recoveryEmail', 'displayName', 'firstName', 'lastName', 'initials', 'jobTitle',
      'department', 'notes', 'addressType', 'street', 'zipCode', 'city', 'state', 'countryCode', 'homePhone', 'mobile',
      'workFax', 'workPhone', 'organization', 'homeDir', 'contactCustomFields', 'userCustomFields',
    ]);
    expect(USER_FIELDS.find((f) => f.name === 'recoveryEmail')).toEqual({ name: 'recoveryEmail', column: 'recovery_email', type: 'string' });
    expect(USER_FIELDS.find((f) => f.name === 'diskQuota')).toEqual({ name: 'diskQuota', column: 'disk_quota', type: 'integer' });
    expect(USER_FIELDS.find((f) => f.name === 'userCustomFields')?.type).toBe('map');
    expect(GROUP_FIELDS).toEqual([
      { name: 'description', column: 'description', type: 'string' },
      { name: 'customFields', column: 'custom_fields', type: 'map' },
    ]);
  });

  it('have a default for every field', () => {
    expect(Object.keys(DEFAULT_USER_MAPPING)).toEqual(USER_FIELDS.map((f) => f.name));
    expect(Object.keys(DEFAULT_GROUP_MAPPING)).toEqual(GROUP_FIELDS.map((f) => f.name));
  });
});

describe('the default mapping', () => {
  it('maps a Planet Express entry as Group-Office does, with state and organization from standard attributes', () => {
    const mapping = compiled({});
    expect(mapping.kind).toBe('users');
    expect(mapping.fields).toEqual(USER_FIELDS.map((f) => f.name));
    expect(mapBoth(mapping, fry)).toEqual({
      enabled: true,
      diskQuota: null,
      email: 'fry@planetexpress.com',
      recoveryEmail: 'fry@planetexpress.com',
      displayName: 'Philip J. Fry',
      firstName: 'Philip',
      lastName: 'Fry',
      initials: null,
      jobTitle: 'Delivery boy',
      department: null,
      notes: null,
      addressType: null,
      street: null,
      zipCode: null,
      city: 'New New York',
      state: 'NY',
      countryCode: null,
      homePhone: null,
      mobile: null,
      workFax: null,
      workPhone: '+1 555 0101',
      organization: 'Planet Express',
      homeDir: null,
      contactCustomFields: {},
      userCustomFields: {},
    });
  });

  it("takes an Active Directory user's organization from company", () => {
    const record = mapBoth(compiled({}), adUser);
    expect(record['organization']).toBe('Wong Ranch');
    expect(record['state']).toBe('Mars');
    expect(record['notes']).toBe('Intern');
  });

  it('names the attributes it reads, lower-cased, so the reader can ask for only those', () => {
    expect(compiled({}).attributes).toEqual([
      'cn', 'company', 'department', 'facsimiletelephonenumber', 'givenname', 'homephone', 'info', 'initials', 'l', 'mail',
      'mobile', 'o', 'postalcode', 'sn', 'st', 'street', 'telephonenumber', 'title',
    ]);
    expect(compiled({ enabled: "isMemberOf('cn=x,dc=y')", email: "attr('msDS-PrimaryMail')" }).attributes).toContain('memberof');
    expect(compiled({ email: "attr('msDS-PrimaryMail')" }).attributes).toContain('msds-primarymail');
    expect(compiled({}, 'groups').attributes).toEqual(['description']);
  });

  it('maps groups', () => {
    const group = makeEntry('cn=ship_crew,ou=people,dc=planetexpress,dc=com', { cn: 'ship_crew', description: 'The crew' });
    const mapping = compiled({}, 'groups');
    expect(mapping.fields).toEqual(['description', 'customFields']);
    expect(mapBoth(mapping, group)).toEqual({ description: 'The crew', customFields: {} });
    expect(mapBoth(compiled({ customFields: { members: 'length(values(member))' } }, 'groups'), group)).toEqual({
      description: 'The crew',
      customFields: { members: 0 },
    });
  });
});

describe("Group-Office's commented examples", () => {
  const mapping = compiled(GROUP_OFFICE_EXAMPLES);

  it('enabled from ou', () => {
    expect(mapBoth(mapping, fry)['enabled']).toBe(false);
    expect(mapBoth(mapping, hermes)['enabled']).toBe(true);
  });

  it('a fixed disk quota', () => {
    expect(mapBoth(mapping, fry)['diskQuota']).toBe(1073741824);
  });

  it('the email at the preferred domain, else the first value', () => {
    expect(mapBoth(mapping, fry)['email']).toBe('Philip.Fry@Example.com');
    expect(mapBoth(mapping, hermes)['email']).toBe('hermes@planetexpress.com');
    expect(mapBoth(mapping, makeEntry('cn=x', {}))['email']).toBeNull();
  });

  it('constant addressType and countryCode', () => {
    const record = mapBoth(mapping, fry);
    expect(record['addressType']).toBe('work');
    expect(record['countryCode']).toBe('NL');
  });

  it('contact and user custom fields', () => {
    const record = mapBoth(mapping, fry);
    expect(record['contactCustomFields']).toEqual({ employeeType: 'Delivery boy', crew: true });
    expect(record['userCustomFields']).toEqual({ employeeType: 'Delivery boy', source: 'ldap', level: 3, vip: false, nothing: null });
    expect(mapBoth(mapping, hermes)['contactCustomFields']).toEqual({ employeeType: 'Bureaucrat', crew: false });
  });

  it('homeDir from uid', () => {
    expect(mapBoth(mapping, fry)['homeDir']).toBe('ldap_homes/fry');
    expect(mapBoth(mapping, makeEntry('cn=x', {}))['homeDir']).toBeNull();
  });

  it('keeps the default for every field not given', () => {
    const record = mapBoth(mapping, fry);
    expect(record['displayName']).toBe('Philip J. Fry');
    expect(record['state']).toBe('NY');
  });

  it('takes YAML constants: numbers, booleans, null', () => {
    const record = mapBoth(compiled({ diskQuota: 1073741824, enabled: false, email: null, countryCode: "'NL'" }), fry);
    expect(record).toMatchObject({ diskQuota: 1073741824, enabled: false, email: null, countryCode: 'NL' });
  });
});

describe('Active Directory', () => {
  const mapping = compiled({
    enabled: '(int(userAccountControl) & 2) == 0',
    userCustomFields: {
      accountExpires: 'filetime(accountExpires)',
      whenChanged: 'generalizedTime(whenChanged)',
      objectGUID: 'guid(objectGUID)',
      objectSid: 'sid(objectSid)',
      groups: "map(values(memberOf), g => rdn(g))",
    },
  });

  it('enabled from the ACCOUNTDISABLE flag of userAccountControl', () => {
    expect(mapBoth(mapping, adUser)['enabled']).toBe(false);
    expect(mapBoth(mapping, adService)['enabled']).toBe(true);
  });

  it('accountExpires and whenChanged as ISO dates, the binary GUID and SID as strings', () => {
    expect(mapBoth(mapping, adUser)['userCustomFields']).toEqual({
      accountExpires: '2024-01-17T21:20:00.000Z',
      whenChanged: '2024-01-31T12:34:56.000Z',
      objectGUID: '665ad4fc-2ed1-4b4f-9a3e-0123456789ab',
      objectSid: 'S-1-5-21-3623811015-3361044348-30300820-1013',
      groups: ['Interns', 'Domain Users'],
    });
    expect(mapBoth(mapping, adService)['userCustomFields']).toMatchObject({ accountExpires: null, objectSid: null });
  });

  it('rejects enabled from a missing userAccountControl', () => {
    // int(null) is null, null & 2 is null, and null == 0 is false: no flags means disabled, as AD would have it.
    expect(mapBoth(mapping, makeEntry('cn=x', {}))['enabled']).toBe(false);
  });
});

describe('records are plain frozen data', () => {
  it('freezes the record, its maps and the lists in them', () => {
    const mapping = compiled({ userCustomFields: { mails: 'values(mail)', words: "split(cn, ' ')" } });
    for (const record of [mapping.map(fry), interpretMapping(mapping, fry)]) {
      expect(Object.isFrozen(record)).toBe(true);
      const custom = record['userCustomFields'] as Record<string, unknown>;
      expect(Object.isFrozen(custom)).toBe(true);
      expect(Object.getPrototypeOf(custom)).toBe(Object.prototype);
      expect(Object.isFrozen(custom['mails'])).toBe(true);
      expect(custom['mails']).toEqual(['fry@planetexpress.com', 'Philip.Fry@Example.com']);
    }
    // The entry's own arrays are never handed out, so freezing the output leaves them alone.
    expect(Object.isFrozen(fry.attributes.get('mail'))).toBe(false);
  });

  it('serialises as the JSON a store column takes', () => {
    const record = compiled(GROUP_OFFICE_EXAMPLES).map(fry);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });
});

describe('errors', () => {
  it('reports an unknown target field with a did-you-mean', () => {
    const [e] = failures({ emial: 'mail' });
    expect(e).toBeInstanceOf(DslError);
    expect(e).toBeInstanceOf(LdapsyncError);
    expect(e).toMatchObject({ code: 'dsl.unknown-field', field: 'emial', source: '', span: { start: 0, end: 0 } });
    expect(e!.hint).toContain("'email'");
    expect(failures({ display_name: 'cn' })[0]!.hint).toContain("'displayName'");
    expect(failures({ members: 'x' }, 'groups')[0]).toMatchObject({ code: 'dsl.unknown-field', field: 'members' });
    expect(failures({ enabled: 'true' }, 'groups')[0]).toMatchObject({ code: 'dsl.unknown-field', field: 'enabled' });
  });

  it('names the field and the position of an expression error, and prints a caret', () => {
    const [e] = failures({ email: "find(values(mail), m => endsWith(lowr(m), '@example.com')) ?? mail" });
    expect(e).toMatchObject({ code: 'dsl.unknown-function', field: 'email', span: { start: 33, end: 37 } });
    expect(e!.caret()).toBe(
      "find(values(mail), m => endsWith(lowr(m), '@example.com')) ?? mail\n" +
        '                                 ^^^^',
    );
    expect(e!.format()).toMatch(/^email: unknown function 'lowr'/);
  });

  it('puts the caret on the right line of a multi-line expression', () => {
    const [e] = failures({ email: "coalesce(\n\tmail,\n\tlowr(uid)\n)" });
    expect(e!.span).toEqual({ start: 18, end: 22 });
    expect(e!.caret()).toBe('\tlowr(uid)\n\t^^^^');
  });

  it('reports every error of every field at once', () => {
    const errors = failures({
      emial: 'mail',
      enabled: 'mail',
      diskQuota: 'quota',
      homeDir: "'ldap_homes/ + uid",
      displayName: 'lower(cn, 1)',
      // As YAML or JSON parsing gives it: an own key named __proto__.
      userCustomFields: JSON.parse('{"__proto__": "x", "ok": "cn", "bad": "process.exit()"}') as Record<string, string>,
    });
    // Unknown fields first, then the fields in their order.
    expect(errors.map((e) => [e.code, e.field])).toEqual([
      ['dsl.unknown-field', 'emial'],
      ['dsl.type', 'enabled'],
      ['dsl.type', 'diskQuota'],
      ['dsl.arity', 'displayName'],
      ['dsl.unterminated-string', 'homeDir'],
      ['dsl.forbidden-name', 'userCustomFields.__proto__'],
      ['dsl.forbidden-name', 'userCustomFields.bad'],
      ['dsl.syntax', 'userCustomFields.bad'],
    ]);
  });

  it('checks YAML constants against the field type', () => {
    expect(failures({ enabled: 'yes' })[0]).toMatchObject({ code: 'dsl.type', field: 'enabled', span: { start: 0, end: 3 } });
    expect(failures({ enabled: null })[0]).toMatchObject({ code: 'dsl.type', field: 'enabled', source: 'null' });
    expect(failures({ diskQuota: 1.5 })[0]).toMatchObject({ code: 'dsl.type', field: 'diskQuota', source: '1.5' });
    expect(failures({ diskQuota: true })[0]).toMatchObject({ code: 'dsl.type', field: 'diskQuota' });
    const [zip] = failures({ zipCode: 1234 });
    expect(zip).toMatchObject({ code: 'dsl.type', field: 'zipCode', source: '1234', span: { start: 0, end: 4 } });
    expect(zip!.hint).toContain("\"'1234'\"");
    expect(failures({ email: ['mail'] })[0]).toMatchObject({ code: 'dsl.type', field: 'email' });
    expect(failures({ email: { a: 'b' } })[0]).toMatchObject({ code: 'dsl.type', field: 'email' });
  });

  it('checks map fields: a map of name to expression or constant', () => {
    expect(failures({ userCustomFields: 'employeeType' })[0]).toMatchObject({ code: 'dsl.type', field: 'userCustomFields' });
    expect(failures({ userCustomFields: ['a'] })[0]).toMatchObject({ code: 'dsl.type', field: 'userCustomFields' });
    expect(failures({ userCustomFields: { nested: { a: 'b' } } })[0]).toMatchObject({ code: 'dsl.type', field: 'userCustomFields.nested' });
    expect(failures({ userCustomFields: { photo: 'jpegPhoto' } })[0]).toMatchObject({ code: 'dsl.type', field: 'userCustomFields.photo' });
    expect(failures({ userCustomFields: { constructor: 'cn' } })[0]).toMatchObject({ code: 'dsl.forbidden-name', field: 'userCustomFields.constructor' });
    expect(failures({ userCustomFields: { '': 'cn' } })[0]).toMatchObject({ code: 'dsl.type', field: 'userCustomFields.' });
    expect(compiled({ userCustomFields: null }).map(fry)['userCustomFields']).toBeNull();
  });

  it("throws a runtime error naming the field, its position and the entry: int('abc')", () => {
    const mapping = compiled({ diskQuota: 'int(employeeNumber)' });
    const entry = makeEntry('uid=bender,ou=people,dc=planetexpress,dc=com', { employeeNumber: 'abc' });
    for (const evaluate of [() => mapping.map(entry), () => interpretMapping(mapping, entry)]) {
      let error: unknown;
      try {
        evaluate();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DslError);
      expect(error).toMatchObject({ code: 'dsl.runtime', field: 'diskQuota', source: 'int(employeeNumber)', span: { start: 0, end: 19 } });
      expect((error as DslError).where.dn).toBe('uid=bender,ou=people,dc=planetexpress,dc=com');
      expect((error as DslError).message).toContain("'abc'");
      expect((error as DslError).format()).toMatch(/^diskQuota: int\(\)/);
    }
    expect(mapping.map(makeEntry('cn=x', { employeeNumber: '42' }))['diskQuota']).toBe(42);
  });

  it('names the key of a map field in a runtime error, and recovers for the next entry', () => {
    const mapping = compiled({ userCustomFields: { ok: 'cn', number: 'int(cn)' } });
    expect(() => mapping.map(fry)).toThrow(expect.objectContaining({ code: 'dsl.runtime', field: 'userCustomFields.number', span: { start: 0, end: 7 } }));
    expect(() => interpretMapping(mapping, fry)).toThrow(expect.objectContaining({ code: 'dsl.runtime', field: 'userCustomFields.number' }));
    expect(mapping.map(makeEntry('cn=7', { cn: '7' }))['userCustomFields']).toEqual({ ok: '7', number: 7 });
  });

  it('holds integer fields to whole numbers at run time', () => {
    const mapping = compiled({ diskQuota: 'int(q) / 2' });
    expect(mapping.map(makeEntry('', { q: '4' }))['diskQuota']).toBe(2);
    expect(() => mapping.map(makeEntry('', { q: '3' }))).toThrow(expect.objectContaining({ code: 'dsl.runtime', field: 'diskQuota', span: { start: 0, end: 10 } }));
    expect(() => interpretMapping(mapping, makeEntry('', { q: '3' }))).toThrow(expect.objectContaining({ code: 'dsl.runtime', field: 'diskQuota' }));
  });

  it('refuses a mapping it did not make', () => {
    const fake: CompiledMapping = { kind: 'users', fields: [], attributes: [], signature: '', map: () => ({}) };
    expect(() => interpretMapping(fake, fry)).toThrow(TypeError);
  });
});
