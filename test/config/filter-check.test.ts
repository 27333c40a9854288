import { describe, expect, it } from 'vitest';
import { checkLdapFilter } from '../../src/ldap/filter-check.js';

describe('checkLdapFilter (RFC 4515, as the reader parses it)', () => {
  it.each([
    '(objectClass=person)',
    'objectClass=person',
    '(&(objectClass=user)(objectCategory=person)(!(objectClass=computer)))',
    '(|(cn=*fry*)(mail=*@planetexpress.com))',
    '(cn=Fry \\28Philip\\29)',
    '(memberOf:1.2.840.113556.1.4.1941:=cn=ship_crew,ou=groups,dc=planetexpress,dc=com)',
    '(uidNumber>=1000)',
    // Attribute options, numeric OIDs and RFC 4526's absolute true are valid; ldapts' parser refused them.
    '(cn;lang-nl=Fry)',
    '(2.5.4.3=Fry)',
    '(&)',
  ])('accepts %s', (filter) => {
    expect(checkLdapFilter(filter)).toEqual({ ok: true });
  });

  it.each([
    ['', 0, 'empty LDAP filter'],
    ['(&(objectClass=user)', 0, "this '(' is never closed"],
    ['(&(a=b)(c=d', 7, "this '(' is never closed"],
    ['(objectClass=user))', 18, "this ')' closes nothing"],
    ['(a=b)(c=d)', 5, 'two filters side by side'],
    ['(&(a=b)(cn~fry))', 10, '"~=" or ":=" is expected'],
    ['(=fry)', 1, 'an attribute name is expected'],
    ['(:=x)', 1, 'needs an attribute or a matching rule'],
  ])('refuses %j at offset %i', (filter, offset, words) => {
    const result = checkLdapFilter(filter);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.offset).toBe(offset);
    expect(result.message).toContain(words);
  });
});
