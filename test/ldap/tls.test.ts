import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory, LdapError } from '../../src/ldap/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { readCompanyLdif, startSlapd, type SlapdHandle } from '../helpers/slapd.js';
import { testProfile, type ProfileOverrides } from './test-profile.js';

let slapd: SlapdHandle;

beforeAll(async () => {
  slapd = await startSlapd({ ldif: await readCompanyLdif() });
});

afterAll(async () => {
  await slapd?.dispose();
});

async function countUsers(overrides: ProfileOverrides): Promise<number> {
  await using directory = await Directory.open(testProfile(slapd, overrides), { logger: silentLogger() });
  return await directory.count('users');
}

async function failure(overrides: ProfileOverrides): Promise<LdapError> {
  const err = await countUsers(overrides).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LdapError);
  return err as LdapError;
}

describe('TLS against a real slapd with a CA made for the run', () => {
  it('reads over StartTLS and over ldaps when tls.caFile holds the CA', async () => {
    expect(await countUsers({ startTLS: true })).toBe(14);
    expect(await countUsers({ url: slapd.ldapsUrl })).toBe(14);
    expect(await countUsers({ url: `ldaps://localhost:${slapd.ldapsPort}` })).toBe(14);
  });

  it('names the certificate and points at tls.caFile when the CA is not trusted (ldaps)', async () => {
    const err = await failure({ url: slapd.ldapsUrl, tls: { caFile: undefined } });
    expect(err.code).toBe('ldap.tls');
    expect(err.message).toContain('CN=localhost');
    expect(err.message).toContain('CN=ldapsync test CA');
    expect(err.message).toContain('tls.caFile');
    expect(err.message).toContain(slapd.ldapsUrl);
    expect(err.message).toContain('profile company');
  });

  it('fails the same way over StartTLS', async () => {
    const err = await failure({ startTLS: true, tls: { caFile: undefined } });
    expect(err.code).toBe('ldap.tls');
    expect(err.message).toContain('tls.caFile');
  });

  it('connects without verification only when tls.rejectUnauthorized is false', async () => {
    expect(await countUsers({ url: slapd.ldapsUrl, tls: { caFile: undefined, rejectUnauthorized: false } })).toBe(14);
  });

  it('checks the name in the certificate, and tls.serverName overrides the name checked', async () => {
    expect(await countUsers({ url: slapd.ldapsUrl, tls: { serverName: 'localhost' } })).toBe(14);
    const err = await failure({ url: slapd.ldapsUrl, tls: { serverName: 'ldap.example.org' } });
    expect(err.code).toBe('ldap.tls');
    expect(err.message).toContain('tls.serverName');
    expect(err.message).toContain('DNS:localhost');
  });

  it('says so when tls.caFile cannot be read', async () => {
    const err = await failure({ url: slapd.ldapsUrl, tls: { caFile: '/nonexistent/ca.pem' } });
    expect(err.code).toBe('ldap.tls');
    expect(err.message).toContain('/nonexistent/ca.pem');
  });

  it('reports a TLS failure when an ldaps:// URL points at a plain LDAP port', async () => {
    const err = await failure({ url: `ldaps://127.0.0.1:${slapd.port}` });
    expect(err.code).toBe('ldap.tls');
  });

  it('reports StartTLS as unsupported by a server without TLS', async () => {
    await using plain = await startSlapd({ tls: false });
    const err = (await Directory.open(testProfile(plain, { startTLS: true }), { logger: silentLogger() }).catch((e: unknown) => e)) as LdapError;
    expect(err).toBeInstanceOf(LdapError);
    expect(err.code).toBe('ldap.starttls-unsupported');
    expect(err.message).toContain(plain.url);
  });
});
