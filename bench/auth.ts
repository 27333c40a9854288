/**
 * How fast the daemon checks logins: POST /v1/authenticate with 20 concurrent HTTP clients (keep-alive) against
 * `ldapsync run` in a process of its own, on a throwaway slapd with N users that have passwords and a Postgres
 * store, beside the rate of plain binds: `ldapwhoami -x -D <user> -w <password>`, 20 processes at a time, as
 * the same users on the same server. Rounds alternate between the two.
 *
 *   npx tsx bench/auth.ts [users=300] [seconds per phase=8] [rounds=2]
 *
 * First every user logs in once (creating the rows, batched into login runs: the first-login rate is printed too);
 * the timed phases then log in users round-robin, as returning users do. Target (issue 6): logins/s >= 0.7x the ldapwhoami rate;
 * p99 latency reported. Needs the test Postgres (see test/helpers/postgres.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { processIo } from '../src/cli/io.js';
import { runCommand } from '../src/cli/run.js';
import { makeStoreSite } from '../test/helpers/postgres.js';
import { startSlapd, type SlapdHandle } from '../test/helpers/slapd.js';

const CONCURRENCY = 20;
const DAEMON_ENV = 'LDAPSYNC_BENCH_DAEMON_CONFIG';

interface Phase {
  readonly count: number;
  readonly ms: number;
  readonly latencies: number[];
}

const uid = (i: number): string => `bench${String(i).padStart(5, '0')}`;

function peopleLdif(base: string, users: number): string {
  const records = [`dn: ou=people,${base}\nobjectClass: organizationalUnit\nou: people\n`];
  for (let i = 1; i <= users; i++) {
    const name = uid(i);
    records.push(
      [
        `dn: uid=${name},ou=people,${base}`,
        'objectClass: inetOrgPerson',
        `uid: ${name}`,
        `cn: Bench User ${i}`,
        `sn: User ${i}`,
        `givenName: Bench`,
        `mail: ${name}@example.org`,
        `title: Benchmarker`,
        `userPassword: ${name}-secret`,
        '',
      ].join('\n'),
    );
  }
  return records.join('\n');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs `jobs` with `CONCURRENCY` workers until `ms` have passed (or, without a duration, until `total` are done). */
async function drive(job: (n: number) => Promise<void>, limit: { readonly ms?: number; readonly total?: number }): Promise<Phase> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const more = (): boolean => (limit.total !== undefined ? next < limit.total : performance.now() - started < (limit.ms ?? 0));
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (more()) {
        const n = next++;
        const t = performance.now();
        await job(n);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { count: latencies.length, ms: performance.now() - started, latencies };
}

async function httpLogin(url: string, users: number, n: number): Promise<void> {
  const name = uid((n % users) + 1);
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: `${name}@example.org`, password: `${name}-secret` }) });
  const body = (await response.json()) as { outcome?: string };
  if (response.status !== 200 || body.outcome !== 'ok') throw new Error(`login of ${name}: HTTP ${response.status} ${JSON.stringify(body)}`);
}

function ldapwhoami(slapd: SlapdHandle, users: number, n: number): Promise<void> {
  const name = uid((n % users) + 1);
  return new Promise((done, fail) => {
    const child = spawn('ldapwhoami', ['-x', '-H', slapd.url, '-D', `uid=${name},ou=people,${slapd.baseDN}`, '-w', `${name}-secret`], { stdio: 'ignore' });
    child.once('error', fail);
    child.once('close', (code) => (code === 0 ? done() : fail(new Error(`ldapwhoami as ${name} exited with ${code}`))));
  });
}

async function waitUntilReady(base: string, daemon: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited with ${daemon.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the daemon did not become ready within 30 s');
}

function percentile(values: ReadonlyArray<number>, p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function describe(label: string, phase: Phase): string {
  const rate = (phase.count * 1000) / phase.ms;
  return `${label}: ${phase.count} in ${(phase.ms / 1000).toFixed(1)} s = ${rate.toFixed(0)}/s; latency p50 ${percentile(phase.latencies, 50).toFixed(1)} ms, p99 ${percentile(phase.latencies, 99).toFixed(1)} ms`;
}

const rateOf = (phase: Phase): number => (phase.count * 1000) / phase.ms;

async function main(users: number, seconds: number, rounds: number): Promise<void> {
  const slapd = await startSlapd();
  const site = await makeStoreSite('postgres');
  let daemon: ChildProcess | undefined;
  try {
    await slapd.ldapadd(peopleLdif(slapd.baseDN, users));
    const port = await freePort();
    const file = join(slapd.dir, 'ldapsync.yaml');
    await writeFile(
      file,
      [
        `store: { url: "${site.config.url}", schema: ${site.config.schema} }`,
        `log: { level: info }`,
        `http: { listen: "127.0.0.1:${port}", authenticate: true }`,
        `servers:`,
        `  bench:`,
        `    url: ${slapd.url}`,
        `    bindDN: "${slapd.readerDN}"`,
        `    bindPassword: { env: BENCH_READER_PASSWORD }`,
        `    domains: [example.org]`,
        `    users:`,
        `      baseDN: "ou=people,${slapd.baseDN}"`,
        `      filter: (objectClass=inetOrgPerson)`,
        `      usernameAttribute: uid`,
        `      idAttribute: entryUUID`,
        `      sync: false`,
        '',
      ].join('\n'),
    );
    // The audit lines (one per login) go to a pipe that is drained, as journald would take them.
    daemon = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.filename)], {
      env: { ...process.env, [DAEMON_ENV]: file, BENCH_READER_PASSWORD: slapd.readerPassword, LOG_LEVEL: undefined },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let auditLines = 0;
    daemon.stdout?.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) auditLines++;
    });
    const base = `http://127.0.0.1:${port}`;
    await waitUntilReady(base, daemon);
    const url = `${base}/v1/authenticate`;
    console.log(`slapd with ${users} users; ldapsync run in its own process on ${base}; ${CONCURRENCY} concurrent clients; ${process.arch}, ${(await import('node:os')).cpus().length} CPUs`);

    const first = await drive((n) => httpLogin(url, users, n), { total: users });
    const store = await site.open();
    const runs = (await store.lastRuns('bench', 10_000)).filter((run) => run.trigger === 'login');
    await store.close();
    console.log(`${describe('first logins', first)}; rows created in ${runs.length} login runs`);

    const logins: Phase[] = [];
    const binds: Phase[] = [];
    for (let round = 1; round <= rounds; round++) {
      const login = await drive((n) => httpLogin(url, users, n), { ms: seconds * 1000 });
      const bind = await drive((n) => ldapwhoami(slapd, users, n), { ms: seconds * 1000 });
      logins.push(login);
      binds.push(bind);
      console.log(`round ${round}:`);
      console.log(`  ${describe('POST /v1/authenticate (returning users)', login)}`);
      console.log(`  ${describe('ldapwhoami -x -D user -w password', bind)}`);
    }
    const total = (phases: Phase[]): Phase => ({ count: phases.reduce((s, p) => s + p.count, 0), ms: phases.reduce((s, p) => s + p.ms, 0), latencies: phases.flatMap((p) => p.latencies) });
    const login = total(logins);
    const bind = total(binds);
    console.log(`all rounds:`);
    console.log(`  ${describe('POST /v1/authenticate', login)}`);
    console.log(`  ${describe('ldapwhoami', bind)}`);
    console.log(`ratio: ${(rateOf(login) / rateOf(bind)).toFixed(2)}x the ldapwhoami bind rate (target >= 0.7x); audit lines written by the daemon: ${auditLines}`);
  } finally {
    if (daemon !== undefined && daemon.exitCode === null) {
      const exited = new Promise((done) => daemon?.once('exit', done));
      daemon.kill('SIGTERM');
      await exited;
    }
    await Promise.all([slapd.dispose(), site.remove()]);
  }
}

const daemonConfig = process.env[DAEMON_ENV];
if (daemonConfig !== undefined) {
  process.exitCode = await runCommand({ config: daemonConfig }, processIo());
} else {
  await main(Number(process.argv[2] ?? 300), Number(process.argv[3] ?? 8), Number(process.argv[4] ?? 2));
}
