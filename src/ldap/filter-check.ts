import { FilterSyntaxError, parseFilter } from './search-filter.js';

export type FilterSyntax =
  | { readonly ok: true }
  | { readonly ok: false; readonly offset: number; readonly message: string };

/**
 * Checks an LDAP search filter (RFC 4515) the way the searches will parse it: with the reader's own parser
 * (`search-filter.ts`), so a filter that passes here is exactly one the reader can send. Parentheses are checked
 * first for the clearest messages (values must escape them as \28 and \29, so every parenthesis is structure).
 * `offset` is the index in `filter` of the offending character.
 */
export function checkLdapFilter(filter: string): FilterSyntax {
  if (filter.trim() === '') return { ok: false, offset: 0, message: 'empty LDAP filter' };
  const open: number[] = [];
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charAt(i);
    if (c === '(') {
      if (open.length === 0 && i > 0 && filter.slice(0, i).trim() !== '') {
        return { ok: false, offset: i, message: 'two filters side by side in LDAP filter: combine them with (&...) or (|...)' };
      }
      open.push(i);
    } else if (c === ')') {
      if (open.pop() === undefined) return { ok: false, offset: i, message: "unbalanced parentheses in LDAP filter: this ')' closes nothing" };
    }
  }
  const unclosed = open[0];
  if (unclosed !== undefined) {
    return { ok: false, offset: open[open.length - 1] ?? unclosed, message: "unbalanced parentheses in LDAP filter: this '(' is never closed" };
  }
  try {
    parseFilter(filter);
    return { ok: true };
  } catch (err: unknown) {
    if (err instanceof FilterSyntaxError) return { ok: false, offset: err.offset, message: `invalid LDAP filter: ${err.message}` };
    throw err;
  }
}
