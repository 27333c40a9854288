/**
 * The checker's view of what an expression can evaluate to: a set of runtime kinds (bits) and, when lists are
 * possible, the type of their elements. Nullability is just the NULL bit, so `mail` is `string | null` and
 * `mail ?? ''` is `string`.
 */
export interface StaticType {
  readonly bits: number;
  readonly element: StaticType | undefined;
}

export const NULL = 1;
export const BOOLEAN = 2;
export const NUMBER = 4;
export const STRING = 8;
export const BYTES = 16;
export const LIST = 32;
const ALL = NULL | BOOLEAN | NUMBER | STRING | BYTES | LIST;

function make(bits: number, element?: StaticType): StaticType {
  return Object.freeze({ bits, element: bits & LIST ? (element ?? NEVER) : undefined });
}

/** No value at all: the type of an empty list's elements, and of a sub-expression that already has an error (so one mistake is reported once). */
export const NEVER: StaticType = Object.freeze({ bits: 0, element: undefined });

/** Anything, lists of anything included (its element type is itself). */
export const ANY: StaticType = (() => {
  const any: { bits: number; element: StaticType | undefined } = { bits: ALL, element: undefined };
  any.element = any;
  return Object.freeze(any);
})();

export const T_NULL: StaticType = make(NULL);
export const T_BOOLEAN: StaticType = make(BOOLEAN);
export const T_NUMBER: StaticType = make(NUMBER);
export const T_STRING: StaticType = make(STRING);
export const T_BYTES: StaticType = make(BYTES);

export function typeOf(bits: number, element?: StaticType): StaticType {
  return make(bits, element);
}

export function listOf(element: StaticType): StaticType {
  return make(LIST, element);
}

export function union(a: StaticType, b: StaticType): StaticType {
  if (a === ANY || b === ANY) return ANY;
  if (a.bits === 0) return b;
  if (b.bits === 0) return a;
  const bits = a.bits | b.bits;
  if (!(bits & LIST)) return make(bits);
  const element = a.element === undefined ? b.element : b.element === undefined ? a.element : union(a.element, b.element);
  return make(bits, element);
}

export function orNull(t: StaticType): StaticType {
  return union(t, T_NULL);
}

export function withoutNull(t: StaticType): StaticType {
  if (!(t.bits & NULL)) return t;
  return make(t.bits & ~NULL, t.element);
}

/** Keeps `like`'s NULL bit on `t`: the result type of a function that passes null through. */
export function nullLike(like: StaticType, t: StaticType): StaticType {
  return like.bits & NULL ? orNull(t) : t;
}

/** Whether every value of `a` is a value of `b`. */
export function isAssignable(a: StaticType, b: StaticType): boolean {
  if (a === b || b === ANY) return true;
  if (a.bits & ~b.bits) return false;
  if (!(a.bits & LIST)) return true;
  return isAssignable(a.element ?? NEVER, b.element ?? NEVER);
}

/** Whether some value belongs to both (comparing types that share none is always false). */
export function overlaps(a: StaticType, b: StaticType): boolean {
  return (a.bits & b.bits) !== 0;
}

export function containsBytes(t: StaticType): boolean {
  if (t === ANY || t.bits & BYTES) return true;
  return t.bits & LIST ? containsBytes(t.element ?? NEVER) : false;
}

/** `string or null`, `list of string`. */
export function describeType(t: StaticType): string {
  if (t === ANY) return 'any value';
  if (t.bits === 0) return 'nothing';
  const names: string[] = [];
  if (t.bits & BOOLEAN) names.push('boolean');
  if (t.bits & NUMBER) names.push('number');
  if (t.bits & STRING) names.push('string');
  if (t.bits & BYTES) names.push('bytes');
  if (t.bits & LIST) {
    const element = t.element ?? NEVER;
    const inner = describeType(element);
    names.push(element.bits === 0 ? 'empty list' : inner.includes(' or ') ? `list of (${inner})` : `list of ${inner}`);
  }
  if (t.bits & NULL) names.push('null');
  return names.join(' or ');
}
