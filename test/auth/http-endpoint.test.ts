import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon/index.js';
import type { Store } from '../../src/store/index.js';
import type { StoreSite } from '../helpers/postgres.js';
import { captureLogger } from '../daemon/log-capture.js';
import { deadLdapUrl, insertLocalUser, loginRuns, makeAuthWorld, type AuthWorld, type ConfigOptions } from './auth-world.js';

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  json(): Record<string, unknown>;
}

/** One HTTP request with full control of the body and headers (no Content-Length: the body goes chunked). */
function send(url: string, options: { method?: string; body?: string | Buffer; headers?: Record<string, string>; contentLength?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
    if (body !== undefined && options.contentLength !== false) headers['Content-Length'] = String(body.length);
    const req = httpRequest(url, { method: options.method ?? 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const credentials = (login: string, password: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ login, password, ...extra });

/** An address of this machine that is not loopback: connecting to it from here makes a non-loopback client. */
function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) if (!address.internal && address.family === 'IPv4') return address.address;
  }
  return undefined;
}

let world: AuthWorld;
let site: StoreSite;
let store: Store;
let daemon: Daemon;
let file: string;
let options: ConfigOptions;
let base: string;
const log = captureLogger();

beforeAll(async () => {
  world = await makeAuthWorld();
  site = await world.site();
  store = await site.open();
  options = { http: { listen: '0.0.0.0:0', authenticate: true, token: true }, downUrl: await deadLdapUrl() };
  file = await world.writeConfig('daemon.yaml', site.config, options);
  daemon = new Daemon({ file, env: world.env, logger: log.logger });
  await daemon.start();
  base = `http://127.0.0.1:${daemon.httpAddress?.port ?? 0}`;
});

afterAll(async () => {
  await daemon?.stop('test over');
  await store?.close();
  await world?.dispose();
});

describe('POST /v1/authenticate from loopback', () => {
  it('answers ok with the stored user, created on the first login in a login run', async () => {
    const reply = await send(`${base}/v1/authenticate`, { body: credentials('alice@example.org', 'alice-secret') });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    const body = reply.json();
    expect(body).toMatchObject({
      outcome: 'ok',
      user: { source: 'company', username: 'alice', login: 'alice@example.org', enabled: true, displayName: 'Alice Andersen', email: 'alice@example.org', dn: 'uid=alice,ou=people,dc=example,dc=org' },
    });
    expect(typeof (body['user'] as Record<string, unknown>)['id']).toBe('number');
    expect(await loginRuns(store, 'company')).toHaveLength(1);
  });

  it('gives a wrong password and an unknown user the very same answer', async () => {
    const wrong = await send(`${base}/v1/authenticate`, { body: credentials('zoe@example.org', 'nope') });
    const unknown = await send(`${base}/v1/authenticate`, { body: credentials('nobody@example.org', 'nope') });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toBe('{"outcome":"invalid","user":null}\n');
    expect(unknown.body).toBe(wrong.body);
    const empty = await send(`${base}/v1/authenticate`, { body: credentials('zoe@example.org', '  ') });
    expect(empty.body).toBe(wrong.body);
  });

  it('answers local for a local user and unknown-domain for a domain nobody lists', async () => {
    await insertLocalUser(store, 'leela');
    expect((await send(`${base}/v1/authenticate`, { body: credentials('Leela', 'whatever') })).json()).toMatchObject({ outcome: 'local', user: { source: 'local', username: 'leela' } });
    expect((await send(`${base}/v1/authenticate`, { body: credentials('alice@nowhere.test', 'alice-secret') })).json()).toEqual({ outcome: 'unknown-domain', user: null });
  });

  it('uses the clientAddress of the body for the backoff and the audit line', async () => {
    await send(`${base}/v1/authenticate`, { body: credentials('judy@example.org', 'nope', { clientAddress: '198.51.100.23' }) });
    expect(log.events('auth.failed').at(-1)).toMatchObject({ login: 'judy@example.org', reason: 'wrong-password', clientAddress: '198.51.100.23' });
    expect(JSON.stringify(log.lines)).not.toContain('"nope"');
  });

  it('answers 503 with the cause when the directory cannot be reached, never "invalid"', async () => {
    const reply = await send(`${base}/v1/authenticate`, { body: credentials('alice@down.example', 'alice-secret') });
    expect(reply.status).toBe(503);
    expect(reply.json()).toMatchObject({ outcome: 'error', error: { code: 'ldap.connection-refused' } });
    expect(log.events('auth.error').at(-1)).toMatchObject({ login: 'alice@down.example', code: 'ldap.connection-refused' });
  });
});

describe('POST /v1/authenticate: bad requests', () => {
  it('refuses bad JSON and missing fields with 400', async () => {
    expect(await send(`${base}/v1/authenticate`, { body: '{"login": "alice"' })).toMatchObject({ status: 400 });
    const missing = await send(`${base}/v1/authenticate`, { body: '{"login": "alice"}' });
    expect(missing.status).toBe(400);
    expect(missing.json()['error']).toContain('"password" must be a string');
  });

  it('refuses bodies over 8 KiB with 413, declared or streamed', async () => {
    const big = credentials('alice@example.org', 'x'.repeat(9 * 1024));
    expect(await send(`${base}/v1/authenticate`, { body: big })).toMatchObject({ status: 413 });
    expect(await send(`${base}/v1/authenticate`, { body: big, contentLength: false })).toMatchObject({ status: 413 });
    // Just under the limit is fine (and a wrong password).
    expect((await send(`${base}/v1/authenticate`, { body: credentials('alice@example.org', 'x'.repeat(8 * 1024 - 60)) })).json()).toMatchObject({ outcome: 'invalid' });
  });

  it('refuses a body that is not JSON with 415, and other methods with 405', async () => {
    expect(await send(`${base}/v1/authenticate`, { body: 'login=alice', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).toMatchObject({ status: 415 });
    const get = await send(`${base}/v1/authenticate`, { method: 'GET' });
    expect(get).toMatchObject({ status: 405, headers: { allow: 'POST' } });
  });

  it('says that password changes are not supported', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'GET']) {
      const reply = await send(`${base}/v1/password`, { method, body: credentials('alice@example.org', 'new-secret') });
      expect(reply.status).toBe(404);
      expect(reply.json()['error']).toMatch(/password changes are not supported/);
    }
  });
});

describe('POST /v1/authenticate from another address', () => {
  const address = nonLoopbackAddress();

  it.skipIf(address === undefined)('requires the bearer token from a non-loopback address', async () => {
    const remote = `http://${address ?? ''}:${daemon.httpAddress?.port ?? 0}/v1/authenticate`;
    const body = credentials('alice@example.org', 'alice-secret');
    const none = await send(remote, { body });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(log.events('auth.http_refused').at(-1)).toMatchObject({ status: 401, remoteAddress: address });
    expect(await send(remote, { body, headers: { Authorization: 'Bearer wrong-token' } })).toMatchObject({ status: 401 });
    const right = await send(remote, { body, headers: { Authorization: `Bearer ${world.env['AUTH_TEST_HTTP_TOKEN'] ?? ''}` } });
    expect(right.status).toBe(200);
    expect(right.json()).toMatchObject({ outcome: 'ok' });
    // From loopback the token is not needed, but a wrong one is still refused.
    expect(await send(`${base}/v1/authenticate`, { body })).toMatchObject({ status: 200 });
    expect(await send(`${base}/v1/authenticate`, { body, headers: { Authorization: 'Bearer wrong-token' } })).toMatchObject({ status: 401 });
  });
});

describe('POST /v1/authenticate when turned off', () => {
  it('answers 404 saying how to turn it on, after a reload that turns it off', async () => {
    await writeFile(file, world.yaml(site.config, { ...options, http: { listen: options.http?.listen ?? '', authenticate: false, token: true } }));
    await daemon.reload('signal');
    const reply = await send(`${base}/v1/authenticate`, { body: credentials('alice@example.org', 'alice-secret') });
    expect(reply.status).toBe(404);
    expect(reply.json()['error']).toMatch(/http\.authenticate: true/);
  });
});
