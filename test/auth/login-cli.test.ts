import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPassword } from '../../src/cli/login.js';
import type { Io } from '../../src/cli/io.js';
import type { Store } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import type { StoreSite } from '../helpers/postgres.js';
import { deadLdapUrl, loginRuns, makeAuthWorld, type AuthWorld } from './auth-world.js';

let world: AuthWorld;
let site: StoreSite;
let store: Store;
let file: string;

beforeAll(async () => {
  world = await makeAuthWorld();
  site = await world.site();
  store = await site.open();
  file = await world.writeConfig('cli.yaml', site.config, { downUrl: await deadLdapUrl() });
});

afterAll(async () => {
  await store?.close();
  await world?.dispose();
});

const login = (args: ReadonlyArray<string>, input: string): ReturnType<typeof runCli> => runCli(['-c', file, 'login', ...args], { input, env: world.env });

describe('ldapsync login', () => {
  it('reads the password from the first line of stdin, prints the stored user and exits 0', async () => {
    const result = await login(['alice@example.org'], 'alice-secret\nthe second line is not the password\n');
    expect(result.stderr).not.toContain('alice-secret');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: alice@example\.org \(profile company\); the stored row was created \(run #\d+, trigger login\)/);
    expect(result.stdout).toContain('displayName: Alice Andersen');
    expect(await loginRuns(store, 'company')).toHaveLength(1);
    // The audit line goes to stderr, as every CLI log line.
    expect(result.stderr).toContain('auth.succeeded');
  });

  it('prints one JSON object with --json, for a success and for a refusal', async () => {
    const ok = await login(['alice', '--json'], 'alice-secret');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ outcome: 'ok', profile: 'company', change: 'unchanged', runId: null, user: { login: 'alice@example.org', enabled: true } });
    const wrong = await login(['alice@Example.NET', '--json'], 'not-it\r\n');
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toEqual({ outcome: 'invalid', profile: 'company', reason: 'wrong-password', user: null });
    expect(wrong.stderr).not.toContain('not-it');
  });

  it('exits 1 on a refusal: empty stdin, an unknown domain', async () => {
    const empty = await login(['zoe@example.org'], '');
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('invalid: refused by profile company (empty-password)');
    const unknown = await login(['zoe@nowhere.test'], 'zoe-secret\n');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('unknown-domain: no server profile lists the domain nowhere.test');
  });

  it('exits 1 with the cause when the directory cannot be reached', async () => {
    const down = await login(['alice@down.example'], 'alice-secret\n');
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(/error: the login could not be checked: connection refused/);
  });

  it('says in its help that password changes are not supported', async () => {
    const help = await runCli(['login', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Password changes are not supported');
    expect(help.stdout).toContain('no echo on a terminal');
  });
});

describe('readPassword on a terminal', () => {
  function terminal(): { io: Io; stdin: PassThrough; stdout: PassThrough; stderr: PassThrough; rawModes: boolean[]; written: () => string } {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[] });
    const rawModes: boolean[] = [];
    const setRawMode = (mode: boolean): void => void rawModes.push(mode);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    stderr.on('data', (d: Buffer) => (text += d.toString()));
    const io: Io = { stdin: Object.assign(stdin, { setRawMode }), stdout, stderr, env: {}, cwd: '/' };
    return { io, stdin, stdout, stderr, rawModes, written: () => text };
  }

  it('prompts, echoes nothing, handles backspace, and restores the terminal', async () => {
    const t = terminal();
    const read = readPassword(t.io, 'Password: ');
    t.stdin.write('sec');
    t.stdin.write('x\u007fret\r');
    expect(await read).toBe('secret');
    expect(t.written()).toBe('Password: \n');
    expect(t.rawModes).toEqual([true, false]);
  });

  it('gives up on Ctrl-C', async () => {
    const t = terminal();
    const read = readPassword(t.io, 'Password: ');
    t.stdin.write('abc\u0003');
    expect(await read).toBeUndefined();
    expect(t.rawModes).toEqual([true, false]);
  });
});
