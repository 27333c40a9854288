import { describe, expect, it } from 'vitest';
import { checkLdapFilter } from '../../src/ldap/filter-check.js';

describe('checkLdapFilter (RFC 4515, as ldapts parses it)', () => {
  it.each([
    '(objectClass=person)',
    'objectClass=person',
    '(&(objectClass=user)(objectCategory=person)(!(objectClass=computer)))',
    '(|(cn=*fry*)(mail=*@planetexpress.com))',
    '(cn=Fry \\28Philip\\29)',
    '(memberOf:1.2.840.113556.1.4.1941:=cn=ship_crew,ou=groups,dc=planetexpress,dc=com)',
    '(uidNumber>=1000)',
  ])('accepts %s', (filter) => {
    expect(checkLdapFilter(filter)).toEqual({ ok: true });
  });

  it.each([
    ['', 0, 'empty LDAP filter'],
    ['(&(objectClass=user)', 0, "this '(' is never closed"],
    ['(&(a=b)(c=d', 7, "this '(' is never closed"],
    ['(objectClass=user))', 18, "this ')' closes nothing"],
    ['(a=b)(c=d)', 5, 'two filters side by side'],
    ['(&(a=b)(cn~fry))', 8, 'invalid expression'],
    ['(=fry)', 1, 'invalid attribute name'],
    ['(&)', 0, "a '(' is missing"],
  ])('refuses %j at offset %i', (filter, offset, words) => {
    const result = checkLdapFilter(filter);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.offset).toBe(offset);
    expect(result.message).toContain(words);
  });
});
