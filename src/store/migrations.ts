import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * The store's schema history. A migration, once released, is never edited: the next change is a new entry.
 * They are plain SQL so that Postgres and PGlite run exactly the same statements, and they take the schema
 * name so that one database can hold several independent stores (tests do; so can staging and production).
 */
function migrations(schema: string): Record<string, Migration> {
  const t = (table: string) => sql.id(schema, table);
  return {
    '0001_directory': {
      async up(db: Kysely<unknown>): Promise<void> {
        // `local` rows are the application's own accounts: they may have no external id or DN.
        await sql`
          CREATE TABLE ${t('users')} (
            id bigserial PRIMARY KEY,
            source text NOT NULL,
            external_id text,
            dn text,
            username text NOT NULL,
            login text NOT NULL,
            enabled boolean NOT NULL DEFAULT true,
            email text,
            recovery_email text,
            display_name text,
            first_name text,
            last_name text,
            initials text,
            job_title text,
            department text,
            notes text,
            address_type text,
            street text,
            zip_code text,
            city text,
            state text,
            country_code text,
            home_phone text,
            mobile text,
            work_fax text,
            work_phone text,
            organization text,
            home_dir text,
            disk_quota bigint,
            contact_custom_fields jsonb,
            user_custom_fields jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            removed_at timestamptz,
            CONSTRAINT users_source_external_id_key UNIQUE (source, external_id),
            CONSTRAINT users_synced_rows_have_identity CHECK (source = 'local' OR (external_id IS NOT NULL AND dn IS NOT NULL))
          )`.execute(db);
        // One live account per login, whatever its case and whichever source it came from.
        await sql`CREATE UNIQUE INDEX users_live_login_key ON ${t('users')} (lower(login)) WHERE removed_at IS NULL`.execute(db);
        // Only local accounts are looked up by bare username (at login); synced rows need not pay for the index.
        await sql`CREATE INDEX users_local_username_idx ON ${t('users')} (lower(username)) WHERE source = 'local'`.execute(db);
        await sql`
          CREATE TABLE ${t('groups')} (
            id bigserial PRIMARY KEY,
            source text NOT NULL,
            external_id text,
            dn text,
            name text NOT NULL,
            description text,
            custom_fields jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            removed_at timestamptz,
            CONSTRAINT groups_source_external_id_key UNIQUE (source, external_id),
            CONSTRAINT groups_synced_rows_have_identity CHECK (source = 'local' OR (external_id IS NOT NULL AND dn IS NOT NULL))
          )`.execute(db);
        await sql`
          CREATE TABLE ${t('group_members')} (
            group_id bigint NOT NULL REFERENCES ${t('groups')} (id) ON DELETE CASCADE,
            user_id bigint NOT NULL REFERENCES ${t('users')} (id) ON DELETE CASCADE,
            PRIMARY KEY (group_id, user_id)
          )`.execute(db);
        // Deleting a user cascades through this index instead of scanning every membership.
        await sql`CREATE INDEX group_members_user_id_idx ON ${t('group_members')} (user_id)`.execute(db);
      },
    },
    '0002_sync_runs': {
      async up(db: Kysely<unknown>): Promise<void> {
        await sql`
          CREATE TABLE ${t('sync_runs')} (
            id bigserial PRIMARY KEY,
            source text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('users', 'groups')),
            trigger text NOT NULL CHECK (trigger IN ('schedule', 'cli', 'reload', 'login')),
            dry_run boolean NOT NULL DEFAULT false,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'aborted')),
            created integer NOT NULL DEFAULT 0,
            updated integer NOT NULL DEFAULT 0,
            removed integer NOT NULL DEFAULT 0,
            unchanged integer NOT NULL DEFAULT 0,
            skipped integer NOT NULL DEFAULT 0,
            conflicts integer NOT NULL DEFAULT 0,
            error text,
            config_hash text
          )`.execute(db);
        await sql`CREATE INDEX sync_runs_source_id_idx ON ${t('sync_runs')} (source, id DESC)`.execute(db);
        await sql`CREATE INDEX sync_runs_running_idx ON ${t('sync_runs')} (source) WHERE status = 'running'`.execute(db);
      },
    },
    '0003_membership_integrity_per_statement': {
      // The foreign keys of group_members checked each new membership on its own: a lookup and a row lock per
      // user and per group of every row (6 of the 9 s that writing 300,000 memberships took). The same
      // guarantees, per statement: a membership names a user and a group that exist, and deleting or
      // truncating users or groups removes their memberships, whoever writes.
      //
      // A deleter's trigger writes group_members, so a writer holding SHARE ROW EXCLUSIVE on it (a sync applying
      // a group plan takes it first) keeps every delete of a user or group waiting until it commits: checking
      // existence is enough. Any other writer locks the rows it names (FOR KEY SHARE, as a foreign key does).
      async up(db: Kysely<unknown>): Promise<void> {
        await sql`
          ALTER TABLE ${t('group_members')}
            DROP CONSTRAINT group_members_group_id_fkey,
            DROP CONSTRAINT group_members_user_id_fkey`.execute(db);
        await sql`${checkRefsFunction(t, 'CREATE', 'first-row')}`.execute(db);
        for (const event of ['INSERT', 'UPDATE'] as const) {
          await sql`
            CREATE TRIGGER ${sql.id(`group_members_${event.toLowerCase()}_refs`)} AFTER ${sql.raw(event)} ON ${t('group_members')}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t('group_members_check_refs')}()`.execute(db);
        }
        for (const [table, column] of [['users', 'user_id'], ['groups', 'group_id']] as const) {
          await sql`
            CREATE FUNCTION ${t(`${table}_drop_memberships`)}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM ${t('group_members')};
              ELSE
                DELETE FROM ${t('group_members')} WHERE ${sql.id(column)} IN (SELECT id FROM old_rows);
              END IF;
              RETURN NULL;
            END
            $$`.execute(db);
          await sql`
            CREATE TRIGGER ${sql.id(`${table}_delete_memberships`)} AFTER DELETE ON ${t(table)}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t(`${table}_drop_memberships`)}()`.execute(db);
          await sql`
            CREATE TRIGGER ${sql.id(`${table}_truncate_memberships`)} AFTER TRUNCATE ON ${t(table)}
            FOR EACH STATEMENT EXECUTE FUNCTION ${t(`${table}_drop_memberships`)}()`.execute(db);
        }
      },
    },
    '0004_membership_checks_by_hash_join': {
      // The checks of 0003 asked for the first missing row (LIMIT 1), which the planner answers with an index
      // lookup per new membership however many there are: 0.9 s of a 300,000-membership first sync here. Asking
      // for the least missing id lets it join the new rows with the users and groups by hash when there are many
      // (0.2 s for the same rows), and still look them up one by one when there are few.
      async up(db: Kysely<unknown>): Promise<void> {
        await sql`${checkRefsFunction(t, 'CREATE OR REPLACE', 'least-missing')}`.execute(db);
      },
    },
    '0005_user_entry_digest': {
      // The digest of the directory entry a sync last wrote the row from (src/sync/entry-digest.ts): a resync
      // knows an entry with the same digest holds its row's record without mapping it or reading the row's
      // fields. Any update that does not set a new digest (an application's, a login's, a removal's) forgets
      // it, so that a row changed by anything but a sync of its entry is compared in full again.
      async up(db: Kysely<unknown>): Promise<void> {
        await addEntryDigest(db, t, 'users');
      },
    },
    '0006_group_entry_digest': {
      // The digest a group sync last wrote the group from (src/sync/entry-digest.ts, `groupKey`): its entry, and
      // the profile's users that its members resolved against. A resync knows a group with the same digest
      // holds its members already, without resolving them or reading them. Any other update of the group, and
      // any change to its memberships by anyone (a delete of a user included), forgets it.
      async up(db: Kysely<unknown>): Promise<void> {
        await addEntryDigest(db, t, 'groups');
        await sql`
          CREATE FUNCTION ${t('group_members_forget_digests')}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            -- No group has a digest (a first sync writing its memberships): nothing to forget, no rows to join.
            IF NOT EXISTS (SELECT 1 FROM ${t('groups')} WHERE entry_digest IS NOT NULL) THEN
              RETURN NULL;
            END IF;
            IF TG_OP = 'TRUNCATE' THEN
              UPDATE ${t('groups')} SET entry_digest = NULL WHERE entry_digest IS NOT NULL;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
              UPDATE ${t('groups')} SET entry_digest = NULL WHERE entry_digest IS NOT NULL AND id IN (SELECT group_id FROM new_rows);
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
              UPDATE ${t('groups')} SET entry_digest = NULL WHERE entry_digest IS NOT NULL AND id IN (SELECT group_id FROM old_rows);
            END IF;
            RETURN NULL;
          END
          $$`.execute(db);
        const referencing = { INSERT: sql`REFERENCING NEW TABLE AS new_rows`, UPDATE: sql`REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows`, DELETE: sql`REFERENCING OLD TABLE AS old_rows`, TRUNCATE: sql`` };
        for (const [event, tables] of Object.entries(referencing)) {
          await sql`
            CREATE TRIGGER ${sql.id(`group_members_${event.toLowerCase()}_forget_digests`)} AFTER ${sql.raw(event)} ON ${t('group_members')}
            ${tables} FOR EACH STATEMENT EXECUTE FUNCTION ${t('group_members_forget_digests')}()`.execute(db);
        }
      },
    },
  };
}

/**
 * The statement trigger function of group_members: for each side of a membership, lock what the new rows name
 * (unless the writer serialises with deletes by holding SHARE ROW EXCLUSIVE), then find a missing one. `find`
 * is how 0003 looked for it (the first) and how 0004 does (the least id, which may be planned as a hash join).
 */
function checkRefsFunction(t: (table: string) => RawBuilder<unknown>, create: 'CREATE' | 'CREATE OR REPLACE', find: 'first-row' | 'least-missing'): RawBuilder<unknown> {
  const sides = [
    { table: 'users', column: 'user_id', noun: 'user' },
    { table: 'groups', column: 'group_id', noun: 'group' },
  ] as const;
  const locks = sides.map(
    ({ table, column }) => sql`PERFORM 1 FROM ${t(table)} AS r JOIN (SELECT DISTINCT ${sql.id(column)} AS id FROM new_rows) AS n ON r.id = n.id FOR KEY SHARE OF r;`,
  );
  const checks = sides.map(({ table, column, noun }) => {
    const missing = sql`FROM new_rows AS n WHERE NOT EXISTS (SELECT 1 FROM ${t(table)} AS r WHERE r.id = n.${sql.id(column)})`;
    const select =
      find === 'first-row' ? sql`SELECT n.${sql.id(column)} INTO missing ${missing} LIMIT 1;` : sql`SELECT min(n.${sql.id(column)}) INTO missing ${missing};`;
    return sql`
            ${select}
            IF missing IS NOT NULL THEN
              RAISE foreign_key_violation USING
                MESSAGE = format('insert or update on table "group_members" names ${sql.raw(noun)} %s, which does not exist', missing),
                TABLE = 'group_members';
            END IF;`;
  });
  return sql`
          ${sql.raw(create)} FUNCTION ${t('group_members_check_refs')}() RETURNS trigger LANGUAGE plpgsql AS $$
          DECLARE
            missing bigint;
          BEGIN
            IF NOT EXISTS (
              SELECT 1 FROM pg_locks
              WHERE locktype = 'relation' AND relation = TG_RELID AND pid = pg_backend_pid() AND granted
                AND mode = 'ShareRowExclusiveLock' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            ) THEN
              ${sql.join(locks, sql.raw('\n'))}
            END IF;
            ${sql.join(checks, sql.raw('\n'))}
            RETURN NULL;
          END
          $$`;
}

/**
 * The `entry_digest` column of users (0005) or groups (0006), and the row trigger that clears it on any update
 * that does not set a new one. The statements are those 0005 ran for users, table name aside.
 */
async function addEntryDigest(db: Kysely<unknown>, t: (table: string) => RawBuilder<unknown>, table: 'users' | 'groups'): Promise<void> {
  const forget = `${table}_forget_entry_digest`;
  await sql`ALTER TABLE ${t(table)} ADD COLUMN entry_digest text`.execute(db);
  await sql`
          CREATE FUNCTION ${t(forget)}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.entry_digest IS NOT DISTINCT FROM OLD.entry_digest THEN
              NEW.entry_digest := NULL;
            END IF;
            RETURN NEW;
          END
          $$`.execute(db);
  await sql`
          CREATE TRIGGER ${sql.id(forget)} BEFORE UPDATE ON ${t(table)}
          FOR EACH ROW WHEN (OLD.entry_digest IS NOT NULL) EXECUTE FUNCTION ${t(forget)}()`.execute(db);
}

/** Names of all migrations, oldest first. */
export const MIGRATION_NAMES: ReadonlyArray<string> = Object.keys(migrations('x'));

export class InCodeMigrationProvider implements MigrationProvider {
  readonly #schema: string;

  constructor(schema: string) {
    this.#schema = schema;
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.#schema);
  }
}
