import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Directory, normalizeDn } from '../../src/ldap/index.js';
import { silentLogger, type Entry } from '../../src/shared/index.js';
import { generateLdif, generatedGroupCount, generatedGroupName, generatedMemberships, generatedUid } from '../helpers/ldif-generator.js';
import { attachSlapd, readCompanyLdif, startSlapd } from '../helpers/slapd.js';
import { testProfile } from './test-profile.js';

async function readAll(pages: AsyncIterable<ReadonlyArray<Entry>>): Promise<Entry[]> {
  const entries: Entry[] = [];
  for await (const page of pages) entries.push(...page);
  return entries;
}

describe('the LDIF generator', () => {
  it('writes the same text for the same N', () => {
    const digest = (): string => createHash('sha256').update([...generateLdif({ users: 250 })].join('')).digest('hex');
    expect(digest()).toBe(digest());
  });

  it('gives every user about three groups and every group members', () => {
    const groups = generatedGroupCount(10_000);
    expect(groups).toBe(100);
    const sizes = new Array<number>(groups).fill(0);
    for (let i = 1; i <= 10_000; i++) {
      const memberships = generatedMemberships(i, groups);
      expect(memberships.length).toBeGreaterThanOrEqual(1);
      expect(memberships.length).toBeLessThanOrEqual(3);
      for (const g of memberships) sizes[g] = (sizes[g] ?? 0) + 1;
    }
    expect(Math.min(...sizes)).toBeGreaterThan(0);
  });
});

describe('a slapd loaded offline with generated entries', () => {
  it('holds N users and N/100 groups whose members and memberOf agree', async () => {
    await using slapd = await startSlapd({ generate: { users: 1_000 } });
    await using directory = await Directory.open(testProfile(slapd, { pageSize: 100, groups: { filter: '(objectClass=groupOfNames)' } }), { logger: silentLogger() });
    const users = await readAll(directory.users(['memberOf', 'cn']));
    const groups = await readAll(directory.groups());
    expect(users).toHaveLength(1_000);
    expect(groups).toHaveLength(10);
    expect(users.map((u) => u.attributes.get('uid')?.[0]).sort()).toEqual(Array.from({ length: 1_000 }, (_, i) => generatedUid(i + 1)).sort());
    const membersOf = new Map(groups.map((g) => [normalizeDn(g.dn), new Set((g.attributes.get('member') ?? []).map((m) => normalizeDn(String(m))))]));
    for (const user of users) {
      const uid = String(user.attributes.get('uid')?.[0]);
      const expected = generatedMemberships(Number(uid.slice(4)), 10).map((g) => normalizeDn(`cn=${generatedGroupName(g)},ou=groups,dc=example,dc=org`));
      const memberOf = (user.attributes.get('memberof') ?? []).map((v) => normalizeDn(String(v)));
      expect(memberOf.sort()).toEqual(expected.sort());
      for (const group of memberOf) expect(membersOf.get(group)?.has(normalizeDn(user.dn))).toBe(true);
    }
  });
});

describe('the slapd handle', () => {
  it('adds, modifies and deletes with ldap-utils; the memberof overlay fills memberOf online', async () => {
    await using slapd = await startSlapd({ ldif: await readCompanyLdif() });
    await slapd.ldapadd('dn: cn=newcomers,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: newcomers\nmember: uid=judy,ou=people,dc=example,dc=org\n');
    await slapd.ldapmodify('dn: uid=judy,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: title\ntitle: Head of Sales\n');
    await slapd.ldapdelete('uid=erin,ou=people,dc=example,dc=org');
    await using directory = await Directory.open(testProfile(slapd), { logger: silentLogger() });
    const judy = await directory.findUser('judy', ['title', 'memberOf']);
    expect(judy?.attributes.get('title')).toEqual(['Head of Sales']);
    expect(judy?.attributes.get('memberof')).toContain('cn=newcomers,ou=groups,dc=example,dc=org');
    expect(await directory.findUser('erin')).toBeUndefined();
    await expect(slapd.ldapadd('dn: cn=broken,dc=example,dc=org\nobjectClass: nothing\n')).rejects.toThrow(/ldapadd/);
  });

  it('restarts on the same data, is shared through plain data, and cleans up its directory', async () => {
    const slapd = await startSlapd({ ldif: await readCompanyLdif() });
    const countUsers = async (): Promise<number> => {
      await using directory = await Directory.open(testProfile(slapd), { logger: silentLogger() });
      return await directory.count('users');
    };
    await slapd.stop();
    await slapd.stop();
    await slapd.start();
    expect(await countUsers()).toBe(14);

    const shared = attachSlapd(JSON.parse(JSON.stringify(slapd.info())));
    await shared.ldapdelete('uid=bob,ou=people,dc=example,dc=org');
    expect(await countUsers()).toBe(13);
    await shared.dispose();
    expect(existsSync(slapd.dir)).toBe(true);

    await slapd.dispose();
    await slapd.dispose();
    expect(existsSync(slapd.dir)).toBe(false);
  });
});
