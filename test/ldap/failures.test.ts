import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory, LdapError } from '../../src/ldap/index.js';
import { silentLogger, type Entry } from '../../src/shared/index.js';
import { readCompanyLdif, startSlapd, type SlapdHandle } from '../helpers/slapd.js';
import { testProfile, type ProfileOverrides } from './test-profile.js';

/*
 * Every failure a directory admin can meet, against a real slapd: the error code, and a message that names the
 * profile and the URL and never the password.
 */
let slapd: SlapdHandle;

beforeAll(async () => {
  slapd = await startSlapd({ ldif: await readCompanyLdif() });
});

afterAll(async () => {
  await slapd?.dispose();
});

const WRONG_PASSWORD = 'not-the-reader-secret';

async function readUsers(target: SlapdHandle, overrides: ProfileOverrides): Promise<Entry[]> {
  await using directory = await Directory.open(testProfile(target, { name: 'acme', ...overrides }), { logger: silentLogger() });
  const entries: Entry[] = [];
  for await (const page of directory.users()) entries.push(...page);
  return entries;
}

async function failure(promise: Promise<unknown>): Promise<LdapError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LdapError);
  return err as LdapError;
}

/** What a log line or a CLI would show of the error, whichever way it is printed. */
function everyRendering(err: LdapError): string {
  return [err.message, err.format(), inspect(err, { depth: 5 }), JSON.stringify(err), String(err.stack)].join('\n');
}

function expectNamesProfileAndUrl(err: LdapError, url: string): void {
  expect(err.message).toContain('profile acme');
  expect(err.message).toContain(url);
  expect(err.where.profile).toBe('acme');
  expect(err.where.url).toBe(url);
}

describe('LDAP failures against a real slapd', () => {
  it('wrong password: invalid credentials (49), naming the bind DN, never the password', async () => {
    const err = await failure(readUsers(slapd, { bindPassword: WRONG_PASSWORD }));
    expect(err.code).toBe('ldap.invalid-credentials');
    expect(err.resultCode).toBe(49);
    expect(err.message).toContain(slapd.readerDN);
    expectNamesProfileAndUrl(err, slapd.url);
    expect(everyRendering(err)).not.toContain(WRONG_PASSWORD);
    expect(everyRendering(err)).not.toContain(slapd.readerPassword);
  });

  it('wrong base DN: no such object (32), naming the base DN and what the server does know', async () => {
    const err = await failure(readUsers(slapd, { users: { baseDN: 'ou=staff,dc=example,dc=org' } }));
    expect(err.code).toBe('ldap.no-such-object');
    expect(err.resultCode).toBe(32);
    expect(err.message).toContain('ou=staff,dc=example,dc=org');
    expect(err.message).toContain('dc=example,dc=org');
    expect(err.where.dn).toBe('ou=staff,dc=example,dc=org');
    expectNamesProfileAndUrl(err, slapd.url);
    expect(everyRendering(err)).not.toContain(slapd.readerPassword);
  });

  it('stopped server: connection refused', async () => {
    await slapd.stop();
    try {
      const err = await failure(readUsers(slapd, {}));
      expect(err.code).toBe('ldap.connection-refused');
      expectNamesProfileAndUrl(err, slapd.url);
      const overTls = await failure(readUsers(slapd, { url: slapd.ldapsUrl }));
      expect(overTls.code).toBe('ldap.connection-refused');
      expectNamesProfileAndUrl(overTls, slapd.ldapsUrl);
    } finally {
      await slapd.start();
    }
    expect(await readUsers(slapd, {})).toHaveLength(14);
  });

  it('unknown host: a DNS failure', async () => {
    const err = await failure(readUsers(slapd, { url: 'ldap://ldap.does-not-exist.invalid:389' }));
    expect(err.code).toBe('ldap.dns');
    expectNamesProfileAndUrl(err, 'ldap://ldap.does-not-exist.invalid:389');
  });

  it('a server that accepts the connection and then says nothing: operation timeout', async () => {
    slapd.pause();
    try {
      const started = Date.now();
      const err = await failure(readUsers(slapd, { timeouts: { operation: 300 } }));
      expect(err.code).toBe('ldap.timeout');
      expect(err.message).toContain('timeouts.operation');
      expect(Date.now() - started).toBeLessThan(3_000);
      expectNamesProfileAndUrl(err, slapd.url);
    } finally {
      slapd.resume();
    }
  });

  it('a TLS handshake that never completes: connect timeout', async () => {
    slapd.pause();
    try {
      const err = await failure(readUsers(slapd, { url: slapd.ldapsUrl, timeouts: { connect: 300 } }));
      expect(err.code).toBe('ldap.timeout');
      expect(err.message).toContain('timeouts.connect');
      expectNamesProfileAndUrl(err, slapd.ldapsUrl);
    } finally {
      slapd.resume();
    }
  });

  it('a server that stops answering in the middle of a read: timeout, not a short result', async () => {
    await using directory = await Directory.open(testProfile(slapd, { name: 'acme', pageSize: 2, timeouts: { operation: 300 } }), { logger: silentLogger() });
    let read = 0;
    const err = await failure(
      (async () => {
        for await (const page of directory.users()) {
          read += page.length;
          slapd.pause();
        }
      })(),
    ).finally(() => slapd.resume());
    expect(err.code).toBe('ldap.timeout');
    expect(read).toBeLessThan(14);
  });
});

describe('a server that goes away during a read', () => {
  it('is an error (server gone), never the end of the data', async () => {
    // Large pages of a generated directory, so that the server is stopped while it is sending one.
    await using big = await startSlapd({ generate: { users: 20_000 } });
    await using directory = await Directory.open(testProfile(big, { name: 'acme', pageSize: 5_000 }), { logger: silentLogger() });
    let read = 0;
    const err = await failure(
      (async () => {
        for await (const page of directory.users()) {
          read += page.length;
          if (read === 5_000) await big.stop();
        }
      })(),
    );
    expect(err.code).toBe('ldap.server-gone');
    expect(err.message).toContain('incomplete');
    expectNamesProfileAndUrl(err, big.url);
    expect(read).toBeLessThan(20_000);
  });
});

describe('size limits', () => {
  it('a limit on the whole paged read cuts it short with an error, not with fewer entries', async () => {
    await using limited = await startSlapd({ ldif: await readCompanyLdif(), readerPagedTotalLimit: 8 });
    const err = await failure(readUsers(limited, { pageSize: 3 }));
    expect(err.code).toBe('ldap.size-limit');
    expect(err.resultCode).toBe(4);
    expectNamesProfileAndUrl(err, limited.url);
  });
});
