import { describe, expect, it } from 'vitest';
import type { Expr } from '../../src/dsl/ast.js';
import { MAX_SOURCE_LENGTH, parse } from '../../src/dsl/parser.js';

function ast(source: string): Expr {
  const result = parse(source);
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.code}: ${p.message}`).join('; '));
  return result.ast;
}

/** The tree as a compact s-expression, to assert shape and precedence. */
function shape(node: Expr): string {
  switch (node.kind) {
    case 'literal':
      return JSON.stringify(node.value);
    case 'list':
      return `[${node.items.map(shape).join(' ')}]`;
    case 'identifier':
      return node.name;
    case 'unary':
      return `(${node.op} ${shape(node.operand)})`;
    case 'binary':
      return `(${node.op} ${shape(node.left)} ${shape(node.right)})`;
    case 'conditional':
      return `(? ${shape(node.test)} ${shape(node.consequent)} ${shape(node.alternate)})`;
    case 'index':
      return `(idx ${shape(node.object)} ${shape(node.index)})`;
    case 'call':
      return `(${node.callee} ${node.args.map(shape).join(' ')})`.replace(' )', ')');
    case 'lambda':
      return `(=> ${node.param} ${shape(node.body)})`;
    default: {
      const unhandled: never = node;
      return unhandled;
    }
  }
}

function problems(source: string): Array<{ code: string; span: { start: number; end: number } }> {
  const result = parse(source);
  if (result.ok) throw new Error(`expected an error for ${source}`);
  return result.problems.map((p) => ({ code: p.code, span: p.span }));
}

describe('parser', () => {
  it('parses the Group-Office examples', () => {
    expect(shape(ast("ou != 'Delivering Crew'"))).toBe('(!= ou "Delivering Crew")');
    expect(shape(ast("find(values(mail), m => endsWith(lower(m), '@example.com')) ?? mail"))).toBe(
      '(?? (find (values mail) (=> m (endsWith (lower m) "@example.com"))) mail)',
    );
    expect(shape(ast("'ldap_homes/' + uid"))).toBe('(+ "ldap_homes/" uid)');
    expect(shape(ast('(int(userAccountControl) & 2) == 0'))).toBe('(== (& (int userAccountControl) 2) 0)');
  });

  it('binds & tighter than comparisons, so the parentheses of the AD example are optional', () => {
    expect(shape(ast('int(userAccountControl) & 2 == 0'))).toBe('(== (& (int userAccountControl) 2) 0)');
  });

  it('follows the precedence table', () => {
    expect(shape(ast('a + b * c - d % e'))).toBe('(- (+ a (* b c)) (% d e))');
    expect(shape(ast('a || b && c == d'))).toBe('(|| a (&& b (== c d)))');
    expect(shape(ast('a ?? b || c'))).toBe('(?? a (|| b c))');
    expect(shape(ast('!a == -b'))).toBe('(== (! a) (- b))');
    expect(shape(ast('a < b == c >= d'))).toBe('(== (< a b) (>= c d))');
    expect(shape(ast("ou in ['a', 'b'] && x"))).toBe('(&& (in ou ["a" "b"]) x)');
    expect(shape(ast('a ? b : c ? d : e'))).toBe('(? a b (? c d e))');
    expect(shape(ast('a ?? b ? c : d'))).toBe('(? (?? a b) c d)');
    expect(shape(ast('mail[1]'))).toBe('(idx mail 1)');
    expect(shape(ast("split(dn, ',')[0]"))).toBe('(idx (split dn ",") 0)');
    expect(shape(ast('[]'))).toBe('[]');
    expect(shape(ast("concat(a, b,)"))).toBe('(concat a b)');
    expect(shape(ast('null ?? true ?? false'))).toBe('(?? (?? null true) false)');
  });

  it('gives every node the span of its text; parentheses are part of it', () => {
    const node = ast('  (int(x) & 2) == 0 ');
    expect(node.span).toEqual({ start: 2, end: 19 });
    if (node.kind !== 'binary') throw new Error('not binary');
    expect(node.left.span).toEqual({ start: 2, end: 14 });
    expect(node.opSpan).toEqual({ start: 15, end: 17 });
    expect(node.right.span).toEqual({ start: 18, end: 19 });
    if (node.left.kind !== 'binary' || node.left.left.kind !== 'call') throw new Error('not a call');
    expect(node.left.left.calleeSpan).toEqual({ start: 3, end: 6 });
    expect(node.left.left.span).toEqual({ start: 3, end: 9 });
  });

  it('reports syntax errors at the offending token', () => {
    expect(problems('lower(mail')).toEqual([{ code: 'dsl.syntax', span: { start: 10, end: 10 } }]);
    expect(problems('mail mail')).toEqual([{ code: 'dsl.syntax', span: { start: 5, end: 9 } }]);
    expect(problems('(mail))')).toEqual([{ code: 'dsl.syntax', span: { start: 6, end: 7 } }]);
    expect(problems('a ? b')).toEqual([{ code: 'dsl.syntax', span: { start: 5, end: 5 } }]);
    expect(problems('1 +')).toEqual([{ code: 'dsl.syntax', span: { start: 3, end: 3 } }]);
    expect(problems('')).toEqual([{ code: 'dsl.syntax', span: { start: 0, end: 0 } }]);
    expect(problems('   ')).toEqual([{ code: 'dsl.syntax', span: { start: 3, end: 3 } }]);
    expect(problems('mail(1)(2)')).toEqual([{ code: 'dsl.syntax', span: { start: 7, end: 8 } }]);
    expect(problems('[1, 2')).toEqual([{ code: 'dsl.syntax', span: { start: 5, end: 5 } }]);
    expect(problems('in')).toEqual([{ code: 'dsl.syntax', span: { start: 0, end: 2 } }]);
  });

  it('allows lambdas only as call arguments', () => {
    expect(problems('x => x')).toEqual([{ code: 'dsl.syntax', span: { start: 0, end: 4 } }]);
    expect(problems('=> 1')).toEqual([{ code: 'dsl.syntax', span: { start: 0, end: 2 } }]);
    expect(shape(ast('map(values(mail), x => lower(x))'))).toBe('(map (values mail) (=> x (lower x)))');
  });

  it('has no properties; a forbidden property is named as such', () => {
    expect(problems('mail.length')).toEqual([{ code: 'dsl.syntax', span: { start: 4, end: 11 } }]);
    expect(problems('mail.constructor')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 5, end: 16 } }]);
  });

  it('rejects forbidden names wherever a name stands, with the position of each', () => {
    expect(problems('process.exit()')).toEqual([
      { code: 'dsl.forbidden-name', span: { start: 0, end: 7 } },
      { code: 'dsl.syntax', span: { start: 7, end: 12 } },
    ]);
    expect(problems('constructor')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 11 } }]);
    expect(problems('globalThis')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 10 } }]);
    expect(problems("lower(this) + __proto__")).toEqual([
      { code: 'dsl.forbidden-name', span: { start: 6, end: 10 } },
      { code: 'dsl.forbidden-name', span: { start: 14, end: 23 } },
    ]);
    expect(problems('require(x)')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 7 } }]);
    expect(problems('eval("1")')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 4 } }]);
    expect(problems('Function')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 8 } }]);
    expect(problems('import')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 6 } }]);
    expect(problems('prototype')).toEqual([{ code: 'dsl.forbidden-name', span: { start: 0, end: 9 } }]);
    expect(problems('map(values(mail), constructor => constructor)')).toEqual([
      { code: 'dsl.forbidden-name', span: { start: 18, end: 29 } },
      { code: 'dsl.forbidden-name', span: { start: 33, end: 44 } },
    ]);
  });

  it('bounds nesting and length instead of recursing without end', () => {
    expect(problems(`${'('.repeat(200)}1${')'.repeat(200)}`)[0]?.code).toBe('dsl.syntax');
    expect(problems(`${'!'.repeat(500)}true`)[0]?.code).toBe('dsl.syntax');
    expect(problems(`'${'a'.repeat(MAX_SOURCE_LENGTH)}'`)).toEqual([
      { code: 'dsl.syntax', span: { start: MAX_SOURCE_LENGTH, end: MAX_SOURCE_LENGTH + 2 } },
    ]);
    expect(shape(ast(`${'('.repeat(50)}1${')'.repeat(50)}`))).toBe('1');
  });
});
