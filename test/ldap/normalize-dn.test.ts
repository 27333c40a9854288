import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeDn } from '../../src/ldap/index.js';
import { LdapsyncError } from '../../src/shared/index.js';

describe('normalizeDn', () => {
  it('treats \\2C, \\2c and \\, as the same escaped comma (the server returns \\2C for what was written \\,)', () => {
    const written = 'cn=Smith\\, John,ou=people,dc=example,dc=org';
    const returned = 'cn=Smith\\2C John,ou=people,dc=example,dc=org';
    expect(normalizeDn(returned)).toBe(normalizeDn(written));
    expect(normalizeDn('cn=Smith\\2c John,ou=people,dc=example,dc=org')).toBe(normalizeDn(written));
    expect(normalizeDn(written)).toBe('cn=smith\\2c john,ou=people,dc=example,dc=org');
  });

  it('ignores the case of attribute types and values', () => {
    expect(normalizeDn('UID=Alice,OU=People,DC=Example,DC=Org')).toBe('uid=alice,ou=people,dc=example,dc=org');
  });

  it('drops spaces around separators and insignificant spaces in values', () => {
    expect(normalizeDn(' uid = alice , ou=people ,  dc=example,dc=org ')).toBe('uid=alice,ou=people,dc=example,dc=org');
    expect(normalizeDn('cn=John   Smith,dc=org')).toBe(normalizeDn('cn=John Smith,dc=org'));
  });

  it('decodes hex escapes of UTF-8 into characters, so escaped and raw non-ASCII DNs compare equal', () => {
    const escaped = 'cn=Jos\\C3\\A9 N\\C3\\BA\\C3\\B1ez,ou=people,dc=example,dc=org';
    const raw = 'cn=José Núñez,ou=people,dc=example,dc=org';
    expect(normalizeDn(escaped)).toBe(normalizeDn(raw));
    expect(normalizeDn(raw)).toBe('cn=josé núñez,ou=people,dc=example,dc=org');
    // Composed and decomposed forms of the same letter.
    expect(normalizeDn('cn=Zoe\u0308')).toBe(normalizeDn('cn=Zo\u00eb'));
  });

  it('sorts the values of a multi-valued RDN', () => {
    expect(normalizeDn('uid=jsmith+cn=John Smith,dc=org')).toBe(normalizeDn('cn=John Smith + uid=jsmith,dc=org'));
    expect(normalizeDn('uid=jsmith+cn=John Smith,dc=org')).toBe('cn=john smith+uid=jsmith,dc=org');
  });

  it('escapes special characters one canonical way', () => {
    expect(normalizeDn('cn=a\\+b\\;c\\<d\\>e\\"f\\\\g,dc=org')).toBe('cn=a\\2bb\\3bc\\3cd\\3ee\\22f\\5cg,dc=org');
    expect(normalizeDn('cn=\\#hash,dc=org')).toBe('cn=\\23hash,dc=org');
    expect(normalizeDn('cn="Smith, John",dc=org')).toBe(normalizeDn('cn=Smith\\, John,dc=org'));
  });

  it('keeps #hex values as hex and accepts ; as a separator', () => {
    expect(normalizeDn('uid=#04024869,dc=org')).toBe('uid=#04024869,dc=org');
    expect(normalizeDn('uid=#0402486A;DC=org')).toBe('uid=#0402486a,dc=org');
  });

  it('normalises the empty DN to itself', () => {
    expect(normalizeDn('')).toBe('');
  });

  it('rejects text that is not a DN', () => {
    for (const bad of ['alice', 'cn=a,', 'cn=a\\', '=a', 'cn=a,b', 'cn=\\ff', 'cn=a<b']) {
      expect(() => normalizeDn(bad), bad).toThrow(LdapsyncError);
      try {
        normalizeDn(bad);
      } catch (err) {
        expect((err as LdapsyncError).code).toBe('ldap.invalid-dn');
      }
    }
  });

  it('is idempotent: a normalised DN normalises to itself', () => {
    const value = fc.string({ unit: fc.constantFrom('a', 'B', ' ', ',', '+', '\\', '"', '#', '=', ';', '<', 'é', 'Ω', '0'), minLength: 1, maxLength: 12 });
    const escape = (text: string): string => text.replace(/[\\,+";<>=#]/g, (c) => `\\${c}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('cn', 'OU', 'dc', 'uid'), value), { minLength: 1, maxLength: 4 }), (rdns) => {
        const dn = rdns.map(([type, text]) => `${type}=${escape(text)}`).join(',');
        const once = normalizeDn(dn);
        expect(normalizeDn(once)).toBe(once);
      }),
    );
  });
});
