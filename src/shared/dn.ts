import { LdapsyncError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const HEX = /^[0-9a-fA-F]{2}$/;
const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;
/** Characters RFC 4514 requires to be escaped anywhere in a value (besides leading # and space, trailing space). */
const ESCAPED = new Set(['"', '+', ',', ';', '<', '>', '\\', '\0']);

/**
 * A DN in one canonical form, for comparing DNs: the same entry written by different servers, users or tools
 * normalises to the same string. Attribute types and values are lower-cased (the case-ignore matching of the
 * usual naming attributes), `\2C`, `\,` and `\C3\A9` escapes are decoded and re-escaped one way, spaces around
 * `,`, `+` and `=` and leading, trailing and repeated spaces in values are dropped, and the values of a
 * multi-valued RDN are sorted. `#hex` values are kept as (lower-case) hex. Throws `ldap.invalid-dn` for text
 * that is not a DN.
 */
export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map((rdn) =>
      rdn
        .map(({ type, value }) => `${type}=${value}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

interface Ava {
  readonly type: string;
  /** Already in canonical, escaped form. */
  readonly value: string;
}

function parseDn(dn: string): Ava[][] {
  const rdns: Ava[][] = [];
  let i = skipSpaces(dn, 0);
  if (i === dn.length) return rdns;
  let rdn: Ava[] = [];
  for (;;) {
    const equals = dn.indexOf('=', i);
    if (equals === -1) throw invalid(dn, i, 'expected "type=value"');
    let type = dn.slice(i, equals).trim().toLowerCase();
    if (type.startsWith('oid.')) type = type.slice(4);
    if (!TYPE.test(type)) throw invalid(dn, i, `"${dn.slice(i, equals).trim()}" is not an attribute type`);
    i = skipSpaces(dn, equals + 1);
    const { value, end } = readValue(dn, i);
    rdn.push({ type, value });
    i = skipSpaces(dn, end);
    if (i === dn.length) {
      rdns.push(rdn);
      return rdns;
    }
    const separator = dn[i];
    if (separator === ',' || separator === ';') {
      rdns.push(rdn);
      rdn = [];
    } else if (separator !== '+') {
      throw invalid(dn, i, `unexpected "${separator ?? ''}"`);
    }
    i = skipSpaces(dn, i + 1);
  }
}

function readValue(dn: string, start: number): { value: string; end: number } {
  if (dn[start] === '#') {
    let end = start + 1;
    while (end < dn.length && /[0-9a-fA-F]/.test(dn[end] ?? '')) end++;
    if ((end - start - 1) % 2 !== 0 || end === start + 1) throw invalid(dn, start, 'a #hex value needs pairs of hex digits');
    return { value: dn.slice(start, end).toLowerCase(), end };
  }
  if (dn[start] === '"') return readQuoted(dn, start);
  let text = '';
  const bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length === 0) return;
    try {
      text += utf8.decode(Uint8Array.from(bytes));
    } catch {
      throw invalid(dn, start, 'hex escapes that are not UTF-8');
    }
    bytes.length = 0;
  };
  let i = start;
  while (i < dn.length) {
    const c = dn[i] as string;
    if (c === ',' || c === '+' || c === ';') break;
    if (c === '\\') {
      const pair = dn.slice(i + 1, i + 3);
      if (HEX.test(pair)) {
        bytes.push(Number.parseInt(pair, 16));
        i += 3;
        continue;
      }
      const escaped = dn[i + 1];
      if (escaped === undefined) throw invalid(dn, i, 'a DN cannot end with "\\"');
      flush();
      text += escaped;
      i += 2;
      continue;
    }
    // An unescaped "=" is tolerated (it is common in the wild); these are not:
    if (c === '"' || c === '<' || c === '>' || c === '\0') throw invalid(dn, i, `"${c}" must be escaped`);
    flush();
    text += c;
    i++;
  }
  flush();
  return { value: canonicalValue(text), end: i };
}

function readQuoted(dn: string, start: number): { value: string; end: number } {
  let text = '';
  let i = start + 1;
  while (i < dn.length && dn[i] !== '"') {
    if (dn[i] === '\\' && i + 1 < dn.length) i++;
    text += dn[i];
    i++;
  }
  if (i >= dn.length) throw invalid(dn, start, 'unterminated quoted value');
  return { value: canonicalValue(text), end: i + 1 };
}

/** Case-ignore matching: lower case, NFC, insignificant spaces removed; then escaped the one canonical way. */
function canonicalValue(text: string): string {
  const value = text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (ESCAPED.has(c) || (i === 0 && c === '#')) out += `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

function skipSpaces(text: string, i: number): number {
  while (text[i] === ' ') i++;
  return i;
}

function invalid(dn: string, at: number, why: string): LdapsyncError {
  return new LdapsyncError('ldap.invalid-dn', `not a DN: ${why} at character ${at + 1} of ${JSON.stringify(dn)}`, { dn });
}
