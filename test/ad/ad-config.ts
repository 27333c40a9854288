import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { formatConfigError, parseConfig, type Config, type Profile, type StoreConfig } from '../../src/config/index.js';
import { repoRoot } from '../helpers/cli.js';
import { AD_SERVICE_PASSWORD, type SambaHandle } from '../helpers/samba.js';

export const EXAMPLE_FILE = join(repoRoot, 'examples', 'active-directory.yaml');
/** The example's profile name. */
export const PROFILE = 'corp';

export interface AdConfigOptions {
  /** Where the store is; default the example's (which the directory-only tests never open). */
  readonly store?: StoreConfig;
  /** Default ldaps. */
  readonly plain?: boolean;
  /** Replaces the example's bindDN (a DN, a UPN or DOMAIN\user). */
  readonly bindDN?: string;
  /** The bind password (AD_BIND_PASSWORD); default the service account's. */
  readonly password?: string;
  /** Any key of servers.corp.users or .groups, replacing the example's value (undefined deletes it). */
  readonly users?: Readonly<Record<string, unknown>>;
  readonly groups?: Readonly<Record<string, unknown>>;
  /** Other keys of servers.corp, e.g. pageSize. */
  readonly profile?: Readonly<Record<string, unknown>>;
}

/**
 * examples/active-directory.yaml pointed at the test domain controller: only where it is (URL, CA), who binds,
 * and the store change, plus what a test overrides; filters, attributes and mappings stay the example's.
 */
export function adConfigText(samba: SambaHandle, options: AdConfigOptions = {}): string {
  const doc = parseDocument(readFileSync(EXAMPLE_FILE, 'utf8'));
  const at = (...path: string[]): string[] => ['servers', PROFILE, ...path];
  doc.setIn(at('url'), options.plain === true ? samba.url : samba.ldapsUrl);
  if (options.plain === true) doc.deleteIn(at('tls'));
  else doc.setIn(at('tls', 'caFile'), samba.caFile);
  if (options.bindDN !== undefined) doc.setIn(at('bindDN'), options.bindDN);
  if (options.store !== undefined) {
    doc.setIn(['store', 'url'], options.store.url);
    doc.setIn(['store', 'schema'], options.store.schema);
  }
  for (const [section, values] of [['users', options.users], ['groups', options.groups]] as const) {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === undefined) doc.deleteIn(at(section, key));
      else doc.setIn(at(section, key), value);
    }
  }
  for (const [key, value] of Object.entries(options.profile ?? {})) doc.setIn(at(key), value);
  return String(doc);
}

/** The environment the example needs: its bind password. */
export function adEnv(options: AdConfigOptions = {}): Record<string, string> {
  return { AD_BIND_PASSWORD: options.password ?? AD_SERVICE_PASSWORD };
}

/** The config as the loader builds it; throws with every error when it does not load. */
export function loadAdConfig(samba: SambaHandle, options: AdConfigOptions = {}): Config {
  const file = join(samba.dir, 'ldapsync.yaml');
  const result = parseConfig(adConfigText(samba, options), file, adEnv(options), (path) => readFileSync(path, 'utf8'));
  if (!result.ok) throw new Error(`the test config does not load:\n${result.errors.map((e) => formatConfigError(e)).join('\n')}`);
  return result.config;
}

export function loadAdProfile(samba: SambaHandle, options: AdConfigOptions = {}): Profile {
  const profile = loadAdConfig(samba, options).servers.get(PROFILE);
  if (profile === undefined) throw new Error(`the example has no profile ${PROFILE}`);
  return profile;
}

/** Writes the config into `dir` for the CLI; returns its path. */
export async function writeAdConfig(dir: string, samba: SambaHandle, options: AdConfigOptions = {}): Promise<string> {
  const file = join(dir, 'ldapsync.yaml');
  await writeFile(file, adConfigText(samba, options));
  return file;
}
