import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DslError } from '../dsl/index.js';
import { LdapsyncError, parseLdif, type LdifRecord } from '../shared/index.js';
import { ExitCode, writeJson, writeLine, type Io } from './io.js';
import { loadOrReport, profileOrReport } from './load.js';

export interface MapOptions {
  readonly config: string;
  readonly server: string;
  readonly ldif: string;
  readonly groups: boolean;
}

/** Evaluates a profile's mapping on LDIF entries offline: one JSON object per entry; a failed entry is reported, not fatal. */
export async function mapCommand(options: MapOptions, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(options.config, io);
  if (config === undefined) return ExitCode.usage;
  const profile = profileOrReport(config, options.server, io);
  if (profile === undefined) return ExitCode.usage;
  const query = options.groups ? profile.groups : profile.users;
  if (query === undefined) {
    writeLine(io.stderr, `profile "${profile.name}" has no groups query`);
    return ExitCode.usage;
  }

  const file = resolve(io.cwd, options.ldif);
  let records: LdifRecord[];
  try {
    records = parseLdif(await readFile(file, 'utf8'), options.ldif);
  } catch (err) {
    writeLine(io.stderr, err instanceof LdapsyncError ? err.format() : `cannot read ${file}: ${(err as Error).message}`);
    return ExitCode.usage;
  }

  for (const { entry } of records) {
    try {
      writeJson(io.stdout, { dn: entry.dn, ...query.mapping.map(entry) });
    } catch (err) {
      const message = err instanceof DslError ? `${err.field}: ${err.message}` : err instanceof Error ? err.message : String(err);
      writeJson(io.stdout, { dn: entry.dn, error: message });
    }
  }
  return ExitCode.ok;
}
