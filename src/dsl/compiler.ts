import type { Entry } from '../shared/index.js';
import type { BinaryNode, CallNode, Expr } from './ast.js';
import { assertNever } from './assert-never.js';
import { EvalFault, attachSpan, type Span } from './dsl-error.js';
import { normalizeDn } from './dn.js';
import { Frame } from './frame.js';
import { LIBRARY, type ListFunction, type PureFunction } from './library.js';
import type { Problem } from './problem.js';
import {
  NO_ENTRY,
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
import { freezeOutput, valueEquals, type Value } from './value.js';

/** A compiled expression: a closure over the entry. */
export type Evaluator = (entry: Entry) => Value;

export type CompiledExpression =
  | { readonly ok: true; readonly evaluate: Evaluator; readonly constant: boolean }
  | { readonly ok: false; readonly problems: ReadonlyArray<Problem> };

interface Compiled {
  readonly fn: Evaluator;
  /** Set when the value does not depend on the entry; it was computed once, here. */
  readonly constant: boolean;
  readonly value: Value;
}

/**
 * Turns a checked AST into nested closures. No source text is generated: each node becomes a small function
 * that calls its children's functions, so expression text never reaches eval and V8 can inline the hot
 * paths. Attribute keys are lower-cased here, once; sub-expressions that do not depend on the entry
 * (`bytes('1 GiB')`) are evaluated here, once, and an error in one (`int('abc')`) is reported now.
 */
export function compile(ast: Expr, frame: Frame): CompiledExpression {
  const compiler = new Compiler(frame);
  const compiled = compiler.node(ast);
  if (compiler.problems.length > 0) return { ok: false, problems: compiler.problems };
  return { ok: true, evaluate: compiled.fn, constant: compiled.constant };
}

function dynamic(fn: Evaluator): Compiled {
  return { fn, constant: false, value: null };
}

function constant(value: Value): Compiled {
  const frozen = freezeOutput(value);
  return { fn: () => frozen, constant: true, value: frozen };
}

class Compiler {
  readonly problems: Problem[] = [];
  readonly #frame: Frame;
  readonly #scope: Array<{ readonly name: string; readonly slot: number }> = [];

  constructor(frame: Frame) {
    this.#frame = frame;
  }

  /** Evaluates an entry-independent node now; an error becomes a load-time problem. */
  #fold(fn: Evaluator, span: Span): Compiled {
    this.#frame.reset();
    try {
      return constant(fn(NO_ENTRY));
    } catch (err) {
      const fault = attachSpan(err, span);
      this.problems.push({
        code: 'dsl.runtime',
        message: `${fault.message} (this part does not depend on the entry, so it fails whenever it is evaluated)`,
        span: fault.span ?? span,
      });
      return dynamic(fn);
    }
  }

  #maybeFold(fn: Evaluator, parts: ReadonlyArray<Compiled>, span: Span): Compiled {
    return parts.every((p) => p.constant) ? this.#fold(fn, span) : dynamic(fn);
  }

  node(node: Expr): Compiled {
    switch (node.kind) {
      case 'literal':
        return constant(node.value);
      case 'list': {
        const items = node.items.map((item) => this.node(item));
        const fns = items.map((item) => item.fn);
        const fn: Evaluator = (e) => {
          const out = new Array<Value>(fns.length);
          for (let i = 0; i < fns.length; i++) out[i] = fns[i]!(e);
          return out;
        };
        return this.#maybeFold(fn, items, node.span);
      }
      case 'identifier':
        return this.#identifier(node.name);
      case 'unary': {
        const operand = this.node(node.operand);
        const f = operand.fn;
        const span = node.span;
        const fn: Evaluator = node.op === '!' ? (e) => f(e) !== true : (e) => negate(f(e), span);
        return this.#maybeFold(fn, [operand], span);
      }
      case 'binary':
        return this.#binary(node);
      case 'conditional': {
        const test = this.node(node.test);
        const consequent = this.node(node.consequent);
        const alternate = this.node(node.alternate);
        if (test.constant) return test.value === true ? consequent : alternate;
        const t = test.fn;
        const c = consequent.fn;
        const a = alternate.fn;
        return dynamic((e) => (t(e) === true ? c(e) : a(e)));
      }
      case 'index': {
        const index = this.node(node.index);
        const i = index.fn;
        const span = node.span;
        const attribute = this.#attributeOf(node.object);
        if (attribute !== undefined) {
          const binary = isBinaryAttribute(attribute);
          return dynamic((e) => indexValue(readAll(e, attribute, binary), i(e), span));
        }
        const object = this.node(node.object);
        const o = object.fn;
        return this.#maybeFold((e) => indexValue(o(e), i(e), span), [object, index], span);
      }
      case 'call':
        return this.#call(node);
      case 'lambda':
        // The checker accepts lambdas only as arguments of list functions, which compile them themselves.
        throw new Error('lambda outside a list function reached the compiler');
      default:
        return assertNever(node);
    }
  }

  #attributeOf(node: Expr): string | undefined {
    if (node.kind !== 'identifier' || node.name === 'dn') return undefined;
    if (this.#scope.some((s) => s.name === node.name)) return undefined;
    return node.name.toLowerCase();
  }

  #identifier(name: string): Compiled {
    for (let i = this.#scope.length - 1; i >= 0; i--) {
      const binding = this.#scope[i]!;
      if (binding.name === name) {
        const slots = this.#frame.slots;
        const slot = binding.slot;
        return dynamic(() => slots[slot]!);
      }
    }
    if (name === 'dn') return dynamic((e) => e.dn);
    return dynamic(this.#readFirst(name.toLowerCase()));
  }

  #readFirst(key: string): Evaluator {
    if (isBinaryAttribute(key)) return (e) => readFirst(e, key, true);
    // The hot path of every mapping, written out rather than through readFirst().
    const decoder = new TextDecoder('utf-8');
    return (e) => {
      const values = e.attributes.get(key);
      if (values === undefined) return null;
      const value = values[0];
      if (value === undefined) return null;
      return typeof value === 'string' ? value : decoder.decode(value);
    };
  }

  #binary(node: BinaryNode): Compiled {
    const left = this.node(node.left);
    const right = this.node(node.right);
    const l = left.fn;
    const r = right.fn;
    const span = node.span;
    switch (node.op) {
      case '&&':
        if (left.constant) return left.value === true ? this.#maybeFold((e) => r(e) === true, [right], span) : constant(false);
        return this.#maybeFold((e) => l(e) === true && r(e) === true, [left, right], span);
      case '||':
        if (left.constant) return left.value === true ? constant(true) : this.#maybeFold((e) => r(e) === true, [right], span);
        return this.#maybeFold((e) => l(e) === true || r(e) === true, [left, right], span);
      case '??':
        if (left.constant) return left.value !== null ? left : right;
        return dynamic((e) => {
          const v = l(e);
          return v !== null ? v : r(e);
        });
      case '==':
        return this.#maybeFold((e) => valueEquals(l(e), r(e)), [left, right], span);
      case '!=':
        return this.#maybeFold((e) => !valueEquals(l(e), r(e)), [left, right], span);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const op = node.op;
        return this.#maybeFold((e) => order(op, l(e), r(e), span), [left, right], span);
      }
      case 'in':
        return this.#maybeFold((e) => member(l(e), r(e), span), [left, right], span);
      case '&':
        return this.#maybeFold((e) => bitAnd(l(e), r(e), span), [left, right], span);
      case '+':
        return this.#maybeFold((e) => add(l(e), r(e), span), [left, right], span);
      case '-':
      case '*':
      case '/':
      case '%': {
        const op = node.op;
        return this.#maybeFold((e) => arithmetic(op, l(e), r(e), span), [left, right], span);
      }
      default:
        return assertNever(node.op);
    }
  }

  #call(node: CallNode): Compiled {
    const fn = LIBRARY.get(node.callee);
    if (fn === undefined) throw new Error(`unknown function ${node.callee} reached the compiler`);
    switch (fn.kind) {
      case 'pure':
        return this.#pureCall(fn, node);
      case 'list':
        return this.#listCall(fn, node);
      case 'values': {
        const key = this.#attributeArgument(node.args[0]!);
        const binary = isBinaryAttribute(key);
        return dynamic((e) => readAll(e, key, binary));
      }
      case 'attr': {
        const key = this.#attributeArgument(node.args[0]!);
        return dynamic(isBinaryAttribute(key) ? (e) => readFirst(e, key, true) : this.#readFirst(key));
      }
      case 'isMemberOf':
        return this.#isMemberOf(node);
      default:
        return assertNever(fn);
    }
  }

  #attributeArgument(arg: Expr): string {
    if (arg.kind === 'identifier') return arg.name.toLowerCase();
    if (arg.kind === 'literal' && typeof arg.value === 'string') return arg.value.toLowerCase();
    throw new Error('attribute argument not checked');
  }

  #pureCall(fn: PureFunction, node: CallNode): Compiled {
    const args = node.args.map((arg) => this.node(arg));
    const impl = fn.impl;
    const span = node.span;
    const [a, b, c] = args.map((arg) => arg.fn);
    let call: Evaluator;
    // Fixed arities get their own closure: no argument array per call.
    switch (args.length) {
      case 1: {
        const f0 = a!;
        call = (e) => {
          try {
            return impl(f0(e));
          } catch (err) {
            throw attachSpan(err, span);
          }
        };
        break;
      }
      case 2: {
        const f0 = a!;
        const f1 = b!;
        call = (e) => {
          try {
            return impl(f0(e), f1(e));
          } catch (err) {
            throw attachSpan(err, span);
          }
        };
        break;
      }
      case 3: {
        const f0 = a!;
        const f1 = b!;
        const f2 = c!;
        call = (e) => {
          try {
            return impl(f0(e), f1(e), f2(e));
          } catch (err) {
            throw attachSpan(err, span);
          }
        };
        break;
      }
      default: {
        const fns = args.map((arg) => arg.fn);
        call = (e) => {
          try {
            return impl(...fns.map((f) => f(e)));
          } catch (err) {
            throw attachSpan(err, span);
          }
        };
      }
    }
    return this.#maybeFold(call, args, span);
  }

  #listCall(fn: ListFunction, node: CallNode): Compiled {
    const [listArg, lambdaArg] = node.args as [Expr, Expr];
    if (lambdaArg.kind !== 'lambda') throw new Error('list function without a lambda reached the compiler');
    const list = this.node(listArg);
    const slot = this.#scope.length;
    this.#scope.push({ name: lambdaArg.param, slot });
    const body = this.node(lambdaArg.body);
    this.#scope.pop();
    const items = list.fn;
    const b = body.fn;
    const frame = this.#frame;
    const slots = frame.slots;
    const span = node.span;
    const what = `${fn.name}()`;
    let call: Evaluator;
    switch (fn.name) {
      case 'find':
        call = (e) => {
          const values = asList(items(e), what, span);
          for (let i = 0; i < values.length; i++) {
            if (++frame.steps > STEP_LIMIT) throw stepLimitFault(span);
            const v = values[i]!;
            slots[slot] = v;
            if (b(e) === true) return v;
          }
          return null;
        };
        break;
      case 'filter':
        call = (e) => {
          const values = asList(items(e), what, span);
          const out: Value[] = [];
          for (let i = 0; i < values.length; i++) {
            if (++frame.steps > STEP_LIMIT) throw stepLimitFault(span);
            const v = values[i]!;
            slots[slot] = v;
            if (b(e) === true) out.push(v);
          }
          return out;
        };
        break;
      case 'map':
        call = (e) => {
          const values = asList(items(e), what, span);
          const out = new Array<Value>(values.length);
          for (let i = 0; i < values.length; i++) {
            if (++frame.steps > STEP_LIMIT) throw stepLimitFault(span);
            slots[slot] = values[i]!;
            out[i] = b(e);
          }
          return out;
        };
        break;
      case 'some':
        call = (e) => {
          const values = asList(items(e), what, span);
          for (let i = 0; i < values.length; i++) {
            if (++frame.steps > STEP_LIMIT) throw stepLimitFault(span);
            slots[slot] = values[i]!;
            if (b(e) === true) return true;
          }
          return false;
        };
        break;
      case 'every':
        call = (e) => {
          const values = asList(items(e), what, span);
          for (let i = 0; i < values.length; i++) {
            if (++frame.steps > STEP_LIMIT) throw stepLimitFault(span);
            slots[slot] = values[i]!;
            if (b(e) !== true) return false;
          }
          return true;
        };
        break;
      default:
        return assertNever(fn.name);
    }
    return this.#maybeFold(call, [list, body], span);
  }

  #isMemberOf(node: CallNode): Compiled {
    const group = this.node(node.args[0]!);
    const frame = this.#frame;
    const span = node.span;
    if (group.constant) {
      if (group.value === null) return constant(false);
      const wanted = normalizeDn(group.value as string);
      if (wanted === undefined) {
        this.problems.push({ code: 'dsl.runtime', message: `isMemberOf(): '${String(group.value)}' is not a DN`, span: node.args[0]!.span });
        return constant(false);
      }
      return dynamic((e) => frame.isMemberOf(e, wanted));
    }
    const g = group.fn;
    return dynamic((e) => {
      const dn = g(e);
      if (dn === null) return false;
      const wanted = normalizeDn(dn as string);
      if (wanted === undefined) throw new EvalFault(`isMemberOf(): '${String(dn)}' is not a DN`, span);
      return frame.isMemberOf(e, wanted);
    });
  }
}
