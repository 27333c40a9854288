import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, sendJson } from '../../src/daemon/http-server.js';
import { captureLogger } from './log-capture.js';

const servers: HttpServer<unknown>[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function make(): { server: HttpServer<{ n: number }>; leases: { taken: number; given: number }; log: ReturnType<typeof captureLogger> } {
  const log = captureLogger();
  const leases = { taken: 0, given: 0 };
  const server = new HttpServer<{ n: number }>({
    logger: log.logger,
    lease: () => {
      leases.taken += 1;
      return { context: { n: leases.taken }, release: () => (leases.given += 1) };
    },
  });
  servers.push(server as HttpServer<unknown>);
  return { server, leases, log };
}

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; allow: string | null }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text(), allow: response.headers.get('allow') };
}

describe('HttpServer', () => {
  it('serves added routes with their context, answers 404 and 405, and turns a throw into 500', async () => {
    const { server, leases, log } = make();
    server.addRoute('GET', '/hello', (_req, res, context) => sendJson(res, 200, { n: context.n }));
    server.addRoute('POST', '/boom', async () => {
      await Promise.resolve();
      throw new Error('kaput');
    });
    const { port } = await server.listen('127.0.0.1', 0);
    // A route added after listen is served too (how the auth engineer mounts /v1/authenticate).
    server.addRoute('GET', '/late', (_req, res) => sendJson(res, 200, { late: true }));

    expect(await get(port, '/hello?x=1')).toMatchObject({ status: 200, body: '{"n":1}\n' });
    expect(await get(port, '/late')).toMatchObject({ status: 200 });
    expect(await get(port, '/nope')).toMatchObject({ status: 404 });
    expect(await get(port, '/hello', 'POST')).toMatchObject({ status: 405, allow: 'GET' });
    expect(await get(port, '/boom', 'POST')).toMatchObject({ status: 500, body: '{"error":"internal error"}\n' });
    expect(log.events('http.handler_failed')).toHaveLength(1);
    expect(leases).toEqual({ taken: 3, given: 3 });
  });

  it('refuses two handlers for one method and path', () => {
    const { server } = make();
    server.addRoute('GET', '/x', () => undefined);
    expect(() => server.addRoute('GET', '/x', () => undefined)).toThrow(expect.objectContaining({ code: 'http.route_taken' }));
  });

  it('moves to a new port, and stays where it was when the new port is taken', async () => {
    const { server } = make();
    server.addRoute('GET', '/healthz', (_req, res) => sendJson(res, 200, {}));
    const first = await server.listen('127.0.0.1', 0);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      await expect(server.listen('127.0.0.1', taken)).rejects.toMatchObject({ code: 'http.listen_failed' });
      expect(server.address()?.port).toBe(first.port);
      expect((await get(first.port, '/healthz')).status).toBe(200);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    const second = await server.listen('127.0.0.1', taken);
    expect(second.port).toBe(taken);
    expect((await get(taken, '/healthz')).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${first.port}/healthz`)).rejects.toThrow();
    await server.close();
    await server.close();
    expect(server.address()).toBeUndefined();
  });
});
