import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installedBin, repoRoot, runCli } from '../helpers/cli.js';
import { BACKENDS, changeLines, COMPANY_USERS, SLOW, SyncWorld } from './world.js';
import type { Backend } from '../helpers/postgres.js';

// The other CLI suites run the source through tsx; this one runs what `npm ci` builds (esbuild's bundle in
// dist/bundle/) and bin/ldapsync.js starts, so that a build that differs from the source (an import tsx resolves
// and Node does not, a file or library the bundle leaves out or breaks) shows up here, not in production.
describe.each(BACKENDS)('the installed ldapsync command (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('syncs users and groups, resyncs without a change, and reports both runs', async () => {
    expect(existsSync(`${repoRoot}/dist/bundle/main.js`), `${installedBin} runs the build: run "npm run build" first`).toBe(true);
    // A TypeScript hook: the bundle loads tsx from node_modules to import it.
    await writeFile(
      join(world.dir, 'count.ts'),
      `import { appendFileSync } from 'node:fs';
export function onChange(event: { event: string }): void {
  appendFileSync(${JSON.stringify(join(world.dir, 'hooked.txt'))}, event.event + '\\n');
}
`,
    );
    await world.configure({ profiles: [{ groups: {} }], hooks: ['./count.ts'] });

    const users = await world.installedCli('sync', 'users', 'demo');
    expect(users.code, users.stderr).toBe(0);
    expect(changeLines(users.logs).filter((l) => l.event === 'user.created')).toHaveLength(COMPANY_USERS);
    expect((await readFile(join(world.dir, 'hooked.txt'), 'utf8')).trim().split('\n')).toEqual(Array.from({ length: COMPANY_USERS }, () => 'user.created'));
    const groups = await world.installedCli('sync', 'groups', 'demo');
    expect(groups.code, groups.stderr).toBe(0);
    expect(changeLines(groups.logs).some((l) => l.event === 'membership.added')).toBe(true);

    expect(await world.users()).toHaveLength(COMPANY_USERS);
    const memberships = await world.memberships();
    expect(Object.values(memberships).flat().length).toBeGreaterThan(0);

    const again = await world.installedCli('sync', 'users', 'demo');
    expect(again.code, again.stderr).toBe(0);
    expect(changeLines(again.logs)).toEqual([]);
    expect(again.stdout).toMatch(new RegExp(`0 to create, 0 to update, 0 to remove, ${COMPANY_USERS} unchanged`));

    const status = await world.installedCli('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const runs = (JSON.parse(status.stdout) as { profiles: Array<{ profile: string; runs: Array<{ kind: string; status: string }> }> }).profiles;
    expect(runs.find((p) => p.profile === 'demo')?.runs.map((r) => `${r.kind} ${r.status}`)).toEqual(['users succeeded', 'groups succeeded', 'users succeeded']);
  });
});

describe('the installed ldapsync command: validate', () => {
  // The bundle embeds the schema's validator compiled at build time (scripts/bundle.ts); from the source it is
  // compiled at start. Both must say the same about a config, did-you-means and positions included.
  it.each(['several-errors.yaml', 'unknown-key-nested.yaml', 'wrong-type-integer.yaml', 'enum.yaml'])('reports %s exactly as the source does', async (name) => {
    const cwd = `${repoRoot}/test/fixtures/config/bad`;
    const [installed, source] = await Promise.all([runCli(['-c', name, 'validate'], { cwd, installed: true }), runCli(['-c', name, 'validate'], { cwd })]);
    expect(installed.code).toBe(2);
    expect(installed.stderr).toMatch(/error/);
    expect({ code: installed.code, stdout: installed.stdout, stderr: installed.stderr }).toEqual({ code: source.code, stdout: source.stdout, stderr: source.stderr });
  });
});

describe('the installed ldapsync command: --version', () => {
  it('prints the version of the package it runs from, as the source does, and exits 0', async () => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const [installed, source, short] = await Promise.all([runCli(['--version'], { installed: true }), runCli(['--version']), runCli(['-V'], { installed: true })]);
    for (const result of [installed, source, short]) expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
