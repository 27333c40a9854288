import { sql, type RawBuilder } from 'kysely';
import { LdapsyncError } from '../shared/index.js';
import type { GroupCreate, GroupPlan, GroupRemove, GroupUpdate, RowId } from '../reconcile/index.js';
import { AppliedChanges, type AppliedChange, type MembershipAdded, type MembershipRemoved, type OnApplied, type RunId } from './applied-change.js';
import { arrayLiteral } from './array-literal.js';
import { batchRows, chunks, execBatches, execExpecting, PackBuffer, runBatches, type BatchColumn, type Db, type Wire } from './batch.js';
import { assignments, columnList, fieldBatchColumns, GROUP_COLUMNS } from './rows.js';

const ROW: ReadonlyArray<BatchColumn<GroupCreate | GroupUpdate>> = [
  { column: 'external_id', type: 'text', value: (c) => c.externalId },
  { column: 'dn', type: 'text', value: (c) => c.dn },
  { column: 'name', type: 'text', value: (c) => c.name },
  ...fieldBatchColumns<GroupCreate | GroupUpdate>(GROUP_COLUMNS),
];
const CREATE_COLUMNS: ReadonlyArray<BatchColumn<GroupCreate>> = ROW;
const UPDATE_COLUMNS: ReadonlyArray<BatchColumn<GroupUpdate>> = [{ column: 'id', type: 'bigint', value: (g) => g.id }, ...ROW];

/**
 * The digests of the groups a sync resolved in full, by external id (see `groupKey` in src/sync/entry-digest.ts):
 * each such group that is live after the run keeps its own.
 */
export type GroupDigests = ReadonlyMap<string, string>;

const DIGEST_COLUMNS: ReadonlyArray<BatchColumn<readonly [string, string]>> = [
  { column: 'external_id', type: 'text', value: ([externalId]) => externalId },
  { column: 'entry_digest', type: 'text', value: ([, digest]) => digest },
];

/**
 * Memberships per statement. Each statement's trigger checks the users and groups its rows name: for a few
 * thousand rows by index lookups, for many by hash joins with the tables (0004), which took 0.2 s for the
 * 300,000 memberships of a first sync here where lookups in batches of 5,000 took 1.1 s.
 */
const MEMBERSHIP_ROWS = 1_000_000;

/** A membership to add or remove is written from the very event that reports it. */
const EDGE: ReadonlyArray<BatchColumn<MembershipAdded | MembershipRemoved>> = [
  { column: 'group_id', type: 'bigint', value: (e) => e.groupId },
  { column: 'user_id', type: 'bigint', value: (e) => e.userId },
];

/**
 * Writes a group plan inside the caller's transaction: memberships leave first (removed groups keep none), then
 * groups are removed, updated and created, then memberships are added (new groups need their ids first).
 * A membership is only ever added between a group and a live user of the same profile; a mismatch with the
 * plan means the store changed under it, and the whole transaction rolls back. `onApplied` hears of the changes
 * statement by statement, as soon as each is known (memberships before their statement runs).
 */
export async function writeGroupPlan(
  db: Db,
  wire: Wire,
  schema: string,
  runId: RunId,
  plan: GroupPlan,
  onApplied?: OnApplied,
  digests: GroupDigests = new Map(),
): Promise<AppliedChange[]> {
  const groups = sql.id(schema, 'groups');
  const users = sql.id(schema, 'users');
  const members = sql.id(schema, 'group_members');
  const source = plan.profile;
  const creates: GroupCreate[] = [];
  const updates: GroupUpdate[] = [];
  const removals: GroupRemove[] = [];
  for (const change of plan.changes) {
    switch (change.kind) {
      case 'create':
        creates.push(change);
        break;
      case 'update':
        updates.push(change);
        break;
      case 'remove':
        removals.push(change);
        break;
      default:
        change satisfies never;
    }
  }
  const applied = new AppliedChanges(onApplied);

  if (plan.memberships.length > 0) {
    // Keeps deletes of users and groups (whose triggers drop memberships) waiting until this commits, so that
    // the membership triggers need not lock every row the new memberships name. Readers are not held up.
    await sql`LOCK TABLE ${members} IN SHARE ROW EXCLUSIVE MODE`.execute(db);
  }

  const leaving: MembershipRemoved[] = [];
  for (const m of plan.memberships) {
    if (m.remove.length === 0) continue;
    if (m.groupId === undefined) throw new LdapsyncError('store.failed', `a group without a row cannot lose members: ${m.dn}`, { table: 'group_members', dn: m.dn });
    for (const u of m.remove) {
      leaving.push({ event: 'membership.removed', source, runId, dn: m.dn, externalId: m.externalId, groupId: m.groupId, userId: u.id, userDn: u.dn });
    }
  }
  for (const e of leaving) applied.push(e);
  applied.announce();
  await execBatches(
    db,
    wire,
    leaving,
    (part, into) => sql`DELETE FROM ${members} AS m
                  USING ${batchRows(part, EDGE, into)}, ${groups} AS g
                  WHERE m.group_id = x.group_id AND m.user_id = x.user_id AND g.id = m.group_id AND g.source = ${source}`,
    'remove memberships',
    'group_members',
    MEMBERSHIP_ROWS,
  );

  for (const mode of ['disable', 'delete'] as const) {
    for (const part of chunks(removals.filter((r) => r.mode === mode))) {
      const ids = part.map((r) => r.id);
      const query =
        mode === 'disable'
          ? sql`UPDATE ${groups} SET removed_at = now(), updated_at = now() WHERE source = ${source} AND id = ANY(${ids}::bigint[])`
          : sql`DELETE FROM ${groups} WHERE source = ${source} AND id = ANY(${ids}::bigint[])`;
      await execExpecting(db, query, ids.length, `${mode} groups`, 'groups');
    }
  }
  for (const r of removals) {
    applied.push({ event: 'group.removed', source, runId, dn: r.dn, externalId: r.externalId, groupId: r.id, mode: r.mode, reason: r.reason });
  }
  applied.announce();

  for (const part of chunks(updates)) {
    await execExpecting(
      db,
      sql`UPDATE ${groups} AS g
          SET dn = x.dn, name = x.name, ${assignments(GROUP_COLUMNS)}, removed_at = NULL, updated_at = now()
          FROM ${batchRows(part, UPDATE_COLUMNS, new PackBuffer(wire))}
          WHERE g.id = x.id AND g.source = ${source}`,
      part.length,
      'update groups',
      'groups',
    );
  }
  for (const u of updates) {
    applied.push({ event: 'group.updated', source, runId, dn: u.dn, externalId: u.externalId, groupId: u.id, changes: u.changes, revived: u.revive });
  }
  applied.announce();

  const createdIds = new Map<string, RowId>();
  for (const part of chunks(creates)) {
    const { rows } = await sql<{ id: number; external_id: string }>`
      INSERT INTO ${groups} (source, external_id, dn, name, ${columnList(GROUP_COLUMNS)})
      SELECT ${source}, x.external_id, x.dn, x.name, ${columnList(GROUP_COLUMNS, 'x.')}
      FROM ${batchRows(part, CREATE_COLUMNS, new PackBuffer(wire))}
      RETURNING id, external_id`.execute(db);
    for (const r of rows) createdIds.set(r.external_id, r.id);
    for (const c of part) {
      const groupId = createdIds.get(c.externalId);
      if (groupId === undefined) throw new LdapsyncError('store.failed', `the insert of ${c.dn} returned no id`, { table: 'groups', dn: c.dn });
      applied.push({ event: 'group.created', source, runId, dn: c.dn, externalId: c.externalId, groupId, name: c.name, fields: c.fields });
    }
  }
  applied.announce();

  const joining: MembershipAdded[] = [];
  for (const m of plan.memberships) {
    if (m.add.length === 0) continue;
    const groupId = m.groupId ?? createdIds.get(m.externalId);
    if (groupId === undefined) throw new LdapsyncError('store.failed', `no row for the group ${m.dn} to add members to`, { table: 'group_members', dn: m.dn });
    for (const u of m.add) joining.push({ event: 'membership.added', source, runId, dn: m.dn, externalId: m.externalId, groupId, userId: u.id, userDn: u.dn });
  }
  for (const e of joining) applied.push(e);
  applied.announce();
  if (joining.length > 0) {
    await expectLiveRows(db, groups, source, joining.map((e) => e.groupId), 'groups');
    await expectLiveRows(db, users, source, joining.map((e) => e.userId), 'users');
  }
  await execBatches(
    db,
    wire,
    joining,
    (part, into) => sql`INSERT INTO ${members} (group_id, user_id) SELECT x.group_id, x.user_id FROM ${batchRows(part, EDGE, into)}`,
    'add memberships',
    'group_members',
    MEMBERSHIP_ROWS,
  );

  // Bookkeeping, not a change, and last: a membership written above made its group forget its digest (0006).
  // A group that went meanwhile only misses its digest (and is resolved in full next time): no count is checked.
  await runBatches(
    db,
    wire,
    [...digests],
    (part, into) => sql`UPDATE ${groups} AS g SET entry_digest = x.entry_digest
                  FROM ${batchRows(part, DIGEST_COLUMNS, into)}
                  WHERE g.source = ${source} AND g.external_id = x.external_id AND g.removed_at IS NULL`,
  );
  return applied.all;
}

/**
 * Checks, once for all the memberships to add, that every row they name is a live row of the profile. One
 * hash join of all the ids costs a twentieth of joining each batch of memberships with the users (1.8 s of
 * index lookups for 300,000 memberships here). The statement triggers still check each batch's references,
 * and the lock this writer holds keeps deletes of users and groups waiting until it commits.
 */
async function expectLiveRows(db: Db, table: RawBuilder<unknown>, source: string, named: ReadonlyArray<RowId>, what: 'users' | 'groups'): Promise<void> {
  const ids = [...new Set(named)];
  const { rows } = await sql<{ live: string }>`
    SELECT count(*) AS live FROM unnest(${arrayLiteral(ids, 'bigint')}::bigint[]) AS i(id)
    JOIN ${table} AS r ON r.id = i.id AND r.source = ${source} AND r.removed_at IS NULL`.execute(db);
  const live = Number(rows[0]?.live ?? 0);
  if (live !== ids.length) {
    throw new LdapsyncError(
      'store.stale-plan',
      `add memberships: ${ids.length - live} of the ${ids.length} ${what} they name are no live rows of ${source}; the store changed after the plan was made, so nothing was written`,
      { table: 'group_members' },
    );
  }
}
