import { sql } from 'kysely';
import { LdapsyncError } from '../shared/index.js';
import type { RowId, StoredUser, UserCreate, UserPlan, UserRemove, UserUpdate } from '../reconcile/index.js';
import { AppliedChanges, type AppliedChange, type OnApplied, type RunId } from './applied-change.js';
import { arrayLiteral } from './array-literal.js';
import { batchRows, chunks, execBatches, execExpecting, notifyAll, PackBuffer, runBatches, type BatchColumn, type Db, type Wire } from './batch.js';
import { assignments, columnList, fieldBatchColumns, toStoredUser, USER_COLUMNS, userRowColumnList } from './rows.js';

const ROW: ReadonlyArray<BatchColumn<UserCreate | UserUpdate>> = [
  { column: 'external_id', type: 'text', value: (c) => c.externalId },
  { column: 'dn', type: 'text', value: (c) => c.dn },
  { column: 'username', type: 'text', value: (c) => c.username },
  { column: 'login', type: 'text', value: (c) => c.login },
  { column: 'enabled', type: 'boolean', value: (c) => c.enabled },
  ...fieldBatchColumns<UserCreate | UserUpdate>(USER_COLUMNS),
];

/**
 * The digests of the entries a sync compared (see src/sync/entry-digest.ts): each row it creates or updates
 * keeps its entry's, and a row found to hold its entry's record already gets the entry's when it has another.
 */
export interface EntryDigests {
  readonly of: ReadonlyMap<string, string>;
  readonly refresh: ReadonlyArray<{ readonly id: RowId; readonly digest: string }>;
}

const NO_DIGESTS: EntryDigests = { of: new Map(), refresh: [] };

const REFRESH_COLUMNS: ReadonlyArray<BatchColumn<EntryDigests['refresh'][number]>> = [
  { column: 'id', type: 'bigint', value: (r) => r.id },
  { column: 'entry_digest', type: 'text', value: (r) => r.digest },
];

/**
 * Writes a user plan inside the caller's transaction and returns what it did. Order matters for the live-login
 * index: removals free logins first, renamed rows then move their logins aside, updates and revivals take
 * their final logins, and creates come last. Every statement is also limited to the plan's own source, so
 * even a forged plan cannot reach `local` or another profile's rows. `onApplied` hears of the changes statement
 * by statement, as soon as each is known.
 */
export async function writeUserPlan(
  db: Db,
  wire: Wire,
  schema: string,
  runId: RunId,
  plan: UserPlan,
  onApplied?: OnApplied,
  digests: EntryDigests = NO_DIGESTS,
): Promise<AppliedChange[]> {
  const users = sql.id(schema, 'users');
  const digest: BatchColumn<UserCreate | UserUpdate> = { column: 'entry_digest', type: 'text', value: (c) => digests.of.get(c.externalId) ?? null };
  const createColumns: ReadonlyArray<BatchColumn<UserCreate>> = [...ROW, digest];
  const updateColumns: ReadonlyArray<BatchColumn<UserUpdate>> = [{ column: 'id', type: 'bigint', value: (u) => u.id }, ...ROW, digest];
  const source = plan.profile;
  const creates: UserCreate[] = [];
  const updates: UserUpdate[] = [];
  const removals: UserRemove[] = [];
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
      case 'conflict':
        break;
      default:
        change satisfies never;
    }
  }
  const applied = new AppliedChanges(onApplied);

  for (const mode of ['disable', 'delete'] as const) {
    const batch = removals.filter((r) => r.mode === mode);
    for (const part of chunks(batch)) {
      const ids = part.map((r) => r.id);
      const query =
        mode === 'disable'
          ? sql`UPDATE ${users} SET enabled = false, removed_at = now(), updated_at = now()
                WHERE source = ${source} AND id = ANY(${ids}::bigint[])`
          : sql`DELETE FROM ${users} WHERE source = ${source} AND id = ANY(${ids}::bigint[])`;
      await execExpecting(db, query, ids.length, `${mode} users`, 'users');
    }
  }
  for (const r of removals) {
    applied.push({ event: 'user.removed', source, runId, dn: r.dn, externalId: r.externalId, userId: r.id, mode: r.mode, reason: r.reason });
  }
  applied.announce();

  // A live row renamed in this run must not hold its old login while another row takes it (a swap): park it
  // on a value no login can have (chr(1) + id) until the update below gives it its new one.
  const moving = updates.filter((u) => u.changes['login'] !== undefined && !u.revive).map((u) => u.id);
  for (const part of chunks(moving)) {
    await execExpecting(
      db,
      sql`UPDATE ${users} SET login = chr(1) || id::text WHERE source = ${source} AND id = ANY(${part}::bigint[]) AND removed_at IS NULL`,
      part.length,
      'move renamed logins aside',
      'users',
    );
  }
  await execBatches(
    db,
    wire,
    updates,
    (part, into) => sql`UPDATE ${users} AS u
                  SET dn = x.dn, username = x.username, login = x.login, enabled = x.enabled, ${assignments(USER_COLUMNS)},
                      entry_digest = x.entry_digest, removed_at = NULL, updated_at = now()
                  FROM ${batchRows(part, updateColumns, into)}
                  WHERE u.id = x.id AND u.source = ${source}`,
    'update users',
    'users',
  );
  for (const u of updates) {
    applied.push({ event: 'user.updated', source, runId, dn: u.dn, externalId: u.externalId, userId: u.id, changes: u.changes, revived: u.revive });
  }
  applied.announce();

  await insertCreates(db, wire, users, source, runId, creates, createColumns, applied, 'fail');

  // Bookkeeping, not a change: neither updated_at nor the audit trail hears of it. A row that went meanwhile
  // only misses its digest (and is compared in full next time), so the count is not checked.
  await runBatches(
    db,
    wire,
    digests.refresh,
    (part, into) => sql`UPDATE ${users} AS u SET entry_digest = x.entry_digest
                  FROM ${batchRows(part, REFRESH_COLUMNS, into)}
                  WHERE u.id = x.id AND u.source = ${source} AND u.removed_at IS NULL`,
  );
  return applied.all;
}

/**
 * Inserts creates in batches, each event told as soon as its batch is in. `fail`: every row must go in (a unique
 * index that refuses one fails the statement, and the run). `skip`: a row a unique index refuses (its login held
 * by a live row, its external id by a row of the source) is left out; the creates left out are returned.
 */
async function insertCreates(
  db: Db,
  wire: Wire,
  users: ReturnType<typeof sql.id>,
  source: string,
  runId: RunId,
  creates: ReadonlyArray<UserCreate>,
  columns: ReadonlyArray<BatchColumn<UserCreate>>,
  applied: AppliedChanges,
  refusals: 'fail' | 'skip',
): Promise<UserCreate[]> {
  const refused: UserCreate[] = [];
  await runBatches(
    db,
    wire,
    creates,
    (part, into) => sql<{ id: number; external_id: string }>`
      INSERT INTO ${users} (source, external_id, dn, username, login, enabled, ${columnList(USER_COLUMNS)}, entry_digest)
      SELECT ${source}, x.external_id, x.dn, x.username, x.login, x.enabled, ${columnList(USER_COLUMNS, 'x.')}, x.entry_digest
      FROM ${batchRows(part, columns, into)}
      ${refusals === 'skip' ? sql`ON CONFLICT DO NOTHING` : sql``}
      RETURNING id, external_id`,
    (part, { rows }) => {
      const ids = new Map(rows.map((r) => [r.external_id, r.id]));
      for (const c of part) {
        const userId = ids.get(c.externalId);
        if (userId === undefined) {
          if (refusals === 'fail') throw new LdapsyncError('store.failed', `the insert of ${c.dn} returned no id`, { table: 'users', dn: c.dn });
          refused.push(c);
          continue;
        }
        // Two creates with one external id in a batch: the first went in, the other is refused.
        ids.delete(c.externalId);
        applied.push({
          event: 'user.created',
          source,
          runId,
          dn: c.dn,
          externalId: c.externalId,
          userId,
          username: c.username,
          login: c.login,
          enabled: c.enabled,
          fields: c.fields,
        });
      }
      applied.announce();
    },
  );
  return refused;
}

/**
 * Writes creates of one source as they come, inside the caller's transaction (a first sync that writes each page
 * of the directory as it reads it): each `write` inserts its creates, leaves out those a unique index refuses and
 * returns them, and queues one NOTIFY per row inserted (Postgres delivers them only if the transaction commits).
 */
export class CreateStream {
  readonly #db: Db;
  readonly #wire: Wire;
  readonly #schema: string;
  readonly #source: string;
  readonly #runId: RunId;
  readonly #onApplied: OnApplied | undefined;
  readonly #kept: AppliedChange[] | undefined;
  #created = 0;

  /** `keep`: also keep every event (`applied`), for hooks; otherwise each is let go of once told and notified. */
  constructor(db: Db, wire: Wire, schema: string, source: string, runId: RunId, onApplied: OnApplied | undefined, keep: boolean) {
    this.#db = db;
    this.#wire = wire;
    this.#schema = schema;
    this.#source = source;
    this.#runId = runId;
    this.#onApplied = onApplied;
    this.#kept = keep ? [] : undefined;
  }

  /** How many rows the writes inserted. */
  get created(): number {
    return this.#created;
  }

  /** Every event of the rows inserted, when kept; empty otherwise. */
  get applied(): ReadonlyArray<AppliedChange> {
    return this.#kept ?? [];
  }

  async write(creates: ReadonlyArray<UserCreate>, digests: ReadonlyMap<string, string>): Promise<UserCreate[]> {
    const digest: BatchColumn<UserCreate> = { column: 'entry_digest', type: 'text', value: (c) => digests.get(c.externalId) ?? null };
    const applied = new AppliedChanges(this.#onApplied);
    const refused = await insertCreates(this.#db, this.#wire, sql.id(this.#schema, 'users'), this.#source, this.#runId, creates, [...ROW, digest], applied, 'skip');
    await notifyAll(this.#db, this.#wire, this.#schema, applied.all);
    this.#created += applied.all.length;
    if (this.#kept !== undefined) for (const change of applied.all) this.#kept.push(change);
    return refused;
  }

  /** Other sources' live rows holding any of these logins (`Store.usersWithLogins`, inside the transaction). */
  loginHolders(logins: ReadonlyArray<string>): Promise<StoredUser[]> {
    return loginHolders(this.#db, this.#schema, logins, this.#source);
  }

  /** Whether any row of the source has one of these external ids (in a first sync: whether this run wrote it). */
  async holdsAny(externalIds: ReadonlyArray<string>): Promise<boolean> {
    if (externalIds.length === 0) return false;
    const { rows } = await sql<{ found: boolean }>`
      SELECT EXISTS (SELECT 1 FROM ${sql.id(this.#schema, 'users')}
                     WHERE source = ${this.#source} AND external_id = ANY(${arrayLiteral([...new Set(externalIds)], 'text')}::text[])) AS found`.execute(this.#db);
    return rows[0]?.found === true;
  }
}

/** Live rows of other sources holding any of these logins (compared case-insensitively): the possible conflicts. */
export async function loginHolders(db: Db, schema: string, logins: ReadonlyArray<string>, exceptSource: string): Promise<StoredUser[]> {
  if (logins.length === 0) return [];
  const wanted = [...new Set(logins.map((l) => l.toLowerCase()))];
  const { rows } = await sql<Record<string, unknown>>`
    SELECT ${userRowColumnList('u.')}
    FROM unnest(${arrayLiteral(wanted, 'text')}::text[]) AS w(login)
    JOIN ${sql.id(schema, 'users')} AS u ON lower(u.login) = w.login AND u.removed_at IS NULL
    WHERE u.source <> ${exceptSource}`.execute(db);
  return rows.map(toStoredUser);
}
