import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DslError, compileExpression, compileMapping, interpretMapping, type Value } from '../../src/dsl/index.js';
import { makeEntry, type Entry } from '../../src/shared/index.js';
import { adUser, fry } from './sample-entries.js';

const CODES = new Set([
  'dsl.syntax',
  'dsl.unterminated-string',
  'dsl.unknown-function',
  'dsl.unknown-field',
  'dsl.arity',
  'dsl.type',
  'dsl.forbidden-name',
  'dsl.runtime',
]);

/** Entries whose attribute names are themselves bait. */
const BAIT: Entry = makeEntry(
  'cn=__proto__,dc=constructor',
  // JSON.parse makes __proto__ an own key, as an LDIF or LDAP reader would.
  JSON.parse('{"__proto__": "polluted", "constructor": ["x", "y"], "prototype": "p", "polluted": "yes", "cn": "\'); process.exit(); (\'"}') as Record<string, string | string[]>,
);
const EVALUATED_ON: ReadonlyArray<Entry> = [fry, adUser, BAIT, makeEntry('', {})];

/** What an expression may give: JSON-like data and bytes, lists frozen, nothing with behaviour. */
function assertPlain(value: Value): void {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    expect(Number.isFinite(value)).toBe(true);
    return;
  }
  if (value instanceof Uint8Array) {
    expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
    return;
  }
  expect(Array.isArray(value)).toBe(true);
  expect(Object.getPrototypeOf(value)).toBe(Array.prototype);
  expect(Object.isFrozen(value)).toBe(true);
  for (const item of value as ReadonlyArray<Value>) assertPlain(item);
}

function assertPositioned(error: unknown, source: string): void {
  expect(error).toBeInstanceOf(DslError);
  const e = error as DslError;
  expect(CODES.has(e.code)).toBe(true);
  expect(e.source).toBe(source);
  expect(e.span.start).toBeGreaterThanOrEqual(0);
  expect(e.span.start).toBeLessThanOrEqual(e.span.end);
  expect(e.span.end).toBeLessThanOrEqual(source.length);
  expect(typeof e.caret()).toBe('string');
}

const TOKENS = [
  'constructor', '__proto__', 'prototype', 'this', 'globalThis', 'process', 'require', 'Function', 'eval', 'import',
  'exit', 'mail', 'cn', 'dn', 'lower', 'values', 'find', 'map', 'attr', 'isMemberOf', 'int', 'x', 'in', 'null', 'true',
  '=>', '.', '(', ')', '[', ']', ',', "'", '"', '\\', '`', '${', '}', ' ', '\n', '\t', '+', '-', '*', '/', '%', '==',
  '=', '!', '?', ':', '??', '&&', '||', '&', '0', '2', '1e400', '9007199254740993', '0x', "'\\u{110000}'", "'\\x'",
  "'constructor'", "'__proto__'", "'abc'", '"\\""', "'\\''",
];

const ATTACKS = [
  'process.exit()',
  'globalThis.process',
  "constructor.constructor('return process')()",
  'values(mail).constructor',
  "attr('__proto__')",
  "attr('constructor')",
  "values('__proto__')",
  "''.constructor",
  '`${process.exit()}`',
  'this',
  "require('fs')",
  "import('fs')",
  "eval('1')",
  "mail['__proto__']",
  'map(values(mail), x => x.constructor)',
  "'\\'); process.exit(); (\\''",
  '"\\"); process.exit(); (\\""',
  "'\\\\'); process.exit(); ('",
  'Function("return this")()',
  "concat(cn, '__proto__')",
  "split(cn, '')[0]",
  'mail[constructor]',
  'find(values(mail), __proto__ => true)',
  "lower(attr('polluted'))",
];

const adversarial = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).map((tokens) => tokens.join('')),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 10 }).map((tokens) => tokens.join(' ')),
  fc.constantFrom(...ATTACKS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

describe('property: any text either compiles to plain values or fails with a positioned error', () => {
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  afterAll(() => {
    // Nothing reached a prototype.
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  });

  it('holds for random and adversarial expressions', () => {
    fc.assert(
      fc.property(adversarial, fc.constantFrom('any', 'string', 'boolean', 'integer') as fc.Arbitrary<'any' | 'string' | 'boolean' | 'integer'>, (source, type) => {
        const result = compileExpression(source, type);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) assertPositioned(e, source);
          return;
        }
        for (const entry of EVALUATED_ON) {
          let value: Value;
          try {
            value = result.evaluate(entry);
          } catch (err) {
            assertPositioned(err, source);
            expect((err as DslError).code).toBe('dsl.runtime');
            continue;
          }
          assertPlain(value);
        }
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects each attack at a forbidden name, and leaves quoted attacks as plain text', () => {
    const rejected: Record<string, { start: number; end: number }> = {
      'process.exit()': { start: 0, end: 7 },
      'globalThis.process': { start: 0, end: 10 },
      "constructor.constructor('return process')()": { start: 0, end: 11 },
      'values(mail).constructor': { start: 13, end: 24 },
      "''.constructor": { start: 3, end: 14 },
      this: { start: 0, end: 4 },
      "require('fs')": { start: 0, end: 7 },
      "import('fs')": { start: 0, end: 6 },
      "eval('1')": { start: 0, end: 4 },
      'Function("return this")()': { start: 0, end: 8 },
      'map(values(mail), x => x.constructor)': { start: 25, end: 36 },
      'find(values(mail), __proto__ => true)': { start: 19, end: 28 },
      'mail[constructor]': { start: 5, end: 16 },
    };
    for (const [source, span] of Object.entries(rejected)) {
      const result = compileExpression(source, 'any');
      expect(result.ok, source).toBe(false);
      if (!result.ok) expect(result.errors[0], source).toMatchObject({ code: 'dsl.forbidden-name', span });
    }
    const quoted: Record<string, Value> = {
      "'\\'); process.exit(); (\\''": "'); process.exit(); ('",
      '"\\"); process.exit(); (\\""': '"); process.exit(); ("',
      "concat(cn, '__proto__')": 'Philip J. Fry__proto__',
      "attr('constructor')": 'x',
      "values('constructor')": ['x', 'y'],
      "attr('prototype')": 'p',
    };
    for (const [source, value] of Object.entries(quoted)) {
      const result = compileExpression(source, 'any');
      if (!result.ok) throw new Error(`${source}: ${result.errors[0]?.message}`);
      const entry = source.startsWith('concat') ? fry : BAIT;
      expect(result.evaluate(entry), source).toEqual(value);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Random well-typed expressions: the compiled closures and the reference interpreter must agree.

type Kind = 'string' | 'number' | 'boolean' | 'list';

const ATTRIBUTES = ['mail', 'cn', 'ou', 'uid', 'sn', 'description', 'memberOf', 'employeeNumber', 'Mail', 'missing'];
/** Lambda parameter names; `mail` and `cn` also test that a parameter hides the attribute. */
const PARAMS = ['x', 'y', 'mail', 'cn'];

function quote(text: string, q: "'" | '"'): string {
  let out = q;
  for (const c of text) {
    if (c === '\\' || c === q) out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else out += c;
  }
  return out + q;
}

const textArb = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
  fc.constantFrom('', ' ', '@', ',', 'a', 'cn=a,dc=b', 'CN=A, DC=B', '42', '-3', 'x y', 'ÄÖ', 'TRUE', '1 GiB'),
);
const literalArb = fc.tuple(textArb, fc.constantFrom("'", '"') as fc.Arbitrary<"'" | '"'>).map(([t, q]) => quote(t, q));

const memo = new Map<string, fc.Arbitrary<string>>();

/** An expression of `kind` nested at most `depth` deep, with the lambda parameters `params` in scope. */
function expr(kind: Kind, depth: number, params: ReadonlyArray<string>): fc.Arbitrary<string> {
  const key = `${kind}/${depth}/${params.join(',')}`;
  let arbitrary = memo.get(key);
  if (arbitrary === undefined) {
    arbitrary = buildExpr(kind, depth, params);
    memo.set(key, arbitrary);
  }
  return arbitrary;
}

function buildExpr(kind: Kind, depth: number, params: ReadonlyArray<string>): fc.Arbitrary<string> {
  const leaves = leafArbs(kind, params);
  if (depth <= 0) return fc.oneof(...leaves);
  const d = depth - 1;
  const s = (): fc.Arbitrary<string> => expr('string', d, params);
  const n = (): fc.Arbitrary<string> => expr('number', d, params);
  const b = (): fc.Arbitrary<string> => expr('boolean', d, params);
  const l = (): fc.Arbitrary<string> => expr('list', d, params);
  const lambda = (body: Kind): fc.Arbitrary<string> =>
    fc.constantFrom(...PARAMS).chain((p) => expr(body, d, [...params, p]).map((bodyText) => `${p} => ${bodyText}`));
  const f = (template: (...parts: string[]) => string, ...parts: Array<fc.Arbitrary<string>>): fc.Arbitrary<string> =>
    fc.tuple(...parts).map((values) => template(...values));
  const compound: Record<Kind, Array<fc.Arbitrary<string>>> = {
    string: [
      f((a) => `lower(${a})`, s()),
      f((a) => `upper(${a})`, s()),
      f((a) => `trim(${a})`, s()),
      f((a, c) => `(${a} + ${c})`, s(), s()),
      f((a, c, e) => `concat(${a}, ${c}, ${e})`, s(), s(), n()),
      f((a, c) => `(${a} ?? ${c})`, s(), s()),
      f((t, a, c) => `(${t} ? ${a} : ${c})`, b(), s(), s()),
      f((a, i) => `substring(${a}, ${i})`, s(), n()),
      f((a, i, j) => `substring(${a}, ${i}, ${j})`, s(), n(), n()),
      f((a, sep) => `substringBefore(${a}, ${sep})`, s(), literalArb),
      f((a, sep) => `substringAfter(${a}, ${sep})`, s(), literalArb),
      f((a, x, y) => `replace(${a}, ${x}, ${y})`, s(), literalArb, literalArb),
      f((a) => `first(${a})`, l()),
      f((a) => `last(${a})`, l()),
      f((a, i) => `${a}[${i}]`, l(), n()),
      f((a, sep) => `join(${a}, ${sep})`, l(), literalArb),
      f((a, c) => `default(${a}, ${c})`, s(), s()),
      f((a, c, e) => `coalesce(${a}, ${c}, ${e})`, s(), s(), s()),
      f((a) => `string(${a})`, n()),
      f((a) => `rdn(${a})`, s()),
      f((a) => `normalizeDn(${a})`, s()),
      f((a, c) => `dnComponent(${a}, ${c})`, s(), literalArb),
      f((a, p) => `find(${a}, ${p})`, l(), lambda('boolean')),
      fc.constantFrom(...unshadowed(params)).chain((a) => n().map((i) => `${a}[${i}]`)),
    ],
    number: [
      f((a, c) => `(${a} + ${c})`, n(), n()),
      f((a, c) => `(${a} - ${c})`, n(), n()),
      f((a, c) => `(${a} * ${c})`, n(), n()),
      f((a, c) => `(${a} / ${c})`, n(), n()),
      f((a, c) => `(${a} % ${c})`, n(), n()),
      f((a, c) => `(${a} & ${c})`, n(), n()),
      f((a) => `-${a}`, n()),
      f((a) => `length(${a})`, s()),
      f((a) => `length(${a})`, l()),
      f((a) => `int(${a})`, s()),
      f((a) => `number(${a})`, s()),
      f((a) => `bytes(${a})`, s()),
      f((t, a, c) => `(${t} ? ${a} : ${c})`, b(), n(), n()),
      f((a, c) => `(${a} ?? ${c})`, n(), n()),
    ],
    boolean: [
      f((a, c) => `(${a} == ${c})`, s(), s()),
      f((a, c) => `(${a} != ${c})`, n(), n()),
      f((a, c) => `(${a} < ${c})`, n(), n()),
      f((a, c) => `(${a} >= ${c})`, s(), s()),
      f((a, c) => `(${a} && ${c})`, b(), b()),
      f((a, c) => `(${a} || ${c})`, b(), b()),
      f((a) => `!${a}`, b()),
      f((a, c) => `startsWith(${a}, ${c})`, s(), s()),
      f((a, c) => `endsWith(${a}, ${c})`, s(), s()),
      f((a, c) => `contains(${a}, ${c})`, s(), s()),
      f((a, c) => `(${a} in ${c})`, s(), l()),
      f((a, p) => `some(${a}, ${p})`, l(), lambda('boolean')),
      f((a, p) => `every(${a}, ${p})`, l(), lambda('boolean')),
      f((a) => `isMemberOf(${a})`, s()),
      f((a) => `(bool(${a}) ?? false)`, s()),
      f((a, c) => `(${a} == ${c})`, l(), l()),
    ],
    list: [
      f((a, p) => `filter(${a}, ${p})`, l(), lambda('boolean')),
      f((a, p) => `map(${a}, ${p})`, l(), lambda('string')),
      f((a, c) => `(${a} + ${c})`, l(), l()),
      f((a, sep) => `split(${a}, ${sep})`, s(), literalArb),
      f((a, c) => `[${a}, ${c}]`, s(), s()),
      f((a) => `dnComponents(${a}, 'dc')`, s()),
    ],
  };
  return fc.oneof({ weight: 1, arbitrary: fc.oneof(...leaves) }, { weight: 3, arbitrary: fc.oneof(...compound[kind]) });
}

/** Attributes no lambda parameter hides (values(x) of a parameter is an error). */
function unshadowed(params: ReadonlyArray<string>): string[] {
  return ATTRIBUTES.filter((a) => !params.includes(a));
}

function leafArbs(kind: Kind, params: ReadonlyArray<string>): Array<fc.Arbitrary<string>> {
  switch (kind) {
    case 'string': {
      const leaves = [fc.constantFrom(...ATTRIBUTES), literalArb, fc.constant('dn'), fc.constant("attr('msDS-x')")];
      if (params.length > 0) leaves.push(fc.constantFrom(...params));
      return leaves;
    }
    case 'number':
      return [fc.integer({ min: 0, max: 40 }).map(String), fc.constantFrom('0x10', '2.5', '1e3')];
    case 'boolean':
      return [fc.constantFrom('true', 'false')];
    case 'list':
      return [
        fc.constantFrom(...unshadowed(params)).map((a) => `values(${a})`),
        // An empty list typed as a list of strings (the literal [] has no element type, and the checker rightly
        // calls `'' == first([])` always false).
        fc.constant("filter([''], x => false)"),
        literalArb.map((t) => `[${t}]`),
      ];
    default: {
      const unhandled: never = kind;
      return unhandled;
    }
  }
}

const valueArb = fc.oneof(textArb, fc.constantFrom('cn=Ship_Crew,dc=x', 'CN=ship_crew, DC=X', '7', '2 GiB', 'a@example.com'));
const entryArb: fc.Arbitrary<Entry> = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...ATTRIBUTES.filter((a) => a !== 'missing' && a !== 'Mail'), 'msDS-x'), fc.array(valueArb, { minLength: 1, maxLength: 3 })),
    fc.constantFrom('cn=a,dc=b', 'uid=fry,ou=people,dc=planetexpress,dc=com', '', 'CN=Smith\\, John,DC=x'),
  )
  .map(([attributes, dn]) => makeEntry(dn, attributes));

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('property: compiled and interpreted evaluation agree', () => {
  const kindArb = fc.constantFrom('string', 'number', 'boolean', 'list') as fc.Arbitrary<Kind>;
  const programArb = kindArb.chain((kind) => expr(kind, 3, []));

  it('on random well-typed expressions over random entries', () => {
    let compiledCount = 0;
    fc.assert(
      fc.property(programArb, fc.array(entryArb, { minLength: 1, maxLength: 4 }), (source, entries) => {
        const result = compileMapping('groups', { customFields: { v: source } });
        if (!result.ok) {
          // Well-typed by construction: the only acceptable refusal is a constant part that always fails.
          for (const e of result.errors) expect(e.code, `${source}: ${e.message}`).toBe('dsl.runtime');
          return;
        }
        compiledCount++;
        for (const entry of entries) {
          const fast = outcome(() => result.mapping.map(entry));
          const slow = outcome(() => interpretMapping(result.mapping, entry));
          expect(fast.ok, source).toBe(slow.ok);
          if (fast.ok && slow.ok) {
            expect(fast.value, source).toEqual(slow.value);
          } else if (!fast.ok && !slow.ok) {
            expect(fast.error).toBeInstanceOf(DslError);
            expect(slow.error).toBeInstanceOf(DslError);
            const a = fast.error as DslError;
            const b = slow.error as DslError;
            expect({ code: a.code, field: a.field, span: a.span, message: a.message }, source).toEqual({
              code: b.code,
              field: b.field,
              span: b.span,
              message: b.message,
            });
          }
        }
      }),
      { numRuns: 1500 },
    );
    // The generator must mostly produce programs that compile, or the property says little.
    expect(compiledCount).toBeGreaterThan(1000);
  });
});
