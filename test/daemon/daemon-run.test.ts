import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { dropSchema, randomSchema } from '../helpers/postgres.js';
import { saveByRename } from './daemon-config.js';
import { freePort, makeWorld, sleep, type DaemonWorld } from './daemon-setup.js';

// `ldapsync run` as a child process against a real slapd and Postgres: scheduling, hot reload, signals, HTTP.

const EVERY_2S = '*/2 * * * * *';
/** Far away: a profile on this schedule runs only by the first-run rule. */
const YEARLY = '0 0 1 1 *';

let world: DaemonWorld | undefined;

afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

describe('ldapsync run', () => {
  it('syncs on the cron (users, then groups), answers /healthz, /readyz and /metrics, and exits 0 on SIGTERM', async () => {
    world = await makeWorld();
    const port = await freePort();
    await world.write([world.profile('pe', { schedule: EVERY_2S, groups: true })], { httpPort: port });
    const daemon = world.start();

    const started = await daemon.waitFor('daemon.started');
    expect(started['profiles']).toEqual([expect.objectContaining({ profile: 'pe', kinds: ['users', 'groups'], schedule: EVERY_2S })]);
    const groups = await daemon.waitFor('sync.finished', { match: (l) => l['kind'] === 'groups' });
    const users = daemon.events('sync.finished', (l) => l['kind'] === 'users')[0];
    expect(users).toBeDefined();
    expect(daemon.lines.indexOf(users as never)).toBeLessThan(daemon.lines.indexOf(groups));
    expect((await world.users('pe')).map((u) => u.username)).toContain('alice');
    // A second round on the cron, two seconds on.
    await daemon.waitFor('sync.finished', { match: (l) => l['kind'] === 'users', nth: 2 });

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', hash: started['hash'] });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/ldapsync_sync_runs_total\{profile="pe",kind="users",outcome="succeeded"\} [2-9]/);
    expect(metrics).toMatch(/ldapsync_sync_entries_read_total\{profile="pe",kind="users"\} \d+/);
    expect(metrics).toContain(`ldapsync_config_info{hash="${String(started['hash'])}"} 1`);

    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(daemon.events('daemon.stopped')).toHaveLength(1);
    expect((await world.runs('pe')).filter((r) => r.status === 'running')).toEqual([]);
  });

  it('applies an edited mapping at the next run without a restart, and picks up a save by rename', async () => {
    world = await makeWorld();
    const pe = (displayName: string) => world!.profile('pe', { schedule: EVERY_2S, displayName });
    await world.write([pe('cn')]);
    const daemon = world.start();
    await daemon.waitFor('sync.finished');
    expect((await world.users('pe')).find((u) => u.username === 'alice')?.fields['displayName']).toBe('Alice Andersen');

    let mark = daemon.mark();
    await writeFile(world.file, world.yaml([pe('upper(cn)')]));
    const reloaded = await daemon.waitFor('config.reloaded', { from: mark });
    expect(reloaded).toMatchObject({ trigger: 'watch', changed: ['pe'], added: [], removed: [] });
    await daemon.waitFor('sync.finished', { from: daemon.lines.indexOf(reloaded) });
    expect((await world.users('pe')).find((u) => u.username === 'alice')?.fields['displayName']).toBe('ALICE ANDERSEN');

    mark = daemon.mark();
    await saveByRename(world.file, world.yaml([pe("cn + ' (' + uid + ')'")]));
    const renamed = await daemon.waitFor('config.reloaded', { from: mark });
    expect(renamed['previousHash']).toBe(reloaded['hash']);
    await daemon.waitFor('sync.finished', { from: daemon.lines.indexOf(renamed) });
    expect((await world.users('pe')).find((u) => u.username === 'alice')?.fields['displayName']).toBe('Alice Andersen (alice)');
    // Each run records the hash of the file it ran under.
    const hashes = new Set((await world.runs('pe')).map((r) => r.configHash));
    expect(hashes).toEqual(new Set([daemon.events('daemon.started')[0]?.['hash'], reloaded['hash'], renamed['hash']]));
    expect(await daemon.stop()).toMatchObject({ code: 0 });
  });

  it('lets a sync that is running during a reload finish under the file it started with, users and groups alike', async () => {
    world = await makeWorld({ generate: { users: 4000 } });
    const pe = (displayName: string) => world!.profile('pe', { schedule: YEARLY, displayName, groups: true });
    await world.write([pe('cn')]);
    const daemon = world.start({ LDAPSYNC_FIRST_RUN_DELAY_MS: '200' });
    const started = await daemon.waitFor('daemon.started');
    await daemon.waitFor('sync.started', { match: (l) => l['kind'] === 'users' });
    await writeFile(world.file, world.yaml([pe('upper(cn)')]));
    const reloaded = await daemon.waitFor('config.reloaded');
    const users = await daemon.waitFor('sync.finished', { match: (l) => l['kind'] === 'users' });
    await daemon.waitFor('sync.finished', { match: (l) => l['kind'] === 'groups' });
    // The reload came while the users sync was still running.
    expect(daemon.lines.indexOf(reloaded)).toBeLessThan(daemon.lines.indexOf(users));
    const runs = await world.runs('pe');
    expect(runs.map((r) => [r.kind, r.status, r.configHash])).toEqual([
      ['groups', 'succeeded', started['hash']],
      ['users', 'succeeded', started['hash']],
    ]);
    // user000001's cn (Bender Kroker) as the old mapping has it; the new one would upper-case it.
    expect((await world.users('pe')).find((u) => u.username === 'user000001')?.fields['displayName']).toBe('Bender Kroker');
    expect(await daemon.stop()).toMatchObject({ code: 0 });
  });

  it('rejects an invalid edit with every error and its position, keeps syncing under the old file, and says when it is fixed', async () => {
    world = await makeWorld();
    const good = world.yaml([world.profile('pe', { schedule: EVERY_2S })]);
    await writeFile(world.file, good);
    const daemon = world.start();
    const started = await daemon.waitFor('daemon.started');
    await daemon.waitFor('sync.finished');

    const mark = daemon.mark();
    const bad = good.replace('(objectClass=inetOrgPerson)', '(objectClass=inetOrgPerson').replace('displayName: "cn"', 'displayName: "upper(cn"');
    await writeFile(world.file, bad);
    const rejected = await daemon.waitFor('config.rejected', { from: mark });
    const errors = rejected['errors'] as Array<Record<string, unknown>>;
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const error of errors) {
      expect(error).toMatchObject({ file: world.file, line: expect.any(Number), column: expect.any(Number), code: expect.any(String) });
    }
    expect(errors.map((e) => e['path'])).toEqual(expect.arrayContaining(['servers.pe.users.filter', 'servers.pe.users.mapping.displayName']));
    expect(rejected['kept']).toBe(started['hash']);

    // Runs go on under the file in force.
    const after = daemon.lines.indexOf(rejected);
    await daemon.waitFor('sync.finished', { from: after, nth: 2 });
    expect((await world.runs('pe')).every((r) => r.configHash === started['hash'])).toBe(true);

    // The same file written back: the daemon says the good file is in force again.
    await writeFile(world.file, good);
    const fixed = await daemon.waitFor('config.reloaded', { from: after });
    expect(fixed).toMatchObject({ hash: started['hash'], changed: [] });
    expect(daemon.events('config.rejected')).toHaveLength(1);
    expect(await daemon.stop()).toMatchObject({ code: 0 });
  });

  it('reloads on SIGHUP, re-reading secret files: a rotated password is used from the next run', async () => {
    world = await makeWorld();
    await world.write([world.profile('pe', { schedule: EVERY_2S })]);
    const daemon = world.start();
    await daemon.waitFor('sync.finished');

    let mark = daemon.mark();
    await writeFile(world.passwordFile, 'not-the-password');
    daemon.signal('SIGHUP');
    const rotated = await daemon.waitFor('config.reloaded', { from: mark });
    expect(rotated).toMatchObject({ trigger: 'signal', changed: ['pe'] });
    const failed = await daemon.waitFor('sync.failed', { from: daemon.lines.indexOf(rotated) });
    expect(String(failed['err'])).toMatch(/credentials|bind/i);
    await daemon.waitFor('sync.retry_scheduled', { from: daemon.lines.indexOf(rotated) });
    expect(JSON.stringify(daemon.lines)).not.toContain('not-the-password');

    mark = daemon.mark();
    await writeFile(world.passwordFile, world.slapd.readerPassword);
    daemon.signal('SIGHUP');
    await daemon.waitFor('config.reloaded', { from: mark });
    await daemon.waitFor('sync.finished', { from: mark });
    expect(await daemon.stop()).toMatchObject({ code: 0 });
  });

  it('schedules an added profile, running it a first-run delay later, and unschedules a removed one', async () => {
    world = await makeWorld();
    const pe = world.profile('pe', { schedule: EVERY_2S });
    const ipa = world.profile('ipa', { schedule: YEARLY });
    await world.write([pe]);
    const daemon = world.start({ LDAPSYNC_FIRST_RUN_DELAY_MS: '1500' });
    await daemon.waitFor('sync.finished');

    let mark = daemon.mark();
    await writeFile(world.file, world.yaml([pe, ipa], { logLevel: 'debug' }));
    const added = await daemon.waitFor('config.reloaded', { from: mark });
    expect(added).toMatchObject({ added: ['ipa'], scheduled: ['ipa'], logLevel: 'debug' });
    const scheduled = await daemon.waitFor('profile.scheduled', { from: mark, match: (l) => l['profile'] === 'ipa' });
    const firstRun = await daemon.waitFor('sync.started', { from: mark, match: (l) => l['profile'] === 'ipa' });
    expect(firstRun['trigger']).toBe('reload');
    const delay = Date.parse(String(firstRun['time'])) - Date.parse(String(added['time']));
    expect(delay).toBeGreaterThanOrEqual(1400);
    expect(Math.abs(Date.parse(String(scheduled['next'])) - (Date.parse(String(added['time'])) + 1500))).toBeLessThan(250);
    await daemon.waitFor('sync.finished', { from: mark, match: (l) => l['profile'] === 'ipa' });
    expect((await world.users('ipa')).length).toBeGreaterThan(0);
    // The file's new log level is in force: touching the file now gives debug lines.
    await writeFile(world.file, world.yaml([pe, ipa], { logLevel: 'debug' }));
    expect(await daemon.waitFor('config.unchanged', { from: mark })).toMatchObject({ level: 'debug' });

    mark = daemon.mark();
    await writeFile(world.file, world.yaml([world.profile('pe', { schedule: EVERY_2S, groups: true })]));
    const removed = await daemon.waitFor('config.reloaded', { from: mark });
    expect(removed).toMatchObject({ removed: ['ipa'], unscheduled: ['ipa'], changed: ['pe'], logLevel: 'info' });
    await daemon.waitFor('sync.finished', { from: daemon.lines.indexOf(removed), match: (l) => l['kind'] === 'groups' });
    expect(daemon.events('profile.unscheduled')).toEqual([expect.objectContaining({ profile: 'ipa' })]);
    expect(daemon.lines.slice(daemon.lines.indexOf(removed)).filter((l) => l.event === 'sync.started' && l['profile'] === 'ipa')).toEqual([]);
    expect(await daemon.stop()).toMatchObject({ code: 0 });
  });

  it('runs a profile soon after start only when the store has no successful run of it', async () => {
    world = await makeWorld();
    await world.write([world.profile('pe', { schedule: YEARLY })]);
    const first = world.start({ LDAPSYNC_FIRST_RUN_DELAY_MS: '1000' });
    const started = await first.waitFor('daemon.started');
    const run = await first.waitFor('sync.started');
    expect(Date.parse(String(run['time'])) - Date.parse(String(started['time']))).toBeGreaterThanOrEqual(900);
    await first.waitFor('sync.finished');
    expect(await first.stop()).toMatchObject({ code: 0 });

    const second = world.start({ LDAPSYNC_FIRST_RUN_DELAY_MS: '1000' });
    const again = await second.waitFor('daemon.started');
    expect(Date.parse(String((again['profiles'] as Array<Record<string, unknown>>)[0]?.['next']))).toBeGreaterThan(Date.now() + 86_400_000);
    await sleep(3_000);
    expect(second.events('sync.started')).toEqual([]);
    expect(await second.stop()).toMatchObject({ code: 0 });
  });

  it('moves to a new store when a reload changes it, closing the old one', async () => {
    world = await makeWorld();
    const pe = world.profile('pe', { schedule: EVERY_2S });
    await world.write([pe]);
    const daemon = world.start();
    await daemon.waitFor('sync.finished');

    const store = { url: world.site.config.url, schema: randomSchema() };
    const mark = daemon.mark();
    await writeFile(world.file, world.yaml([pe], { store }));
    const switched = await daemon.waitFor('store.switched', { from: mark });
    await daemon.waitFor('store.closed', { from: mark });
    // A run in flight at the switch finishes in the old store; the next one starts in the new store.
    const next = await daemon.waitFor('sync.started', { from: daemon.lines.indexOf(switched) });
    await daemon.waitFor('sync.finished', { from: daemon.lines.indexOf(next) });
    try {
      expect((await world.users('pe', store)).map((u) => u.username)).toContain('alice');
    } finally {
      expect(await daemon.stop()).toMatchObject({ code: 0 });
      await dropSchema(store.schema);
    }
  });

  it('takes LOG_LEVEL from the environment over the file, and refuses to start on an invalid file (exit 2)', async () => {
    world = await makeWorld();
    await world.write([world.profile('pe', { schedule: EVERY_2S })], { logLevel: 'debug' });
    const quiet = world.start({ LOG_LEVEL: 'warn' });
    const deadline = Date.now() + 20_000;
    while (!(await world.runs('pe')).some((r) => r.status === 'succeeded') && Date.now() < deadline) await sleep(200);
    expect(await quiet.stop()).toMatchObject({ code: 0 });
    expect((await world.runs('pe')).some((r) => r.status === 'succeeded')).toBe(true);
    expect(quiet.lines.filter((l) => l.level === 'info' || l.level === 'debug')).toEqual([]);

    await writeFile(world.file, 'servers:\n  pe:\n    url: ftp://nowhere\n');
    const broken = world.start();
    expect(await broken.exited).toMatchObject({ code: 2 });
    const rejected = broken.events('config.rejected')[0];
    expect(rejected?.['errors']).toEqual(expect.arrayContaining([expect.objectContaining({ line: 3, code: expect.any(String) })]));
  });
});
