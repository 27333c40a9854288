import type { DeletesConfig } from '../config/index.js';
import { LdapsyncError } from '../shared/index.js';
import { evaluateGuard } from './delete-guard.js';
import { acceptEntries, SkipIndex } from './entries.js';
import { USER_FIELDS } from './fields.js';
import { planMissing } from './removals.js';
import { noteChange, noteFieldChanges } from './same-value.js';
import type {
  DesiredUser,
  FieldChange,
  MatchedUser,
  LoginHolder,
  MappedRecord,
  StoredUser,
  StoredUserSummary,
  Skip,
  UserChange,
  UserConflict,
  UserCreate,
  UserPlan,
  UserRemove,
} from './types.js';

export interface PlanUsersInput {
  readonly profile: string;
  /** The directory's usable entries, mapped; those known to hold their row's record by their identity alone. */
  readonly desired: Iterable<DesiredUser | MatchedUser>;
  /**
   * Every row of this profile (removed ones too), plus the live rows of other sources (`local`, other
   * profiles) that hold a login some entry wants. A plan for one entry (a login, `test --username`) passes
   * only the rows that entry could touch, with deletes off: every other row would otherwise be missing.
   * A row may come as a summary, without its fields, when its entry comes as a MatchedUser or there is none.
   */
  readonly stored: Iterable<StoredUser | StoredUserSummary>;
  /** Entries left out before planning (mapping error, no username, no id). */
  readonly skipped: ReadonlyArray<Skip>;
  readonly deletes: DeletesConfig;
  readonly now: Date;
}

/** Fields compared and written besides the identity columns; `enabled` is compared on its own. */
const COMPARED_FIELDS: ReadonlyArray<string> = USER_FIELDS.map((f) => f.name).filter((name) => name !== 'enabled');

/** A row of the store as the planner gets it: whole, or a summary whose fields it need not compare. */
type StoredRow = StoredUser | StoredUserSummary;

/**
 * What differs between a row and its entry's record, besides `removedAt`; undefined when nothing does. Built only
 * when something differs: a no-op resync of a large directory allocates nothing per entry.
 */
function recordChanges(row: StoredRow, fields: MappedRecord, user: DesiredUser, enabled: boolean): Record<string, FieldChange> | undefined {
  let diff: Record<string, FieldChange> | undefined;
  if (row.dn !== user.dn) diff = noteChange(diff, 'dn', row.dn, user.dn);
  if (row.username !== user.username) diff = noteChange(diff, 'username', row.username, user.username);
  if (row.login !== user.login) diff = noteChange(diff, 'login', row.login, user.login);
  if (row.enabled !== enabled) diff = noteChange(diff, 'enabled', row.enabled, enabled);
  return noteFieldChanges(diff, COMPARED_FIELDS, fields, user.fields);
}

/**
 * Whether a live row already holds exactly this entry's record, as the planner would find it: a caller that has
 * checked so may keep only a summary of the row and pass the entry as its identity (`MatchedUser`).
 */
export function holdsRecord(row: StoredUser, user: DesiredUser): boolean {
  return holdsIdentity(row, user) && noteFieldChanges(undefined, COMPARED_FIELDS, row.fields, user.fields) === undefined;
}

/** Whether a live row holds this entry's DN, username, login and enabled state (with its fields, `holdsRecord`). */
function holdsIdentity(row: StoredRow, user: DesiredUser): boolean {
  return row.removedAt === null && row.dn === user.dn && row.username === user.username && row.login === user.login && row.enabled === desiredEnabled(user);
}

/** A mapping that does not say otherwise leaves the account enabled (the column is NOT NULL). */
export function desiredEnabled(user: DesiredUser): boolean {
  return user.fields['enabled'] !== false;
}

/** The source `local` belongs to the application: no plan is ever made for it. */
function refuseLocal(profile: string): void {
  if (profile === 'local') {
    throw new LdapsyncError('reconcile.local-profile', "the source 'local' belongs to the application and is never synced", { profile });
  }
}

/** Logins are unique case-insensitively: `Fry@x` and `fry@x` are one account. */
function loginKey(login: string): string {
  return login.toLowerCase();
}

/**
 * Plans a user sync of one profile. Pure: the same input always gives the same plan.
 *
 * Identity is the external id only: a renamed or moved entry is an update of its row. A login is unique among
 * live rows of every source, so before anything is planned every wanted login is checked against the rows
 * that will hold logins after the run: other sources' rows and this profile's rows that stay untouched
 * (skipped, or missing with deletes off) always keep theirs; among this run's entries the one already holding
 * a login keeps it. Every loser is a conflict and its own row stays as it is, which may in turn keep that
 * row's current login taken; the check repeats until nothing changes (renames that swap logins succeed).
 */
export function planUsers(input: PlanUsersInput): UserPlan {
  const { profile, deletes, now } = input;
  refuseLocal(profile);

  const own = new Map<string, StoredRow>();
  const foreign: StoredRow[] = [];
  for (const row of input.stored) {
    if (row.source === profile) own.set(row.externalId, row);
    else if (row.removedAt === null) foreign.push(row);
  }

  const accepted = acceptEntries(input.desired, input.skipped);
  const skips = new SkipIndex(accepted.skipped);
  const outcome = planMissing(own.values(), (row) => row.username, accepted.byId, skips, deletes, now);
  const conflicts = resolveLogins(profile, accepted.byId, own, foreign, outcome.kept);

  const changes: UserChange[] = [];
  let unchanged = 0;
  for (const user of accepted.byId.values()) {
    if (conflicts.has(user.externalId)) continue;
    const row = own.get(user.externalId);
    if (user.fields === undefined) {
      if (row === undefined || row.removedAt !== null) {
        throw new LdapsyncError('reconcile.not-matched', `the entry ${user.dn} came as matching its row, and it has no live row`, { profile });
      }
      unchanged++;
      continue;
    }
    const enabled = desiredEnabled(user);
    if (row === undefined) {
      changes.push({ kind: 'create', externalId: user.externalId, dn: user.dn, username: user.username, login: user.login, enabled, fields: user.fields });
      continue;
    }
    if (row.fields === undefined) {
      throw new LdapsyncError('reconcile.no-fields', `the stored row of ${user.dn} came without its fields, and the entry is not known to match it`, { profile });
    }
    let diff = recordChanges(row, row.fields, user, enabled);
    const revive = row.removedAt !== null;
    if (revive) diff = noteChange(diff, 'removedAt', row.removedAt, null);
    if (diff === undefined) {
      unchanged++;
      continue;
    }
    changes.push({
      kind: 'update',
      id: row.id,
      externalId: user.externalId,
      dn: user.dn,
      username: user.username,
      login: user.login,
      enabled,
      fields: user.fields,
      changes: diff,
      revive,
    });
  }
  changes.push(...conflicts.values());

  const removals: UserRemove[] = outcome.removals.map(({ row, mode, reason, live }) => ({
    kind: 'remove',
    id: row.id,
    externalId: row.externalId,
    dn: row.dn,
    username: row.username,
    login: row.login,
    mode,
    reason,
    live,
  }));
  changes.push(...removals);

  let live = 0;
  for (const row of own.values()) if (row.removedAt === null) live++;
  const guard = evaluateGuard({
    noun: 'users',
    deletes,
    live,
    removals: removals.filter((r) => r.live).length,
    returned: accepted.returned,
  });

  let created = 0;
  let updated = 0;
  for (const change of changes) {
    if (change.kind === 'create') created++;
    else if (change.kind === 'update') updated++;
  }
  return {
    kind: 'users',
    profile,
    changes,
    skipped: accepted.skipped,
    unchanged,
    missing: outcome.missing,
    guard,
    counts: {
      created,
      updated,
      removed: removals.length,
      unchanged,
      skipped: accepted.skipped.length,
      conflicts: conflicts.size,
      missing: outcome.missing.length,
    },
  };
}

/**
 * What `planUsers` gives when each of the profile's `rows` is live and came once, as a MatchedUser, and nothing
 * else did: nothing to change, to remove or to report. A caller that knows as much from the rows' digests
 * alone (src/sync/run-sync.ts) need not read the rows or make the entries.
 */
export function unchangedUserPlan(profile: string, rows: number, deletes: DeletesConfig): UserPlan {
  refuseLocal(profile);
  return {
    kind: 'users',
    profile,
    changes: [],
    skipped: [],
    unchanged: rows,
    missing: [],
    guard: evaluateGuard({ noun: 'users', deletes, live: rows, removals: 0, returned: rows }),
    counts: { created: 0, updated: 0, removed: 0, unchanged: rows, skipped: 0, conflicts: 0, missing: 0 },
  };
}

export interface StreamedFirstPlanInput {
  readonly profile: string;
  /** How many rows the run inserted, one per entry, as it read them. */
  readonly created: number;
  /** The first of those creates, for the plan to show. */
  readonly examples: ReadonlyArray<UserCreate>;
  /**
   * planUsers' plan of what was not inserted: the entries the store refused (a unique index) and the skipped ones,
   * against the live rows of other sources that hold the refused entries' logins.
   */
  readonly rest: UserPlan;
  /** How many entries the directory returned, usable or not. */
  readonly returned: number;
  readonly deletes: DeletesConfig;
}

/**
 * The plan of a first sync (the profile had no rows) whose creates were inserted page by page as the directory was
 * read (src/sync/run-sync.ts). It is the plan planUsers would make of the whole directory when every refused entry
 * is a conflict with another source's row, which is all `rest` may then hold. Anything else in `rest` (an entry
 * refused because another entry of this run took its login or its id first, which planUsers would refuse too)
 * gives undefined: the run is then planned again in memory.
 */
export function streamedFirstPlan(input: StreamedFirstPlanInput): UserPlan | undefined {
  const { profile, rest } = input;
  refuseLocal(profile);
  if (rest.unchanged > 0 || rest.missing.length > 0) return undefined;
  for (const change of rest.changes) if (change.kind !== 'conflict' || change.cause !== 'held-by-other-source') return undefined;
  if (rest.skipped.some((skip) => skip.kind === 'duplicate-id')) return undefined;
  const guard = evaluateGuard({ noun: 'users', deletes: input.deletes, live: 0, removals: 0, returned: input.returned });
  if (guard.tripped) return undefined;
  return {
    kind: 'users',
    profile,
    changes: [...input.examples, ...rest.changes],
    createsAbridged: true,
    skipped: rest.skipped,
    unchanged: 0,
    missing: [],
    guard,
    counts: { created: input.created, updated: 0, removed: 0, unchanged: 0, skipped: rest.counts.skipped, conflicts: rest.counts.conflicts, missing: 0 },
  };
}

/** A claim on a login that cannot be given up in this run. */
interface FixedClaim {
  readonly holder: LoginHolder;
  readonly cause: 'held-by-other-source' | 'held-by-kept-row';
  /** Why the holder keeps it, for the reason; empty for another source's row. */
  readonly why: string;
}

function holderOf(row: StoredRow): LoginHolder {
  return { source: row.source, id: row.id, externalId: row.externalId, dn: row.dn };
}

/** An entry as login resolution sees it: whole or by its identity. */
type Entrant = DesiredUser | MatchedUser;

/** Returns the entries that cannot have their login, by external id. */
function resolveLogins(
  profile: string,
  desired: ReadonlyMap<string, Entrant>,
  own: ReadonlyMap<string, StoredRow>,
  foreign: ReadonlyArray<StoredRow>,
  kept: ReadonlyArray<StoredRow>,
): Map<string, UserConflict> {
  const fixed = new Map<string, FixedClaim>();
  for (const row of foreign) fixed.set(loginKey(row.login), { holder: holderOf(row), cause: 'held-by-other-source', why: '' });
  for (const row of kept) {
    const key = loginKey(row.login);
    if (!fixed.has(key)) {
      fixed.set(key, { holder: holderOf(row), cause: 'held-by-kept-row', why: ', which is kept because its entry is missing or was skipped' });
    }
  }

  // Most logins are wanted by one entry and held by nobody else: only the others need a look (and a list).
  const claims = new Map<string, Entrant | Entrant[]>();
  const pending: string[] = [];
  for (const user of desired.values()) {
    const key = loginKey(user.login);
    const claim = claims.get(key);
    if (claim === undefined) {
      claims.set(key, user);
      if (fixed.has(key)) pending.push(key);
    } else if (Array.isArray(claim)) {
      claim.push(user);
    } else {
      claims.set(key, [claim, user]);
      if (!fixed.has(key)) pending.push(key);
    }
  }
  const claimants = (key: string): ReadonlyArray<Entrant> => {
    const claim = claims.get(key);
    return claim === undefined ? [] : Array.isArray(claim) ? claim : [claim];
  };

  const conflicts = new Map<string, UserConflict>();
  const conflict = (user: Entrant, cause: UserConflict['cause'], holder: LoginHolder, reason: string): void => {
    conflicts.set(user.externalId, {
      kind: 'conflict',
      externalId: user.externalId,
      dn: user.dn,
      username: user.username,
      login: user.login,
      id: own.get(user.externalId)?.id,
      cause,
      holder,
      reason,
    });
  };

  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    const contenders = claimants(key).filter((u) => !conflicts.has(u.externalId));
    if (contenders.length === 0) continue;
    const losers: Entrant[] = [];
    const claim = fixed.get(key);
    if (claim !== undefined) {
      for (const user of contenders) {
        const whose = claim.holder.source === profile ? `this profile's row ${claim.holder.dn}` : `${claim.holder.source}'s row ${claim.holder.dn}`;
        conflict(user, claim.cause, claim.holder, `login ${JSON.stringify(user.login)} belongs to ${whose}${claim.why}; left alone`);
        losers.push(user);
      }
    } else if (contenders.length > 1) {
      const winner = contenders.find((u) => {
        const row = own.get(u.externalId);
        return row !== undefined && row.removedAt === null && loginKey(row.login) === key;
      });
      for (const user of contenders) {
        if (user === winner) continue;
        const other = winner ?? contenders.find((u) => u !== user) ?? user;
        const otherRow = own.get(other.externalId);
        const holder: LoginHolder = { source: profile, id: otherRow?.id, externalId: other.externalId, dn: other.dn };
        const who = contenders.filter((u) => u !== user).map((u) => u.dn).join('; ');
        conflict(user, 'claimed-by-several-entries', holder, `login ${JSON.stringify(user.login)} is also wanted by ${who}; left alone`);
        losers.push(user);
      }
    }
    // A loser's row keeps its current login, which may be one another entry was about to take.
    for (const user of losers) {
      const row = own.get(user.externalId);
      if (row === undefined || row.removedAt !== null) continue;
      const rowKey = loginKey(row.login);
      if (fixed.has(rowKey)) continue;
      fixed.set(rowKey, { holder: holderOf(row), cause: 'held-by-kept-row', why: ', which is kept because its own entry is in conflict' });
      if (rowKey !== key) pending.push(rowKey);
    }
  }
  return conflicts;
}
