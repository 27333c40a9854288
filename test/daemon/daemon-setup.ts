import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { openStore, type RunRow } from '../../src/store/index.js';
import type { StoredUser } from '../../src/reconcile/index.js';
import { makeStoreSite, type StoreSite } from '../helpers/postgres.js';
import { readCompanyLdif, startSlapd, type SlapdHandle, type StartSlapdOptions } from '../helpers/slapd.js';
import { configYaml, type TestConfig, type TestProfile } from './daemon-config.js';
import { DaemonProcess } from './daemon-process.js';

/** Everything one daemon test runs against: its own slapd, a fresh Postgres schema, a config directory. */
export interface DaemonWorld {
  readonly slapd: SlapdHandle;
  readonly site: StoreSite;
  readonly dir: string;
  /** The config file. */
  readonly file: string;
  /** Holds the reader's password; profiles read it as a `{ file: }` secret. */
  readonly passwordFile: string;
  /** A profile of the test server's people (and groups), with this world's password file. */
  profile(name: string, options: Omit<TestProfile, 'name' | 'passwordFile'>): TestProfile;
  /** The config text for these profiles on this world's server and store. */
  yaml(profiles: ReadonlyArray<TestProfile>, extra?: Partial<Omit<TestConfig, 'slapd' | 'profiles'>>): string;
  /** Writes the config file in place. */
  write(profiles: ReadonlyArray<TestProfile>, extra?: Partial<Omit<TestConfig, 'slapd' | 'profiles'>>): Promise<void>;
  /** Starts `ldapsync run` on the config file. */
  start(env?: Readonly<Record<string, string | undefined>>): DaemonProcess;
  /** The profile's rows as the store has them (opened and closed for the call). */
  users(source: string, store?: StoreConfig): Promise<StoredUser[]>;
  runs(source: string): Promise<RunRow[]>;
  dispose(): Promise<void>;
}

export async function makeWorld(slapdOptions: StartSlapdOptions = {}): Promise<DaemonWorld> {
  const [slapd, site, dir] = await Promise.all([
    startSlapd(slapdOptions.generate === undefined && slapdOptions.ldif === undefined ? { ...slapdOptions, ldif: await readCompanyLdif() } : slapdOptions),
    makeStoreSite('postgres'),
    mkdtemp(join(tmpdir(), 'ldapsync-daemon-')),
  ]);
  const file = join(dir, 'ldapsync.yaml');
  const passwordFile = join(dir, 'reader-password');
  await writeFile(passwordFile, slapd.readerPassword);
  const daemons: DaemonProcess[] = [];
  const world: DaemonWorld = {
    slapd,
    site,
    dir,
    file,
    passwordFile,
    profile: (name, options) => ({ name, passwordFile, ...options }),
    yaml: (profiles, extra = {}) => configYaml({ slapd: slapd.info(), store: site.config, profiles, ...extra }),
    write: (profiles, extra) => writeFile(file, world.yaml(profiles, extra)),
    start: (env) => {
      const daemon = DaemonProcess.start(file, env);
      daemons.push(daemon);
      return daemon;
    },
    users: async (source, store) => {
      const opened = store === undefined ? await site.open() : await openStore(store, { logger: silentLogger() });
      try {
        return await opened.usersOf(source);
      } finally {
        await opened.close();
      }
    },
    runs: async (source) => {
      const store = await site.open();
      try {
        return await store.lastRuns(source, 1000);
      } finally {
        await store.close();
      }
    },
    dispose: async () => {
      await Promise.all(daemons.map((d) => d.kill()));
      slapd.resume();
      await Promise.all([slapd.dispose(), site.remove(), rm(dir, { recursive: true, force: true })]);
    },
  };
  return world;
}

/** A TCP port nothing listens on (for a listener to take, or for a profile whose server is gone). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
