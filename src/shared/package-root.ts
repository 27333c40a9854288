import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The directory holding the package.json named `name`, found from `start` upwards, or undefined. */
export function packageDirAbove(start: string, name: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // No package.json here: look further up.
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The `version` of the package.json in `dir`, or undefined. */
export function packageVersion(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  try {
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}
