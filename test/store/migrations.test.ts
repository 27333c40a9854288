import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/index.js';
import { MIGRATION_NAMES, openStore } from '../../src/store/index.js';
import { InCodeMigrationProvider } from '../../src/store/migrations.js';
import { makeStoreSite, type Backend } from '../helpers/postgres.js';

/** Brings a site to the first migration only, as an older ldapsync would have left it. */
async function migrateToFirst(backend: Backend, url: string, schema: string): Promise<void> {
  const dialect =
    backend === 'postgres'
      ? new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) })
      : new PGliteDialect({ pglite: new PGlite(url.slice('pglite://'.length)) });
  const db = new Kysely<unknown>({ dialect });
  try {
    const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(schema), migrationTableSchema: schema });
    const { error } = await migrator.migrateTo(MIGRATION_NAMES[0] ?? '');
    expect(error).toBeUndefined();
  } finally {
    await db.destroy();
  }
}

describe.each<Backend>(['postgres', 'pglite'])('migrations on %s', (backend) => {
  it('creates the schema on first open, upgrades an older schema, and leaves a current one alone', async () => {
    const fresh = await makeStoreSite(backend);
    try {
      const store = await fresh.open();
      const runs = await store.lastRuns();
      expect(runs).toEqual([]);
      expect(await store.migrate()).toEqual({ applied: [], current: MIGRATION_NAMES[MIGRATION_NAMES.length - 1] });
      await store.close();
    } finally {
      await fresh.remove();
    }

    const old = await makeStoreSite(backend);
    try {
      await migrateToFirst(backend, old.config.url, old.config.schema);
      const store = await old.open();
      const { rows } = await sql<{ name: string }>`SELECT name FROM ${sql.id(old.config.schema, 'kysely_migration')} ORDER BY name`.execute(store.kysely);
      expect(rows.map((r) => r.name)).toEqual([...MIGRATION_NAMES]);
      expect(await store.lastRuns()).toEqual([]);
      await store.close();
      await store.close();
    } finally {
      await old.remove();
    }
  });
});

describe('opening a store', () => {
  it('says clearly when Postgres cannot be reached, without the password', async () => {
    const attempt = openStore({ url: 'postgres://ldapsync:s3cret@127.0.0.1:1/ldapsync', schema: 'ldapsync' }, { logger: silentLogger() });
    await expect(attempt).rejects.toMatchObject({ code: 'store.unreachable', message: expect.stringMatching(/cannot reach the store at postgres:\/\/ldapsync:\*\*\*@127\.0\.0\.1:1\/ldapsync: .*ECONNREFUSED/) });
    await expect(attempt).rejects.not.toMatchObject({ message: expect.stringContaining('s3cret') });
  });

  it('refuses a URL of another kind', async () => {
    await expect(openStore({ url: 'mysql://x', schema: 'ldapsync' }, { logger: silentLogger() })).rejects.toMatchObject({ code: 'store.bad-url' });
  });
});
