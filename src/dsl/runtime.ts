import type { AttributeValue, Entry } from '../shared/index.js';
import { BINARY_ATTRIBUTES } from '../shared/index.js';
import { EvalFault, type Span } from './dsl-error.js';
import { typeOfValue, valueEquals, type Value } from './value.js';

/**
 * Semantics shared by the compiler and the reference interpreter: attribute reads and operators. Both
 * evaluators call these, so they differ only in how they walk the tree, which is what the agreement test
 * checks.
 *
 * Null: a missing attribute is null. Arithmetic and `+` on a null operand give null (SQL-like: `'homes/' + uid`
 * is null without a uid, not `'homes/'`); `concat()` and `join()` skip nulls instead. Ordering comparisons
 * with a null operand are false; `==` treats null as a value. `&&`, `||`, `!` and `?:` take null as false.
 */

/** Lambda invocations allowed while mapping one entry; list functions are the only loops. */
export const STEP_LIMIT = 100_000;

/** An entry with nothing in it: what entry-independent parts are evaluated on when compiled. */
export const NO_ENTRY: Entry = Object.freeze({ dn: '', attributes: new Map() });

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

export function isBinaryAttribute(key: string): boolean {
  return BINARY_ATTRIBUTES.has(key);
}

/** A text attribute handed over as bytes (say from an LDIF `::` line) still reads as text, and vice versa. */
export function asText(value: AttributeValue): string {
  return typeof value === 'string' ? value : utf8.decode(value);
}

export function asBytes(value: AttributeValue): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/** First value of an attribute (key lower-cased), or null. */
export function readFirst(entry: Entry, key: string, binary: boolean): Value {
  const values = entry.attributes.get(key);
  if (values === undefined) return null;
  const value = values[0];
  if (value === undefined) return null;
  if (binary) return typeof value === 'string' ? encoder.encode(value) : value;
  return typeof value === 'string' ? value : utf8.decode(value);
}

const EMPTY: ReadonlyArray<Value> = Object.freeze([]);

/** All values of an attribute; the entry's own array when no value needs converting (nothing mutates it). */
export function readAll(entry: Entry, key: string, binary: boolean): ReadonlyArray<Value> {
  const values = entry.attributes.get(key);
  if (values === undefined) return EMPTY;
  for (const value of values) {
    if ((typeof value === 'string') === binary) return binary ? values.map(asBytes) : values.map(asText);
  }
  return values;
}

function mismatch(op: string, a: Value, b: Value, span: Span): EvalFault {
  return new EvalFault(`cannot apply '${op}' to ${typeOfValue(a)} and ${typeOfValue(b)}`, span);
}

function finite(result: number, span: Span): number {
  if (!Number.isFinite(result)) throw new EvalFault('number out of range', span);
  return result;
}

export function add(a: Value, b: Value, span: Span): Value {
  if (a === null || b === null) return null;
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (typeof a === 'number' && typeof b === 'number') return finite(a + b, span);
  if (Array.isArray(a) && Array.isArray(b)) return [...(a as ReadonlyArray<Value>), ...(b as ReadonlyArray<Value>)];
  throw mismatch('+', a, b, span);
}

export type ArithmeticOp = '-' | '*' | '/' | '%';

export function arithmetic(op: ArithmeticOp, a: Value, b: Value, span: Span): Value {
  if (a === null || b === null) return null;
  if (typeof a !== 'number' || typeof b !== 'number') throw mismatch(op, a, b, span);
  switch (op) {
    case '-':
      return finite(a - b, span);
    case '*':
      return finite(a * b, span);
    case '/':
      if (b === 0) throw new EvalFault('division by zero', span);
      return finite(a / b, span);
    case '%':
      if (b === 0) throw new EvalFault('division by zero', span);
      return a % b;
    default: {
      const unhandled: never = op;
      return unhandled;
    }
  }
}

export function negate(a: Value, span: Span): Value {
  if (a === null) return null;
  if (typeof a !== 'number') throw new EvalFault(`cannot negate ${typeOfValue(a)}`, span);
  return -a;
}

/** `&` on whole numbers; userAccountControl and friends are 32-bit, larger values go through BigInt. */
export function bitAnd(a: Value, b: Value, span: Span): Value {
  if (a === null || b === null) return null;
  if (typeof a !== 'number' || typeof b !== 'number') throw mismatch('&', a, b, span);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new EvalFault("'&' needs whole numbers", span);
  if (a >= 0 && b >= 0 && a <= 0xffffffff && b <= 0xffffffff) return (a & b) >>> 0;
  return Number(BigInt(a) & BigInt(b));
}

export type OrderOp = '<' | '<=' | '>' | '>=';

/** Strings compare by UTF-16 code units, case-sensitively (use lower() to ignore case). */
export function order(op: OrderOp, a: Value, b: Value, span: Span): boolean {
  if (a === null || b === null) return false;
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) {
    throw mismatch(op, a, b, span);
  }
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default: {
      const unhandled: never = op;
      return unhandled;
    }
  }
}

export function member(item: Value, list: Value, span: Span): boolean {
  if (list === null) return false;
  if (!Array.isArray(list)) throw new EvalFault(`'in' needs a list on its right, got ${typeOfValue(list)}`, span);
  for (const candidate of list as ReadonlyArray<Value>) if (valueEquals(item, candidate)) return true;
  return false;
}

/** `list[i]`: negative indexes count from the end; out of range is null. */
export function indexValue(list: Value, index: Value, span: Span): Value {
  if (list === null || index === null) return null;
  if (!Array.isArray(list)) throw new EvalFault(`cannot index ${typeOfValue(list)}`, span);
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new EvalFault('an index must be a whole number', span);
  const items = list as ReadonlyArray<Value>;
  return items[index < 0 ? items.length + index : index] ?? null;
}

export function asList(value: Value, what: string, span: Span): ReadonlyArray<Value> {
  if (value === null) return EMPTY;
  if (!Array.isArray(value)) throw new EvalFault(`${what} needs a list, got ${typeOfValue(value)}`, span);
  return value as ReadonlyArray<Value>;
}

export function stepLimitFault(span: Span): EvalFault {
  return new EvalFault(`evaluation of one entry took more than ${STEP_LIMIT} steps`, span);
}
