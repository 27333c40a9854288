import { BerWriter, FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { encodeFilter, FilterSyntaxError, parseFilter } from '../../src/ldap/search-filter.js';

function ldaptsEncoding(text: string): Buffer {
  const writer = new BerWriter();
  FilterParser.parseString(text).write(writer);
  return writer.buffer;
}

describe('search filters', () => {
  it('encodes ASCII filters exactly as ldapts does', () => {
    const filters = [
      '(objectClass=inetOrgPerson)',
      'objectClass=person',
      '(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))',
      '(|(objectClass=groupOfNames)(objectClass=posixGroup)(objectClass=groupOfUniqueNames))',
      '(cn=*)',
      '(cn=Al*)',
      '(cn=*ice)',
      '(cn=A*l*i*ce)',
      '(uidNumber>=1000)',
      '(uidNumber<=2000)',
      '(sn~=smith)',
      '(cn:dn:2.4.6.8.10:=Barney)',
      '(cn:caseExactMatch:=Fred)',
      '(uid=tri\\28cky\\29\\2a\\5cuser)',
      '(uid=a\\00b)',
      '(memberOf=cn=admins,ou=groups,dc=example,dc=org)',
    ];
    for (const text of filters) expect(encodeFilter(parseFilter(text)).toString('hex'), text).toBe(ldaptsEncoding(text).toString('hex'));
  });

  it('sends escaped bytes as those bytes: UTF-8 text and binary values', () => {
    expect(encodeFilter(parseFilter('(cn=Jos\\c3\\a9)'))).toEqual(encodeFilter(parseFilter('(cn=José)')));
    const guid = parseFilter('(objectGUID=\\fc\\d4\\5a\\66\\1e\\3f\\44\\4a\\b0\\a9\\1c\\5e\\8f\\3d\\2a\\7b)');
    expect(guid).toEqual({ kind: 'equal', attribute: 'objectGUID', value: Uint8Array.from(Buffer.from('fcd45a661e3f444ab0a91c5e8f3d2a7b', 'hex')) });
  });

  it('keeps the trailing spaces of a value written without parentheses, as ldapts does', () => {
    expect(parseFilter('cn=a ')).toEqual({ kind: 'equal', attribute: 'cn', value: Uint8Array.from(Buffer.from('a ')) });
    expect(parseFilter('  (cn=a)  ')).toEqual({ kind: 'equal', attribute: 'cn', value: Uint8Array.from(Buffer.from('a')) });
  });

  it('accepts what RFC 4515 allows beyond ldapts: attribute options, OIDs, empty and/or, spaces between parts', () => {
    expect(parseFilter('(cn;lang-nl=Alice)')).toMatchObject({ kind: 'equal', attribute: 'cn;lang-nl' });
    expect(parseFilter('(2.5.4.3=Alice)')).toMatchObject({ kind: 'equal', attribute: '2.5.4.3' });
    expect(parseFilter('(&)')).toEqual({ kind: 'and', filters: [] });
    expect(parseFilter(' (& (a=b) (!(c=d)) ) ')).toMatchObject({ kind: 'and', filters: [{ kind: 'equal' }, { kind: 'not' }] });
    expect(parseFilter('(:dn:2.4.6.8.10:=x)')).toMatchObject({ kind: 'extensible', attribute: undefined, rule: '2.4.6.8.10', dnAttributes: true });
  });

  it('points at the offending character of a bad filter', () => {
    const offset = (text: string): number => {
      try {
        parseFilter(text);
      } catch (err) {
        expect(err).toBeInstanceOf(FilterSyntaxError);
        return (err as FilterSyntaxError).offset;
      }
      throw new Error(`${text} parsed`);
    };
    expect(offset('(cn=a(b)')).toBe(5);
    expect(offset('(cn=a\\zz)')).toBe(5);
    expect(offset('(=x)')).toBe(1);
    expect(offset('(&(a=b)')).toBe(7);
    expect(offset('(a=b))')).toBe(5);
    expect(offset('(cn?x)')).toBe(3);
    expect(offset('  cn=a(b')).toBe(6);
  });
});
