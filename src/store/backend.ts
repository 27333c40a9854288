import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGliteDialect, PostgresDialect, type Dialect, type Driver, type PGliteDialectConfig } from 'kysely';
import type pg from 'pg';
import { LdapsyncError } from '../shared/index.js';
import { templateFor } from './pglite-template.js';
import { lockDirectory, type Unlock } from './directory-lock.js';
import { AdvisoryLocks, InProcessLocks, type ProfileLocks } from './profile-locks.js';
import { withSchemaIntrospection } from './schema-introspector.js';

const INT8_OID = 20;

/**
 * bigint ids, quotas and counts are read as numbers: they stay far below 2^53, and a number compares equal to
 * the mapped value (a string would not).
 */
function parseInt8(value: string): number {
  return Number(value);
}

function pgTypes(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? parseInt8 : types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
}

export interface Backend {
  readonly kind: 'postgres' | 'pglite';
  readonly dialect: Dialect;
  readonly locks: ProfileLocks;
  /** The URL without its password, for messages and logs. */
  readonly label: string;
}

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`. */
export function redactStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/**
 * Picks the backend from the URL: `postgres://` / `postgresql://`, or `pglite://PATH` (the directory is created,
 * a new store from the build's template: see pglite-template.ts).
 * Only the chosen backend's driver is loaded: each takes a tenth of a second or more to load.
 */
export async function openBackend(url: string, schema: string): Promise<Backend> {
  const label = redactStoreUrl(url);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { default: pg } = await import('pg');
    const types = pgTypes(pg.types);
    const pool = new pg.Pool({ connectionString: url, max: 10, types });
    // A client that loses its server (idle in the pool or checked out) emits 'error'; unheard, that would
    // crash the process. The query in flight, or the next one, reports the failure instead.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const connect = async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: url, types });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    };
    return { kind: 'postgres', dialect: withSchemaIntrospection(new PostgresDialect({ pool }), schema), locks: new AdvisoryLocks(schema, connect), label };
  }
  if (url.startsWith('pglite://')) {
    const path = resolve(url.slice('pglite://'.length));
    try {
      await mkdir(path, { recursive: true });
    } catch (err) {
      throw new LdapsyncError('store.unreachable', `cannot create the embedded store directory ${path}: ${(err as Error).message}`, { url: label }, { cause: err });
    }
    const { PGlite } = await import('@electric-sql/pglite');
    const unlock = await lockDirectory(path, label);
    try {
      const loadDataDir = await templateFor(path);
      const pglite = new PGlite(path, {
        parsers: { [INT8_OID]: parseInt8 },
        startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`],
        ...(loadDataDir === undefined ? {} : { loadDataDir }),
      });
      return { kind: 'pglite', dialect: withSchemaIntrospection(new LockedPGliteDialect({ pglite }, unlock), schema), locks: new InProcessLocks(), label };
    } catch (err) {
      await unlock();
      throw err;
    }
  }
  throw new LdapsyncError('store.bad-url', `store.url must start with postgres:// or pglite://, not ${JSON.stringify(label)}`, { url: label });
}

/**
 * The embedded Postgres' buffer cache, for every store it opens whatever its postgresql.conf says (128MB, Postgres'
 * default). It lives in PGlite's WebAssembly memory, which never shrinks: each page a sync touches stays in the
 * process for good. Here, with 100,000 users and 1,000 groups, 32MB took 100-130 MB off a first users sync's
 * peak RSS (510-570 MB against 630-700 MB), 50 MB off a first groups sync's, 110-130 MB off every no-op resync's
 * (300 MB against 410 MB), and took no longer; 16MB saved no more.
 */
const EMBEDDED_SHARED_BUFFERS = '32MB';

/** PGlite's dialect holding the directory lock from opening until the database is closed (or fails to open). */
class LockedPGliteDialect extends PGliteDialect {
  readonly #unlock: Unlock;

  constructor(config: PGliteDialectConfig, unlock: Unlock) {
    super(config);
    this.#unlock = unlock;
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const init = driver.init.bind(driver);
    const destroy = driver.destroy.bind(driver);
    const unlock = this.#unlock;
    return Object.assign(driver, {
      async init(): Promise<void> {
        try {
          await init();
        } catch (err) {
          await unlock();
          throw err;
        }
      },
      async destroy(): Promise<void> {
        try {
          await destroy();
        } finally {
          await unlock();
        }
      },
    });
  }
}
