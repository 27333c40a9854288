import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../src/config/index.js';
import { checkPassword, Directory, identityOf, LdapError } from '../../src/ldap/index.js';
import { createLogger, silentLogger, type Entry } from '../../src/shared/index.js';
import {
  AD_BASE_DN,
  AD_SERVICE_DN,
  AD_SERVICE_DOWN_LEVEL,
  AD_SERVICE_UPN,
  AD_USER_PASSWORD,
  AD_USERS_DN,
  sambaUnavailable,
  startSamba,
  type SambaHandle,
} from '../helpers/samba.js';
import { loadAdProfile, type AdConfigOptions } from './ad-config.js';

/** The reading stage against a real Active Directory: binds, AD's refusals, identities, references, nesting. */

const unavailable = sambaUnavailable();
if (unavailable !== undefined) console.warn(unavailable);

const dn = (cn: string): string => `CN=${cn},${AD_USERS_DN}`;
const ALICE = dn('Alice Adams');
const BOB = dn('Bob Baker');
const CAROL = dn('Carol Clark');
const DAVE = dn('Dave Dunn');
const JUERGEN = dn('Jürgen Müller');

async function readAll(pages: AsyncIterable<ReadonlyArray<Entry>>): Promise<Entry[]> {
  const entries: Entry[] = [];
  for await (const page of pages) entries.push(...page);
  return entries;
}

function text(entry: Entry | undefined, name: string): string[] {
  return (entry?.attributes.get(name) ?? []).map((v) => (typeof v === 'string' ? v : Buffer.from(v).toString('utf8')));
}

describe.skipIf(unavailable !== undefined)(unavailable ?? 'Active Directory (Samba AD DC on 127.0.0.2): reading', () => {
  let samba: SambaHandle;

  beforeAll(async () => {
    samba = await startSamba({ address: '127.0.0.2', staff: 0 });
  }, 180_000);

  afterAll(async () => {
    await samba?.dispose();
  });

  async function withDirectory<T>(options: AdConfigOptions, fn: (directory: Directory, profile: Profile) => Promise<T>, logger = silentLogger()): Promise<T> {
    const profile = loadAdProfile(samba, options);
    const directory = await Directory.open(profile, { logger, debug: true });
    try {
      return await fn(directory, profile);
    } finally {
      await directory.close();
    }
  }

  it.each([
    ['its DN', AD_SERVICE_DN],
    ['its UPN', AD_SERVICE_UPN],
    ['DOMAIN\\user', AD_SERVICE_DOWN_LEVEL],
  ])('binds as the service account by %s and reads the people of CN=Users, without the computer', async (_, bindDN) => {
    const names = await withDirectory({ bindDN }, async (directory, profile) => (await readAll(directory.users(profile.users.mapping.attributes))).map((e) => text(e, 'samaccountname')[0]));
    expect(names).toEqual(expect.arrayContaining(['Administrator', 'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'jmueller']));
    expect(names).not.toContain('WS01$');
  });

  it.each([
    ['a wrong service password', AD_SERVICE_UPN, 'not-the-password', 'wrong password (AD 52e)'],
    ['a disabled account', 'carol@example.com', AD_USER_PASSWORD, 'account disabled (AD 533)'],
    ['an expired account', 'erin@example.com', AD_USER_PASSWORD, 'account expired (AD 701)'],
    ['a password that must be changed', 'frank@example.com', AD_USER_PASSWORD, 'password must be reset (AD 773)'],
  ])('a bind refused for %s says why in words', async (_, bindDN, password, words) => {
    const failure = await withDirectory({ bindDN, password }, async () => undefined).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LdapError);
    expect((failure as LdapError).code).toBe('ldap.invalid-credentials');
    expect((failure as LdapError).resultCode).toBe(49);
    expect((failure as LdapError).message).toContain(`invalid credentials for ${bindDN} (49 invalidCredentials): ${words}`);
    expect((failure as LdapError).message).not.toContain(password);
  });

  it("a user's password check tells AD's reason for a refusal apart from a wrong password", async () => {
    const profile = loadAdProfile(samba);
    const check = (userDn: string, password: string): ReturnType<typeof checkPassword> => checkPassword(profile, userDn, password, { logger: silentLogger() });
    expect(await check(ALICE, AD_USER_PASSWORD)).toEqual({ kind: 'accepted' });
    expect(await check(ALICE, 'not-the-password')).toEqual({ kind: 'refused', adReason: { subcode: '52e', reason: 'wrong password' } });
    expect(await check(CAROL, AD_USER_PASSWORD)).toEqual({ kind: 'refused', adReason: { subcode: '533', reason: 'account disabled' } });
    expect(await check(dn('Erin Evans'), AD_USER_PASSWORD)).toEqual({ kind: 'refused', adReason: { subcode: '701', reason: 'account expired' } });
  });

  it('stores objectGUID as the canonical GUID string: the one the server finds by <GUID=...> and reports in extended DNs', async () => {
    const alice = await withDirectory({}, async (directory) => directory.findUser('alice', ['objectGUID']));
    const guid = identityOf(alice as Entry, 'objectGUID');
    expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const [byGuid] = await samba.search(`<GUID=${guid}>`, 'base', '(objectClass=*)', ['sAMAccountName']);
    expect(byGuid?.dn).toBe(ALICE);
    expect(text(byGuid, 'samaccountname')).toEqual(['alice']);

    // The extended DN control makes the server write the GUID itself: <GUID=...>;<SID=...>;CN=...
    const [extended] = await samba.search(ALICE, 'base', '(objectClass=*)', ['1.1'], ['-E', 'extendedDn=1']);
    expect(extended?.dn.startsWith(`<GUID=${guid}>;<SID=S-1-5-21-`)).toBe(true);
  });

  it('reads a subtree from the domain root: the continuation reference to CN=Configuration is skipped, not chased and not fatal', async () => {
    // The server does send the reference for such a search.
    const raw = await samba.ldapsearch(['-LLL', '-o', 'ldif-wrap=no', '-b', AD_BASE_DN, '(sAMAccountName=alice)', 'dn']);
    expect(raw).toMatch(/^# refldaps?:\/\/example\.com\/CN=Configuration,DC=example,DC=com$/m);

    const entries = await withDirectory({ users: { baseDN: AD_BASE_DN } }, async (directory) => readAll(directory.users(['sAMAccountName'])));
    const names = entries.map((e) => text(e, 'samaccountname')[0]);
    expect(names).toEqual(expect.arrayContaining(['ldapsync', 'alice', 'jmueller']));
    expect(entries.find((e) => text(e, 'samaccountname')[0] === 'jmueller')?.dn).toBe(JUERGEN);
  });

  it('asks for group members in ranges (type: ad) and hands on each member list whole, under its plain name', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done): void {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const groups = await withDirectory({}, async (directory, profile) => readAll(directory.groups(profile.groups?.mapping.attributes)), logger);
    const engineering = groups.find((g) => g.dn === dn('Engineering'));
    expect(text(engineering, 'member').sort()).toEqual([ALICE, BOB, JUERGEN].sort());
    expect([...(engineering?.attributes.keys() ?? [])].some((k) => k.includes(';range='))).toBe(false);
    const page = lines.map((l) => JSON.parse(l) as { op?: string; what?: string; attributes?: string[] }).find((l) => l.op === 'search page' && l.what === 'groups');
    expect(page?.attributes).toContain('member;range=0-1499');
    expect(page?.attributes).not.toContain('member');
  });

  it('nested groups: direct members by default, the users in chain as AD resolves them with nestedVia: server', async () => {
    const direct = await withDirectory({}, async (directory, profile) => readAll(directory.groups(profile.groups?.mapping.attributes)));
    expect(text(direct.find((g) => g.dn === dn('Everyone')), 'member').sort()).toEqual([dn('Leads'), CAROL].sort());

    const inChain = await withDirectory({ groups: { nestedVia: 'server' } }, async (directory, profile) => readAll(directory.groups(profile.groups?.mapping.attributes)));
    const members = (cn: string): string[] => text(inChain.find((g) => g.dn === dn(cn)), 'member').sort();
    expect(members('Everyone')).toEqual([ALICE, BOB, CAROL, DAVE, JUERGEN].sort());
    expect(members('Leads')).toEqual([ALICE, BOB, DAVE, JUERGEN].sort());
    expect(members('Engineering')).toEqual([ALICE, BOB, JUERGEN].sort());
    // Only people of the user query: the nested groups themselves are no members here.
    expect(members('Everyone')).not.toContain(dn('Leads'));
  });

  // Last: it changes the domain's lockout policy.
  it('a locked-out account is refused as locked out (AD 775), even with the right password', async () => {
    await samba.ldapmodify(`dn: ${AD_BASE_DN}\nchangetype: modify\nreplace: lockoutThreshold\nlockoutThreshold: 2\n`);
    for (let i = 0; i < 2; i++) {
      const wrong = await withDirectory({ bindDN: 'bob@example.com', password: 'not-the-password' }, async () => undefined).catch((err: unknown) => err);
      expect((wrong as LdapError).message).toContain('wrong password (AD 52e)');
    }
    const locked = await withDirectory({ bindDN: 'bob@example.com', password: AD_USER_PASSWORD }, async () => undefined).catch((err: unknown) => err);
    expect((locked as LdapError).code).toBe('ldap.invalid-credentials');
    expect((locked as LdapError).message).toContain('account locked out (AD 775)');
  });
});
