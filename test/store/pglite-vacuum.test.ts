import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { openTestStore } from '../helpers/postgres.js';
import { syncGroups, syncUsers, person, team } from './sync-helpers.js';

async function pages(store: Store, table: string): Promise<number> {
  const { rows } = await sql<{ bytes: number }>`SELECT pg_relation_size(${`${store.schema}.${table}`}) AS bytes`.execute(store.kysely);
  return Number(rows[0]?.bytes ?? 0) / 8192;
}

describe('the embedded store, which runs no autovacuum', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore('pglite'));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('uses the space of rewritten rows again: resyncs that change every user do not grow the table run after run', async () => {
    const profile = 'churn';
    const round = (n: number) => Array.from({ length: 2000 }, (_, i) => person(`c${i}`, { fields: { notes: `round ${n} ${'x'.repeat(200)}` } }));
    await syncUsers(store, profile, round(0));
    const first = await pages(store, 'users');
    const sizes: number[] = [];
    for (let n = 1; n <= 4; n++) {
      const { plan } = await syncUsers(store, profile, round(n));
      expect(plan.counts.updated).toBe(2000);
      sizes.push(await pages(store, 'users'));
    }
    // Each round leaves a table's worth of old row versions; only VACUUM lets later rounds write over them.
    expect(sizes[0]).toBeGreaterThan(first);
    expect(sizes[3]).toBeLessThanOrEqual(sizes[0] ?? 0);
  });

  it('and so do resyncs that replace every membership', async () => {
    const profile = 'churn-groups';
    const users = Array.from({ length: 400 }, (_, i) => person(`g${i}`));
    await syncUsers(store, profile, users);
    const half = (odd: number) => users.filter((_, i) => i % 2 === odd).map((u) => u.dn);
    const groups = (odd: number) => Array.from({ length: 20 }, (_, i) => team(`t${i}`, half((odd + i) % 2)));
    await syncGroups(store, profile, groups(0));
    const sizes: number[] = [];
    for (let n = 1; n <= 4; n++) {
      const { plan } = await syncGroups(store, profile, groups(n % 2));
      expect(plan.counts).toMatchObject({ membershipsAdded: 4000, membershipsRemoved: 4000 });
      sizes.push(await pages(store, 'group_members'));
    }
    expect(sizes[3]).toBeLessThanOrEqual(sizes[0] ?? 0);
  });
});
