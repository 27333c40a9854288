import { describe, expect, it } from 'vitest';
import { parseLogin, routeLogin, storedLoginOf } from '../../src/auth/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';

function config(defaultDomain?: string): Config {
  const text = `
store: { url: "pglite:///tmp/unused" }
${defaultDomain === undefined ? '' : `defaultDomain: ${defaultDomain}`}
servers:
  corp:
    url: ldap://dc1
    domains: [Corp.Example, corp-alias.example]
    users: { baseDN: "dc=corp,dc=example" }
  lab:
    url: ldap://lab
    domains: [lab.example]
    users: { baseDN: "dc=lab,dc=example" }
`;
  const result = parseConfig(text, '/tmp/ldapsync.yaml', {}, () => '');
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

describe('parseLogin', () => {
  it('splits at the last @ and lower-cases the domain only', () => {
    expect(parseLogin('Alice@Corp.Example')).toEqual({ name: 'Alice', domain: 'corp.example' });
    expect(parseLogin('  bob  ')).toEqual({ name: 'bob', domain: undefined });
    expect(parseLogin('a@b@lab.example')).toEqual({ name: 'a@b', domain: 'lab.example' });
    expect(parseLogin('@lab.example')).toEqual({ name: '', domain: 'lab.example' });
    expect(parseLogin('carol@')).toEqual({ name: 'carol', domain: '' });
  });
});

describe('routeLogin', () => {
  it('finds the profile listing the domain, in any case, including a second domain', () => {
    const c = config();
    expect(routeLogin(parseLogin('alice@CORP.example'), c)).toMatchObject({ kind: 'profile', name: 'alice', domain: 'corp.example', profile: { name: 'corp' } });
    expect(routeLogin(parseLogin('alice@corp-alias.example'), c)).toMatchObject({ kind: 'profile', profile: { name: 'corp' } });
    expect(routeLogin(parseLogin('x@lab.example'), c)).toMatchObject({ kind: 'profile', profile: { name: 'lab' } });
  });

  it('calls a domain nobody lists unknown, and a bare name unknown without a default domain', () => {
    const c = config();
    expect(routeLogin(parseLogin('alice@elsewhere.example'), c)).toEqual({ kind: 'unknown-domain', name: 'alice', domain: 'elsewhere.example' });
    expect(routeLogin(parseLogin('alice'), c)).toEqual({ kind: 'unknown-domain', name: 'alice', domain: null });
    expect(routeLogin(parseLogin('alice@'), c)).toEqual({ kind: 'unknown-domain', name: 'alice', domain: '' });
  });

  it('sends a bare name to the default domain', () => {
    const c = config('Lab.Example');
    expect(routeLogin(parseLogin('alice'), c)).toMatchObject({ kind: 'profile', domain: 'lab.example', profile: { name: 'lab' } });
  });
});

describe('storedLoginOf', () => {
  it('is username@primary-domain, as a sync writes it', () => {
    const c = config();
    expect(storedLoginOf(c.servers.get('corp') as NonNullable<ReturnType<Config['servers']['get']>>, 'Alice')).toBe('Alice@corp.example');
  });
});
