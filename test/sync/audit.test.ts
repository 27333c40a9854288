import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOTIFY_CHANNEL, type NotifyPayload } from '../../src/store/index.js';
import { PG_URL } from '../helpers/postgres.js';
import { type Backend, BACKENDS, changeLines, COMPANY_USERS, events, GROUPS, type LogLine, PEOPLE, replace, SLOW, SyncWorld, waitFor } from './world.js';

const FORMER = 'ou=former,dc=example,dc=org';

interface RebuiltUser {
  externalId: string;
  dn: string;
  username: string;
  login: string;
  enabled: boolean;
  removed: boolean;
  fields: Record<string, unknown>;
}

const IDENTITY = new Set(['dn', 'username', 'login', 'enabled']);

/** Replays the audit trail: the users and memberships its lines say the store holds. */
function replay(lines: ReadonlyArray<LogLine>): { users: Map<number, RebuiltUser>; members: Map<number, Set<number>> } {
  const users = new Map<number, RebuiltUser>();
  const members = new Map<number, Set<number>>();
  const userOf = (line: LogLine): RebuiltUser => {
    const user = users.get(line['userId'] as number);
    if (user === undefined) throw new Error(`${line.event} of user ${String(line['userId'])} before its creation`);
    return user;
  };
  for (const line of changeLines(lines)) {
    switch (line.event) {
      case 'user.created':
        users.set(line['userId'] as number, {
          externalId: line['externalId'] as string,
          dn: line['dn'] as string,
          username: line['username'] as string,
          login: line['login'] as string,
          enabled: line['enabled'] as boolean,
          removed: false,
          fields: { ...(line['fields'] as Record<string, unknown>) },
        });
        break;
      case 'user.updated': {
        const user = userOf(line);
        for (const [field, change] of Object.entries(line['changes'] as Record<string, { new: unknown }>)) {
          if (field === 'removedAt') user.removed = change.new !== null;
          else if (IDENTITY.has(field)) (user as unknown as Record<string, unknown>)[field] = change.new;
          else user.fields[field] = change.new;
        }
        break;
      }
      case 'user.removed':
        if (line['mode'] === 'delete') users.delete(line['userId'] as number);
        else Object.assign(userOf(line), { enabled: false, removed: true });
        break;
      case 'group.created':
        members.set(line['groupId'] as number, new Set());
        break;
      case 'group.removed':
        if (line['mode'] === 'delete') members.delete(line['groupId'] as number);
        break;
      case 'membership.added':
        members.get(line['groupId'] as number)?.add(line['userId'] as number);
        break;
      case 'membership.removed':
        members.get(line['groupId'] as number)?.delete(line['userId'] as number);
        break;
      case 'group.updated':
        break;
      default:
        throw new Error(`unexpected audit line ${String(line.event)}`);
    }
  }
  return { users, members };
}

describe.each(BACKENDS)('the audit trail (%s)', SLOW, (backend: Backend) => {
  let world: SyncWorld;
  beforeEach(async () => {
    world = await SyncWorld.create(backend);
  });
  afterEach(async () => {
    await world.dispose();
  });

  it('rebuilds the users and memberships the store holds from the JSON log lines alone', async () => {
    await world.configure({ profiles: [{ groups: { flattenNested: true }, deletes: { enabled: true, maxPercentage: 100 } }] });
    await world.slapd.ldapadd(`dn: ${FORMER}\nobjectClass: organizationalUnit\nou: former\n`);
    const trail: LogLine[] = [];
    // The CLI's stderr on Postgres; on the embedded store (whose every CLI process pays for starting PGlite) the
    // same runner in this process, whose logger writes the same lines.
    const sync = async (kind: 'users' | 'groups'): Promise<void> => {
      if (backend === 'postgres') {
        const run = await world.cli('sync', kind, 'demo');
        expect(run.code, run.stderr).toBe(0);
        trail.push(...run.logs);
      } else {
        const run = await world.sync(kind);
        expect(run.result.status).toBe('succeeded');
        trail.push(...run.logs);
      }
    };

    await sync('users');
    await sync('groups');
    await world.slapd.ldapmodify(replace(`uid=dave,${PEOPLE}`, 'title', 'Principal Engineer'));
    await world.slapd.ldapmodify(replace(`uid=bob,${PEOPLE}`, 'employeeType', 'staff'));
    await world.slapd.ldapmodify(`dn: uid=erin,${PEOPLE}\nchangetype: modrdn\nnewrdn: uid=erin.evans\ndeleteoldrdn: 1\n`);
    await world.slapd.ldapmodify(`dn: uid=judy,${PEOPLE}\nchangetype: modrdn\nnewrdn: uid=judy\ndeleteoldrdn: 0\nnewsuperior: ${FORMER}\n`);
    await world.slapd.ldapmodify(`dn: cn=engineering,${GROUPS}\nchangetype: modify\ndelete: member\nmember: uid=heidi,${PEOPLE}\n`);
    await sync('users');
    await sync('groups');
    await world.slapd.ldapmodify(`dn: uid=judy,${FORMER}\nchangetype: modrdn\nnewrdn: uid=judy\ndeleteoldrdn: 0\nnewsuperior: ${PEOPLE}\n`);
    await sync('users');
    await sync('groups');

    expect(events(trail, 'user.removed')).toHaveLength(1);
    expect(events(trail, 'user.updated').filter((l) => l['revived'] === true)).toHaveLength(1);
    expect(events(trail, 'membership.removed').length).toBeGreaterThan(0);
    for (const line of changeLines(trail)) expect(line).toMatchObject({ source: 'demo', runId: expect.any(String), dn: expect.any(String), externalId: expect.any(String) });
    expect(JSON.stringify(trail)).not.toContain(world.slapd.readerPassword);

    const rebuilt = replay(trail);
    const { users, groups } = await world.withStore(async (store) => ({ users: await store.usersOf('demo'), groups: await store.groupsOf('demo') }));
    expect(users).toHaveLength(COMPANY_USERS);
    expect(rebuilt.users.size).toBe(users.length);
    for (const row of users) {
      const replayed = rebuilt.users.get(row.id);
      expect(replayed, `user ${row.username}`).toBeDefined();
      expect({ ...replayed, fields: undefined }).toEqual({
        externalId: row.externalId,
        dn: row.dn,
        username: row.username,
        login: row.login,
        enabled: row.enabled,
        removed: row.removedAt !== null,
        fields: undefined,
      });
      for (const [field, value] of Object.entries(row.fields)) expect(replayed?.fields[field] ?? null, `${row.username}.${field}`).toEqual(value);
    }
    expect(new Map(groups.map((g) => [g.id, [...g.memberIds].sort((a, b) => a - b)]))).toEqual(
      new Map([...rebuilt.members].map(([id, set]) => [id, [...set].sort((a, b) => a - b)])),
    );
  });

  it('calls every hook module with every change; a hook that throws is logged and the run stays committed', async () => {
    await writeFile(
      join(world.dir, 'record.ts'),
      `import { appendFileSync } from 'node:fs';
export function onChange(event: { readonly event: string }): void {
  appendFileSync(new URL('./events.jsonl', import.meta.url), JSON.stringify(event) + '\\n');
}
`,
    );
    await writeFile(
      join(world.dir, 'broken.mjs'),
      `export function onChange(event) {
  if (event.username === 'dave') throw new Error('webhook down');
}
`,
    );
    await world.configure({ hooks: ['./record.ts', './broken.mjs'] });

    const run = await world.cli('sync', 'users', 'demo');
    expect(run.code).toBe(0);
    const received = (await readFile(join(world.dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(received).toHaveLength(COMPANY_USERS);
    expect(received).toEqual(events(run.logs, 'user.created').map((line) => expect.objectContaining({ event: 'user.created', userId: line['userId'], fields: line['fields'] })));
    expect(events(run.logs, 'hook.failed')).toEqual([
      expect.objectContaining({ level: 'error', hook: join(world.dir, 'broken.mjs'), change: 'user.created', err: expect.stringContaining('webhook down') }),
    ]);
    expect(await world.users()).toHaveLength(COMPANY_USERS);
    expect((await world.runs())[0]).toMatchObject({ status: 'succeeded', counts: { created: COMPANY_USERS } });
  });
});

describe('NOTIFY ldapsync_changes (postgres)', SLOW, () => {
  let world: SyncWorld;
  let listener: pg.Client;
  const received: NotifyPayload[] = [];
  beforeEach(async () => {
    world = await SyncWorld.create('postgres');
    listener = new pg.Client({ connectionString: PG_URL });
    await listener.connect();
    received.length = 0;
  });
  afterEach(async () => {
    await listener.end();
    await world.dispose();
  });

  it('a LISTEN connection gets one small payload per change, once the run has committed, and none for dry or aborted runs', async () => {
    const checks: Promise<boolean>[] = [];
    listener.on('notification', (n) => {
      const payload = JSON.parse(n.payload ?? '{}') as NotifyPayload;
      if (payload.schema !== world.store.schema) return;
      received.push(payload);
      // Delivered after commit: the row the payload names is already visible to another session.
      checks.push(world.withStore(async (s) => (await s.kysely.selectFrom('users').select('id').where('id', '=', payload.userId ?? -1).execute()).length === 1));
    });
    await listener.query(`LISTEN ${NOTIFY_CHANNEL}`);

    await world.sync('users', { dryRun: true });
    const { result, logs } = await world.sync('users');
    expect(result.status).toBe('succeeded');
    await waitFor(() => received.length >= COMPANY_USERS);
    expect(received).toHaveLength(COMPANY_USERS);
    expect(await Promise.all(checks)).toEqual(received.map(() => true));
    const runId = result.status === 'succeeded' ? result.runId : undefined;
    expect(received).toEqual(
      events(logs, 'user.created').map((l) => ({ event: 'user.created', schema: world.store.schema, source: 'demo', runId, externalId: l['externalId'], userId: l['userId'] })),
    );
    for (const payload of received) expect(JSON.stringify(payload).length).toBeLessThan(300);

    // An aborted run (guard) notifies nothing.
    await world.configure({ profiles: [{ users: { filter: '(uid=nobody)' }, deletes: { enabled: true } }] });
    expect((await world.sync('users')).result.status).toBe('aborted');
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(COMPANY_USERS);
  });
});
