import { describe, expect, it } from 'vitest';
import { DslError, compileExpression, type FieldType } from '../../src/dsl/index.js';

interface Reported {
  readonly code: string;
  readonly span: { readonly start: number; readonly end: number };
  readonly hint: string | undefined;
}

function errors(source: string, type: FieldType | 'any' = 'any'): Reported[] {
  const result = compileExpression(source, type);
  if (result.ok) throw new Error(`expected ${source} to be rejected`);
  for (const e of result.errors) expect(e).toBeInstanceOf(DslError);
  return result.errors.map((e) => ({ code: e.code, span: e.span, hint: e.hint }));
}

function accepts(source: string, type: FieldType | 'any' = 'any'): void {
  const result = compileExpression(source, type);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.code} ${e.message}`).join('; '));
}

describe('checker: names', () => {
  it('reports an unknown function at its name, with a did-you-mean', () => {
    const [e] = errors('lowr(mail)');
    expect(e).toMatchObject({ code: 'dsl.unknown-function', span: { start: 0, end: 4 } });
    expect(e!.hint).toContain("'lower'");
    expect(errors("endswith(mail, 'x')")[0]).toMatchObject({ code: 'dsl.unknown-function', span: { start: 0, end: 8 } });
    expect(errors("endswith(mail, 'x')")[0]!.hint).toContain("'endsWith'");
    expect(errors('ismemberof(x)')[0]!.hint).toContain("'isMemberOf'");
  });

  it('gives no suggestion when nothing is close', () => {
    expect(errors('frobnicate(mail)')[0]).toMatchObject({ code: 'dsl.unknown-function', hint: undefined });
  });

  it('reports every unknown function in one pass, inside lambdas too', () => {
    expect(errors("concat(lowr(cn), uper(sn), find(values(mail), m => endWith(m, 'x')))").map((e) => e.span)).toEqual([
      { start: 7, end: 11 },
      { start: 17, end: 21 },
      { start: 51, end: 58 },
    ]);
  });

  it('reads any bare name as an attribute, so an unknown attribute is not an error', () => {
    accepts('someAttributeNobodyHas');
    accepts('lower');
  });
});

describe('checker: arity', () => {
  it('reports a wrong argument count over the whole call', () => {
    expect(errors('lower(mail, 1)')[0]).toMatchObject({ code: 'dsl.arity', span: { start: 0, end: 14 } });
    expect(errors('lower()')[0]).toMatchObject({ code: 'dsl.arity', span: { start: 0, end: 7 } });
    expect(errors("x + replace(mail, 'a')")[0]).toMatchObject({ code: 'dsl.arity', span: { start: 4, end: 22 } });
    expect(errors('find(values(mail))')[0]).toMatchObject({ code: 'dsl.arity', span: { start: 0, end: 18 } });
    expect(errors('concat()')[0]).toMatchObject({ code: 'dsl.arity', span: { start: 0, end: 8 } });
    expect(errors('lower(mail, 1)')[0]!.hint).toContain('lower(text)');
  });

  it('accepts optional and repeated arguments', () => {
    accepts('join(values(mail))');
    accepts("join(values(mail), ', ')");
    accepts('substring(cn, 1)');
    accepts('substring(cn, 1, 3)');
    accepts("concat(givenName, ' ', sn, ' (', uid, ')')");
    accepts("coalesce(mail, uid, cn, 'x')");
  });
});

describe('checker: types against the target field', () => {
  it('rejects text for a boolean field, hinting at a test', () => {
    const [e] = errors('mail', 'boolean');
    expect(e).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 4 } });
    expect(e!.hint).toContain('mail != null');
  });

  it('suggests int() for text in an integer field', () => {
    const [e] = errors('quota', 'integer');
    expect(e).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 5 } });
    expect(e!.hint).toContain('int(quota)');
    expect(errors("'1 GiB'", 'integer')[0]!.hint).toContain("bytes('1 GiB')");
  });

  it('rejects numbers, booleans, bytes and lists for a text field', () => {
    expect(errors('1 + 2', 'string')[0]!.hint).toContain('string(1 + 2)');
    expect(errors("ou == 'x'", 'string')[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 9 } });
    expect(errors('objectGUID', 'string')[0]!.hint).toContain('guid(objectGUID)');
    expect(errors('values(mail)', 'string')[0]!.hint).toContain('join(values(mail)');
  });

  it('asks for a fallback when a boolean field could get null', () => {
    const [e] = errors('bool(x)', 'boolean');
    expect(e).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 7 } });
    expect(e!.hint).toContain('bool(x) ?? false');
    accepts('bool(x) ?? true', 'boolean');
  });

  it('accepts what fits', () => {
    accepts("ou != 'Delivering Crew'", 'boolean');
    accepts('(int(userAccountControl) & 2) == 0', 'boolean');
    accepts("bytes('1 GiB')", 'integer');
    accepts('int(quota)', 'integer');
    accepts('null', 'integer');
    accepts("'NL'", 'string');
    accepts('guid(objectGUID)', 'string');
    accepts('filetime(accountExpires)', 'string');
    accepts('values(mail)', 'any');
  });

  it('refuses a single expression for a map field', () => {
    expect(errors('mail', 'map')[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 4 } });
  });
});

describe('checker: operators and arguments', () => {
  it('reports comparisons that can never hold, hinting at a conversion', () => {
    const [e] = errors('ou == 1');
    expect(e).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 7 } });
    expect(e!.hint).toContain('int(ou) == 1');
    accepts('mail == null');
    accepts('null != cn');
  });

  it("refuses '+' between text and a number", () => {
    const [e] = errors('uidNumber + 1');
    expect(e).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 13 } });
    expect(e!.hint).toContain('int(uidNumber)');
    accepts('int(uidNumber) + 1');
    accepts("'a' + uid");
    accepts('values(mail) + values(uid)');
  });

  it('requires booleans for logic, at the offending operand', () => {
    const [e] = errors("mail && ou == 'x'");
    expect(e).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 4 } });
    expect(e!.hint).toContain('mail != null');
    expect(errors('!cn')[0]).toMatchObject({ code: 'dsl.type', span: { start: 1, end: 3 } });
    expect(errors("cn ? 'a' : 'b'")[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 2 } });
  });

  it('needs numbers for arithmetic and flag tests, lists for in, and orders like with like', () => {
    expect(errors('userAccountControl & 2')[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 18 } });
    expect(errors("cn - 'x'")[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 2 } });
    expect(errors("'x' in ou")[0]).toMatchObject({ code: 'dsl.type', span: { start: 7, end: 9 } });
    expect(errors("'x' in ou")[0]!.hint).toContain('values(ou)');
    expect(errors('cn < 3')[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 6 } });
    accepts("'x' in values(ou)");
    accepts("cn < 'M'");
  });

  it('checks argument types at the argument', () => {
    expect(errors('lower(1)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 6, end: 7 } });
    expect(errors("find(mail, m => m == 'x')")[0]).toMatchObject({ code: 'dsl.type', span: { start: 5, end: 9 } });
    expect(errors("find(mail, m => m == 'x')")[0]!.hint).toContain('values(mail)');
    expect(errors("substring(cn, '1')")[0]).toMatchObject({ code: 'dsl.type', span: { start: 14, end: 17 } });
    expect(errors('contains(cn, 1)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 13, end: 14 } });
    expect(errors('find(values(mail), m => length(m))')[0]).toMatchObject({ code: 'dsl.type', span: { start: 24, end: 33 } });
  });

  it('types lambda parameters as the list elements', () => {
    accepts("map(values(mail), m => lower(m) + '!')");
    expect(errors('map(values(mail), m => m + 1)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 23, end: 28 } });
    accepts('some(values(memberOf), g => isMemberOf(g))');
  });

  it('only lets list functions take lambdas, and requires one there', () => {
    expect(errors('lower(x => x)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 6, end: 12 } });
    expect(errors('find(values(mail), mail)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 19, end: 23 } });
  });

  it('takes attribute names written out in values() and attr()', () => {
    accepts("attr('msDS-UserPasswordExpiryTimeComputed')");
    accepts("values('msDS-x')");
    accepts("attr('userCertificate;binary')");
    expect(errors('attr(mail)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 5, end: 9 } });
    expect(errors("attr('not an attribute')")[0]).toMatchObject({ code: 'dsl.type', span: { start: 5, end: 23 } });
    expect(errors('values(dn)')[0]).toMatchObject({ code: 'dsl.type', span: { start: 7, end: 9 } });
    expect(errors('map(values(mail), m => values(m))')[0]).toMatchObject({ code: 'dsl.type', span: { start: 30, end: 31 } });
    expect(errors("values(lower('x'))")[0]).toMatchObject({ code: 'dsl.type', span: { start: 7, end: 17 } });
  });

  it('indexes lists only, with numbers', () => {
    accepts('mail[1]');
    accepts("split(cn, ' ')[-1]");
    expect(errors('dn[0]')[0]).toMatchObject({ code: 'dsl.type', span: { start: 0, end: 2 } });
    expect(errors("mail['constructor']")[0]).toMatchObject({ code: 'dsl.type', span: { start: 5, end: 18 } });
  });

  it('reports every problem of an expression at once', () => {
    expect(errors("lowr(mail) + lower(1) + upper(cn, 2)").map((e) => e.code)).toEqual([
      'dsl.unknown-function',
      'dsl.type',
      'dsl.arity',
    ]);
  });
});

describe('checker: constant parts are evaluated when compiled', () => {
  it("reports int('abc') at load time, where it stands", () => {
    expect(errors("concat(cn, string(int('abc')))")).toMatchObject([{ code: 'dsl.runtime', span: { start: 18, end: 28 } }]);
    expect(errors("bytes('1 GB B')")).toMatchObject([{ code: 'dsl.runtime', span: { start: 0, end: 15 } }]);
    expect(errors("isMemberOf('not a dn')")).toMatchObject([{ code: 'dsl.runtime', span: { start: 11, end: 21 } }]);
    expect(errors('3 / 2', 'integer')).toMatchObject([{ code: 'dsl.type', span: { start: 0, end: 5 } }]);
  });
});
