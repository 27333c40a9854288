/** The SQL element type of a column sent as an array. */
export type ElementType = 'text' | 'bigint' | 'boolean' | 'jsonb';

const NEEDS_ESCAPE = /[\\"]/;

function quote(text: string): string {
  // Most values have neither quote nor backslash: skip the replace for them.
  return NEEDS_ESCAPE.test(text) ? `"${text.replace(/[\\"]/g, '\\$&')}"` : `"${text}"`;
}

function element(value: unknown, type: ElementType): string {
  if (value === null || value === undefined) return 'NULL';
  switch (type) {
    case 'text':
      return quote(typeof value === 'string' ? value : String(value));
    case 'bigint':
      if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError(`expected an integer, got ${JSON.stringify(value)}`);
      return String(value);
    case 'boolean':
      return value === true ? 't' : 'f';
    case 'jsonb':
      return quote(JSON.stringify(value));
    default:
      return type satisfies never;
  }
}

/**
 * A Postgres array literal (`{"a",NULL,"b"}`) of one column's values, sent as a single text parameter and
 * read back with `unnest($n::type[])`. Building the literal here is several times cheaper than letting the
 * driver serialise a JavaScript array, and both drivers pass a string through untouched; unnest of a few
 * dozen such columns is how a batch of rows reaches the server in one statement.
 */
export function arrayLiteral(values: ReadonlyArray<unknown>, type: ElementType): string {
  if (type === 'text') {
    const fast = textArrayLiteral(values);
    if (fast !== undefined) return fast;
  }
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = element(values[i], type);
  return `{${parts.join(',')}}`;
}

/** Any escape but `\"` and `\\` (and, harmlessly, some of those too): JSON and array syntax part ways there. */
const OTHER_ESCAPE = /\\[^"\\]/;

/**
 * The common case, natively: a JSON array of strings and nulls is an array literal once its brackets become
 * braces, as long as JSON escaped nothing but quotes and backslashes (array syntax knows no `\n` or `\u`).
 */
function textArrayLiteral(values: ReadonlyArray<unknown>): string | undefined {
  for (const v of values) if (v !== null && v !== undefined && typeof v !== 'string') return undefined;
  const json = JSON.stringify(values);
  if (OTHER_ESCAPE.test(json)) return undefined;
  return `{${json.slice(1, -1)}}`;
}
