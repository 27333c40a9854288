import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config, type StoreConfig } from '../../src/config/index.js';
import type { StoredUser } from '../../src/reconcile/index.js';
import type { RunRow, Store } from '../../src/store/index.js';
import { makeStoreSite, type StoreSite } from '../helpers/postgres.js';
import { readCompanyLdif, startSlapd, type SlapdHandle } from '../helpers/slapd.js';

/** The reader's password travels as a `{ env: }` secret. */
export const READER_ENV = 'AUTH_TEST_READER_PASSWORD';
export const TOKEN_ENV = 'AUTH_TEST_HTTP_TOKEN';

/** People of company.ldif who have no password there get `<uid>-secret` too, so every rule can be tried with a right one. */
const EXTRA_PASSWORDS: ReadonlyArray<readonly [string, string]> = [
  ...['carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'].map((uid) => [`uid=${uid},ou=people,dc=example,dc=org`, `${uid}-secret`] as const),
  ['cn=Tricky Name,ou=people,dc=example,dc=org', 'tricky-secret'],
];

export interface ConfigOptions {
  readonly slapdUrl?: string;
  readonly defaultDomain?: string | null;
  readonly http?: { readonly listen: string; readonly authenticate: boolean; readonly token?: boolean };
  /** A third profile, `down`, whose server is never there (domain down.example). */
  readonly downUrl?: string;
  readonly operationTimeout?: string;
}

/** A throwaway slapd (company fixture, passwords for everyone tried) and a Postgres site per store. */
export interface AuthWorld {
  readonly slapd: SlapdHandle;
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  /** ldapsync.yaml text: profiles `company` (example.org, Example.NET; staff and the disabled bob) and `contractors`. */
  yaml(store: StoreConfig, options?: ConfigOptions): string;
  /** The config loaded from that text, as the daemon and the CLI load it. */
  config(store: StoreConfig, options?: ConfigOptions): Config;
  /** Writes the config to a file in the world's directory and returns its path. */
  writeConfig(name: string, store: StoreConfig, options?: ConfigOptions): Promise<string>;
  site(): Promise<StoreSite>;
  dispose(): Promise<void>;
}

export async function makeAuthWorld(): Promise<AuthWorld> {
  const [slapd, dir] = await Promise.all([startSlapd({ ldif: await readCompanyLdif() }), mkdtemp(join(tmpdir(), 'ldapsync-auth-'))]);
  for (const [dn, password] of EXTRA_PASSWORDS) await slapd.ldapmodify(`dn: ${dn}\nchangetype: modify\nreplace: userPassword\nuserPassword: ${password}\n`);
  const env = { [READER_ENV]: slapd.readerPassword, [TOKEN_ENV]: 'the-right-token-0123456789' };
  const sites: StoreSite[] = [];
  const world: AuthWorld = {
    slapd,
    dir,
    env,
    yaml: (store, options = {}) => configYaml(slapd, store, options),
    config: (store, options = {}) => {
      const file = join(dir, 'ldapsync.yaml');
      const result = parseConfig(world.yaml(store, options), file, env, (path) => readFileSync(path, 'utf8'));
      if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
      return result.config;
    },
    writeConfig: async (name, store, options = {}) => {
      const file = join(dir, name);
      await writeFile(file, world.yaml(store, options));
      return file;
    },
    site: async () => {
      const site = await makeStoreSite('postgres');
      sites.push(site);
      return site;
    },
    dispose: async () => {
      await Promise.all([slapd.dispose(), ...sites.map((s) => s.remove()), rm(dir, { recursive: true, force: true })]);
    },
  };
  return world;
}

function configYaml(slapd: SlapdHandle, store: StoreConfig, options: ConfigOptions): string {
  const profile = (name: string, url: string, domains: string, filter: string): string[] => [
    `  ${name}:`,
    `    url: ${url}`,
    `    bindDN: "${slapd.readerDN}"`,
    `    bindPassword: { env: ${READER_ENV} }`,
    `    domains: [${domains}]`,
    `    timeouts: { connect: 2s, operation: ${options.operationTimeout ?? '5s'} }`,
    `    users:`,
    `      baseDN: "ou=people,${slapd.baseDN}"`,
    `      filter: "${filter}"`,
    `      usernameAttribute: uid`,
    `      idAttribute: entryUUID`,
    `      sync: false`,
    `      mapping:`,
    `        enabled: "employeeType != 'disabled'"`,
    `        displayName: cn`,
    `        jobTitle: title`,
  ];
  const url = options.slapdUrl ?? slapd.url;
  const lines = [`store:`, `  url: "${store.url}"`, `  schema: ${store.schema}`, `log:`, `  level: info`];
  if (options.http !== undefined) {
    lines.push(`http:`, `  listen: "${options.http.listen}"`, `  authenticate: ${options.http.authenticate}`);
    if (options.http.token === true) lines.push(`  token: { env: ${TOKEN_ENV} }`);
  }
  const defaultDomain = options.defaultDomain === undefined ? 'example.org' : options.defaultDomain;
  if (defaultDomain !== null) lines.push(`defaultDomain: ${defaultDomain}`);
  lines.push(`servers:`);
  lines.push(...profile('company', url, 'example.org, Example.NET', '(&(objectClass=inetOrgPerson)(!(employeeType=contractor)))'));
  lines.push(...profile('contractors', url, 'contractors.example', '(&(objectClass=inetOrgPerson)(employeeType=contractor))'));
  if (options.downUrl !== undefined) lines.push(...profile('down', options.downUrl, 'down.example', '(objectClass=inetOrgPerson)'));
  return `${lines.join('\n')}\n`;
}

/** An ldap:// URL on a port of 127.0.0.1 nothing listens on. */
export async function deadLdapUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `ldap://127.0.0.1:${address.port}`;
}

/** A local (application-owned) user row, as an application would insert it. */
export async function insertLocalUser(store: Store, username: string, login = username): Promise<void> {
  await store.kysely.insertInto('users').values({ source: 'local', username, login }).execute();
}

export async function rowsOf(store: Store, source: string): Promise<StoredUser[]> {
  return store.usersOf(source);
}

export async function loginRuns(store: Store, source: string): Promise<RunRow[]> {
  return (await store.lastRuns(source, 100)).filter((run) => run.trigger === 'login');
}
