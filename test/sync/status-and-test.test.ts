import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, BACKENDS, COMPANY_USERS, PEOPLE, replace, SLOW, SyncWorld } from './world.js';

interface StatusJson {
  readonly store: string;
  readonly profiles: ReadonlyArray<{
    readonly profile: string;
    readonly runs: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly status: string; readonly counts: Record<string, number>; readonly error: string | null }>;
  }>;
}

describe.each(BACKENDS)('ldapsync status and ldapsync test (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('status shows each profile\'s last runs, newest first, with their counts and errors', async () => {
    await world.configure({ profiles: [{ operationTimeout: '3s' }, { name: 'idle', domain: 'idle.example' }] });
    expect((await world.sync('users')).result.status).toBe('succeeded');
    await world.slapd.ldapdelete(`uid=judy,${PEOPLE}`);
    expect((await world.sync('users', { delete: true })).result.status).toBe('aborted');
    await world.slapd.stop();
    expect((await world.sync('users')).result.status).toBe('failed');

    const json = await world.cli('status', '--json');
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as StatusJson;
    expect(status.profiles.map((p) => p.profile)).toEqual(['demo', 'idle']);
    expect(status.profiles[1]?.runs).toEqual([]);
    expect(status.profiles[0]?.runs).toEqual([
      expect.objectContaining({ kind: 'users', status: 'failed', error: expect.stringContaining(world.slapd.url) }),
      expect.objectContaining({ status: 'aborted', counts: expect.objectContaining({ removed: 1, unchanged: COMPANY_USERS - 1 }), error: expect.stringContaining('would remove 1 of 14 live users') }),
      expect.objectContaining({ status: 'succeeded', counts: { created: COMPANY_USERS, updated: 0, removed: 0, unchanged: 0, skipped: 0, conflicts: 0 }, error: null }),
    ]);

    const human = await world.cli('status');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^demo:\n {2}#3 \S+ \S+ users \(cli\) failed in [\d.]+ s: 0 created/m);
    expect(human.stdout).toMatch(/^ {2}#2 .* users \(cli\) aborted in [\d.]+ s: nothing written \(planned: 0 created, 0 updated, 1 removed, 13 unchanged/m);
    expect(human.stdout).toContain(`${COMPANY_USERS} created, 0 updated, 0 removed`);
    expect(human.stdout).toMatch(/^idle: never synced$/m);
  });

  it('test --username shows what a sync would change for that user, and writes nothing', async () => {
    const before = await world.cli('test', 'demo', '--username', 'zoe');
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(`dn: uid=zoe,${PEOPLE}`);
    expect(before.stdout).toContain('mapped (demo, login zoe@example.org, id ');
    expect(before.stdout).toContain('  displayName: "Zoë Ångström"');
    expect(before.stdout).toContain('a sync would: create this user');
    expect(before.stdout).not.toContain('zoe-secret');
    expect(await world.users()).toEqual([]);
    expect(await world.runs()).toEqual([]);

    expect((await world.sync('users')).result.status).toBe('succeeded');
    const synced = await world.users();
    const runs = await world.runs();
    expect((await world.cli('test', 'demo', '--username', 'zoe')).stdout).toContain('a sync would: change nothing (the stored row is up to date)');

    await world.slapd.ldapmodify(replace(`uid=zoe,${PEOPLE}`, 'title', 'Lead Engineer'));
    const after = await world.cli('test', 'demo', '--username', 'zoe');
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('a sync would: update the stored row:\n  jobTitle: "Senior Engineer" → "Lead Engineer"');
    const json = await world.cli('test', 'demo', '--username', 'zoe', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      username: 'zoe',
      login: 'zoe@example.org',
      sync: { kind: 'update', changes: { jobTitle: { old: 'Senior Engineer', new: 'Lead Engineer' } } },
    });
    expect(await world.users()).toEqual(synced);
    expect(await world.runs()).toEqual(runs);

    const missing = await world.cli('test', 'demo', '--username', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.messages).toContain('no entry with uid=nobody matches the user query');
  });
});
