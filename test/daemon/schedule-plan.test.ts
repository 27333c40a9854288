import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/index.js';
import { diffPlans, diffProfiles, planSchedules, profileDigests } from '../../src/daemon/schedule-plan.js';

interface ProfileSpec {
  readonly name: string;
  readonly schedule?: string;
  readonly timezone?: string;
  readonly users?: boolean;
  /** undefined: no groups query. */
  readonly groups?: boolean;
  readonly displayName?: string;
  readonly mapping?: string;
  readonly password?: string;
}

/** A config file's text for the profiles; everything else takes its defaults. */
function yaml(profiles: ReadonlyArray<ProfileSpec>, mappings = ''): string {
  const servers = profiles.map((p) =>
    [
      `  ${p.name}:`,
      `    url: ldap://127.0.0.1:389`,
      `    bindDN: cn=reader,dc=example,dc=org`,
      `    bindPassword: { env: PW_${p.name.toUpperCase()} }`,
      `    domains: [${p.name}.example.org]`,
      p.schedule === undefined ? '' : `    schedule: "${p.schedule}"`,
      p.timezone === undefined ? '' : `    timezone: ${p.timezone}`,
      `    users:`,
      `      baseDN: ou=people,dc=example,dc=org`,
      p.users === false ? `      sync: false` : '',
      p.mapping !== undefined ? `      mapping: ${p.mapping}` : p.displayName !== undefined ? `      mapping: { displayName: "${p.displayName}" }` : '',
      p.groups === undefined ? '' : `    groups:\n      baseDN: ou=groups,dc=example,dc=org\n      sync: ${p.groups}`,
    ]
      .filter((line) => line !== '')
      .join('\n'),
  );
  return `${mappings}servers:\n${servers.join('\n')}\n`;
}

function load(text: string, env: Record<string, string> = {}): Config {
  const result = parseConfig(text, '/etc/ldapsync/ldapsync.yaml', { PW_PE: 'a', PW_AD: 'b', PW_IPA: 'c', PW_X: 'd', ...env }, () => '');
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

describe('planSchedules', () => {
  it('schedules each profile whose users or groups sync is on, users before groups, on its cron', () => {
    const config = load(
      yaml([
        { name: 'pe', schedule: '*/5 * * * *', timezone: 'Europe/Amsterdam', groups: true },
        { name: 'ad', users: false, groups: false },
        { name: 'ipa', users: false, groups: true },
      ]),
    );
    const plans = planSchedules(config);
    expect([...plans.keys()]).toEqual(['pe', 'ipa']);
    expect(plans.get('pe')).toMatchObject({ kinds: ['users', 'groups'], schedule: '*/5 * * * *', timezone: 'Europe/Amsterdam' });
    expect(plans.get('ipa')?.kinds).toEqual(['groups']);
    expect(plans.get('pe')?.timing.next(Date.parse('2025-03-01T10:01:00Z'))).toBe(Date.parse('2025-03-01T10:05:00Z'));
  });

  it('defaults to midnight, as DESIGN §2 says', () => {
    const plans = planSchedules(load(yaml([{ name: 'pe', timezone: 'UTC' }])));
    expect(plans.get('pe')?.timing.next(Date.parse('2025-03-01T10:00:00Z'))).toBe(Date.parse('2025-03-02T00:00:00Z'));
  });
});

describe('diffPlans', () => {
  it('tells which profiles a reload schedules, unschedules, newly enables and reschedules', () => {
    const before = planSchedules(
      load(yaml([{ name: 'pe', groups: false }, { name: 'ad', schedule: '0 * * * *' }, { name: 'ipa' }])),
    );
    const after = planSchedules(
      load(yaml([{ name: 'pe', groups: true }, { name: 'ad', schedule: '30 * * * *' }, { name: 'x', users: true }])),
    );
    expect(diffPlans(before, after)).toEqual({ added: ['x'], removed: ['ipa'], enabled: ['pe'], rescheduled: ['ad'] });
  });

  it('counts a profile whose sync is turned off as unscheduled, and on again as added', () => {
    const on = planSchedules(load(yaml([{ name: 'pe' }])));
    const off = planSchedules(load(yaml([{ name: 'pe', users: false }])));
    expect(diffPlans(on, off)).toMatchObject({ added: [], removed: ['pe'] });
    expect(diffPlans(off, on)).toMatchObject({ added: ['pe'], removed: [] });
  });
});

describe('profileDigests', () => {
  const digests = (text: string, env: Record<string, string> = {}): ReadonlyMap<string, string> => profileDigests(load(text, env), text);

  it('sees an edited mapping expression, in the profile or in a named mapping it uses', () => {
    const base = yaml([{ name: 'pe', displayName: 'cn' }, { name: 'ad', mapping: 'shared' }], 'mappings:\n  shared: { displayName: cn }\n');
    const inline = yaml([{ name: 'pe', displayName: 'upper(cn)' }, { name: 'ad', mapping: 'shared' }], 'mappings:\n  shared: { displayName: cn }\n');
    const named = yaml([{ name: 'pe', displayName: 'cn' }, { name: 'ad', mapping: 'shared' }], 'mappings:\n  shared: { displayName: sn }\n');
    expect(diffProfiles(digests(base), digests(inline))).toEqual({ added: [], removed: [], changed: ['pe'] });
    expect(diffProfiles(digests(base), digests(named))).toEqual({ added: [], removed: [], changed: ['ad'] });
  });

  it('sees a rotated secret, and nothing when only comments and layout change', () => {
    const text = yaml([{ name: 'pe' }, { name: 'ad' }]);
    expect(diffProfiles(digests(text), digests(text, { PW_AD: 'rotated' }))).toEqual({ added: [], removed: [], changed: ['ad'] });
    const reformatted = `# a comment\n${text.replace('url: ldap://127.0.0.1:389', 'url:   "ldap://127.0.0.1:389"')}`;
    expect(diffProfiles(digests(text), digests(reformatted))).toEqual({ added: [], removed: [], changed: [] });
  });
});
