import type { Config, Profile } from '../config/index.js';
import { LdapError, checkPassword, verifyPassword, type AdBindReason } from '../ldap/index.js';
import { desiredEnabled, type DesiredUser, type StoredUser } from '../reconcile/index.js';
import type { Entry, Logger } from '../shared/index.js';
import type { Store } from '../store/index.js';
import { desiredUser, isSkip } from '../sync/index.js';
import { AuthRuntime } from './auth-runtime.js';
import { normalizeAddress } from './client-address.js';
import type { ThrottleKeys } from './login-throttle.js';
import { parseLogin, routeLogin, storedLoginOf } from './parse-login.js';
import { planLogins, plannedFor, type Saved } from './row-writes.js';
import { loginHolders, ownRows } from './stored-rows.js';
import type { AuthRequest, AuthResult, FailureReason } from './types.js';

export interface AuthDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** State kept between logins (backoff, LDAP connections); a fresh one, closed afterwards, when absent. */
  readonly runtime?: AuthRuntime;
}

/** LDAP failures that mean the server cannot be asked: never reported as a wrong password. */
const UNREACHABLE: ReadonlySet<string> = new Set([
  'ldap.connection-refused',
  'ldap.dns',
  'ldap.tls',
  'ldap.starttls-unsupported',
  'ldap.server-gone',
  'ldap.timeout',
  'ldap.closed',
]);

/**
 * Checks a login against the directory (issue 6, DESIGN §2 and §6):
 *
 * - `name@domain` goes to the profile listing the domain (case-insensitively); a bare name is a local user's
 *   (`source = 'local'`, answer "local": the application checks that password) or else goes to `defaultDomain`.
 * - Refused before the directory is asked: an empty or whitespace password (an LDAP bind with an empty password
 *   is an unauthenticated bind that succeeds), a NUL in the name or password, a disabled stored row.
 * - The user is found with the profile's user query by its username attribute (the name is a filter value,
 *   never filter text) on a kept service connection, and the password is checked by a bind on a connection of
 *   its own. An unknown user costs a bind too (to a DN that does not exist) and is held to the time a wrong
 *   password takes, so neither the answer nor its timing tells them apart.
 * - On success the row is created or updated exactly as a sync would (planUsers with this one entry, deletes
 *   off), in a run with trigger `login`, under the profile's lock. A row that is already current is not
 *   written and no run is recorded.
 * - Failures are slowed down per login and per client address; every attempt is an audit line
 *   (`auth.succeeded`, `auth.failed` with its reason, `auth.local`), never with the password.
 *
 * Throws an `LdapError` when the directory cannot be reached and a store error when the store cannot: an
 * outage is an error for the caller (HTTP 503, exit 1), not a refused password.
 */
export async function authenticate(request: AuthRequest, deps: AuthDeps): Promise<AuthResult> {
  if (deps.runtime !== undefined) return attempt(request, deps, deps.runtime);
  const runtime = new AuthRuntime();
  try {
    return await attempt(request, deps, runtime);
  } finally {
    await runtime.close();
  }
}

interface Attempt {
  readonly deps: AuthDeps;
  readonly runtime: AuthRuntime;
  readonly started: number;
  /** The login as given (trimmed), for the audit lines. */
  readonly login: string;
  readonly clientAddress: string | undefined;
}

async function attempt(request: AuthRequest, deps: AuthDeps, runtime: AuthRuntime): Promise<AuthResult> {
  const { config, store, logger } = deps;
  const at: Attempt = { deps, runtime, started: performance.now(), login: request.login.trim(), clientAddress: normalizeAddress(request.clientAddress) };
  const parsed = parseLogin(request.login);

  // A name with a NUL cannot be anyone's (and Postgres text cannot hold one): it skips the local lookup.
  if (parsed.domain === undefined && parsed.name !== '' && !parsed.name.includes('\0')) {
    const local = await store.findLocalUser(parsed.name);
    if (local !== undefined && local.removedAt === null) {
      logger.info(
        { event: 'auth.local', login: at.login, userId: local.id, clientAddress: at.clientAddress },
        `login ${at.login}: a local user; the application checks the password`,
      );
      return { outcome: 'local', user: local };
    }
  }

  const route = routeLogin(parsed, config);
  if (route.kind === 'unknown-domain') {
    const why = route.domain === null ? 'no domain given and no defaultDomain configured' : `no profile lists the domain ${route.domain}`;
    logger.info({ event: 'auth.failed', login: at.login, reason: 'unknown-domain', domain: route.domain, clientAddress: at.clientAddress }, `login ${at.login} refused: ${why}`);
    return { outcome: 'unknown-domain', domain: route.domain };
  }
  const { profile, name } = route;
  const keys: ThrottleKeys = { login: `${profile.name}\0${name.toLowerCase()}`, address: at.clientAddress };

  const badInput = inputProblem(name, request.password);
  if (badInput !== undefined) return refuse(at, profile, keys, badInput, 0);

  const admission = await runtime.throttle.admit(keys);
  if (!admission.admitted) {
    logger.warn(
      { event: 'auth.throttled', login: at.login, profile: profile.name, clientAddress: at.clientAddress, failures: runtime.throttle.failures(keys), wouldWaitMs: Math.round(admission.wouldWaitMs) },
      `login ${at.login} refused at once: too many recent failures for this login or address`,
    );
    return refuse(at, profile, keys, 'throttled', 0);
  }
  const waitedMs = Math.round(admission.waitedMs);
  if (waitedMs > 0) {
    logger.warn(
      { event: 'auth.throttled', login: at.login, profile: profile.name, clientAddress: at.clientAddress, failures: runtime.throttle.failures(keys), waitedMs },
      `login ${at.login} held back ${waitedMs} ms after repeated failures`,
    );
  }
  return check(at, profile, name, request.password, keys, waitedMs);
}

/** The directory part: a login that passed the input checks and the backoff. */
async function check(at: Attempt, profile: Profile, name: string, password: string, keys: ThrottleKeys, waitedMs: number): Promise<AuthResult> {
  const { store, logger } = at.deps;
  const { runtime } = at;
  const checkStarted = performance.now();

  // Before the directory is asked: a disabled row of this profile under the login that name would have.
  const expectedLogin = storedLoginOf(profile, name);
  const holders = await loginHolders(store, [expectedLogin]);
  if (holders.some((row) => row.source === profile.name && !row.enabled)) {
    await runtime.timing.pad(profile.name, checkStarted);
    return refuse(at, profile, keys, 'disabled', waitedMs);
  }

  let entry: Entry | undefined;
  try {
    entry = await runtime.directories.use(profile, logger, (directory) => directory.findUser(name, profile.users.mapping.attributes));
  } catch (err) {
    if (!(err instanceof LdapError) || err.code !== 'ldap.ambiguous-user') throw err;
    logger.error({ event: 'auth.ambiguous_user', login: at.login, profile: profile.name, err: err.message }, `login ${at.login} refused: ${err.message}`);
    await runtime.timing.pad(profile.name, checkStarted);
    return refuse(at, profile, keys, 'ambiguous-user', waitedMs, { count: false });
  }

  if (entry === undefined) {
    await dummyBind(profile, password, logger);
    await runtime.timing.pad(profile.name, checkStarted);
    return refuse(at, profile, keys, 'unknown-user', waitedMs);
  }

  const desired = desiredUser(entry, profile, profile.users);
  if (isSkip(desired)) {
    // The bind still happens, so that this refusal takes as long as any other.
    await verifyPassword(profile, entry.dn, password, { logger });
    logger.warn({ event: 'auth.unusable_entry', login: at.login, profile: profile.name, dn: entry.dn, cause: desired.kind, detail: desired.reason }, `login ${at.login}: ${desired.reason}`);
    return refuse(at, profile, keys, 'unusable-entry', waitedMs);
  }

  const own = holders.find((row) => row.source === profile.name && row.externalId === desired.externalId) ?? (await ownRows(store, profile.name, [desired.externalId])).get(desired.externalId);
  if (own !== undefined && own.removedAt === null && !own.enabled) {
    await runtime.timing.pad(profile.name, checkStarted);
    return refuse(at, profile, keys, 'disabled', waitedMs);
  }

  const check = await checkPassword(profile, entry.dn, password, { logger });
  if (check.kind === 'refused') {
    runtime.timing.record(profile.name, performance.now() - checkStarted);
    return refuse(at, profile, keys, adFailure(check.adReason), waitedMs, { adReason: check.adReason });
  }
  runtime.throttle.succeeded(keys);

  const sameLogin = desired.login.toLowerCase() === expectedLogin.toLowerCase();
  const saved = await saveRow(at, profile, desired, own, sameLogin ? holders : await loginHolders(store, [desired.login]));
  if (saved.kind === 'conflict') {
    logger.warn({ event: 'auth.login_conflict', login: at.login, profile: profile.name, dn: desired.dn, detail: saved.reason }, `login ${at.login}: the password is right but ${saved.reason}`);
    return refuse(at, profile, keys, 'login-conflict', waitedMs, { count: false });
  }
  // The directory says the account is disabled: the row now says so too (as after a sync), and the login fails.
  if (!desiredEnabled(desired)) return refuse(at, profile, keys, 'disabled', waitedMs, { count: false });

  logger.info(
    {
      event: 'auth.succeeded',
      login: at.login,
      profile: profile.name,
      userId: saved.user.id,
      username: saved.user.username,
      change: saved.change,
      runId: saved.runId,
      clientAddress: at.clientAddress,
      waitedMs,
      ms: Math.round(performance.now() - at.started),
    },
    `login ${at.login} succeeded (${profile.name}, user ${saved.user.id}${saved.change === 'unchanged' ? '' : `, row ${saved.change}`})`,
  );
  return { outcome: 'ok', profile: profile.name, user: saved.user, change: saved.change, runId: saved.runId, waitedMs };
}

/**
 * What Active Directory's sub-code says about a refused bind. An unknown user (525) reads as a wrong password
 * (52e), so that the answer does not tell which names exist; the other codes say the password was right but the
 * account may not log in now.
 */
function adFailure(reason: AdBindReason | undefined): FailureReason {
  switch (reason?.subcode) {
    case '533':
      return 'disabled';
    case '701':
      return 'account-expired';
    case '775':
      return 'locked-out';
    case '532':
    case '773':
      return 'password-expired';
    case '530':
    case '531':
      return 'not-permitted';
    default:
      return 'wrong-password';
  }
}

function inputProblem(name: string, password: string): FailureReason | undefined {
  if (name.includes('\0') || password.includes('\0')) return 'nul-character';
  if (name === '') return 'empty-name';
  if (password.trim() === '') return 'empty-password';
  return undefined;
}

/** Logs the refusal, counts it against the backoff (unless it says nothing about the password), and answers. */
function refuse(
  at: Attempt,
  profile: Profile,
  keys: ThrottleKeys,
  reason: FailureReason,
  waitedMs: number,
  options: { readonly count?: boolean; readonly adReason?: AdBindReason | undefined } = {},
): AuthResult {
  const { throttle } = at.runtime;
  if (options.count !== false && reason !== 'throttled') throttle.failed(keys);
  at.deps.logger.info(
    {
      event: 'auth.failed',
      login: at.login,
      profile: profile.name,
      reason,
      ...(options.adReason === undefined ? {} : { adCode: options.adReason.subcode, adReason: options.adReason.reason }),
      failures: throttle.failures(keys),
      clientAddress: at.clientAddress,
      waitedMs,
      ms: Math.round(performance.now() - at.started),
    },
    `login ${at.login} refused (${reason})`,
  );
  return { outcome: 'invalid', profile: profile.name, reason, waitedMs };
}

/**
 * A bind for a user the query does not have, so that the directory does the same work as for a wrong password.
 * Its answer is of no interest, unless it shows the server cannot be reached: that is an outage either way.
 */
async function dummyBind(profile: Profile, password: string, logger: Logger): Promise<void> {
  try {
    await verifyPassword(profile, `cn=ldapsync-no-such-user,${profile.users.baseDN}`, password, { logger });
  } catch (err) {
    if (err instanceof LdapError && UNREACHABLE.has(err.code)) throw err;
  }
}

/**
 * Creates or updates the row the way a sync of this one entry would. The plan is made first without the lock:
 * a returning user whose row is current needs no write at all, and no run is recorded. A write goes to the
 * runtime's queue, which plans again under the profile's lock and applies it in a run with trigger `login`.
 */
async function saveRow(at: Attempt, profile: Profile, desired: DesiredUser, own: StoredUser | undefined, holders: ReadonlyArray<StoredUser>): Promise<Saved> {
  const planned = plannedFor(planLogins(profile, [desired], own === undefined ? holders : [own, ...holders]), desired.externalId);
  if (planned.kind === 'conflict') return planned;
  if (planned.kind === 'unchanged' && own !== undefined) return { kind: 'stored', user: own, change: 'unchanged', runId: undefined };
  const { config, store, logger } = at.deps;
  return at.runtime.rowWrites.write({ config, store, profile, logger, lockWaitMs: at.runtime.lockWaitMs }, desired);
}
