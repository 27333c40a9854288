import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory, LdapError, normalizeDn, verifyPassword } from '../../src/ldap/index.js';
import { createLogger, silentLogger, type Entry } from '../../src/shared/index.js';
import { readCompanyLdif, startSlapd, type SlapdHandle } from '../helpers/slapd.js';
import { testProfile, type ProfileOverrides } from './test-profile.js';

const JPEG = Uint8Array.from(Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==', 'base64'));
const PEOPLE = [
  'uid=alice',
  'uid=zoe',
  'cn=Smith\\, John',
  'cn=José Núñez',
  'uid=bob',
  'uid=carol',
  'uid=dave',
  'uid=erin',
  'uid=frank',
  'uid=grace',
  'uid=heidi',
  'uid=ivan',
  'uid=judy',
  'cn=Tricky Name',
].map((rdn) => normalizeDn(`${rdn},ou=people,dc=example,dc=org`));

let slapd: SlapdHandle;

beforeAll(async () => {
  slapd = await startSlapd({ ldif: await readCompanyLdif() });
});

afterAll(async () => {
  await slapd?.dispose();
});

async function open(overrides: ProfileOverrides = {}): Promise<Directory> {
  return Directory.open(testProfile(slapd, overrides), { logger: silentLogger() });
}

async function readAll(pages: AsyncIterable<ReadonlyArray<Entry>>): Promise<{ entries: Entry[]; pages: number }> {
  const entries: Entry[] = [];
  let count = 0;
  for await (const page of pages) {
    count++;
    entries.push(...page);
  }
  return { entries, pages: count };
}

function byUid(entries: ReadonlyArray<Entry>, uid: string): Entry {
  const found = entries.find((e) => e.attributes.get('uid')?.includes(uid));
  if (found === undefined) throw new Error(`no entry with uid ${uid}`);
  return found;
}

describe('Directory against a real slapd (the company fixture)', () => {
  it('reads every user through paging although the reader may get only 5 entries per search', async () => {
    // Without paging the reader gets 5 entries and a size-limit error; the fixture has 14 users.
    await using directory = await open({ pageSize: 4 });
    const { entries, pages } = await readAll(directory.users());
    expect(pages).toBe(4);
    expect(entries.map((e) => normalizeDn(e.dn)).sort()).toEqual([...PEOPLE].sort());
    expect(await directory.count('users')).toBe(14);
  });

  it('reads the same entries when range retrieval is on (serverType ad or generic; slapd never sends ranges)', async () => {
    await using directory = await open({ serverType: 'generic', pageSize: 5 });
    const { entries } = await readAll(directory.users(['member', 'mail']));
    expect(entries.map((e) => normalizeDn(e.dn)).sort()).toEqual([...PEOPLE].sort());
    expect(byUid(entries, 'alice').attributes.get('mail')).toHaveLength(3);
  });

  it('reads every user with a page size above the size limit too', async () => {
    await using directory = await open({ pageSize: 500 });
    const { entries } = await readAll(directory.users());
    expect(entries).toHaveLength(14);
  });

  it('returns values as the directory holds them: several mails, non-ASCII text, binary bytes, identities', async () => {
    await using directory = await open();
    const { entries } = await readAll(directory.users(['cn', 'mail', 'jpegPhoto', 'sn']));
    const alice = byUid(entries, 'alice');
    expect(alice.attributes.get('mail')).toEqual(['alice@example.org', 'alice.andersen@example.org', 'a.andersen@example.com']);
    expect(alice.attributes.get('jpegphoto')).toEqual([JPEG]);
    expect(alice.attributes.get('jpegphoto')?.[0]).toBeInstanceOf(Uint8Array);
    expect(alice.attributes.get('entryuuid')?.[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(byUid(entries, 'zoe').attributes.get('cn')).toEqual(['Zoë Ångström']);
    expect(byUid(entries, 'ivan').attributes.get('cn')).toEqual(['Иван Иванов', 'Ivan Ivanov']);
    const jsmith = byUid(entries, 'jsmith');
    expect(normalizeDn(jsmith.dn)).toBe(normalizeDn('cn=Smith\\, John,ou=people,dc=example,dc=org'));
    expect(jsmith.attributes.get('cn')).toEqual(['Smith, John']);
    expect(byUid(entries, 'jnunez').dn).toBe('cn=José Núñez,ou=people,dc=example,dc=org');
    // Only what was asked for (plus uid and entryUUID, which the reader always adds).
    expect([...alice.attributes.keys()].sort()).toEqual(['cn', 'entryuuid', 'jpegphoto', 'mail', 'sn', 'uid']);
  });

  it('matches attribute names case-insensitively, in requests, in the profile and in results', async () => {
    await using directory = await open({ users: { usernameAttribute: 'UID', idAttribute: 'EntryUUID' } });
    const { entries } = await readAll(directory.users(['MAIL', 'Cn', 'memberOF']));
    const alice = byUid(entries, 'alice');
    expect([...alice.attributes.keys()].sort()).toEqual(['cn', 'entryuuid', 'mail', 'memberof', 'uid']);
    expect(alice.attributes.get('memberof')?.map((v) => normalizeDn(String(v))).sort()).toEqual(
      ['cn=admins,ou=groups,dc=example,dc=org', 'cn=engineering,ou=groups,dc=example,dc=org'].sort(),
    );
  });

  it('returns all user attributes but no operational ones unless named', async () => {
    await using directory = await open();
    const { entries } = await readAll(directory.users());
    const alice = byUid(entries, 'alice');
    expect(alice.attributes.get('title')).toEqual(['Chief Technology Officer']);
    expect(alice.attributes.has('memberof')).toBe(false);
    // entryUUID is operational, and the identity: always there.
    expect(alice.attributes.has('entryuuid')).toBe(true);
  });

  it('reads groups: nested groups, a posixGroup with memberUid, a groupOfUniqueNames', async () => {
    await using directory = await open();
    const { entries } = await readAll(directory.groups(['memberUid', 'uniqueMember', 'description']));
    const group = (cn: string): Entry => entries.find((e) => e.attributes.get('cn')?.[0] === cn) as Entry;
    expect(entries).toHaveLength(6);
    expect(group('staff').attributes.get('member')?.map((v) => normalizeDn(String(v)))).toEqual([
      'cn=engineering,ou=groups,dc=example,dc=org',
      'cn=sales,ou=groups,dc=example,dc=org',
      'uid=frank,ou=people,dc=example,dc=org',
    ]);
    expect(group('engineering').attributes.get('member')?.map((v) => normalizeDn(String(v)))).toContain(normalizeDn('cn=Smith\\, John,ou=people,dc=example,dc=org'));
    expect(group('developers').attributes.get('memberuid')).toEqual(['alice', 'zoe', 'jsmith', 'dave']);
    expect(group('managers').attributes.get('uniquemember')).toHaveLength(2);
    expect(await directory.count('groups')).toBe(6);
  });

  it('applies the profile filter: the disabled account can be left out', async () => {
    await using directory = await open({ users: { filter: '(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))' } });
    expect(await directory.count('users')).toBe(13);
    expect(await directory.findUser('bob')).toBeUndefined();
    expect(await directory.findUser('alice')).toBeDefined();
  });

  it('sends escaped UTF-8 in the profile filter as those bytes, and finds non-ASCII usernames', async () => {
    await using escaped = await open({ users: { filter: '(&(objectClass=inetOrgPerson)(cn=Zo\\c3\\ab \\c3\\85ngstr\\c3\\b6m))' } });
    expect(await escaped.count('users')).toBe(1);
    await using raw = await open({ users: { filter: '(&(objectClass=inetOrgPerson)(cn=Zoë Ångström))' } });
    expect(await raw.count('users')).toBe(1);
    await using byCn = await open({ users: { usernameAttribute: 'cn' } });
    expect((await byCn.findUser('zoë ångström'))?.dn).toBe('uid=zoe,ou=people,dc=example,dc=org');
    expect((await byCn.findUser('Smith, John'))?.attributes.get('uid')).toEqual(['jsmith']);
  });

  it('finds one user by username, case-insensitively, with the attributes asked for', async () => {
    await using directory = await open();
    const alice = await directory.findUser('ALICE', ['cn', 'memberOf']);
    expect(alice?.dn).toBe('uid=alice,ou=people,dc=example,dc=org');
    expect(alice?.attributes.get('memberof')).toHaveLength(2);
    expect(await directory.findUser('nobody')).toBeUndefined();
    expect(await directory.findUser('')).toBeUndefined();
  });

  it('treats filter metacharacters in a username as text: injection finds nothing, the tricky uid finds exactly its user', async () => {
    await using directory = await open();
    expect((await directory.findUser('tri(cky)*\\user'))?.dn).toBe('cn=Tricky Name,ou=people,dc=example,dc=org');
    for (const attempt of ['*', 'a*', '*)(uid=*', 'alice)(|(uid=*', 'alice\0', '\\2a', 'tri(cky)*', '*\\user']) {
      expect(await directory.findUser(attempt), JSON.stringify(attempt)).toBeUndefined();
    }
  });

  it('refuses to pick one of several users matching a username', async () => {
    await using directory = await open({ users: { usernameAttribute: 'departmentNumber' } });
    const failure = await directory.findUser('Engineering').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LdapError);
    expect((failure as LdapError).code).toBe('ldap.ambiguous-user');
    expect((failure as LdapError).message).toContain('departmentNumber=Engineering');
  });

  it("reports the server's root DSE", async () => {
    await using directory = await open();
    const dse = await directory.rootDse();
    expect(dse.namingContexts).toEqual(['dc=example,dc=org']);
    expect(dse.supportedControls).toContain('1.2.840.113556.1.4.319');
    expect(dse.supportedExtensions).toContain('1.3.6.1.4.1.1466.20037');
    expect(dse.supportedLdapVersion).toEqual([3]);
    expect(dse.vendorName).toBe('OpenLDAP');
  });

  it('binds anonymously when the profile has no bind password', async () => {
    await using directory = await open({ bindDN: undefined, bindPassword: undefined });
    expect(await directory.count('users')).toBe(14);
  });

  it('reads users and groups at the same time (each paged read on a connection of its own)', async () => {
    await using directory = await open({ pageSize: 2 });
    let users = 0;
    const groupCounts: number[] = [];
    for await (const page of directory.users(['cn'])) {
      users += page.length;
      groupCounts.push(await directory.count('groups'));
    }
    expect(users).toBe(14);
    expect(groupCounts.every((n) => n === 6)).toBe(true);
  });

  it('does not time out because the caller kept the event loop busy longer than timeouts.operation', async () => {
    await using directory = await open({ pageSize: 4, timeouts: { operation: 100 } });
    let read = 0;
    for await (const page of directory.users()) {
      read += page.length;
      // The next page has been asked for and arrives while this loop blocks.
      const until = Date.now() + 250;
      while (Date.now() < until);
    }
    expect(read).toBe(14);
  });

  it('stops the server-side read when the caller stops early, and the directory stays usable', async () => {
    await using directory = await open({ pageSize: 2 });
    for await (const page of directory.users()) {
      expect(page).toHaveLength(2);
      break;
    }
    expect(await directory.count('users')).toBe(14);
    expect((await directory.findUser('zoe'))?.dn).toBe('uid=zoe,ou=people,dc=example,dc=org');
  });

  it('closes idempotently; a closed directory says so', async () => {
    const directory = await open();
    await directory.close();
    await directory.close();
    const failure = await directory.findUser('alice').catch((err: unknown) => err);
    expect((failure as LdapError).code).toBe('ldap.closed');
    const reading = await readAll(directory.users()).catch((err: unknown) => err);
    expect((reading as LdapError).code).toBe('ldap.closed');
  });

  it('logs each operation at debug level with --debug, without the password', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination });
    const directory = await Directory.open(testProfile(slapd, { pageSize: 5 }), { logger, debug: true });
    await readAll(directory.users());
    await directory.findUser('alice');
    await directory.close();
    const operations = lines.map((l) => (JSON.parse(l) as { op: string }).op);
    expect(operations).toEqual(['connect', 'bind', 'search page', 'search page', 'search page', 'find user', 'unbind']);
    expect(lines.join('\n')).not.toContain(slapd.readerPassword);
    expect(lines.join('\n')).toContain(slapd.readerDN);
  });
});

describe('verifyPassword against a real slapd', () => {
  const profile = (): ReturnType<typeof testProfile> => testProfile(slapd);
  const alice = 'uid=alice,ou=people,dc=example,dc=org';

  it('is true for the right password and false for a wrong one', async () => {
    expect(await verifyPassword(profile(), alice, 'alice-secret', { logger: silentLogger() })).toBe(true);
    expect(await verifyPassword(profile(), alice, 'alice-secreT', { logger: silentLogger() })).toBe(false);
    expect(await verifyPassword(profile(), 'uid=nobody,ou=people,dc=example,dc=org', 'x', { logger: silentLogger() })).toBe(false);
  });

  it('binds over StartTLS and ldaps as the profile says', async () => {
    expect(await verifyPassword(testProfile(slapd, { startTLS: true }), alice, 'alice-secret', { logger: silentLogger() })).toBe(true);
    expect(await verifyPassword(testProfile(slapd, { url: slapd.ldapsUrl }), alice, 'alice-secret', { logger: silentLogger() })).toBe(true);
  });

  it('refuses an empty password or a NUL without asking the server (which would accept an unauthenticated bind)', async () => {
    // Nothing listens on port 1: a connection attempt would fail loudly instead of returning false.
    const unreachable = testProfile(slapd, { url: 'ldap://127.0.0.1:1' });
    expect(await verifyPassword(unreachable, alice, '', { logger: silentLogger() })).toBe(false);
    expect(await verifyPassword(unreachable, alice, 'alice-secret\0', { logger: silentLogger() })).toBe(false);
    expect(await verifyPassword(unreachable, `${alice}\0`, 'alice-secret', { logger: silentLogger() })).toBe(false);
    expect(await verifyPassword(unreachable, '', 'alice-secret', { logger: silentLogger() })).toBe(false);
  });

  it('throws, rather than answering false, when the server cannot be asked', async () => {
    const failure = await verifyPassword(testProfile(slapd, { url: 'ldap://127.0.0.1:1' }), alice, 'alice-secret', { logger: silentLogger() }).catch((err: unknown) => err);
    expect((failure as LdapError).code).toBe('ldap.connection-refused');
  });
});
