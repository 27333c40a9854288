import { clip, filetimeToIso, generalizedTimeToIso, guidText, hexOf, sidText } from './ad-formats.js';
import { fault } from './dsl-error.js';
import { normalizeDn, parseDn, type Rdn } from './dn.js';
import { asBytes, asText } from './runtime.js';
import {
  ANY,
  BOOLEAN,
  BYTES,
  LIST,
  NULL,
  NUMBER,
  STRING,
  T_BOOLEAN,
  T_NUMBER,
  T_STRING,
  listOf,
  nullLike,
  orNull,
  typeOf,
  union,
  withoutNull,
  type StaticType,
} from './static-type.js';
import { typeOfValue, valueEquals, type Value } from './value.js';

/** A pure function of its arguments. */
export interface PureFunction {
  readonly kind: 'pure';
  readonly name: string;
  /** For messages and docs: `substring(text, start, end?)`. */
  readonly signature: string;
  readonly doc: string;
  readonly params: ReadonlyArray<StaticType>;
  /** How many trailing params may be left out. */
  readonly optional: number;
  /** The last param repeats. */
  readonly variadic: boolean;
  readonly result: (args: ReadonlyArray<StaticType>) => StaticType;
  /** A check the param types cannot say (e.g. contains(text, x) needs a string x); returns the problem. */
  readonly refine?: (args: ReadonlyArray<StaticType>) => { readonly arg: number; readonly message: string } | undefined;
  readonly impl: (...args: Value[]) => Value;
}

export type ListOp = 'find' | 'filter' | 'map' | 'some' | 'every';

/** find/filter/map/some/every: a list and a lambda; the evaluators run the loop (and count its steps). */
export interface ListFunction {
  readonly kind: 'list';
  readonly name: ListOp;
  readonly signature: string;
  readonly doc: string;
}

/** Functions that read the entry itself: their argument names an attribute or a group. */
export interface EntryFunction {
  readonly kind: 'values' | 'attr' | 'isMemberOf';
  readonly name: string;
  readonly signature: string;
  readonly doc: string;
}

export type LibraryFunction = PureFunction | ListFunction | EntryFunction;

const S = T_STRING;
const S_N = typeOf(STRING | NULL);
const N = T_NUMBER;
const N_N = typeOf(NUMBER | NULL);
const SN_N = typeOf(STRING | NUMBER | NULL);
const SY_N = typeOf(STRING | BYTES | NULL);
const LIST_N = typeOf(LIST | NULL, ANY);
const LIST_OF_STRINGS = listOf(T_STRING);

function text(value: Value, fn: string): string {
  if (typeof value !== 'string') fault(`${fn}() needs a string, got ${typeOfValue(value)}`);
  return value;
}

function whole(value: Value, fn: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fault(`${fn}() needs a whole number, got ${describeValue(value)}`);
  return value;
}

function list(value: Value, fn: string): ReadonlyArray<Value> {
  if (!Array.isArray(value)) fault(`${fn}() needs a list, got ${typeOfValue(value)}`);
  return value as ReadonlyArray<Value>;
}

function describeValue(value: Value): string {
  return typeof value === 'string' ? `'${clip(value)}'` : typeof value === 'number' ? String(value) : typeOfValue(value);
}

function dn(value: string, fn: string): ReadonlyArray<Rdn> {
  const rdns = parseDn(value);
  if (rdns === undefined) fault(`${fn}(): '${clip(value)}' is not a DN`);
  return rdns;
}

function elementOf(t: StaticType): StaticType {
  return t.bits & LIST ? (t.element ?? ANY) : ANY;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgtpe]i?b?|b)?$/i;
const SIZE_FACTORS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, p: 1e15, pb: 1e15, e: 1e18, eb: 1e18,
  ki: 2 ** 10, kib: 2 ** 10, mi: 2 ** 20, mib: 2 ** 20, gi: 2 ** 30, gib: 2 ** 30, ti: 2 ** 40, tib: 2 ** 40,
  pi: 2 ** 50, pib: 2 ** 50, ei: 2 ** 60, eib: 2 ** 60,
};
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0', '']);

function pure(
  name: string,
  signature: string,
  doc: string,
  params: ReadonlyArray<StaticType>,
  result: (args: ReadonlyArray<StaticType>) => StaticType,
  impl: (...args: Value[]) => Value,
  options: { optional?: number; variadic?: boolean; refine?: PureFunction['refine'] } = {},
): PureFunction {
  return Object.freeze({
    kind: 'pure',
    name,
    signature,
    doc,
    params,
    optional: options.optional ?? 0,
    variadic: options.variadic ?? false,
    result,
    impl,
    ...(options.refine !== undefined ? { refine: options.refine } : {}),
  });
}

/** `lower(x)` and friends: string in, string out, null passes through. */
function stringToString(name: string, doc: string, op: (s: string) => string): PureFunction {
  return pure(name, `${name}(text)`, doc, [S_N], (a) => nullLike(a[0]!, S), (s) => (s === null ? null : op(text(s, name))));
}

const FUNCTIONS_LIST: ReadonlyArray<LibraryFunction> = [
  // Strings.
  stringToString('lower', 'lower-cases (locale-independent)', (s) => s.toLowerCase()),
  stringToString('upper', 'upper-cases (locale-independent)', (s) => s.toUpperCase()),
  stringToString('trim', 'removes leading and trailing white space', (s) => s.trim()),
  pure(
    'concat',
    'concat(part, …)',
    'joins strings and numbers; null parts are skipped',
    [SN_N],
    () => S,
    (...parts) => {
      let out = '';
      for (const part of parts) {
        if (part === null) continue;
        if (typeof part === 'number') out += String(part);
        else out += text(part, 'concat');
      }
      return out;
    },
    { variadic: true },
  ),
  pure(
    'join',
    'join(list, separator?)',
    "joins a list's strings and numbers with the separator (default ','); nulls are skipped",
    [typeOf(LIST | NULL, SN_N), S],
    (a) => nullLike(a[0]!, S),
    (items, separator = ',') => {
      if (items === null) return null;
      const sep = text(separator, 'join');
      let out = '';
      let first = true;
      for (const item of list(items, 'join')) {
        if (item === null) continue;
        if (!first) out += sep;
        out += typeof item === 'number' ? String(item) : text(item, 'join');
        first = false;
      }
      return out;
    },
    { optional: 1 },
  ),
  pure(
    'split',
    'split(text, separator)',
    'splits on every occurrence of the separator (not a pattern); null gives an empty list',
    [S_N, S],
    () => LIST_OF_STRINGS,
    (s, separator) => (s === null ? [] : text(s, 'split').split(text(separator, 'split'))),
  ),
  pure(
    'replace',
    'replace(text, search, replacement)',
    'replaces every occurrence of search (plain text, not a pattern)',
    [S_N, S, S],
    (a) => nullLike(a[0]!, S),
    (s, search, replacement) => {
      if (s === null) return null;
      const by = text(replacement, 'replace');
      // A function replacer, so `$&` in the replacement is literal text.
      return text(s, 'replace').replaceAll(text(search, 'replace'), () => by);
    },
  ),
  pure(
    'substring',
    'substring(text, start, end?)',
    'the part from start up to (not including) end; negative positions count from the end; null if any is null',
    [S_N, N_N, N_N],
    (a) => (a.some((t) => t.bits & NULL) ? S_N : S),
    (s, start, end) => {
      if (s === null || start === null || end === null) return null;
      const str = text(s, 'substring');
      return end === undefined ? str.slice(whole(start, 'substring')) : str.slice(whole(start, 'substring'), whole(end, 'substring'));
    },
    { optional: 1 },
  ),
  pure(
    'substringBefore',
    'substringBefore(text, separator)',
    'the part before the first separator, or the whole text if there is none',
    [S_N, S],
    (a) => nullLike(a[0]!, S),
    (s, separator) => {
      if (s === null) return null;
      const str = text(s, 'substringBefore');
      const at = str.indexOf(text(separator, 'substringBefore'));
      return at === -1 ? str : str.slice(0, at);
    },
  ),
  pure(
    'substringAfter',
    'substringAfter(text, separator)',
    'the part after the first separator, or null if there is none',
    [S_N, S],
    () => S_N,
    (s, separator) => {
      if (s === null) return null;
      const str = text(s, 'substringAfter');
      const sep = text(separator, 'substringAfter');
      const at = str.indexOf(sep);
      return at === -1 ? null : str.slice(at + sep.length);
    },
  ),
  pure(
    'startsWith',
    'startsWith(text, prefix)',
    'whether text starts with prefix (case-sensitive); false when either is null',
    [S_N, S_N],
    () => T_BOOLEAN,
    (s, prefix) => s !== null && prefix !== null && text(s, 'startsWith').startsWith(text(prefix, 'startsWith')),
  ),
  pure(
    'endsWith',
    'endsWith(text, suffix)',
    'whether text ends with suffix (case-sensitive); false when either is null',
    [S_N, S_N],
    () => T_BOOLEAN,
    (s, suffix) => s !== null && suffix !== null && text(s, 'endsWith').endsWith(text(suffix, 'endsWith')),
  ),
  pure(
    'contains',
    'contains(textOrList, item)',
    'substring test on text, membership test on a list; false when either is null',
    [typeOf(STRING | LIST | NULL, ANY), ANY],
    () => T_BOOLEAN,
    (haystack, needle) => {
      if (haystack === null) return false;
      if (typeof haystack === 'string') return needle !== null && haystack.includes(text(needle, 'contains'));
      return list(haystack, 'contains').some((item) => valueEquals(item, needle));
    },
    {
      refine: (a) =>
        a[0]!.bits & STRING && a[1]!.bits & ~(STRING | NULL)
          ? { arg: 1, message: 'contains(text, …) looks for a string inside the text' }
          : undefined,
    },
  ),
  pure(
    'length',
    'length(textOrListOrBytes)',
    'characters (UTF-16 units) of text, items of a list, bytes of binary; 0 for null',
    [typeOf(STRING | LIST | BYTES | NULL, ANY)],
    () => N,
    (x) => {
      if (x === null) return 0;
      if (typeof x === 'string' || x instanceof Uint8Array) return x.length;
      return list(x, 'length').length;
    },
  ),

  // Lists.
  pure('first', 'first(list)', 'the first item, or null', [LIST_N], (a) => orNull(elementOf(a[0]!)), (l) =>
    l === null ? null : (list(l, 'first')[0] ?? null),
  ),
  pure('last', 'last(list)', 'the last item, or null', [LIST_N], (a) => orNull(elementOf(a[0]!)), (l) => {
    if (l === null) return null;
    const items = list(l, 'last');
    return items[items.length - 1] ?? null;
  }),
  { kind: 'values', name: 'values', signature: 'values(attribute)', doc: "all values of an attribute as a list: values(mail), values('msDS-x')" },
  { kind: 'attr', name: 'attr', signature: "attr('name')", doc: "first value of an attribute whose name is not an identifier: attr('msDS-UserPasswordExpiryTimeComputed')" },
  { kind: 'list', name: 'find', signature: 'find(list, x => condition)', doc: 'the first item for which the condition holds, or null' },
  { kind: 'list', name: 'filter', signature: 'filter(list, x => condition)', doc: 'the items for which the condition holds' },
  { kind: 'list', name: 'map', signature: 'map(list, x => expression)', doc: 'the expression applied to every item' },
  { kind: 'list', name: 'some', signature: 'some(list, x => condition)', doc: 'whether the condition holds for at least one item' },
  { kind: 'list', name: 'every', signature: 'every(list, x => condition)', doc: 'whether the condition holds for every item (true for an empty list)' },

  // Numbers and conversions.
  pure(
    'int',
    'int(textOrNumber)',
    "a whole number: '42' -> 42, 4.7 -> 4; an error for text that is not a whole number",
    [SN_N],
    (a) => nullLike(a[0]!, N),
    (x) => {
      if (x === null) return null;
      if (typeof x === 'number') return Math.trunc(x);
      const s = text(x, 'int').trim();
      if (!INTEGER.test(s)) fault(`int(): '${clip(s)}' is not a whole number`);
      const n = Number(s);
      if (!Number.isSafeInteger(n)) fault(`int(): ${clip(s)} is too large to be exact`);
      return n;
    },
  ),
  pure(
    'number',
    'number(textOrNumber)',
    "a number: '4.5' -> 4.5; an error for text that is not a number",
    [SN_N],
    (a) => nullLike(a[0]!, N),
    (x) => {
      if (x === null || typeof x === 'number') return x;
      const s = text(x, 'number').trim();
      const n = Number(s);
      if (!DECIMAL.test(s) || !Number.isFinite(n)) fault(`number(): '${clip(s)}' is not a number`);
      return n;
    },
  ),
  pure(
    'string',
    'string(value)',
    'text of a number or boolean; binary values are read as UTF-8',
    [typeOf(STRING | NUMBER | BOOLEAN | BYTES | NULL)],
    (a) => nullLike(a[0]!, S),
    (x) => {
      if (x === null || typeof x === 'string') return x;
      if (typeof x === 'number' || typeof x === 'boolean') return String(x);
      if (x instanceof Uint8Array) return asText(x);
      return fault(`string() cannot convert a ${typeOfValue(x)}`);
    },
  ),
  pure(
    'bool',
    'bool(value)',
    "TRUE/true/yes/on/1 -> true, FALSE/false/no/off/0/'' -> false (any case); numbers: non-zero is true",
    [typeOf(STRING | NUMBER | BOOLEAN | NULL)],
    (a) => nullLike(a[0]!, T_BOOLEAN),
    (x) => {
      if (x === null || typeof x === 'boolean') return x;
      if (typeof x === 'number') return x !== 0;
      const s = text(x, 'bool').trim().toLowerCase();
      if (TRUE_WORDS.has(s)) return true;
      if (FALSE_WORDS.has(s)) return false;
      return fault(`bool(): '${clip(s)}' is not a boolean`);
    },
  ),
  pure(
    'bytes',
    "bytes('1 GiB')",
    'a size in bytes: KiB/MiB/GiB/TiB/PiB/EiB are powers of 1024, kB/MB/GB/TB/PB/EB powers of 1000; rounded to a whole byte',
    [SN_N],
    (a) => nullLike(a[0]!, N),
    (x) => {
      if (x === null) return null;
      if (typeof x === 'number') {
        if (!Number.isSafeInteger(x) || x < 0) fault(`bytes(): ${x} is not a whole, non-negative number of bytes`);
        return x;
      }
      const s = text(x, 'bytes').trim();
      const m = SIZE.exec(s);
      const factor = m === null ? undefined : SIZE_FACTORS[(m[2] ?? '').toLowerCase()];
      if (m === null || factor === undefined) fault(`bytes(): '${clip(s)}' is not a size such as '1 GiB' or '500 MB'`);
      const n = Math.round(Number(m[1]) * factor);
      if (!Number.isSafeInteger(n)) fault(`bytes(): '${clip(s)}' is too large`);
      return n;
    },
  ),
  pure(
    'default',
    'default(value, fallback)',
    'value unless it is null, else fallback (the same as value ?? fallback)',
    [ANY, ANY],
    (a) => union(withoutNull(a[0]!), a[1]!),
    (x, fallback) => (x === null ? fallback! : x),
  ),
  pure(
    'coalesce',
    'coalesce(value, …)',
    'the first argument that is not null, or null',
    [ANY],
    (a) => {
      let t = a[a.length - 1]!;
      for (let i = a.length - 2; i >= 0; i--) t = union(withoutNull(a[i]!), t);
      return t;
    },
    (...xs) => {
      for (const x of xs) if (x !== null) return x;
      return null;
    },
    { variadic: true },
  ),

  // Distinguished names.
  pure('rdn', 'rdn(dn)', "the value of a DN's first component: rdn('cn=Fry,ou=people,…') -> 'Fry'", [S_N], () => S_N, (x) => {
    if (x === null) return null;
    return dn(text(x, 'rdn'), 'rdn')[0]?.avas[0]?.value ?? null;
  }),
  pure('parentDn', 'parentDn(dn)', "the DN without its first component; '' for a one-component DN, null for the empty DN", [S_N], () => S_N, (x) => {
    if (x === null) return null;
    const s = text(x, 'parentDn');
    const rdns = dn(s, 'parentDn');
    if (rdns.length === 0) return null;
    const parent = rdns[1];
    return parent === undefined ? '' : s.slice(parent.start);
  }),
  pure(
    'dnComponent',
    'dnComponent(dn, type)',
    "the value of the first component of that type: dnComponent(dn, 'ou'); null if none",
    [S_N, S],
    () => S_N,
    (x, type) => {
      if (x === null) return null;
      const wanted = text(type, 'dnComponent').toLowerCase();
      for (const rdn of dn(text(x, 'dnComponent'), 'dnComponent')) {
        for (const ava of rdn.avas) if (ava.type.toLowerCase() === wanted) return ava.value;
      }
      return null;
    },
  ),
  pure(
    'dnComponents',
    'dnComponents(dn, type)',
    "the values of all components of that type, in order: join(dnComponents(dn, 'dc'), '.')",
    [S_N, S],
    () => LIST_OF_STRINGS,
    (x, type) => {
      if (x === null) return [];
      const wanted = text(type, 'dnComponents').toLowerCase();
      const out: string[] = [];
      for (const rdn of dn(text(x, 'dnComponents'), 'dnComponents')) {
        for (const ava of rdn.avas) if (ava.type.toLowerCase() === wanted) out.push(ava.value);
      }
      return out;
    },
  ),
  pure('normalizeDn', 'normalizeDn(dn)', 'the DN in the canonical form used to compare DNs (lower case, no insignificant spaces)', [S_N], (a) => nullLike(a[0]!, S), (x) => {
    if (x === null) return null;
    const s = text(x, 'normalizeDn');
    const normal = normalizeDn(s);
    if (normal === undefined) fault(`normalizeDn(): '${clip(s)}' is not a DN`);
    return normal;
  }),
  { kind: 'isMemberOf', name: 'isMemberOf', signature: 'isMemberOf(groupDn)', doc: "whether the entry's memberOf holds the group (DNs compared normalised)" },

  // LDAP and Active Directory formats.
  pure(
    'filetime',
    'filetime(value)',
    'an AD FILETIME (accountExpires, pwdLastSet) as an ISO date; null for 0 and 9223372036854775807 (never)',
    [SN_N],
    () => S_N,
    (x) => (x === null ? null : filetimeToIso(typeof x === 'number' ? x : text(x, 'filetime'))),
  ),
  pure(
    'generalizedTime',
    'generalizedTime(value)',
    'an LDAP generalized time (whenChanged, modifyTimestamp) as an ISO date',
    [S_N],
    (a) => nullLike(a[0]!, S),
    (x) => (x === null ? null : generalizedTimeToIso(text(x, 'generalizedTime'))),
  ),
  pure(
    'guid',
    'guid(value)',
    "a binary GUID (objectGUID) as its canonical string; a UUID string (entryUUID) lower-cased",
    [SY_N],
    (a) => nullLike(a[0]!, S),
    (x) => (x === null ? null : guidText(x instanceof Uint8Array ? x : text(x, 'guid'))),
  ),
  pure(
    'sid',
    'sid(value)',
    "a binary security identifier (objectSid) as 'S-1-5-21-…'",
    [SY_N],
    (a) => nullLike(a[0]!, S),
    (x) => (x === null ? null : sidText(x instanceof Uint8Array ? x : text(x, 'sid'))),
  ),
  pure(
    'base64',
    'base64(value)',
    'binary (or the UTF-8 of text) in base64',
    [SY_N],
    (a) => nullLike(a[0]!, S),
    (x) => (x === null ? null : Buffer.from(bytesOf(x, 'base64')).toString('base64')),
  ),
  pure(
    'hex',
    'hex(value)',
    'binary (or the UTF-8 of text) in lower-case hex',
    [SY_N],
    (a) => nullLike(a[0]!, S),
    (x) => (x === null ? null : hexOf(bytesOf(x, 'hex'))),
  ),
];

function bytesOf(x: Value, fn: string): Uint8Array {
  if (x instanceof Uint8Array) return x;
  return asBytes(text(x, fn));
}

/** The function library by name. A Map, so no name can reach Object.prototype. */
export const LIBRARY: ReadonlyMap<string, LibraryFunction> = new Map(FUNCTIONS_LIST.map((f) => [f.name, Object.freeze(f)]));

/** Every function with its signature and one line of documentation, for `--help` and did-you-mean. */
export const FUNCTIONS: ReadonlyArray<{ readonly name: string; readonly signature: string; readonly doc: string }> =
  Object.freeze(FUNCTIONS_LIST.map((f) => Object.freeze({ name: f.name, signature: f.signature, doc: f.doc })));

export function arity(fn: LibraryFunction): { readonly min: number; readonly max: number } {
  switch (fn.kind) {
    case 'pure':
      return { min: fn.params.length - fn.optional, max: fn.variadic ? Infinity : fn.params.length };
    case 'list':
      return { min: 2, max: 2 };
    case 'values':
    case 'attr':
    case 'isMemberOf':
      return { min: 1, max: 1 };
    default: {
      const unhandled: never = fn;
      return unhandled;
    }
  }
}
