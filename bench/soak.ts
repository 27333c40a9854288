/**
 * Soak test of `ldapsync run` (issue 5; not part of `npm test`). Runs the real daemon for a set time against a
 * throwaway slapd and the local Postgres, with a schedule every few seconds, while it:
 *   - edits the config: valid edits (a mapping expression, in place or by rename), invalid edits (fixed again a
 *     few seconds later), and SIGHUP;
 *   - restarts slapd (down for a few seconds);
 *   - adds, renames and deletes directory entries.
 * At the end it lets one more run succeed, stops the daemon with SIGTERM (exit 0 expected), checks that the store
 * equals the directory (every user there and only those, display names as the mapping in force says), and that
 * the daemon's memory did not keep growing. It prints what it did and the outcome, and exits 1 on failure.
 *
 *   npx tsx bench/soak.ts [--minutes 5] [--users 300] [--seed 1]
 */
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/shared/index.js';
import { openStore } from '../src/store/index.js';
import { configYaml, saveByRename, type TestConfig } from '../test/daemon/daemon-config.js';
import { DaemonProcess } from '../test/daemon/daemon-process.js';
import { PG_URL, dropSchema, ensurePostgres, randomSchema } from '../test/helpers/postgres.js';
import { startSlapd, type SlapdHandle } from '../test/helpers/slapd.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    users: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
  },
});
const minutes = Number(args.minutes);
const userCount = Number(args.users);
if (!(minutes > 0) || !Number.isInteger(userCount) || userCount < 1) {
  console.error('usage: tsx bench/soak.ts [--minutes N] [--users N] [--seed N]');
  process.exit(2);
}

/** A small deterministic PRNG (mulberry32), so a failing soak can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(Number(args.seed));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const MAPPINGS = ['cn', 'upper(cn)', "cn + ' (' + uid + ')'"] as const;
type Mapping = (typeof MAPPINGS)[number];

const did = {
  validEdits: 0,
  renameSaves: 0,
  invalidEdits: 0,
  sighups: 0,
  slapdRestarts: 0,
  usersAdded: 0,
  usersRenamed: 0,
  usersDeleted: 0,
};

function rssOf(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((text) => Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0) * 1024);
}

async function main(): Promise<number> {
  await ensurePostgres();
  const dir = await mkdtemp(join(tmpdir(), 'ldapsync-soak-'));
  const schema = randomSchema('soak');
  const slapd: SlapdHandle = await startSlapd({ generate: { users: userCount } });
  const passwordFile = join(dir, 'reader-password');
  await writeFile(passwordFile, slapd.readerPassword);
  const file = join(dir, 'ldapsync.yaml');
  let mapping: Mapping = 'cn';
  const config = (displayName: string): TestConfig => ({
    slapd: slapd.info(),
    store: { url: PG_URL, schema },
    profiles: [{ name: 'soak', schedule: '*/3 * * * * *', displayName, groups: true, passwordFile, operationTimeout: '3s', deletesMaxPercentage: 50 }],
  });
  await writeFile(file, configYaml(config(mapping)));

  const daemon = DaemonProcess.start(file, { LDAPSYNC_RETRY_BASE_MS: '1000', LDAPSYNC_RETRY_MAX_MS: '8000', LDAPSYNC_SHUTDOWN_TIMEOUT_MS: '20000' });
  const rss: Array<{ at: number; bytes: number }> = [];
  const started = Date.now();
  const failures: string[] = [];
  let nextUser = userCount + 1;
  const alive = new Set<number>(Array.from({ length: userCount }, (_, i) => i + 1));

  try {
    await daemon.waitFor('daemon.started', { timeoutMs: 60_000 });
    const pid = daemon.pid;
    if (pid === undefined) throw new Error('no daemon pid');
    const sampler = setInterval(() => {
      void rssOf(pid).then((bytes) => rss.push({ at: Date.now() - started, bytes }), () => undefined);
    }, 5_000);
    const deadline = started + minutes * 60_000;

    while (Date.now() < deadline) {
      if (daemon.exit !== undefined) throw new Error(`the daemon exited during the soak: ${JSON.stringify(daemon.exit)}`);
      const roll = random();
      if (roll < 0.2) {
        mapping = MAPPINGS[(MAPPINGS.indexOf(mapping) + 1) % MAPPINGS.length] as Mapping;
        if (random() < 0.5) {
          await saveByRename(file, configYaml(config(mapping)));
          did.renameSaves += 1;
        } else {
          await writeFile(file, configYaml(config(mapping)));
        }
        did.validEdits += 1;
      } else if (roll < 0.3) {
        const good = configYaml(config(mapping));
        await writeFile(file, good.replace('(objectClass=inetOrgPerson)', '(objectClass=inetOrgPerson').replace(`"${mapping}"`, '"upper(cn"'));
        did.invalidEdits += 1;
        await sleep(2_000 + random() * 3_000);
        await writeFile(file, good);
      } else if (roll < 0.4) {
        daemon.signal('SIGHUP');
        did.sighups += 1;
      } else if (roll < 0.5) {
        await slapd.stop();
        await sleep(2_000 + random() * 6_000);
        await slapd.start();
        did.slapdRestarts += 1;
      } else if (roll < 0.7) {
        const i = nextUser++;
        await slapd.ldapadd(
          `dn: uid=soak${i},ou=people,${slapd.baseDN}\nobjectClass: inetOrgPerson\nuid: soak${i}\ncn: Soak ${i}\nsn: Soak\nmail: soak${i}@example.org\n`,
        );
        alive.add(-i);
        did.usersAdded += 1;
      } else if (roll < 0.85) {
        const i = 1 + Math.floor(random() * userCount);
        if (alive.has(i)) {
          await slapd.ldapmodify(`dn: uid=user${String(i).padStart(6, '0')},ou=people,${slapd.baseDN}\nchangetype: modify\nreplace: cn\ncn: Renamed ${i} ${Date.now()}\n`);
          did.usersRenamed += 1;
        }
      } else {
        const i = 1 + Math.floor(random() * userCount);
        if (alive.has(i) && alive.size > userCount * 0.8) {
          await slapd.ldapdelete(`uid=user${String(i).padStart(6, '0')},ou=people,${slapd.baseDN}`);
          alive.delete(i);
          did.usersDeleted += 1;
        }
      }
      await sleep(1_000 + random() * 4_000);
    }
    clearInterval(sampler);

    // One more run after everything settled: the file is good, slapd is up.
    await slapd.start();
    await writeFile(file, configYaml(config(mapping)));
    await sleep(1_000);
    const settled = daemon.mark();
    await daemon.waitFor('sync.finished', { from: settled, match: (l) => l['kind'] === 'groups', timeoutMs: 60_000 });

    const exit = await daemon.stop();
    if (exit.code !== 0) failures.push(`SIGTERM: exit ${JSON.stringify(exit)}, expected code 0`);

    failures.push(...(await compare(slapd, schema, mapping)));
    failures.push(...memoryVerdict(rss));
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
    await daemon.kill();
  } finally {
    await slapd.dispose();
    await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  }

  report(daemon, rss, failures);
  return failures.length === 0 ? 0 : 1;
}

/** The store's live users of the profile against the directory's, display names by the mapping in force. */
async function compare(slapd: SlapdHandle, schema: string, mapping: Mapping): Promise<string[]> {
  const entries = await directoryUsers(slapd);
  const store = await openStore({ url: PG_URL, schema }, { logger: silentLogger() });
  try {
    const rows = (await store.usersOf('soak')).filter((u) => u.removedAt === null);
    const problems: string[] = [];
    const byName = new Map(rows.map((r) => [r.username, r]));
    for (const [uid, cn] of entries) {
      const row = byName.get(uid);
      if (row === undefined) {
        problems.push(`store lacks ${uid}`);
        continue;
      }
      const expected = mapping === 'cn' ? cn : mapping === 'upper(cn)' ? cn.toUpperCase() : `${cn} (${uid})`;
      const actual = row.fields['displayName'];
      if (actual !== expected) problems.push(`${uid}: display name ${JSON.stringify(actual)}, directory and mapping say ${JSON.stringify(expected)}`);
    }
    for (const row of rows) if (!entries.has(row.username)) problems.push(`store has ${row.username}, which the directory does not`);
    console.log(`compared ${entries.size} directory users with ${rows.length} live store rows: ${problems.length} difference(s)`);
    return problems.slice(0, 20);
  } finally {
    await store.close();
  }
}

/** uid → cn of every inetOrgPerson under ou=people, read with ldapsearch. */
async function directoryUsers(slapd: SlapdHandle): Promise<Map<string, string>> {
  const { execFile } = await import('node:child_process');
  const text = await new Promise<string>((resolve, reject) => {
    execFile(
      'ldapsearch',
      ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', slapd.url, '-D', slapd.adminDN, '-w', slapd.adminPassword, '-b', `ou=people,${slapd.baseDN}`, '(objectClass=inetOrgPerson)', 'uid', 'cn'],
      { maxBuffer: 256 << 20 },
      (err, stdout) => (err === null ? resolve(stdout) : reject(err)),
    );
  });
  const users = new Map<string, string>();
  for (const block of text.split('\n\n')) {
    const value = (name: string): string | undefined => {
      const line = block.split('\n').find((l) => l.startsWith(`${name}:`));
      if (line === undefined) return undefined;
      return line.startsWith(`${name}:: `) ? Buffer.from(line.slice(name.length + 3), 'base64').toString('utf8') : line.slice(name.length + 2);
    };
    const uid = value('uid');
    const cn = value('cn');
    if (uid !== undefined && cn !== undefined) users.set(uid, cn);
  }
  return users;
}

/**
 * Memory "did not grow without bound": the peak of the last third of the run is at most 1.5x the peak of the
 * first third plus 32 MB (room for V8 settling its heap sizes); an unbounded leak outgrows that in minutes.
 */
function memoryVerdict(samples: ReadonlyArray<{ at: number; bytes: number }>): string[] {
  if (samples.length < 6) return [`only ${samples.length} memory samples: run longer`];
  const third = Math.floor(samples.length / 3);
  const early = Math.max(...samples.slice(0, third).map((s) => s.bytes));
  const late = Math.max(...samples.slice(-third).map((s) => s.bytes));
  const limit = early * 1.5 + 32 * 1024 * 1024;
  return late <= limit ? [] : [`memory grew: peak RSS ${mb(early)} early, ${mb(late)} late (limit ${mb(limit)})`];
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function report(daemon: DaemonProcess, rss: ReadonlyArray<{ at: number; bytes: number }>, failures: ReadonlyArray<string>): void {
  const count = (event: string, match?: (l: Record<string, unknown>) => boolean): number => daemon.events(event, match).length;
  console.log(`\nsoak: ${minutes} min, ${userCount} generated users, seed ${args.seed}`);
  console.log('did:', JSON.stringify(did));
  console.log(
    'daemon:',
    JSON.stringify({
      runsSucceeded: count('sync.finished'),
      runsFailed: count('sync.failed'),
      retriesScheduled: count('sync.retry_scheduled'),
      overlapsSkipped: count('sync.skipped', (l) => l['reason'] === 'overlap'),
      reloads: count('config.reloaded'),
      rejections: count('config.rejected'),
    }),
  );
  if (rss.length > 0) {
    const bytes = rss.map((s) => s.bytes);
    console.log(`memory (RSS, ${rss.length} samples): first ${mb(bytes[0] ?? 0)}, min ${mb(Math.min(...bytes))}, max ${mb(Math.max(...bytes))}, last ${mb(bytes.at(-1) ?? 0)}`);
  }
  if (failures.length === 0) console.log('outcome: PASS');
  else {
    console.log(`outcome: FAIL\n  ${failures.join('\n  ')}`);
    console.log(daemon.describe());
  }
}

process.exitCode = await main();
