import { describe, expect, it } from 'vitest';
import { checkCaller, isLoopback, normalizeAddress, parseRequest } from '../../src/auth/index.js';
import type { HttpConfig } from '../../src/config/index.js';
import { Secret } from '../../src/shared/index.js';

const withToken: HttpConfig = { host: '0.0.0.0', port: 8089, authenticate: true, authToken: new Secret('s3cret-token', 'env:T') };
const withoutToken: HttpConfig = { ...withToken, authToken: undefined };

describe('isLoopback / normalizeAddress', () => {
  it('knows loopback addresses in every spelling a socket reports', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect({ a, loopback: isLoopback(a) }).toEqual({ a, loopback: true });
    for (const a of ['192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', '10.0.0.1', '', undefined]) expect({ a, loopback: isLoopback(a) }).toEqual({ a, loopback: false });
  });

  it('turns IPv4-mapped IPv6 into IPv4', () => {
    expect(normalizeAddress('::FFFF:192.0.2.9')).toBe('192.0.2.9');
    expect(normalizeAddress('fd00::2')).toBe('fd00::2');
    expect(normalizeAddress(' ')).toBeUndefined();
  });
});

describe('checkCaller (the token logic of POST /v1/authenticate, with remote addresses given directly)', () => {
  it('lets loopback in without a token', () => {
    expect(checkCaller('127.0.0.1', undefined, withToken)).toEqual({ allowed: true });
    expect(checkCaller('::ffff:127.0.0.1', undefined, withoutToken)).toEqual({ allowed: true });
  });

  it('asks any other address for the bearer token, and compares it exactly', () => {
    expect(checkCaller('192.0.2.50', undefined, withToken)).toMatchObject({ allowed: false, status: 401 });
    expect(checkCaller('192.0.2.50', 'Bearer s3cret-token', withToken)).toEqual({ allowed: true });
    expect(checkCaller('192.0.2.50', 'bearer   s3cret-token ', withToken)).toEqual({ allowed: true });
    expect(checkCaller('192.0.2.50', 'Bearer s3cret-toke', withToken)).toMatchObject({ allowed: false, status: 401, reason: 'the bearer token is wrong' });
    expect(checkCaller('192.0.2.50', 'Bearer s3cret-token-and-more', withToken)).toMatchObject({ allowed: false, status: 401 });
    expect(checkCaller('192.0.2.50', 'Basic czNjcmV0', withToken)).toMatchObject({ allowed: false, status: 401 });
  });

  it('refuses a wrong token from loopback too', () => {
    expect(checkCaller('127.0.0.1', 'Bearer nope', withToken)).toMatchObject({ allowed: false, status: 401 });
  });

  it('lets only loopback in when no token is configured', () => {
    expect(checkCaller('192.0.2.50', undefined, withoutToken)).toMatchObject({ allowed: false, status: 403 });
    expect(checkCaller('192.0.2.50', 'Bearer anything', withoutToken)).toMatchObject({ allowed: false, status: 403 });
    expect(checkCaller(undefined, undefined, withoutToken)).toMatchObject({ allowed: false, status: 403 });
  });
});

describe('parseRequest', () => {
  it('takes login, password and an optional client address', () => {
    expect(parseRequest('{"login":"a@b","password":"p"}')).toEqual({ login: 'a@b', password: 'p', clientAddress: undefined });
    expect(parseRequest('{"login":"a","password":"","clientAddress":"2001:db8::1","extra":1}')).toEqual({ login: 'a', password: '', clientAddress: '2001:db8::1' });
  });

  it('says what is wrong with a bad body', () => {
    expect(parseRequest('{"login":')).toMatch(/^the body is not valid JSON/);
    expect(parseRequest('[1]')).toMatch(/must be a JSON object/);
    expect(parseRequest('{"login":1}')).toBe('"login" must be a string; "password" must be a string');
    expect(parseRequest('{"login":"a","password":"p","clientAddress":"not an ip"}')).toMatch(/clientAddress/);
  });
});
