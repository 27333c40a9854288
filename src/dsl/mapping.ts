import type { Expr } from './ast.js';
import { assertNever } from './assert-never.js';
import { check } from './checker.js';
import { compile, type Evaluator } from './compiler.js';
import { DEFAULT_GROUP_MAPPING, DEFAULT_USER_MAPPING, type MappingValue } from './default-mapping.js';
import { didYouMean, type Entry } from '../shared/index.js';
import { DslError, EvalFault, attachSpan, type Span } from './dsl-error.js';
import { fieldsOf, type FieldType, type MappingKind } from './fields.js';
import { Frame } from './frame.js';
import { evaluate, type State } from './interpreter.js';
import { parse } from './parser.js';
import { recordBuilder, type RecordBuilder } from './record-shape.js';
import { FORBIDDEN_NAMES, type Problem } from './problem.js';
import { NO_ENTRY } from './runtime.js';
import { ANY, BYTES, LIST, type StaticType } from './static-type.js';
import { freezeOutput, typeOfValue, type Value } from './value.js';

export type MappedRecord = Readonly<Record<string, Value>>;

export interface CompiledMapping {
  readonly kind: MappingKind;
  /** Target field names this mapping produces (all of the kind's fields, defaults merged). */
  readonly fields: ReadonlyArray<string>;
  /** Lower-cased LDAP attribute names the mapping reads ('memberof' if isMemberOf is used), so the reader can ask for only those. */
  readonly attributes: ReadonlyArray<string>;
  /**
   * What the mapping was compiled from (the kind, and each field's expression or constant, defaults included):
   * two mappings with the same signature make the same record of every entry.
   */
  readonly signature: string;
  /** Evaluates on one entry. Map fields come back as plain frozen objects. Throws DslError 'dsl.runtime' naming the field and the cause. */
  map(entry: Entry): MappedRecord;
}

export type CompileResult =
  | { readonly ok: true; readonly mapping: CompiledMapping }
  | { readonly ok: false; readonly errors: ReadonlyArray<DslError> };

/** What a value must conform to at run time: a field's type, a value inside a map field, or anything (a lone expression). */
type Slot = Exclude<FieldType, 'map'> | 'map-entry' | 'any';

/** One compiled expression or YAML constant, with what the reference interpreter needs to redo it. */
interface Part {
  /** Key path: `email`, `userCustomFields.employeeType`. */
  readonly path: string;
  readonly slot: Slot;
  readonly source: string;
  /** Absent for a YAML constant. */
  readonly ast: Expr | undefined;
  /** The value does not depend on the entry (a YAML constant, or an expression folded when compiled). */
  readonly isConstant: boolean;
  /** The value of a YAML constant; the interpreter evaluates `ast` instead. */
  readonly constant: Value;
  /** What the checker proved the value can be. */
  readonly type: StaticType;
  readonly evaluate: Evaluator;
}

type FieldPlan =
  | { readonly kind: 'value'; readonly name: string; readonly part: Part }
  | { readonly kind: 'map'; readonly name: string; readonly parts: ReadonlyArray<Part> }
  /** A map field whose values are all constant, or a null map field: one frozen value for every entry. */
  | { readonly kind: 'fixed'; readonly name: string; readonly value: Value; readonly parts: ReadonlyArray<Part> | undefined };

/** The plans behind each mapping, for interpretMapping(); kept off the public object. */
const PLANS = new WeakMap<CompiledMapping, ReadonlyArray<FieldPlan>>();

/**
 * Compiles a profile's mapping: every target field of the kind, from `fields` or else the built-in default.
 * A YAML string is an expression, a number/boolean/null a constant, and a map field takes a one-level map.
 * Every error in every field is returned; nothing is thrown.
 */
export function compileMapping(kind: MappingKind, fields: Readonly<Record<string, MappingValue>>): CompileResult {
  const targets = fieldsOf(kind);
  const defaults = kind === 'users' ? DEFAULT_USER_MAPPING : DEFAULT_GROUP_MAPPING;
  const names = new Set(targets.map((t) => t.name));
  const errors: DslError[] = [];
  for (const key of Object.keys(fields)) {
    if (names.has(key)) continue;
    const suggestion = didYouMean(key, names);
    errors.push(
      new DslError('dsl.unknown-field', `unknown ${kind === 'users' ? 'user' : 'group'} field '${key}'`, {
        field: key,
        source: '',
        span: { start: 0, end: 0 },
        hint: suggestion === undefined ? `fields: ${[...names].join(', ')}` : `did you mean '${suggestion}'?`,
      }),
    );
  }
  const frame = new Frame();
  const attributes = new Set<string>();
  const plans: FieldPlan[] = [];
  const sources: Array<[string, MappingValue | undefined]> = [];
  for (const target of targets) {
    const value = Object.hasOwn(fields, target.name) ? fields[target.name] : defaults[target.name];
    sources.push([target.name, value]);
    if (target.type === 'map') {
      const plan = compileMapField(target.name, value, frame, attributes, errors);
      if (plan !== undefined) plans.push(plan);
    } else {
      const part = compilePart(target.name, target.type, value, frame, attributes, errors);
      if (part !== undefined) plans.push({ kind: 'value', name: target.name, part });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const signature = JSON.stringify([kind, sources]);
  const mapping = new Mapping(kind, plans, plans.map(fieldEvaluator), Object.freeze([...attributes].sort()), frame, signature);
  PLANS.set(mapping, plans);
  return { ok: true, mapping };
}

class Mapping implements CompiledMapping {
  readonly kind: MappingKind;
  readonly fields: ReadonlyArray<string>;
  readonly attributes: ReadonlyArray<string>;
  readonly signature: string;
  readonly #plans: ReadonlyArray<FieldPlan>;
  /** One evaluator per field, in field order. */
  readonly #evaluators: ReadonlyArray<Evaluator>;
  readonly #build: RecordBuilder;
  readonly #frame: Frame;
  /** Field values of the entry being mapped; reused, as map() is synchronous and builds the record from it at once. */
  readonly #values: Value[];

  constructor(
    kind: MappingKind,
    plans: ReadonlyArray<FieldPlan>,
    evaluators: ReadonlyArray<Evaluator>,
    attributes: ReadonlyArray<string>,
    frame: Frame,
    signature: string,
  ) {
    this.kind = kind;
    this.signature = signature;
    this.fields = Object.freeze(plans.map((p) => p.name));
    this.attributes = attributes;
    this.#plans = plans;
    this.#evaluators = evaluators;
    this.#build = recordBuilder(kind);
    this.#frame = frame;
    this.#values = plans.map(() => null);
    Object.freeze(this);
  }

  map(entry: Entry): MappedRecord {
    this.#frame.reset();
    const evaluators = this.#evaluators;
    const values = this.#values;
    let i = 0;
    try {
      for (; i < evaluators.length; i++) values[i] = evaluators[i]!(entry);
    } catch (err) {
      const plan = this.#plans[i]!;
      throw runtimeError(plan.kind === 'value' ? plan.part : undefined, entry, err);
    }
    return this.#build(values);
  }
}

/** A field's evaluator: a constant is computed once; an expression runs as trusting() says. */
function fieldEvaluator(plan: FieldPlan): Evaluator {
  switch (plan.kind) {
    case 'fixed': {
      const value = plan.value;
      return () => value;
    }
    case 'value': {
      const part = plan.part;
      if (part.isConstant) {
        const value = conform(part, part.evaluate(NO_ENTRY));
        return () => value;
      }
      return trusting(part);
    }
    case 'map': {
      const parts = plan.parts;
      const keys = parts.map((p) => p.path.slice(plan.name.length + 1));
      const evaluators = parts.map(trusting);
      return (entry) => {
        // Custom field names are the user's: few, so the keyed stores stay fast; never __proto__ (rejected).
        const map: Record<string, Value> = {};
        for (let k = 0; k < parts.length; k++) {
          const part = parts[k]!;
          try {
            map[keys[k]!] = evaluators[k]!(entry);
          } catch (err) {
            throw runtimeError(part, entry, err);
          }
        }
        return Object.freeze(map);
      };
    }
    default:
      return assertNever(plan);
  }
}

/**
 * A part's evaluator without the run-time type check the checker makes redundant (the checker's types are
 * sound: attribute reads convert text and bytes to the type it assumes). What stays: integers must be whole,
 * and lists leave as frozen copies.
 */
function trusting(part: Part): Evaluator {
  const evaluate = part.evaluate;
  switch (part.slot) {
    case 'string':
    case 'boolean':
      return evaluate;
    case 'integer':
      return (entry) => {
        const value = evaluate(entry);
        if (value === null || Number.isSafeInteger(value)) return value;
        throw new EvalFault(`${String(value)} is not a whole number`, rootSpan(part));
      };
    case 'map-entry':
    case 'any':
      return part.type.bits & (LIST | BYTES) ? (entry) => freezeOutput(evaluate(entry)) : evaluate;
    default:
      return assertNever(part.slot);
  }
}

/** The reference tree-walking evaluation of the same mapping: the second opinion for tests and the benchmark. */
export function interpretMapping(mapping: CompiledMapping, entry: Entry): MappedRecord {
  const plans = PLANS.get(mapping);
  if (plans === undefined) throw new TypeError('interpretMapping() takes a mapping made by compileMapping()');
  const state: State = { entry, steps: 0 };
  const values: Value[] = [];
  for (const plan of plans) {
    switch (plan.kind) {
      case 'value':
        values.push(interpretPart(plan.part, state));
        break;
      case 'fixed':
      case 'map': {
        const parts = plan.parts;
        if (parts === undefined) {
          values.push(null);
          break;
        }
        const map: Record<string, Value> = {};
        for (const part of parts) map[part.path.slice(plan.name.length + 1)] = interpretPart(part, state);
        values.push(Object.freeze(map));
        break;
      }
      default:
        assertNever(plan);
    }
  }
  return recordBuilder(mapping.kind)(values);
}

/** The interpreter holds every value to its field's type, where the compiled path trusts the checker. */
function interpretPart(part: Part, state: State): Value {
  try {
    return conform(part, part.ast === undefined ? part.constant : evaluate(part.ast, undefined, state));
  } catch (err) {
    throw runtimeError(part, state.entry, err);
  }
}

/**
 * Parses, checks and compiles a single expression for a target type (tests, and the CLI's error printing).
 * `evaluate` throws DslError 'dsl.runtime'.
 */
export function compileExpression(
  source: string,
  type: FieldType | 'any',
): { ok: true; evaluate(entry: Entry): Value } | { ok: false; errors: ReadonlyArray<DslError> } {
  const errors: DslError[] = [];
  if (type === 'map') {
    errors.push(
      new DslError('dsl.type', 'a map field takes a YAML map of name: expression, not one expression', {
        field: '',
        source,
        span: { start: 0, end: source.length },
      }),
    );
    return { ok: false, errors };
  }
  const frame = new Frame();
  const part = compileExpressionPart('', type, source, frame, new Set(), errors);
  if (part === undefined) return { ok: false, errors };
  return {
    ok: true,
    evaluate(entry: Entry): Value {
      frame.reset();
      try {
        return conform(part, part.evaluate(entry));
      } catch (err) {
        throw runtimeError(part, entry, err);
      }
    },
  };
}

function toErrors(problems: ReadonlyArray<Problem>, path: string, source: string, errors: DslError[]): void {
  for (const p of problems) errors.push(new DslError(p.code, p.message, { field: path, source, span: p.span, hint: p.hint }));
}

function compileExpressionPart(
  path: string,
  slot: Slot,
  source: string,
  frame: Frame,
  attributes: Set<string>,
  errors: DslError[],
): Part | undefined {
  const parsed = parse(source);
  if (!parsed.ok) {
    toErrors(parsed.problems, path, source, errors);
    return undefined;
  }
  const checked = check(parsed.ast, source, slot);
  if (checked.problems.length > 0) {
    toErrors(checked.problems, path, source, errors);
    return undefined;
  }
  const compiled = compile(parsed.ast, frame);
  if (!compiled.ok) {
    toErrors(compiled.problems, path, source, errors);
    return undefined;
  }
  for (const a of checked.attributes) attributes.add(a);
  const part: Part = {
    path,
    slot,
    source,
    ast: parsed.ast,
    isConstant: compiled.constant,
    constant: null,
    type: checked.type,
    evaluate: compiled.evaluate,
  };
  if (compiled.constant) {
    // `diskQuota: 3 / 2` would fail on every entry: say so now.
    try {
      conform(part, part.evaluate(NO_ENTRY));
    } catch (err) {
      const fault = attachSpan(err, rootSpan(part));
      errors.push(new DslError('dsl.type', fault.message, { field: path, source, span: fault.span ?? rootSpan(part) }));
      return undefined;
    }
  }
  return part;
}

function compilePart(
  path: string,
  slot: Slot,
  value: unknown,
  frame: Frame,
  attributes: Set<string>,
  errors: DslError[],
): Part | undefined {
  if (typeof value === 'string') return compileExpressionPart(path, slot, value, frame, attributes, errors);
  const source = value === undefined ? '' : safeJson(value);
  const fail = (message: string, hint?: string): undefined => {
    errors.push(new DslError('dsl.type', message, { field: path, source, span: { start: 0, end: source.length }, hint }));
    return undefined;
  };
  if (value !== null && typeof value !== 'number' && typeof value !== 'boolean') {
    return fail(
      `${describeYaml(value)} is not a mapping value`,
      'write an expression as a string (mail, "\'NL\'"), or a number, true/false or null',
    );
  }
  const problem = constantProblem(slot, value);
  if (problem !== undefined) return fail(problem.message, problem.hint);
  return { path, slot, source, ast: undefined, isConstant: true, constant: value, type: ANY, evaluate: () => value };
}

function constantProblem(slot: Slot, value: number | boolean | null): { message: string; hint?: string } | undefined {
  if (typeof value === 'number' && !Number.isFinite(value)) return { message: `${value} is not a usable number` };
  switch (slot) {
    case 'string':
      if (value === null) return undefined;
      return {
        message: `this field holds text, the constant is a ${typeof value}`,
        hint: `quote it as an expression: "'${String(value)}'"`,
      };
    case 'integer':
      if (value === null || Number.isSafeInteger(value)) return undefined;
      return typeof value === 'number'
        ? { message: `this field holds a whole number, ${value} is not one` }
        : { message: 'this field holds a whole number, the constant is a boolean' };
    case 'boolean':
      if (typeof value === 'boolean') return undefined;
      return { message: `this field holds true or false, the constant is ${value === null ? 'null' : 'a number'}` };
    case 'map-entry':
    case 'any':
      return undefined;
    default:
      return assertNever(slot);
  }
}

function compileMapField(
  name: string,
  value: unknown,
  frame: Frame,
  attributes: Set<string>,
  errors: DslError[],
): FieldPlan | undefined {
  if (value === null) return { kind: 'fixed', name, value: null, parts: undefined };
  if (typeof value !== 'object' || value === undefined || Array.isArray(value) || value instanceof Uint8Array) {
    const source = value === undefined ? '' : safeJson(value);
    errors.push(
      new DslError('dsl.type', `${name} takes a map of name: expression, not ${describeYaml(value)}`, {
        field: name,
        source,
        span: { start: 0, end: source.length },
        hint: `e.g. ${name}: { employeeType: employeeType }`,
      }),
    );
    return undefined;
  }
  const parts: Part[] = [];
  let ok = true;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const path = `${name}.${key}`;
    if (key === '' || FORBIDDEN_NAMES.has(key)) {
      ok = false;
      errors.push(
        new DslError(key === '' ? 'dsl.type' : 'dsl.forbidden-name', key === '' ? 'a custom field needs a name' : `'${key}' is not allowed as a custom field name`, {
          field: path,
          source: '',
          span: { start: 0, end: 0 },
        }),
      );
      continue;
    }
    const part = compilePart(path, 'map-entry', item, frame, attributes, errors);
    if (part === undefined) ok = false;
    else parts.push(part);
  }
  if (!ok) return undefined;
  if (parts.every((p) => p.isConstant)) {
    const map: Record<string, Value> = {};
    for (const p of parts) map[p.path.slice(name.length + 1)] = conform(p, p.evaluate(NO_ENTRY));
    return { kind: 'fixed', name, value: Object.freeze(map), parts };
  }
  return { kind: 'map', name, parts };
}

/**
 * Holds a field's value to its type at run time as well. The checker already guarantees it; this is the
 * belt to those braces, and where integers are held to being whole.
 */
function conform(part: Part, value: Value): Value {
  switch (part.slot) {
    case 'string':
      if (value === null || typeof value === 'string') return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'integer':
      if (value === null || (typeof value === 'number' && Number.isSafeInteger(value))) return value;
      if (typeof value === 'number') throw new EvalFault(`${value} is not a whole number`, rootSpan(part));
      break;
    case 'map-entry':
      if (!containsBytes(value)) return freezeOutput(value);
      break;
    case 'any':
      return freezeOutput(value);
    default:
      return assertNever(part.slot);
  }
  const holder = part.slot === 'map-entry' ? 'a custom field' : `a ${part.slot} field`;
  throw new EvalFault(`${holder} cannot hold ${typeOfValue(value)}`, rootSpan(part));
}

function containsBytes(value: Value): boolean {
  if (value instanceof Uint8Array) return true;
  return Array.isArray(value) && (value as ReadonlyArray<Value>).some(containsBytes);
}

function rootSpan(part: Part): Span {
  return part.ast?.span ?? { start: 0, end: part.source.length };
}

function runtimeError(part: Part | undefined, entry: Entry, err: unknown): DslError {
  if (err instanceof DslError) return err;
  const path = part?.path ?? '';
  const source = part?.source ?? '';
  const fault = attachSpan(err, part === undefined ? { start: 0, end: 0 } : rootSpan(part));
  return new DslError('dsl.runtime', fault.message, {
    field: path,
    source,
    span: fault.span ?? { start: 0, end: source.length },
    where: path === '' ? { dn: entry.dn } : { path, dn: entry.dn },
    cause: fault.cause ?? fault,
  });
}

function describeYaml(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
