import type { DeletesConfig } from '../config/index.js';
import { LdapsyncError } from '../shared/index.js';
import { evaluateGuard } from './delete-guard.js';
import { acceptEntries, SkipIndex } from './entries.js';
import { GROUP_FIELDS } from './fields.js';
import { flattenMembers } from './nesting.js';
import { planMissing } from './removals.js';
import { noteChange, noteFieldChanges } from './same-value.js';
import type {
  DesiredGroup,
  FieldChange,
  GroupChange,
  GroupPlan,
  GroupRemove,
  MatchedGroup,
  MemberCandidate,
  MemberRef,
  MembershipChange,
  RowId,
  Skip,
  StoredGroup,
  StoredGroupSummary,
  UnresolvedMember,
} from './types.js';

export interface PlanGroupsInput {
  readonly profile: string;
  /** The directory's usable entries; those known to hold their row and members already by their identity alone. */
  readonly desired: Iterable<DesiredGroup | MatchedGroup>;
  /**
   * This profile's group rows (removed ones too) with their members; the row of an entry that comes as a
   * MatchedGroup may come as a summary. Matched groups cannot be flattened (`flattenNested`): their members are unknown.
   */
  readonly stored: Iterable<StoredGroup | StoredGroupSummary>;
  /** This profile's users; only live ones are resolved as members. */
  readonly users: Iterable<MemberCandidate>;
  readonly skipped: ReadonlyArray<Skip>;
  readonly deletes: DeletesConfig;
  /** Members of member groups count as members (cycle-safe). */
  readonly flattenNested: boolean;
  /**
   * The DN normalisation of the LDAP stage (case, spacing, escapes), applied to user DNs, group DNs and member
   * values alike, so it may be given values that are normalised already. A value it rejects stays unresolved.
   */
  readonly normalizeDn: (dn: string) => string;
  readonly now: Date;
}

const COMPARED_FIELDS: ReadonlyArray<string> = GROUP_FIELDS.map((f) => f.name);

const AMBIGUOUS = -1;

/**
 * Plans a group sync of one profile: group rows as for users (identity by external id, the same delete rules
 * and guard), and each group's membership replaced to match the directory. Member DNs resolve to the
 * profile's live users (or, nested, to the profile's groups); memberUid values to usernames. Members that
 * resolve to nothing are reported, never invented.
 *
 * Counts: a group whose fields or membership change counts as updated; `changes` holds a group `update`
 * only when a field (dn, name, description, custom fields) changes, and `memberships` the membership edits.
 */
export function planGroups(input: PlanGroupsInput): GroupPlan {
  const { profile, deletes, now } = input;
  if (profile === 'local') {
    throw new LdapsyncError('reconcile.local-profile', "the source 'local' belongs to the application and is never synced", { profile });
  }
  const normalize = (dn: string): string | undefined => {
    try {
      return input.normalizeDn(dn);
    } catch {
      return undefined;
    }
  };

  const own = new Map<string, StoredGroup | StoredGroupSummary>();
  for (const row of input.stored) if (row.source === profile) own.set(row.externalId, row);

  const accepted = acceptEntries(input.desired, input.skipped);
  const outcome = planMissing(own.values(), (row) => row.name, accepted.byId, new SkipIndex(accepted.skipped), deletes, now);

  const refs = new Map<RowId, MemberRef>();
  const liveUsers: MemberCandidate[] = [];
  const byUid = new Map<string, RowId>();
  for (const user of input.users) {
    refs.set(user.id, { id: user.id, dn: user.dn, username: user.username });
    if (user.removedAt !== null) continue;
    liveUsers.push(user);
    const uid = user.username.toLowerCase();
    byUid.set(uid, byUid.has(uid) ? AMBIGUOUS : user.id);
  }
  const refOf = (id: RowId): MemberRef => refs.get(id) ?? { id, dn: undefined, username: undefined };

  const groups = [...accepted.byId.values()];
  const resolveDn = memberDnResolver(liveUsers, groups, normalize);

  const unresolved: UnresolvedMember[] = [];
  const direct: Set<RowId>[] = [];
  const children: number[][] = [];
  groups.forEach((group, i) => {
    const users = new Set<RowId>();
    const nested: number[] = [];
    direct[i] = users;
    children[i] = nested;
    if (group.fields === undefined) {
      if (input.flattenNested) {
        throw new LdapsyncError('reconcile.not-matched', `the group ${group.dn} came as matching its row, and nested groups are flattened`, { profile });
      }
      return;
    }
    const report = (member: string, cause: UnresolvedMember['cause']): void => {
      unresolved.push({ groupDn: group.dn, groupExternalId: group.externalId, member, cause });
    };
    for (const member of group.memberDns) {
      const target = resolveDn(member);
      if (target === undefined) report(member, 'not-synced');
      else if (target.kind === 'user') users.add(target.id);
      else if (input.flattenNested) nested.push(target.index);
      else report(member, 'nested-group');
    }
    for (const member of group.memberUids) {
      const user = byUid.get(member.toLowerCase());
      if (user === undefined) report(member, 'not-synced');
      else if (user === AMBIGUOUS) report(member, 'ambiguous');
      else users.add(user);
    }
  });
  const flattened = input.flattenNested ? flattenMembers(direct, children) : { members: direct, cycles: [] };

  const changes: GroupChange[] = [];
  const memberships: MembershipChange[] = [];
  let unchanged = 0;
  let updated = 0;
  groups.forEach((group, i) => {
    const wanted = flattened.members[i] ?? new Set<RowId>();
    const row = own.get(group.externalId);
    if (group.fields === undefined) {
      if (row === undefined || row.removedAt !== null) {
        throw new LdapsyncError('reconcile.not-matched', `the group ${group.dn} came as matching its row, and it has no live row`, { profile });
      }
      unchanged++;
      return;
    }
    if (row === undefined) {
      changes.push({ kind: 'create', externalId: group.externalId, dn: group.dn, name: group.name, fields: group.fields });
      if (wanted.size > 0) {
        memberships.push({ groupId: undefined, externalId: group.externalId, dn: group.dn, add: [...wanted].map(refOf), remove: [] });
      }
      return;
    }
    if (row.fields === undefined || row.memberIds === undefined) {
      throw new LdapsyncError('reconcile.no-fields', `the stored row of ${group.dn} came without its fields, and the entry is not known to match it`, { profile });
    }
    const memberIds = row.memberIds;
    let diff: Record<string, FieldChange> | undefined;
    if (row.dn !== group.dn) diff = noteChange(diff, 'dn', row.dn, group.dn);
    if (row.name !== group.name) diff = noteChange(diff, 'name', row.name, group.name);
    diff = noteFieldChanges(diff, COMPARED_FIELDS, row.fields, group.fields);
    const revive = row.removedAt !== null;
    if (revive) diff = noteChange(diff, 'removedAt', row.removedAt, null);
    const fieldsChanged = diff !== undefined;
    if (diff !== undefined) {
      changes.push({ kind: 'update', id: row.id, externalId: group.externalId, dn: group.dn, name: group.name, fields: group.fields, changes: diff, revive });
    }
    const stored = new Set(memberIds);
    const add = [...wanted].filter((id) => !stored.has(id));
    const remove = memberIds.filter((id) => !wanted.has(id));
    if (add.length > 0 || remove.length > 0) {
      memberships.push({ groupId: row.id, externalId: group.externalId, dn: group.dn, add: add.map(refOf), remove: remove.map(refOf) });
    }
    if (fieldsChanged || add.length > 0 || remove.length > 0) updated++;
    else unchanged++;
  });

  const removals: GroupRemove[] = outcome.removals.map(({ row, mode, reason, live }) => ({
    kind: 'remove',
    id: row.id,
    externalId: row.externalId,
    dn: row.dn,
    name: row.name,
    mode,
    reason,
    live,
  }));
  for (const removal of outcome.removals) {
    // A removed group keeps no members: an application that forgets to check removed_at must not grant through it.
    const memberIds = removal.row.memberIds;
    if (memberIds === undefined) {
      throw new LdapsyncError('reconcile.no-fields', `the stored row of ${removal.row.dn} came without its members, and no entry matched it`, { profile });
    }
    if (memberIds.length > 0) {
      memberships.push({ groupId: removal.row.id, externalId: removal.row.externalId, dn: removal.row.dn, add: [], remove: memberIds.map(refOf) });
    }
  }
  changes.push(...removals);

  let live = 0;
  for (const row of own.values()) if (row.removedAt === null) live++;
  const guard = evaluateGuard({ noun: 'groups', deletes, live, removals: removals.filter((r) => r.live).length, returned: accepted.returned });

  let membershipsAdded = 0;
  let membershipsRemoved = 0;
  for (const m of memberships) {
    membershipsAdded += m.add.length;
    membershipsRemoved += m.remove.length;
  }
  const created = changes.filter((c) => c.kind === 'create').length;
  return {
    kind: 'groups',
    profile,
    changes,
    memberships,
    unresolved,
    cycles: flattened.cycles.map((cycle) => cycle.map((i) => groups[i]?.dn ?? '')),
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
      conflicts: 0,
      missing: outcome.missing.length,
      membershipsAdded,
      membershipsRemoved,
      unresolved: unresolved.length,
    },
  };
}

type DnTarget = { readonly kind: 'user'; readonly id: RowId } | { readonly kind: 'group'; readonly index: number };

/**
 * Resolves a member DN to a live user or to one of the groups. A directory usually writes a member value as the
 * very text of its entry's DN, so the text is looked up first; only a value that matches no DN as written is
 * normalised (case, spacing, escapes) and looked up among the normalised DNs, which are computed at the first
 * such value. Equal texts normalise equally, so both lookups agree wherever the first one finds something.
 */
function memberDnResolver(
  users: ReadonlyArray<MemberCandidate>,
  groups: ReadonlyArray<{ readonly dn: string }>,
  normalize: (dn: string) => string | undefined,
): (member: string) => DnTarget | undefined {
  // Users take precedence over a group with the same DN, as they always have.
  const index = (key: (dn: string) => string | undefined): Map<string, DnTarget> => {
    const map = new Map<string, DnTarget>();
    for (const user of users) {
      const dn = key(user.dn);
      if (dn !== undefined) map.set(dn, { kind: 'user', id: user.id });
    }
    groups.forEach((group, i) => {
      const dn = key(group.dn);
      if (dn !== undefined && !map.has(dn)) map.set(dn, { kind: 'group', index: i });
    });
    return map;
  };
  const byText = index((dn) => dn);
  let byNormal: Map<string, DnTarget> | undefined;
  return (member) => {
    const exact = byText.get(member);
    if (exact !== undefined) return exact;
    const dn = normalize(member);
    if (dn === undefined) return undefined;
    byNormal ??= index(normalize);
    return byNormal.get(dn);
  };
}
