import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeletesConfig } from '../../src/config/index.js';
import { evaluateGuard, planUsers, type DesiredUser, type Skip, type StoredUser, type UserPlan } from '../../src/reconcile/index.js';
import { NOW, PROFILE } from './builders.js';

/** What the store does with a plan, on plain rows: the model the real store's tests check it against. */
function applyPlan(stored: ReadonlyArray<StoredUser>, plan: UserPlan): StoredUser[] {
  const rows = new Map(stored.map((r) => [r.id, r]));
  let nextId = 10_000;
  for (const change of plan.changes) {
    switch (change.kind) {
      case 'create': {
        const { enabled: _e, ...fields } = change.fields;
        const id = nextId++;
        rows.set(id, { id, source: PROFILE, externalId: change.externalId, dn: change.dn, username: change.username, login: change.login, enabled: change.enabled, removedAt: null, fields });
        break;
      }
      case 'update': {
        const row = rows.get(change.id);
        if (row === undefined) throw new Error(`update of a missing row ${change.id}`);
        const { enabled: _e, ...fields } = change.fields;
        rows.set(change.id, { ...row, dn: change.dn, username: change.username, login: change.login, enabled: change.enabled, removedAt: null, fields });
        break;
      }
      case 'remove': {
        const row = rows.get(change.id);
        if (row === undefined) throw new Error(`removal of a missing row ${change.id}`);
        if (change.mode === 'delete') rows.delete(change.id);
        else rows.set(change.id, { ...row, enabled: false, removedAt: NOW });
        break;
      }
      case 'conflict':
        break;
      default:
        change satisfies never;
    }
  }
  return [...rows.values()];
}

const login = fc.constantFrom('fry', 'Fry', 'leela', 'bender', 'amy', 'zoidberg', 'hermes').map((n) => `${n}@pe`);
const externalId: fc.Arbitrary<string> = fc.constantFrom('e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7');
const email = fc.option(fc.constantFrom('a@x', 'b@x'), { nil: null });

const storedArb = fc
  .array(
    fc.record({
      source: fc.constantFrom(PROFILE, PROFILE, 'local', 'other'),
      externalId,
      login,
      removed: fc.boolean(),
      email,
    }),
    { maxLength: 10 },
  )
  .map((rows) => {
    // Shape the rows as a real store holds them: one row per (source, id), live logins unique in any case.
    const seen = new Set<string>();
    const liveLogins = new Set<string>();
    const out: StoredUser[] = [];
    rows.forEach((r, i) => {
      const key = `${r.source}/${r.externalId}`;
      if (seen.has(key)) return;
      seen.add(key);
      let removed = r.removed;
      if (!removed && liveLogins.has(r.login.toLowerCase())) removed = true;
      if (!removed) liveLogins.add(r.login.toLowerCase());
      out.push({
        id: i + 1,
        source: r.source,
        externalId: r.externalId,
        dn: `uid=${r.externalId},dc=pe`,
        username: r.login.split('@')[0] ?? '',
        login: r.login,
        enabled: !removed,
        removedAt: removed ? new Date('2024-01-01') : null,
        fields: { email: r.email },
      });
    });
    return out;
  });

const desiredArb = fc.uniqueArray(fc.record({ externalId, login, email, dnSuffix: fc.constantFrom('a', 'b') }), {
  selector: (d) => d.externalId,
  maxLength: 8,
}).map((list) =>
  list.map(
    (d): DesiredUser => ({
      externalId: d.externalId,
      dn: `uid=${d.externalId},ou=${d.dnSuffix},dc=pe`,
      username: d.login.split('@')[0] ?? '',
      login: d.login,
      fields: { enabled: true, email: d.email },
    }),
  ),
);

const deletesArb = fc.record({
  enabled: fc.boolean(),
  maxPercentage: fc.constant(100),
  maxCount: fc.constant(undefined),
  mode: fc.constantFrom<'disable' | 'delete'>('disable', 'delete'),
  purgeAfter: fc.constant(undefined),
});

const skipsArb = fc.uniqueArray(externalId, { maxLength: 2 });

describe('planUsers properties', () => {
  it('applying a plan yields the directory: every unconflicted entry as its row, missing rows gone or kept as deletes say', () => {
    fc.assert(
      fc.property(storedArb, desiredArb, deletesArb, skipsArb, (stored, desiredAll, deletes: DeletesConfig, skippedIds) => {
        const desired = desiredAll.filter((d) => !skippedIds.includes(d.externalId));
        const skipped: Skip[] = skippedIds.map((id) => ({ kind: 'mapping-error', dn: `uid=${id},x`, externalId: id, reason: 'bad' }));
        const plan = planUsers({ profile: PROFILE, desired, stored, skipped, deletes, now: NOW });
        const after = applyPlan(stored, plan);
        const conflicted = new Set(plan.changes.filter((c) => c.kind === 'conflict').map((c) => c.externalId));

        // Logins stay unique among live rows of every source, in any case.
        const live = after.filter((r) => r.removedAt === null).map((r) => r.login.toLowerCase());
        expect(new Set(live).size).toBe(live.length);
        // Other sources' rows are exactly as they were.
        expect(after.filter((r) => r.source !== PROFILE)).toEqual(stored.filter((r) => r.source !== PROFILE));
        // Skipped and conflicted entries' rows are exactly as they were.
        for (const row of stored.filter((r) => r.source === PROFILE && (skippedIds.includes(r.externalId) || conflicted.has(r.externalId)))) {
          expect(after).toContainEqual(row);
        }
        for (const d of desired) {
          if (conflicted.has(d.externalId)) continue;
          const row = after.find((r) => r.source === PROFILE && r.externalId === d.externalId);
          expect(row).toMatchObject({ dn: d.dn, login: d.login, removedAt: null, fields: { email: d.fields['email'] } });
        }
        const wanted = new Set([...desired.map((d) => d.externalId), ...skippedIds]);
        for (const row of stored.filter((r) => r.source === PROFILE && !wanted.has(r.externalId) && r.removedAt === null)) {
          const now = after.find((r) => r.id === row.id);
          if (deletes.enabled) expect(now === undefined || now.removedAt !== null).toBe(true);
          else expect(now).toEqual(row);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('planning again after applying finds nothing left to do but the same conflicts', () => {
    fc.assert(
      fc.property(storedArb, desiredArb, deletesArb, (stored, desired, deletes: DeletesConfig) => {
        const first = planUsers({ profile: PROFILE, desired, stored, skipped: [], deletes, now: NOW });
        const after = applyPlan(stored, first);
        const second = planUsers({ profile: PROFILE, desired, stored: after, skipped: [], deletes, now: NOW });
        const conflicts = (p: UserPlan): string[] => p.changes.filter((c) => c.kind === 'conflict').map((c) => c.externalId).sort();
        expect(second.changes.filter((c) => c.kind !== 'conflict')).toEqual([]);
        expect(conflicts(second)).toEqual(conflicts(first));
      }),
      { numRuns: 1000 },
    );
  });

  it('the guard never passes removals over maxPercentage of the live rows or over maxCount', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        fc.integer({ min: 0, max: 10 }),
        (live, wanted, maxPercentage, maxCount, returned) => {
          const removals = Math.min(wanted, live);
          const guard = evaluateGuard({
            noun: 'users',
            deletes: { enabled: true, maxPercentage, maxCount, mode: 'disable', purgeAfter: undefined },
            live,
            removals,
            returned,
          });
          if (!guard.tripped) {
            expect(removals === 0 || (removals / live) * 100 <= maxPercentage + 1e-9).toBe(true);
            if (maxCount !== undefined) expect(removals).toBeLessThanOrEqual(maxCount);
          } else {
            expect(guard.reason).toBeDefined();
          }
          // Everything removed with live rows left is 100%, and trips below 100.
          if (live > 0 && removals === live && maxPercentage < 100) expect(guard.tripped).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('a tripped plan is one whose live removals exceed the limit (plans agree with the guard)', () => {
    fc.assert(
      fc.property(storedArb, desiredArb, fc.integer({ min: 0, max: 100 }), (stored, desired, maxPercentage) => {
        const deletes: DeletesConfig = { enabled: true, maxPercentage, maxCount: undefined, mode: 'disable', purgeAfter: undefined };
        const plan = planUsers({ profile: PROFILE, desired, stored, skipped: [], deletes, now: NOW });
        const live = stored.filter((r) => r.source === PROFILE && r.removedAt === null).length;
        const removals = plan.changes.filter((c) => c.kind === 'remove' && c.live).length;
        expect(plan.guard.tripped).toBe(removals * 100 > maxPercentage * live);
      }),
      { numRuns: 1000 },
    );
  });
});
