import { LdapsyncError } from '../shared/index.js';

export type LdapErrorCode =
  | 'ldap.connection-refused'
  | 'ldap.dns'
  | 'ldap.tls'
  | 'ldap.starttls-unsupported'
  | 'ldap.invalid-credentials'
  | 'ldap.no-such-object'
  | 'ldap.size-limit'
  | 'ldap.time-limit'
  | 'ldap.server-gone'
  | 'ldap.timeout'
  | 'ldap.protocol'
  | 'ldap.ambiguous-user'
  | 'ldap.no-group-query'
  | 'ldap.closed';

/** Which profile and server an error is about; the message repeats them so a log line stands on its own. */
export interface LdapErrorWhere {
  readonly profile: string;
  readonly url: string;
  readonly dn?: string;
}

/**
 * An LDAP failure as a directory admin reads it: what went wrong, on which profile and URL, and, where the
 * server said so, the LDAP result code with its name and the server's diagnostic message. Never a password.
 */
export class LdapError extends LdapsyncError {
  declare readonly code: LdapErrorCode;
  declare readonly where: LdapErrorWhere;
  /** The LDAP result code when the server answered with one. */
  readonly resultCode: number | undefined;
  /** Active Directory's reason for a refused bind (`data 533`...), when the server gave one. */
  readonly adReason: AdBindReason | undefined;

  constructor(
    code: LdapErrorCode,
    message: string,
    where: LdapErrorWhere,
    options: { cause?: unknown; resultCode?: number; adReason?: AdBindReason | undefined } = {},
  ) {
    super(code, `${message} (profile ${where.profile}, ${where.url})`, where, { cause: options.cause });
    this.name = 'LdapError';
    this.resultCode = options.resultCode;
    this.adReason = options.adReason;
  }
}

/** RFC 4511 4.1.9 and the codes servers add (RFC 3909, 4370, 6171...). */
const RESULT_CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'success'],
  [1, 'operationsError'],
  [2, 'protocolError'],
  [3, 'timeLimitExceeded'],
  [4, 'sizeLimitExceeded'],
  [5, 'compareFalse'],
  [6, 'compareTrue'],
  [7, 'authMethodNotSupported'],
  [8, 'strongerAuthRequired'],
  [10, 'referral'],
  [11, 'adminLimitExceeded'],
  [12, 'unavailableCriticalExtension'],
  [13, 'confidentialityRequired'],
  [14, 'saslBindInProgress'],
  [16, 'noSuchAttribute'],
  [17, 'undefinedAttributeType'],
  [18, 'inappropriateMatching'],
  [19, 'constraintViolation'],
  [20, 'attributeOrValueExists'],
  [21, 'invalidAttributeSyntax'],
  [32, 'noSuchObject'],
  [33, 'aliasProblem'],
  [34, 'invalidDNSyntax'],
  [36, 'aliasDereferencingProblem'],
  [48, 'inappropriateAuthentication'],
  [49, 'invalidCredentials'],
  [50, 'insufficientAccessRights'],
  [51, 'busy'],
  [52, 'unavailable'],
  [53, 'unwillingToPerform'],
  [54, 'loopDetect'],
  [64, 'namingViolation'],
  [65, 'objectClassViolation'],
  [66, 'notAllowedOnNonLeaf'],
  [67, 'notAllowedOnRDN'],
  [68, 'entryAlreadyExists'],
  [69, 'objectClassModsProhibited'],
  [71, 'affectsMultipleDSAs'],
  [80, 'other'],
  [118, 'canceled'],
  [119, 'noSuchOperation'],
  [120, 'tooLate'],
  [121, 'cannotCancel'],
  [122, 'assertionFailed'],
  [123, 'authorizationDenied'],
]);

export function resultCodeName(code: number): string {
  return RESULT_CODE_NAMES.get(code) ?? 'unknown';
}

/** Active Directory's reason for a failed bind, from `data 52e` in the diagnostic message of result 49. */
const AD_BIND_SUBCODES: ReadonlyMap<string, string> = new Map([
  ['525', 'user not found'],
  ['52e', 'wrong password'],
  ['530', 'not permitted to log on at this time'],
  ['531', 'not permitted to log on from this workstation'],
  ['532', 'password expired'],
  ['533', 'account disabled'],
  ['568', 'too many security IDs in the token'],
  ['701', 'account expired'],
  ['773', 'password must be reset'],
  ['775', 'account locked out'],
]);

export interface AdBindReason {
  /** Lower-case hex, as in the message: `52e`, `533`, `775`... */
  readonly subcode: string;
  readonly reason: string;
}

/** The sub-code of an AD bind failure in words, or undefined when the message carries none. */
export function adBindReason(diagnosticMessage: string): AdBindReason | undefined {
  const match = /\bdata ([0-9a-f]{3,4})\b/i.exec(diagnosticMessage);
  if (match?.[1] === undefined) return undefined;
  const subcode = match[1].toLowerCase();
  return { subcode, reason: AD_BIND_SUBCODES.get(subcode) ?? 'unknown reason' };
}
