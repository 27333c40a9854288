import { describe, expect, it } from 'vitest';
import { networkError, resultError } from '../../src/ldap/connection.js';
import { adBindReason, resultCodeName } from '../../src/ldap/ldap-error.js';
import type { OperationResult } from '../../src/ldap/message-decoder.js';

describe('LDAP result codes', () => {
  it('names result codes', () => {
    expect(resultCodeName(49)).toBe('invalidCredentials');
    expect(resultCodeName(32)).toBe('noSuchObject');
    expect(resultCodeName(4)).toBe('sizeLimitExceeded');
    expect(resultCodeName(999)).toBe('unknown');
  });

  it("reads Active Directory's bind sub-code from the diagnostic message", () => {
    // The diagnostic message of a failed bind, as Windows AD and Samba send it.
    const message = (code: string): string => `80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data ${code}, v4563\u0000`;
    expect(adBindReason(message('52e'))).toEqual({ subcode: '52e', reason: 'wrong password' });
    expect(adBindReason(message('525'))?.reason).toBe('user not found');
    expect(adBindReason(message('530'))?.reason).toBe('not permitted to log on at this time');
    expect(adBindReason(message('531'))?.reason).toBe('not permitted to log on from this workstation');
    expect(adBindReason(message('532'))?.reason).toBe('password expired');
    expect(adBindReason(message('533'))?.reason).toBe('account disabled');
    expect(adBindReason(message('701'))?.reason).toBe('account expired');
    expect(adBindReason(message('773'))?.reason).toBe('password must be reset');
    expect(adBindReason(message('775'))?.reason).toBe('account locked out');
    expect(adBindReason('Invalid credentials')).toBeUndefined();
  });
});

describe('result codes and socket errors as error codes', () => {
  const where = { profile: 'acme', url: 'ldap://ldap.example.org' };
  const done = (resultCode: number, extra: Partial<OperationResult> = {}): OperationResult => ({
    op: 0x65,
    resultCode,
    matchedDN: '',
    diagnosticMessage: '',
    referrals: [],
    controls: [],
    responseName: undefined,
    responseValue: undefined,
    ...extra,
  });

  it('maps each result code to the code a caller switches on, with the number and name in the message', () => {
    const cases: Array<[number, string]> = [
      [3, 'ldap.time-limit'],
      [4, 'ldap.size-limit'],
      [32, 'ldap.no-such-object'],
      [49, 'ldap.invalid-credentials'],
      [50, 'ldap.protocol'],
      [53, 'ldap.protocol'],
    ];
    for (const [code, expected] of cases) {
      const err = resultError(done(code, { diagnosticMessage: 'said the server' }), where, 'read users');
      expect(err.code, String(code)).toBe(expected);
      expect(err.resultCode).toBe(code);
      expect(err.message).toContain(`${code} ${resultCodeName(code)}`);
      expect(err.message).toContain('said the server');
      expect(err.message).toContain('profile acme, ldap://ldap.example.org');
    }
  });

  it('explains a referral and a server that wants a protected connection', () => {
    expect(resultError(done(10, { referrals: ['ldap://dc2.example.com/DC=example,DC=com'] }), where, 'read users').message).toContain('ldap://dc2.example.com');
    expect(resultError(done(13), where, 'bind').message).toContain('startTLS');
  });

  it('maps socket errors', () => {
    const socketError = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });
    expect(networkError(socketError('ECONNREFUSED'), where).code).toBe('ldap.connection-refused');
    expect(networkError(socketError('EHOSTUNREACH'), where).code).toBe('ldap.connection-refused');
    expect(networkError(socketError('ENOTFOUND'), where).code).toBe('ldap.dns');
    expect(networkError(socketError('EAI_AGAIN'), where).code).toBe('ldap.dns');
    expect(networkError(socketError('ETIMEDOUT'), where).code).toBe('ldap.timeout');
    expect(networkError(socketError('ECONNRESET'), where).code).toBe('ldap.server-gone');
    expect(networkError(socketError('ERR_SSL_WRONG_VERSION_NUMBER'), where).code).toBe('ldap.tls');
  });
});
