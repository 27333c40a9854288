import { Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { StoreConfig } from '../config/index.js';
import type { GroupPlan, MemberCandidate, PlanCounts, RowId, StoredGroup, StoredUser, UserPlan } from '../reconcile/index.js';
import { LdapsyncError, type Logger } from '../shared/index.js';
import type { AppliedChange, OnApplied, RunId } from './applied-change.js';
import { openBackend, type Backend } from './backend.js';
import { arrayLiteral } from './array-literal.js';
import { notifyAll, type Db, type Wire } from './batch.js';
import type { Database } from './database.js';
import { writeGroupPlan, type GroupDigests } from './group-writes.js';
import { InCodeMigrationProvider } from './migrations.js';
import type { ProfileLocks } from './profile-locks.js';
import {
  columnList,
  GROUP_COLUMNS,
  toDigestedGroupSummary,
  toDigestedUserSummary,
  toStoredGroup,
  toStoredUser,
  USER_IDENTITY,
  USER_ROW_COLUMNS,
  userRowColumnList,
  type DigestedGroupSummary,
  type DigestedUserSummary,
} from './rows.js';
import { CreateStream, loginHolders, writeUserPlan, type EntryDigests } from './user-writes.js';

/** Rows of the source `local` belong to the application: no plan writes them. */
function refuseLocal(source: string, table: string): void {
  if (source === 'local') {
    throw new LdapsyncError('store.local-source', "rows of the source 'local' belong to the application and are never written", { table, profile: source });
  }
}

export type SyncKind = 'users' | 'groups';
export type RunTrigger = 'schedule' | 'cli' | 'reload' | 'login';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'aborted';

export interface MigrationReport {
  /** Migrations applied by this call, oldest first (empty when the schema was current). */
  readonly applied: ReadonlyArray<string>;
  /** The newest migration the schema now has. */
  readonly current: string | undefined;
}

export interface BeginRun {
  readonly source: string;
  readonly kind: SyncKind;
  readonly trigger: RunTrigger;
  /** A dry run writes nothing, not even a run row. */
  readonly dryRun: false;
  /** Config.hash of the file the run started under. */
  readonly configHash: string;
}

/** What a sync_runs row counts: a plan's counts but `missing`, which is reported, not recorded. */
export type RunCounts = Omit<PlanCounts, 'missing'>;

export interface RunOutcome {
  readonly status: 'failed' | 'aborted';
  readonly error: string;
  readonly counts?: RunCounts;
}

export interface RunRow {
  readonly id: RunId;
  readonly source: string;
  readonly kind: SyncKind;
  readonly trigger: RunTrigger;
  readonly dryRun: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly status: RunStatus;
  readonly counts: RunCounts;
  readonly error: string | null;
  readonly configHash: string | null;
}

export interface OpenStoreOptions {
  readonly logger: Logger;
}

/** Opens the store named by `config.url` and brings its schema up to date. */
export async function openStore(config: StoreConfig, options: OpenStoreOptions): Promise<Store> {
  const backend = await openBackend(config.url, config.schema);
  const store = new Store(backend, config.schema, options.logger);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/** Rows per statement of a large read on PGlite (see `Store.#userRows`). */
const READ_CHUNK_ROWS = 10_000;

type Row = Readonly<Record<string, unknown>>;

/**
 * ldapsync's tables in one Postgres schema, on a server or embedded (PGlite). Reads return plain values; each
 * plan is written in one transaction that also closes its run row, so a run either happened entirely, with its
 * row saying so, or not at all. Rows of `local` and of other profiles are never written.
 */
export class Store implements AsyncDisposable {
  readonly kind: 'postgres' | 'pglite';
  readonly schema: string;
  /** The store URL without a password. */
  readonly label: string;
  readonly #db: Kysely<Database>;
  readonly #locks: ProfileLocks;
  readonly #logger: Logger;
  /** How write batches travel (see `Wire`). */
  readonly #wire: Wire;
  #closing: Promise<void> | undefined;

  constructor(backend: Backend, schema: string, logger: Logger) {
    this.kind = backend.kind;
    this.schema = schema;
    this.label = backend.label;
    this.#db = new Kysely<Database>({ dialect: backend.dialect });
    this.#locks = backend.locks;
    this.#logger = logger;
    this.#wire = backend.kind === 'postgres' ? 'bytea' : 'text';
  }

  get #tables(): Db {
    return this.#db.withSchema(this.schema);
  }

  /**
   * The tables as a kysely query builder (in this store's schema), for the reads and the local-row writes of
   * an application or a test that the methods here do not cover. Sync writes go through the apply methods.
   */
  get kysely(): Kysely<Database> {
    return this.#tables;
  }

  #table(name: keyof Database) {
    return sql.id(this.schema, name);
  }

  /** Turns anything a query threw into one LdapsyncError naming the table and the store. */
  #fail(err: unknown, action: string, table: string): LdapsyncError {
    if (err instanceof LdapsyncError) return err;
    const message = describeError(err);
    const code = isConnectionError(err) ? 'store.unreachable' : 'store.failed';
    const prefix = code === 'store.unreachable' ? `cannot reach the store at ${this.label}` : `${action} failed`;
    return new LdapsyncError(code, `${prefix}: ${message}`, { table, url: this.label }, { cause: err });
  }

  async #run<T>(action: string, table: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#fail(err, action, table);
    }
  }

  /** Applies the migrations this schema lacks (safe to run concurrently: kysely takes a lock). */
  async migrate(): Promise<MigrationReport> {
    const migrator = new Migrator({
      db: this.#db,
      provider: new InCodeMigrationProvider(this.schema),
      migrationTableSchema: this.schema,
    });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error !== undefined) {
      const failure = this.#fail(error, failed === undefined ? 'preparing migrations' : `migration ${failed.migrationName}`, failed?.migrationName ?? 'kysely_migration');
      throw failure.code === 'store.unreachable' ? failure : new LdapsyncError('store.migration', failure.message, failure.where, { cause: error });
    }
    const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (applied.length > 0) this.#logger.info({ event: 'store.migrated', schema: this.schema, applied }, `store schema ${this.schema}: applied ${applied.join(', ')}`);
    const known = await migrator.getMigrations();
    const done = known.filter((m) => m.executedAt !== undefined).map((m) => m.name);
    return { applied, current: done[done.length - 1] };
  }

  /**
   * Every user row of one source (removed ones included), with these columns, each made into a T as it comes.
   * `removed_at` comes as a Date, as a query returns it.
   *
   * On PGlite the rows come as JSON, an array of arrays for every READ_CHUNK_ROWS rows (in one snapshot). Its wire
   * parser copies each field into an ArrayBuffer of its own: here 100,000 whole rows took 3.1-3.8 s to read as rows
   * and 1.6-1.7 s as JSON, their summaries 1.4-1.6 s and 0.8-0.9 s. One array of them all was quicker still, but grew
   * the WebAssembly memory, which never shrinks, by 120 MB. On Postgres rows are quicker (0.3 s, against 0.55 s).
   */
  async #userRows<T>(source: string, columns: ReadonlyArray<string>, convert: (row: Row) => T): Promise<T[]> {
    const selected = sql.join(columns.map((c) => sql.ref(c)));
    const from = this.#table('users');
    if (this.kind === 'postgres') {
      const { rows } = await sql<Row>`SELECT ${selected} FROM ${from} WHERE source = ${source}`.execute(this.#db);
      return rows.map(convert);
    }
    const dates = columns.flatMap((name, i) => (name === 'removed_at' ? [i] : []));
    return this.#db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (tx) => {
        // The first id of every READ_CHUNK_ROWS rows: the chunks hold as many rows however sparse the ids are.
        const { rows: starts } = await sql<{ id: number }>`
          SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM ${from} WHERE source = ${source}) AS q
          WHERE n % ${READ_CHUNK_ROWS} = 1 ORDER BY id`.execute(tx);
        const out: T[] = [];
        for (let i = 0; i < starts.length; i++) {
          const next = starts[i + 1]?.id;
          const { rows } = await sql<{ rows: string | null }>`
            SELECT json_agg(json_build_array(${selected}))::text AS rows FROM ${from}
            WHERE source = ${source} AND id >= ${starts[i]?.id} ${next === undefined ? sql`` : sql`AND id < ${next}`}`.execute(tx);
          for (const array of JSON.parse(rows[0]?.rows ?? '[]') as unknown[][]) {
            for (const d of dates) if (array[d] !== null) array[d] = new Date(array[d] as string);
            const row: Record<string, unknown> = {};
            columns.forEach((name, n) => {
              row[name] = array[n];
            });
            out.push(convert(row));
          }
        }
        return out;
      });
  }

  /** Every row of one source, removed ones included. */
  async usersOf(source: string): Promise<StoredUser[]> {
    return this.#run('reading users', 'users', () => this.#userRows(source, USER_ROW_COLUMNS, toStoredUser));
  }

  /** Every row of one source, removed ones included, as a sync first reads them: identity and entry digest, no fields. */
  async userSummariesOf(source: string): Promise<DigestedUserSummary[]> {
    return this.#run('reading users', 'users', () => this.#userRows(source, [...USER_IDENTITY, 'entry_digest'], toDigestedUserSummary));
  }

  /**
   * What a user resync reads first: how many rows the source has (removed ones too), and the id of each live row
   * by the entry digest it holds. An unchanged directory needs nothing more (see planUserSync).
   */
  async userDigestsOf(source: string): Promise<{ readonly rows: number; readonly byDigest: ReadonlyMap<string, RowId> }> {
    return this.#run('reading users', 'users', async () => {
      const { rows } = await sql<{ id: number | string; digest: string | null }>`
        SELECT id, CASE WHEN removed_at IS NULL THEN entry_digest END AS digest
        FROM ${this.#table('users')} WHERE source = ${source}`.execute(this.#db);
      const byDigest = new Map<string, RowId>();
      for (const row of rows) if (row.digest !== null) byDigest.set(row.digest, Number(row.id));
      return { rows: rows.length, byDigest };
    });
  }

  /**
   * What a group sync resolves members against: id, DN and username of every row of one source. A fraction of the
   * full rows `usersOf` reads, which matters at 100,000 users.
   */
  async memberCandidatesOf(source: string): Promise<MemberCandidate[]> {
    return this.#run('reading member candidates', 'users', () =>
      this.#userRows(source, ['id', 'dn', 'username', 'removed_at'], (r) => ({
        id: Number(r['id']),
        dn: (r['dn'] as string | null) ?? '',
        username: r['username'] as string,
        removedAt: (r['removed_at'] as Date | null) ?? null,
      })),
    );
  }

  /** The rows of one source with these external ids, removed ones included: one user's row without reading them all. */
  async usersByExternalIds(source: string, externalIds: ReadonlyArray<string>): Promise<StoredUser[]> {
    if (externalIds.length === 0) return [];
    return this.#run('reading users by external id', 'users', async () => {
      const { rows } = await sql<Record<string, unknown>>`
        SELECT ${userRowColumnList()}
        FROM ${this.#table('users')}
        WHERE source = ${source} AND external_id = ANY(${arrayLiteral([...new Set(externalIds)], 'text')}::text[])`.execute(this.#db);
      return rows.map(toStoredUser);
    });
  }

  /** Live rows of other sources holding any of these logins (compared case-insensitively): the possible conflicts. */
  async usersWithLogins(logins: ReadonlyArray<string>, exceptSource: string): Promise<StoredUser[]> {
    return this.#run('reading users by login', 'users', () => loginHolders(this.#db, this.schema, logins, exceptSource));
  }

  /** Every group row of one source, removed ones included, as a group sync first reads them: no fields, no members. */
  async groupSummariesOf(source: string): Promise<DigestedGroupSummary[]> {
    return this.#run('reading groups', 'groups', async () => {
      const { rows } = await sql<Record<string, unknown>>`
        SELECT id, source, external_id, dn, name, removed_at, entry_digest FROM ${this.#table('groups')} WHERE source = ${source}`.execute(this.#db);
      return rows.map(toDigestedGroupSummary);
    });
  }

  /**
   * What a group's members were resolved against, as one text: the id, DN and username of each live user of
   * one source. A change to any of them (a user created, renamed, moved, removed) changes it.
   */
  async memberFingerprintOf(source: string): Promise<string> {
    return this.#run('reading users', 'users', async () => {
      const { rows } = await sql<{ fingerprint: string | null }>`
        SELECT md5(string_agg(id::text || ' ' || coalesce(dn, '') || ' ' || username, E'\n' ORDER BY id)) AS fingerprint
        FROM ${this.#table('users')} WHERE source = ${source} AND removed_at IS NULL`.execute(this.#db);
      return rows[0]?.fingerprint ?? 'none';
    });
  }

  /**
   * Every group row of one source, removed ones included, with its members' user ids; `except` leaves rows out by id.
   * Only the members of the rows read are gathered, each group's from the primary key: aggregating the whole
   * table took 85-128 ms here to read half of 1,000 groups with 300,000 memberships, this 33-36 ms.
   */
  async groupsOf(source: string, except: ReadonlyArray<RowId> = []): Promise<StoredGroup[]> {
    return this.#run('reading groups', 'groups', async () => {
      const { rows } = await sql<Record<string, unknown>>`
        SELECT g.id, g.source, g.external_id, g.dn, g.name, g.removed_at, ${columnList(GROUP_COLUMNS, 'g.')},
               coalesce(m.ids, '[]'::json) AS member_ids
        FROM ${this.#table('groups')} AS g
        LEFT JOIN LATERAL (SELECT json_agg(user_id ORDER BY user_id) AS ids FROM ${this.#table('group_members')} WHERE group_id = g.id) AS m
          ON true
        WHERE g.source = ${source} AND g.id <> ALL(${arrayLiteral(except, 'bigint')}::bigint[])`.execute(this.#db);
      return rows.map(toStoredGroup);
    });
  }

  /** For authentication: a `local` user by username or login (case-insensitively), a live one first. */
  async findLocalUser(name: string): Promise<StoredUser | undefined> {
    return this.#run('reading local users', 'users', async () => {
      const key = name.toLowerCase();
      const { rows } = await sql<Record<string, unknown>>`
        SELECT ${userRowColumnList()}
        FROM ${this.#table('users')}
        WHERE source = 'local' AND (lower(username) = ${key} OR lower(login) = ${key})
        ORDER BY removed_at IS NULL DESC, lower(username) = ${key} DESC, id
        LIMIT 1`.execute(this.#db);
      const row = rows[0];
      return row === undefined ? undefined : toStoredUser(row);
    });
  }

  /**
   * Records a run as `running` (committed at once, so `status` shows it). Call it while holding the profile's
   * lock: `failStaleRuns` treats a running row whose profile lock is free as left by a dead process.
   */
  async beginRun(run: BeginRun): Promise<RunId> {
    return this.#run('recording the run', 'sync_runs', async () => {
      const row = await this.#tables
        .insertInto('sync_runs')
        .values({
          source: run.source,
          kind: run.kind,
          trigger: run.trigger,
          dry_run: run.dryRun,
          status: 'running',
          created: 0,
          updated: 0,
          removed: 0,
          unchanged: 0,
          skipped: 0,
          conflicts: 0,
          error: null,
          config_hash: run.configHash,
        })
        .returning(sql<string>`id::text`.as('id'))
        .executeTakeFirstOrThrow();
      return row.id;
    });
  }

  /**
   * Writes a user plan and closes its run as succeeded, in one transaction. Refuses a plan the guard stopped.
   * `onApplied` hears of the changes as the writes make them, before the commit (see `OnApplied`). `digests`
   * are written with the rows (see `EntryDigests`).
   */
  async applyUserPlan(runId: RunId, plan: UserPlan, onApplied?: OnApplied, digests?: EntryDigests): Promise<AppliedChange[]> {
    const rewrites = plan.changes.some((c) => c.kind === 'update' || c.kind === 'remove') || (digests?.refresh.length ?? 0) > 0;
    return this.#apply(runId, plan, (db) => writeUserPlan(db, this.#wire, this.schema, runId, plan, onApplied, digests), rewrites ? ['users'] : []);
  }

  /** Writes a group plan (groups and memberships) and closes its run as succeeded, in one transaction. */
  async applyGroupPlan(runId: RunId, plan: GroupPlan, onApplied?: OnApplied, digests?: GroupDigests): Promise<AppliedChange[]> {
    const rewrites = plan.changes.some((c) => c.kind !== 'create') || plan.memberships.some((m) => m.remove.length > 0) || (digests?.size ?? 0) > 0;
    return this.#apply(runId, plan, (db) => writeGroupPlan(db, this.#wire, this.schema, runId, plan, onApplied, digests), rewrites ? ['groups', 'group_members'] : []);
  }

  /**
   * Whether a transaction may stay open while other work goes on: on Postgres each has a connection of its own.
   * PGlite has one, and while a transaction holds it every other query of the process (a login, `status`) waits.
   */
  get longTransactions(): boolean {
    return this.kind === 'postgres';
  }

  /**
   * A first sync of a source's users, written as it is read (only where `longTransactions`): `body` gets a CreateStream on one transaction, writes
   * the creates page by page, and returns the run's plan, or undefined to give the run up. The transaction commits
   * with the run row closed as succeeded when a plan comes back; it rolls back, leaving the store as it was, when
   * undefined does (`'rolled back'`) or `body` throws.
   */
  async streamUserCreates(
    runId: RunId,
    source: string,
    events: { readonly onApplied?: OnApplied; readonly keep: boolean },
    body: (stream: CreateStream) => Promise<UserPlan | undefined>,
  ): Promise<{ readonly plan: UserPlan; readonly applied: ReadonlyArray<AppliedChange> } | 'rolled back'> {
    refuseLocal(source, 'users');
    const givenUp = Symbol('rolled back');
    return this.#run(`writing the users of ${source}`, 'users', async () => {
      try {
        return await this.#db.transaction().execute(async (tx) => {
          const db = tx.withSchema(this.schema);
          // Between batches the transaction waits for the directory: a server that ends idle transactions must not end this one.
          await sql`SET LOCAL idle_in_transaction_session_timeout = 0`.execute(db);
          const stream = new CreateStream(db, this.#wire, this.schema, source, runId, events.onApplied, events.keep);
          const plan = await body(stream);
          if (plan === undefined) throw givenUp;
          if (plan.guard.tripped || plan.counts.created !== stream.created) {
            throw new LdapsyncError('store.stale-plan', `the plan of ${source} does not match the ${stream.created} rows its run wrote; nothing was written`, { table: 'users', profile: source });
          }
          await this.#closeRun(db, runId, source, { status: 'succeeded', error: null, counts: runCounts(plan.counts) });
          return { plan, applied: stream.applied };
        });
      } catch (err) {
        if (err === givenUp) return 'rolled back' as const;
        throw err;
      }
    });
  }

  /** `rewritten`: the tables the plan updates or deletes rows of (see `#vacuum`). */
  async #apply(runId: RunId, plan: UserPlan | GroupPlan, write: (db: Db) => Promise<AppliedChange[]>, rewritten: ReadonlyArray<keyof Database>): Promise<AppliedChange[]> {
    const table = plan.kind;
    if (plan.guard.tripped) {
      throw new LdapsyncError('store.guard-tripped', `refusing to write a plan the delete guard stopped: ${plan.guard.reason ?? ''}`, { table, profile: plan.profile });
    }
    refuseLocal(plan.profile, table);
    const applied = await this.#run(`writing the ${plan.kind} plan of ${plan.profile}`, table, () =>
      this.#db.transaction().execute(async (tx) => {
        const db = tx.withSchema(this.schema);
        const applied = await write(db);
        await this.#closeRun(db, runId, plan.profile, { status: 'succeeded', error: null, counts: runCounts(plan.counts) });
        await notifyAll(db, this.#wire, this.schema, applied);
        return applied;
      }),
    );
    if (rewritten.length > 0) await this.#vacuum([...rewritten, 'sync_runs']);
    return applied;
  }

  /**
   * PGlite runs no autovacuum. Without VACUUM the space of the rows an update or delete left behind is never used
   * again (only VACUUM tells the free space map of it), and each run that rewrites rows grows its tables: four
   * resyncs after mapping changes took the heap of 100,000 users from 37 MB to 185 MB here. So after a committed
   * run that rewrote rows, the tables it wrote are vacuumed, as autovacuum would on Postgres. A failure is only
   * logged: the run stays committed.
   */
  async #vacuum(tables: ReadonlyArray<keyof Database>): Promise<void> {
    if (this.kind !== 'pglite') return;
    const started = performance.now();
    try {
      for (const table of tables) await sql`VACUUM ${this.#table(table)}`.execute(this.#db);
      this.#logger.debug({ event: 'store.vacuumed', tables, durationMs: Math.round(performance.now() - started) }, `vacuumed ${tables.join(', ')}`);
    } catch (err) {
      this.#logger.warn({ event: 'store.vacuum_failed', tables, err: describeError(err) }, `VACUUM of ${tables.join(', ')} failed; the run is committed`);
    }
  }

  async #closeRun(
    db: Db,
    runId: RunId,
    source: string | undefined,
    outcome: { status: Exclude<RunStatus, 'running'>; error: string | null; counts: RunCounts | undefined },
  ): Promise<void> {
    let query = db
      .updateTable('sync_runs')
      .set({ status: outcome.status, error: outcome.error, finished_at: sql<Date>`now()`, ...(outcome.counts ?? {}) })
      .where('id', '=', runId)
      .where('status', '=', 'running');
    if (source !== undefined) query = query.where('source', '=', source);
    const result = await query.executeTakeFirst();
    if (result.numUpdatedRows !== 1n) {
      throw new LdapsyncError('store.run-not-running', `run ${runId} is not a running run${source === undefined ? '' : ` of ${source}`}; it may have been marked failed as stale`, {
        table: 'sync_runs',
      });
    }
  }

  /** Closes a run that did not apply its plan (a failure, or a safety limit). */
  async finishRun(runId: RunId, outcome: RunOutcome): Promise<void> {
    await this.#run('closing the run', 'sync_runs', () =>
      this.#closeRun(this.#tables, runId, undefined, { status: outcome.status, error: outcome.error, counts: outcome.counts }),
    );
  }

  /**
   * Marks `running` rows left by a process that died as failed, and returns how many. A row is stale when
   * nobody holds its profile's lock: a run in progress in another replica holds it and is left alone.
   */
  async failStaleRuns(): Promise<number> {
    return this.#run('failing stale runs', 'sync_runs', async () => {
      const running = await this.#tables.selectFrom('sync_runs').select('source').distinct().where('status', '=', 'running').execute();
      let failed = 0;
      for (const { source } of running) {
        if (!(await this.#locks.isFree(source))) continue;
        const result = await this.#tables
          .updateTable('sync_runs')
          .set({ status: 'failed', finished_at: sql<Date>`now()`, error: 'the process running this sync stopped before it finished; nothing it planned was written' })
          .where('status', '=', 'running')
          .where('source', '=', source)
          .executeTakeFirst();
        failed += Number(result.numUpdatedRows);
      }
      if (failed > 0) this.#logger.warn({ event: 'store.stale_runs_failed', count: failed }, `marked ${failed} interrupted run(s) as failed`);
      return failed;
    });
  }

  /** The newest runs first, of one source or of all. */
  async lastRuns(source?: string, limit = 10): Promise<RunRow[]> {
    return this.#run('reading runs', 'sync_runs', async () => {
      let query = this.#tables
        .selectFrom('sync_runs')
        .select(['source', 'kind', 'trigger', 'dry_run', 'started_at', 'finished_at', 'status', 'created', 'updated', 'removed', 'unchanged', 'skipped', 'conflicts', 'error', 'config_hash'])
        .select(sql<string>`id::text`.as('id'))
        .orderBy(sql`sync_runs.id`, 'desc')
        .limit(limit);
      if (source !== undefined) query = query.where('source', '=', source);
      const rows = await query.execute();
      return rows.map((r) => ({
        id: r.id,
        source: r.source,
        kind: r.kind,
        trigger: r.trigger,
        dryRun: r.dry_run,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        status: r.status,
        counts: { created: r.created, updated: r.updated, removed: r.removed, unchanged: r.unchanged, skipped: r.skipped, conflicts: r.conflicts },
        error: r.error,
        configHash: r.config_hash,
      }));
    });
  }

  /**
   * Runs `fn` holding the profile's lock, so two syncs of one profile (in this process or in any replica on the
   * same database) never interleave. With `wait: false` a held lock gives 'busy' at once.
   */
  async withProfileLock<T>(source: string, fn: () => Promise<T>, options: { readonly wait: boolean }): Promise<T | 'busy'> {
    const release = await this.#run('taking the profile lock', 'sync_runs', () => this.#locks.acquire(source, options.wait));
    if (release === undefined) return 'busy';
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** Closes the connections (or the embedded database). Safe to call twice; never throws. */
  close(): Promise<void> {
    this.#closing ??= this.#db.destroy().catch((err: unknown) => {
      this.#logger.warn({ event: 'store.close_failed', err: describeError(err) }, `closing the store ${this.label} failed`);
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function runCounts(counts: PlanCounts): RunCounts {
  return {
    created: counts.created,
    updated: counts.updated,
    removed: counts.removed,
    unchanged: counts.unchanged,
    skipped: counts.skipped,
    conflicts: counts.conflicts,
  };
}

/** A message for anything thrown, including Node's AggregateError (one per address tried) with no message. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') return err.errors.map(describeError).join('; ');
  if (err instanceof Error) return err.message !== '' ? err.message : ((err as { code?: string }).code ?? err.name);
  return String(err);
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '3D000', '28P01', '28000']);

/** Whether the failure is about reaching the server (or logging in to it), not about a statement. */
function isConnectionError(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return err instanceof Error && /Connection terminated|connection.*closed/i.test(err.message);
}
