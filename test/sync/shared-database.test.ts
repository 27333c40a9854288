import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/index.js';
import { openStore } from '../../src/store/index.js';
import { dropSchema, ensurePostgres, PG_URL, randomSchema } from '../helpers/postgres.js';

/**
 * ldapsync's schema usually shares its database with other applications' schemas (and, in CI, with other test
 * files' schemas). Whatever they do to their own schemas must not make ldapsync fail to start.
 */
describe('a store in a database shared with other schemas (postgres)', () => {
  let churn: pg.Client;
  let stop = false;
  let churning: Promise<number>;
  beforeEach(async () => {
    await ensurePostgres();
    churn = new pg.Client({ connectionString: PG_URL });
    await churn.connect();
    stop = false;
    // Another application creating and dropping a schema of its own, as fast as it can.
    churning = (async () => {
      let cycles = 0;
      while (!stop) {
        const other = randomSchema('other_app');
        await churn.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.t (id bigserial PRIMARY KEY, name text)`);
        await churn.query(`DROP SCHEMA ${other} CASCADE`);
        cycles++;
      }
      return cycles;
    })();
  });
  afterEach(async () => {
    stop = true;
    await churning;
    await churn.end();
  });

  it('opens (and migrates) every time while another schema of the database is created and dropped', async () => {
    const failures: string[] = [];
    for (let i = 0; i < 15; i++) {
      const schema = randomSchema('shared');
      try {
        const store = await openStore({ url: PG_URL, schema }, { logger: silentLogger() });
        await store.close();
      } catch (err) {
        failures.push((err as Error).message);
      } finally {
        await dropSchema(schema);
      }
    }
    stop = true;
    expect(await churning).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });
});
