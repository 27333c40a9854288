import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';

describe('interpolate', () => {
  const env = { HOST: 'ldap.example', EMPTY: '' };

  it('expands ${VAR} and ${VAR:-default}; the default also covers an empty variable', () => {
    const result = interpolate('ldap://${HOST}:${PORT:-389}/${EMPTY:-x}', env);
    expect(result).toMatchObject({ ok: true, value: 'ldap://ldap.example:389/x', substituted: true, hasLiteralText: true, variables: ['HOST', 'PORT', 'EMPTY'] });
  });

  it('turns $${ into a literal ${ and leaves other dollars alone', () => {
    expect(interpolate('$${HOME} costs $5 and $$', env)).toMatchObject({ ok: true, value: '${HOME} costs $5 and $$', substituted: false });
  });

  it('maps each offset of the result back to the raw text; substituted text maps to its ${', () => {
    const result = interpolate('a${HOST}b', env);
    if (!result.ok) throw new Error('failed');
    expect(result.value).toBe('aldap.exampleb');
    expect(result.rawOffset(0)).toBe(0);
    expect(result.rawOffset(1)).toBe(1);
    expect(result.rawOffset(12)).toBe(1);
    expect(result.rawOffset(13)).toBe(8);
    expect(result.rawOffset(14)).toBe(9);
  });

  it('says whether anything but references is written, which decides the plain-secret warning', () => {
    expect(interpolate('${HOST}', env)).toMatchObject({ ok: true, hasLiteralText: false });
    expect(interpolate('x${HOST}', env)).toMatchObject({ ok: true, hasLiteralText: true });
  });

  it('reports every unset variable, an unterminated ${ and a bad name, each at its $', () => {
    const result = interpolate('${A}/${B:-ok}/${C}/${bad name}/${D', env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.offset)).toEqual([0, 14, 19, 31]);
  });
});
