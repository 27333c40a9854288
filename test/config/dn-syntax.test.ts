import { describe, expect, it } from 'vitest';
import { checkDnSyntax } from '../../src/config/index.js';

describe('checkDnSyntax (RFC 4514)', () => {
  it.each([
    'dc=planetexpress,dc=com',
    'cn=Hubert J. Farnsworth,ou=people,dc=planetexpress,dc=com',
    'CN=Users,DC=example,DC=com',
    'cn=Fry\\, Philip J.,ou=people,dc=planetexpress,dc=com',
    'cn=\\#hash\\+plus\\;semi\\<lt\\>gt\\"quote\\\\backslash,dc=x',
    'cn=caf\\C3\\A9,dc=x',
    'cn=café,dc=x',
    'uid=fry+cn=Philip J. Fry,dc=x',
    '2.5.4.3=fry,dc=x',
    'cn=#04024869,dc=x',
    'cn=a=b,dc=x',
    'cn=,dc=x',
    'dc=example, dc=com',
    'cn = fry , dc = x',
    'cn=\\ leading and trailing\\ ,dc=x',
  ])('accepts %s', (dn) => {
    expect(checkDnSyntax(dn)).toEqual({ ok: true });
  });

  it.each([
    ['', 0],
    ['   ', 0],
    ['dc=example;dc=com', 10],
    ['dc=example,,dc=com', 11],
    ['dc=example,', 10],
    ['cn admin,dc=x', 3],
    ['cn', 2],
    ['=fry,dc=x', 0],
    ['c_n=fry,dc=x', 1],
    ['1.2.=fry', 0],
    ['cn=a"b,dc=x', 4],
    ['cn=a<b', 4],
    ['cn=a\\qb', 4],
    ['cn=a\\4', 4],
    ['cn=#zz,dc=x', 4],
    ['cn=#0402abc', 10],
    ['cn=a\u0000b', 4],
  ])('refuses %j at offset %i', (dn, offset) => {
    const result = checkDnSyntax(dn);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.offset).toBe(offset);
  });
});
