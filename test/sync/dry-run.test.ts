import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, BACKENDS, changeLines, COMPANY_USERS, PEOPLE, replace, SLOW, SyncWorld } from './world.js';

describe.each(BACKENDS)('ldapsync sync --dry-run (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('prints the plan and writes nothing at all, not even a run row', async () => {
    const run = await world.cli('sync', 'users', 'demo', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`create users (${COMPANY_USERS}):`);
    expect(run.stdout).toContain(`+ alice  uid=alice,${PEOPLE}`);
    expect(run.stdout).toContain(`users of demo: ${COMPANY_USERS} to create, 0 to update, 0 to remove`);
    expect(run.stdout).toContain('dry run: nothing was written');
    expect(changeLines(run.logs)).toEqual([]);
    expect(`${run.stdout}${run.stderr}`).not.toContain(world.slapd.readerPassword);

    expect(await world.users()).toEqual([]);
    expect(await world.withStore((s) => s.lastRuns(undefined, 10))).toEqual([]);
  });

  it('shows each changed field with its old and new value, and leaves the store as it was', async () => {
    expect((await world.cli('sync', 'users', 'demo')).code).toBe(0);
    await world.slapd.ldapmodify(replace(`uid=dave,${PEOPLE}`, 'title', 'Principal Engineer'));
    await world.slapd.ldapmodify(replace(`uid=bob,${PEOPLE}`, 'employeeType', 'staff'));
    const users = await world.users();
    const runs = await world.runs();

    const run = await world.cli('sync', 'users', 'demo', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('update users (2):');
    expect(run.stdout).toMatch(new RegExp(`~ dave  uid=dave,${PEOPLE}\\n\\s+jobTitle: "Engineer" → "Principal Engineer"`));
    expect(run.stdout).toMatch(/~ bob .*\n\s+enabled: false → true/);
    expect(await world.users()).toEqual(users);
    expect(await world.runs()).toEqual(runs);
  });

  it('with --json gives one object holding the same plan', async () => {
    expect((await world.cli('sync', 'users', 'demo')).code).toBe(0);
    await world.slapd.ldapmodify(replace(`uid=dave,${PEOPLE}`, 'title', 'Principal Engineer'));
    await world.slapd.ldapdelete(`uid=judy,${PEOPLE}`);

    const human = await world.cli('sync', 'users', 'demo', '--dry-run');
    const run = await world.cli('sync', 'users', 'demo', '--dry-run', '--json');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(out).toMatchObject({
      profile: 'demo',
      kind: 'users',
      dryRun: true,
      status: 'succeeded',
      runId: null,
      counts: { created: 0, updated: 1, removed: 0, unchanged: COMPANY_USERS - 2 },
      plan: {
        kind: 'users',
        profile: 'demo',
        changes: [expect.objectContaining({ kind: 'update', username: 'dave', changes: { jobTitle: { old: 'Engineer', new: 'Principal Engineer' } } })],
        missing: [expect.objectContaining({ name: 'judy', dn: `uid=judy,${PEOPLE}` })],
        counts: { created: 0, updated: 1, removed: 0, missing: 1 },
      },
    });
    // The human output is the same plan.
    expect(human.stdout).toContain('update users (1):');
    expect(human.stdout).toContain('missing from the directory, kept (deletes are off) (1):');
    expect(human.stdout).toContain(`· judy  uid=judy,${PEOPLE}`);
    expect(run.stdout).not.toContain(world.slapd.readerPassword);
    expect(await world.runs()).toHaveLength(1);
  });
});
