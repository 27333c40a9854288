import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreConfig } from '../../src/config/index.js';
import { Directory } from '../../src/ldap/index.js';
import { createLogger, silentLogger, type Entry } from '../../src/shared/index.js';
import { openStore } from '../../src/store/index.js';
import { runSync } from '../../src/sync/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { dropSchema, ensurePostgres, PG_URL, randomSchema, withPgClient } from '../helpers/postgres.js';
import {
  AD_BASE_DN,
  AD_BIG_GROUP_DN,
  AD_SERVICE_DN,
  AD_USER_PASSWORD,
  AD_USERS_DN,
  sambaUnavailable,
  staffName,
  startSamba,
  type SambaHandle,
} from '../helpers/samba.js';
import { adEnv, loadAdConfig, PROFILE, writeAdConfig } from './ad-config.js';

/**
 * examples/active-directory.yaml against a real Active Directory (a Samba AD DC on 127.0.0.3, seeded with the
 * fixture and 1,600 staff in a group of their own): sync users and groups, a change in AD at the next sync,
 * `ldapsync test`, and logins.
 */

const unavailable = sambaUnavailable();
if (unavailable !== undefined) console.warn(unavailable);

const STAFF = 1600;
/** The example's user filter: people, not computers. */
const USER_FILTER = '(&(objectClass=user)(objectCategory=person)(!(objectClass=computer)))';

interface UserRow {
  readonly external_id: string;
  readonly dn: string;
  readonly username: string;
  readonly login: string;
  readonly enabled: boolean;
  readonly email: string | null;
  readonly display_name: string | null;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly job_title: string | null;
  readonly department: string | null;
  readonly organization: string | null;
  readonly state: string | null;
  readonly user_custom_fields: Record<string, unknown> | null;
}

/** The JSON lines a CLI run logged on stderr (the audit trail). */
function logLines(result: CliResult): Array<Record<string, unknown>> {
  return result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function text(entry: Entry | undefined, name: string): string[] {
  return (entry?.attributes.get(name) ?? []).map((v) => (typeof v === 'string' ? v : Buffer.from(v).toString('utf8')));
}

describe.skipIf(unavailable !== undefined)(unavailable ?? 'Active Directory (Samba AD DC on 127.0.0.3): sync, test and login with the example', () => {
  let samba: SambaHandle;
  let dir: string;
  /** The example as it is (users and groups under CN=Users), on a schema of its own. */
  let exampleStore: StoreConfig;
  let configFile: string;
  const schemas: string[] = [];

  beforeAll(async () => {
    [samba] = await Promise.all([startSamba({ address: '127.0.0.3', staff: STAFF }), ensurePostgres()]);
    dir = await mkdtemp(join(tmpdir(), 'ldapsync-ad-'));
    exampleStore = newStore();
    configFile = await writeAdConfig(dir, samba, { store: exampleStore });
  }, 180_000);

  afterAll(async () => {
    await samba?.dispose();
    await Promise.all(schemas.map((s) => dropSchema(s)));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  function newStore(): StoreConfig {
    const schema = randomSchema('ad');
    schemas.push(schema);
    return { url: PG_URL, schema };
  }

  function cli(args: ReadonlyArray<string>, options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
    return runCli(['-c', configFile, ...args], { env: { ...adEnv(), ...options.env }, input: options.input });
  }

  async function users(store: StoreConfig): Promise<Map<string, UserRow>> {
    const { rows } = await withPgClient((c) => c.query<UserRow>(`SELECT * FROM ${pg.escapeIdentifier(store.schema)}.users WHERE source = $1 AND removed_at IS NULL`, [PROFILE]));
    return new Map(rows.map((r) => [r.username, r]));
  }

  /** Group name -> usernames of its members, sorted. */
  async function memberships(store: StoreConfig): Promise<Map<string, string[]>> {
    const s = pg.escapeIdentifier(store.schema);
    const { rows } = await withPgClient((c) =>
      c.query<{ name: string; members: string[] }>(
        `SELECT g.name, coalesce(array_agg(u.username ORDER BY u.username) FILTER (WHERE u.id IS NOT NULL), '{}') AS members
           FROM ${s}.groups g LEFT JOIN ${s}.group_members m ON m.group_id = g.id LEFT JOIN ${s}.users u ON u.id = m.user_id
          WHERE g.source = $1 AND g.removed_at IS NULL GROUP BY g.name`,
        [PROFILE],
      ),
    );
    return new Map(rows.map((r) => [r.name, r.members]));
  }

  /** What the server itself says the example's user query matches: sAMAccountNames, sorted. */
  async function serverUsernames(): Promise<string[]> {
    const entries = await samba.search(AD_USERS_DN, 'sub', USER_FILTER, ['sAMAccountName']);
    return entries.map((e) => text(e, 'samaccountname')[0] ?? '').sort();
  }

  it('the example syncs the people of CN=Users: objectGUID as identity, the AD mapping, a disabled account stored disabled', async () => {
    const result = await cli(['sync', 'users', PROFILE, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const rows = await users(exampleStore);
    expect([...rows.keys()].sort()).toEqual(await serverUsernames());
    expect(rows.has('WS01$')).toBe(false);

    const alice = rows.get('alice');
    expect(alice).toMatchObject({
      dn: `CN=Alice Adams,${AD_USERS_DN}`,
      login: 'alice@example.com',
      enabled: true,
      email: 'alice@example.com',
      display_name: 'Alice Adams',
      first_name: 'Alice',
      last_name: 'Adams',
      job_title: 'Engineer',
      department: 'Research',
      organization: 'Example Corp',
      state: 'Noord-Holland',
    });
    expect(alice?.user_custom_fields).toMatchObject({ employeeID: 'E1001', accountExpires: null, guid: alice?.external_id });
    expect(alice?.user_custom_fields?.['whenChanged']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    // The stored identity is the canonical GUID: the server finds the entry by it.
    const [byGuid] = await samba.search(`<GUID=${alice?.external_id}>`, 'base', '(objectClass=*)', ['sAMAccountName']);
    expect(byGuid?.dn).toBe(alice?.dn);

    expect(rows.get('bob')).toMatchObject({ enabled: true, email: 'bob@example.com', display_name: 'Bob Baker' });
    expect(rows.get('carol')).toMatchObject({ enabled: false, login: 'carol@example.com' });
    expect(rows.get('dave')?.user_custom_fields).toMatchObject({ accountExpires: '2031-01-01T00:00:00.000Z' });
    expect(rows.get('erin')?.user_custom_fields).toMatchObject({ accountExpires: '2020-01-01T00:00:00.000Z' });
    expect(rows.get('jmueller')).toMatchObject({ dn: `CN=Jürgen Müller,${AD_USERS_DN}`, first_name: 'Jürgen', last_name: 'Müller', display_name: 'Jürgen Müller' });
    expect(rows.get('Guest')?.enabled).toBe(false);
  });

  it('the example syncs the groups of CN=Users with nested groups flattened', async () => {
    const result = await cli(['sync', 'groups', PROFILE, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const groups = await memberships(exampleStore);
    expect(groups.get('Engineering')).toEqual(['alice', 'bob', 'jmueller']);
    expect(groups.get('Leads')).toEqual(['alice', 'bob', 'dave', 'jmueller']);
    expect(groups.get('Everyone')).toEqual(['alice', 'bob', 'carol', 'dave', 'jmueller']);
    expect(groups.get('Domain Admins')).toEqual(['Administrator']);
    // Its members live in OU=Staff, outside this profile's users: none resolve here (see the sync from the root).
    expect(groups.get('All Staff')).toEqual([]);
  });

  it('reads a group of 1,600 members to its end: asked for in ranges of 1,500 and merged', async () => {
    const lines: Array<{ op?: string; attributes?: string[]; base?: string }> = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done): void {
          lines.push(JSON.parse(chunk.toString('utf8')) as { op?: string });
          done();
        },
      }),
    });
    const profile = loadAdConfig(samba).servers.get(PROFILE);
    if (profile?.groups === undefined) throw new Error('the example has no groups');
    const directory = await Directory.open(profile, { logger, debug: true });
    let big: Entry | undefined;
    try {
      for await (const page of directory.groups(profile.groups.mapping.attributes)) big ??= page.find((g) => g.dn === AD_BIG_GROUP_DN);
    } finally {
      await directory.close();
    }
    const members = text(big, 'member');
    expect(members).toHaveLength(STAFF);
    expect(new Set(members).size).toBe(STAFF);
    expect(members).toContain(`CN=${staffName(1)},OU=Staff,${AD_BASE_DN}`);
    expect(members).toContain(`CN=${staffName(STAFF)},OU=Staff,${AD_BASE_DN}`);
    expect(lines.find((l) => l.op === 'search page')?.attributes).toContain('member;range=0-1499');
    expect(lines.filter((l) => l.op === 'search' && l.base === AD_BIG_GROUP_DN).map((l) => l.attributes)).toEqual([['member;range=1500-*']]);
  });

  it('a sync from the domain root stores the 1,600-member group with every member, and skips the continuation references', async () => {
    const store = newStore();
    const config = loadAdConfig(samba, { store, users: { baseDN: AD_BASE_DN } });
    const profile = config.servers.get(PROFILE);
    if (profile === undefined) throw new Error('no profile');
    const request = { config, profile, trigger: 'cli', dryRun: false, logger: silentLogger() } as const;
    const opened = await openStore(store, { logger: silentLogger() });
    try {
      const userRun = await runSync({ ...request, kind: 'users' }, opened);
      expect(userRun.status).toBe('succeeded');
      const groupRun = await runSync({ ...request, kind: 'groups' }, opened);
      expect(groupRun.status).toBe('succeeded');
    } finally {
      await opened.close();
    }
    const rows = await users(store);
    expect(rows.has('ldapsync')).toBe(true);
    expect(rows.get(staffName(1))?.dn).toBe(`CN=${staffName(1)},OU=Staff,${AD_BASE_DN}`);
    const groups = await memberships(store);
    const allStaff = groups.get('All Staff') ?? [];
    expect(allStaff).toHaveLength(STAFF);
    expect(allStaff).toEqual(Array.from({ length: STAFF }, (_, i) => staffName(i + 1)));
    expect(groups.get('Everyone')).toEqual(['alice', 'bob', 'carol', 'dave', 'jmueller']);
  });

  it('disabling an account in AD shows at the next sync', async () => {
    await samba.ldapmodify(`dn: CN=Bob Baker,${AD_USERS_DN}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n`);
    const result = await cli(['sync', 'users', PROFILE, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 1, removed: 0 } });
    const bob = (await users(exampleStore)).get('bob');
    expect(bob?.enabled).toBe(false);
    const change = logLines(result).find((l) => l['event'] === 'user.updated');
    expect(change).toMatchObject({ source: PROFILE, externalId: bob?.external_id, changes: { enabled: { old: true, new: false } } });
  });

  // Independent of each other (and slow to start: each is a CLI process), so run side by side.
  describe.concurrent('the CLI against the synced store', () => {
    it('ldapsync test shows the server (vendor, naming contexts, controls) and what the queries match', async ({ expect }) => {
      const result = await cli(['test', PROFILE]);
      expect(result.code, result.stderr).toBe(0);
      const out = result.stdout;
      expect(out).toContain(`corp: ${samba.ldapsUrl}, bound as ${AD_SERVICE_DN}`);
      expect(out).toContain('server: Samba Team (https://www.samba.org); LDAP v2, v3');
      expect(out).toContain(`naming contexts: ${AD_BASE_DN}; CN=Configuration,${AD_BASE_DN}; CN=Schema,CN=Configuration,${AD_BASE_DN}`);
      expect(out).toMatch(/controls: .*paged results \(1\.2\.840\.113556\.1\.4\.319\)/);
      expect(out).toMatch(/controls: .*DirSync \(1\.2\.840\.113556\.1\.4\.841\)/);
      const groups = await samba.search(AD_USERS_DN, 'sub', '(objectClass=group)', ['1.1']);
      expect(out).toContain(`users: ${(await serverUsernames()).length} match ${USER_FILTER} under ${AD_USERS_DN}`);
      expect(out).toContain(`groups: ${groups.length} match (objectClass=group) under ${AD_USERS_DN}`);
    });

    it("a wrong service password is reported with AD's reason in words", async ({ expect }) => {
      const result = await cli(['test', PROFILE], { env: { AD_BIND_PASSWORD: 'Not-The-Password-1' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`✗ corp (${samba.ldapsUrl}): invalid credentials for ${AD_SERVICE_DN} (49 invalidCredentials): wrong password (AD 52e)`);
      expect(result.stderr + result.stdout).not.toContain('Not-The-Password-1');
    });

    it('an AD user logs in as user@example.com; the audit line says so', async ({ expect }) => {
      const result = await cli(['login', 'alice@example.com', '--json'], { input: `${AD_USER_PASSWORD}\n` });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'ok', profile: PROFILE, user: { login: 'alice@example.com', username: 'alice', enabled: true } });
      expect(logLines(result).find((l) => l['event'] === 'auth.succeeded')).toMatchObject({ login: 'alice@example.com', profile: PROFILE });
    });

    it('a disabled AD account is refused, with the reason in the audit line', async ({ expect }) => {
      const result = await cli(['login', 'carol@example.com', '--json'], { input: `${AD_USER_PASSWORD}\n` });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'invalid', reason: 'disabled' });
      expect(logLines(result).find((l) => l['event'] === 'auth.failed')).toMatchObject({ login: 'carol@example.com', profile: PROFILE, reason: 'disabled' });
      expect(result.stderr).not.toContain(AD_USER_PASSWORD);
    });

    it.each([
      ['erin', 'account-expired', '701'],
      ['frank', 'password-expired', '773'],
    ])("the right password of %s is refused as AD says why (%s, data %s), in words in the audit line", async (user, reason, code) => {
      const result = await cli(['login', `${user}@example.com`, '--json'], { input: `${AD_USER_PASSWORD}\n` });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'invalid', reason });
      const line = logLines(result).find((l) => l['event'] === 'auth.failed');
      expect(line).toMatchObject({ login: `${user}@example.com`, reason, adCode: code });
      expect(typeof line?.['adReason']).toBe('string');
      expect(result.stderr).not.toContain(AD_USER_PASSWORD);
    });
  });
});
