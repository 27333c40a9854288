import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, Profile } from '../config/index.js';
import { planUsers, type DesiredUser, type StoredUser, type UserPlan } from '../reconcile/index.js';
import { LdapsyncError, type Logger } from '../shared/index.js';
import type { AppliedChange, Store } from '../store/index.js';
import { callHooks, loadHooks } from '../sync/index.js';
import { loginHolders, ownRows } from './stored-rows.js';

/** Where a row write goes: rows of one profile in one store, under one config. */
export interface WriteContext {
  readonly config: Config;
  readonly store: Store;
  readonly profile: Profile;
  readonly logger: Logger;
  /** How long to wait for the profile's lock (held by a sync) before giving up with `auth.busy`. */
  readonly lockWaitMs: number;
}

export type Saved =
  | { readonly kind: 'stored'; readonly user: StoredUser; readonly change: 'created' | 'updated' | 'unchanged'; readonly runId: string | undefined }
  | { readonly kind: 'conflict'; readonly reason: string };

type Planned = { readonly kind: 'write'; readonly plan: UserPlan } | { readonly kind: 'unchanged' } | { readonly kind: 'conflict'; readonly reason: string };

/**
 * The sync's planner on the entries of successful logins, with deletes off: the other rows given are there only
 * as holders of logins, so the rules (identity by external id, login conflicts) are exactly a sync's.
 */
export function planLogins(profile: Profile, desired: ReadonlyArray<DesiredUser>, stored: ReadonlyArray<StoredUser>): UserPlan {
  return planUsers({ profile: profile.name, desired, stored, skipped: [], deletes: { ...profile.deletes, enabled: false }, now: new Date() });
}

/** What a plan does to one entry. */
export function plannedFor(plan: UserPlan, externalId: string): Planned {
  const change = plan.changes.find((c) => c.externalId === externalId);
  if (change === undefined) return { kind: 'unchanged' };
  switch (change.kind) {
    case 'create':
    case 'update':
      return { kind: 'write', plan };
    case 'conflict':
      return { kind: 'conflict', reason: change.reason };
    case 'remove':
      throw new LdapsyncError('auth.internal', `a login planned the removal of ${change.dn}, which a plan with deletes off never does`, { profile: plan.profile });
    default: {
      const never: never = change;
      throw new LdapsyncError('auth.internal', `unknown change ${String(never)}`);
    }
  }
}

interface Pending {
  readonly context: WriteContext;
  readonly desired: DesiredUser;
  readonly resolve: (saved: Saved) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Writes the rows of successful logins, one profile at a time. Logins that arrive while a write is under way are
 * gathered and written together in the next one: one lock, one run (trigger `login`), one transaction. A burst of
 * first logins (everyone on Monday morning, after a deployment) then costs a few runs, not one per user, and
 * logins queue here instead of all polling the store's lock.
 */
export class RowWriteQueue {
  readonly #pending = new Map<string, Pending[]>();
  readonly #draining = new Set<string>();

  write(context: WriteContext, desired: DesiredUser): Promise<Saved> {
    return new Promise<Saved>((resolve, reject) => {
      const name = context.profile.name;
      const queue = this.#pending.get(name) ?? [];
      queue.push({ context, desired, resolve, reject });
      this.#pending.set(name, queue);
      if (!this.#draining.has(name)) void this.#drain(name);
    });
  }

  async #drain(name: string): Promise<void> {
    this.#draining.add(name);
    try {
      for (let queue = this.#pending.get(name); queue !== undefined && queue.length > 0; queue = this.#pending.get(name)) {
        // Only writes for the same store and profile (config) go together; others, after a reload, wait a turn.
        const first = queue[0] as Pending;
        const batch = queue.filter((p) => p.context.store === first.context.store && p.context.profile === first.context.profile && p.context.config === first.context.config);
        this.#pending.set(
          name,
          queue.filter((p) => !batch.includes(p)),
        );
        try {
          const saved = await saveBatch(first.context, batch.map((p) => p.desired));
          batch.forEach((p, i) => p.resolve(saved[i] as Saved));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#draining.delete(name);
      if (this.#pending.get(name)?.length === 0) this.#pending.delete(name);
    }
  }
}

/**
 * Plans the entries again under the profile's lock (a sync may have written them meanwhile) and applies the plan
 * in a run of its own. One answer per entry, in order; an entry given twice gets the change once, then
 * `unchanged` (the row it finds was written by the other login).
 */
async function saveBatch(context: WriteContext, desired: ReadonlyArray<DesiredUser>): Promise<Saved[]> {
  const { store, profile, config, logger } = context;
  const unique = [...new Map(desired.map((d) => [d.externalId, d])).values()];
  const ids = unique.map((d) => d.externalId);
  return underProfileLock(store, profile.name, context.lockWaitMs, async () => {
    const before = await ownRows(store, profile.name, ids);
    const holders = await loginHolders(
      store,
      unique.map((d) => d.login),
    );
    const plan = planLogins(profile, unique, [...before.values(), ...holders]);
    let runId: string | undefined;
    let applied: ReadonlyArray<AppliedChange> = [];
    if (plan.counts.created + plan.counts.updated > 0) {
      runId = await store.beginRun({ source: profile.name, kind: 'users', trigger: 'login', dryRun: false, configHash: config.hash });
      try {
        applied = await store.applyUserPlan(runId, plan);
        for (const change of applied) logger.info(change, change.event);
      } catch (err) {
        await store.finishRun(runId, { status: 'failed', error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
        throw err;
      }
    }
    // Hooks see a login's row changes as they see a sync's; a hook that throws is logged and changes nothing.
    await callHooks(await loadHooks(config.hooks, logger), applied, logger);
    const after = await ownRows(store, profile.name, ids);
    const answered = new Set<string>();
    return desired.map((d): Saved => {
      const planned = plannedFor(plan, d.externalId);
      if (planned.kind === 'conflict') return planned;
      const user = after.get(d.externalId);
      if (user === undefined) throw new LdapsyncError('auth.internal', `the row of ${d.dn} is missing right after it was written`, { profile: profile.name, table: 'users' });
      const first = !answered.has(d.externalId);
      answered.add(d.externalId);
      if (planned.kind === 'unchanged' || !first) return { kind: 'stored', user, change: 'unchanged', runId: undefined };
      return { kind: 'stored', user, change: before.has(d.externalId) ? 'updated' : 'created', runId };
    });
  });
}

/**
 * Runs `fn` under the profile's lock, the one every sync of the profile takes, waiting at most `waitMs` for it.
 * The lock is tried rather than waited on in Postgres, so that logins queued behind a long sync hold no
 * database connection while they wait.
 */
async function underProfileLock<T>(store: Store, profile: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 1_000)) {
    const result = await store.withProfileLock(profile, fn, { wait: false });
    if (result !== 'busy') return result;
    if (Date.now() + pause > deadline) {
      throw new LdapsyncError(
        'auth.busy',
        `the password is right, but a sync of ${profile} has held the profile's lock for ${waitMs} ms, so the user's row cannot be written now; try again when the sync is done`,
        { profile },
      );
    }
    await sleep(pause);
  }
}
