import { Filter } from 'ldapts';

/**
 * A value made safe to put in an LDAP filter (RFC 4515 3): `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`,
 * `\29`, `\5c` and `\00`, so user input can only ever be a value, never filter syntax.
 */
export function escapeFilterValue(value: string): string {
  return Filter.escape(value);
}
