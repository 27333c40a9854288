/**
 * How fast ldapsync reads a directory: N generated users loaded into a throwaway slapd with slapadd, read
 * through `Directory.users()` as the (size-limited, so paging) reader account, against `ldapsearch -E pr=1000`
 * dumping the same entries and attributes from the same server into a file. Rounds alternate between the two.
 *
 *   npx tsx bench/ldap-read.ts [N=100000] [rounds=3]
 *
 * Each read through the stream runs in a process of its own, so its peak RSS is that of reading alone, not
 * of generating the fixture (it includes tsx, about 35 MB over plain node). The machine is shared, so both the
 * median and the fastest rounds are printed. Targets (issue 3): the stream takes at most 1.5x ldapsearch's time; the reading
 * process's peak RSS stays under 150 MB.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Directory } from '../src/ldap/index.js';
import { silentLogger } from '../src/shared/index.js';
import { attachSlapd, startSlapd, type SlapdHandle, type SlapdInfo } from '../test/helpers/slapd.js';
import { testProfile } from '../test/ldap/test-profile.js';

const PAGE_SIZE = 1000;
const FILTER = '(objectClass=inetOrgPerson)';
const READER_ENV = 'LDAPSYNC_BENCH_SLAPD';

interface ReadResult {
  readonly ms: number;
  /** CPU time (user + system) the reading process spent between open and close. */
  readonly cpuMs: number;
  readonly entries: number;
  readonly values: number;
  readonly maxRssBytes: number;
}

/** The reading process: one pass over the users, timed from open to close. */
async function read(info: SlapdInfo): Promise<ReadResult> {
  const profile = testProfile(info, { pageSize: PAGE_SIZE, users: { filter: FILTER } });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let entries = 0;
  let values = 0;
  const directory = await Directory.open(profile, { logger: silentLogger() });
  try {
    for await (const page of directory.users()) {
      entries += page.length;
      for (const entry of page) for (const list of entry.attributes.values()) values += list.length;
    }
  } finally {
    await directory.close();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, entries, values, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function readInChildProcess(slapd: SlapdHandle): Promise<ReadResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, [READER_ENV]: JSON.stringify(slapd.info()) },
  });
  return JSON.parse(stdout) as ReadResult;
}

/** Dumps the entries as LDIF into a file, then counts them (the count is not timed). */
async function ldapsearch(slapd: SlapdHandle, baseDN: string): Promise<{ readonly ms: number; readonly entries: number }> {
  const file = join(slapd.dir, 'dump.ldif');
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'ldapsearch',
      ['-x', '-LLL', '-H', slapd.url, '-D', slapd.readerDN, '-w', slapd.readerPassword, '-E', `pr=${PAGE_SIZE}/noprompt`, '-b', baseDN, FILTER, '*', 'uid', 'entryUUID'],
      { stdio: ['ignore', openSync(file, 'w'), 'inherit'] },
    );
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ldapsearch exited with ${code}`))));
  });
  const elapsed = performance.now() - started;
  let entries = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'latin1') })) if (line.startsWith('dn:')) entries++;
  await rm(file);
  return { ms: elapsed, entries };
}

async function main(users: number, rounds: number): Promise<void> {
  const started = performance.now();
  const slapd = await startSlapd({ generate: { users } });
  console.log(`slapd with ${users} users (+${Math.floor(users / 100)} groups) loaded by slapadd in ${seconds(performance.now() - started)}`);
  try {
    const baseDN = `ou=people,${slapd.baseDN}`;
    const streamTimes: number[] = [];
    const ldapsearchTimes: number[] = [];
    let peakRss = 0;
    for (let round = 1; round <= rounds; round++) {
      const dumped = await ldapsearch(slapd, baseDN);
      const stream = await readInChildProcess(slapd);
      if (stream.entries !== users || dumped.entries !== users) {
        throw new Error(`read ${stream.entries} entries through the stream and ${dumped.entries} with ldapsearch, expected ${users}`);
      }
      ldapsearchTimes.push(dumped.ms);
      streamTimes.push(stream.ms);
      peakRss = Math.max(peakRss, stream.maxRssBytes);
      console.log(
        `round ${round}: ldapsearch ${seconds(dumped.ms)}, Directory.users() ${seconds(stream.ms)} ` +
          `(${stream.entries} entries, ${stream.values} values; CPU ${seconds(stream.cpuMs)}, the rest is waiting for slapd; peak RSS ${megabytes(stream.maxRssBytes)})`,
      );
    }
    const stream = median(streamTimes);
    const baseline = median(ldapsearchTimes);
    const fastest = Math.min(...streamTimes) / Math.min(...ldapsearchTimes);
    console.log(
      `median of ${rounds}: ldapsearch -E pr=${PAGE_SIZE}/noprompt ${seconds(baseline)}, Directory.users() ${seconds(stream)}: ${(stream / baseline).toFixed(2)}x; ` +
        `fastest against fastest: ${fastest.toFixed(2)}x (target <= 1.5x)`,
    );
    console.log(`peak RSS of the reading process: ${megabytes(peakRss)} (target < 150 MB)`);
  } finally {
    await slapd.dispose();
  }
}

function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

const readerInfo = process.env[READER_ENV];
if (readerInfo !== undefined) {
  process.stdout.write(JSON.stringify(await read(attachSlapd(JSON.parse(readerInfo) as SlapdInfo))));
} else {
  await main(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 3));
}
