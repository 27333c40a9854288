import { describe, expect, it } from 'vitest';
import { tokenize, type Token } from '../../src/dsl/lexer.js';

function tokens(source: string): ReadonlyArray<Token> {
  const result = tokenize(source);
  if (!result.ok) throw new Error(`${result.problem.code}: ${result.problem.message}`);
  return result.tokens;
}

function problem(source: string): { code: string; span: { start: number; end: number } } {
  const result = tokenize(source);
  if (result.ok) throw new Error(`expected a lexer error for ${source}`);
  return { code: result.problem.code, span: result.problem.span };
}

describe('lexer', () => {
  it('splits an expression into tokens with spans', () => {
    expect(tokens("lower(mail) != 'x'")).toEqual([
      { kind: 'identifier', name: 'lower', span: { start: 0, end: 5 } },
      { kind: 'punct', op: '(', span: { start: 5, end: 6 } },
      { kind: 'identifier', name: 'mail', span: { start: 6, end: 10 } },
      { kind: 'punct', op: ')', span: { start: 10, end: 11 } },
      { kind: 'punct', op: '!=', span: { start: 12, end: 14 } },
      { kind: 'string', value: 'x', span: { start: 15, end: 18 } },
      { kind: 'eof', span: { start: 18, end: 18 } },
    ]);
  });

  it('reads the longest operator', () => {
    const ops = tokens('a <= b >= c == d && e || f ?? g => h').flatMap((t) => (t.kind === 'punct' ? [t.op] : []));
    expect(ops).toEqual(['<=', '>=', '==', '&&', '||', '??', '=>']);
  });

  it('reads decimal, fractional, exponent and hexadecimal numbers', () => {
    const values = tokens('42 4.5 1e3 2E-2 0x2 0XfF').flatMap((t) => (t.kind === 'number' ? [t.value] : []));
    expect(values).toEqual([42, 4.5, 1000, 0.02, 2, 255]);
  });

  it('reads both quote styles and every escape; quotes and backslashes cannot end a string early', () => {
    const strings = tokens(String.raw`'it\'s' "say \"hi\"" 'a\\' '\n\t\r' '\x41\u00e9\u{1F600}' '\/\0'`).flatMap((t) =>
      t.kind === 'string' ? [t.value] : [],
    );
    expect(strings).toEqual(["it's", 'say "hi"', 'a\\', '\n\t\r', 'Aé😀', '/\0']);
  });

  it('takes the other quote literally inside a string', () => {
    expect(tokens(`"it's" 'say "hi"'`).flatMap((t) => (t.kind === 'string' ? [t.value] : []))).toEqual(["it's", 'say "hi"']);
  });

  it('reports an unterminated string from its opening quote', () => {
    expect(problem("concat('abc")).toEqual({ code: 'dsl.unterminated-string', span: { start: 7, end: 11 } });
    expect(problem("'abc\\'")).toEqual({ code: 'dsl.unterminated-string', span: { start: 0, end: 6 } });
    // A string ends at the end of its line, so the error points there rather than at the end of the text.
    expect(problem("'abc\nmail")).toEqual({ code: 'dsl.unterminated-string', span: { start: 0, end: 4 } });
  });

  it('reports an unknown escape at the escape', () => {
    expect(problem("'a\\qb'")).toEqual({ code: 'dsl.syntax', span: { start: 2, end: 4 } });
    expect(problem("'\\x4'")).toEqual({ code: 'dsl.syntax', span: { start: 1, end: 5 } });
  });

  it('reports characters that are not part of the language', () => {
    expect(problem('mail = 1')).toEqual({ code: 'dsl.syntax', span: { start: 5, end: 6 } });
    expect(problem('a | b')).toEqual({ code: 'dsl.syntax', span: { start: 2, end: 3 } });
    expect(problem('`x`')).toEqual({ code: 'dsl.syntax', span: { start: 0, end: 1 } });
    expect(problem('mail # comment')).toEqual({ code: 'dsl.syntax', span: { start: 5, end: 6 } });
    expect(problem('é')).toEqual({ code: 'dsl.syntax', span: { start: 0, end: 1 } });
  });

  it('refuses numbers that cannot be exact or are glued to a name', () => {
    expect(problem('9223372036854775807')).toEqual({ code: 'dsl.syntax', span: { start: 0, end: 19 } });
    expect(problem('1e999')).toEqual({ code: 'dsl.syntax', span: { start: 0, end: 5 } });
    expect(problem('12abc')).toEqual({ code: 'dsl.syntax', span: { start: 0, end: 5 } });
    expect(problem('0x')).toEqual({ code: 'dsl.syntax', span: { start: 0, end: 2 } });
  });
});
