import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpConfig } from '../config/index.js';
import { isLoopback } from './client-address.js';

/** Whether an HTTP caller may use POST /v1/authenticate, and if not, the status and the reason it is told. */
export type CallerCheck = { readonly allowed: true } | { readonly allowed: false; readonly status: 401 | 403; readonly reason: string };

/**
 * Loopback callers need no token; any other address needs `Authorization: Bearer <http.token>`, and without a
 * configured token it cannot authenticate at all. A token that is sent must be right, from loopback too (a wrong
 * one is a misconfigured application, better told than ignored). Tokens are compared in constant time, as
 * digests, so neither the content nor the length leaks through timing.
 */
export function checkCaller(remoteAddress: string | undefined, authorization: string | undefined, http: HttpConfig): CallerCheck {
  const presented = bearerToken(authorization);
  const expected = http.authToken?.reveal();
  if (presented !== undefined) {
    if (expected === undefined) {
      return isLoopback(remoteAddress) ? { allowed: true } : { allowed: false, status: 403, reason: 'no http.token is configured, so only loopback callers may authenticate' };
    }
    return sameSecret(presented, expected) ? { allowed: true } : { allowed: false, status: 401, reason: 'the bearer token is wrong' };
  }
  if (authorization !== undefined && authorization.trim() !== '') return { allowed: false, status: 401, reason: 'the Authorization header must be "Bearer <token>"' };
  if (isLoopback(remoteAddress)) return { allowed: true };
  return expected === undefined
    ? { allowed: false, status: 403, reason: 'no http.token is configured, so only loopback callers may authenticate' }
    : { allowed: false, status: 401, reason: 'a bearer token is required from a non-loopback address' };
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
