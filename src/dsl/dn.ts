import { normalizeDn as canonicalDn } from '../shared/index.js';

/**
 * Distinguished names as RFC 4514 writes them (and the RFC 2253/1779 leniencies seen in the wild: `;` as a
 * separator, quoted values, spaces around `=`, `,` and `+`).
 */

export interface Ava {
  /** As written (`CN`, `ou`, `2.5.4.3`). */
  readonly type: string;
  /** Unescaped; a `#hex` BER value is kept as written. */
  readonly value: string;
}

export interface Rdn {
  readonly avas: ReadonlyArray<Ava>;
  /** Offset in the DN text where this RDN starts. */
  readonly start: number;
}

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const SPECIALS = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The RDNs of a DN, most specific first; undefined if the text is not a DN. The empty DN has none. */
export function parseDn(text: string): ReadonlyArray<Rdn> | undefined {
  const rdns: Rdn[] = [];
  let i = skipSpaces(text, 0);
  if (i === text.length) return rdns;
  for (;;) {
    const start = i;
    const avas: Ava[] = [];
    for (;;) {
      const type = TYPE.exec(text.slice(i));
      if (type === null) return undefined;
      i = skipSpaces(text, i + type[0].length);
      if (text[i] !== '=') return undefined;
      i = skipSpaces(text, i + 1);
      const value = readValue(text, i);
      if (value === undefined) return undefined;
      avas.push({ type: type[0], value: value.value });
      i = skipSpaces(text, value.end);
      if (text[i] !== '+') break;
      i = skipSpaces(text, i + 1);
    }
    rdns.push({ avas, start });
    if (i === text.length) return rdns;
    if (text[i] !== ',' && text[i] !== ';') return undefined;
    i = skipSpaces(text, i + 1);
  }
}

function skipSpaces(text: string, i: number): number {
  while (text[i] === ' ') i++;
  return i;
}

function readValue(text: string, start: number): { value: string; end: number } | undefined {
  if (text[start] === '#') {
    let i = start + 1;
    while (/[0-9A-Fa-f]/.test(text[i] ?? '')) i++;
    const hex = i - start - 1;
    return hex === 0 || hex % 2 !== 0 ? undefined : { value: text.slice(start, i), end: i };
  }
  if (text[start] === '"') return readQuoted(text, start);
  let end = start;
  let escaped = false;
  while (end < text.length) {
    const c = text[end]!;
    if (c === ',' || c === '+' || c === ';') break;
    if (c === '\\') {
      escaped = true;
      end++;
    }
    end++;
  }
  if (end > text.length) return undefined;
  if (!escaped) {
    // The common case: nothing to unescape, only unescaped trailing spaces to drop.
    let last = end;
    while (last > start && text[last - 1] === ' ') last--;
    return { value: text.slice(start, last), end };
  }
  const value = unescapeValue(text, start, end);
  return value === undefined ? undefined : { value, end };
}

/** Unescapes `\,`-style and `\c3\a9`-style (UTF-8 bytes) escapes; unescaped trailing spaces are not part of the value. */
function unescapeValue(text: string, start: number, end: number): string | undefined {
  let value = '';
  let bytes: number[] = [];
  let keptLength = 0;
  let i = start;
  while (i < end) {
    const c = text[i]!;
    if (c === '\\' && HEX_PAIR.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    if (bytes.length > 0) {
      const decoded = decodeUtf8(bytes);
      if (decoded === undefined) return undefined;
      value += decoded;
      keptLength = value.length;
      bytes = [];
    }
    if (c === '\\') {
      const special = text[i + 1];
      if (special === undefined || !SPECIALS.has(special)) return undefined;
      value += special;
      keptLength = value.length;
      i += 2;
      continue;
    }
    value += c;
    if (c !== ' ') keptLength = value.length;
    i++;
  }
  if (bytes.length > 0) {
    const decoded = decodeUtf8(bytes);
    if (decoded === undefined) return undefined;
    value += decoded;
    keptLength = value.length;
  }
  return value.slice(0, keptLength);
}

function decodeUtf8(bytes: ReadonlyArray<number>): string | undefined {
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return undefined;
      value += next;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  return undefined;
}

/** The canonical DN form every stage compares with (`shared/dn.ts`), or undefined for text that is not a DN. */
export function normalizeDn(text: string): string | undefined {
  try {
    return canonicalDn(text);
  } catch {
    return undefined;
  }
}
