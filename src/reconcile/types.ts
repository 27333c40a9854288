import type { MappedRecord } from '../dsl/index.js';

/** A mapped record: camelCase target field -> value, as the mapping produced it. */
export type { MappedRecord };

/** A stored row's id (bigserial, read as a number). */
export type RowId = number;

/** One field's value before and after a change. `old` is null for a field that had no value. */
export interface FieldChange {
  readonly old: unknown;
  readonly new: unknown;
}

/** Changed fields by name: the mapped fields (camelCase) plus `dn`, `username`, `login`, `name`, `enabled`, `removedAt`. */
export type FieldChanges = Readonly<Record<string, FieldChange>>;

/** Why an entry of the directory was left out of the plan. Its stored row, if any, is kept untouched. */
export interface Skip {
  readonly dn: string;
  /** Known unless the entry had no id attribute. */
  readonly externalId?: string | undefined;
  readonly reason: string;
  readonly kind: 'mapping-error' | 'no-username' | 'no-id' | 'duplicate-id';
}

/** What the guard found; when `tripped`, nothing of the plan may be written. */
export interface DeleteGuard {
  readonly tripped: boolean;
  /** Why it tripped, for people; undefined when it did not. */
  readonly reason: string | undefined;
  /** Live rows the plan would remove (disable or delete). Purges of rows already removed are not counted. */
  readonly removals: number;
  /** The profile's live (not removed) rows before the run. */
  readonly live: number;
  /** removals / live * 100 (0 when there are no live rows). */
  readonly percentage: number;
  readonly maxPercentage: number;
  readonly maxCount: number | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Users

export interface DesiredUser {
  readonly externalId: string;
  readonly dn: string;
  readonly username: string;
  /** `username@primary-domain`, or the bare username when the profile has no domain. */
  readonly login: string;
  readonly fields: MappedRecord;
}

/**
 * An entry whose stored row is known to hold its record already (`holdsRecord`), by its identity alone: the
 * planner neither compares nor writes its fields, so an unchanged directory is held at a fraction of its size.
 */
export type MatchedUser = Omit<DesiredUser, 'fields'> & { readonly fields?: undefined };

export interface StoredUser {
  readonly id: RowId;
  readonly source: string;
  readonly externalId: string;
  readonly dn: string;
  readonly username: string;
  readonly login: string;
  readonly enabled: boolean;
  readonly removedAt: Date | null;
  /** The mapped columns under their camelCase field names; `enabled` above is authoritative over any copy here. */
  readonly fields: MappedRecord;
}

/** A stored row without its mapped fields, for a row already known to hold its entry's record (or with no entry). */
export type StoredUserSummary = Omit<StoredUser, 'fields'> & { readonly fields?: undefined };

/** The stored row a conflicting entry's login belongs to. */
export interface LoginHolder {
  readonly source: string;
  /** Undefined when the holder is another entry of this run that has no row yet. */
  readonly id: RowId | undefined;
  readonly externalId: string;
  readonly dn: string;
}

export interface UserCreate {
  readonly kind: 'create';
  readonly externalId: string;
  readonly dn: string;
  readonly username: string;
  readonly login: string;
  readonly enabled: boolean;
  readonly fields: MappedRecord;
}

export interface UserUpdate {
  readonly kind: 'update';
  readonly id: RowId;
  readonly externalId: string;
  readonly dn: string;
  readonly username: string;
  readonly login: string;
  readonly enabled: boolean;
  /** The whole desired record; the store writes it as is. */
  readonly fields: MappedRecord;
  readonly changes: FieldChanges;
  /** The row had been removed and its entry is back: `removedAt` is cleared. */
  readonly revive: boolean;
}

export interface UserRemove {
  readonly kind: 'remove';
  readonly id: RowId;
  readonly externalId: string;
  readonly dn: string;
  readonly username: string;
  readonly login: string;
  /** `disable` sets enabled false and removedAt; `delete` deletes the row (and its memberships). */
  readonly mode: 'disable' | 'delete';
  /** `missing`: the entry is gone from the directory; `purge`: a row disabled longer than `purgeAfter`. */
  readonly reason: 'missing' | 'purge';
  /** Whether the row was live; only live rows count against the delete guard. */
  readonly live: boolean;
}

export type ConflictCause =
  /** A `local` row or another profile's live row holds the login. */
  | 'held-by-other-source'
  /** A live row of this profile whose entry is missing (deletes off) or was skipped holds the login. */
  | 'held-by-kept-row'
  /** Several entries of this run want the login and none of them holds it already. */
  | 'claimed-by-several-entries';

/** The entry's login is taken: nothing is written for it and its own stored row, if any, is kept untouched. */
export interface UserConflict {
  readonly kind: 'conflict';
  readonly externalId: string;
  readonly dn: string;
  readonly username: string;
  readonly login: string;
  /** The entry's own stored row, if it has one. */
  readonly id: RowId | undefined;
  readonly cause: ConflictCause;
  readonly holder: LoginHolder;
  readonly reason: string;
}

export type UserChange = UserCreate | UserUpdate | UserRemove | UserConflict;

/** A live row of the profile whose entry is gone, reported only (deletes are off). */
export interface MissingRow {
  readonly id: RowId;
  readonly externalId: string;
  readonly dn: string;
  /** The username of a user, the name of a group. */
  readonly name: string;
}

export interface PlanCounts {
  readonly created: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly conflicts: number;
  readonly missing: number;
}

export interface UserPlan {
  readonly kind: 'users';
  readonly profile: string;
  /** Creates and updates in directory order, then conflicts, then removals. */
  readonly changes: ReadonlyArray<UserChange>;
  /**
   * Set when `changes` holds only the first creates, as examples, and `counts.created` counts them all: a first
   * sync written page by page as it was read keeps no more (`streamedFirstPlan`).
   */
  readonly createsAbridged?: true;
  readonly skipped: ReadonlyArray<Skip>;
  readonly unchanged: number;
  readonly missing: ReadonlyArray<MissingRow>;
  readonly guard: DeleteGuard;
  readonly counts: PlanCounts;
}

// ---------------------------------------------------------------------------------------------------------------
// Groups

export interface DesiredGroup {
  readonly externalId: string;
  readonly dn: string;
  readonly name: string;
  readonly fields: MappedRecord;
  /** `member` / `uniqueMember` values (DNs of users or, nested, of groups). */
  readonly memberDns: ReadonlyArray<string>;
  /** `memberUid` values (usernames). */
  readonly memberUids: ReadonlyArray<string>;
}

export interface StoredGroup {
  readonly id: RowId;
  readonly source: string;
  readonly externalId: string;
  readonly dn: string;
  readonly name: string;
  readonly removedAt: Date | null;
  readonly fields: MappedRecord;
  readonly memberIds: ReadonlyArray<RowId>;
}

/**
 * A group entry known to hold its row and its members already (the row keeps the digest of this entry and of
 * the users its members resolved against), by its identity alone: neither its members nor its fields are read.
 */
export type MatchedGroup = Pick<DesiredGroup, 'externalId' | 'dn' | 'name'> & { readonly fields?: undefined };

/** A group row without its fields and members: the row of an entry that comes as a MatchedGroup. */
export type StoredGroupSummary = Omit<StoredGroup, 'fields' | 'memberIds'> & { readonly fields?: undefined; readonly memberIds?: undefined };

/** A user a group member can resolve to: the profile's stored users. Removed users are never resolved. */
export type MemberCandidate = Pick<StoredUser, 'id' | 'dn' | 'username' | 'removedAt'>;

export interface GroupCreate {
  readonly kind: 'create';
  readonly externalId: string;
  readonly dn: string;
  readonly name: string;
  readonly fields: MappedRecord;
}

export interface GroupUpdate {
  readonly kind: 'update';
  readonly id: RowId;
  readonly externalId: string;
  readonly dn: string;
  readonly name: string;
  readonly fields: MappedRecord;
  readonly changes: FieldChanges;
  readonly revive: boolean;
}

export interface GroupRemove {
  readonly kind: 'remove';
  readonly id: RowId;
  readonly externalId: string;
  readonly dn: string;
  readonly name: string;
  readonly mode: 'disable' | 'delete';
  readonly reason: 'missing' | 'purge';
  readonly live: boolean;
}

export type GroupChange = GroupCreate | GroupUpdate | GroupRemove;

export interface MemberRef {
  readonly id: RowId;
  /** Undefined for a member row whose user is not among the candidates given to the planner. */
  readonly dn: string | undefined;
  readonly username: string | undefined;
}

/** How one group's membership changes. `groupId` is undefined for a group this plan creates. */
export interface MembershipChange {
  readonly groupId: RowId | undefined;
  readonly externalId: string;
  readonly dn: string;
  readonly add: ReadonlyArray<MemberRef>;
  readonly remove: ReadonlyArray<MemberRef>;
}

export interface UnresolvedMember {
  readonly groupDn: string;
  readonly groupExternalId: string;
  /** The member value as the directory gave it (a DN or a memberUid). */
  readonly member: string;
  /**
   * `not-synced`: no synced user (nor group) of this profile has it; `nested-group`: it is a group of this
   * profile and flattenNested is off; `ambiguous`: a memberUid that several users share.
   */
  readonly cause: 'not-synced' | 'nested-group' | 'ambiguous';
}

export interface GroupPlanCounts extends PlanCounts {
  readonly membershipsAdded: number;
  readonly membershipsRemoved: number;
  readonly unresolved: number;
}

export interface GroupPlan {
  readonly kind: 'groups';
  readonly profile: string;
  readonly changes: ReadonlyArray<GroupChange>;
  /** One entry per group whose membership changes (including groups removed, which lose all members). */
  readonly memberships: ReadonlyArray<MembershipChange>;
  readonly unresolved: ReadonlyArray<UnresolvedMember>;
  /** Groups that contain themselves through nesting, each cycle as the DNs of its groups. */
  readonly cycles: ReadonlyArray<ReadonlyArray<string>>;
  readonly skipped: ReadonlyArray<Skip>;
  readonly unchanged: number;
  readonly missing: ReadonlyArray<MissingRow>;
  readonly guard: DeleteGuard;
  readonly counts: GroupPlanCounts;
}
