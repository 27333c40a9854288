import type { ColumnType, Generated } from 'kysely';

/** A jsonb column: objects go in as they are and come back parsed. */
type Json = ColumnType<Readonly<Record<string, unknown>> | null, string | null, string | null>;
type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, never, Date>;

/** The tables as kysely sees them (DESIGN §4); the migrations in migrations.ts are their source of truth. */
export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  sync_runs: SyncRunsTable;
}

export interface UsersTable {
  id: Generated<number>;
  source: string;
  external_id: string | null;
  dn: string | null;
  username: string;
  login: string;
  enabled: Generated<boolean>;
  email: string | null;
  recovery_email: string | null;
  display_name: string | null;
  first_name: string | null;
  last_name: string | null;
  initials: string | null;
  job_title: string | null;
  department: string | null;
  notes: string | null;
  address_type: string | null;
  street: string | null;
  zip_code: string | null;
  city: string | null;
  state: string | null;
  country_code: string | null;
  home_phone: string | null;
  mobile: string | null;
  work_fax: string | null;
  work_phone: string | null;
  organization: string | null;
  home_dir: string | null;
  disk_quota: number | null;
  contact_custom_fields: Json;
  user_custom_fields: Json;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  removed_at: Date | null;
  /** What the sync last wrote the row from (migration 0005); applications leave it alone. */
  entry_digest: string | null;
}

export interface GroupsTable {
  id: Generated<number>;
  source: string;
  external_id: string | null;
  dn: string | null;
  name: string;
  description: string | null;
  custom_fields: Json;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  removed_at: Date | null;
  /** What the sync last wrote the group and its members from (migration 0006); applications leave it alone. */
  entry_digest: string | null;
}

export interface GroupMembersTable {
  group_id: number;
  user_id: number;
}

export interface SyncRunsTable {
  id: Generated<string>;
  source: string;
  kind: 'users' | 'groups';
  trigger: 'schedule' | 'cli' | 'reload' | 'login';
  dry_run: boolean;
  started_at: ColumnType<Date, never, never>;
  finished_at: Date | null;
  status: 'running' | 'succeeded' | 'failed' | 'aborted';
  created: number;
  updated: number;
  removed: number;
  unchanged: number;
  skipped: number;
  conflicts: number;
  error: string | null;
  config_hash: string | null;
}
