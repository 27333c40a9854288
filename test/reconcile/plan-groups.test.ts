import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planGroups, type GroupPlan, type PlanGroupsInput, type StoredUser } from '../../src/reconcile/index.js';
import { flattenMembers } from '../../src/reconcile/nesting.js';
import { DELETES_OFF, NOW, PROFILE, deletesOn, desiredGroup, normalizeDn, storedGroup, storedUser } from './builders.js';

const fry = storedUser('fry');
const leela = storedUser('leela');
const bender = storedUser('bender');
const gone = storedUser('hermes', { removedAt: NOW, enabled: false });
const users: StoredUser[] = [fry, leela, bender, gone];

function plan(input: Partial<PlanGroupsInput>): GroupPlan {
  return planGroups({
    profile: PROFILE,
    desired: [],
    stored: [],
    users,
    skipped: [],
    deletes: DELETES_OFF,
    flattenNested: false,
    normalizeDn,
    now: NOW,
    ...input,
  });
}

function memberIds(p: GroupPlan, externalId: string): { add: number[]; remove: number[] } {
  const m = p.memberships.find((x) => x.externalId === externalId);
  return { add: (m?.add ?? []).map((r) => r.id).sort(), remove: (m?.remove ?? []).map((r) => r.id).sort() };
}

describe('planGroups: groups and their members', () => {
  it('creates a group with its member DNs resolved to synced users, whatever their case and spacing', () => {
    const crew = desiredGroup('crew', {
      memberDns: ['UID=fry, OU=people,DC=planetexpress,DC=com', 'uid=leela,ou=people,dc=planetexpress,dc=com', 'uid=nobody,ou=people,dc=planetexpress,dc=com'],
    });
    const p = plan({ desired: [crew] });
    expect(p.changes).toEqual([expect.objectContaining({ kind: 'create', externalId: 'gid-crew', name: 'crew' })]);
    expect(p.memberships).toEqual([
      {
        groupId: undefined,
        externalId: 'gid-crew',
        dn: crew.dn,
        add: [
          { id: fry.id, dn: fry.dn, username: 'fry' },
          { id: leela.id, dn: leela.dn, username: 'leela' },
        ],
        remove: [],
      },
    ]);
    expect(p.unresolved).toEqual([{ groupDn: crew.dn, groupExternalId: 'gid-crew', member: 'uid=nobody,ou=people,dc=planetexpress,dc=com', cause: 'not-synced' }]);
  });

  it('resolves memberUid values to usernames and reports a name two users share as ambiguous', () => {
    const twin = storedUser('FRY', { externalId: 'twin', dn: 'uid=FRY,ou=other,dc=planetexpress,dc=com' });
    const posix = desiredGroup('posix', { memberUids: ['leela', 'Bender', 'fry', 'ghost'] });
    const p = plan({ desired: [posix], users: [...users, twin] });
    expect(memberIds(p, 'gid-posix').add).toEqual([leela.id, bender.id].sort());
    expect(p.unresolved.map((u) => [u.member, u.cause])).toEqual([
      ['fry', 'ambiguous'],
      ['ghost', 'not-synced'],
    ]);
  });

  it('replaces a stored membership with the directory one, and never resolves a removed user', () => {
    const row = storedGroup('crew', { memberIds: [fry.id, gone.id] });
    const p = plan({ desired: [desiredGroup('crew', { memberDns: [leela.dn, gone.dn] })], stored: [row] });
    expect(memberIds(p, 'gid-crew')).toEqual({ add: [leela.id], remove: [fry.id, gone.id].sort() });
    expect(p.changes).toEqual([]);
    expect(p.counts).toMatchObject({ updated: 1, unchanged: 0, membershipsAdded: 1, membershipsRemoved: 2 });
    expect(p.unresolved.map((u) => u.member)).toEqual([gone.dn]);
  });

  it('reports a group with the same members and fields as unchanged', () => {
    const row = storedGroup('crew', { memberIds: [leela.id, fry.id] });
    const p = plan({ desired: [desiredGroup('crew', { memberDns: [fry.dn, leela.dn] })], stored: [row] });
    expect(p.changes).toEqual([]);
    expect(p.memberships).toEqual([]);
    expect(p.counts).toMatchObject({ unchanged: 1, updated: 0 });
  });

  it('turns a renamed and moved group into an update of its row', () => {
    const row = storedGroup('crew');
    const p = plan({
      desired: [desiredGroup('staff', { externalId: row.externalId, fields: { description: 'new', customFields: { a: 1 } } })],
      stored: [row],
    });
    expect(p.changes).toEqual([
      expect.objectContaining({
        kind: 'update',
        id: row.id,
        changes: {
          dn: { old: row.dn, new: 'cn=staff,ou=groups,dc=planetexpress,dc=com' },
          name: { old: 'crew', new: 'staff' },
          description: { old: 'the crew group', new: 'new' },
          customFields: { old: {}, new: { a: 1 } },
        },
      }),
    ]);
  });
});

describe('planGroups: nested groups', () => {
  const crew = desiredGroup('crew', { memberDns: [fry.dn, 'CN=Officers,ou=groups,dc=planetexpress,dc=com'] });
  const officers = desiredGroup('officers', { memberDns: [leela.dn, desiredGroup('captains').dn] });
  const captains = desiredGroup('captains', { memberDns: [bender.dn] });

  it('reports member groups without following them when flattenNested is off', () => {
    const p = plan({ desired: [crew, officers, captains] });
    expect(memberIds(p, 'gid-crew').add).toEqual([fry.id]);
    expect(p.unresolved.filter((u) => u.cause === 'nested-group').map((u) => u.groupExternalId)).toEqual(['gid-crew', 'gid-officers']);
  });

  it('gives a group the members of its member groups at any depth when flattenNested is on', () => {
    const p = plan({ desired: [crew, officers, captains], flattenNested: true });
    expect(memberIds(p, 'gid-crew').add).toEqual([fry.id, leela.id, bender.id].sort());
    expect(memberIds(p, 'gid-officers').add).toEqual([leela.id, bender.id].sort());
    expect(p.unresolved).toEqual([]);
    expect(p.cycles).toEqual([]);
  });

  it('gives every group on a cycle the members of the whole cycle and reports the cycle', () => {
    const a = desiredGroup('a', { memberDns: [fry.dn, desiredGroup('b').dn] });
    const b = desiredGroup('b', { memberDns: [leela.dn, desiredGroup('c').dn] });
    const c = desiredGroup('c', { memberDns: [bender.dn, a.dn] });
    const self = desiredGroup('self', { memberDns: [desiredGroup('self').dn, fry.dn] });
    const p = plan({ desired: [a, b, c, self], flattenNested: true });
    for (const g of ['gid-a', 'gid-b', 'gid-c']) expect(memberIds(p, g).add).toEqual([fry.id, leela.id, bender.id].sort());
    expect(memberIds(p, 'gid-self').add).toEqual([fry.id]);
    expect(p.cycles).toEqual([[a.dn, b.dn, c.dn], [self.dn]]);
  });

  it('flattens like a plain reachability search on any graph (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((n) =>
          fc.tuple(
            fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { maxLength: 3 }), { minLength: n, maxLength: n }),
            fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n }),
          ),
        ),
        ([direct, children]) => {
          const result = flattenMembers(direct.map((d) => new Set(d)), children);
          direct.forEach((_, start) => {
            const seen = new Set([start]);
            const queue = [start];
            const expected = new Set<number>();
            while (queue.length > 0) {
              const node = queue.shift() as number;
              for (const id of direct[node] ?? []) expected.add(id);
              for (const child of children[node] ?? []) if (!seen.has(child)) (seen.add(child), queue.push(child));
            }
            expect([...(result.members[start] ?? [])].sort()).toEqual([...expected].sort());
          });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('planGroups: removals, skips and the guard', () => {
  const rows = [storedGroup('a', { memberIds: [fry.id] }), storedGroup('b'), storedGroup('c'), storedGroup('d')];
  const all = rows.map((r) => desiredGroup(r.name));

  it('only reports a missing group when deletes are off', () => {
    const p = plan({ desired: all.slice(1), stored: rows });
    expect(p.changes).toEqual([]);
    expect(p.missing.map((m) => m.name)).toEqual(['a']);
    expect(p.memberships).toEqual([]);
  });

  it('removes a missing group and all of its memberships when deletes are on', () => {
    const p = plan({ desired: all.slice(1), stored: rows, deletes: deletesOn() });
    expect(p.changes).toEqual([expect.objectContaining({ kind: 'remove', id: rows[0]?.id, mode: 'disable', live: true })]);
    expect(memberIds(p, 'gid-a')).toEqual({ add: [], remove: [fry.id] });
  });

  it('keeps a skipped group and its memberships untouched', () => {
    const p = plan({
      desired: all.slice(1),
      stored: rows,
      skipped: [{ kind: 'mapping-error', dn: rows[0]?.dn ?? '', externalId: 'gid-a', reason: 'bad' }],
      deletes: deletesOn({ maxPercentage: 0 }),
    });
    expect(p.changes).toEqual([]);
    expect(p.memberships).toEqual([]);
    expect(p.guard.tripped).toBe(false);
  });

  it('revives a removed group whose entry is back', () => {
    const removed = storedGroup('e', { removedAt: NOW });
    const p = plan({ desired: [desiredGroup('e', { memberDns: [fry.dn] })], stored: [removed] });
    expect(p.changes).toEqual([expect.objectContaining({ kind: 'update', revive: true, changes: { removedAt: { old: NOW, new: null } } })]);
    expect(memberIds(p, 'gid-e').add).toEqual([fry.id]);
  });

  it('trips the guard when the directory returns no groups while live groups are stored', () => {
    const p = plan({ desired: [], stored: rows, deletes: deletesOn({ maxPercentage: 50 }) });
    expect(p.guard).toMatchObject({ tripped: true, removals: 4, live: 4, percentage: 100 });
    expect(p.guard.reason).toMatch(/4 of 4 live groups/);
  });

  it('skips every entry of a shared id', () => {
    const p = plan({ desired: [...all, desiredGroup('a', { dn: 'cn=a2,ou=groups,dc=planetexpress,dc=com' })], stored: rows, deletes: deletesOn({ maxPercentage: 0 }) });
    expect(p.skipped.map((s) => s.kind)).toEqual(['duplicate-id', 'duplicate-id']);
    expect(p.changes).toEqual([]);
  });
});

describe('planGroups: groups known by their digests', () => {
  const summary = (name: string) => {
    const { fields: _, memberIds: __, ...row } = storedGroup(name, { memberIds: [fry.id] });
    return row;
  };

  it('keeps a matched group as it is, members unread, while the others are resolved and missing ones removed', () => {
    const crewRow = summary('crew');
    const matched = { externalId: crewRow.externalId, dn: crewRow.dn, name: crewRow.name };
    const staff = storedGroup('staff', { memberIds: [fry.id] });
    const old = storedGroup('old', { memberIds: [leela.id] });
    const p = plan({
      desired: [matched, desiredGroup('staff', { memberDns: [leela.dn] })],
      stored: [crewRow, staff, old],
      deletes: deletesOn({ maxPercentage: 100 }),
    });
    expect(p.counts).toMatchObject({ created: 0, updated: 1, removed: 1, unchanged: 1, membershipsAdded: 1, membershipsRemoved: 2 });
    expect(p.memberships.map((m) => m.externalId).sort()).toEqual(['gid-old', 'gid-staff']);
    expect(memberIds(p, 'gid-staff')).toEqual({ add: [leela.id], remove: [fry.id] });
  });

  it('refuses a matched group it cannot vouch for: flattened, without a live row, or a summary row with no entry', () => {
    const crewRow = summary('crew');
    const matched = { externalId: crewRow.externalId, dn: crewRow.dn, name: crewRow.name };
    expect(() => plan({ desired: [matched], stored: [crewRow], flattenNested: true })).toThrow(/nested groups are flattened/);
    expect(() => plan({ desired: [matched], stored: [{ ...crewRow, removedAt: NOW }] })).toThrow(/no live row/);
    expect(() => plan({ desired: [], stored: [crewRow], deletes: deletesOn({ maxPercentage: 100 }) })).toThrow(/without its members/);
  });
});
