import { describe, expect, it } from 'vitest';
import { normalizeDn } from '../../src/dsl/dn.js';
import { DslError, FUNCTIONS, compileExpression, type Value } from '../../src/dsl/index.js';
import { makeEntry, type Entry } from '../../src/shared/index.js';
import { OBJECT_GUID, OBJECT_SID, adService, adUser, fry, hermes } from './sample-entries.js';

const empty = makeEntry('', {});

function run(source: string, entry: Entry = fry): Value {
  const result = compileExpression(source, 'any');
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.code} ${e.message}`).join('; '));
  return result.evaluate(entry);
}

function runtimeError(source: string, entry: Entry): DslError {
  const result = compileExpression(source, 'any');
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.code} ${e.message}`).join('; '));
  try {
    result.evaluate(entry);
  } catch (err) {
    if (err instanceof DslError) return err;
    throw err;
  }
  throw new Error(`${source} did not fail`);
}

describe('attributes', () => {
  it('reads the first value, case-insensitively, or null', () => {
    expect(run('mail')).toBe('fry@planetexpress.com');
    expect(run('MAIL')).toBe('fry@planetexpress.com');
    expect(run('givenname')).toBe('Philip');
    expect(run('initials')).toBeNull();
    expect(run('dn')).toBe('cn=Philip J. Fry,ou=people,dc=planetexpress,dc=com');
  });

  it('reads all values, the i-th value, and names that are not identifiers', () => {
    expect(run('values(mail)')).toEqual(['fry@planetexpress.com', 'Philip.Fry@Example.com']);
    expect(run('values(initials)')).toEqual([]);
    expect(run('mail[1]')).toBe('Philip.Fry@Example.com');
    expect(run('mail[-1]')).toBe('Philip.Fry@Example.com');
    expect(run('mail[2]')).toBeNull();
    const entry = makeEntry('cn=x', { 'msDS-cloudExtensionAttribute1': 'ext', 'userCertificate;binary': Uint8Array.of(1, 2) });
    expect(run("attr('msDS-cloudExtensionAttribute1')", entry)).toBe('ext');
    expect(run("values('MSDS-CLOUDEXTENSIONATTRIBUTE1')", entry)).toEqual(['ext']);
    expect(run("hex(attr('userCertificate;binary'))", entry)).toBe('0102');
  });

  it('reads text handed over as bytes as text, and binary attributes as bytes', () => {
    const entry = makeEntry('cn=x', { description: new TextEncoder().encode('Zoë'), objectGUID: '665ad4fc-2ed1-4b4f-9a3e-0123456789ab' });
    expect(run('description', entry)).toBe('Zoë');
    expect(run('upper(description)', entry)).toBe('ZOË');
    expect(run('objectGUID', entry)).toEqual(new TextEncoder().encode('665ad4fc-2ed1-4b4f-9a3e-0123456789ab'));
    expect(run('objectGUID', adUser)).toEqual(OBJECT_GUID);
  });
});

describe('operators', () => {
  it('does arithmetic and concatenation; null propagates', () => {
    expect(run('1 + 2 * 3 - 4 / 2 % 3')).toBe(5);
    expect(run("'ldap_homes/' + uid")).toBe('ldap_homes/fry');
    expect(run("'ldap_homes/' + uid", empty)).toBeNull();
    expect(run("'a' + initials")).toBeNull();
    expect(run('-int(uidNumber)', makeEntry('', { uidNumber: '1000' }))).toBe(-1000);
    expect(run('values(mail) + values(uid)')).toEqual(['fry@planetexpress.com', 'Philip.Fry@Example.com', 'fry']);
  });

  it('fails division by zero and numbers out of range, at the operator', () => {
    expect(runtimeError('1 / (length(initials))', fry)).toMatchObject({ code: 'dsl.runtime', span: { start: 0, end: 22 } });
    expect(runtimeError('length(cn) % 0', fry)).toMatchObject({ code: 'dsl.runtime', span: { start: 0, end: 14 } });
    expect(runtimeError('1e308 * (length(cn) + 10)', fry).code).toBe('dsl.runtime');
  });

  it('compares with no coercion, case-sensitively; ordering with null is false', () => {
    expect(run("ou == 'Delivering Crew'")).toBe(true);
    expect(run("ou == 'delivering crew'")).toBe(false);
    expect(run("lower(ou) == 'delivering crew'")).toBe(true);
    expect(run('initials == null')).toBe(true);
    expect(run("cn < 'Q'")).toBe(true);
    expect(run("initials < 'Q'")).toBe(false);
    expect(run("initials >= 'Q'")).toBe(false);
    expect(run('[1, 2] == [1, 2]')).toBe(true);
    expect(run('objectGUID == objectGUID', adUser)).toBe(true);
  });

  it('treats null as false in logic and picks the first non-null with ??', () => {
    expect(run('bool(initials) || true')).toBe(true);
    expect(run('!bool(initials)')).toBe(true);
    expect(run("bool(initials) ? 'y' : 'n'")).toBe('n');
    expect(run("initials ?? cn ?? 'x'")).toBe('Philip J. Fry');
    expect(run("initials ?? 'x'")).toBe('x');
    expect(run('true || int(cn) == 1')).toBe(true);
    expect(run('false && int(cn) == 1')).toBe(false);
  });

  it('tests flags with & (also beyond 32 bits) and membership with in', () => {
    expect(run('(int(userAccountControl) & 2) == 0', adUser)).toBe(false);
    expect(run('(int(userAccountControl) & 2) == 0', adService)).toBe(true);
    expect(run('int(userAccountControl) & 0x10000', adService)).toBe(65536);
    expect(run('8589934592 & 8589934595')).toBe(8589934592);
    expect(run("ou in ['Delivering Crew', 'Staff']")).toBe(true);
    expect(run("'fry' in values(uid)")).toBe(true);
    expect(run("'bender' in values(uid)")).toBe(false);
    expect(runtimeError('(length(cn) / 2) & 1', fry).code).toBe('dsl.runtime');
  });
});

describe('string functions', () => {
  it('transform text and pass null through', () => {
    expect(run('lower(cn)')).toBe('philip j. fry');
    expect(run('upper(sn)')).toBe('FRY');
    expect(run("trim('  x ')")).toBe('x');
    expect(run('lower(initials)')).toBeNull();
    expect(run("replace(cn, '.', '$&')")).toBe('Philip J$& Fry');
    expect(run('substring(cn, 0, 6)')).toBe('Philip');
    expect(run('substring(cn, -3)')).toBe('Fry');
    expect(run("substringBefore(mail, '@')")).toBe('fry');
    expect(run("substringAfter(mail, '@')")).toBe('planetexpress.com');
    expect(run("substringAfter(cn, '#')")).toBeNull();
    expect(run("substringBefore(cn, '#')")).toBe('Philip J. Fry');
  });

  it('join and split, skipping nulls', () => {
    expect(run("concat(givenName, ' ', initials, sn, ' ', 42)")).toBe('Philip Fry 42');
    expect(run("join(values(mail), '; ')")).toBe('fry@planetexpress.com; Philip.Fry@Example.com');
    expect(run('join(values(mail))')).toBe('fry@planetexpress.com,Philip.Fry@Example.com');
    expect(run("join([cn, initials, 1], '|')")).toBe('Philip J. Fry|1');
    expect(run("split(cn, ' ')")).toEqual(['Philip', 'J.', 'Fry']);
    expect(run("split(initials, ' ')")).toEqual([]);
  });

  it('test prefixes, suffixes, containment and length', () => {
    expect(run("startsWith(mail, 'fry@')")).toBe(true);
    expect(run("endsWith(mail, '.com')")).toBe(true);
    expect(run("endsWith(initials, '.com')")).toBe(false);
    expect(run("contains(cn, 'J.')")).toBe(true);
    expect(run("contains(values(ou), 'Delivering Crew')")).toBe(true);
    expect(run('length(cn)')).toBe(13);
    expect(run('length(values(mail))')).toBe(2);
    expect(run('length(objectGUID)', adUser)).toBe(16);
    expect(run('length(initials)')).toBe(0);
  });
});

describe('list functions', () => {
  it('find, filter, map, some, every, first, last', () => {
    expect(run("find(values(mail), m => endsWith(lower(m), '@example.com'))")).toBe('Philip.Fry@Example.com');
    expect(run("find(values(mail), m => endsWith(m, '@nowhere'))")).toBeNull();
    expect(run("filter(values(mail), m => contains(m, 'fry'))")).toEqual(['fry@planetexpress.com']);
    expect(run("map(values(mail), m => substringBefore(m, '@'))")).toEqual(['fry', 'Philip.Fry']);
    expect(run("some(values(mail), m => endsWith(m, '.com'))")).toBe(true);
    expect(run("every(values(mail), m => endsWith(m, '@planetexpress.com'))")).toBe(false);
    expect(run('every(values(initials), m => false)')).toBe(true);
    expect(run('first(values(mail))')).toBe('fry@planetexpress.com');
    expect(run('last(values(mail))')).toBe('Philip.Fry@Example.com');
    expect(run('first(values(initials))')).toBeNull();
  });

  it('nests lambdas, each seeing its own parameter and the outer ones', () => {
    expect(run("map(values(mail), m => join(map(split(m, '@'), p => p + '/' + m), ' '))")).toEqual([
      'fry/fry@planetexpress.com planetexpress.com/fry@planetexpress.com',
      'Philip.Fry/Philip.Fry@Example.com Example.com/Philip.Fry@Example.com',
    ]);
    // A lambda parameter hides the attribute of the same name.
    expect(run('map(values(mail), cn => cn)')).toEqual(['fry@planetexpress.com', 'Philip.Fry@Example.com']);
  });

  it('bounds the work on one entry', () => {
    const big = makeEntry('cn=x', { description: 'x'.repeat(400) });
    const err = runtimeError("length(map(split(description, ''), a => join(map(split(description, ''), b => a + b), '')))", big);
    expect(err.code).toBe('dsl.runtime');
    expect(err.message).toContain('steps');
  });
});

describe('conversions', () => {
  it('int, number, string, bool', () => {
    expect(run("int(' 42 ')")).toBe(42);
    expect(run('int(4.7)')).toBe(4);
    expect(run('int(initials)')).toBeNull();
    expect(run("number('4.5e1')")).toBe(45);
    expect(run('string(42)')).toBe('42');
    expect(run('string(true)')).toBe('true');
    expect(run("string(attr('objectGUID'))", makeEntry('', { objectGUID: new TextEncoder().encode('abc') }))).toBe('abc');
    expect(run("[bool('TRUE'), bool('false'), bool('Yes'), bool('0'), bool(2), bool(initials)]")).toEqual([true, false, true, false, true, null]);
  });

  it('fail on text that is not what they convert, naming the function', () => {
    const entry = makeEntry('cn=x', { employeeNumber: 'abc', quota: '12.5', flag: 'maybe', big: '9007199254740993' });
    expect(runtimeError('int(employeeNumber)', entry)).toMatchObject({ code: 'dsl.runtime', span: { start: 0, end: 19 } });
    expect(runtimeError('int(employeeNumber)', entry).message).toContain('int()');
    expect(runtimeError('int(quota)', entry).code).toBe('dsl.runtime');
    expect(runtimeError('int(big)', entry).code).toBe('dsl.runtime');
    expect(runtimeError('number(employeeNumber)', entry).code).toBe('dsl.runtime');
    expect(runtimeError('bool(flag)', entry).code).toBe('dsl.runtime');
  });

  it('bytes: IEC and SI units, case-insensitive, rounded to a byte', () => {
    expect(run("bytes('1 GiB')")).toBe(1073741824);
    expect(run("bytes('1GB')")).toBe(1_000_000_000);
    expect(run("bytes('500 MB')")).toBe(500_000_000);
    expect(run("bytes('1.5 KiB')")).toBe(1536);
    expect(run("bytes('1.1 GiB')")).toBe(1181116006);
    expect(run("bytes('2 tib')")).toBe(2 * 2 ** 40);
    expect(run("bytes('10 kB')")).toBe(10_000);
    expect(run("bytes('7')")).toBe(7);
    expect(run("bytes('7 B')")).toBe(7);
    expect(run('bytes(1024)')).toBe(1024);
    expect(run('bytes(quota)', makeEntry('', { quota: '2 GiB' }))).toBe(2 * 2 ** 30);
    expect(runtimeError('bytes(quota)', makeEntry('', { quota: '2 GiBs' })).code).toBe('dsl.runtime');
    expect(runtimeError('bytes(quota)', makeEntry('', { quota: '-1 KB' })).code).toBe('dsl.runtime');
  });

  it('default and coalesce', () => {
    expect(run("default(initials, 'n/a')")).toBe('n/a');
    expect(run("default(sn, 'n/a')")).toBe('Fry');
    expect(run("coalesce(initials, nickname, givenName, 'x')")).toBe('Philip');
    expect(run('coalesce(initials, nickname)')).toBeNull();
  });
});

describe('DN functions', () => {
  it('rdn, parentDn, dnComponent, dnComponents', () => {
    expect(run('rdn(dn)')).toBe('Philip J. Fry');
    expect(run('parentDn(dn)')).toBe('ou=people,dc=planetexpress,dc=com');
    expect(run("dnComponent(dn, 'OU')")).toBe('people');
    expect(run("dnComponent(dn, 'o')")).toBeNull();
    expect(run("join(dnComponents(dn, 'dc'), '.')")).toBe('planetexpress.com');
    const escaped = makeEntry('cn=Smith\\, John+uid=js , ou=people;dc=example', {});
    expect(run('rdn(dn)', escaped)).toBe('Smith, John');
    expect(run("dnComponent(dn, 'uid')", escaped)).toBe('js');
    expect(run('parentDn(dn)', escaped)).toBe('ou=people;dc=example');
    expect(run('parentDn(dn)', makeEntry('dc=com', {}))).toBe('');
    expect(run('rdn(dn)', makeEntry('', {}))).toBeNull();
    expect(run('rdn(dn)', makeEntry('cn=Z\\C3\\AB', {}))).toBe('Zë');
  });

  it('normalizeDn and isMemberOf compare DNs, not spellings', () => {
    expect(run('normalizeDn(dn)', makeEntry('CN=Philip J. Fry, OU=People ,DC=PlanetExpress,DC=com', {}))).toBe(
      'cn=philip j. fry,ou=people,dc=planetexpress,dc=com',
    );
    expect(normalizeDn('uid=a+cn=B,dc=x')).toBe(normalizeDn('CN=b + UID=A, DC=X'));
    expect(normalizeDn('cn=a\\,b,dc=x')).toBe(normalizeDn('cn=a\\2Cb,dc=x'));
    expect(normalizeDn('not a dn')).toBeUndefined();
    expect(run("isMemberOf('CN=Ship_Crew, OU=People, DC=PlanetExpress, DC=com')")).toBe(true);
    expect(run("isMemberOf('cn=admin_staff,ou=people,dc=planetexpress,dc=com')")).toBe(false);
    expect(run("isMemberOf('cn=admin_staff,ou=people,dc=planetexpress,dc=com')", hermes)).toBe(true);
    expect(run("isMemberOf('cn=interns,ou=groups,dc=example,dc=com')", adUser)).toBe(true);
    expect(run("isMemberOf(concat('cn=', lower(ou), ',ou=people,dc=planetexpress,dc=com'))", makeEntry('', { ou: 'Ship_Crew', memberOf: 'cn=ship_crew,ou=people,dc=planetexpress,dc=com' }))).toBe(true);
    expect(run('isMemberOf(initials)')).toBe(false);
    expect(runtimeError('isMemberOf(cn)', fry).code).toBe('dsl.runtime');
    expect(runtimeError('rdn(cn)', makeEntry('', { cn: 'no equals sign' })).code).toBe('dsl.runtime');
  });
});

describe('LDAP and Active Directory formats', () => {
  it('filetime: ISO date, null for never', () => {
    expect(run('filetime(accountExpires)', adUser)).toBe('2024-01-17T21:20:00.000Z');
    expect(run('filetime(accountExpires)', adService)).toBeNull();
    expect(run("filetime('0')")).toBeNull();
    expect(run("filetime('116444736000000000')")).toBe('1970-01-01T00:00:00.000Z');
    expect(run("filetime('1')")).toBe('1601-01-01T00:00:00.000Z');
    expect(run('filetime(10000)')).toBe('1601-01-01T00:00:00.001Z');
    expect(runtimeError('filetime(accountExpires)', makeEntry('', { accountExpires: 'never' })).code).toBe('dsl.runtime');
    expect(runtimeError('filetime(accountExpires)', makeEntry('', { accountExpires: '9223372036854775808' })).code).toBe('dsl.runtime');
  });

  it('generalizedTime: every RFC 4517 form to ISO in UTC', () => {
    expect(run('generalizedTime(whenChanged)', adUser)).toBe('2024-01-31T12:34:56.000Z');
    expect(run('generalizedTime(whenChanged)', adService)).toBe('2023-12-24T00:00:00.000Z');
    const times: Record<string, string> = {
      '20240229235959Z': '2024-02-29T23:59:59.000Z',
      '20240101120000.123Z': '2024-01-01T12:00:00.123Z',
      '20240101120000,5Z': '2024-01-01T12:00:00.500Z',
      '202401011200Z': '2024-01-01T12:00:00.000Z',
      '2024010112Z': '2024-01-01T12:00:00.000Z',
      '2024010112.5Z': '2024-01-01T12:30:00.000Z',
      '20240101120000+0130': '2024-01-01T10:30:00.000Z',
      '20240101003000-05': '2024-01-01T05:30:00.000Z',
      '20231231235960Z': '2024-01-01T00:00:00.000Z',
      '00010101000000Z': '0001-01-01T00:00:00.000Z',
    };
    for (const [input, iso] of Object.entries(times)) {
      expect(run('generalizedTime(t)', makeEntry('', { t: input }))).toBe(iso);
    }
    for (const bad of ['20230229000000Z', '20240101240000Z', '2024010112', '20240101120000', '2024-01-01', '20240101120000+2400', 'x']) {
      expect(runtimeError('generalizedTime(t)', makeEntry('', { t: bad })).code).toBe('dsl.runtime');
    }
  });

  it('guid: binary objectGUID in canonical form, first three fields little-endian', () => {
    expect(run('guid(objectGUID)', adUser)).toBe('665ad4fc-2ed1-4b4f-9a3e-0123456789ab');
    expect(run('guid(objectGUID)', adService)).toBe('00000000-0000-0000-0000-000000000000');
    expect(run('guid(entryUUID)', makeEntry('', { entryUUID: '665AD4FC-2ED1-4B4F-9A3E-0123456789AB' }))).toBe('665ad4fc-2ed1-4b4f-9a3e-0123456789ab');
    expect(runtimeError('guid(objectGUID)', makeEntry('', { objectGUID: Uint8Array.of(1, 2, 3) })).code).toBe('dsl.runtime');
  });

  it('sid, base64, hex', () => {
    expect(run('sid(objectSid)', adUser)).toBe('S-1-5-21-3623811015-3361044348-30300820-1013');
    expect(runtimeError('sid(objectSid)', makeEntry('', { objectSid: OBJECT_SID.slice(0, 20) })).code).toBe('dsl.runtime');
    expect(run('base64(objectGUID)', adUser)).toBe(Buffer.from(OBJECT_GUID).toString('base64'));
    expect(run('hex(objectGUID)', adUser)).toBe('fcd45a66d12e4f4b9a3e0123456789ab');
    expect(run("hex('A')")).toBe('41');
    expect(run("base64('Zoë')")).toBe('Wm/Dqw==');
  });
});

describe('the function list', () => {
  it('documents every function once', () => {
    const names = FUNCTIONS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const wanted of ['lower', 'upper', 'trim', 'concat', 'join', 'split', 'replace', 'substring', 'startsWith', 'endsWith', 'contains', 'length', 'first', 'last', 'values', 'find', 'filter', 'map', 'some', 'every', 'int', 'number', 'string', 'bool', 'bytes', 'default', 'coalesce', 'rdn', 'parentDn', 'dnComponent', 'normalizeDn', 'isMemberOf', 'filetime', 'generalizedTime', 'guid', 'sid', 'base64', 'hex', 'attr']) {
      expect(names).toContain(wanted);
    }
    for (const f of FUNCTIONS) expect(f.doc.length).toBeGreaterThan(10);
  });
});
