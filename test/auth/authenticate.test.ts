import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthRuntime, authenticate, type AuthResult } from '../../src/auth/index.js';
import type { Config } from '../../src/config/index.js';
import { LdapError } from '../../src/ldap/index.js';
import type { Store } from '../../src/store/index.js';
import { runSync } from '../../src/sync/index.js';
import type { StoreSite } from '../helpers/postgres.js';
import { captureLogger } from '../daemon/log-capture.js';
import { deadLdapUrl, insertLocalUser, loginRuns, makeAuthWorld, rowsOf, type AuthWorld } from './auth-world.js';

let world: AuthWorld;
let site: StoreSite;
let store: Store;
let config: Config;
let runtime: AuthRuntime;
let log: ReturnType<typeof captureLogger>;

beforeAll(async () => {
  world = await makeAuthWorld();
});

afterAll(async () => {
  await world?.dispose();
});

/** A fresh store and runtime per test: rows, runs and backoff never leak between tests. */
async function fresh(options: Parameters<AuthWorld['config']>[1] = {}, runtimeOptions: ConstructorParameters<typeof AuthRuntime>[0] = {}): Promise<void> {
  site = await world.site();
  store = await site.open();
  config = world.config(site.config, options);
  runtime = new AuthRuntime(runtimeOptions);
  log = captureLogger();
}

afterEach(async () => {
  await runtime?.close();
  await store?.close();
});

function login(name: string, password: string, clientAddress?: string, cfg: Config = config): Promise<AuthResult> {
  return authenticate({ login: name, password, clientAddress }, { config: cfg, store, logger: log.logger, runtime });
}

function reasonOf(result: AuthResult): string {
  return result.outcome === 'invalid' ? result.reason : result.outcome;
}

describe('authenticate: routing a login to a profile', () => {
  it('logs in name@domain, with the domain in any case, and the second domain of a profile', async () => {
    await fresh();
    const plain = await login('alice@example.org', 'alice-secret');
    expect(plain).toMatchObject({ outcome: 'ok', profile: 'company', change: 'created' });
    expect(await login('alice@EXAMPLE.Org', 'alice-secret')).toMatchObject({ outcome: 'ok', profile: 'company', change: 'unchanged' });
    // Example.NET is written in mixed case in the config; the row keeps the primary domain in its login.
    const second = await login('ALICE@example.net', 'alice-secret');
    expect(second).toMatchObject({ outcome: 'ok', profile: 'company', user: { username: 'alice', login: 'alice@example.org' } });
    expect(await login('heidi@Contractors.Example', 'heidi-secret')).toMatchObject({ outcome: 'ok', profile: 'contractors', user: { login: 'heidi@contractors.example' } });
  });

  it('answers unknown-domain for a domain no profile lists, and for a bare name without a default domain', async () => {
    await fresh({ defaultDomain: null });
    expect(await login('alice@nowhere.test', 'alice-secret')).toEqual({ outcome: 'unknown-domain', domain: 'nowhere.test' });
    expect(await login('alice', 'alice-secret')).toEqual({ outcome: 'unknown-domain', domain: null });
    expect(log.events('auth.failed').map((l) => l['reason'])).toEqual(['unknown-domain', 'unknown-domain']);
    expect(await rowsOf(store, 'company')).toHaveLength(0);
  });

  it('sends a bare name to the default domain, unless a local user has that name', async () => {
    await fresh();
    expect(await login('alice', 'alice-secret')).toMatchObject({ outcome: 'ok', profile: 'company', user: { login: 'alice@example.org' } });
    await insertLocalUser(store, 'Dave');
    const local = await login('dave', 'anything at all');
    expect(local).toMatchObject({ outcome: 'local', user: { source: 'local', username: 'Dave' } });
    expect(log.events('auth.local')).toHaveLength(1);
    // With the domain spelt out, the directory answers, not the local row.
    await insertLocalUser(store, 'alice');
    expect(await login('alice@example.org', 'alice-secret')).toMatchObject({ outcome: 'ok', profile: 'company' });
    expect(await login('alice', 'alice-secret')).toMatchObject({ outcome: 'local' });
  });

  it('answers local for a local user also when no default domain is configured', async () => {
    await fresh({ defaultDomain: null });
    await insertLocalUser(store, 'carol');
    expect(await login('carol', '')).toMatchObject({ outcome: 'local', user: { username: 'carol' } });
  });

  it('only finds users of the profile\'s user query', async () => {
    await fresh();
    // heidi is a contractor: the company query leaves her out, whatever the password.
    expect(reasonOf(await login('heidi@example.org', 'heidi-secret'))).toBe('unknown-user');
    expect(await rowsOf(store, 'company')).toHaveLength(0);
    expect(await login('heidi@contractors.example', 'heidi-secret')).toMatchObject({ outcome: 'ok' });
    expect(reasonOf(await login('alice@contractors.example', 'alice-secret'))).toBe('unknown-user');
  });
});

describe('authenticate: refusals', () => {
  it('refuses a wrong password and an unknown user alike, in about the same time, and logs never a password', async () => {
    await fresh({}, { throttle: { login: { free: 1000, baseMs: 1, capMs: 1 }, address: { free: 1000, baseMs: 1, capMs: 1 } } });
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 8; i++) {
      let started = performance.now();
      const a = await login('alice@example.org', `wrong-${i}`);
      wrong.push(performance.now() - started);
      started = performance.now();
      const b = await login(`nobody${i}@example.org`, `wrong-${i}`);
      unknown.push(performance.now() - started);
      expect(a).toEqual({ outcome: 'invalid', profile: 'company', reason: 'wrong-password', waitedMs: 0 });
      expect(b).toEqual({ outcome: 'invalid', profile: 'company', reason: 'unknown-user', waitedMs: 0 });
    }
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    // An unknown user is held to the time a wrong password takes (a bind to a DN that does not exist, then padding).
    expect(median(unknown)).toBeGreaterThanOrEqual(median(wrong) * 0.7);
    expect(median(unknown)).toBeLessThan(median(wrong) * 3 + 20);
    const failed = log.events('auth.failed');
    expect(failed.map((l) => l['reason'])).toEqual(Array.from({ length: 8 }, () => ['wrong-password', 'unknown-user']).flat());
    expect(JSON.stringify(log.lines)).not.toMatch(/wrong-\d/);
  });

  it('refuses empty, whitespace-only and NUL passwords and names without asking the directory', async () => {
    // The profile's server is down: any question to it would be an error, not a refusal.
    await fresh({ slapdUrl: await deadLdapUrl() });
    expect(reasonOf(await login('alice@example.org', ''))).toBe('empty-password');
    expect(reasonOf(await login('alice@example.org', '   \t '))).toBe('empty-password');
    expect(reasonOf(await login('alice@example.org', 'alice-secret\0'))).toBe('nul-character');
    expect(reasonOf(await login('ali\0ce@example.org', 'alice-secret'))).toBe('nul-character');
    expect(reasonOf(await login('ali\0ce', 'alice-secret'))).toBe('nul-character');
    expect(reasonOf(await login('@example.org', 'alice-secret'))).toBe('empty-name');
    expect(JSON.stringify(log.lines)).not.toContain('alice-secret');
  });

  it('treats filter metacharacters in the name as plain characters', async () => {
    await fresh();
    for (const name of ['*', 'al*', ')(uid=*', 'alice)(uid=*', '*)(|(uid=*', '\\2a', 'alice\\29', '(uid=alice)']) {
      const result = await login(`${name}@example.org`, 'alice-secret');
      expect({ name, reason: reasonOf(result) }).toEqual({ name, reason: 'unknown-user' });
    }
    expect(await rowsOf(store, 'company')).toHaveLength(0);
    // A uid that really is full of metacharacters is found by exactly that name.
    expect(await login('tri(cky)*\\user@example.org', 'tricky-secret')).toMatchObject({ outcome: 'ok', user: { username: 'tri(cky)*\\user' } });
  });

  it('writes a disabled account as a sync would, refuses it, and then refuses it without asking the directory', async () => {
    await fresh();
    expect(reasonOf(await login('bob@example.org', 'bob-secret'))).toBe('disabled');
    const [bob] = await rowsOf(store, 'company');
    expect(bob).toMatchObject({ username: 'bob', enabled: false });
    const down = world.config(site.config, { slapdUrl: await deadLdapUrl() });
    expect(reasonOf(await login('bob@example.org', 'bob-secret', undefined, down))).toBe('disabled');
    expect(reasonOf(await login('Bob', 'wrong', undefined, down))).toBe('disabled');
    await expect(login('alice@example.org', 'alice-secret', undefined, down)).rejects.toMatchObject({ code: 'ldap.connection-refused' });
  });

  it('refuses a right password when another source holds the login, and writes nothing', async () => {
    await fresh();
    await insertLocalUser(store, 'zoe', 'zoe@example.org');
    expect(reasonOf(await login('zoe@example.org', 'zoe-secret'))).toBe('login-conflict');
    expect(await rowsOf(store, 'company')).toHaveLength(0);
    expect(log.events('auth.login_conflict')).toHaveLength(1);
  });
});

describe('authenticate: the stored row', () => {
  it('creates the row on the first login and updates it on a later one, each in a run with trigger login', async () => {
    await fresh();
    const first = await login('alice@example.org', 'alice-secret');
    expect(first).toMatchObject({ outcome: 'ok', change: 'created', user: { username: 'alice', login: 'alice@example.org', enabled: true, dn: 'uid=alice,ou=people,dc=example,dc=org' } });
    if (first.outcome !== 'ok') throw new Error('unreachable');
    expect(first.user.fields).toMatchObject({ displayName: 'Alice Andersen', jobTitle: 'Chief Technology Officer', email: 'alice@example.org' });
    let runs = await loginRuns(store, 'company');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: first.runId, kind: 'users', trigger: 'login', status: 'succeeded', counts: { created: 1, updated: 0, removed: 0 }, configHash: config.hash });
    expect(log.events('user.created')).toHaveLength(1);

    // Nothing changed in the directory: nothing is written, no run recorded.
    expect(await login('alice@example.org', 'alice-secret')).toMatchObject({ outcome: 'ok', change: 'unchanged', runId: undefined, user: { id: first.user.id } });
    expect(await loginRuns(store, 'company')).toHaveLength(1);

    await world.slapd.ldapmodify('dn: uid=alice,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: title\ntitle: Chief Executive Officer\n');
    try {
      const second = await login('alice@example.org', 'alice-secret');
      expect(second).toMatchObject({ outcome: 'ok', change: 'updated', user: { id: first.user.id, fields: { jobTitle: 'Chief Executive Officer' } } });
      runs = await loginRuns(store, 'company');
      expect(runs).toHaveLength(2);
      expect(runs[0]).toMatchObject({ trigger: 'login', status: 'succeeded', counts: { created: 0, updated: 1 } });
      expect(log.events('user.updated')[0]).toMatchObject({ changes: { jobTitle: { old: 'Chief Technology Officer', new: 'Chief Executive Officer' } } });
    } finally {
      await world.slapd.ldapmodify('dn: uid=alice,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: title\ntitle: Chief Technology Officer\n');
    }
  });

  it('writes the row exactly as a sync would: a sync afterwards finds it unchanged', async () => {
    await fresh();
    const result = await login('zoe@example.org', 'zoe-secret');
    expect(result).toMatchObject({ outcome: 'ok', change: 'created' });
    const sync = await runSync({ config, profile: config.servers.get('company') as NonNullable<ReturnType<typeof config.servers.get>>, kind: 'users', trigger: 'cli', dryRun: false, logger: log.logger }, store);
    expect(sync).toMatchObject({ status: 'succeeded', counts: { updated: 0, unchanged: 1 } });
    // And the other way round: after the sync, a login has nothing to write.
    expect(await login('jsmith@example.org', 'jsmith-secret')).toMatchObject({ outcome: 'ok', change: 'unchanged' });
  });

  it('lets one of many simultaneous first logins create the row; the others find it', async () => {
    await fresh();
    const results = await Promise.all(Array.from({ length: 8 }, () => login('dave@example.org', 'dave-secret')));
    expect(results.every((r) => r.outcome === 'ok')).toBe(true);
    expect(results.map((r) => (r.outcome === 'ok' ? r.change : r.outcome)).sort()).toEqual(['created', ...Array.from({ length: 7 }, () => 'unchanged')]);
    expect(await rowsOf(store, 'company')).toHaveLength(1);
    expect(await loginRuns(store, 'company')).toHaveLength(1);
  });

  it('writes the rows of simultaneous first logins of different users together, in fewer runs', async () => {
    await fresh();
    const names = ['alice', 'zoe', 'jsmith', 'carol', 'dave', 'erin', 'frank', 'grace', 'ivan', 'judy'];
    const results = await Promise.all(names.map((name) => login(`${name}@example.org`, `${name}-secret`)));
    expect(results.map((r) => (r.outcome === 'ok' ? r.change : reasonOf(r)))).toEqual(names.map(() => 'created'));
    expect((await rowsOf(store, 'company')).map((r) => r.username).sort()).toEqual([...names].sort());
    const runs = await loginRuns(store, 'company');
    expect(runs.reduce((sum, run) => sum + run.counts.created, 0)).toBe(names.length);
    expect(runs.length).toBeLessThan(names.length);
    expect(new Set(results.map((r) => (r.outcome === 'ok' ? r.runId : undefined)))).toEqual(new Set(runs.map((r) => r.id)));
  });

  it('waits for a sync holding the profile lock, and gives up with auth.busy after lockWaitMs', async () => {
    await fresh({}, { lockWaitMs: 150 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const lock = store.withProfileLock('company', () => held, { wait: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(login('erin@example.org', 'erin-secret')).rejects.toMatchObject({ code: 'auth.busy' });
    setTimeout(release, 100);
    await runtime.close();
    runtime = new AuthRuntime({ lockWaitMs: 5_000 });
    const started = performance.now();
    expect(await login('erin@example.org', 'erin-secret')).toMatchObject({ outcome: 'ok', change: 'created' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(80);
    await lock;
  });
});

describe('authenticate: backoff', () => {
  it('slows down wrong passwords for one login more and more, up to the cap, and a right one resets it', async () => {
    await fresh({}, { throttle: { login: { free: 2, baseMs: 40, capMs: 320 }, address: { free: 1000, baseMs: 1, capMs: 1 } } });
    const waits: number[] = [];
    const took: number[] = [];
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      const result = await login('frank@example.org', 'not-franks');
      took.push(performance.now() - started);
      if (result.outcome !== 'invalid') throw new Error(`expected invalid, got ${result.outcome}`);
      expect(result.reason).toBe('wrong-password');
      waits.push(result.waitedMs);
    }
    // Two free failures, then 40, 80, 160, 320, 320 ms (±timer slack) before each attempt.
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    for (let i = 3; i < 8; i++) expect(waits[i]).toBeGreaterThanOrEqual(Math.min(320, 40 * 2 ** (i - 3)) - 5);
    expect(waits[7]).toBeLessThan(320 + 100);
    for (let i = 3; i < 8; i++) expect(took[i]).toBeGreaterThanOrEqual(waits[i] ?? 0);
    expect(log.events('auth.throttled').length).toBe(5);
    expect(log.events('auth.failed').at(-1)).toMatchObject({ reason: 'wrong-password', failures: 8, login: 'frank@example.org' });

    // Another login is not slowed by frank's failures.
    expect(await login('grace@example.org', 'not-graces')).toMatchObject({ waitedMs: 0 });
    // The right password still waits its turn, then clears the count.
    const ok = await login('frank@example.org', 'frank-secret');
    expect(ok).toMatchObject({ outcome: 'ok' });
    expect(await login('frank@example.org', 'not-franks')).toMatchObject({ outcome: 'invalid', waitedMs: 0 });
    expect(JSON.stringify(log.lines)).not.toContain('not-franks');
  });

  it('slows down one client address trying many logins, and leaves other addresses alone', async () => {
    await fresh({}, { throttle: { login: { free: 1000, baseMs: 1, capMs: 1 }, address: { free: 3, baseMs: 60, capMs: 240 } } });
    const waits: number[] = [];
    for (const name of ['ivan', 'judy', 'erin', 'grace', 'dave', 'frank']) {
      const result = await login(`${name}@example.org`, 'guess', '198.51.100.7');
      waits.push(result.outcome === 'invalid' ? result.waitedMs : -1);
    }
    expect(waits.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(waits[4]).toBeGreaterThanOrEqual(55);
    expect(waits[5]).toBeGreaterThanOrEqual(115);
    // IPv4-mapped IPv6 is the same address.
    const mapped = await login('ivan@example.org', 'guess', '::ffff:198.51.100.7');
    expect(mapped).toMatchObject({ outcome: 'invalid' });
    expect(mapped.outcome === 'invalid' ? mapped.waitedMs : 0).toBeGreaterThanOrEqual(200);
    expect(log.events('auth.throttled').at(-1)).toMatchObject({ clientAddress: '198.51.100.7' });
    expect(await login('judy@example.org', 'guess', '203.0.113.9')).toMatchObject({ outcome: 'invalid', waitedMs: 0 });
  });

  it('refuses at once when the wait would exceed maxWaitMs', async () => {
    await fresh({}, { throttle: { login: { free: 0, baseMs: 5_000, capMs: 5_000 }, maxWaitMs: 1_000 } });
    expect(await login('ivan@example.org', 'guess')).toMatchObject({ reason: 'wrong-password' });
    const started = performance.now();
    expect(await login('ivan@example.org', 'ivan-secret')).toMatchObject({ outcome: 'invalid', reason: 'throttled' });
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('authenticate: the directory down', () => {
  it('throws a connection error (not an invalid password) and recovers its kept connection afterwards', async () => {
    await fresh({ operationTimeout: '1s' });
    expect(await login('judy@example.org', 'judy-secret')).toMatchObject({ outcome: 'ok' });
    await world.slapd.stop();
    try {
      const error = await login('judy@example.org', 'judy-secret').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(LdapError);
      expect(error).toMatchObject({ code: 'ldap.connection-refused' });
      // An unknown user is an outage too, not a refusal.
      await expect(login('nobody@example.org', 'x')).rejects.toMatchObject({ code: 'ldap.connection-refused' });
    } finally {
      await world.slapd.start();
    }
    expect(await login('judy@example.org', 'judy-secret')).toMatchObject({ outcome: 'ok' });
    expect(log.events('auth.failed')).toHaveLength(0);
  });

  it('throws a timeout when the server accepts connections but does not answer', async () => {
    await fresh({ operationTimeout: '300ms' });
    world.slapd.pause();
    try {
      await expect(login('judy@example.org', 'judy-secret')).rejects.toMatchObject({ code: 'ldap.timeout' });
    } finally {
      world.slapd.resume();
    }
  });
});
