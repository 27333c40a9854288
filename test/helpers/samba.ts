import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseLdif, type Entry } from '../../src/shared/index.js';
import { makeTestTls, type TestTls } from './slapd-tls.js';

/**
 * A throwaway Samba Active Directory domain controller for the AD tests: provisioned into a temp directory,
 * configured by an smb.conf of its own (LDAP service only, bound to one loopback address, TLS with a CA made
 * for the run), seeded over ldaps, and stopped at the end. No system service is enabled or started.
 *
 * Samba's ports are fixed (389, 636, 3268, 3269), so each instance needs an address of its own: 127.0.0.2,
 * 127.0.0.3 and so on (all of 127.0.0.0/8 is loopback on Linux).
 */

const run = promisify(execFile);

export const AD_REALM = 'EXAMPLE.COM';
export const AD_NETBIOS_DOMAIN = 'EXAMPLE';
export const AD_BASE_DN = 'DC=example,DC=com';
export const AD_USERS_DN = `CN=Users,${AD_BASE_DN}`;
export const AD_ADMIN_PASSWORD = 'Ldapsync-Admin-1';
/** The password of every person of the fixture who has one (alice, bob, carol, dave, erin, frank, jmueller). */
export const AD_USER_PASSWORD = 'Ldapsync-Test-1';
/** The service account of examples/active-directory.yaml. */
export const AD_SERVICE_DN = `CN=ldapsync,OU=Service Accounts,${AD_BASE_DN}`;
export const AD_SERVICE_UPN = 'ldapsync@EXAMPLE.COM';
export const AD_SERVICE_DOWN_LEVEL = 'EXAMPLE\\ldapsync';
export const AD_SERVICE_PASSWORD = 'Ldapsync-Service-1';
/** The OU the generated staff live in, and the group of all of them (over MaxValRange, 1500). */
export const AD_STAFF_OU = `OU=Staff,${AD_BASE_DN}`;
export const AD_BIG_GROUP_DN = `CN=All Staff,${AD_USERS_DN}`;

/** The hand-written part of the seed: people, a disabled and an expiring account, a UTF-8 DN, nested groups. */
export const AD_COMPANY_LDIF_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ad', 'company.ldif');

/** The sAMAccountName of the i-th generated staff member (1-based): staff0001. */
export function staffName(i: number): string {
  return `staff${String(i).padStart(4, '0')}`;
}

/**
 * The generated part of the seed: `count` people in OU=Staff and, when there are any, the group
 * CN=All Staff in CN=Users with all of them as members. No passwords: setting one costs a key derivation each.
 */
export function staffLdif(count: number): string {
  if (count === 0) return '';
  const records = [`dn: ${AD_STAFF_OU}\nobjectClass: organizationalUnit\n`];
  const members: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = staffName(i);
    const dn = `CN=${name},${AD_STAFF_OU}`;
    members.push(`member: ${dn}`);
    records.push(
      [
        `dn: ${dn}`,
        'objectClass: user',
        `sAMAccountName: ${name}`,
        `userPrincipalName: ${name}@example.com`,
        `mail: ${name}@example.com`,
        'givenName: Staff',
        `sn: ${String(i).padStart(4, '0')}`,
        'userAccountControl: 512',
        '',
      ].join('\n'),
    );
  }
  records.push([`dn: ${AD_BIG_GROUP_DN}`, 'objectClass: group', 'sAMAccountName: all-staff', 'description: Everyone in OU=Staff', ...members, ''].join('\n'));
  return records.join('\n');
}

/**
 * Why the AD suites cannot run here, or undefined when they can: Samba's AD DC and OpenLDAP's command-line
 * tools must be installed, and only root may bind Samba's fixed ports.
 */
export function sambaUnavailable(): string | undefined {
  const missing = ['samba', 'samba-tool', 'ldapadd', 'ldapsearch', 'openssl'].filter((tool) => findTool(tool) === undefined);
  const install =
    'install them as root with scripts/ensure-samba.sh (Debian: apt-get install samba samba-ad-dc samba-ad-provision samba-dsdb-modules ldb-tools ldap-utils, with a policy-rc.d that exits 101 so no service starts)';
  if (missing.length > 0) return `Active Directory tests skipped: ${missing.join(', ')} not found; ${install}`;
  if (process.getuid?.() !== 0) return 'Active Directory tests skipped: Samba binds ports 389 and 636, which takes root, and these tests do not run as root';
  return undefined;
}

function findTool(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

export interface StartSambaOptions {
  /** The loopback address to bind; one instance per address. Default 127.0.0.2. */
  readonly address?: string;
  /** How many staff members (and so members of CN=All Staff) to generate; 0 for none. Default 1600. */
  readonly staff?: number;
}

export interface SambaHandle extends AsyncDisposable {
  readonly address: string;
  /** `ldap://ADDRESS` (port 389). */
  readonly url: string;
  /** `ldaps://ADDRESS` (port 636), with a certificate for `IP:ADDRESS` signed by `caFile`. */
  readonly ldapsUrl: string;
  readonly caFile: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** How many staff members the seed generated. */
  readonly staff: number;
  /** Milliseconds spent provisioning, starting, and seeding. */
  readonly timings: { readonly provisionMs: number; readonly startMs: number; readonly seedMs: number };
  /** OpenLDAP's tools over ldaps as Administrator (LDIF on stdin). */
  ldapadd(ldif: string): Promise<void>;
  ldapmodify(ldif: string): Promise<void>;
  /** ldapsearch as Administrator, its LDIF read back; `options` go before the rest (e.g. `-E extendedDn=1`). */
  search(base: string, scope: 'base' | 'one' | 'sub', filter: string, attributes?: ReadonlyArray<string>, options?: ReadonlyArray<string>): Promise<Entry[]>;
  /** ldapsearch as Administrator with these arguments; its output as it prints it (references included). */
  ldapsearch(args: ReadonlyArray<string>): Promise<string>;
  /** Stops the server (SIGTERM to its process group, SIGKILL after 3 s) and removes its directory. Safe twice. */
  dispose(): Promise<void>;
}

const live = new Set<SambaServer>();
let exitHookInstalled = false;

/**
 * Provisions, configures, starts and seeds a domain controller for EXAMPLE.COM on `address`: the fixture
 * test/fixtures/ad/company.ldif and `staff` generated people with their group, in one ldapadd over ldaps.
 */
export async function startSamba(options: StartSambaOptions = {}): Promise<SambaHandle> {
  const address = options.address ?? '127.0.0.2';
  const staff = options.staff ?? 1600;
  if (await portOpen(address, 389)) {
    throw new Error(`something already listens on ${address}:389 (a Samba left over from an earlier run?); the AD tests need that address for themselves`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ldapsync-samba-'));
  try {
    let started = Date.now();
    await run(
      'samba-tool',
      [
        'domain', 'provision', `--targetdir=${dir}`, `--realm=${AD_REALM}`, `--domain=${AD_NETBIOS_DOMAIN}`, '--server-role=dc',
        '--dns-backend=NONE', '--use-rfc2307', `--adminpass=${AD_ADMIN_PASSWORD}`, '--host-name=dc1', `--host-ip=${address}`,
      ],
      { cwd: dir, env: sambaEnv(), maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: unknown) => {
      throw new Error(`samba-tool domain provision in ${dir} failed: ${errorOutput(err)}`);
    });
    const provisionMs = Date.now() - started;

    await mkdir(join(dir, 'tls'), { recursive: true });
    const tls = await makeTestTls(join(dir, 'tls'), { address, dnsName: 'dc1.example.com', caName: 'ldapsync AD test CA' });
    await Promise.all(['log', 'run', 'cache'].map((d) => mkdir(join(dir, d), { recursive: true })));
    await writeFile(join(dir, 'etc', 'smb.conf'), smbConf(dir, address, tls));

    const server = new SambaServer(dir, address, tls.caFile, staff);
    started = Date.now();
    await server.start();
    const startMs = Date.now() - started;

    started = Date.now();
    const company = await readFile(AD_COMPANY_LDIF_FILE, 'utf8');
    await server.ldapadd(`${company}\n${staffLdif(staff)}`);
    server.timings = { provisionMs, startMs, seedMs: Date.now() - started };
    return server;
  } catch (err) {
    for (const server of live) if (server.dir === dir) await server.dispose();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The run's own smb.conf. Provisioning writes one for a full DC with system paths; this one keeps every path
 * under `dir`, serves LDAP only (no DNS, no KDC: nothing resolves names here), binds one address, and allows
 * simple binds without TLS (`ldap server require strong auth`), as the tests of plain ldap:// need.
 */
function smbConf(dir: string, address: string, tls: TestTls): string {
  return [
    '[global]',
    '\tnetbios name = DC1',
    `\trealm = ${AD_REALM}`,
    `\tworkgroup = ${AD_NETBIOS_DOMAIN}`,
    '\tserver role = active directory domain controller',
    '\tserver services = ldap',
    // An address that is no interface's own is only taken with a netmask; lo holds 127.0.0.0/8.
    `\tinterfaces = ${address}/8`,
    '\tbind interfaces only = yes',
    `\tprivate dir = ${join(dir, 'private')}`,
    `\tlock directory = ${dir}`,
    `\tstate directory = ${join(dir, 'state')}`,
    `\tcache directory = ${join(dir, 'cache')}`,
    `\tpid directory = ${join(dir, 'run')}`,
    `\tbinddns dir = ${join(dir, 'bind-dns')}`,
    `\tncalrpc dir = ${join(dir, 'run', 'ncalrpc')}`,
    `\tlog file = ${join(dir, 'log', 'log.%m')}`,
    '\tlogging = file',
    '\tldap server require strong auth = no',
    '\ttls enabled = yes',
    `\ttls keyfile = ${tls.keyFile}`,
    `\ttls certfile = ${tls.certFile}`,
    `\ttls cafile = ${tls.caFile}`,
    '\tidmap_ldb:use rfc2307 = yes',
    '',
  ].join('\n');
}

/** Samba's databases are throwaway: skipping fsync makes provisioning and the seed several times faster. */
function sambaEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TDB_NO_FSYNC: '1' };
}

class SambaServer implements SambaHandle {
  readonly address: string;
  readonly url: string;
  readonly ldapsUrl: string;
  readonly caFile: string;
  readonly dir: string;
  readonly staff: number;
  timings = { provisionMs: 0, startMs: 0, seedMs: 0 };
  #child: ChildProcess | undefined;
  #disposed = false;

  constructor(dir: string, address: string, caFile: string, staff: number) {
    this.dir = dir;
    this.address = address;
    this.url = `ldap://${address}`;
    this.ldapsUrl = `ldaps://${address}`;
    this.caFile = caFile;
    this.staff = staff;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    // -i keeps samba in the foreground and ends it when its stdin closes: should this process die without
    // its teardown, the pipe closes with it and the server goes too.
    const child = spawn('samba', ['-s', join(this.dir, 'etc', 'smb.conf'), '-M', 'single', '-i', '-l', join(this.dir, 'log')], {
      cwd: this.dir,
      env: sambaEnv(),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: string): void => {
      output = (output + chunk).slice(-4000);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `samba exited (${signal ?? `code ${code}`})`;
      if (this.#child === child) this.#child = undefined;
    });
    child.once('error', (err) => {
      exited = `samba could not be started: ${err.message}`;
    });
    // Neither the process nor its pipes may keep a test worker alive.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    this.#child = child;
    live.add(this);
    installExitHook();

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited !== undefined) throw new Error(`${exited} in ${this.dir}: ${output.trim()}`);
      if (await this.#answers()) return;
      if (Date.now() > deadline) throw new Error(`samba did not answer on ${this.url} within 30 s: ${output.trim()}`);
      await sleep(100);
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const child = this.#child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      signalGroup(child.pid, 'SIGTERM');
      const killer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), 3_000);
      await gone;
      clearTimeout(killer);
    }
    this.#child = undefined;
    live.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    const pid = this.#child?.pid;
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    if (!this.#disposed) rmSync(this.dir, { recursive: true, force: true });
  }

  ldapadd(ldif: string): Promise<void> {
    return this.#tool('ldapadd', [], ldif).then(() => undefined);
  }

  ldapmodify(ldif: string): Promise<void> {
    return this.#tool('ldapmodify', [], ldif).then(() => undefined);
  }

  async search(base: string, scope: 'base' | 'one' | 'sub', filter: string, attributes: ReadonlyArray<string> = [], options: ReadonlyArray<string> = []): Promise<Entry[]> {
    const out = await this.ldapsearch(['-LLL', '-o', 'ldif-wrap=no', ...options, '-b', base, '-s', scope, filter, ...attributes]);
    return parseLdif(out, 'ldapsearch').map((record) => record.entry);
  }

  ldapsearch(args: ReadonlyArray<string>): Promise<string> {
    return this.#tool('ldapsearch', args);
  }

  async #answers(): Promise<boolean> {
    try {
      await run('ldapsearch', ['-x', '-H', this.url, '-s', 'base', '-b', '', '-o', 'nettimeout=1', 'namingContexts']);
      return true;
    } catch {
      return false;
    }
  }

  #tool(tool: string, args: ReadonlyArray<string>, input?: string): Promise<string> {
    const fullArgs = ['-x', '-H', this.ldapsUrl, '-D', `Administrator@${AD_REALM}`, '-w', AD_ADMIN_PASSWORD, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(tool, fullArgs, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LDAPTLS_CACERT: this.caFile } });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve(stdout);
        else reject(new Error(`${tool} ${args.join(' ')} on ${this.ldapsUrl} failed (exit ${code}): ${stderr.trim()}`));
      });
      child.stdin.end(input ?? '');
    });
  }
}

/** A test that fails before its teardown must not leave a domain controller running or a directory behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of live) server.killNow();
  });
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function errorOutput(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr ?? '').trim().split('\n').slice(-10).join('\n') || (e.message ?? String(err));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
