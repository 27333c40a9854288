import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package named `name` whose package.json is found from `start` upwards: its directory and version. */
export function packageAbove(start: string, name: string): { readonly dir: string; readonly version: string | undefined } | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === name) return { dir, version: typeof pkg.version === 'string' ? pkg.version : undefined };
    } catch {
      // No package.json here: look further up.
    }
    if (dirname(dir) === dir) return undefined;
  }
}

let knownVersion: string | undefined;

/** ldapsync's version, from the package.json above this module (in src/ or in the bundle of dist/); read once. */
export function ldapsyncVersion(): string {
  knownVersion ??= packageAbove(dirname(fileURLToPath(import.meta.url)), 'ldapsync')?.version ?? 'unknown';
  return knownVersion;
}
