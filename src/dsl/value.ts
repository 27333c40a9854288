/**
 * What an expression evaluates to, and what a mapped record holds. Lists and maps handed out are frozen copies,
 * so a consumer can never reach into an entry's arrays or another record through them.
 */
export type Value =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | ReadonlyArray<Value>
  | { readonly [key: string]: Value };

/** The name of a value's runtime type, for messages. */
export function typeOfValue(value: Value): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    default:
      if (value instanceof Uint8Array) return 'bytes';
      return Array.isArray(value) ? 'list' : 'map';
  }
}

/** Structural equality: no coercion between types, bytes and lists compared element by element. */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a)) {
    const list = a as ReadonlyArray<Value>;
    if (!Array.isArray(b)) return false;
    const other = b as ReadonlyArray<Value>;
    if (list.length !== other.length) return false;
    for (let i = 0; i < list.length; i++) if (!valueEquals(list[i] as Value, other[i] as Value)) return false;
    return true;
  }
  return false;
}

/**
 * A value as it leaves the language: lists become frozen copies (they may be an entry's own arrays), bytes are
 * copied, scalars pass through.
 */
export function freezeOutput(value: Value): Value {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return Object.freeze((value as ReadonlyArray<Value>).map(freezeOutput));
  return value;
}
