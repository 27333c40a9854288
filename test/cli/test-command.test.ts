import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { readCompanyLdif, startSlapd, type SlapdHandle } from '../helpers/slapd.js';

let slapd: SlapdHandle;
let dir: string;

beforeAll(async () => {
  slapd = await startSlapd({ ldif: await readCompanyLdif() });
  dir = await mkdtemp(join(tmpdir(), 'ldapsync-test-cmd-'));
});
afterAll(async () => {
  await slapd.dispose();
});

/** A config for the test server; `transport` picks plain LDAP, StartTLS or ldaps. */
async function config(options: { transport: 'plain' | 'starttls' | 'ldaps'; caFile?: string | null; baseDN?: string }): Promise<string> {
  const url = options.transport === 'ldaps' ? slapd.ldapsUrl : slapd.url;
  const caFile = options.caFile === undefined ? slapd.caFile : options.caFile;
  const file = join(dir, `${options.transport}-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    [
      `store: { url: "pglite://${join(dir, 'store')}" }`,
      'servers:',
      '  demo:',
      `    url: ${url}`,
      `    startTLS: ${options.transport === 'starttls'}`,
      ...(caFile === null ? [] : [`    tls: { caFile: ${caFile} }`]),
      `    bindDN: ${slapd.readerDN}`,
      '    bindPassword: { env: LDAP_PASSWORD }',
      '    domains: [example.org]',
      '    timeouts: { connect: 5s, operation: 20s }',
      '    users:',
      `      baseDN: ${options.baseDN ?? `ou=people,${slapd.baseDN}`}`,
      '      filter: (objectClass=inetOrgPerson)',
      '    groups:',
      `      baseDN: ou=groups,${slapd.baseDN}`,
      '      filter: (objectClass=groupOfNames)',
      '',
    ].join('\n'),
  );
  return file;
}

describe('ldapsync test SERVER', () => {
  it.each(['plain', 'starttls', 'ldaps'] as const)('connects over %s, reports the server and counts users and groups', async (transport) => {
    const file = await config({ transport });
    const result = await runCli(['-c', file, 'test', 'demo', '--json'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; counts: { users: number; groups: number }; rootDse: { namingContexts: string[]; supportedControls: string[] }; steps: Array<{ step: string }> };
    expect(report.ok).toBe(true);
    expect(report.counts).toEqual({ users: 14, groups: 4 });
    expect(report.rootDse.namingContexts).toContain(slapd.baseDN);
    expect(report.rootDse.supportedControls).toContain('1.2.840.113556.1.4.319');
    expect(report.steps.map((s) => s.step)[0]).toBe(transport === 'starttls' ? 'connect, StartTLS and bind' : 'connect and bind');
    expect(result.stdout + result.stderr).not.toContain(slapd.readerPassword);
  });

  it('prints the human report on a terminal-less stdout too', async () => {
    const result = await runCli(['-c', await config({ transport: 'plain' }), 'test', 'demo'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`bound as ${slapd.readerDN}`);
    expect(result.stdout).toContain('users: 14 match (objectClass=inetOrgPerson)');
    expect(result.stdout).toContain('paged results (1.2.840.113556.1.4.319)');
  });

  it('with --username shows raw attributes, the mapped record and what a sync would do, writing nothing', async () => {
    const result = await runCli(['-c', await config({ transport: 'plain' }), 'test', 'demo', '--username', 'zoe', '--json'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { dn: string; login: string; attributes: Record<string, string[]>; mapped: Record<string, unknown>; sync: { kind: string } };
    expect(report.dn).toBe(`uid=zoe,ou=people,${slapd.baseDN}`);
    expect(report.login).toBe('zoe@example.org');
    expect(report.attributes['mail']).toEqual(['zoe@example.org', 'zoe.angstrom@example.org']);
    expect(report.mapped).toMatchObject({ displayName: 'Zoë Ångström', email: 'zoe@example.org' });
    expect(report.sync.kind).toBe('create');

    const again = await runCli(['-c', await config({ transport: 'plain' }), 'test', 'demo', '--username', 'zoe', '--json'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect((JSON.parse(again.stdout) as { sync: { kind: string } }).sync.kind).toBe('create');
  });

  it('says so for a user the query does not find (exit 1)', async () => {
    const result = await runCli(['-c', await config({ transport: 'plain' }), 'test', 'demo', '--username', 'nobody*'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no entry with uid=nobody* matches the user query');
  });

  it('reports a wrong password, a wrong base DN and an untrusted certificate, naming profile and URL (exit 1)', async () => {
    const wrong = await runCli(['-c', await config({ transport: 'plain' }), 'test', 'demo', '--json'], { env: { LDAP_PASSWORD: 'not-the-password' } });
    expect(wrong.code).toBe(1);
    const wrongError = (JSON.parse(wrong.stdout) as { error: { code: string; message: string } }).error;
    expect(wrongError.code).toBe('ldap.invalid-credentials');
    expect(wrong.stdout).not.toContain('not-the-password');

    const base = await runCli(['-c', await config({ transport: 'plain', baseDN: `ou=nowhere,${slapd.baseDN}` }), 'test', 'demo'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect(base.code).toBe(1);
    expect(base.stderr).toContain(`demo (${slapd.url})`);
    expect(base.stderr).toContain('ou=nowhere');

    const untrusted = await runCli(['-c', await config({ transport: 'ldaps', caFile: null }), 'test', 'demo', '--json'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
    expect(untrusted.code).toBe(1);
    const tlsError = (JSON.parse(untrusted.stdout) as { error: { code: string; message: string } }).error;
    expect(tlsError.code).toBe('ldap.tls');
    expect(tlsError.message).toContain('caFile');
  });

  it('reports a stopped server as such', async () => {
    const file = await config({ transport: 'plain' });
    await slapd.stop();
    try {
      const result = await runCli(['-c', file, 'test', 'demo', '--json'], { env: { LDAP_PASSWORD: slapd.readerPassword } });
      expect(result.code).toBe(1);
      expect((JSON.parse(result.stdout) as { error: { code: string } }).error.code).toBe('ldap.connection-refused');
    } finally {
      await slapd.start();
    }
  });
});
