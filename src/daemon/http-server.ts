import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LdapsyncError, type Logger } from '../shared/index.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/**
 * Handles one request. `context` is held for the request's duration (the daemon keeps the store it names open
 * until the handler's promise settles, even if a reload switches stores meanwhile). A throw answers 500.
 */
export type RouteHandler<C> = (request: IncomingMessage, response: ServerResponse, context: C) => void | Promise<void>;

/** What a request holds while it is handled, and gives back at its end. */
export interface Lease<C> {
  readonly context: C;
  release(): void;
}

export interface HttpServerOptions<C> {
  readonly logger: Logger;
  readonly lease: () => Lease<C>;
}

/** The daemon's HTTP listener: a table of exact-path routes on node:http. */
export class HttpServer<C> {
  readonly #options: HttpServerOptions<C>;
  readonly #routes = new Map<string, Map<HttpMethod, RouteHandler<C>>>();
  #server: Server | undefined;
  #bound: { readonly host: string; readonly port: number } | undefined;

  constructor(options: HttpServerOptions<C>) {
    this.#options = options;
  }

  /** Adds a route; before or after `listen`. One handler per method and path. */
  addRoute(method: HttpMethod, path: string, handler: RouteHandler<C>): void {
    if (!path.startsWith('/')) throw new LdapsyncError('http.route_invalid', `route path must start with "/": ${path}`);
    let methods = this.#routes.get(path);
    if (methods === undefined) {
      methods = new Map();
      this.#routes.set(path, methods);
    }
    if (methods.has(method)) throw new LdapsyncError('http.route_taken', `a handler for ${method} ${path} is already registered`);
    methods.set(method, handler);
  }

  /** Where it listens (the real port when 0 was asked for), or undefined. */
  address(): { readonly host: string; readonly port: number } | undefined {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (address === undefined || address === null || this.#bound === undefined) return undefined;
    return { host: this.#bound.host, port: address.port };
  }

  /**
   * Listens on host:port. Moving to another address binds the new one first and only then closes the old one, so a
   * port that is taken leaves the listener where it was (and the call throws).
   */
  async listen(host: string, port: number): Promise<{ readonly host: string; readonly port: number }> {
    const current = this.address();
    if (current !== undefined && this.#bound?.host === host && (this.#bound.port === port || port === 0)) return current;
    const server = createServer((request, response) => {
      void this.#handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new LdapsyncError('http.listen_failed', `cannot listen on ${host}:${port}: ${err.message}`, {}, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => this.#options.logger.error({ event: 'http.error', err }, 'HTTP listener error'));
    const old = this.#server;
    this.#server = server;
    this.#bound = { host, port };
    if (old !== undefined) await closeServer(old);
    const bound = this.address();
    if (bound === undefined) throw new LdapsyncError('http.listen_failed', `listening on ${host}:${port} left no address`);
    return bound;
  }

  /** Stops listening and drops open connections. Safe twice. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#bound = undefined;
    if (server !== undefined) await closeServer(server);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { logger } = this.#options;
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const methods = this.#routes.get(path);
    if (methods === undefined) {
      sendJson(response, 404, { error: `no such endpoint: ${path}` });
      return;
    }
    const handler = methods.get((request.method ?? 'GET') as HttpMethod);
    if (handler === undefined) {
      response.setHeader('Allow', [...methods.keys()].join(', '));
      sendJson(response, 405, { error: `${request.method ?? ''} is not allowed on ${path}` });
      return;
    }
    const lease = this.#options.lease();
    try {
      await handler(request, response, lease.context);
    } catch (err) {
      logger.error({ event: 'http.handler_failed', method: request.method, path, err }, `${request.method ?? ''} ${path} failed`);
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    } finally {
      lease.release();
    }
  }
}

/** Writes a JSON answer with its status code. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 5_000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Idle keep-alive connections (a Prometheus scraper's) would hold close() open; requests in progress get 5 s.
    server.closeIdleConnections();
  });
}
