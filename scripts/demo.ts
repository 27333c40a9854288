/**
 * `npm run demo`: the main job, end to end, on this machine. Starts a throwaway slapd (127.0.0.1, a free port,
 * a temp directory) loaded with a small company, then runs the real CLI on the sample ./ldapsync.yaml with an
 * embedded store (PGlite) in a temp directory: validate, test, a dry run, the user and group syncs, a resync
 * that changes nothing, status; and prints what the store now holds.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/index.js';
import { silentLogger } from '../src/shared/index.js';
import { readCompanyLdif, startSlapd } from '../test/helpers/slapd.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../test/helpers/cli-entry.ts', import.meta.url));
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

async function ldapsync(env: NodeJS.ProcessEnv, ...args: string[]): Promise<number> {
  process.stdout.write(`\n${bold(`$ ldapsync ${args.join(' ')}`)}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env, stdio: ['ignore', 'inherit', 'pipe'] });
  // The audit trail (JSON log lines on stderr) is kept out of the way; a failure shows it.
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const audit = log.split('\n').filter((l) => l.startsWith('{')).length;
  const other = log.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  if (other.length > 0) process.stdout.write(`${other.join('\n')}\n`);
  if (audit > 0) process.stdout.write(`(${audit} JSON log lines on stderr: the audit trail)\n`);
  if (code !== 0) process.stdout.write(`(exit code ${code})\n`);
  return code;
}

const slapd = await startSlapd({ ldif: await readCompanyLdif() });
const storeDir = await mkdtemp(join(tmpdir(), 'ldapsync-demo-store-'));
try {
  console.log(`${bold('A throwaway slapd')} at ${slapd.url} (dc=example,dc=org, 14 people, 6 groups), embedded store in ${storeDir}`);
  const env = {
    ...process.env,
    LDAP_PORT: String(slapd.port),
    LDAP_PASSWORD: slapd.readerPassword,
    LDAPSYNC_STORE: `pglite://${storeDir}`,
    LDAPSYNC_CONFIG: join(root, 'ldapsync.yaml'),
  };
  const steps: string[][] = [
    ['validate'],
    ['test', 'demo'],
    ['test', 'demo', '--username', 'zoe'],
    ['sync', 'users', 'demo', '--dry-run'],
    ['sync', 'users', 'demo'],
    ['sync', 'groups', 'demo'],
    ['sync', 'users', 'demo'],
    ['status'],
  ];
  let failed = 0;
  for (const args of steps) if ((await ldapsync(env, ...args)) !== 0) failed++;

  const store = await openStore({ url: `pglite://${storeDir}`, schema: 'ldapsync' }, { logger: silentLogger() });
  try {
    const users = await store.usersOf('demo');
    const groups = await store.groupsOf('demo');
    console.log(`\n${bold('In the store now')} (ldapsync.users, ldapsync.groups):`);
    for (const u of users) {
      console.log(`  ${u.login.padEnd(28)} ${String(u.fields['displayName'] ?? '').padEnd(22)} ${String(u.fields['email'] ?? '').padEnd(30)} ${u.enabled ? 'enabled' : 'disabled'}`);
    }
    for (const g of groups) console.log(`  group ${g.name.padEnd(14)} ${g.memberIds.length} members`);
  } finally {
    await store.close();
  }
  console.log(failed === 0 ? '\nDemo finished: every step succeeded.' : `\nDemo finished: ${failed} step(s) failed.`);
  process.exitCode = failed === 0 ? 0 : 1;
} finally {
  await slapd.dispose();
  await rm(storeDir, { recursive: true, force: true });
}
