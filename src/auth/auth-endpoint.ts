import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Config } from '../config/index.js';
import { toLdapsyncError, type Logger } from '../shared/index.js';
import type { Store } from '../store/index.js';
import { AuthRuntime, type AuthRuntimeOptions } from './auth-runtime.js';
import { authenticate } from './authenticate.js';
import { checkCaller } from './caller-check.js';
import { normalizeAddress } from './client-address.js';
import { userView } from './stored-rows.js';
import type { AuthRequest, AuthResult } from './types.js';

/** What a request is handled with: the config and store in force when it arrived (the daemon's context). */
export interface AuthContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
}

export type AuthRouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface AuthRoute {
  readonly method: AuthRouteMethod;
  readonly path: string;
  readonly handler: (request: IncomingMessage, response: ServerResponse, context: AuthContext) => Promise<void>;
}

export interface AuthEndpointOptions extends AuthRuntimeOptions {
  /** Request bodies larger than this are refused with 413. Default 8 KiB. */
  readonly bodyLimit?: number;
  /** A body not complete within this long is refused with 408. Default 10 s. */
  readonly bodyTimeoutMs?: number;
}

export const AUTHENTICATE_PATH = '/v1/authenticate';
export const PASSWORD_PATH = '/v1/password';
export const PASSWORD_CHANGE_UNSUPPORTED =
  'password changes are not supported: ldapsync only checks passwords against the directory; change the password in the directory (LDAP / Active Directory) itself';

const ALL_METHODS: ReadonlyArray<AuthRouteMethod> = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/**
 * The daemon's authentication endpoint. `POST /v1/authenticate` with `{ "login": ..., "password": ... }` (and
 * optionally the end user's `clientAddress`, for the backoff) answers `{ "outcome": "ok" | "local" |
 * "unknown-domain" | "invalid", "user": {...} | null }` with 200; 503 when the directory or the store cannot be
 * reached. Served only with `http.authenticate: true`; callers other than loopback need the bearer token.
 * `/v1/password` says that password changes are not supported.
 *
 * The backoff and the kept LDAP connections live here, across config reloads, until `close()`.
 */
export class AuthEndpoint implements AsyncDisposable {
  readonly routes: ReadonlyArray<AuthRoute>;
  readonly #runtime: AuthRuntime;
  readonly #bodyLimit: number;
  readonly #bodyTimeoutMs: number;
  /** The config of the last request: when a reload replaces it, connections of profiles it changed are closed. */
  #config: Config | undefined;

  constructor(options: AuthEndpointOptions = {}) {
    this.#runtime = new AuthRuntime(options);
    this.#bodyLimit = options.bodyLimit ?? 8 * 1024;
    this.#bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
    this.routes = [
      { method: 'POST', path: AUTHENTICATE_PATH, handler: (request, response, context) => this.handle(request, response, context) },
      ...ALL_METHODS.map(
        (method): AuthRoute => ({
          method,
          path: PASSWORD_PATH,
          handler: async (_request, response) => sendJson(response, 404, { error: PASSWORD_CHANGE_UNSUPPORTED }),
        }),
      ),
    ];
  }

  /** POST /v1/authenticate. */
  async handle(request: IncomingMessage, response: ServerResponse, context: AuthContext): Promise<void> {
    const { config, logger } = context;
    if (config !== this.#config) {
      this.#config = config;
      this.#runtime.directories.retain(config.servers.values());
    }
    const remoteAddress = normalizeAddress(request.socket.remoteAddress);
    const refuse = (status: number, reason: string): void => {
      logger.warn({ event: 'auth.http_refused', status, remoteAddress, reason }, `POST ${AUTHENTICATE_PATH} from ${remoteAddress ?? 'unknown'} refused: ${reason}`);
      sendJson(response, status, { error: reason });
    };

    if (config.http?.authenticate !== true) {
      sendJson(response, 404, { error: `${AUTHENTICATE_PATH} is off: set http.authenticate: true in the config to serve it` });
      return;
    }
    const caller = checkCaller(remoteAddress, request.headers.authorization, config.http);
    if (!caller.allowed) {
      if (caller.status === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="ldapsync"');
      refuse(caller.status, caller.reason);
      return;
    }
    const type = request.headers['content-type'];
    if (type !== undefined && !/^application\/json\b/i.test(type)) {
      refuse(415, `the body must be JSON (Content-Type: application/json), not ${type}`);
      return;
    }

    const body = await readBody(request, this.#bodyLimit, this.#bodyTimeoutMs);
    switch (body.kind) {
      case 'text':
        break;
      case 'too-large':
        response.setHeader('Connection', 'close');
        refuse(413, `the body is larger than ${this.#bodyLimit} bytes`);
        return;
      case 'timeout':
        response.setHeader('Connection', 'close');
        refuse(408, `the body did not arrive within ${this.#bodyTimeoutMs} ms`);
        return;
      case 'aborted':
        return;
      default: {
        const never: never = body;
        throw new Error(`unknown body ${String(never)}`);
      }
    }
    const parsed = parseRequest(body.text);
    if (typeof parsed === 'string') {
      refuse(400, parsed);
      return;
    }

    let result: AuthResult;
    try {
      result = await authenticate({ ...parsed, clientAddress: parsed.clientAddress ?? remoteAddress }, { ...context, runtime: this.#runtime });
    } catch (err) {
      const error = toLdapsyncError(err, 'auth.failed');
      logger.error({ event: 'auth.error', login: parsed.login.trim(), code: error.code, err: error.message, clientAddress: parsed.clientAddress ?? remoteAddress }, `login ${parsed.login.trim()} could not be checked: ${error.message}`);
      sendJson(response, 503, { outcome: 'error', error: { code: error.code, message: error.message } });
      return;
    }
    sendJson(response, 200, answer(result));
  }

  /** Closes the kept LDAP connections. Safe twice; never throws. */
  close(): Promise<void> {
    return this.#runtime.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The JSON an application receives; refusals carry no reason, so a wrong password and an unknown user look alike. */
export function answer(result: AuthResult): Readonly<Record<string, unknown>> {
  switch (result.outcome) {
    case 'ok':
    case 'local':
      return { outcome: result.outcome, user: userView(result.user) };
    case 'unknown-domain':
    case 'invalid':
      return { outcome: result.outcome, user: null };
    default: {
      const never: never = result;
      throw new Error(`unknown outcome ${String(never)}`);
    }
  }
}

/** The request body as `AuthRequest`, or what is wrong with it. */
export function parseRequest(text: string): AuthRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `the body is not valid JSON: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the body must be a JSON object { "login": "...", "password": "..." }';
  const body = value as Readonly<Record<string, unknown>>;
  const problems: string[] = [];
  if (typeof body['login'] !== 'string') problems.push('"login" must be a string');
  if (typeof body['password'] !== 'string') problems.push('"password" must be a string');
  const clientAddress = body['clientAddress'];
  if (clientAddress !== undefined && clientAddress !== null && (typeof clientAddress !== 'string' || isIP(clientAddress.trim()) === 0)) {
    problems.push('"clientAddress", when given, must be an IPv4 or IPv6 address');
  }
  if (problems.length > 0) return problems.join('; ');
  return {
    login: body['login'] as string,
    password: body['password'] as string,
    clientAddress: typeof clientAddress === 'string' ? clientAddress : undefined,
  };
}

type Body = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'too-large' } | { readonly kind: 'timeout' } | { readonly kind: 'aborted' };

/** Reads the whole body, up to `limit` bytes; a larger declared or sent body is refused without reading it all. */
function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<Body> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.resolve({ kind: 'too-large' });
  }
  return new Promise<Body>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (body: Body): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      // The rest of a refused body is drained and dropped, so the answer can still be read by the client.
      if (body.kind !== 'text') request.resume();
      resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish({ kind: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish({ kind: 'text', text: Buffer.concat(chunks).toString('utf8') });
    const onAborted = (): void => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(text);
}
