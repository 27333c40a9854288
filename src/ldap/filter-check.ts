import { FilterParser } from 'ldapts';

export type FilterSyntax =
  | { readonly ok: true }
  | { readonly ok: false; readonly offset: number; readonly message: string };

/**
 * Checks an LDAP search filter (RFC 4515) the way the searches will parse it: with ldapts' own parser, so a
 * filter that passes here is one the client can send. ldapts accepts a filter missing its last `)` and
 * gives no positions, so parentheses are checked first (values must escape them as \28 and \29, so every
 * parenthesis is structure) and ldapts' failures are placed at the component they name.
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
    FilterParser.parseString(filter);
    return { ok: true };
  } catch (err: unknown) {
    return placeParserError(filter, err instanceof Error ? err.message : String(err));
  }
}

function placeParserError(filter: string, reason: string): FilterSyntax {
  // ldapts names the failing component after a colon: "Invalid attribute name: =x".
  const match = /^(Invalid [^:]*|Missing paren|Unbalanced parens[^:]*):\s*(.*?)(\. Full string:.*)?$/s.exec(reason);
  const what = match?.[1] ?? reason;
  const component = match?.[2] ?? '';
  const at = component !== '' ? filter.indexOf(component) : -1;
  const text = what === 'Missing paren' ? "a '(' is missing (an empty (&) or (|) is not supported)" : what.toLowerCase();
  return { ok: false, offset: Math.max(0, at), message: `invalid LDAP filter: ${text}` };
}
