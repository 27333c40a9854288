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
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = element(values[i], type);
  return `{${parts.join(',')}}`;
}
