import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { StoreConfig } from '../../src/config/index.js';
import { silentLogger, type Logger } from '../../src/shared/index.js';
import { openStore, type Store } from '../../src/store/index.js';

/**
 * The local Postgres the tests use: 127.0.0.1:5432, user postgres, trust auth, database `test`.
 * LDAPSYNC_TEST_PG points elsewhere.
 */
export const PG_URL = process.env['LDAPSYNC_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let ready: Promise<void> | undefined;

/** Makes sure the test server answers and has the test database: starts Debian's cluster and creates it if needed. */
export function ensurePostgres(): Promise<void> {
  ready ??= (async () => {
    if (await canConnect(PG_URL)) return;
    const admin = new URL(PG_URL);
    admin.pathname = '/postgres';
    if (!(await canConnect(admin.toString()))) {
      await promisify(execFile)('pg_ctlcluster', ['15', 'main', 'start']).catch(() => undefined);
      for (let i = 0; i < 50 && !(await canConnect(admin.toString())); i++) await new Promise((r) => setTimeout(r, 200));
    }
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      const db = new URL(PG_URL).pathname.slice(1);
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(db)}`);
    } finally {
      await client.end();
    }
  })();
  return ready;
}

/** A schema name no other test (or test run) uses. */
export function randomSchema(prefix = 'test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A plain client on the test database, ended after `fn`. */
export async function withPgClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  await ensurePostgres();
  const client = new pg.Client({ connectionString: PG_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withPgClient((c) => c.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`));
}

export type Backend = 'postgres' | 'pglite';

/** A place for a store of one backend: a fresh schema on the test server, or a fresh embedded directory. */
export interface StoreSite {
  readonly backend: Backend;
  readonly config: StoreConfig;
  /** Opens a store on the site (each call opens another connection pool on Postgres). */
  open(logger?: Logger): Promise<Store>;
  /** Drops the schema or deletes the directory. */
  remove(): Promise<void>;
}

export async function makeStoreSite(backend: Backend): Promise<StoreSite> {
  if (backend === 'postgres') {
    await ensurePostgres();
    const schema = randomSchema();
    const config: StoreConfig = { url: PG_URL, schema };
    return { backend, config, open: (logger) => openStore(config, { logger: logger ?? silentLogger() }), remove: () => dropSchema(schema) };
  }
  const dir = await mkdtemp(join(tmpdir(), 'ldapsync-pglite-'));
  const config: StoreConfig = { url: `pglite://${join(dir, 'store')}`, schema: 'ldapsync' };
  return {
    backend,
    config,
    open: (logger) => openStore(config, { logger: logger ?? silentLogger() }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Opens a store on a fresh site; `cleanup` closes it and removes the site. */
export async function openTestStore(backend: Backend, logger?: Logger): Promise<{ store: Store; site: StoreSite; cleanup: () => Promise<void> }> {
  const site = await makeStoreSite(backend);
  const store = await site.open(logger);
  return {
    store,
    site,
    cleanup: async () => {
      await store.close();
      await site.remove();
    },
  };
}
