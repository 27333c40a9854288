import type { DeletesConfig, GroupQuery, UserQuery } from '../config/index.js';
import { Directory, normalizeDn, WireAttributes } from '../ldap/index.js';
import {
  desiredEnabled,
  planGroups,
  planUsers,
  streamedFirstPlan,
  unchangedUserPlan,
  type DeleteGuard,
  type DesiredGroup,
  type DesiredUser,
  type GroupPlan,
  type MatchedGroup,
  type MatchedUser,
  type MemberCandidate,
  type RowId,
  type Skip,
  type StoredGroup,
  type StoredGroupSummary,
  type StoredUser,
  type StoredUserSummary,
  type UserCreate,
  type UserPlan,
} from '../reconcile/index.js';
import { BATCH_ROWS, type AppliedChange, type DigestedGroupSummary, type DigestedUserSummary, type EntryDigests, type GroupDigests, type RunCounts, type RunId, type Store } from '../store/index.js';
import { collectGarbage, deferLines, LdapsyncError, toLdapsyncError, type DeferredLines, type Entry, type Logger } from '../shared/index.js';
import { desiredGroup, desiredUser, isSkip } from './desired.js';
import { entryDigest, groupKey, recordKey } from './entry-digest.js';
import { callHooks, loadHooks } from './hooks.js';
import type { SyncCounts, SyncKind, SyncOutcome, SyncRequest } from './types.js';

/** The digests of a profile's user rows, as `planUserSync` first reads them. */
type UserDigests = Awaited<ReturnType<Store['userDigestsOf']>>;

/** What a run planned, next to how it ended: the CLI prints it, a dry run exists for it. */
export type SyncResult = SyncOutcome & { readonly plan?: UserPlan | GroupPlan };

/**
 * One reconciliation of one profile: read every matching entry (paged, streamed), map it, plan against the store,
 * and apply the plan in one transaction. Never throws for a failed sync: the outcome says how it ended, and a
 * failure leaves the store as it was (the run row says failed).
 *
 * A real run holds the profile's lock (an advisory lock on Postgres) from before it reads until after it writes,
 * so two runs of one profile, in this process or any replica, never interleave; a second one is `busy`.
 * A dry run takes no lock and writes nothing, not even a run row.
 */
export async function runSync(request: SyncRequest, store: Store): Promise<SyncResult> {
  const { profile, kind, logger } = request;
  const started = Date.now();
  const context = { profile: profile.name, kind, trigger: request.trigger, dryRun: request.dryRun };
  const query = kind === 'users' ? profile.users : profile.groups;
  if (query === undefined) {
    const error = new LdapsyncError('sync.no-groups', `profile "${profile.name}" has no groups query`, { profile: profile.name });
    return { status: 'failed', runId: undefined, error, durationMs: 0 };
  }
  logger.info({ event: 'sync.started', ...context }, `${kind} sync of ${profile.name} started`);

  if (request.dryRun) return execute(request, store, undefined, started);
  const locked = await store
    .withProfileLock(profile.name, () => execute(request, store, { configHash: request.config.hash }, started), { wait: false })
    .catch((err: unknown): Promise<SyncResult> => fail(request, undefined, err, started));
  if (locked !== 'busy') return locked;
  const reason = `another ${kind === 'users' ? 'user' : 'group'} or login sync of ${profile.name} is running (in this process or another replica)`;
  logger.info({ event: 'sync.skipped', ...context, reason }, `${kind} sync of ${profile.name} skipped: ${reason}`);
  return { status: 'busy', reason };
}

async function execute(request: SyncRequest, store: Store, real: { configHash: string } | undefined, started: number): Promise<SyncResult> {
  const { profile, kind, logger } = request;
  let runId: RunId | undefined;
  try {
    if (real !== undefined) runId = await store.beginRun({ source: profile.name, kind, trigger: request.trigger, dryRun: false, configHash: real.configHash });
    const deletes = effectiveDeletes(profile.deletes, request.deletes);
    let known: UserDigests | undefined;
    // The transaction stays open while the directory is read: not on a store whose one connection it would hold.
    if (runId !== undefined && kind === 'users' && request.wholePlan !== true && store.longTransactions) {
      known = await store.userDigestsOf(profile.name);
      if (known.rows === 0) {
        const audit = auditLines(logger);
        let streamed: Awaited<ReturnType<typeof streamFirstUserSync>>;
        try {
          streamed = await streamFirstUserSync(request, store, runId, deletes, audit);
        } catch (err) {
          audit.discard();
          throw err;
        }
        if (streamed !== undefined) {
          logSkips(streamed.plan.skipped, request);
          logFindings(streamed.plan, request);
          return await finished(request, runId, streamed.plan, audit, streamed.applied, started);
        }
        audit.discard();
        logger.info(
          { event: 'sync.replanned', profile: profile.name, kind, runId },
          `first sync of ${profile.name}: entries share a login or an id; rolled back what was written and planning the whole directory in memory`,
        );
      }
    }
    const planned = kind === 'users' ? await planUserSync(request, store, deletes, known) : await planGroupSync(request, store, deletes);
    const { plan } = planned;
    logSkips(plan.skipped, request);
    logFindings(plan, request);
    const counts = countsOf(plan);

    if (plan.guard.tripped) {
      const reason = guardReason(plan.guard, kind, profile.name);
      if (runId !== undefined) await store.finishRun(runId, { status: 'aborted', error: reason, counts: runCounts(counts) });
      logger.warn({ event: 'sync.aborted', profile: profile.name, kind, runId, reason, guard: plan.guard, counts }, `${kind} sync of ${profile.name} aborted: ${reason}`);
      return { status: 'aborted', runId, counts, reason, durationMs: Date.now() - started, plan };
    }
    if (runId === undefined) {
      logger.info({ event: 'sync.planned', profile: profile.name, kind, counts }, `${kind} sync of ${profile.name} planned (dry run, nothing written)`);
      return { status: 'succeeded', runId, counts, durationMs: Date.now() - started, plan };
    }

    throwIfAborted(request.signal);
    // What was read is garbage now, and the writes allocate an event per change (see collectGarbage).
    if (plan.changes.length > 0 || (plan.kind === 'groups' && plan.memberships.length > 0)) collectGarbage();
    const audit = auditLines(logger);
    let applied: AppliedChange[];
    try {
      applied =
        planned.kind === 'users'
          ? await store.applyUserPlan(runId, planned.plan, audit.add, planned.digests)
          : await store.applyGroupPlan(runId, planned.plan, audit.add, planned.digests);
    } catch (err) {
      audit.discard();
      throw err;
    }
    return await finished(request, runId, plan, audit, applied, started);
  } catch (err) {
    return fail(request, runId, err, started, store);
  }
}

/** After the commit: the audit lines written out, the run's end logged, the hooks called. */
async function finished(
  request: SyncRequest,
  runId: RunId,
  plan: UserPlan | GroupPlan,
  audit: DeferredLines<AppliedChange>,
  applied: ReadonlyArray<AppliedChange>,
  started: number,
): Promise<SyncResult> {
  const { profile, kind, logger } = request;
  try {
    audit.release();
  } catch (err) {
    // Committed is committed: a log that cannot be written (a reader gone from the pipe) does not fail the run.
    logger.error({ event: 'sync.audit_failed', profile: profile.name, kind, runId, err: toLdapsyncError(err).message }, 'the audit lines of a committed run could not be written');
  }
  const counts = countsOf(plan);
  const durationMs = Date.now() - started;
  logger.info({ event: 'sync.finished', profile: profile.name, kind, runId, counts, durationMs }, `${kind} sync of ${profile.name} finished`);
  await callHooks(await loadHooks(request.config.hooks, logger), applied, logger);
  return { status: 'succeeded', runId, counts, durationMs, plan };
}

async function fail(request: SyncRequest, runId: RunId | undefined, err: unknown, started: number, store?: Store): Promise<SyncResult> {
  const error = toLdapsyncError(err, 'sync.failed', { profile: request.profile.name });
  if (runId !== undefined && store !== undefined) {
    await store.finishRun(runId, { status: 'failed', error: error.message }).catch((closeErr: unknown) => {
      request.logger.error({ event: 'sync.run_row_failed', runId, err: toLdapsyncError(closeErr).message }, 'could not mark the run failed');
    });
  }
  request.logger.error(
    { event: 'sync.failed', profile: request.profile.name, kind: request.kind, runId, code: error.code, err: error.message },
    `${request.kind} sync of ${request.profile.name} failed; nothing was written: ${error.message}`,
  );
  return { status: 'failed', runId, error, durationMs: Date.now() - started };
}

/**
 * The planner's reason says what was found and which limit to raise; when the percentage limit tripped, the
 * command that allows it once is added (no option raises maxCount for one run, so none is offered for it).
 */
function guardReason(guard: DeleteGuard, kind: SyncKind, profile: string): string {
  const reason = guard.reason ?? 'the delete guard tripped; nothing was written';
  if (guard.removals * 100 <= guard.maxPercentage * guard.live) return reason;
  return `${reason}: run "ldapsync sync ${kind} ${profile} --delete --max-delete-percentage ${Math.ceil(guard.percentage)}" once`;
}

function effectiveDeletes(configured: DeletesConfig, override: SyncRequest['deletes']): DeletesConfig {
  return {
    ...configured,
    enabled: override?.enabled ?? configured.enabled,
    maxPercentage: override?.maxPercentage ?? configured.maxPercentage,
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new LdapsyncError('sync.interrupted', 'the sync was interrupted (shutdown); nothing was written');
}

/** Reads the query's entries page by page and sorts what `convert` makes of each into desired records and skips (undefined: neither, `convert` kept it). */
async function readDirectory<T extends DesiredUser | DesiredGroup | MatchedGroup>(
  request: SyncRequest,
  pages: (directory: Directory) => AsyncIterable<ReadonlyArray<Entry>>,
  convert: (entry: Entry) => T | Skip | undefined,
  afterPage?: () => Promise<void>,
): Promise<{ desired: T[]; skipped: Skip[] }> {
  const desired: T[] = [];
  const skipped: Skip[] = [];
  const directory = await Directory.open(request.profile, { logger: request.logger });
  try {
    let read = 0;
    for await (const page of pages(directory)) {
      throwIfAborted(request.signal);
      for (const entry of page) {
        const result = convert(entry);
        // convert keeps values, never the map that holds them: the map need not wait for the rest of the page.
        if (entry.attributes instanceof WireAttributes) entry.attributes.discard();
        if (result === undefined) continue;
        if (isSkip(result)) skipped.push(result);
        else desired.push(result);
      }
      read += page.length;
      request.onProgress?.({ read });
      await afterPage?.();
    }
  } finally {
    await directory.close();
  }
  return { desired, skipped };
}

/**
 * The profile's rows are read before the directory as their digests alone, and each entry is looked up as it
 * arrives: one whose digest (of its DN and attributes, `entryDigest`) a live row holds was written from that very
 * entry, and holds its record; it is neither mapped nor decoded. When every entry and every row matched, nothing
 * changes and nothing more is read. Otherwise the rows are read without their fields, the matched entries are
 * kept by their rows' identities, the others are mapped, and only their rows are then read whole to compare.
 */
async function planUserSync(request: SyncRequest, store: Store, deletes: DeletesConfig, digests?: UserDigests): Promise<{ kind: 'users'; plan: UserPlan; digests: EntryDigests }> {
  const { profile } = request;
  const query: UserQuery = profile.users;
  const key = recordKey(profile, query);
  const known = digests ?? (await store.userDigestsOf(profile.name));
  const matchedIds: RowId[] = [];
  const digestOf = new Map<string, string>();
  const { desired: mapped, skipped } = await readDirectory<DesiredUser>(
    request,
    (d) => d.users(query.mapping.attributes),
    (entry) => {
      const digest = entryDigest(entry, key);
      const id = digest === undefined ? undefined : known.byDigest.get(digest);
      if (id !== undefined) {
        matchedIds.push(id);
        return undefined;
      }
      const user = desiredUser(entry, profile, query);
      if (!isSkip(user) && digest !== undefined) digestOf.set(user.externalId, digest);
      return user;
    },
  );
  if (mapped.length === 0 && skipped.length === 0 && matchedIds.length === known.rows && new Set(matchedIds).size === known.rows) {
    return { kind: 'users', plan: unchangedUserPlan(profile.name, known.rows, deletes), digests: { of: digestOf, refresh: [] } };
  }

  const own = new Map<string, DigestedUserSummary>();
  const byId = new Map<RowId, DigestedUserSummary>();
  for (const row of await store.userSummariesOf(profile.name)) {
    own.set(row.externalId, row);
    byId.set(row.id, row);
  }
  const desired: Array<DesiredUser | MatchedUser> = mapped;
  for (const id of matchedIds) {
    const row = byId.get(id);
    if (row === undefined || row.removedAt !== null) {
      throw new LdapsyncError('store.stale-plan', `a user row (id ${id}) was removed while the directory was read; nothing was written, the next run sees it`, { table: 'users' });
    }
    desired.push({ externalId: row.externalId, dn: row.dn, username: row.username, login: row.login });
  }
  const compared: string[] = [];
  for (const user of desired) if (user.fields !== undefined && own.has(user.externalId)) compared.push(user.externalId);
  // Many rows to compare (a changed mapping, a first sync with digests): reading them all beats looking each up.
  const whole = compared.length > own.size / 4 ? await store.usersOf(profile.name) : await store.usersByExternalIds(profile.name, compared);
  const rows = new Map<string, StoredUser | StoredUserSummary>(own);
  for (const row of whole) if (row.externalId !== '') rows.set(row.externalId, row);
  const stored = [...rows.values()];
  const others = await store.usersWithLogins(loginsToCheck(desired, stored), profile.name);
  const plan = planUsers({ profile: profile.name, desired, stored: [...stored, ...others], skipped, deletes, now: new Date() });

  // Entries compared in full and found unchanged: their rows get their digests, if they hold others. Not a row
  // the plan changes, leaves alone (a conflict) or keeps as it is for an entry skipped (one of a shared id).
  const touched = new Set<string>();
  for (const change of plan.changes) touched.add(change.externalId);
  for (const skip of plan.skipped) if (skip.externalId !== undefined) touched.add(skip.externalId);
  const refresh: Array<{ id: number; digest: string }> = [];
  for (const [externalId, digest] of digestOf) {
    const row = own.get(externalId);
    if (row !== undefined && row.removedAt === null && row.entryDigest !== digest && !touched.has(externalId)) refresh.push({ id: row.id, digest });
  }
  return { kind: 'users', plan, digests: { of: digestOf, refresh } };
}

/** The creates a plan lists when a first sync is written as it is read: as many as `ldapsync sync` prints. */
const EXAMPLE_CREATES = 50;

/**
 * A first sync of users (the profile has no rows, live or removed) is written as it is read, in one transaction:
 * each entry becomes a create, and every BATCH_ROWS of them are inserted while the next pages are read. Only the
 * first creates are kept (as examples for the plan), so memory is bounded by the batch, not by the directory.
 *
 * An insert leaves out a row a unique index refuses: one whose login another source's live row holds (a conflict,
 * as planUsers would find), or one whose login or id an earlier entry of this run took. planUsers would have left
 * the entries of such a pair both out, so then the transaction is rolled back and undefined returned: the caller
 * plans the whole directory in memory instead. So it is when a skipped entry shares its id with a row written.
 */
async function streamFirstUserSync(
  request: SyncRequest,
  store: Store,
  runId: RunId,
  deletes: DeletesConfig,
  audit: DeferredLines<AppliedChange>,
): Promise<{ plan: UserPlan; applied: ReadonlyArray<AppliedChange> } | undefined> {
  const { profile } = request;
  const query: UserQuery = profile.users;
  const key = recordKey(profile, query);
  // Hooks hear of every change after the commit, so their events are kept; nothing else keeps them.
  const events = { onApplied: audit.add, keep: request.config.hooks.length > 0 };
  const outcome = await store.streamUserCreates(runId, profile.name, events, async (stream) => {
    const examples: UserCreate[] = [];
    const refused: UserCreate[] = [];
    let batch: UserCreate[] = [];
    let digests = new Map<string, string>();
    const writes = new OneWriteAtATime();
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const [part, partDigests] = [batch, digests];
      batch = [];
      digests = new Map();
      await writes.start(async () => {
        for (const create of await stream.write(part, partDigests)) refused.push(create);
      });
    };
    let skipped: Skip[];
    try {
      ({ skipped } = await readDirectory<never>(
        request,
        (d) => d.users(query.mapping.attributes),
        (entry) => {
          // Of the server's bytes, which mapping decodes: first.
          const digest = entryDigest(entry, key);
          const user = desiredUser(entry, profile, query);
          if (isSkip(user)) return user;
          const create: UserCreate = { kind: 'create', externalId: user.externalId, dn: user.dn, username: user.username, login: user.login, enabled: desiredEnabled(user), fields: user.fields };
          batch.push(create);
          if (digest !== undefined) digests.set(user.externalId, digest);
          if (examples.length < EXAMPLE_CREATES) examples.push(create);
          return undefined;
        },
        () => {
          // Pages the socket buffered already are read without an idle turn: the lines of the rows written so far
          // are made now, so that their events die young instead of waiting for one (see DeferredLines.catchUp).
          audit.catchUp(BATCH_ROWS);
          return batch.length >= BATCH_ROWS ? flush() : Promise.resolve();
        },
      ));
      await flush();
    } catch (err) {
      // No statement may outlive the transaction: a failed read waits for the write in flight before rolling back.
      await writes.settle().catch(() => undefined);
      throw err;
    }
    await writes.settle();
    throwIfAborted(request.signal);

    const sharedIds = refused.map((c) => c.externalId);
    for (const skip of skipped) if (skip.externalId !== undefined) sharedIds.push(skip.externalId);
    if (await stream.holdsAny(sharedIds)) return undefined;
    const holders = await stream.loginHolders(refused.map((c) => c.login));
    const desired = refused.map((c): DesiredUser => ({ externalId: c.externalId, dn: c.dn, username: c.username, login: c.login, fields: c.fields }));
    const rest = planUsers({ profile: profile.name, desired, stored: holders, skipped, deletes, now: new Date() });
    const left = new Set(refused);
    return streamedFirstPlan({
      profile: profile.name,
      created: stream.created,
      examples: examples.filter((c) => !left.has(c)),
      rest,
      returned: stream.created + refused.length + skipped.length,
      deletes,
    });
  });
  return outcome === 'rolled back' ? undefined : outcome;
}

/**
 * Writes that run one at a time while the caller goes on reading: `start` waits for the write before, then starts
 * this one; a write's failure comes out of the next `start` or `settle`, and `settle` waits for the last.
 */
class OneWriteAtATime {
  #running: Promise<void> = Promise.resolve();
  #failure: { readonly error: unknown } | undefined;

  async start(write: () => Promise<void>): Promise<void> {
    await this.settle();
    this.#running = write().catch((error: unknown) => {
      this.#failure ??= { error };
    });
  }

  async settle(): Promise<void> {
    await this.#running;
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}

/**
 * The logins another source's row might hold: those of entries whose own live row does not hold that very
 * login already. Only one live row holds a login (the store's unique index), so for the others there is
 * nothing to find; a resync of an unchanged directory looks up none instead of every login.
 */
function loginsToCheck(desired: ReadonlyArray<DesiredUser | MatchedUser>, own: ReadonlyArray<StoredUser | StoredUserSummary>): string[] {
  const held = new Map<string, string>();
  for (const row of own) if (row.removedAt === null) held.set(row.externalId, row.login);
  return desired.filter((user) => held.get(user.externalId) !== user.login).map((user) => user.login);
}

/**
 * Without nesting to flatten, a real run reads the group rows before the directory, without fields or members,
 * and looks each entry up as it arrives: a live group written from an entry with the same digest (of its DN and
 * attributes), against the same users (`groupKey`), holds its members already and is kept by its identity alone. Only
 * when some entry or row is left over are the other rows read whole, with the users, and resolved. A dry run
 * resolves every group, so that its plan lists every member that resolves to no user.
 */
async function planGroupSync(request: SyncRequest, store: Store, deletes: DeletesConfig): Promise<{ kind: 'groups'; plan: GroupPlan; digests?: GroupDigests }> {
  const { profile } = request;
  const query = profile.groups as GroupQuery;
  const planned = (desired: ReadonlyArray<DesiredGroup | MatchedGroup>, skipped: Skip[], stored: ReadonlyArray<StoredGroup | StoredGroupSummary>, users: ReadonlyArray<MemberCandidate>) =>
    planGroups({ profile: profile.name, desired, stored, users, skipped, deletes, flattenNested: query.flattenNested, normalizeDn: memoized(normalizeDn), now: new Date() });
  if (request.dryRun || query.flattenNested) {
    const { desired, skipped } = await readDirectory(request, (d) => d.groups(query.mapping.attributes), (e) => desiredGroup(e, query));
    const [stored, users] = await Promise.all([store.groupsOf(profile.name), store.memberCandidatesOf(profile.name)]);
    return { kind: 'groups', plan: planned(desired, skipped, stored, users) };
  }

  const [summaries, members] = await Promise.all([store.groupSummariesOf(profile.name), store.memberFingerprintOf(profile.name)]);
  const key = groupKey(profile, query, members);
  const byDigest = new Map<string, DigestedGroupSummary>();
  for (const row of summaries) if (row.entryDigest !== null && row.removedAt === null) byDigest.set(row.entryDigest, row);
  const matchedRows: DigestedGroupSummary[] = [];
  const digestOf = new Map<string, string>();
  const { desired, skipped } = await readDirectory<DesiredGroup | MatchedGroup>(
    request,
    (d) => d.groups(query.mapping.attributes),
    (entry) => {
      const digest = entryDigest(entry, key);
      const row = digest === undefined ? undefined : byDigest.get(digest);
      if (row !== undefined) {
        matchedRows.push(row);
        return { externalId: row.externalId, dn: row.dn, name: row.name };
      }
      const group = desiredGroup(entry, query);
      if (!isSkip(group) && digest !== undefined) digestOf.set(group.externalId, digest);
      return group;
    },
  );
  // Every entry matched and every row with it: nothing is left to resolve, or to read.
  if (matchedRows.length === desired.length && matchedRows.length === summaries.length && skipped.length === 0) {
    return { kind: 'groups', plan: planned(desired, skipped, summaries, []), digests: digestOf };
  }
  const [whole, users] = await Promise.all([store.groupsOf(profile.name, matchedRows.map((r) => r.id)), store.memberCandidatesOf(profile.name)]);
  const plan = planned(desired, skipped, [...whole, ...matchedRows], users);
  // A group skipped for an id another entry shares keeps its row as it was, digest and all.
  for (const skip of plan.skipped) if (skip.externalId !== undefined) digestOf.delete(skip.externalId);
  return { kind: 'groups', plan, digests: digestOf };
}

/** Each user's DN comes back as a member of about as many groups as it is in: normalise each text once. */
function memoized(normalize: (dn: string) => string): (dn: string) => string {
  const seen = new Map<string, string>();
  return (dn) => {
    let normal = seen.get(dn);
    if (normal === undefined) {
      normal = normalize(dn);
      seen.set(dn, normal);
    }
    return normal;
  };
}

/** A run's counts; every entry read is one of created, updated, unchanged, skipped or a conflict. */
function countsOf(plan: UserPlan | GroupPlan): SyncCounts {
  const c = plan.counts;
  const read = c.created + c.updated + c.unchanged + c.skipped + c.conflicts;
  return { read, created: c.created, updated: c.updated, removed: c.removed, unchanged: c.unchanged, skipped: c.skipped, conflicts: c.conflicts };
}

/** The counts a run row has columns for (`read` is only reported). */
function runCounts(counts: SyncCounts): RunCounts {
  return { created: counts.created, updated: counts.updated, removed: counts.removed, unchanged: counts.unchanged, skipped: counts.skipped, conflicts: counts.conflicts };
}

/** A skipped entry is worth a line: its row is kept as it was, and an operator should know why. */
function logSkips(skipped: ReadonlyArray<Skip>, request: SyncRequest): void {
  for (const skip of skipped) {
    request.logger.warn(
      { event: 'sync.entry_skipped', profile: request.profile.name, kind: request.kind, dn: skip.dn, externalId: skip.externalId, cause: skip.kind, reason: skip.reason },
      `skipped ${skip.dn}: ${skip.reason}`,
    );
  }
}

/** Examples of unresolved members in the one line that reports them; the plan (`--dry-run --json`) has all. */
const UNRESOLVED_EXAMPLES = 10;

/**
 * What the plan found that an operator should act on, for runs nobody watches (the daemon prints no plan): each
 * login conflict, each nesting cycle, and one line for the members that resolved to no synced user (often many,
 * and often expected: people outside the user filter).
 */
function logFindings(plan: UserPlan | GroupPlan, request: SyncRequest): void {
  const { logger, profile, kind } = request;
  if (plan.kind === 'users') {
    for (const c of plan.changes) {
      if (c.kind !== 'conflict') continue;
      logger.warn(
        { event: 'sync.conflict', profile: profile.name, kind, dn: c.dn, externalId: c.externalId, login: c.login, cause: c.cause, holder: c.holder, reason: c.reason },
        `left ${c.dn} alone: ${c.reason}`,
      );
    }
    return;
  }
  for (const cycle of plan.cycles) {
    logger.warn({ event: 'sync.nesting_cycle', profile: profile.name, kind, groups: cycle }, `groups nest in a cycle: ${cycle.join(' → ')}`);
  }
  if (plan.unresolved.length === 0) return;
  const causes: Record<string, number> = {};
  for (const u of plan.unresolved) causes[u.cause] = (causes[u.cause] ?? 0) + 1;
  const examples = plan.unresolved.slice(0, UNRESOLVED_EXAMPLES).map((u) => ({ group: u.groupDn, member: u.member, cause: u.cause }));
  logger.info(
    { event: 'sync.members_unresolved', profile: profile.name, kind, count: plan.unresolved.length, causes, examples },
    `${plan.unresolved.length} group member(s) of ${profile.name} are no synced user and were left out`,
  );
}

/**
 * The audit trail: one JSON line per applied change, with everything needed to replay it. The lines are made
 * while Postgres writes the plan (a first sync of 100,000 users spent 1.2 s making them after the commit) and
 * written out once it has committed; a run that fails writes none.
 */
function auditLines(logger: Logger): DeferredLines<AppliedChange> {
  // The redaction paths (password, *.token, ...) cannot match a change's fixed keys or its mapped target fields,
  // yet pino's wildcard redaction costs more than the rest of the line: a first sync writes one line per row.
  const audit = logger.child({}, { redact: [] });
  return deferLines<AppliedChange>(audit, (change) => audit.info(change, change.event));
}

