import type { BinaryOp, Expr } from './ast.js';
import type { Span } from './dsl-error.js';
import { tokenize, type Punct, type Token } from './lexer.js';
import { LIBRARY } from './library.js';
import { FORBIDDEN_NAMES, type Problem } from './problem.js';

/** Longer expressions are refused rather than risk deep recursion in the stages that walk the tree. */
export const MAX_SOURCE_LENGTH = 10_000;
/** Nesting levels: parentheses, calls, lists, indexes, conditionals and unary operators each add one. */
const MAX_DEPTH = 100;

export type ParseResult =
  | { readonly ok: true; readonly ast: Expr }
  | { readonly ok: false; readonly problems: ReadonlyArray<Problem> };

/**
 * Parses one expression. A syntax error ends parsing (the rest would be guesswork); a forbidden name is
 * recorded and parsing goes on, so one pass reports it together with any later syntax error.
 */
export function parse(source: string): ParseResult {
  if (source.length > MAX_SOURCE_LENGTH) {
    return fail({ code: 'dsl.syntax', message: `expression longer than ${MAX_SOURCE_LENGTH} characters`, span: { start: MAX_SOURCE_LENGTH, end: source.length } });
  }
  const lexed = tokenize(source);
  if (!lexed.ok) return fail(lexed.problem);
  const parser = new Parser(lexed.tokens, source);
  try {
    const ast = parser.parseRoot();
    return parser.problems.length === 0 ? { ok: true, ast } : fail(...parser.problems);
  } catch (err) {
    if (err instanceof SyntaxProblem) return fail(...parser.problems, err.problem);
    throw err;
  }
}

function fail(...problems: Problem[]): ParseResult {
  return { ok: false, problems };
}

class SyntaxProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

const EQUALITY: ReadonlyArray<Punct> = ['==', '!='];
const RELATIONAL: ReadonlyArray<Punct> = ['<', '<=', '>', '>='];
const ADDITIVE: ReadonlyArray<Punct> = ['+', '-'];
const MULTIPLICATIVE: ReadonlyArray<Punct> = ['*', '/', '%'];

function join(a: Span, b: Span): Span {
  return { start: a.start, end: b.end };
}

function forbiddenName(name: string, span: Span): Problem | undefined {
  if (!FORBIDDEN_NAMES.has(name)) return undefined;
  return {
    code: 'dsl.forbidden-name',
    message: `'${name}' is not allowed in a mapping expression`,
    span,
    hint: "to read an LDAP attribute of that name, use attr('name')",
  };
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of expression';
    case 'number':
      return `number ${token.value}`;
    case 'string':
      return 'string';
    case 'identifier':
      return `'${token.name}'`;
    case 'punct':
      return `'${token.op}'`;
    default: {
      const unhandled: never = token;
      return String(unhandled);
    }
  }
}

/**
 * Precedence, loosest first: `?:`, `??`, `||`, `&&`, `== !=`, `< <= > >= in`, `&`, `+ -`, `* / %`, unary `! -`,
 * then calls and indexing. `&` binds tighter than comparisons (as in Python and Go, unlike JavaScript), so
 * `int(userAccountControl) & 2 == 0` means what it says.
 */
class Parser {
  readonly problems: Problem[] = [];
  #pos = 0;
  #depth = 0;
  readonly #tokens: ReadonlyArray<Token>;
  readonly #source: string;

  constructor(tokens: ReadonlyArray<Token>, source: string) {
    this.#tokens = tokens;
    this.#source = source;
  }

  parseRoot(): Expr {
    if (this.#peek().kind === 'eof') throw this.#error(this.#peek().span, 'empty expression');
    const expr = this.#expression();
    const next = this.#peek();
    if (next.kind !== 'eof') {
      const hint = next.kind === 'punct' && next.op === ')' ? 'unbalanced parentheses' : undefined;
      throw this.#error(next.span, `unexpected ${describe(next)} after the expression`, hint);
    }
    return expr;
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #advance(): Token {
    const token = this.#tokens[this.#pos]!;
    if (token.kind !== 'eof') this.#pos++;
    return token;
  }

  #isPunct(op: Punct, offset = 0): boolean {
    const token = this.#tokens[this.#pos + offset];
    return token !== undefined && token.kind === 'punct' && token.op === op;
  }

  #matchAny(ops: ReadonlyArray<Punct>): Token & { kind: 'punct' } | undefined {
    const token = this.#peek();
    if (token.kind === 'punct' && ops.includes(token.op)) {
      this.#pos++;
      return token;
    }
    return undefined;
  }

  #expect(op: Punct, context: string): Token {
    const token = this.#peek();
    if (token.kind === 'punct' && token.op === op) return this.#advance();
    throw this.#error(token.span, `expected '${op}' ${context}, found ${describe(token)}`);
  }

  #error(span: Span, message: string, hint?: string): SyntaxProblem {
    return new SyntaxProblem({ code: 'dsl.syntax', message, span, hint });
  }

  #checkName(name: string, span: Span): void {
    const forbidden = forbiddenName(name, span);
    if (forbidden !== undefined) this.problems.push(forbidden);
  }

  #enter(span: Span): void {
    if (++this.#depth > MAX_DEPTH) throw this.#error(span, `expression nested deeper than ${MAX_DEPTH} levels`);
  }

  #leave(): void {
    this.#depth--;
  }

  #expression(): Expr {
    this.#enter(this.#peek().span);
    const test = this.#coalesce();
    let result: Expr = test;
    if (this.#matchAny(['?'])) {
      const consequent = this.#expression();
      this.#expect(':', "in 'condition ? then : else'");
      const alternate = this.#expression();
      result = { kind: 'conditional', test, consequent, alternate, span: join(test.span, alternate.span) };
    }
    this.#leave();
    return result;
  }

  #binaryLevel(ops: ReadonlyArray<Punct>, next: () => Expr): Expr {
    let left = next();
    for (let op = this.#matchAny(ops); op !== undefined; op = this.#matchAny(ops)) {
      const right = next();
      left = { kind: 'binary', op: op.op as BinaryOp, left, right, opSpan: op.span, span: join(left.span, right.span) };
    }
    return left;
  }

  #coalesce(): Expr {
    return this.#binaryLevel(['??'], () => this.#or());
  }

  #or(): Expr {
    return this.#binaryLevel(['||'], () => this.#and());
  }

  #and(): Expr {
    return this.#binaryLevel(['&&'], () => this.#equality());
  }

  #equality(): Expr {
    return this.#binaryLevel(EQUALITY, () => this.#relational());
  }

  #relational(): Expr {
    let left = this.#bitAnd();
    for (;;) {
      const token = this.#peek();
      const isIn = token.kind === 'identifier' && token.name === 'in';
      const op = isIn ? (this.#advance(), undefined) : this.#matchAny(RELATIONAL);
      if (!isIn && op === undefined) return left;
      const right = this.#bitAnd();
      left = {
        kind: 'binary',
        op: isIn ? 'in' : (op!.op as BinaryOp),
        left,
        right,
        opSpan: token.span,
        span: join(left.span, right.span),
      };
    }
  }

  #bitAnd(): Expr {
    return this.#binaryLevel(['&'], () => this.#additive());
  }

  #additive(): Expr {
    return this.#binaryLevel(ADDITIVE, () => this.#multiplicative());
  }

  #multiplicative(): Expr {
    return this.#binaryLevel(MULTIPLICATIVE, () => this.#unary());
  }

  #unary(): Expr {
    const op = this.#matchAny(['!', '-']);
    if (op === undefined) return this.#postfix();
    this.#enter(op.span);
    const operand = this.#unary();
    this.#leave();
    return { kind: 'unary', op: op.op as '!' | '-', operand, span: join(op.span, operand.span) };
  }

  #postfix(): Expr {
    let expr = this.#primary();
    for (;;) {
      const token = this.#peek();
      if (token.kind !== 'punct') return expr;
      if (token.op === '(') {
        if (expr.kind !== 'identifier') {
          throw this.#error(token.span, 'only a function name can be called', 'functions are called by name, e.g. lower(mail)');
        }
        expr = this.#call(expr.name, expr.span);
      } else if (token.op === '[') {
        this.#advance();
        const index = this.#expression();
        const close = this.#expect(']', 'to close the index');
        expr = { kind: 'index', object: expr, index, span: join(expr.span, close.span) };
      } else if (token.op === '.') {
        this.#advance();
        const property = this.#peek();
        if (property.kind === 'identifier') {
          const forbidden = forbiddenName(property.name, property.span);
          if (forbidden !== undefined) throw new SyntaxProblem(forbidden);
          const subject = this.#source.slice(expr.span.start, expr.span.end);
          throw this.#error(
            join(token.span, property.span),
            `expressions have no properties ('.${property.name}')`,
            LIBRARY.has(property.name)
              ? `call the function: ${property.name}(${subject})`
              : "to read an attribute with a dot in its name use attr('…')",
          );
        }
        throw this.#error(token.span, "unexpected '.'", "to read an attribute with a dot in its name use attr('…')");
      } else {
        return expr;
      }
    }
  }

  #call(callee: string, calleeSpan: Span): Expr {
    this.#advance();
    const args: Expr[] = [];
    if (!this.#isPunct(')')) {
      for (;;) {
        args.push(this.#argument());
        if (!this.#matchAny([','])) break;
        if (this.#isPunct(')')) break;
      }
    }
    const close = this.#expect(')', `to close the call of ${callee}()`);
    return { kind: 'call', callee, calleeSpan, args, span: join(calleeSpan, close.span) };
  }

  /** A call argument: an expression, or a lambda `x => body` (the only place a lambda may stand). */
  #argument(): Expr {
    const token = this.#peek();
    if (token.kind === 'identifier' && this.#isPunct('=>', 1)) {
      this.#checkName(token.name, token.span);
      this.#advance();
      this.#advance();
      const body = this.#expression();
      return { kind: 'lambda', param: token.name, paramSpan: token.span, body, span: join(token.span, body.span) };
    }
    return this.#expression();
  }

  #primary(): Expr {
    const token = this.#advance();
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value, span: token.span };
      case 'identifier':
        return this.#identifier(token.name, token.span);
      case 'punct':
        return this.#punctPrimary(token.op, token.span);
      case 'eof':
        throw this.#error(token.span, 'unexpected end of expression');
      default: {
        const unhandled: never = token;
        return unhandled;
      }
    }
  }

  #identifier(name: string, span: Span): Expr {
    switch (name) {
      case 'true':
        return { kind: 'literal', value: true, span };
      case 'false':
        return { kind: 'literal', value: false, span };
      case 'null':
        return { kind: 'literal', value: null, span };
      case 'in':
        throw this.#error(span, "unexpected 'in'", "'in' tests membership: x in values(attr)");
      default:
        break;
    }
    if (this.#isPunct('=>')) {
      throw this.#error(
        join(span, this.#peek().span),
        'a lambda is only allowed as an argument of find, filter, map, some or every',
      );
    }
    this.#checkName(name, span);
    return { kind: 'identifier', name, span };
  }

  #punctPrimary(op: Punct, span: Span): Expr {
    if (op === '(') {
      const inner = this.#expression();
      const close = this.#expect(')', 'to close the parenthesis');
      // The node takes the parentheses' span, so an error about `(a & 2)` underlines both of them.
      return { ...inner, span: join(span, close.span) };
    }
    if (op === '[') {
      const items: Expr[] = [];
      if (!this.#isPunct(']')) {
        for (;;) {
          items.push(this.#expression());
          if (!this.#matchAny([','])) break;
          if (this.#isPunct(']')) break;
        }
      }
      const close = this.#expect(']', 'to close the list');
      return { kind: 'list', items, span: join(span, close.span) };
    }
    const hint = op === '=>' ? 'a lambda needs a parameter name: x => …' : undefined;
    throw this.#error(span, `unexpected '${op}'`, hint);
  }
}
