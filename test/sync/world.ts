import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify as toYaml } from 'yaml';
import { loadConfig, formatConfigError, type Config, type StoreConfig } from '../../src/config/index.js';
import { createLogger, silentLogger } from '../../src/shared/index.js';
import { openStore, type RunRow, type Store } from '../../src/store/index.js';
import { runSync, type SyncKind, type SyncResult } from '../../src/sync/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeStoreSite, type Backend, type StoreSite } from '../helpers/postgres.js';
import { readCompanyLdif, startSlapd, type SlapdHandle, type StartSlapdOptions } from '../helpers/slapd.js';

export type { Backend };
export const BACKENDS: ReadonlyArray<Backend> = ['postgres', 'pglite'];

/** One JSON log line as pino wrote it. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly event?: string; readonly level?: string; readonly msg?: string };

export interface UsersSpec {
  readonly baseDN?: string;
  readonly filter?: string;
  readonly idAttribute?: string;
  readonly usernameAttribute?: string;
  /** Replaces the default test mapping (`enabled` from employeeType) entirely. */
  readonly mapping?: Readonly<Record<string, unknown>>;
}

export interface GroupsSpec {
  readonly filter?: string;
  readonly memberAttribute?: 'member' | 'uniqueMember' | 'memberUid';
  readonly flattenNested?: boolean;
  readonly mapping?: Readonly<Record<string, unknown>>;
}

export interface DeletesSpec {
  readonly enabled?: boolean;
  readonly maxPercentage?: number;
  readonly maxCount?: number;
  readonly mode?: 'disable' | 'delete';
}

export interface ProfileSpec {
  /** Default `demo`. */
  readonly name?: string;
  /** The primary domain, so the login; default example.org. */
  readonly domain?: string;
  readonly pageSize?: number;
  /** e.g. `3s`; the default is long enough for a loaded machine. */
  readonly operationTimeout?: string;
  readonly users?: UsersSpec;
  /** Absent: the profile has no groups query. */
  readonly groups?: GroupsSpec;
  readonly deletes?: DeletesSpec;
}

export interface ConfigSpec {
  readonly profiles?: ReadonlyArray<ProfileSpec>;
  /** Paths relative to the config file. */
  readonly hooks?: ReadonlyArray<string>;
  /** Replaces the world's store URL (e.g. a closed port). */
  readonly storeUrl?: string;
}

export interface InProcessRun {
  readonly result: SyncResult;
  readonly logs: ReadonlyArray<LogLine>;
}

export interface CliRun extends CliResult {
  /** The JSON log lines of stderr: the audit trail. */
  readonly logs: ReadonlyArray<LogLine>;
  /** stderr without the JSON log lines: what a person reads. */
  readonly messages: string;
}

export interface WorldOptions {
  /** Default: the company fixture. */
  readonly ldif?: string;
  readonly generate?: StartSlapdOptions['generate'];
}

/** An embedded store made (initdb + migrations, seconds) once per test process and copied for each world. */
let pgliteTemplate: Promise<string> | undefined;

function templateDir(): Promise<string> {
  pgliteTemplate ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldapsync-sync-template-'));
    const store = await openStore({ url: `pglite://${dir}`, schema: 'ldapsync' }, { logger: silentLogger() });
    await store.close();
    process.once('exit', () => void rm(dir, { recursive: true, force: true }));
    return dir;
  })();
  return pgliteTemplate;
}

async function storeSite(backend: Backend, dir: string): Promise<{ config: StoreConfig; remove: () => Promise<void> }> {
  if (backend === 'postgres') {
    const site: StoreSite = await makeStoreSite('postgres');
    return { config: site.config, remove: () => site.remove() };
  }
  const path = join(dir, 'store');
  await cp(await templateDir(), path, { recursive: true });
  return { config: { url: `pglite://${path}`, schema: 'ldapsync' }, remove: async () => undefined };
}

/**
 * A throwaway directory server, a fresh store of one backend and a temp directory holding ldapsync.yaml: the
 * whole setting a user has, for the sync to run in, either in this process (`sync`, as the daemon runs it) or
 * as the real CLI (`cli`). The embedded store is opened by one process at a time, so the world closes its own
 * handle before the CLI runs.
 */
export class SyncWorld {
  readonly backend: Backend;
  readonly dir: string;
  readonly slapd: SlapdHandle;
  readonly store: StoreConfig;
  readonly configFile: string;
  readonly #removeStore: () => Promise<void>;
  #open: Promise<Store> | undefined;

  private constructor(backend: Backend, dir: string, slapd: SlapdHandle, store: StoreConfig, removeStore: () => Promise<void>) {
    this.backend = backend;
    this.dir = dir;
    this.slapd = slapd;
    this.store = store;
    this.configFile = join(dir, 'ldapsync.yaml');
    this.#removeStore = removeStore;
  }

  static async create(backend: Backend, options: WorldOptions = {}): Promise<SyncWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'ldapsync-sync-'));
    const slapd = await startSlapd(options.generate !== undefined ? { generate: options.generate } : { ldif: options.ldif ?? (await readCompanyLdif()) });
    try {
      const site = await storeSite(backend, dir);
      await writeFile(join(dir, 'reader-password'), slapd.readerPassword);
      const world = new SyncWorld(backend, dir, slapd, site.config, site.remove);
      await world.configure({});
      return world;
    } catch (err) {
      // No world to dispose of later: the server must not outlive this failure.
      await slapd.dispose();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Writes ldapsync.yaml; the default is one profile `demo` over the company's people, without groups. */
  async configure(spec: ConfigSpec): Promise<void> {
    const profiles = spec.profiles ?? [{}];
    const servers: Record<string, unknown> = {};
    for (const p of profiles) servers[p.name ?? 'demo'] = this.#profile(p);
    const doc = {
      store: { url: spec.storeUrl ?? this.store.url, schema: this.store.schema },
      log: { level: 'info' },
      ...(spec.hooks === undefined ? {} : { hooks: spec.hooks }),
      servers,
    };
    await writeFile(this.configFile, toYaml(doc));
  }

  #profile(p: ProfileSpec): Record<string, unknown> {
    const base = this.slapd.baseDN;
    const users = p.users ?? {};
    return {
      type: 'openldap',
      url: this.slapd.url,
      bindDN: this.slapd.readerDN,
      bindPassword: { file: 'reader-password' },
      domains: [p.domain ?? 'example.org'],
      pageSize: p.pageSize ?? 4,
      timeouts: { connect: '5s', operation: p.operationTimeout ?? '20s' },
      users: {
        baseDN: users.baseDN ?? `ou=people,${base}`,
        filter: users.filter ?? '(objectClass=inetOrgPerson)',
        usernameAttribute: users.usernameAttribute ?? 'uid',
        idAttribute: users.idAttribute ?? 'entryUUID',
        mapping: users.mapping ?? { enabled: "employeeType != 'disabled'" },
      },
      ...(p.groups === undefined
        ? {}
        : {
            groups: {
              baseDN: `ou=groups,${base}`,
              filter: p.groups.filter ?? '(objectClass=groupOfNames)',
              idAttribute: 'entryUUID',
              memberAttribute: p.groups.memberAttribute ?? 'member',
              flattenNested: p.groups.flattenNested ?? false,
              ...(p.groups.mapping === undefined ? {} : { mapping: p.groups.mapping }),
            },
          }),
      ...(p.deletes === undefined ? {} : { deletes: { enabled: false, ...p.deletes } }),
    };
  }

  async config(): Promise<Config> {
    const loaded = await loadConfig(this.configFile, {});
    if (!loaded.ok) throw new Error(`test config does not load:\n${loaded.errors.map(formatConfigError).join('\n')}`);
    return loaded.config;
  }

  /** The world's store, opened once and kept until the CLI needs it or the world ends. */
  openStore(): Promise<Store> {
    this.#open ??= openStore(this.store, { logger: silentLogger() });
    return this.#open;
  }

  async closeStore(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    if (open !== undefined) await (await open).close();
  }

  async withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    return fn(await this.openStore());
  }

  /** One sync in this process, as the daemon runs it, with its log lines captured. */
  async sync(
    kind: SyncKind,
    options: { profile?: string; dryRun?: boolean; delete?: boolean; maxDeletePercentage?: number; onProgress?: (p: { read: number }) => void } = {},
  ): Promise<InProcessRun> {
    const config = await this.config();
    const name = options.profile ?? 'demo';
    const profile = config.servers.get(name);
    if (profile === undefined) throw new Error(`no profile ${name}`);
    const logs: LogLine[] = [];
    const result = await runSync(
      {
        config,
        profile,
        kind,
        trigger: 'cli',
        dryRun: options.dryRun ?? false,
        deletes: {
          ...(options.delete === undefined ? {} : { enabled: options.delete }),
          ...(options.maxDeletePercentage === undefined ? {} : { maxPercentage: options.maxDeletePercentage }),
        },
        logger: captureLogger(logs),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      },
      await this.openStore(),
    );
    return { result, logs };
  }

  /** The real `ldapsync -c ldapsync.yaml ARGS...` in its own process. */
  async cli(...args: string[]): Promise<CliRun> {
    return this.#runCli(args, false);
  }

  /** The same, run by the build as installed (bin/ldapsync.js), not from source. */
  async installedCli(...args: string[]): Promise<CliRun> {
    return this.#runCli(args, true);
  }

  async #runCli(args: ReadonlyArray<string>, installed: boolean): Promise<CliRun> {
    await this.closeStore();
    return parseCli(await runCli(['-c', this.configFile, ...args], { timeoutMs: 90_000, installed }));
  }

  /** Every users row of a source (all columns), by username. */
  async users(source = 'demo'): Promise<UserRow[]> {
    return this.withStore(async (store) => {
      const rows = await store.kysely.selectFrom('users').selectAll().where('source', '=', source).orderBy('username').execute();
      return rows as unknown as UserRow[];
    });
  }

  async user(username: string, source = 'demo'): Promise<UserRow> {
    const row = (await this.users(source)).find((u) => u.username === username);
    if (row === undefined) throw new Error(`no ${source} user ${username}`);
    return row;
  }

  /** Group name -> usernames of its members, sorted. */
  async memberships(source = 'demo'): Promise<Record<string, string[]>> {
    return this.withStore(async (store) => {
      const rows = await store.kysely
        .selectFrom('groups as g')
        .leftJoin('group_members as m', 'm.group_id', 'g.id')
        .leftJoin('users as u', 'u.id', 'm.user_id')
        .select(['g.name as group', 'u.username as username'])
        .where('g.source', '=', source)
        .execute();
      const out: Record<string, string[]> = {};
      for (const r of rows) {
        const list = (out[r.group] ??= []);
        if (r.username !== null) list.push(r.username);
      }
      for (const list of Object.values(out)) list.sort();
      return out;
    });
  }

  async runs(source = 'demo'): Promise<RunRow[]> {
    return this.withStore((store) => store.lastRuns(source, 100));
  }

  async dispose(): Promise<void> {
    await this.closeStore();
    await this.slapd.dispose();
    await this.#removeStore();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A users row as selected with all columns. */
export interface UserRow {
  readonly id: number;
  readonly source: string;
  readonly external_id: string | null;
  readonly dn: string | null;
  readonly username: string;
  readonly login: string;
  readonly enabled: boolean;
  readonly removed_at: Date | null;
  readonly updated_at: Date;
  readonly [column: string]: unknown;
}

export function captureLogger(into: LogLine[]): ReturnType<typeof createLogger> {
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') into.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return createLogger({ level: 'info', destination });
}

export function parseCli(result: CliResult): CliRun {
  const logs: LogLine[] = [];
  const messages: string[] = [];
  for (const line of result.stderr.split('\n')) {
    if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
    else if (line.trim() !== '') messages.push(line);
  }
  return { ...result, logs, messages: messages.join('\n') };
}

export function events(logs: ReadonlyArray<LogLine>, prefix: string): LogLine[] {
  return logs.filter((l) => typeof l.event === 'string' && l.event.startsWith(prefix));
}

/** The audit lines of applied changes (user.*, group.*, membership.*). */
export function changeLines(logs: ReadonlyArray<LogLine>): LogLine[] {
  return logs.filter((l) => typeof l.event === 'string' && /^(user|group|membership)\./.test(l.event));
}

/** ldapmodify text for replacing one attribute's values. */
export function replace(dn: string, attribute: string, ...values: string[]): string {
  return `dn: ${dn}\nchangetype: modify\nreplace: ${attribute}\n${values.map((v) => `${attribute}: ${v}`).join('\n')}\n`;
}

export const PEOPLE = 'ou=people,dc=example,dc=org';
export const GROUPS = 'ou=groups,dc=example,dc=org';
export const COMPANY_USERS = 14;

/** Tests that start the CLI (a process with PGlite to load, on a shared machine) get more than the default minute. */
export const SLOW = { timeout: 180_000 } as const;

/** Polls `condition` every 20 ms until it holds; throws after `ms`. */
export async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
