import type { StoredUser } from '../reconcile/index.js';

/** One login attempt, as an application (HTTP) or an operator (`ldapsync login`) hands it in. */
export interface AuthRequest {
  /** `name@domain`, or a bare `name` (then the default domain, unless a local user has that name). */
  readonly login: string;
  readonly password: string;
  /** The address the attempt came from (the end user's, when the application passes it on): keys the backoff. */
  readonly clientAddress?: string | undefined;
}

/**
 * Why a login was refused, for the audit log and the operator. Never sent to an HTTP caller: a wrong password
 * and an unknown user must look the same from outside.
 */
export type FailureReason =
  /** The name part is empty. */
  | 'empty-name'
  /** Empty or whitespace only: an LDAP bind with an empty password is an unauthenticated bind that succeeds. */
  | 'empty-password'
  /** A NUL in the name or password: no real name or password has one, and C servers cut strings at it. */
  | 'nul-character'
  /** Too many recent failures for this login or address: refused before anything was checked. */
  | 'throttled'
  /** The stored row is disabled, or the directory's entry maps to a disabled account. */
  | 'disabled'
  /** No entry of the profile's user query has this name. */
  | 'unknown-user'
  | 'wrong-password'
  /** The entry cannot be mapped (no id, no username, a mapping error), so a sync skips it too. */
  | 'unusable-entry'
  /** Several entries of the user query have this name: a configuration problem, logged as an error. */
  | 'ambiguous-user'
  /** Another source's row (a local user, another profile) holds the login, so the row cannot be written. */
  | 'login-conflict'
  /** Active Directory refused the right password: the account has expired (701). */
  | 'account-expired'
  /** Active Directory: the account is locked out (775). */
  | 'locked-out'
  /** Active Directory: the password has expired (532) or must be changed at next logon (773). */
  | 'password-expired'
  /** Active Directory: logon not permitted at this time (530) or from this workstation (531). */
  | 'not-permitted';

/** How a login ended. Infrastructure failures (LDAP or the store unreachable) are thrown, never an outcome. */
export type AuthResult =
  | {
      readonly outcome: 'ok';
      readonly profile: string;
      /** The row as stored after the login created or updated it. */
      readonly user: StoredUser;
      /** What the login wrote: a new row, an update, or nothing (the row was current). */
      readonly change: 'created' | 'updated' | 'unchanged';
      /** The sync_runs row of the write; undefined when nothing was written. */
      readonly runId: string | undefined;
      /** How long the attempt was held back by the failure backoff. */
      readonly waitedMs: number;
    }
  | {
      readonly outcome: 'local';
      /** The application's own row: it checks the password itself. */
      readonly user: StoredUser;
    }
  | {
      readonly outcome: 'unknown-domain';
      /** The domain asked for (lower case); null for a bare name when no defaultDomain is configured. */
      readonly domain: string | null;
    }
  | {
      readonly outcome: 'invalid';
      readonly profile: string;
      readonly reason: FailureReason;
      readonly waitedMs: number;
    };

export type AuthOutcome = AuthResult['outcome'];
