import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatConfigError, loadConfig, parseConfig } from '../../src/config/index.js';
import type { ConfigError } from '../../src/config/index.js';

const BAD = fileURLToPath(new URL('../fixtures/config/bad/', import.meta.url));
const ENV = { LDAP_PASSWORD: 'not-a-real-password' };

interface Expected {
  readonly code: string;
  readonly at: string; // line:column
  readonly path: string;
  readonly hint?: string;
}

async function errorsOf(file: string): Promise<ReadonlyArray<ConfigError>> {
  const result = await loadConfig(`${BAD}${file}`, ENV);
  if (result.ok) throw new Error(`${file} loaded without errors`);
  return result.errors;
}

function summary(e: ConfigError): Expected {
  return {
    code: e.code,
    at: `${e.where.line ?? '?'}:${e.where.column ?? '?'}`,
    path: e.where.path ?? '',
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
  };
}

// Each fixture holds one mistake; the error must name its code, its line:column and its key path.
const CASES: ReadonlyArray<readonly [file: string, expected: Expected]> = [
  ['yaml-syntax.yaml', { code: 'config.yaml', at: '3:10', path: '' }],
  ['yaml-unclosed-quote.yaml', { code: 'config.yaml', at: '6:48', path: '' }],
  ['duplicate-key.yaml', { code: 'config.duplicate-key', at: '7:5', path: 'servers.pe.url' }],
  ['unknown-alias.yaml', { code: 'config.yaml', at: '4:14', path: 'servers.pe.domains' }],
  ['unknown-key-top.yaml', { code: 'config.unknown-key', at: '7:1', path: 'mapings', hint: "did you mean 'mappings'?" }],
  ['unknown-key-nested.yaml', { code: 'config.unknown-key', at: '7:7', path: 'servers.pe.users.filtr', hint: "did you mean 'filter'?" }],
  ['wrong-type-integer.yaml', { code: 'config.type', at: '7:15', path: 'servers.pe.pageSize' }],
  ['wrong-type-list.yaml', { code: 'config.type', at: '4:14', path: 'servers.pe.domains' }],
  ['missing-required-nested.yaml', { code: 'config.required', at: '5:5', path: 'servers.pe.users.baseDN' }],
  ['missing-servers.yaml', { code: 'config.required', at: '1:1', path: 'servers' }],
  ['enum.yaml', { code: 'config.enum', at: '7:14', path: 'servers.pe.users.scope' }],
  ['profile-name-reserved.yaml', { code: 'config.name', at: '2:3', path: 'servers.local' }],
  ['duration.yaml', { code: 'config.pattern', at: '8:16', path: 'servers.pe.timeouts.connect' }],
  ['filter-unbalanced.yaml', { code: 'config.filter', at: '7:15', path: 'servers.pe.users.filter' }],
  ['filter-invalid.yaml', { code: 'config.filter', at: '7:40', path: 'servers.pe.users.filter' }],
  ['dn-separator.yaml', { code: 'config.dn', at: '6:24', path: 'servers.pe.users.baseDN' }],
  ['dn-bind.yaml', { code: 'config.dn', at: '7:16', path: 'servers.pe.bindDN' }],
  ['bind-dn-without-password.yaml', { code: 'config.required', at: '7:5', path: 'servers.pe.bindDN' }],
  ['cron-range.yaml', { code: 'config.cron', at: '7:18', path: 'servers.pe.schedule' }],
  ['cron-fields.yaml', { code: 'config.cron', at: '7:16', path: 'servers.pe.schedule' }],
  ['timezone.yaml', { code: 'config.timezone', at: '7:15', path: 'servers.pe.timezone', hint: "did you mean 'Europe/Amsterdam'?" }],
  ['url-scheme.yaml', { code: 'config.url', at: '3:10', path: 'servers.pe.url' }],
  ['url-no-host.yaml', { code: 'config.url', at: '3:17', path: 'servers.pe.url' }],
  ['store-url.yaml', { code: 'config.url', at: '2:8', path: 'store.url' }],
  ['starttls-ldaps.yaml', { code: 'config.tls', at: '7:15', path: 'servers.pe.startTLS' }],
  ['listen.yaml', { code: 'config.listen', at: '2:21', path: 'http.listen' }],
  ['env-missing.yaml', { code: 'config.env', at: '3:17', path: 'servers.pe.url' }],
  ['env-unterminated.yaml', { code: 'config.env', at: '3:17', path: 'servers.pe.url' }],
  ['secret-env-unset.yaml', { code: 'config.env', at: '8:26', path: 'servers.pe.bindPassword.env' }],
  ['secret-file-unreadable.yaml', { code: 'config.secret-file', at: '8:27', path: 'servers.pe.bindPassword.file' }],
  ['secret-both.yaml', { code: 'config.secret', at: '8:19', path: 'servers.pe.bindPassword' }],
  ['domain-twice.yaml', { code: 'config.domain', at: '9:15', path: 'servers.hermes.domains[0]' }],
  ['default-domain.yaml', { code: 'config.domain', at: '1:16', path: 'defaultDomain', hint: "did you mean 'planetexpress.com'?" }],
  ['mapping-unknown-name.yaml', { code: 'config.mapping', at: '7:16', path: 'servers.pe.users.mapping', hint: "did you mean 'planetexpress'?" }],
  ['mapping-cycle.yaml', { code: 'config.mapping', at: '12:10', path: 'mappings.b.use' }],
  ['dsl-unknown-function.yaml', { code: 'dsl.unknown-function', at: '8:22', path: 'servers.pe.users.mapping.displayName', hint: "did you mean 'lower'?" }],
  ['dsl-arity.yaml', { code: 'dsl.arity', at: '8:20', path: 'servers.pe.users.mapping.diskQuota' }],
  ['dsl-type.yaml', { code: 'dsl.type', at: '8:19', path: 'servers.pe.users.mapping.enabled' }],
  ['dsl-unterminated-string.yaml', { code: 'dsl.unterminated-string', at: '8:24', path: 'servers.pe.users.mapping.enabled' }],
  ['dsl-unknown-field.yaml', { code: 'dsl.unknown-field', at: '8:9', path: 'servers.pe.users.mapping.emial', hint: "did you mean 'email'?" }],
  ['dsl-syntax.yaml', { code: 'dsl.syntax', at: '8:22', path: 'servers.pe.users.mapping.email' }],
  ['dsl-forbidden-name.yaml', { code: 'dsl.forbidden-name', at: '8:16', path: 'servers.pe.users.mapping.email' }],
  // The error is in the named mapping the inline one uses: it points there, not at the profile.
  ['dsl-named-mapping.yaml', { code: 'dsl.unknown-function', at: '10:26', path: 'mappings.corp.homeDir' }],
];

describe('a bad config file', () => {
  it.each(CASES)('%s is reported with its code, position and key path', async (file, expected) => {
    const errors = await errorsOf(file);
    const picked = errors.map(summary).map(({ hint, ...rest }) => (expected.hint === undefined ? rest : { ...rest, hint }));
    expect(picked).toEqual([expected]);
  });

  it('reports every error of the file in one pass, in file order', async () => {
    expect((await errorsOf('several-errors.yaml')).map(summary)).toEqual([
      { code: 'config.url', at: '3:10', path: 'servers.pe.url' },
      { code: 'config.unknown-key', at: '5:5', path: 'servers.pe.pagesize', hint: "did you mean 'pageSize'?" },
      { code: 'config.filter', at: '8:35', path: 'servers.pe.users.filter' },
      { code: 'dsl.unknown-function', at: '10:22', path: 'servers.pe.users.mapping.displayName', hint: "did you mean 'lower'?" },
      { code: 'config.timezone', at: '11:15', path: 'servers.pe.timezone', hint: 'use an IANA name such as Europe/Amsterdam or UTC' },
    ]);
  });

  it('prints file:line:col, the key path, the message, the hint and a caret under the offending character', async () => {
    const [error] = await errorsOf('filter-unbalanced.yaml');
    expect(formatConfigError(error!)).toBe(
      [
        `${BAD}filter-unbalanced.yaml:7:15 servers.pe.users.filter: unbalanced parentheses in LDAP filter: this '(' is never closed`,
        '  7 |       filter: (&(objectClass=person)(uid=*)',
        '    |               ^',
      ].join('\n'),
    );
    const [dsl] = await errorsOf('dsl-unknown-function.yaml');
    expect(formatConfigError(dsl!).split('\n').slice(1)).toEqual([
      "  hint: did you mean 'lower'?",
      '  8 |         displayName: lowr(cn)',
      '    |                      ^~~~',
    ]);
  });

  it('cannot be read: the error names the file', async () => {
    const result = await loadConfig(`${BAD}no-such-file.yaml`, ENV);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.code, e.where.file])).toEqual([['config.read', `${BAD}no-such-file.yaml`]]);
  });
});

/** The position of the first error of an inline config. */
function firstError(text: string, env: Readonly<Record<string, string>> = {}): Expected & { message: string } {
  const result = parseConfig(text, 'inline.yaml', env, () => {
    throw new Error('no secret files here');
  });
  if (result.ok) throw new Error('loaded without errors');
  const e = result.errors[0]!;
  return { ...summary(e), message: e.message };
}

const PROFILE = 'servers:\n  pe:\n    url: ldap://x\n    domains: [a.com]\n    users:\n      baseDN: dc=a,dc=com\n      mapping:\n';

describe('the position of an error inside a string', () => {
  it('is found through double-quote escapes', () => {
    expect(firstError(`${PROFILE}        email: "lower(\\"x\\") + lowr(mail)"\n`).at).toBe('8:32');
  });

  it("is found through '' in single quotes", () => {
    expect(firstError(`${PROFILE}        email: 'lower(''x'') + lowr(mail)'\n`).at).toBe('8:32');
  });

  it('is found in a literal block scalar', () => {
    expect(firstError(`${PROFILE}        email: |\n          lower(mail) +\n            lowr(mail)\n`).at).toBe('10:13');
  });

  it('is found in a folded block scalar', () => {
    expect(firstError(`${PROFILE}        email: >-\n          lower(mail) +\n          lowr(mail)\n`).at).toBe('10:11');
  });

  it('is found in a plain scalar folded over two lines', () => {
    expect(firstError(`${PROFILE}        email: lower(mail) +\n          lowr(mail)\n`).at).toBe('9:11');
  });

  it('is found after a ${VAR:-default} that changed the length of the text', () => {
    // Expanded: ou=people;dc=a — the ';' is the 10th character, but in the file it follows the reference.
    const text = 'servers:\n  pe:\n    url: ldap://x\n    domains: [a.com]\n    users:\n      baseDN: ou=${OU:-people};dc=a\n';
    expect(firstError(text)).toMatchObject({ code: 'config.dn', at: '6:31' });
  });

  it('points at the ${ of a reference inside an expression', () => {
    expect(firstError(`${PROFILE}        homeDir: "'/home/' + \${HOME_ROOT}"\n`)).toMatchObject({ code: 'config.env', at: '8:30' });
  });
});

describe('interpolation', () => {
  it('does not apply to keys', () => {
    const text = 'servers:\n  pe:\n    url: ldap://x\n    domains: [a.com]\n    ${KEY}: 1\n    users:\n      baseDN: dc=a\n';
    expect(firstError(text, { KEY: 'pageSize' })).toMatchObject({ code: 'config.unknown-key', at: '5:5', path: 'servers.pe.${KEY}' });
  });

  it('keeps a quoted reference a string, so a number from it is a type error', () => {
    const text = 'servers:\n  pe:\n    url: ldap://x\n    domains: [a.com]\n    pageSize: "${SIZE}"\n    users:\n      baseDN: dc=a\n';
    expect(firstError(text, { SIZE: '100' })).toMatchObject({ code: 'config.type', at: '5:15' });
  });
});

describe('YAML anchors and aliases', () => {
  it('are followed, so a profile can reuse a block', () => {
    const text = 'servers:\n  a:\n    url: ldap://a\n    domains: [a.com]\n    users: &people\n      baseDN: dc=a\n  b:\n    url: ldap://b\n    domains: [b.com]\n    users: *people\n';
    const result = parseConfig(text, 'x.yaml', {}, () => '');
    expect(result.ok && result.config.servers.get('b')?.users.baseDN).toBe('dc=a');
  });

  it('cannot be expanded without limit', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    const text = `mappings:\n  bomb:\n    userCustomFields:\n${levels.map((l) => `      ${l}`).join('\n')}\nservers: {}\n`;
    const started = Date.now();
    const result = parseConfig(text, 'bomb.yaml', {}, () => '');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.code)).toContain('config.yaml');
  });
});

describe('cron schedules', () => {
  const withSchedule = (schedule: string): string =>
    `servers:\n  pe:\n    url: ldap://x\n    domains: [a.com]\n    users:\n      baseDN: dc=a\n    schedule: "${schedule}"\n`;

  it('refuses one that parses but never fires', () => {
    expect(firstError(withSchedule('0 0 31 2 *'))).toMatchObject({ code: 'config.cron', at: '7:16', path: 'servers.pe.schedule' });
  });

  it('places an illegal character at its field', () => {
    expect(firstError(withSchedule('0 0 * * FOO'))).toMatchObject({ code: 'config.cron', at: '7:24' });
  });

  it('accepts nicknames and a seconds field', () => {
    for (const schedule of ['@daily', '*/30 * * * * *', '0 2 * * MON-FRI']) {
      expect(parseConfig(withSchedule(schedule), 'x.yaml', {}, () => '').ok).toBe(true);
    }
  });
});
