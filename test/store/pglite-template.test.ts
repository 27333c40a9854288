import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/index.js';
import { MIGRATION_NAMES, openStore } from '../../src/store/index.js';
import { makeTemplate, templateFile, templateFor } from '../../src/store/pglite-template.js';

describe('new embedded stores from the build\'s template', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldapsync-template-'));
    // `npm run build` (run by npm ci) makes it; a checkout that was never built gets it here.
    const file = templateFile();
    if (file !== undefined && !existsSync(file)) await makeTemplate(file);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is there for the installed PGlite, and only for a store that has no data directory yet', async () => {
    const file = templateFile();
    expect(file).toMatch(/[\\/]dist[\\/]pglite[\\/]data-\d+\.\d+\.\d+.*\.tar\.gz$/);
    expect(await templateFor(join(dir, 'new'))).toBeInstanceOf(Blob);
    expect(await templateFor(join(dir, 'new'), join(dir, 'no-such-template.tar.gz'))).toBeUndefined();
    // A damaged template (a copy cut short) is passed over: the store is made by initdb instead.
    const cut = join(dir, 'cut.tar.gz');
    await writeFile(cut, (await readFile(file ?? '')).subarray(0, 100_000));
    expect(await templateFor(join(dir, 'new'), cut)).toBeUndefined();

    const config = { url: `pglite://${join(dir, 'store')}`, schema: 'ldapsync' };
    const store = await openStore(config, { logger: silentLogger() });
    try {
      expect(existsSync(join(dir, 'store', 'PG_VERSION'))).toBe(true);
      expect(await store.migrate()).toEqual({ applied: [], current: MIGRATION_NAMES[MIGRATION_NAMES.length - 1] });
      // Its buffer cache is ldapsync's (see src/store/backend.ts), not the 128MB of the template's postgresql.conf.
      expect(await readFile(join(dir, 'store', 'postgresql.conf'), 'utf8')).toMatch(/^shared_buffers = 128MB/m);
      const { rows: buffers } = await sql<{ shared_buffers: string }>`SHOW shared_buffers`.execute(store.kysely);
      expect(buffers).toEqual([{ shared_buffers: '32MB' }]);
      await sql`INSERT INTO ldapsync.users (source, username, login) VALUES ('local', 'fry', 'fry@example.com')`.execute(store.kysely);
    } finally {
      await store.close();
    }
    // Opened again, it is the same database, not a new one from the template.
    expect(await templateFor(join(dir, 'store'))).toBeUndefined();
    const again = await openStore(config, { logger: silentLogger() });
    try {
      const { rows } = await sql<{ username: string }>`SELECT username FROM ldapsync.users`.execute(again.kysely);
      expect(rows).toEqual([{ username: 'fry' }]);
    } finally {
      await again.close();
    }
  });
});
