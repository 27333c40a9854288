import { describe, expect, it } from 'vitest';
import {
  desiredEnabled,
  holdsRecord,
  planUsers,
  streamedFirstPlan,
  unchangedUserPlan,
  type DesiredUser,
  type MatchedUser,
  type PlanUsersInput,
  type Skip,
  type StoredUser,
  type StoredUserSummary,
  type UserChange,
  type UserCreate,
  type UserPlan,
} from '../../src/reconcile/index.js';
import { DELETES_OFF, NOW, PROFILE, deletesOn, desiredUser, storedUser } from './builders.js';

function plan(input: Partial<PlanUsersInput>): UserPlan {
  return planUsers({ profile: PROFILE, desired: [], stored: [], skipped: [], deletes: DELETES_OFF, now: NOW, ...input });
}

function kinds(p: UserPlan): string[] {
  return p.changes.map((c) => `${c.kind}:${c.externalId}`);
}

function only<K extends UserChange['kind']>(p: UserPlan, kind: K): Extract<UserChange, { kind: K }>[] {
  return p.changes.filter((c): c is Extract<UserChange, { kind: K }> => c.kind === kind);
}

describe('planUsers: creates, updates, unchanged', () => {
  it('creates a row for an entry without one, enabled unless the mapping says otherwise', () => {
    const p = plan({ desired: [desiredUser('fry'), desiredUser('leela', { fields: { enabled: false } })] });
    expect(kinds(p)).toEqual(['create:id-fry', 'create:id-leela']);
    expect(only(p, 'create').map((c) => c.enabled)).toEqual([true, false]);
    expect(p.counts).toMatchObject({ created: 2, updated: 0, removed: 0, unchanged: 0 });
  });

  it('reports an entry equal to its row as unchanged, treating null, undefined and a missing key alike', () => {
    const row = storedUser('fry', { fields: { email: 'fry@planetexpress.com', displayName: 'fry', notes: null, userCustomFields: { b: 2, a: { x: [1, 2] } } } });
    const d = desiredUser('fry', {
      fields: { enabled: true, email: 'fry@planetexpress.com', displayName: 'fry', userCustomFields: { a: { x: [1, 2] }, b: 2, c: null } },
    });
    const p = plan({ desired: [d], stored: [row] });
    expect(p.changes).toEqual([]);
    expect(p.unchanged).toBe(1);
  });

  it('gives, for rows that all came as matched entries, the very plan planUsers makes of those entries and rows', () => {
    const rows = ['fry', 'leela', 'bender'].map((name) => {
      const { fields: _fields, ...summary } = storedUser(name);
      return summary;
    });
    const matched: MatchedUser[] = rows.map((r) => ({ externalId: r.externalId, dn: r.dn, username: r.username, login: r.login }));
    for (const deletes of [DELETES_OFF, deletesOn(), deletesOn({ maxCount: 0 })]) {
      expect(unchangedUserPlan(PROFILE, rows.length, deletes)).toEqual(plan({ desired: matched, stored: rows, deletes }));
    }
    expect(unchangedUserPlan(PROFILE, 0, deletesOn())).toEqual(plan({ deletes: deletesOn() }));
    expect(() => unchangedUserPlan('local', 1, DELETES_OFF)).toThrow(/never synced/);
  });

  it('plans with the identities of entries known to hold their row (holdsRecord) and summaries of those rows, exactly as with both whole', () => {
    const rows = [storedUser('fry'), storedUser('leela', { removedAt: new Date('2026-01-01T00:00:00Z') }), storedUser('bender'), storedUser('zoidberg')];
    const desired = [desiredUser('fry'), desiredUser('leela'), desiredUser('bender', { fields: { enabled: true, email: 'new@x' } }), desiredUser('amy')];
    const whole = plan({ desired, stored: rows, deletes: deletesOn({ maxPercentage: 100 }) });

    const matching = new Set<string>();
    const summaries = rows.map((row): (typeof rows)[number] | StoredUserSummary => {
      const user = desired.find((d) => d.externalId === row.externalId);
      if (user === undefined || !holdsRecord(row, user)) return row;
      matching.add(row.externalId);
      const { fields: _fields, ...summary } = row;
      return summary;
    });
    const identities = desired.map((user): (typeof desired)[number] | MatchedUser => {
      if (!matching.has(user.externalId)) return user;
      const { fields: _fields, ...identity } = user;
      return identity;
    });
    // Only fry's row holds its record: leela's is removed (a revival), bender's email changed, zoidberg has no entry.
    expect([...matching]).toEqual(['id-fry']);
    expect(plan({ desired: identities, stored: summaries, deletes: deletesOn({ maxPercentage: 100 }) })).toEqual(whole);
    expect(whole.counts).toMatchObject({ created: 1, updated: 2, removed: 1, unchanged: 1 });

    // A summary whose entry is not known to match cannot be compared, nor is an identity without a live row
    // "unchanged": both are the caller's mistake.
    const { fields: _benderFields, ...bender } = rows[2] ?? storedUser('bender');
    expect(() => plan({ desired, stored: [bender] })).toThrow(expect.objectContaining({ code: 'reconcile.no-fields' }));
    const { fields: _leelaFields, ...leela } = desired[1] ?? desiredUser('leela');
    expect(() => plan({ desired: [leela], stored: rows })).toThrow(expect.objectContaining({ code: 'reconcile.not-matched' }));
    expect(() => plan({ desired: [{ ...leela, externalId: 'id-nobody' }], stored: rows })).toThrow(expect.objectContaining({ code: 'reconcile.not-matched' }));
  });

  it('turns a rename and a move into one update of the same row, with every old and new value', () => {
    const row = storedUser('fry');
    const moved = desiredUser('pjfry', { externalId: row.externalId, dn: 'uid=pjfry,ou=delivery,dc=planetexpress,dc=com' });
    const p = plan({ desired: [moved], stored: [row], deletes: deletesOn() });
    expect(kinds(p)).toEqual(['update:id-fry']);
    const [update] = only(p, 'update');
    expect(update?.id).toBe(row.id);
    expect(update?.changes).toEqual({
      dn: { old: row.dn, new: 'uid=pjfry,ou=delivery,dc=planetexpress,dc=com' },
      username: { old: 'fry', new: 'pjfry' },
      login: { old: 'fry@planetexpress.com', new: 'pjfry@planetexpress.com' },
      email: { old: 'fry@planetexpress.com', new: 'pjfry@planetexpress.com' },
      displayName: { old: 'fry', new: 'pjfry' },
    });
    expect(p.guard.removals).toBe(0);
  });

  it('lists only the fields that changed, and compares custom fields by content', () => {
    const row = storedUser('fry', { fields: { email: 'fry@planetexpress.com', displayName: 'fry', userCustomFields: { shift: 'day' } } });
    const d = desiredUser('fry', { fields: { enabled: false, email: 'fry@planetexpress.com', displayName: 'Philip J. Fry', userCustomFields: { shift: 'night' } } });
    const [update] = only(plan({ desired: [d], stored: [row] }), 'update');
    expect(update?.changes).toEqual({
      enabled: { old: true, new: false },
      displayName: { old: 'fry', new: 'Philip J. Fry' },
      userCustomFields: { old: { shift: 'day' }, new: { shift: 'night' } },
    });
    expect(update?.enabled).toBe(false);
  });

  it('refuses to plan for the application-owned source local', () => {
    expect(() => plan({ profile: 'local' })).toThrow(expect.objectContaining({ code: 'reconcile.local-profile' }));
  });
});

describe('planUsers: login conflicts', () => {
  it('reports an entry whose login a local row holds as a conflict and never adopts the local row', () => {
    const local = storedUser('bender', { source: 'local', externalId: 'local-7', login: 'Bender@PlanetExpress.com' });
    const p = plan({ desired: [desiredUser('bender')], stored: [local] });
    expect(kinds(p)).toEqual(['conflict:id-bender']);
    const [c] = only(p, 'conflict');
    expect(c).toMatchObject({ cause: 'held-by-other-source', holder: { source: 'local', id: local.id }, id: undefined });
    expect(p.counts.conflicts).toBe(1);
  });

  it("reports a login held by another profile's live row as a conflict and leaves the entry's own row as it is", () => {
    const mine = storedUser('fry');
    const theirs = storedUser('philip', { source: 'other', externalId: 'x', login: 'philip@planetexpress.com' });
    const renamed = desiredUser('philip', { externalId: mine.externalId, fields: { enabled: true, displayName: 'changed' } });
    const p = plan({ desired: [renamed], stored: [mine, theirs], deletes: deletesOn() });
    expect(kinds(p)).toEqual(['conflict:id-fry']);
    expect(only(p, 'conflict')[0]).toMatchObject({ id: mine.id, holder: { source: 'other' } });
    expect(p.guard.removals).toBe(0);
  });

  it('ignores removed rows of other sources: they hold no login', () => {
    const gone = storedUser('fry', { source: 'local', externalId: 'l1', removedAt: NOW });
    expect(kinds(plan({ desired: [desiredUser('fry')], stored: [gone] }))).toEqual(['create:id-fry']);
  });

  it('gives a login wanted by two entries to the one that already holds it', () => {
    const holder = storedUser('fry');
    const other = desiredUser('fry2', { login: 'FRY@planetexpress.com' });
    const p = plan({ desired: [desiredUser('fry'), other], stored: [holder] });
    expect(kinds(p)).toEqual(['conflict:id-fry2']);
    expect(p.unchanged).toBe(1);
    expect(only(p, 'conflict')[0]).toMatchObject({ cause: 'claimed-by-several-entries', holder: { externalId: 'id-fry', id: holder.id } });
  });

  it('gives a login wanted by two new entries to neither, whatever the search order', () => {
    const a = desiredUser('a', { login: 'same@x' });
    const b = desiredUser('b', { login: 'same@x' });
    expect(kinds(plan({ desired: [a, b] })).sort()).toEqual(['conflict:id-a', 'conflict:id-b']);
    expect(kinds(plan({ desired: [b, a] })).sort()).toEqual(['conflict:id-a', 'conflict:id-b']);
  });

  it('lets two entries swap logins in one run', () => {
    const a = storedUser('a');
    const b = storedUser('b');
    const p = plan({ desired: [desiredUser('a', { login: b.login }), desiredUser('b', { login: a.login })], stored: [a, b] });
    expect(kinds(p)).toEqual(['update:id-a', 'update:id-b']);
  });

  it('follows a conflict through: the loser keeps its old login, which another entry then cannot take', () => {
    const local = storedUser('zoidberg', { source: 'local', externalId: 'l1' });
    const a = storedUser('a');
    const b = storedUser('b');
    // a wants zoidberg's login (taken) so keeps its own; b wanted a's login.
    const p = plan({ desired: [desiredUser('a', { login: local.login }), desiredUser('b', { login: a.login })], stored: [local, a, b] });
    expect(kinds(p).sort()).toEqual(['conflict:id-a', 'conflict:id-b']);
    expect(only(p, 'conflict').find((c) => c.externalId === 'id-b')).toMatchObject({ cause: 'held-by-kept-row', holder: { id: a.id } });
  });

  it('does not let a new entry take the login of a row whose entry is missing while deletes are off', () => {
    const old = storedUser('fry', { externalId: 'old-uuid' });
    const recreated = desiredUser('fry', { externalId: 'new-uuid' });
    const off = plan({ desired: [recreated], stored: [old] });
    expect(kinds(off)).toEqual(['conflict:new-uuid']);
    expect(off.missing).toEqual([{ id: old.id, externalId: 'old-uuid', dn: old.dn, name: 'fry' }]);

    const on = plan({ desired: [recreated], stored: [old], deletes: deletesOn() });
    expect(kinds(on)).toEqual(['create:new-uuid', 'remove:old-uuid']);
  });

  it('does not revive a removed row into a login someone else took meanwhile', () => {
    const removed = storedUser('fry', { removedAt: new Date('2024-01-01'), enabled: false });
    const local = storedUser('fry', { source: 'local', externalId: 'l1' });
    const p = plan({ desired: [desiredUser('fry')], stored: [removed, local], deletes: deletesOn() });
    expect(kinds(p)).toEqual(['conflict:id-fry']);
  });
});

describe('planUsers: missing entries and deletes', () => {
  const rows = Array.from({ length: 20 }, (_, i) => storedUser(`u${i}`));
  const all = rows.map((r) => desiredUser(r.username));

  it('only reports missing users when deletes are off, even when the directory returns nothing', () => {
    const p = plan({ desired: [], stored: rows });
    expect(only(p, 'remove')).toEqual([]);
    expect(p.missing).toHaveLength(20);
    expect(p.guard.tripped).toBe(false);
  });

  it('disables a missing user in mode disable and deletes it in mode delete', () => {
    const disable = plan({ desired: all.slice(1), stored: rows, deletes: deletesOn() });
    expect(only(disable, 'remove')).toEqual([
      expect.objectContaining({ id: rows[0]?.id, mode: 'disable', reason: 'missing', live: true }),
    ]);
    const del = plan({ desired: all.slice(1), stored: rows, deletes: deletesOn({ mode: 'delete' }) });
    expect(only(del, 'remove')[0]).toMatchObject({ mode: 'delete', reason: 'missing' });
  });

  it('never removes a row of local or of another profile', () => {
    const foreign = [storedUser('x', { source: 'local' }), storedUser('y', { source: 'other' })];
    const p = plan({ desired: all, stored: [...rows, ...foreign], deletes: deletesOn() });
    expect(only(p, 'remove')).toEqual([]);
    expect(p.missing).toEqual([]);
  });

  it('keeps the row of a skipped entry untouched, matched by id or by DN in any case', () => {
    const byId = { kind: 'mapping-error', dn: 'uid=u0,whatever', externalId: rows[0]?.externalId, reason: "int('abc')" } as const;
    const byDn = { kind: 'no-id', dn: rows[1]?.dn.toUpperCase() ?? '', reason: 'no entryUUID' } as const;
    const p = plan({ desired: all.slice(2), stored: rows, skipped: [byId, byDn], deletes: deletesOn({ maxPercentage: 0 }) });
    expect(p.changes).toEqual([]);
    expect(p.guard).toMatchObject({ tripped: false, removals: 0 });
    expect(p.skipped).toEqual([byId, byDn]);
    expect(plan({ desired: all.slice(2), stored: rows, skipped: [byId, byDn] }).missing).toEqual([]);
  });

  it('skips every entry of an id that several entries share and keeps their row', () => {
    const row = rows[0];
    const twin = desiredUser('u0', { dn: 'uid=u0,ou=elsewhere,dc=planetexpress,dc=com' });
    const p = plan({ desired: [...all, twin], stored: rows, deletes: deletesOn({ maxPercentage: 0 }) });
    expect(p.skipped.map((s) => [s.kind, s.dn])).toEqual([
      ['duplicate-id', row?.dn],
      ['duplicate-id', twin.dn],
    ]);
    expect(p.changes).toEqual([]);
    expect(p.unchanged).toBe(19);
  });

  it('revives a removed row whose entry is back', () => {
    const removedAt = new Date('2024-05-01');
    const row = storedUser('fry', { enabled: false, removedAt });
    const [update] = only(plan({ desired: [desiredUser('fry')], stored: [row] }), 'update');
    expect(update).toMatchObject({ id: row.id, revive: true, enabled: true });
    expect(update?.changes).toEqual({ enabled: { old: false, new: true }, removedAt: { old: removedAt, new: null } });
  });

  it('purges rows disabled longer than purgeAfter, without counting them against the guard', () => {
    const day = 86_400_000;
    const old = storedUser('old', { enabled: false, removedAt: new Date(NOW.getTime() - 31 * day) });
    const recent = storedUser('recent', { enabled: false, removedAt: new Date(NOW.getTime() - 29 * day) });
    const p = plan({ desired: all, stored: [...rows, old, recent], deletes: deletesOn({ purgeAfter: 30 * day, maxPercentage: 0 }) });
    expect(only(p, 'remove')).toEqual([expect.objectContaining({ id: old.id, mode: 'delete', reason: 'purge', live: false })]);
    expect(p.guard).toMatchObject({ tripped: false, removals: 0, live: 20 });
    expect(only(plan({ desired: all, stored: [...rows, old] }), 'remove')).toEqual([]);
  });

  it('in mode delete also deletes rows an earlier run disabled, outside the guard', () => {
    const disabled = storedUser('old', { enabled: false, removedAt: new Date('2024-01-01') });
    const p = plan({ desired: all, stored: [...rows, disabled], deletes: deletesOn({ mode: 'delete', maxPercentage: 0 }) });
    expect(only(p, 'remove')).toEqual([expect.objectContaining({ id: disabled.id, mode: 'delete', live: false })]);
    expect(p.guard.tripped).toBe(false);
  });
});

describe('planUsers: the delete guard', () => {
  const rows = Array.from({ length: 100 }, (_, i) => storedUser(`g${i}`));
  const all = rows.map((r) => desiredUser(r.username));
  const removed = Array.from({ length: 50 }, (_, i) => storedUser(`r${i}`, { enabled: false, removedAt: NOW }));

  it('passes removals exactly at maxPercentage of the live rows and trips one above', () => {
    const at = plan({ desired: all.slice(7), stored: [...rows, ...removed], deletes: deletesOn({ maxPercentage: 7 }) });
    expect(at.guard).toMatchObject({ tripped: false, removals: 7, live: 100, percentage: 7 });
    const above = plan({ desired: all.slice(8), stored: [...rows, ...removed], deletes: deletesOn({ maxPercentage: 7 }) });
    expect(above.guard).toMatchObject({ tripped: true, removals: 8, live: 100 });
    expect(above.guard.reason).toMatch(/8 of 100 live users/);
  });

  it('trips on maxCount even under the percentage', () => {
    const p = plan({ desired: all.slice(3), stored: rows, deletes: deletesOn({ maxPercentage: 50, maxCount: 2 }) });
    expect(p.guard).toMatchObject({ tripped: true, removals: 3 });
    expect(p.guard.reason).toMatch(/maxCount 2/);
  });

  it('reads an empty search result with live rows as 100% removal', () => {
    const p = plan({ desired: [], stored: rows, deletes: deletesOn({ maxPercentage: 99.9 }) });
    expect(p.guard).toMatchObject({ tripped: true, removals: 100, percentage: 100 });
    expect(p.guard.reason).toMatch(/no entries/);
    expect(plan({ desired: [], stored: rows, deletes: deletesOn({ maxPercentage: 100 }) }).guard.tripped).toBe(false);
  });

  it('does not trip with nothing to remove, even at maxPercentage 0', () => {
    expect(plan({ desired: all, stored: rows, deletes: deletesOn({ maxPercentage: 0 }) }).guard.tripped).toBe(false);
    expect(plan({ desired: [desiredUser('new')], stored: [], deletes: deletesOn({ maxPercentage: 0 }) }).guard.tripped).toBe(false);
  });
});

describe('streamedFirstPlan: a first sync written as it was read', () => {
  /** What the store does to a first sync's entries: inserts each in order unless a live row holds its login or id. */
  function stream(desired: ReadonlyArray<DesiredUser>, foreign: ReadonlyArray<StoredUser>): { created: UserCreate[]; refused: DesiredUser[] } {
    const logins = new Set(foreign.map((r) => r.login.toLowerCase()));
    const ids = new Set<string>();
    const created: UserCreate[] = [];
    const refused: DesiredUser[] = [];
    for (const user of desired) {
      if (logins.has(user.login.toLowerCase()) || ids.has(user.externalId)) {
        refused.push(user);
        continue;
      }
      logins.add(user.login.toLowerCase());
      ids.add(user.externalId);
      created.push({ kind: 'create', externalId: user.externalId, dn: user.dn, username: user.username, login: user.login, enabled: desiredEnabled(user), fields: user.fields });
    }
    return { created, refused };
  }

  function streamed(desired: ReadonlyArray<DesiredUser>, foreign: ReadonlyArray<StoredUser>, skipped: ReadonlyArray<Skip>, examples = 50): UserPlan | undefined {
    const { created, refused } = stream(desired, foreign);
    const rest = plan({ desired: refused, stored: foreign, skipped, deletes: deletesOn() });
    return streamedFirstPlan({ profile: PROFILE, created: created.length, examples: created.slice(0, examples), rest, returned: desired.length + skipped.length, deletes: deletesOn() });
  }

  const noMail: Skip = { kind: 'mapping-error', dn: 'uid=hermes,ou=people,dc=planetexpress,dc=com', externalId: 'id-hermes', reason: 'email: no value' };

  it('is the plan planUsers makes of the whole directory when only other sources hold the logins refused', () => {
    const local = storedUser('bender', { source: 'local', externalId: 'local-7', login: 'BENDER@planetexpress.com' });
    const desired = ['fry', 'bender', 'leela', 'amy'].map((name) => desiredUser(name));
    const whole = plan({ desired, stored: [local], skipped: [noMail], deletes: deletesOn() });
    expect(streamed(desired, [local], [noMail])).toEqual({ ...whole, createsAbridged: true });
    expect(kinds(whole)).toEqual(['create:id-fry', 'create:id-leela', 'create:id-amy', 'conflict:id-bender']);
  });

  it('lists only the example creates it was given, and counts them all', () => {
    const desired = ['fry', 'leela', 'amy', 'zoidberg'].map((name) => desiredUser(name));
    const p = streamed(desired, [], [], 2);
    expect(kinds(p as UserPlan)).toEqual(['create:id-fry', 'create:id-leela']);
    expect(p?.counts).toEqual({ created: 4, updated: 0, removed: 0, unchanged: 0, skipped: 0, conflicts: 0, missing: 0 });
    expect(p?.guard.tripped).toBe(false);
  });

  it('gives undefined when an entry was refused for a login or id another entry of the run took: planUsers refuses both', () => {
    const twin = desiredUser('fry2', { login: 'FRY@planetexpress.com' });
    expect(streamed([desiredUser('fry'), twin, desiredUser('leela')], [], [])).toBeUndefined();
    expect(plan({ desired: [desiredUser('fry'), twin], deletes: deletesOn() }).counts).toMatchObject({ created: 0, conflicts: 2 });

    const sameId = desiredUser('leela', { externalId: 'id-fry' });
    expect(streamed([desiredUser('fry'), sameId], [], [])).toBeUndefined();
    // A refused entry and a skip sharing an id: both are skipped, which the streamed rows cannot show.
    const refusedTwin = desiredUser('bender', { login: 'fry@planetexpress.com', externalId: 'id-hermes' });
    expect(streamed([desiredUser('fry'), refusedTwin], [], [noMail])).toBeUndefined();
  });
});
