import type { Entry } from '../shared/index.js';
import type { CallNode, Expr, LambdaNode } from './ast.js';
import { assertNever } from './assert-never.js';
import { EvalFault, attachSpan } from './dsl-error.js';
import { normalizeDn } from './dn.js';
import { normalizeMemberOf } from './frame.js';
import { LIBRARY } from './library.js';
import {
  STEP_LIMIT,
  add,
  arithmetic,
  asList,
  bitAnd,
  indexValue,
  isBinaryAttribute,
  member,
  negate,
  order,
  readAll,
  readFirst,
  stepLimitFault,
} from './runtime.js';
import { valueEquals, type Value } from './value.js';

/** Lambda parameters in scope, innermost first. */
interface Scope {
  readonly name: string;
  readonly value: Value;
  readonly parent: Scope | undefined;
}

export interface State {
  readonly entry: Entry;
  steps: number;
}

/**
 * The reference evaluator: walks the AST for every entry, resolving names and looking up functions as it
 * goes, with no precomputation and no constant folding. It is the second opinion the compiled closures are
 * tested against (and the baseline of bench/mapping.ts), so it favours being obviously right over speed.
 * A mapping evaluates all its fields with one State, so they share the step budget.
 */
export function evaluate(node: Expr, scope: Scope | undefined, state: State): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'list':
      return node.items.map((item) => evaluate(item, scope, state));
    case 'identifier':
      return lookup(node.name, scope, state.entry);
    case 'unary': {
      const operand = evaluate(node.operand, scope, state);
      return node.op === '!' ? operand !== true : negate(operand, node.span);
    }
    case 'binary': {
      const op = node.op;
      const left = evaluate(node.left, scope, state);
      switch (op) {
        case '&&':
          return left === true && evaluate(node.right, scope, state) === true;
        case '||':
          return left === true || evaluate(node.right, scope, state) === true;
        case '??':
          return left !== null ? left : evaluate(node.right, scope, state);
        default:
          break;
      }
      const right = evaluate(node.right, scope, state);
      switch (op) {
        case '==':
          return valueEquals(left, right);
        case '!=':
          return !valueEquals(left, right);
        case '<':
        case '<=':
        case '>':
        case '>=':
          return order(op, left, right, node.span);
        case 'in':
          return member(left, right, node.span);
        case '&':
          return bitAnd(left, right, node.span);
        case '+':
          return add(left, right, node.span);
        case '-':
        case '*':
        case '/':
        case '%':
          return arithmetic(op, left, right, node.span);
        default:
          return assertNever(op);
      }
    }
    case 'conditional':
      return evaluate(node.test, scope, state) === true
        ? evaluate(node.consequent, scope, state)
        : evaluate(node.alternate, scope, state);
    case 'index': {
      const object =
        node.object.kind === 'identifier' && !isBound(node.object.name, scope) && node.object.name !== 'dn'
          ? attributeValues(node.object.name, state.entry)
          : evaluate(node.object, scope, state);
      return indexValue(object, evaluate(node.index, scope, state), node.span);
    }
    case 'call':
      return call(node, scope, state);
    case 'lambda':
      throw new Error('lambda outside a list function reached the interpreter');
    default:
      return assertNever(node);
  }
}

function isBound(name: string, scope: Scope | undefined): boolean {
  for (let s = scope; s !== undefined; s = s.parent) if (s.name === name) return true;
  return false;
}

function lookup(name: string, scope: Scope | undefined, entry: Entry): Value {
  for (let s = scope; s !== undefined; s = s.parent) if (s.name === name) return s.value;
  if (name === 'dn') return entry.dn;
  const key = name.toLowerCase();
  return readFirst(entry, key, isBinaryAttribute(key));
}

function attributeValues(name: string, entry: Entry): ReadonlyArray<Value> {
  const key = name.toLowerCase();
  return readAll(entry, key, isBinaryAttribute(key));
}

function attributeName(arg: Expr): string {
  if (arg.kind === 'identifier') return arg.name;
  if (arg.kind === 'literal' && typeof arg.value === 'string') return arg.value;
  throw new Error('attribute argument not checked');
}

/** One lambda invocation: one step of the entry's budget. */
function apply(node: CallNode, lambda: LambdaNode, item: Value, scope: Scope | undefined, state: State): Value {
  if (++state.steps > STEP_LIMIT) throw stepLimitFault(node.span);
  return evaluate(lambda.body, { name: lambda.param, value: item, parent: scope }, state);
}

function call(node: CallNode, scope: Scope | undefined, state: State): Value {
  const fn = LIBRARY.get(node.callee);
  if (fn === undefined) throw new Error(`unknown function ${node.callee} reached the interpreter`);
  switch (fn.kind) {
    case 'pure': {
      const args = node.args.map((arg) => evaluate(arg, scope, state));
      try {
        return fn.impl(...args);
      } catch (err) {
        throw attachSpan(err, node.span);
      }
    }
    case 'values':
      return attributeValues(attributeName(node.args[0]!), state.entry);
    case 'attr': {
      const key = attributeName(node.args[0]!).toLowerCase();
      return readFirst(state.entry, key, isBinaryAttribute(key));
    }
    case 'isMemberOf': {
      const group = evaluate(node.args[0]!, scope, state);
      if (group === null) return false;
      const wanted = normalizeDn(group as string);
      if (wanted === undefined) throw new EvalFault(`isMemberOf(): '${String(group)}' is not a DN`, node.span);
      return attributeValues('memberOf', state.entry).some((value) => normalizeMemberOf(value as string) === wanted);
    }
    case 'list': {
      const [listArg, lambda] = node.args as [Expr, Expr];
      if (lambda.kind !== 'lambda') throw new Error('list function without a lambda reached the interpreter');
      const items = asList(evaluate(listArg, scope, state), `${fn.name}()`, node.span);
      const name = fn.name;
      switch (name) {
        case 'find':
          for (const item of items) if (apply(node, lambda, item, scope, state) === true) return item;
          return null;
        case 'filter':
          return items.filter((item) => apply(node, lambda, item, scope, state) === true);
        case 'map':
          return items.map((item) => apply(node, lambda, item, scope, state));
        case 'some':
          for (const item of items) if (apply(node, lambda, item, scope, state) === true) return true;
          return false;
        case 'every':
          for (const item of items) if (apply(node, lambda, item, scope, state) !== true) return false;
          return true;
        default:
          return assertNever(name);
      }
    }
    default:
      return assertNever(fn);
  }
}
