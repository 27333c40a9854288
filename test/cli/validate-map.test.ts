import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

const LDIF = join(repoRoot, 'test/fixtures/ldif/planetexpress.ldif');
const OPENLDAP = join(repoRoot, 'examples/openldap.yaml');
const SECRET = 'hunter2-do-not-print';

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('ldapsync validate', () => {
  it('accepts the sample and the OpenLDAP example with a one-line summary', async () => {
    const sample = await runCli(['validate'], { env: { LDAP_PASSWORD: SECRET, LDAPSYNC_CONFIG: undefined } });
    expect(sample.code).toBe(0);
    expect(sample.stdout.trim().split('\n')).toHaveLength(1);
    expect(sample.stdout).toContain('ldapsync.yaml: valid; 1 server profile: demo');

    const example = await runCli(['-c', OPENLDAP, 'validate'], { env: { LDAP_BIND_PASSWORD: SECRET } });
    expect(example.code).toBe(0);
    expect(example.stdout).toContain('planetexpress (syncs users and groups on "0 */4 * * *")');
    expect(example.stdout + example.stderr).not.toContain(SECRET);
  });

  it('reports every error with file:line:col and key path, exit 2, never the password', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldapsync-validate-'));
    const file = join(dir, 'ldapsync.yaml');
    await writeFile(
      file,
      [
        'servers:',
        '  corp:',
        '    url: ldap://127.0.0.1:389',
        '    bindDN: cn=reader,dc=example,dc=org',
        `    bindPassword: ${SECRET}`,
        '    domains: [example.org]',
        '    users:',
        '      baseDN: ou=people,dc=example,dc=org',
        '      filter: (&(objectClass=inetOrgPerson)',
        '      mapping:',
        '        email: lowr(mail)',
        '    schedle: "0 * * * *"',
        '',
      ].join('\n'),
    );
    const result = await runCli(['-c', file, 'validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:9:15 servers.corp.users.filter: unbalanced parentheses`);
    expect(result.stderr).toContain(`${file}:11:16 servers.corp.users.mapping.email: unknown function 'lowr'`);
    expect(result.stderr).toContain("did you mean 'lower'?");
    expect(result.stderr).toContain(`${file}:12:5 servers.corp.schedle: unknown key 'schedle'`);
    expect(result.stderr).toContain(`3 errors in ${file}`);
    expect(result.stderr).toMatch(/warning: .*bindPassword/);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('says so when the file cannot be read', async () => {
    const result = await runCli(['-c', '/nonexistent/ldapsync.yaml', 'validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/nonexistent/ldapsync.yaml');
  });
});

describe('ldapsync map', () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = { LDAP_BIND_PASSWORD: SECRET };
  });

  it("writes one JSON object per entry with the mapping's field names", async () => {
    const result = await runCli(['-c', OPENLDAP, 'map', 'planetexpress', '--ldif', LDIF], { env });
    expect(result.code).toBe(0);
    const [fry, leela, hermes] = jsonLines(result.stdout);
    expect(fry).toMatchObject({
      dn: 'cn=Philip J. Fry,ou=people,dc=planetexpress,dc=com',
      enabled: false,
      email: 'fry@planetexpress.com',
      recoveryEmail: 'fry@example.org',
      diskQuota: 1073741824,
      homeDir: 'ldap_homes/fry',
      countryCode: 'US',
      contactCustomFields: { employeeType: 'Delivery boy' },
    });
    expect(leela).toMatchObject({ jobTitle: 'Captain of the Planet Express Ship', userCustomFields: { manager: 'Hubert J. Farnsworth' } });
    expect(hermes).toMatchObject({ enabled: true, lastName: 'Conrad él', email: 'hermes@example.org' });
  });

  it('reports an entry whose mapping fails and goes on (exit 0)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldapsync-map-'));
    const file = join(dir, 'ldapsync.yaml');
    const text = (await readFile(OPENLDAP, 'utf8')).replace('diskQuota: bytes(\'1 GiB\')', 'diskQuota: int(employeeNumber) * 1024');
    await writeFile(file, text);
    const result = await runCli(['-c', file, 'map', 'planetexpress', '--ldif', LDIF], { env });
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ diskQuota: 3072 });
    expect(lines[2]).toEqual({ dn: 'cn=Hermes Conrad,ou=people,dc=planetexpress,dc=com', error: expect.stringMatching(/^diskQuota: .*not-a-number/) });
  });

  it('maps groups with --groups', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldapsync-map-'));
    const ldif = join(dir, 'groups.ldif');
    await writeFile(ldif, 'dn: cn=ship_crew,ou=groups,dc=planetexpress,dc=com\ncn: ship_crew\nmember: cn=Turanga Leela,ou=people,dc=planetexpress,dc=com\n');
    const result = await runCli(['-c', OPENLDAP, 'map', 'planetexpress', '--ldif', ldif, '--groups'], { env });
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([{ dn: 'cn=ship_crew,ou=groups,dc=planetexpress,dc=com', description: 'ship_crew', customFields: {} }]);
  });

  it('exits 2 for an unreadable LDIF file, a broken one, or an unknown profile', async () => {
    const missing = await runCli(['-c', OPENLDAP, 'map', 'planetexpress', '--ldif', '/nonexistent.ldif'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent.ldif');

    const dir = await mkdtemp(join(tmpdir(), 'ldapsync-map-'));
    const broken = join(dir, 'broken.ldif');
    await writeFile(broken, 'dn: cn=a\nnot ldif at all\n');
    const bad = await runCli(['-c', OPENLDAP, 'map', 'planetexpress', '--ldif', broken], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(':2:1');

    const unknown = await runCli(['-c', OPENLDAP, 'map', 'planetexpres', '--ldif', LDIF], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean "planetexpress"?');
  });
});
