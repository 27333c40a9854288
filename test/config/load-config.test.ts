import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatConfigError, loadConfig, parseConfig } from '../../src/config/index.js';
import type { Config, LoadResult, Profile } from '../../src/config/index.js';
import { makeEntry } from '../../src/shared/index.js';

const GOOD = fileURLToPath(new URL('../fixtures/config/good/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

function expectOk(result: LoadResult): Config {
  if (!result.ok) throw new Error(result.errors.map(formatConfigError).join('\n'));
  return result.config;
}

function profile(config: Config, name: string): Profile {
  const p = config.servers.get(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

describe('a minimal file', () => {
  it('gets every default, as the schema documents them', async () => {
    const config = expectOk(await loadConfig(`${GOOD}minimal.yaml`, {}));
    expect(config.file).toBe(`${GOOD}minimal.yaml`);
    expect(config.store).toEqual({ url: `pglite://${join(GOOD, '.ldapsync/store')}`, schema: 'ldapsync' });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.http).toBeUndefined();
    expect(config.defaultDomain).toBeUndefined();
    expect(config.hooks).toEqual([]);
    const pe = profile(config, 'pe');
    expect({ ...pe, users: { ...pe.users, mapping: undefined } }).toEqual({
      name: 'pe',
      url: 'ldap://localhost:389',
      startTLS: false,
      tls: { caFile: undefined, rejectUnauthorized: true, serverName: undefined },
      bindDN: undefined,
      bindPassword: undefined,
      domains: ['planetexpress.com'],
      timeouts: { connect: 10_000, operation: 30_000 },
      pageSize: 500,
      serverType: 'generic',
      users: {
        baseDN: 'ou=people,dc=planetexpress,dc=com',
        scope: 'sub',
        filter: '(objectClass=person)',
        sync: true,
        usernameAttribute: 'uid',
        idAttribute: 'entryUUID',
        mapping: undefined,
      },
      groups: undefined,
      schedule: '0 0 * * *',
      timezone: undefined,
      deletes: { enabled: false, maxPercentage: 5, maxCount: undefined, mode: 'disable', purgeAfter: undefined },
    });
    // No mapping given: the built-in default (Group-Office's) applies.
    const record = pe.users.mapping.map(makeEntry('uid=fry,ou=people,dc=planetexpress,dc=com', { mail: 'fry@planetexpress.com', cn: 'Philip J. Fry', sn: 'Fry' }));
    expect(record).toMatchObject({ enabled: true, email: 'fry@planetexpress.com', displayName: 'Philip J. Fry', lastName: 'Fry', firstName: null });
  });

  it('agrees with the defaults written in the schema', () => {
    const schema = JSON.parse(readFileSync(join(REPO, 'schema/ldapsync.schema.json'), 'utf8')) as {
      $defs: Record<string, { properties?: Record<string, { default?: unknown }>; default?: unknown }>;
    };
    const defs = schema.$defs;
    const d = (def: string, key: string): unknown => defs[def]?.properties?.[key]?.default;
    const config = expectOk(parseConfig(readFileSync(`${GOOD}minimal.yaml`, 'utf8'), `${GOOD}minimal.yaml`, {}, noFiles));
    const pe = profile(config, 'pe');
    expect(config.store.url).toBe(`pglite://${join(GOOD, String(d('store', 'url')).slice('pglite://'.length))}`);
    expect(config.store.schema).toBe(d('store', 'schema'));
    expect(config.log.level).toBe(d('log', 'level'));
    expect(pe.pageSize).toBe(d('profile', 'pageSize'));
    expect(pe.schedule).toBe(d('profile', 'schedule'));
    expect(pe.serverType).toBe(d('profile', 'type'));
    expect(pe.startTLS).toBe(d('profile', 'startTLS'));
    expect(pe.users.scope).toBe(defs['scope']?.default);
    expect(pe.users.sync).toBe(d('users', 'sync'));
    expect(pe.deletes.maxPercentage).toBe(d('profile', 'deletes') ?? 5);
    expect(pe.deletes.mode).toBe('disable');
    const deletes = defs['profile']?.properties?.['deletes'] as { properties: Record<string, { default?: unknown }> };
    expect(pe.deletes.maxPercentage).toBe(deletes.properties['maxPercentage']?.default);
    expect(pe.deletes.mode).toBe(deletes.properties['mode']?.default);
    expect(pe.deletes.enabled).toBe(deletes.properties['enabled']?.default);
  });
});

describe('a file that sets everything', () => {
  const env = { AD_PASSWORD: 'Kif-Kroker-42' };

  it('keeps every value, resolving paths against the file and normalising names', async () => {
    const config = expectOk(await loadConfig(`${GOOD}full.yaml`, env));
    expect(config.store).toEqual({ url: 'postgres://ldapsync@db.example.com:5432/ldapsync', schema: 'sync_data' });
    expect(config.log.level).toBe('debug');
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 9090, authenticate: true });
    expect(config.http?.authToken?.reveal()).toBe('tok-7f3e9a1c55');
    expect(config.defaultDomain).toBe('planetexpress.com');
    expect(config.hooks).toEqual([join(GOOD, 'hooks/audit.mjs')]);
    // File order, even for a name that looks like a number (a JS object would put it first).
    expect([...config.servers.keys()]).toEqual(['zeta', '10', 'alpha']);

    const zeta = profile(config, 'zeta');
    expect(zeta.url).toBe('ldaps://ldap.example.com:636');
    expect(zeta.tls).toEqual({ caFile: join(GOOD, 'certs/ca.pem'), rejectUnauthorized: false, serverName: 'ldap.internal' });
    expect(zeta.bindPassword?.reveal()).toBe('Bite-My-Shiny-Metal-Password');
    expect(zeta.bindPassword?.origin).toBe(`file:${join(GOOD, 'secrets/bind-password')}`);
    expect(zeta.domains).toEqual(['planetexpress.com', 'pe.example']);
    expect(zeta.timeouts).toEqual({ connect: 1500, operation: 90_000 });
    expect(zeta.pageSize).toBe(200);
    expect(zeta.users).toMatchObject({ scope: 'one', filter: '(objectClass=inetOrgPerson)', sync: false, usernameAttribute: 'mail', idAttribute: 'nsUniqueId' });
    expect(zeta.groups).toMatchObject({
      baseDN: 'ou=groups,dc=planetexpress,dc=com',
      nameAttribute: 'ou',
      idAttribute: 'nsUniqueId',
      memberAttribute: 'uniqueMember',
      flattenNested: true,
    });
    expect(zeta.schedule).toBe('30 2 * * 1-5');
    expect(zeta.timezone).toBe('Europe/Amsterdam');
    expect(zeta.deletes).toEqual({ enabled: true, maxPercentage: 2.5, maxCount: 20, mode: 'delete', purgeAfter: 7 * 86_400_000 });
  });

  it('builds an inline mapping on a named one with use: the inline fields replace the named ones', async () => {
    const zeta = profile(expectOk(await loadConfig(`${GOOD}full.yaml`, env)), 'zeta');
    const record = zeta.users.mapping.map(makeEntry('uid=leela,ou=people,dc=planetexpress,dc=com', { uid: 'leela', mail: 'Leela@PlanetExpress.com', employeeType: 'Captain' }));
    expect(record).toMatchObject({ email: 'leela@planetexpress.com', homeDir: '/home/leela', userCustomFields: { employeeType: 'Captain' } });
    const group = zeta.groups?.mapping.map(makeEntry('cn=ship_crew,ou=groups,dc=planetexpress,dc=com', { cn: 'ship_crew' }));
    expect(group).toMatchObject({ description: 'Group ship_crew' });
  });

  it('gives Active Directory profiles AD defaults and accepts a UPN as bind name', async () => {
    const alpha = profile(expectOk(await loadConfig(`${GOOD}full.yaml`, env)), 'alpha');
    expect(alpha.serverType).toBe('ad');
    expect(alpha.bindDN).toBe('reader@corp.example');
    expect(alpha.bindPassword?.reveal()).toBe('Kif-Kroker-42');
    expect(alpha.bindPassword?.origin).toBe('env:AD_PASSWORD');
    expect(alpha.users).toMatchObject({ usernameAttribute: 'sAMAccountName', idAttribute: 'objectGUID', filter: '(&(objectCategory=person)(objectClass=user))' });
    expect(alpha.groups).toMatchObject({ filter: '(objectClass=group)', idAttribute: 'objectGUID', memberAttribute: 'member', nameAttribute: 'cn' });
  });

  it('is a deeply frozen value', async () => {
    const config = expectOk(await loadConfig(`${GOOD}full.yaml`, env));
    const zeta = profile(config, 'zeta');
    for (const value of [config, config.store, config.hooks, config.servers, zeta, zeta.tls, zeta.domains, zeta.users, zeta.groups, zeta.deletes, zeta.timeouts, zeta.bindPassword]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    expect(() => {
      (config as { log: unknown }).log = { level: 'trace' };
    }).toThrow(TypeError);
    expect(() => {
      (zeta.domains as string[]).push('evil.example');
    }).toThrow(TypeError);
    expect('set' in config.servers).toBe(false);
    expect(Object.isFrozen(zeta.users.mapping)).toBe(true);
  });

  it('records the sha256 of the text; the same text and environment give the same config', async () => {
    const text = readFileSync(`${GOOD}full.yaml`, 'utf8');
    const read = (path: string): string => readFileSync(path, 'utf8');
    const a = expectOk(parseConfig(text, `${GOOD}full.yaml`, env, read));
    const b = expectOk(parseConfig(text, `${GOOD}full.yaml`, env, read));
    expect(a.hash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(expectOk(parseConfig(`${text}\n# changed\n`, `${GOOD}full.yaml`, env, read)).hash).not.toBe(a.hash);
  });
});

const PROFILE = (extra: string): string =>
  `servers:\n  pe:\n    url: ldap://\${LDAP_HOST:-localhost}:\${LDAP_PORT:-389}\n    domains: [a.com]\n    users:\n      baseDN: dc=a,dc=com\n${extra}`;

function parse(text: string, env: Readonly<Record<string, string>> = {}, files: Readonly<Record<string, string>> = {}): LoadResult {
  return parseConfig(text, '/etc/ldapsync/ldapsync.yaml', env, (path) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    return content;
  });
}

describe('interpolation of ${VAR}', () => {
  it('uses the variable, or the default when it is unset or empty', () => {
    expect(profile(expectOk(parse(PROFILE(''))), 'pe').url).toBe('ldap://localhost:389');
    expect(profile(expectOk(parse(PROFILE(''), { LDAP_HOST: 'ldap.example', LDAP_PORT: '' })), 'pe').url).toBe('ldap://ldap.example:389');
  });

  it('gives an unquoted reference the type of its value, so numbers and booleans work', () => {
    const pe = profile(expectOk(parse(PROFILE('    pageSize: ${SIZE}\n    startTLS: ${TLS:-false}\n'), { SIZE: '250' })), 'pe');
    expect(pe.pageSize).toBe(250);
    expect(pe.startTLS).toBe(false);
  });

  it('keeps $${ as a literal ${', () => {
    const pe = profile(expectOk(parse(PROFILE('      mapping:\n        homeDir: "\'$${HOME}/\' + uid"\n'))), 'pe');
    expect(pe.users.mapping.map(makeEntry('uid=fry,dc=a,dc=com', { uid: 'fry' }))).toMatchObject({ homeDir: '${HOME}/fry' });
  });

  it('reports every unset variable of the file, not only the first', () => {
    const result = parse('servers:\n  pe:\n    url: ldap://${HOST}:${PORT}\n    domains: [a.com]\n    users:\n      baseDN: ${BASE}\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.code, `${e.where.line}:${e.where.column}`])).toEqual([
      ['config.env', '3:17'],
      ['config.env', '3:25'],
      ['config.env', '6:15'],
    ]);
  });
});

describe('secrets', () => {
  it('reads { env: NAME } and { file: PATH } relative to the config file, dropping one final newline', () => {
    const text = PROFILE('    bindDN: cn=admin,dc=a,dc=com\n    bindPassword: { file: secret.txt }\nhttp:\n  token: { env: HTTP_TOKEN }\n');
    const config = expectOk(parse(text, { HTTP_TOKEN: 'tok-123' }, { '/etc/ldapsync/secret.txt': 'pa55-word\n\n' }));
    expect(profile(config, 'pe').bindPassword?.reveal()).toBe('pa55-word\n');
    expect(config.http?.authToken?.reveal()).toBe('tok-123');
  });

  it('accepts a plain-text secret with a config.plain-secret warning at its position', () => {
    const result = parse(PROFILE('    bindDN: cn=admin,dc=a,dc=com\n    bindPassword: hunter2hunter2\n'));
    const config = expectOk(result);
    expect(profile(config, 'pe').bindPassword?.reveal()).toBe('hunter2hunter2');
    expect(result.warnings.map((w) => [w.code, `${w.where.line}:${w.where.column}`, w.where.path])).toEqual([
      ['config.plain-secret', '8:19', 'servers.pe.bindPassword'],
    ]);
  });

  it('does not warn about a secret that is only a ${VAR} reference', () => {
    const result = parse(PROFILE('    bindDN: cn=admin,dc=a,dc=com\n    bindPassword: ${LDAP_PASSWORD}\n'), { LDAP_PASSWORD: 'from-the-env' });
    expect(profile(expectOk(result), 'pe').bindPassword?.reveal()).toBe('from-the-env');
    expect(result.warnings).toEqual([]);
  });

  it('warns about a password spelt out in the store URL, but not about one from ${VAR}', () => {
    const plain = parse(`store:\n  url: postgres://sync:Zoidberg-77@db/ldapsync\n${PROFILE('')}`);
    expect(plain.warnings.map((w) => [w.code, `${w.where.line}:${w.where.column}`])).toEqual([['config.plain-secret', '2:24']]);
    expect(plain.warnings[0]?.caret).toBe(`  url: postgres://sync:***********@db/ldapsync\n${' '.repeat(23)}^${'~'.repeat(10)}`);
    expect(parse(`store:\n  url: postgres://sync:\${PGPASS}@db/ldapsync\n${PROFILE('')}`, { PGPASS: 'x' }).warnings).toEqual([]);
  });
});

describe('secrets in output', () => {
  const PLAIN = 'Plain-Text-Pa55';
  const FROM_ENV = 'Env-Secret-Value-9';
  const FROM_FILE = 'File-Secret-Value-7';
  const STORE_PASS = 'Store-Pass-3';

  it('never appear in an error, warning, caret, hint or printed config', () => {
    const text = [
      `store: { url: "postgres://u:${STORE_PASS}@db/x", schema: "bad schema" }`,
      'http: { token: { file: token.txt }, listen: "nowhere:99999" }',
      'servers:',
      // One line: the plain password sits on the line the URL error's caret shows.
      `  pe: { url: "http://x", bindDN: "cn=a,dc=b", bindPassword: ${PLAIN}, domains: [a.com], users: { baseDN: dc=a } }`,
      '  ad:',
      '    url: ldap://ad',
      '    bindDN: cn=reader,dc=ad',
      '    bindPassword: { env: AD_PASSWORD }',
      // A secret misused as a time zone still must not be echoed.
      '    timezone: ${AD_PASSWORD}',
      '    domains: [b.com]',
      '    users: { baseDN: dc=ad, filter: "(cn=${AD_PASSWORD}" }',
      `  typo: { url: "ldap://x", bindDN: "cn=a", bindPasword: ${PLAIN}, domains: [c.com], users: { baseDN: dc=a } }`,
    ].join('\n');
    const result = parse(text, { AD_PASSWORD: FROM_ENV }, { '/etc/ldapsync/token.txt': FROM_FILE });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.code)).toEqual(
      expect.arrayContaining(['config.url', 'config.pattern', 'config.listen', 'config.timezone', 'config.filter', 'config.unknown-key']),
    );
    const printed = [...result.errors, ...result.warnings]
      .flatMap((e) => [formatConfigError(e), e.message, e.hint ?? '', e.caret ?? '', JSON.stringify(e), inspect(e, { depth: 5 })])
      .join('\n');
    for (const secret of [PLAIN, FROM_ENV, FROM_FILE, STORE_PASS]) expect(printed).not.toContain(secret);
    expect(printed).toContain("unknown time zone '[secret]'");
  });

  it('never appear when a loaded config is printed or serialised', () => {
    const text = PROFILE(`    bindDN: cn=admin,dc=a,dc=com\n    bindPassword: ${PLAIN}\nhttp:\n  token: { env: TOKEN }\n`);
    const result = parse(text, { TOKEN: FROM_ENV });
    const config = expectOk(result);
    const printed = [JSON.stringify(config), inspect(config, { depth: 10 }), String(profile(config, 'pe').bindPassword), ...result.warnings.map(formatConfigError)].join('\n');
    expect(printed).not.toContain(PLAIN);
    expect(printed).not.toContain(FROM_ENV);
  });
});

describe('TLS settings', () => {
  it('on a connection that is not encrypted draw a warning', () => {
    const result = parse(PROFILE('    tls:\n      caFile: ca.pem\n'));
    expect(profile(expectOk(result), 'pe').tls.caFile).toBe('/etc/ldapsync/ca.pem');
    expect(result.warnings.map((w) => [w.code, `${w.where.line}:${w.where.column}`])).toEqual([['config.tls', '7:5']]);
    expect(parse(PROFILE('    startTLS: true\n    tls:\n      caFile: ca.pem\n')).warnings).toEqual([]);
  });
});

describe('named mappings', () => {
  it('warns about one no profile uses, and still checks it', () => {
    const ok = parse(`mappings:\n  spare:\n    description: cn\n${PROFILE('')}`);
    expect(ok.warnings.map((w) => [w.code, w.where.path])).toEqual([['config.unused-mapping', 'mappings.spare']]);
    const bad = parse(`mappings:\n  spare:\n    description: lowr(cn)\n${PROFILE('')}`);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.map((e) => [e.code, `${e.where.line}:${e.where.column}`])).toEqual([['dsl.unknown-function', '3:18']]);
  });

  it('reports an error in a mapping shared by two profiles once', () => {
    const text = `mappings:\n  shared:\n    email: lowr(mail)\nservers:\n${['a', 'b']
      .map((n) => `  ${n}:\n    url: ldap://${n}\n    domains: [${n}.com]\n    users: { baseDN: dc=${n}, mapping: shared }\n`)
      .join('')}`;
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.code, `${e.where.line}:${e.where.column}`])).toEqual([['dsl.unknown-function', '3:12']]);
  });
});

describe('the shipped examples', () => {
  const env = { LDAP_PASSWORD: 'secret', LDAP_BIND_PASSWORD: 'GoodNewsEveryone', AD_BIND_PASSWORD: 'P@ssw0rd!' };
  const load = (file: string): Config => {
    const path = join(REPO, file);
    return expectOk(parseConfig(readFileSync(path, 'utf8'), path, env, noFiles));
  };

  it('ldapsync.yaml (the root sample) validates: demo profile against ${LDAP_PORT:-3890}', () => {
    const demo = profile(load('ldapsync.yaml'), 'demo');
    expect(demo.url).toBe('ldap://127.0.0.1:3890');
    expect(demo.bindDN).toBe('cn=reader,dc=example,dc=org');
    expect(demo.bindPassword?.reveal()).toBe('secret');
  });

  it('examples/openldap.yaml validates and maps Planet Express entries as Group-Office would', () => {
    const config = load('examples/openldap.yaml');
    const pe = profile(config, 'planetexpress');
    expect(pe.users.baseDN).toBe('ou=people,dc=planetexpress,dc=com');
    const fry = pe.users.mapping.map(
      makeEntry('cn=Philip J. Fry,ou=people,dc=planetexpress,dc=com', {
        uid: 'fry',
        cn: 'Philip J. Fry',
        givenName: 'Philip',
        sn: 'Fry',
        ou: 'Delivering Crew',
        mail: ['fry@example.com', 'Fry@PlanetExpress.com'],
        employeeType: 'Delivery boy',
      }),
    );
    expect(fry).toMatchObject({
      enabled: false,
      diskQuota: 2 ** 30,
      email: 'Fry@PlanetExpress.com',
      addressType: 'work',
      countryCode: 'US',
      homeDir: 'ldap_homes/fry',
      contactCustomFields: { employeeType: 'Delivery boy' },
    });
    const leela = pe.users.mapping.map(makeEntry('cn=Turanga Leela,ou=people,dc=planetexpress,dc=com', { uid: 'leela', ou: 'Office Management', mail: 'leela@example.com' }));
    expect(leela).toMatchObject({ enabled: true, email: 'leela@example.com' });
  });

  it('examples/active-directory.yaml validates and maps AD entries', () => {
    const corp = profile(load('examples/active-directory.yaml'), 'corp');
    expect(corp.serverType).toBe('ad');
    expect(corp.users).toMatchObject({ baseDN: 'CN=Users,DC=example,DC=com', usernameAttribute: 'sAMAccountName', idAttribute: 'objectGUID' });
    expect(corp.users.filter).toBe('(&(objectClass=user)(objectCategory=person)(!(objectClass=computer)))');
    const guid = Uint8Array.from([0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
    const record = corp.users.mapping.map(
      makeEntry('CN=Hermes Conrad,CN=Users,DC=example,DC=com', {
        sAMAccountName: 'hconrad',
        userAccountControl: '514',
        userPrincipalName: 'hconrad@example.com',
        accountExpires: '0',
        whenChanged: '20240102030405.0Z',
        objectGUID: guid,
      }),
    );
    expect(record).toMatchObject({
      enabled: false,
      email: 'hconrad@example.com',
      userCustomFields: { accountExpires: null, whenChanged: '2024-01-02T03:04:05.000Z', guid: '01234567-89ab-cdef-0123-456789abcdef' },
    });
    expect(corp.users.mapping.map(makeEntry('CN=x,DC=example,DC=com', { userAccountControl: '512' }))).toMatchObject({ enabled: true });
  });
});
