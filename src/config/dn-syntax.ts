export type DnSyntax =
  | { readonly ok: true }
  | { readonly ok: false; readonly offset: number; readonly message: string };

const SPECIAL = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
const MUST_ESCAPE = new Set(['"', ';', '<', '>', '\u0000']);
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Checks a DN against the string syntax of RFC 4514 (`cn=Bender Rodriguez,ou=people,dc=planetexpress,dc=com`):
 * attribute types as names or numeric OIDs, `+` for multi-valued RDNs, `\` escapes of specials or hex pairs,
 * `#` hex values. Like OpenLDAP and AD it also accepts spaces around `,`, `+` and `=`, which RFC 1779 allowed
 * and people write (`dc=example, dc=com`). The empty DN is refused: nothing here means the root DSE.
 * On failure, `offset` is the index in `dn` of the offending character.
 */
export function checkDnSyntax(dn: string): DnSyntax {
  let pos = 0;
  const fail = (offset: number, message: string): DnSyntax => ({ ok: false, offset, message });
  const skipSpaces = (): void => {
    while (dn.charAt(pos) === ' ') pos++;
  };
  skipSpaces();
  if (pos >= dn.length) return fail(0, 'empty DN');
  for (;;) {
    // One attributeTypeAndValue.
    skipSpaces();
    const typeStart = pos;
    if (/[A-Za-z]/.test(dn.charAt(pos))) {
      while (/[A-Za-z0-9-]/.test(dn.charAt(pos))) pos++;
    } else if (/[0-9]/.test(dn.charAt(pos))) {
      while (/[0-9.]/.test(dn.charAt(pos))) pos++;
      const oid = dn.slice(typeStart, pos);
      if (!/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/.test(oid)) return fail(typeStart, `'${oid}' is not a numeric OID`);
    } else {
      return fail(pos, pos >= dn.length ? 'DN ends where an attribute type (such as cn or ou) is expected' : 'expected an attribute type such as cn, ou or dc');
    }
    const type = dn.slice(typeStart, pos);
    skipSpaces();
    if (dn.charAt(pos) !== '=') {
      return fail(pos, pos >= dn.length ? `'${type}' has no '=' and value` : `expected '=' after attribute type '${type}'`);
    }
    pos++;
    skipSpaces();
    if (dn.charAt(pos) === '#') {
      const hexStart = pos;
      pos++;
      while (HEX.test(dn.slice(pos, pos + 2))) pos += 2;
      if (pos === hexStart + 1 || (pos < dn.length && !/[ ,+]/.test(dn.charAt(pos)))) {
        return fail(pos, "a value starting with '#' is hex-encoded BER (pairs of hex digits); write '\\#' for a literal '#'");
      }
      skipSpaces();
    } else {
      while (pos < dn.length && dn.charAt(pos) !== ',' && dn.charAt(pos) !== '+') {
        const c = dn.charAt(pos);
        if (c === '\\') {
          const next = dn.charAt(pos + 1);
          if (SPECIAL.has(next)) pos += 2;
          else if (HEX.test(dn.slice(pos + 1, pos + 3))) pos += 3;
          else return fail(pos, "'\\' must be followed by a space, one of \"#+,;<=>\\ or two hex digits");
        } else if (MUST_ESCAPE.has(c)) {
          return c === ';'
            ? fail(pos, "';' is not a separator in RFC 4514 DNs: use ',' (or write '\\;' for a literal ';')")
            : fail(pos, `'${c === '\u0000' ? '\\0' : c}' must be escaped in a DN value (write \\${c === '\u0000' ? '00' : c})`);
        } else {
          pos++;
        }
      }
    }
    if (dn.charAt(pos) === '+') {
      pos++;
      continue;
    }
    if (pos >= dn.length) return { ok: true };
    // A ',' separating RDNs.
    const comma = pos;
    pos++;
    skipSpaces();
    if (pos >= dn.length) return fail(comma, "a DN cannot end with ','");
  }
}
