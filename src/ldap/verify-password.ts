import type { Profile } from '../config/types.js';
import type { Logger } from '../shared/index.js';
import { LdapConnection } from './connection.js';
import { LdapError, type AdBindReason } from './ldap-error.js';

/**
 * How a password check ended. A refusal carries Active Directory's reason when the server gave one, so that a
 * caller can tell a wrong password (52e) from a disabled (533), expired (701) or locked-out (775) account.
 */
export type PasswordCheck =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'refused'; readonly adReason: AdBindReason | undefined };

/**
 * Checks a password by binding as `dn` on a fresh connection of the profile (TLS or StartTLS as configured).
 * `refused` when the server says the credentials are invalid (49); any other failure (server down, TLS,
 * timeout) is an `LdapError`, so an outage is never mistaken for a wrong password.
 *
 * An empty password is refused without asking: LDAP treats a DN with an empty password as an unauthenticated
 * bind, which many servers let succeed (RFC 4513 5.1.2). A NUL cannot be part of a real DN or password either.
 */
export async function checkPassword(profile: Profile, dn: string, password: string, options: { readonly logger: Logger }): Promise<PasswordCheck> {
  if (password === '' || dn.trim() === '' || password.includes('\0') || dn.includes('\0')) {
    options.logger.debug({ profile: profile.name, dn }, 'password check refused without asking the server: empty DN or password, or a NUL in one');
    return { kind: 'refused', adReason: undefined };
  }
  const connection = await LdapConnection.open(profile, { logger: options.logger });
  try {
    await connection.bind(dn, password);
    return { kind: 'accepted' };
  } catch (err) {
    if (err instanceof LdapError && err.code === 'ldap.invalid-credentials') {
      options.logger.debug({ profile: profile.name, dn, reason: err.message }, 'password check: invalid credentials');
      return { kind: 'refused', adReason: err.adReason };
    }
    throw err;
  } finally {
    await connection.close();
  }
}

/** `checkPassword` as a yes or no: true when the bind succeeds, false when the credentials are refused. */
export async function verifyPassword(profile: Profile, dn: string, password: string, options: { readonly logger: Logger }): Promise<boolean> {
  return (await checkPassword(profile, dn, password, options)).kind === 'accepted';
}
