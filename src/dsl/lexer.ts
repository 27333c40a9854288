import type { Span } from './dsl-error.js';
import type { Problem } from './problem.js';

export type Punct =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '&&' | '||' | '!' | '??' | '?' | ':' | '&'
  | '(' | ')' | '[' | ']' | ',' | '=>' | '.';

export type Token =
  | { readonly kind: 'number'; readonly value: number; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'identifier'; readonly name: string; readonly span: Span }
  | { readonly kind: 'punct'; readonly op: Punct; readonly span: Span }
  | { readonly kind: 'eof'; readonly span: Span };

export type LexResult =
  | { readonly ok: true; readonly tokens: ReadonlyArray<Token> }
  | { readonly ok: false; readonly problem: Problem };

// Longest first, so `<=` is not read as `<` then `=`.
const PUNCTS: ReadonlyArray<Punct> = [
  '==', '!=', '<=', '>=', '&&', '||', '??', '=>',
  '+', '-', '*', '/', '%', '<', '>', '!', '?', ':', '&', '(', ')', '[', ']', ',', '.',
];

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', "'": "'", '"': '"', '/': '/', n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0',
};

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}

function isIdentPart(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}

class LexError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

function problem(code: Problem['code'], message: string, start: number, end: number, hint?: string): LexError {
  return new LexError({ code, message, span: { start, end }, hint });
}

/** Splits an expression into tokens; stops at the first error, since what follows a bad token is guesswork. */
export function tokenize(source: string): LexResult {
  const tokens: Token[] = [];
  try {
    let i = 0;
    while (i < source.length) {
      const c = source[i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        i++;
      } else if (isDigit(c)) {
        i = readNumber(source, i, tokens);
      } else if (c === '"' || c === "'") {
        i = readString(source, i, tokens);
      } else if (isIdentStart(c)) {
        const start = i;
        while (isIdentPart(source[i])) i++;
        tokens.push({ kind: 'identifier', name: source.slice(start, i), span: { start, end: i } });
      } else {
        i = readPunct(source, i, tokens);
      }
    }
  } catch (err) {
    if (err instanceof LexError) return { ok: false, problem: err.problem };
    throw err;
  }
  tokens.push({ kind: 'eof', span: { start: source.length, end: source.length } });
  return { ok: true, tokens };
}

function readNumber(source: string, start: number, tokens: Token[]): number {
  let i = start;
  let value: number;
  if (source[i] === '0' && (source[i + 1] === 'x' || source[i + 1] === 'X')) {
    i += 2;
    const digitsStart = i;
    while (/[0-9a-fA-F]/.test(source[i] ?? '')) i++;
    if (i === digitsStart) throw problem('dsl.syntax', 'hexadecimal number without digits', start, i);
    value = Number.parseInt(source.slice(digitsStart, i), 16);
  } else {
    while (isDigit(source[i])) i++;
    if (source[i] === '.' && isDigit(source[i + 1])) {
      i++;
      while (isDigit(source[i])) i++;
    }
    if (source[i] === 'e' || source[i] === 'E') {
      let j = i + 1;
      if (source[j] === '+' || source[j] === '-') j++;
      if (isDigit(source[j])) {
        while (isDigit(source[j])) j++;
        i = j;
      }
    }
    value = Number(source.slice(start, i));
  }
  if (isIdentPart(source[i])) {
    let end = i;
    while (isIdentPart(source[end])) end++;
    throw problem('dsl.syntax', `invalid number '${source.slice(start, end)}'`, start, end);
  }
  if (!Number.isFinite(value)) throw problem('dsl.syntax', 'number out of range', start, i);
  const digitsOnly = /^(?:\d+|0[xX][0-9a-fA-F]+)$/.test(source.slice(start, i));
  if (digitsOnly && !Number.isSafeInteger(value)) {
    // 9223372036854775807 would silently become 9223372036854775808; big LDAP numbers stay strings.
    throw problem('dsl.syntax', 'integer too large to be exact', start, i, "write it as a string, e.g. '9223372036854775807'");
  }
  tokens.push({ kind: 'number', value, span: { start, end: i } });
  return i;
}

function readString(source: string, start: number, tokens: Token[]): number {
  const quote = source[start]!;
  let i = start + 1;
  let value = '';
  for (;;) {
    const c = source[i];
    if (c === undefined || c === '\n' || c === '\r') {
      throw problem('dsl.unterminated-string', 'unterminated string', start, i, `close it with ${quote}`);
    }
    if (c === quote) {
      i++;
      break;
    }
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    const e = source[i + 1];
    if (e === undefined) {
      throw problem('dsl.unterminated-string', 'unterminated string', start, i + 1, `close it with ${quote}`);
    }
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined && !(e === '0' && isDigit(source[i + 2]))) {
      value += simple;
      i += 2;
    } else if (e === 'x') {
      const hex = source.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw problem('dsl.syntax', 'bad escape: \\x needs two hex digits', i, i + 2 + hex.length);
      value += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else if (e === 'u') {
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(source.slice(i + 2, i + 10));
      if (braced !== null) {
        const code = Number.parseInt(braced[1]!, 16);
        if (code > 0x10ffff) throw problem('dsl.syntax', 'bad escape: code point beyond U+10FFFF', i, i + 2 + braced[0].length);
        value += String.fromCodePoint(code);
        i += 2 + braced[0].length;
      } else {
        const hex = source.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw problem('dsl.syntax', 'bad escape: \\u needs four hex digits or {…}', i, i + 2);
        value += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      }
    } else {
      throw problem('dsl.syntax', `unknown escape \\${e}`, i, i + 2, 'write a backslash as \\\\');
    }
  }
  tokens.push({ kind: 'string', value, span: { start, end: i } });
  return i;
}

function readPunct(source: string, start: number, tokens: Token[]): number {
  for (const op of PUNCTS) {
    if (source.startsWith(op, start)) {
      tokens.push({ kind: 'punct', op, span: { start, end: start + op.length } });
      return start + op.length;
    }
  }
  const c = String.fromCodePoint(source.codePointAt(start)!);
  const end = start + c.length;
  switch (c) {
    case '=':
      throw problem('dsl.syntax', "unexpected '='", start, end, "compare with '=='");
    case '|':
      throw problem('dsl.syntax', "unexpected '|'", start, end, "'||' is or; for flag tests use '&'");
    case '`':
      throw problem('dsl.syntax', 'unexpected backquote', start, end, "quote strings with ' or \"");
    default:
      throw problem('dsl.syntax', `unexpected character '${c}'`, start, end);
  }
}
