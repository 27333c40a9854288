import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig, type LoadResult } from '../../src/config/index.js';
import { runCli } from '../helpers/cli.js';
import { AD_SERVICE_PASSWORD } from '../helpers/samba.js';
import { adEnv, EXAMPLE_FILE, PROFILE } from './ad-config.js';

/** The Active Directory example and the AD-only settings, as the loader sees them (no server needed). */

function load(edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined): LoadResult {
  const doc = parseDocument(readFileSync(EXAMPLE_FILE, 'utf8'));
  edit(doc);
  return parseConfig(String(doc), EXAMPLE_FILE, { AD_BIND_PASSWORD: AD_SERVICE_PASSWORD }, (path) => readFileSync(path, 'utf8'));
}

const groups = (...key: string[]): string[] => ['servers', PROFILE, 'groups', ...key];
const errorsOf = (result: LoadResult): ReadonlyArray<{ readonly code: string; readonly where: unknown }> => (result.ok ? [] : result.errors);

describe('examples/active-directory.yaml', () => {
  it('passes ldapsync validate', async () => {
    const result = await runCli(['-c', EXAMPLE_FILE, 'validate'], { env: adEnv() });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('valid; 1 server profile: corp');
    expect(result.code).toBe(0);
  });

  it('loads without errors or warnings, as an AD profile keyed by sAMAccountName and objectGUID', () => {
    const result = load();
    expect(result.warnings).toEqual([]);
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
    const profile = result.config.servers.get(PROFILE);
    expect(profile?.serverType).toBe('ad');
    expect(profile?.users).toMatchObject({ baseDN: 'CN=Users,DC=example,DC=com', usernameAttribute: 'sAMAccountName', idAttribute: 'objectGUID' });
    expect(profile?.groups).toMatchObject({ memberAttribute: 'member', flattenNested: true, nestedVia: 'client' });
  });

  it.each(['ldapsync@EXAMPLE.COM', 'EXAMPLE\\ldapsync', 'CN=ldapsync,OU=Service Accounts,DC=example,DC=com'])('accepts %s as the bind name', (bindDN) => {
    const result = load((doc) => doc.setIn(['servers', PROFILE, 'bindDN'], bindDN));
    expect(result.ok).toBe(true);
  });
});

describe('groups.nestedVia', () => {
  it('server is taken on an AD profile', () => {
    const result = load((doc) => doc.setIn(groups('nestedVia'), 'server'));
    expect(result.ok && result.config.servers.get(PROFILE)?.groups?.nestedVia).toBe('server');
  });

  it('server needs type: ad, since in-chain matching is Active Directory\'s', () => {
    const result = load((doc) => {
      doc.setIn(['servers', PROFILE, 'type'], 'generic');
      doc.setIn(['servers', PROFILE, 'bindDN'], 'CN=ldapsync,OU=Service Accounts,DC=example,DC=com');
      doc.setIn(groups('nestedVia'), 'server');
    });
    expect(result.ok).toBe(false);
    expect(errorsOf(result).map((e) => [e.code, e.where])).toEqual([['config.nested-via', expect.objectContaining({ path: groups('nestedVia').join('.'), line: expect.any(Number) })]]);
  });

  it('server needs DN-valued members', () => {
    const result = load((doc) => {
      doc.setIn(groups('memberAttribute'), 'memberUid');
      doc.setIn(groups('nestedVia'), 'server');
    });
    expect(errorsOf(result).map((e) => e.code)).toEqual(['config.nested-via']);
  });

  it('without flattenNested it is only a warning: it has no effect', () => {
    const result = load((doc) => {
      doc.setIn(groups('flattenNested'), false);
      doc.setIn(groups('nestedVia'), 'server');
    });
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.code)).toEqual(['config.nested-via']);
  });

  it('anything but client or server is refused by the schema', () => {
    const result = load((doc) => doc.setIn(groups('nestedVia'), 'ldap'));
    expect(result.ok).toBe(false);
  });
});
