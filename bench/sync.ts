/**
 * How fast and how lean a sync is (issue 4; not part of `npm test`). Loads N generated users and N/100 groups
 * (about three memberships per user) into a throwaway slapd with slapadd, builds dist/ (`npm run build`), then
 * for each store (the local Postgres, in a fresh schema, and the embedded PGlite, in a temp directory) runs the
 * built `ldapsync sync users bench` and `ldapsync sync groups bench`, each a process whose one runSync reads,
 * maps, plans and writes, with its audit log (a JSON line per change) going through a pipe to a file:
 *   first     the first full sync
 *   no-op     the same again with nothing changed in the directory (it must write nothing)
 *   1%        again after 1% of the users got a new title (one ldapmodify batch, not timed)
 *   remap     again after an edit of the mapping (homeDir's prefix) that changes every user's row: what the next
 *             run of a daemon does after such an edit; reported, not one of the targets' phases
 * and, once, the baseline of the same work done by standard tools: `ldapsearch -E pr=1000/noprompt` dumping the
 * same entries (users and groups, all user attributes and entryUUID) as the same reader account, and `psql
 * \copy` loading equivalent rows (users, groups, memberships) into scratch tables.
 *
 *   npx tsx bench/sync.ts [--users 100000] [--backends postgres,pglite] [--repeat 1]
 *
 * This VM's timings vary by a fifth from run to run, and a process's peak RSS by more (when V8's collections
 * fall): --repeat R runs the baseline and every backend's three phases R times, each round on a fresh store,
 * prints every round, and gives the verdicts on the medians.
 *
 * Every process (sync or tool) runs under /usr/bin/time: wall time includes its start, peak RSS is its own.
 * The built product runs without tsx, whose loader alone would add about 90 MB. Targets: the first sync within
 * 2.5x the baseline (dump + copy), the no-op resync within 2x the ldapsearch dump alone, peak RSS under 250 MB.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { sql } from 'kysely';
import { stringify as toYaml } from 'yaml';
import { silentLogger } from '../src/shared/index.js';
import { openStore } from '../src/store/index.js';
import type { SyncKind } from '../src/sync/index.js';
import { dropSchema, ensurePostgres, PG_URL, randomSchema } from '../test/helpers/postgres.js';
import { generatedUid } from '../test/helpers/ldif-generator.js';
import { startSlapd, type SlapdHandle } from '../test/helpers/slapd.js';

const PAGE_SIZE = 1000;
const MB = 2 ** 20;

type Backend = 'postgres' | 'pglite';

interface KindRun {
  readonly ms: number;
  readonly maxRssBytes: number;
  /** The plan's summary line, e.g. "users of bench: 0 to create, 1000 to update, ...". */
  readonly summary: string;
  readonly entries: number;
  readonly auditLines: number;
}

interface PhaseResult {
  readonly ms: number;
  readonly maxRssBytes: number;
  readonly entries: number;
  readonly auditLines: number;
  readonly runs: Readonly<Record<SyncKind, KindRun>>;
  /** max(updated_at) of the users and groups after the phase: a phase that writes nothing leaves it alone. */
  readonly lastWrite: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'ldapsync.js');

/**
 * One `ldapsync sync KIND bench` of the build, as installed: its process calls runSync once, its log (the audit
 * lines, one per change) goes to a file so that they can be counted, and its plan summary to stdout.
 */
async function syncKind(configFile: string, kind: SyncKind, dir: string): Promise<KindRun> {
  const out = join(dir, `${kind}.out`);
  const log = join(dir, `${kind}.log`);
  const run = await timedTool(process.execPath, [CLI, '-c', configFile, 'sync', kind, 'bench'], out, process.env, log);
  const stdout = await readFile(out, 'utf8');
  const summary = /^(users|groups) of bench: .*$/m.exec(stdout)?.[0] ?? '';
  const counts = /(\d+) to create, (\d+) to update, (\d+) to remove, (\d+) unchanged, (\d+) skipped, (\d+) conflicts/.exec(summary);
  const entries = counts === null ? 0 : [1, 2, 4, 5, 6].reduce((sum, i) => sum + Number(counts[i]), 0);
  let auditLines = 0;
  for await (const line of createInterface({ input: createReadStream(log, 'utf8'), crlfDelay: Infinity })) {
    if (/"event":"(user|group|membership)\./.test(line)) auditLines++;
  }
  return { ...run, summary, entries, auditLines };
}

async function phase(configFile: string, store: { url: string; schema: string }, dir: string): Promise<PhaseResult> {
  const users = await syncKind(configFile, 'users', dir);
  const groups = await syncKind(configFile, 'groups', dir);
  return {
    ms: users.ms + groups.ms,
    maxRssBytes: Math.max(users.maxRssBytes, groups.maxRssBytes),
    entries: users.entries + groups.entries,
    auditLines: users.auditLines + groups.auditLines,
    runs: { users, groups },
    lastWrite: await lastWrite(store),
  };
}

/** Read after the phase, not timed (the embedded store is free again once the CLI has exited). */
async function lastWrite(config: { url: string; schema: string }): Promise<string> {
  const store = await openStore(config, { logger: silentLogger() });
  try {
    const { rows } = await sql<{ last: Date | null }>`
      SELECT max(t) AS last FROM (SELECT max(updated_at) AS t FROM ${sql.id(config.schema, 'users')}
                                  UNION ALL SELECT max(updated_at) FROM ${sql.id(config.schema, 'groups')}) AS w`.execute(store.kysely);
    return rows[0]?.last?.toISOString() ?? 'never';
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The directory, the stores, the baseline, the report.

/** `homes`: where the mapping puts home directories; editing it changes a field of every user. */
function configText(slapd: SlapdHandle, store: { url: string; schema: string }, homes = '/home/'): string {
  return toYaml({
    store,
    log: { level: 'info' },
    servers: {
      bench: {
        type: 'openldap',
        url: slapd.url,
        bindDN: slapd.readerDN,
        bindPassword: { file: 'reader-password' },
        domains: ['example.org'],
        pageSize: PAGE_SIZE,
        timeouts: { connect: '10s', operation: '5m' },
        users: {
          baseDN: `ou=people,${slapd.baseDN}`,
          filter: '(objectClass=inetOrgPerson)',
          usernameAttribute: 'uid',
          idAttribute: 'entryUUID',
          mapping: { enabled: "employeeType != 'disabled'", homeDir: `'${homes}' + uid` },
        },
        groups: {
          baseDN: `ou=groups,${slapd.baseDN}`,
          filter: '(objectClass=groupOfNames)',
          idAttribute: 'entryUUID',
          memberAttribute: 'member',
        },
        deletes: { enabled: true },
      },
    },
  });
}

/** `npm run build`: the type check and the bundle in dist/bundle/ that bin/ldapsync.js runs. */
async function build(): Promise<void> {
  const started = performance.now();
  await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  console.log(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs a program under /usr/bin/time: its wall time (process start included) and peak RSS. */
async function timedTool(
  command: string,
  args: ReadonlyArray<string>,
  stdoutFile?: string,
  env?: NodeJS.ProcessEnv,
  stderrFile?: string,
): Promise<{ ms: number; maxRssBytes: number }> {
  const timeFile = join(tmpdir(), `ldapsync-bench-time-${process.pid}`);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%M', command, ...args], {
      stdio: ['ignore', stdoutFile === undefined ? 'ignore' : openSync(stdoutFile, 'w'), stderrFile === undefined ? 'inherit' : 'pipe'],
      env: env ?? process.env,
    });
    // The log goes through a pipe, as into journald's socket or `| tee`, and on into the file.
    const log = stderrFile === undefined ? undefined : child.stderr?.pipe(createWriteStream(stderrFile));
    const logged = log === undefined ? Promise.resolve() : new Promise<void>((done) => log.once('close', () => done()));
    child.once('error', reject);
    child.once('close', (code) => {
      void logged.then(() => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}${stderrFile === undefined ? '' : ` (see ${stderrFile})`}`))));
    });
  });
  const ms = performance.now() - started;
  const kb = Number.parseInt(await readFile(timeFile, 'utf8'), 10);
  await rm(timeFile, { force: true });
  return { ms, maxRssBytes: kb * 1024 };
}

interface LdifEntry {
  readonly dn: string;
  readonly attrs: Map<string, string[]>;
}

/** Reads unwrapped LDIF (`-o ldif-wrap=no`) entry by entry, base64 values decoded. */
async function* ldifEntries(file: string): AsyncGenerator<LdifEntry> {
  let dn: string | undefined;
  let attrs = new Map<string, string[]>();
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    if (line === '') {
      if (dn !== undefined) yield { dn, attrs };
      dn = undefined;
      attrs = new Map();
      continue;
    }
    if (line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line[colon + 1] === ':' ? Buffer.from(line.slice(colon + 2).trim(), 'base64').toString('utf8') : line.slice(colon + 1).trimStart();
    if (name === 'dn') dn = value;
    else attrs.set(name, [...(attrs.get(name) ?? []), value]);
  }
  if (dn !== undefined) yield { dn, attrs };
}

function csv(values: ReadonlyArray<string | null>): string {
  return values.map((v) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`)).join(',') + '\n';
}

interface Baseline {
  readonly dump: { ms: number; maxRssBytes: number; entries: number };
  readonly copy: { ms: number; maxRssBytes: number; rows: number };
}

/** ldapsearch dumps of users and groups, then \copy of equivalent rows into scratch tables (the conversion is not timed). */
async function baseline(slapd: SlapdHandle, dir: string): Promise<Baseline> {
  const env = { ...process.env, LDAPTLS_CACERT: slapd.caFile };
  const search = (base: string, filter: string, file: string) =>
    timedTool(
      'ldapsearch',
      ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', slapd.url, '-D', slapd.readerDN, '-w', slapd.readerPassword, '-E', `pr=${PAGE_SIZE}/noprompt`, '-b', base, filter, '*', 'entryUUID'],
      file,
      env,
    );
  const usersLdif = join(dir, 'users.ldif');
  const groupsLdif = join(dir, 'groups.ldif');
  const u = await search(`ou=people,${slapd.baseDN}`, '(objectClass=inetOrgPerson)', usersLdif);
  const g = await search(`ou=groups,${slapd.baseDN}`, '(objectClass=groupOfNames)', groupsLdif);

  const usersCsv = join(dir, 'users.csv');
  const groupsCsv = join(dir, 'groups.csv');
  const membersCsv = join(dir, 'members.csv');
  let users = 0;
  let groups = 0;
  let members = 0;
  const first = (e: LdifEntry, name: string): string | null => e.attrs.get(name)?.[0] ?? null;
  const out = createWriteStream(usersCsv);
  for await (const e of ldifEntries(usersLdif)) {
    const uid = first(e, 'uid') ?? '';
    out.write(
      csv([first(e, 'entryuuid'), e.dn, uid, `${uid}@example.org`, first(e, 'employeetype') === 'disabled' ? 'f' : 't', first(e, 'mail'), first(e, 'mail'), first(e, 'cn'), first(e, 'givenname'), first(e, 'sn'), first(e, 'title'), first(e, 'telephonenumber'), `/home/${uid}`]),
    );
    users++;
  }
  await new Promise((resolve) => out.end(resolve));
  const gout = createWriteStream(groupsCsv);
  const mout = createWriteStream(membersCsv);
  for await (const e of ldifEntries(groupsLdif)) {
    gout.write(csv([first(e, 'entryuuid'), e.dn, first(e, 'cn'), first(e, 'description')]));
    groups++;
    for (const m of e.attrs.get('member') ?? []) {
      mout.write(csv([e.dn, m]));
      members++;
    }
  }
  await Promise.all([new Promise((resolve) => gout.end(resolve)), new Promise((resolve) => mout.end(resolve))]);

  const schema = randomSchema('bench_baseline');
  const script = join(dir, 'copy.sql');
  await writeFile(
    script,
    [
      `CREATE SCHEMA ${schema};`,
      `CREATE TABLE ${schema}.users (id bigserial PRIMARY KEY, external_id text, dn text, username text, login text, enabled boolean, email text, recovery_email text, display_name text, first_name text, last_name text, job_title text, work_phone text, home_dir text, created_at timestamptz DEFAULT now());`,
      `CREATE TABLE ${schema}.groups (id bigserial PRIMARY KEY, external_id text, dn text, name text, description text);`,
      `CREATE TABLE ${schema}.group_members (group_dn text, user_dn text);`,
      `\\copy ${schema}.users (external_id, dn, username, login, enabled, email, recovery_email, display_name, first_name, last_name, job_title, work_phone, home_dir) FROM '${usersCsv}' CSV`,
      `\\copy ${schema}.groups (external_id, dn, name, description) FROM '${groupsCsv}' CSV`,
      `\\copy ${schema}.group_members FROM '${membersCsv}' CSV`,
      '',
    ].join('\n'),
  );
  try {
    const copy = await timedTool('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_URL, '-f', script]);
    return {
      dump: { ms: u.ms + g.ms, maxRssBytes: Math.max(u.maxRssBytes, g.maxRssBytes), entries: users + groups },
      copy: { ms: copy.ms, maxRssBytes: copy.maxRssBytes, rows: users + groups + members },
    };
  } finally {
    await dropSchema(schema);
  }
}

/** Gives 1% of the users a new title, in one ldapmodify run. */
async function changeOnePercent(slapd: SlapdHandle, users: number, round: number): Promise<number> {
  const step = 100;
  const changes: string[] = [];
  for (let i = 1; i <= users; i += step) {
    changes.push(`dn: uid=${generatedUid(i)},ou=people,${slapd.baseDN}\nchangetype: modify\nreplace: title\ntitle: Changed ${round}\n`);
  }
  await slapd.ldapmodify(changes.join('\n'));
  return changes.length;
}

interface Row {
  readonly what: string;
  readonly ms: number;
  readonly entries: number;
  readonly rss: number;
  readonly note: string;
}

function printRows(rows: ReadonlyArray<Row>): void {
  console.log(`\n${'phase'.padEnd(34)} ${'wall'.padStart(8)} ${'entries/s'.padStart(10)} ${'peak RSS'.padStart(9)}  notes`);
  for (const r of rows) {
    console.log(
      `${r.what.padEnd(34)} ${`${(r.ms / 1000).toFixed(2)} s`.padStart(8)} ${(r.entries === 0 ? '' : Math.round(r.entries / (r.ms / 1000)).toString()).padStart(10)} ${`${(r.rss / MB).toFixed(0)} MB`.padStart(9)}  ${r.note}`,
    );
  }
}

function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function describePhase(p: PhaseResult): string {
  const kind = (r: KindRun): string => `${(r.ms / 1000).toFixed(2)} s, ${(r.maxRssBytes / MB).toFixed(0)} MB: ${r.summary.replace(/^\w+ of bench: /, '')}`;
  return `users ${kind(p.runs.users)}; groups ${kind(p.runs.groups)}; ${p.auditLines} audit lines`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { users: { type: 'string', default: '100000' }, backends: { type: 'string', default: 'postgres,pglite' }, repeat: { type: 'string', default: '1' } },
  });
  const users = Number(values.users);
  const repeat = Number(values.repeat);
  const backends = values.backends.split(',').filter((b): b is Backend => b === 'postgres' || b === 'pglite');
  if (!Number.isInteger(users) || users < 100 || backends.length === 0 || !Number.isInteger(repeat) || repeat < 1) {
    console.error('usage: npx tsx bench/sync.ts [--users N (>= 100)] [--backends postgres,pglite] [--repeat R (>= 1)]');
    process.exitCode = 2;
    return;
  }
  await ensurePostgres();
  await build();
  const dir = await mkdtemp(join(tmpdir(), 'ldapsync-bench-sync-'));
  const loading = performance.now();
  const slapd = await startSlapd({ generate: { users } });
  const groups = Math.max(1, Math.floor(users / 100));
  console.log(`slapd with ${users} users and ${groups} groups loaded by slapadd in ${((performance.now() - loading) / 1000).toFixed(1)} s; page size ${PAGE_SIZE}`);
  const rows: Row[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  // With --repeat, every round runs on a fresh store and is printed; the verdicts take the medians.
  const tag = (r: number): string => (repeat === 1 ? '' : ` #${r}`);
  try {
    await writeFile(join(dir, 'reader-password'), slapd.readerPassword);
    const bases: Baseline[] = [];
    for (let r = 1; r <= repeat; r++) {
      const base = await baseline(slapd, dir);
      bases.push(base);
      rows.push({ what: `baseline: ldapsearch dump${tag(r)}`, ms: base.dump.ms, entries: base.dump.entries, rss: base.dump.maxRssBytes, note: `${base.dump.entries} entries` });
      rows.push({ what: `baseline: psql \\copy${tag(r)}`, ms: base.copy.ms, entries: 0, rss: base.copy.maxRssBytes, note: `${base.copy.rows} rows (users, groups, memberships)` });
      rows.push({ what: `baseline: dump + copy${tag(r)}`, ms: base.dump.ms + base.copy.ms, entries: base.dump.entries, rss: Math.max(base.dump.maxRssBytes, base.copy.maxRssBytes), note: '' });
    }
    const dumpMs = median(bases.map((b) => b.dump.ms));
    const baselineMs = median(bases.map((b) => b.dump.ms + b.copy.ms));

    let round = 0;
    const verdicts: string[] = [];
    for (const backend of backends) {
      const firsts: PhaseResult[] = [];
      const noops: PhaseResult[] = [];
      const peaks: number[] = [];
      const remaps: PhaseResult[] = [];
      let allWroteNothing = true;
      for (let r = 1; r <= repeat; r++) {
        let store: { url: string; schema: string };
        if (backend === 'postgres') {
          const schema = randomSchema('bench_sync');
          store = { url: PG_URL, schema };
          cleanups.push(() => dropSchema(schema));
        } else {
          store = { url: `pglite://${join(dir, `pglite-${r}`)}`, schema: 'ldapsync' };
        }
        const configFile = join(dir, `ldapsync-${backend}-${r}.yaml`);
        await writeFile(configFile, configText(slapd, store));

        const first = await phase(configFile, store, dir);
        rows.push({ what: `${backend}: first sync${tag(r)}`, ms: first.ms, entries: first.entries, rss: first.maxRssBytes, note: describePhase(first) });
        const noop = await phase(configFile, store, dir);
        const wroteNothing = noop.auditLines === 0 && noop.lastWrite === first.lastWrite;
        allWroteNothing &&= wroteNothing;
        rows.push({ what: `${backend}: no-op resync${tag(r)}`, ms: noop.ms, entries: noop.entries, rss: noop.maxRssBytes, note: `${describePhase(noop)}; ${wroteNothing ? 'wrote nothing' : 'WROTE ROWS'}` });
        const changed = await changeOnePercent(slapd, users, ++round);
        const onePercent = await phase(configFile, store, dir);
        rows.push({ what: `${backend}: resync, 1% changed (${changed})${tag(r)}`, ms: onePercent.ms, entries: onePercent.entries, rss: onePercent.maxRssBytes, note: describePhase(onePercent) });
        const remapFile = join(dir, `ldapsync-${backend}-${r}-remapped.yaml`);
        await writeFile(remapFile, configText(slapd, store, '/srv/home/'));
        const remap = await phase(remapFile, store, dir);
        rows.push({ what: `${backend}: resync, mapping edited${tag(r)}`, ms: remap.ms, entries: remap.entries, rss: remap.maxRssBytes, note: `${describePhase(remap)}; not a target phase` });
        remaps.push(remap);
        firsts.push(first);
        noops.push(noop);
        peaks.push(Math.max(first.maxRssBytes, noop.maxRssBytes, onePercent.maxRssBytes));
      }
      const of = repeat === 1 ? '' : ` (median of ${repeat})`;
      verdicts.push(
        `${backend}${of}: first sync ${(median(firsts.map((p) => p.ms)) / baselineMs).toFixed(2)}x the baseline (target <= 2.5x); ` +
          `no-op resync ${(median(noops.map((p) => p.ms)) / dumpMs).toFixed(2)}x the ldapsearch dump (target <= 2x), ${allWroteNothing ? 'wrote nothing' : 'WROTE ROWS'}; ` +
          `peak RSS ${(median(peaks) / MB).toFixed(0)} MB${repeat === 1 ? '' : `, at most ${(Math.max(...peaks) / MB).toFixed(0)} MB`} (target < 250 MB); ` +
          `after a mapping edit ${(median(remaps.map((p) => p.ms)) / 1000).toFixed(2)} s, peak RSS ${(median(remaps.map((p) => p.maxRssBytes)) / MB).toFixed(0)} MB (no target)`,
      );
    }
    printRows(rows);
    console.log('');
    for (const v of verdicts) console.log(v);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await slapd.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
