import { resolve } from 'node:path';
import { formatConfigError, loadConfig, type Config, type Profile } from '../config/index.js';
import { didYouMean } from '../shared/index.js';
import { writeLine, type Io } from './io.js';

/** `-c FILE`, else `$LDAPSYNC_CONFIG`, else `./ldapsync.yaml` (DESIGN §6). */
export function configPath(option: string | undefined, io: Io): string {
  return resolve(io.cwd, option ?? io.env['LDAPSYNC_CONFIG'] ?? 'ldapsync.yaml');
}

/** Loads the config, printing warnings, and every error on failure. undefined means: exit 2. */
export async function loadOrReport(path: string, io: Io): Promise<Config | undefined> {
  const result = await loadConfig(path, io.env);
  for (const warning of result.warnings) writeLine(io.stderr, `warning: ${formatConfigError(warning)}`);
  if (result.ok) return result.config;
  for (const error of result.errors) writeLine(io.stderr, formatConfigError(error));
  writeLine(io.stderr, `${result.errors.length} error${result.errors.length === 1 ? '' : 's'} in ${path}`);
  return undefined;
}

/** The named profile, or undefined after saying which names exist. */
export function profileOrReport(config: Config, name: string, io: Io): Profile | undefined {
  const profile = config.servers.get(name);
  if (profile !== undefined) return profile;
  const names = [...config.servers.keys()];
  const suggestion = didYouMean(name, names);
  writeLine(
    io.stderr,
    `no server profile "${name}" in ${config.file}${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`} (profiles: ${names.join(', ') || 'none'})`,
  );
  return undefined;
}
