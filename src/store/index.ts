export { openStore, Store } from './store.js';
export type { DigestedGroupSummary, DigestedUserSummary } from './rows.js';
export type { GroupDigests } from './group-writes.js';
export type { CreateStream, EntryDigests } from './user-writes.js';
export type { BeginRun, MigrationReport, OpenStoreOptions, RunCounts, RunOutcome, RunRow, RunStatus, RunTrigger, SyncKind } from './store.js';
export { NOTIFY_CHANNEL } from './applied-change.js';
export { BATCH_ROWS } from './batch.js';
export type {
  AppliedChange,
  GroupCreated,
  GroupRemoved,
  GroupUpdated,
  MembershipAdded,
  MembershipRemoved,
  NotifyPayload,
  RunId,
  UserCreated,
  UserRemoved,
  UserUpdated,
} from './applied-change.js';
export { MIGRATION_NAMES } from './migrations.js';
export { redactStoreUrl } from './backend.js';
export type { Database, GroupMembersTable, GroupsTable, SyncRunsTable, UsersTable } from './database.js';
