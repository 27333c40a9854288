import fc from 'fast-check';
import { EqualityFilter, FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { escapeFilterValue } from '../../src/ldap/index.js';

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes *, (, ), \\ and NUL, and nothing else', () => {
    expect(escapeFilterValue('*')).toBe('\\2a');
    expect(escapeFilterValue('(')).toBe('\\28');
    expect(escapeFilterValue(')')).toBe('\\29');
    expect(escapeFilterValue('\\')).toBe('\\5c');
    expect(escapeFilterValue('\0')).toBe('\\00');
    expect(escapeFilterValue('admin*)(uid=*))(|(uid=*')).toBe('admin\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a');
    expect(escapeFilterValue('Zoë Ångström')).toBe('Zoë Ångström');
  });

  it('always yields one equality filter matching exactly the value, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '*', '(', ')', '\\', '\0', '=', '|', '&', '!', ' ') }), (value) => {
        const filter = FilterParser.parseString(`(uid=${escapeFilterValue(value)})`);
        expect(filter).toBeInstanceOf(EqualityFilter);
        expect((filter as EqualityFilter).value).toBe(value);
      }),
    );
  });
});
