import type { BinaryNode, CallNode, Expr, IdentifierNode } from './ast.js';
import { assertNever } from './assert-never.js';
import { didYouMean } from '../shared/index.js';
import type { Span } from './dsl-error.js';
import { LIBRARY, arity, type LibraryFunction, type ListFunction, type PureFunction } from './library.js';
import type { Problem } from './problem.js';
import { isBinaryAttribute } from './runtime.js';
import {
  ANY,
  BOOLEAN,
  BYTES,
  LIST,
  NEVER,
  NULL,
  NUMBER,
  STRING,
  T_BOOLEAN,
  T_BYTES,
  T_NULL,
  T_NUMBER,
  T_STRING,
  containsBytes,
  describeType,
  isAssignable,
  listOf,
  nullLike,
  orNull,
  overlaps,
  typeOf,
  union,
  withoutNull,
  type StaticType,
} from './static-type.js';

/** What the expression's value must be: a target field's type, a value inside a map field, or anything. */
export type Expectation = 'string' | 'integer' | 'boolean' | 'map-entry' | 'any';

export interface CheckResult {
  readonly type: StaticType;
  readonly problems: ReadonlyArray<Problem>;
  /** Lower-cased attributes the expression reads ('memberof' for isMemberOf). */
  readonly attributes: ReadonlySet<string>;
}

/** Attribute descriptions: a name or an OID, with options (`userCertificate;binary`). */
const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)(?:;[A-Za-z0-9-=]+)*$/;

const S_N = typeOf(STRING | NULL);
const N_N = typeOf(NUMBER | NULL);
const B_N = typeOf(BOOLEAN | NULL);
const LIST_N = typeOf(LIST | NULL, ANY);

/**
 * Names, arity and types. A bare identifier is always valid (it is an LDAP attribute unless a lambda
 * parameter or `dn`), so the name errors are unknown functions; type errors are checked against the target
 * field. Every problem is collected; a sub-expression with an error gets the type NEVER, which fits
 * everywhere, so one mistake is reported once.
 */
export function check(ast: Expr, source: string, expect: Expectation): CheckResult {
  const checker = new Checker(source);
  const type = checker.node(ast);
  checker.expectRoot(ast, type, expect);
  return { type, problems: checker.problems, attributes: checker.attributes };
}

class Checker {
  readonly problems: Problem[] = [];
  readonly attributes = new Set<string>();
  readonly #scope: Array<{ readonly name: string; readonly type: StaticType }> = [];
  readonly #source: string;

  constructor(source: string) {
    this.#source = source;
  }

  #text(node: Expr): string {
    return this.#source.slice(node.span.start, node.span.end);
  }

  #problem(code: Problem['code'], span: Span, message: string, hint?: string): StaticType {
    this.problems.push({ code, message, span, hint });
    return NEVER;
  }

  #typeError(span: Span, message: string, hint?: string): StaticType {
    return this.#problem('dsl.type', span, message, hint);
  }

  /** The attribute an identifier names, unless it is a lambda parameter or `dn`. */
  #attributeOf(node: Expr): string | undefined {
    if (node.kind !== 'identifier' || node.name === 'dn') return undefined;
    if (this.#scope.some((s) => s.name === node.name)) return undefined;
    return node.name.toLowerCase();
  }

  #attributeType(key: string): StaticType {
    return isBinaryAttribute(key) ? T_BYTES : T_STRING;
  }

  expectRoot(node: Expr, type: StaticType, expect: Expectation): void {
    const got = describeType(type);
    switch (expect) {
      case 'string':
        if (!isAssignable(type, S_N)) this.#typeError(node.span, `this field holds text, the expression gives ${got}`, this.#convert(node, type, STRING));
        return;
      case 'integer':
        if (!isAssignable(type, N_N)) this.#typeError(node.span, `this field holds a whole number, the expression gives ${got}`, this.#convert(node, type, NUMBER));
        return;
      case 'boolean':
        if (isAssignable(type, B_N) && type.bits & NULL) {
          this.#typeError(node.span, 'this field holds true or false, the expression can be null', `add a fallback: ${this.#wrapped(node)} ?? false`);
        } else if (!isAssignable(type, T_BOOLEAN)) {
          this.#typeError(node.span, `this field holds true or false, the expression gives ${got}`, this.#convert(node, type, BOOLEAN));
        }
        return;
      case 'map-entry':
        if (containsBytes(type)) {
          this.#typeError(node.span, `a custom field holds text, numbers, booleans or lists of them, the expression gives ${got}`, this.#convert(node, type, STRING));
        }
        return;
      case 'any':
        return;
      default:
        assertNever(expect);
    }
  }

  #wrapped(node: Expr): string {
    const text = this.#text(node);
    return node.kind === 'identifier' || node.kind === 'call' || node.kind === 'literal' ? text : `(${text})`;
  }

  /** How to turn `node` (of type `actual`) into a value of kind `wanted`, as a hint. */
  #convert(node: Expr, actual: StaticType, wanted: number): string | undefined {
    const text = this.#text(node);
    const wrapped = this.#wrapped(node);
    if (wanted & LIST && !(actual.bits & LIST)) {
      const attribute = this.#attributeOf(node);
      if (attribute !== undefined) return `${text} is its first value; values(${text}) gives them all`;
      return undefined;
    }
    if (actual.bits & LIST && !(wanted & LIST)) {
      return wanted & STRING ? `join(${text}, ', ') or first(${text})` : `first(${text})`;
    }
    if (actual.bits & BYTES && wanted & STRING) return `binary values convert with guid(${text}), sid(${text}), hex(${text}) or base64(${text})`;
    if (wanted & NUMBER && actual.bits & STRING) {
      if (node.kind === 'literal' && typeof node.value === 'string' && /[a-z]/i.test(node.value)) return `a size? bytes(${text})`;
      return `convert it: int(${text})`;
    }
    if (wanted & STRING && actual.bits & (NUMBER | BOOLEAN)) return `convert it: string(${text})`;
    if (wanted & BOOLEAN && actual.bits & STRING) return `test it, e.g. ${wrapped} != null, or convert TRUE/FALSE text with bool(${text})`;
    if (wanted & BOOLEAN && actual.bits & NUMBER) return `compare it, e.g. ${wrapped} != 0`;
    return undefined;
  }

  node(node: Expr): StaticType {
    switch (node.kind) {
      case 'literal':
        return this.#literal(node.value);
      case 'list': {
        let element = NEVER;
        for (const item of node.items) element = union(element, this.node(item));
        return listOf(element);
      }
      case 'identifier':
        return this.#identifier(node);
      case 'unary': {
        const operand = this.node(node.operand);
        if (node.op === '!') {
          this.#operand(node.operand, operand, B_N, `'!' needs a boolean`);
          return T_BOOLEAN;
        }
        this.#operand(node.operand, operand, N_N, `'-' needs a number`);
        return nullLike(operand, T_NUMBER);
      }
      case 'binary':
        return this.#binary(node);
      case 'conditional': {
        const test = this.node(node.test);
        this.#operand(node.test, test, B_N, 'the condition of ?: must be a boolean');
        return union(this.node(node.consequent), this.node(node.alternate));
      }
      case 'index':
        return this.#index(node.object, node.index);
      case 'call':
        return this.#call(node);
      case 'lambda':
        this.#lambdaBody(node.param, NEVER, node.body);
        return this.#typeError(node.span, 'a lambda is only allowed as the second argument of find, filter, map, some or every');
      default:
        return assertNever(node);
    }
  }

  #literal(value: null | boolean | number | string): StaticType {
    if (value === null) return T_NULL;
    switch (typeof value) {
      case 'boolean':
        return T_BOOLEAN;
      case 'number':
        return T_NUMBER;
      case 'string':
        return T_STRING;
      default:
        return assertNever(value);
    }
  }

  #identifier(node: IdentifierNode): StaticType {
    for (let i = this.#scope.length - 1; i >= 0; i--) {
      const binding = this.#scope[i]!;
      if (binding.name === node.name) return binding.type;
    }
    if (node.name === 'dn') return T_STRING;
    const key = node.name.toLowerCase();
    this.attributes.add(key);
    return orNull(this.#attributeType(key));
  }

  /** Reports an operand that does not fit; returns whether it fits. */
  #operand(node: Expr, actual: StaticType, wanted: StaticType, message: string): boolean {
    if (isAssignable(actual, wanted)) return true;
    this.#typeError(node.span, `${message}, got ${describeType(actual)}`, this.#convert(node, actual, wanted.bits));
    return false;
  }

  #binary(node: BinaryNode): StaticType {
    const left = this.node(node.left);
    const right = this.node(node.right);
    switch (node.op) {
      case '&&':
      case '||':
        this.#operand(node.left, left, B_N, `'${node.op}' needs booleans`);
        this.#operand(node.right, right, B_N, `'${node.op}' needs booleans`);
        return T_BOOLEAN;
      case '??':
        return union(withoutNull(left), right);
      case '==':
      case '!=':
        if (!overlaps(left, right) && left.bits !== 0 && right.bits !== 0) {
          this.#typeError(
            node.span,
            `comparing ${describeType(left)} with ${describeType(right)} is always ${node.op === '==' ? 'false' : 'true'}`,
            left.bits & STRING && right.bits & NUMBER
              ? `convert it: int(${this.#text(node.left)}) ${node.op} ${this.#text(node.right)}`
              : right.bits & STRING && left.bits & NUMBER
                ? `convert it: ${this.#text(node.left)} ${node.op} int(${this.#text(node.right)})`
                : undefined,
          );
        }
        return T_BOOLEAN;
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (!(isAssignable(left, N_N) && isAssignable(right, N_N)) && !(isAssignable(left, S_N) && isAssignable(right, S_N))) {
          const numeric = (left.bits | right.bits) & NUMBER;
          this.#typeError(
            node.span,
            `'${node.op}' compares two numbers or two strings, not ${describeType(left)} and ${describeType(right)}`,
            numeric ? `convert the text with int(…)` : undefined,
          );
        }
        return T_BOOLEAN;
      case 'in':
        this.#operand(node.right, right, LIST_N, `'in' needs a list on its right`);
        return T_BOOLEAN;
      case '&': {
        const ok = this.#operand(node.left, left, N_N, `'&' needs numbers`) && this.#operand(node.right, right, N_N, `'&' needs numbers`);
        return ok ? nullLike(union(left, right), T_NUMBER) : NEVER;
      }
      case '+':
        return this.#plus(node, left, right);
      case '-':
      case '*':
      case '/':
      case '%': {
        const ok =
          this.#operand(node.left, left, N_N, `'${node.op}' needs numbers`) &&
          this.#operand(node.right, right, N_N, `'${node.op}' needs numbers`);
        return ok ? nullLike(union(left, right), T_NUMBER) : NEVER;
      }
      default:
        return assertNever(node.op);
    }
  }

  #plus(node: BinaryNode, left: StaticType, right: StaticType): StaticType {
    const nulls = (left.bits | right.bits) & NULL ? T_NULL : NEVER;
    if (isAssignable(left, N_N) && isAssignable(right, N_N)) return left.bits === 0 || right.bits === 0 ? NEVER : union(T_NUMBER, nulls);
    if (isAssignable(left, S_N) && isAssignable(right, S_N)) return union(T_STRING, nulls);
    if (isAssignable(left, LIST_N) && isAssignable(right, LIST_N)) return union(listOf(union(left.element ?? NEVER, right.element ?? NEVER)), nulls);
    const number = (t: StaticType): boolean => (t.bits & NUMBER) !== 0;
    const string = (t: StaticType): boolean => (t.bits & STRING) !== 0;
    let hint: string | undefined;
    if (string(left) && number(right)) hint = `for arithmetic: int(${this.#text(node.left)}) + …; for text: … + string(${this.#text(node.right)}) or concat(…)`;
    else if (number(left) && string(right)) hint = `for arithmetic: … + int(${this.#text(node.right)}); for text: string(${this.#text(node.left)}) + … or concat(…)`;
    return this.#typeError(
      node.span,
      `'+' adds two numbers, joins two strings or two lists; not ${describeType(left)} and ${describeType(right)}`,
      hint,
    );
  }

  #index(object: Expr, index: Expr): StaticType {
    const attribute = this.#attributeOf(object);
    let list: StaticType;
    if (attribute !== undefined) {
      // `mail[1]` is the second value of mail, not a character of the first.
      this.attributes.add(attribute);
      list = listOf(this.#attributeType(attribute));
    } else {
      list = this.node(object);
      if (!this.#operand(object, list, LIST_N, 'only a list can be indexed')) list = NEVER;
    }
    this.#operand(index, this.node(index), N_N, 'an index must be a number');
    return orNull(list.bits & LIST ? (list.element ?? NEVER) : NEVER);
  }

  #call(node: CallNode): StaticType {
    const fn = LIBRARY.get(node.callee);
    if (fn === undefined) {
      const suggestion = didYouMean(node.callee, LIBRARY.keys());
      this.#problem(
        'dsl.unknown-function',
        node.calleeSpan,
        `unknown function '${node.callee}'`,
        suggestion === undefined ? undefined : `did you mean '${suggestion}'?`,
      );
      for (const arg of node.args) {
        if (arg.kind === 'lambda') this.#lambdaBody(arg.param, NEVER, arg.body);
        else this.node(arg);
      }
      return NEVER;
    }
    const { min, max } = arity(fn);
    if (node.args.length < min || node.args.length > max) {
      const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      this.#problem(
        'dsl.arity',
        node.span,
        `${fn.name}() takes ${wanted} argument${min === 1 && max === 1 ? '' : 's'}, got ${node.args.length}`,
        `usage: ${fn.signature}`,
      );
      for (const arg of node.args) {
        if (arg.kind === 'lambda') this.#lambdaBody(arg.param, NEVER, arg.body);
        else this.node(arg);
      }
      return NEVER;
    }
    return this.#knownCall(fn, node);
  }

  #knownCall(fn: LibraryFunction, node: CallNode): StaticType {
    switch (fn.kind) {
      case 'pure':
        return this.#pureCall(fn, node);
      case 'list':
        return this.#listCall(fn, node);
      case 'values': {
        const key = this.#attributeArgument(node, true);
        return key === undefined ? NEVER : listOf(this.#attributeType(key));
      }
      case 'attr': {
        const key = this.#attributeArgument(node, false);
        return key === undefined ? NEVER : orNull(this.#attributeType(key));
      }
      case 'isMemberOf': {
        const arg = node.args[0]!;
        this.attributes.add('memberof');
        if (this.#notLambda(arg)) this.#operand(arg, this.node(arg), S_N, 'isMemberOf() needs a group DN');
        return T_BOOLEAN;
      }
      default:
        return assertNever(fn);
    }
  }

  #notLambda(arg: Expr): boolean {
    if (arg.kind !== 'lambda') return true;
    this.#lambdaBody(arg.param, NEVER, arg.body);
    this.#typeError(arg.span, 'a lambda is only allowed as the second argument of find, filter, map, some or every');
    return false;
  }

  /** values(mail), values('msDS-x'), attr('msDS-x'): the attribute is fixed when the mapping is loaded. */
  #attributeArgument(node: CallNode, identifierAllowed: boolean): string | undefined {
    const arg = node.args[0]!;
    if (identifierAllowed && arg.kind === 'identifier') {
      const key = this.#attributeOf(arg);
      if (key === undefined) {
        this.#typeError(arg.span, `values() takes an attribute name; '${arg.name}' is ${arg.name === 'dn' ? "the entry's DN" : 'a lambda parameter'}`);
        return undefined;
      }
      this.attributes.add(key);
      return key;
    }
    if (arg.kind === 'literal' && typeof arg.value === 'string') {
      if (!ATTRIBUTE_NAME.test(arg.value)) {
        this.#typeError(arg.span, `'${arg.value}' is not an LDAP attribute name`);
        return undefined;
      }
      const key = arg.value.toLowerCase();
      this.attributes.add(key);
      return key;
    }
    if (this.#notLambda(arg)) this.node(arg);
    this.#typeError(
      arg.span,
      `${node.callee}() takes an attribute name written out, ${identifierAllowed ? 'values(mail) or ' : ''}${node.callee}('msDS-x')`,
    );
    return undefined;
  }

  #pureCall(fn: PureFunction, node: CallNode): StaticType {
    const types: StaticType[] = [];
    let ok = true;
    node.args.forEach((arg, i) => {
      if (!this.#notLambda(arg)) {
        ok = false;
        types.push(NEVER);
        return;
      }
      const actual = this.node(arg);
      types.push(actual);
      const param = fn.params[Math.min(i, fn.params.length - 1)]!;
      ok = this.#operand(arg, actual, param, `${fn.name}() argument ${i + 1} must be ${describeType(param)}`) && ok;
    });
    if (!ok) return NEVER;
    const refined = fn.refine?.(types);
    if (refined !== undefined) {
      const arg = node.args[refined.arg]!;
      return this.#typeError(arg.span, refined.message, this.#convert(arg, types[refined.arg]!, STRING));
    }
    return fn.result(types);
  }

  #listCall(fn: ListFunction, node: CallNode): StaticType {
    const [listArg, lambdaArg] = node.args as [Expr, Expr];
    let list = NEVER;
    if (this.#notLambda(listArg)) {
      const actual = this.node(listArg);
      if (this.#operand(listArg, actual, LIST_N, `${fn.name}() needs a list first`)) list = actual;
    }
    const element = list.bits & LIST ? (list.element ?? NEVER) : NEVER;
    if (lambdaArg.kind !== 'lambda') {
      this.node(lambdaArg);
      return this.#typeError(lambdaArg.span, `${fn.name}() needs a function as its second argument`, `e.g. ${fn.signature}`);
    }
    const body = this.#lambdaBody(lambdaArg.param, element, lambdaArg.body);
    switch (fn.name) {
      case 'find':
      case 'filter':
      case 'some':
      case 'every':
        this.#operand(lambdaArg.body, body, B_N, `the condition of ${fn.name}() must be a boolean`);
        return fn.name === 'find' ? orNull(element) : fn.name === 'filter' ? listOf(element) : T_BOOLEAN;
      case 'map':
        return listOf(body);
      default:
        return assertNever(fn.name);
    }
  }

  #lambdaBody(param: string, type: StaticType, body: Expr): StaticType {
    this.#scope.push({ name: param, type });
    try {
      return this.node(body);
    } finally {
      this.#scope.pop();
    }
  }
}
