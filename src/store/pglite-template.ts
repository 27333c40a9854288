import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { packageAbove } from '../shared/package-root.js';

/**
 * A new embedded store starts from a data directory made once, when ldapsync is built (`npm run build` writes
 * it to dist/pglite/), rather than from PGlite's initdb: here a new store took 3.4 s and peaked at 830 MB RSS
 * through initdb, and 1.1 s and 380 MB loaded from the template. The template is for the PGlite it was made
 * with; for another version (or without a build) a new store is made by initdb as before.
 */
export function templateFile(): string | undefined {
  const root = packageAbove(dirname(fileURLToPath(import.meta.url)), 'ldapsync')?.dir;
  const version = pgliteVersion();
  return root === undefined || version === undefined ? undefined : join(root, 'dist', 'pglite', `data-${version}.tar.gz`);
}

/**
 * The template (`file`) for a new store in `path` (one without a PG_VERSION yet), if there is one. It is
 * decompressed once first (a few hundredths of a second): a damaged file would leave a half-made data directory
 * behind, so it is passed over, and the store made by initdb.
 */
export async function templateFor(path: string, file = templateFile()): Promise<Blob | undefined> {
  if (existsSync(join(path, 'PG_VERSION'))) return undefined;
  if (file === undefined || !existsSync(file)) return undefined;
  const bytes = await readFile(file);
  try {
    gunzipSync(bytes);
  } catch {
    return undefined;
  }
  return new Blob([bytes]);
}

/** Makes the template (the build does): a new PGlite's data directory, gzipped. */
export async function makeTemplate(file: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = await mkdtemp(join(tmpdir(), 'ldapsync-pglite-template-'));
  try {
    const pglite = new PGlite(dir);
    await pglite.waitReady;
    const dump = await pglite.dumpDataDir('gzip');
    await pglite.close();
    await mkdir(dirname(file), { recursive: true });
    // Whole or not at all: a build stopped halfway leaves no template that looks made.
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The version of the PGlite this module loads. */
function pgliteVersion(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    return packageAbove(dirname(entry), '@electric-sql/pglite')?.version;
  } catch {
    return undefined;
  }
}
