import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGeneratedLdif, type GeneratorOptions } from './ldif-generator.js';
import {
  SLAPD_ADMIN_DN,
  SLAPD_ADMIN_PASSWORD,
  SLAPD_BASE_DN,
  SLAPD_READER_DN,
  SLAPD_READER_PASSWORD,
  slapdBaseLdif,
  slapdConfigLdif,
} from './slapd-config.js';
import { makeTestTls } from './slapd-tls.js';

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';

/** The company fixture (test/fixtures/ldap/company.ldif): people, groups, nested groups, a posixGroup. */
export const COMPANY_LDIF_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ldap', 'company.ldif');

export function readCompanyLdif(): Promise<string> {
  return readFile(COMPANY_LDIF_FILE, 'utf8');
}

export interface StartSlapdOptions {
  /** LDIF loaded with ldapadd once the server answers, so the memberof overlay fills memberOf. */
  readonly ldif?: string;
  /** Generated users and groups loaded offline with slapadd before the start (the fast way for large N). */
  readonly generate?: GeneratorOptions;
  /** The reader account's size limit for unpaged searches; default 5, below the company fixture's size. */
  readonly readerSizeLimit?: number;
  /** A limit on all pages of one paged search by the reader (`size.prtotal`); default none. */
  readonly readerPagedTotalLimit?: number;
  /** false: no TLS at all, so StartTLS is refused and nothing listens on `ldapsUrl`. Default true. */
  readonly tls?: boolean;
}

/**
 * Everything a process needs to use a running test server, as plain data: what a vitest globalSetup can
 * `provide` to the test files, which turn it back into a handle with `attachSlapd`.
 */
export interface SlapdInfo {
  readonly url: string;
  readonly ldapsUrl: string;
  readonly port: number;
  readonly ldapsPort: number;
  readonly caFile: string;
  readonly baseDN: string;
  readonly adminDN: string;
  readonly adminPassword: string;
  readonly readerDN: string;
  readonly readerPassword: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** Whether TLS is configured (StartTLS and ldaps); see `StartSlapdOptions.tls`. */
  readonly tls: boolean;
}

export interface SlapdHandle extends SlapdInfo, AsyncDisposable {
  /** Kills the server (SIGTERM, then SIGKILL after 3 s) and waits until it is gone; keeps its data. Safe twice. */
  stop(): Promise<void>;
  /** Starts the server again on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections are accepted by the kernel but nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops the server and removes its directory. Safe twice; also done at process exit for forgotten handles. */
  dispose(): Promise<void>;
  /** Shell out to ldap-utils as the rootdn. */
  ldapadd(ldif: string): Promise<void>;
  ldapmodify(ldif: string): Promise<void>;
  ldapdelete(dn: string): Promise<void>;
  /** Plain data for another process; see `attachSlapd`. */
  info(): SlapdInfo;
}

/**
 * Starts a throwaway slapd on free ports of 127.0.0.1 (plain with StartTLS, and ldaps), with its own cn=config,
 * mdb database, TLS certificates and temp directory. Takes well under a second for the company fixture.
 */
export async function startSlapd(options: StartSlapdOptions = {}): Promise<SlapdHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'ldapsync-slapd-'));
  try {
    const tlsDir = join(dir, 'tls');
    const dataDir = join(dir, 'data');
    const configDir = join(dir, 'slapd.d');
    await Promise.all([mkdir(tlsDir), mkdir(dataDir), mkdir(configDir)]);
    const tls = await makeTestTls(tlsDir);
    const configLdif = join(dir, 'config.ldif');
    const withTls = options.tls !== false;
    await writeFile(
      configLdif,
      slapdConfigLdif({
        dir,
        dataDir,
        tls: withTls ? tls : undefined,
        readerSizeLimit: options.readerSizeLimit ?? 5,
        readerPagedTotalLimit: options.readerPagedTotalLimit,
      }),
    );
    await runTool(SLAPADD, ['-n0', '-F', configDir, '-l', configLdif]);

    const baseLdif = join(dir, 'base.ldif');
    await writeFile(baseLdif, slapdBaseLdif());
    await runTool(SLAPADD, ['-q', '-n1', '-F', configDir, '-l', baseLdif]);
    if (options.generate !== undefined) {
      const generated = join(dir, 'generated.ldif');
      await writeGeneratedLdif(generated, { ...options.generate, baseDN: SLAPD_BASE_DN });
      await runTool(SLAPADD, ['-q', '-n1', '-F', configDir, '-l', generated]);
      await rm(generated);
    }

    const server = await startOnFreePorts((port, ldapsPort) => {
      return new SlapdServer(
        {
          url: `ldap://127.0.0.1:${port}`,
          ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
          port,
          ldapsPort,
          caFile: tls.caFile,
          baseDN: SLAPD_BASE_DN,
          adminDN: SLAPD_ADMIN_DN,
          adminPassword: SLAPD_ADMIN_PASSWORD,
          readerDN: SLAPD_READER_DN,
          readerPassword: SLAPD_READER_PASSWORD,
          dir,
          pid: undefined,
          tls: withTls,
        },
        true,
      );
    });
    if (options.ldif !== undefined) await server.ldapadd(options.ldif);
    return server;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The ports are free when chosen but not reserved: a test running in parallel can take one before slapd binds
 * it. slapd then exits with "Address already in use", and another pair is tried.
 */
async function startOnFreePorts(make: (port: number, ldapsPort: number) => SlapdServer): Promise<SlapdServer> {
  for (let attempt = 1; ; attempt++) {
    const [port = 0, ldapsPort = 0] = await freePorts(2);
    const server = make(port, ldapsPort);
    try {
      await server.start();
      return server;
    } catch (err) {
      // Its directory is the next attempt's, and startSlapd removes it if every attempt fails.
      live.delete(server);
      if (attempt >= 5 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

/** A handle on a server started by another process (a globalSetup); `dispose` leaves it to its owner. */
export function attachSlapd(info: SlapdInfo): SlapdHandle {
  return new SlapdServer(info, false);
}

const live = new Set<SlapdServer>();
let exitHookInstalled = false;

/** A test that fails before its teardown must not leave a slapd running or a directory behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of live) server.killNow();
  });
}

class SlapdServer implements SlapdHandle {
  readonly url: string;
  readonly ldapsUrl: string;
  readonly port: number;
  readonly ldapsPort: number;
  readonly caFile: string;
  readonly baseDN: string;
  readonly adminDN: string;
  readonly adminPassword: string;
  readonly readerDN: string;
  readonly readerPassword: string;
  readonly dir: string;
  readonly tls: boolean;
  #pid: number | undefined;
  #child: ChildProcess | undefined;
  readonly #owned: boolean;
  #disposed = false;

  constructor(info: SlapdInfo, owned: boolean) {
    this.url = info.url;
    this.ldapsUrl = info.ldapsUrl;
    this.port = info.port;
    this.ldapsPort = info.ldapsPort;
    this.caFile = info.caFile;
    this.baseDN = info.baseDN;
    this.adminDN = info.adminDN;
    this.adminPassword = info.adminPassword;
    this.readerDN = info.readerDN;
    this.readerPassword = info.readerPassword;
    this.dir = info.dir;
    this.#pid = info.pid;
    this.tls = info.tls;
    this.#owned = owned;
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  info(): SlapdInfo {
    return {
      url: this.url,
      ldapsUrl: this.ldapsUrl,
      port: this.port,
      ldapsPort: this.ldapsPort,
      caFile: this.caFile,
      baseDN: this.baseDN,
      adminDN: this.adminDN,
      adminPassword: this.adminPassword,
      readerDN: this.readerDN,
      readerPassword: this.readerPassword,
      dir: this.dir,
      pid: this.#pid,
      tls: this.tls,
    };
  }

  async start(): Promise<void> {
    if (this.#disposed) throw new Error(`slapd in ${this.dir} was disposed`);
    if (this.#pid !== undefined && isAlive(this.#pid)) return;
    const urls = this.tls ? `${this.url}/ ${this.ldapsUrl}/` : `${this.url}/`;
    const child = spawn(SLAPD, ['-F', join(this.dir, 'slapd.d'), '-h', urls, '-d', 'none'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `slapd exited (${signal ?? `code ${code}`})`;
      if (this.#child === child) {
        this.#child = undefined;
        this.#pid = undefined;
      }
    });
    child.once('error', (err) => {
      exited = `slapd could not be started: ${err.message}`;
    });
    // Neither the process nor its stderr pipe may keep a test worker alive.
    child.unref();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    this.#child = child;
    this.#pid = child.pid;
    live.add(this);
    installExitHook();

    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited !== undefined) throw new Error(`${exited} in ${this.dir}: ${stderr.trim()}`);
      if (await answers(this.url)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`slapd did not answer on ${this.url} within 10 s: ${stderr.trim()}`);
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    // Another process sharing this server may have restarted it: slapd's pid file names the current process.
    const pid = this.#pid ?? (await readPidFile(join(this.dir, 'slapd.pid')));
    if (pid === undefined || !isAlive(pid)) {
      this.#pid = undefined;
      return;
    }
    const child = this.#child;
    const gone =
      child !== undefined && child.exitCode === null && child.signalCode === null
        ? new Promise<void>((resolve) => child.once('exit', () => resolve()))
        : waitForExit(pid);
    signalGroup(pid, 'SIGCONT');
    signalGroup(pid, 'SIGTERM');
    const killer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 3_000);
    await gone;
    clearTimeout(killer);
    this.#pid = undefined;
    this.#child = undefined;
    if (!this.#owned) live.delete(this);
  }

  pause(): void {
    if (this.#pid !== undefined) signalGroup(this.#pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.#pid !== undefined) signalGroup(this.#pid, 'SIGCONT');
  }

  async dispose(): Promise<void> {
    if (this.#disposed || !this.#owned) return;
    await this.stop();
    this.#disposed = true;
    live.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    if (this.#pid !== undefined) {
      signalGroup(this.#pid, 'SIGCONT');
      signalGroup(this.#pid, 'SIGKILL');
    }
    if (this.#owned && !this.#disposed) rmSync(this.dir, { recursive: true, force: true });
  }

  ldapadd(ldif: string): Promise<void> {
    return this.#ldapTool('ldapadd', [], ldif);
  }

  ldapmodify(ldif: string): Promise<void> {
    return this.#ldapTool('ldapmodify', [], ldif);
  }

  ldapdelete(dn: string): Promise<void> {
    return this.#ldapTool('ldapdelete', [dn], '');
  }

  #ldapTool(tool: string, args: ReadonlyArray<string>, input: string): Promise<void> {
    return runTool(tool, ['-x', '-H', this.url, '-D', this.adminDN, '-w', this.adminPassword, ...args], input, {
      ...process.env,
      LDAPTLS_CACERT: this.caFile,
    });
  }
}

/** One anonymous base search of the root DSE: the server is up when it answers. */
async function answers(url: string): Promise<boolean> {
  try {
    await runTool('ldapsearch', ['-x', '-H', url, '-s', 'base', '-b', '', '-o', 'nettimeout=1', 'namingContexts']);
    return true;
  } catch {
    return false;
  }
}

function runTool(command: string, args: ReadonlyArray<string>, input?: string, env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], env: env ?? process.env });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.map((a, i) => (args[i - 1] === '-w' ? '***' : a)).join(' ')} failed (exit ${code}): ${stderr.trim()}`));
    });
    // A tool that exits before reading all its input (a failed bind, say) breaks the pipe; its exit code and
    // stderr say why, so the write error itself is not worth more than that.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number): Promise<void> {
  while (isAlive(pid)) await sleep(20);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
