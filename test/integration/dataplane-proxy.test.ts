/**
 * The gateway proxy against real HTTP upstreams on 127.0.0.1: routing, balancing, retries,
 * passive health, errors, keep-alive, config swaps under load and streamed bodies.
 */
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig, RouteConfig, ServiceConfig, UpstreamConfig, UpstreamNode } from '../../src/dataplane/config.js';
import { GatewayProxy } from '../../src/dataplane/proxy.js';
import { createLogger } from '../../src/logger.js';

// ---------------------------------------------------------------- upstreams

interface Upstream {
  name: string;
  port: number;
  node: (weight?: number) => UpstreamNode;
  /** Requests received (after any handler override). */
  hits: number;
  /** TCP connections accepted. */
  connections: number;
  handler: ((req: IncomingMessage, res: ServerResponse) => void) | null;
  close(): Promise<void>;
}

/** Answers JSON describing the request; `/echo*` streams the request body back. */
async function startUpstream(name: string): Promise<Upstream> {
  const u: Upstream = {
    name,
    port: 0,
    node: (weight = 1) => ({ host: '127.0.0.1', port: u.port, weight }),
    hits: 0,
    connections: 0,
    handler: null,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = http.createServer((req, res) => {
    u.hits++;
    if (u.handler) return u.handler(req, res);
    if (req.url?.startsWith('/echo')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': name });
      req.pipe(res);
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers }));
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', () => u.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.port = (server.address() as net.AddressInfo).port;
  return u;
}

/** A port nobody listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// ---------------------------------------------------------------- config

let svcCounter = 0;

function service(name: string, routes: Partial<RouteConfig>[], nodes: UpstreamNode[] | null, upstream: Partial<UpstreamConfig> = {}): ServiceConfig {
  return {
    name,
    version: '1.0.0',
    serviceVersionId: `${name}-${++svcCounter}`,
    routes: routes.map((r, i) => ({ id: `${name}-${i}`, methods: [], paths: [], host: null, ...r })),
    upstream: { nodes, discovery: null, scheme: 'http', timeoutMs: 2_000, retries: 1, passiveHealth: { failures: 0, ejectMs: 1_000 }, ...upstream },
  };
}

let revision = 0;
const config = (...services: ServiceConfig[]): GatewayConfig => ({ group: 'test', revision: ++revision, services });

// ---------------------------------------------------------------- client

let proxy: GatewayProxy;
let base: string;

async function call(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string | AsyncIterable<Buffer> } = {}) {
  const res = await request(`${base}${path}`, { method: (options.method ?? 'GET') as 'GET', headers: options.headers, body: options.body as Buffer | undefined });
  const buffer = Buffer.from(await res.body.arrayBuffer());
  const text = buffer.toString('utf8');
  const json = (res.headers['content-type'] ?? '').toString().includes('json') ? JSON.parse(text) : undefined;
  return { status: res.statusCode, headers: res.headers, buffer, text, json };
}

/** Runs `n` calls with at most `concurrency` in flight. */
async function many<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}

const count = <T>(items: T[]) => items.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());

/**
 * Sends raw HTTP/1.1 bytes and returns the raw response. The request must say Connection: close;
 * the socket is not half-closed, since Node's server treats that as the client going away.
 */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

/** The payload of a chunked body. */
function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

// ---------------------------------------------------------------- lifecycle

const upstreams: Upstream[] = [];
async function upstream(name: string): Promise<Upstream> {
  const u = await startUpstream(name);
  upstreams.push(u);
  return u;
}

beforeAll(async () => {
  proxy = new GatewayProxy(createLogger('silent'));
  const port = await proxy.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
});

afterEach(() => {
  for (const u of upstreams) u.handler = null;
});

afterAll(async () => {
  await proxy.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

// ---------------------------------------------------------------- tests

describe('gateway proxy', () => {
  it('reports health and answers NOT_CONFIGURED before the first config', async () => {
    const fresh = new GatewayProxy(createLogger('silent'));
    const port = await fresh.listen(0, '127.0.0.1');
    try {
      const health = await request(`http://127.0.0.1:${port}/__gateway/health`);
      expect(health.statusCode).toBe(503);
      expect(await health.body.json()).toEqual({ status: 'starting', revision: null });
      const res = await request(`http://127.0.0.1:${port}/anything`);
      expect(res.statusCode).toBe(503);
      expect(await res.body.json()).toMatchObject({ error: { code: 'NOT_CONFIGURED' } });

      fresh.setConfig({ group: 'g', revision: 7, services: [] });
      const after = await request(`http://127.0.0.1:${port}/__gateway/health`);
      expect(after.statusCode).toBe(200);
      expect(await after.body.json()).toEqual({ status: 'ok', revision: 7 });
      expect(fresh.revision).toBe(7);
    } finally {
      await fresh.close();
    }
  });

  it('routes by exact path, parameters, prefix, method and host', async () => {
    const [exact, param, prefix, writes, hosted] = await Promise.all(['exact', 'param', 'prefix', 'writes', 'hosted'].map(upstream));
    proxy.setConfig(
      config(
        service('exact', [{ paths: ['/store/inventory'] }], [exact!.node()]),
        service('param', [{ paths: ['/pet/{petId}'] }], [param!.node()]),
        service('prefix', [{ paths: ['/static/*'] }], [prefix!.node()]),
        service('writes', [{ paths: ['/pet'], methods: ['POST'] }], [writes!.node()]),
        service('hosted', [{ paths: ['/*'], host: 'api.example.test' }], [hosted!.node()]),
      ),
    );

    const from = async (path: string, init?: Parameters<typeof call>[1]) => {
      const r = await call(path, init);
      return r.status === 200 ? r.json.upstream : `${r.status} ${r.json?.error?.code}`;
    };
    expect(await from('/store/inventory')).toBe('exact');
    expect(await from('/pet/42')).toBe('param');
    expect(await from('/static/css/site.css')).toBe('prefix');
    expect(await from('/pet', { method: 'POST', body: '{}' })).toBe('writes');
    expect(await from('/pet')).toBe('404 ROUTE_NOT_FOUND');
    expect(await from('/store/inventory', { headers: { host: 'api.example.test:8443' } })).toBe('hosted');
    expect(await from('/nowhere')).toBe('404 ROUTE_NOT_FOUND');

    const notFound = await call('/nowhere?x=1');
    expect(notFound.headers['content-type']).toContain('application/json');
    expect(notFound.json).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'No route matches GET /nowhere.' } });
  });

  it('forwards method, path and query, headers and X-Forwarded-*, minus hop-by-hop headers', async () => {
    const u = await upstream('headers');
    proxy.setConfig(config(service('headers', [{ paths: ['/h/*'] }], [u.node()])));
    const port = Number(new URL(base).port);
    const response = await raw(
      port,
      [
        'PUT /h/a%20b/c?x=1&y=%2F HTTP/1.1',
        'Host: shop.example.test:8080',
        'Connection: close, X-Secret-Hop',
        'X-Secret-Hop: hidden',
        'Keep-Alive: timeout=5',
        'TE: trailers',
        'Proxy-Authorization: Basic eA==',
        'X-Forwarded-For: 203.0.113.9',
        'X-Custom: kept',
        'Content-Length: 2',
        '',
        'ok',
      ].join('\r\n'),
    );
    const [head, body] = response.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head!.toLowerCase()).toContain('x-upstream: headers');
    expect(head!.toLowerCase()).toContain('transfer-encoding: chunked');
    const seen = JSON.parse(dechunk(body!));
    expect(seen.method).toBe('PUT');
    expect(seen.url).toBe('/h/a%20b/c?x=1&y=%2F');
    expect(seen.headers).toMatchObject({
      host: 'shop.example.test:8080',
      'x-custom': 'kept',
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      'x-forwarded-host': 'shop.example.test:8080',
      'x-forwarded-proto': 'http',
      'content-length': '2',
    });
    for (const hop of ['x-secret-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(seen.headers).not.toHaveProperty(hop);
  });

  it('refuses paths with dot segments', async () => {
    const u = await upstream('dots');
    proxy.setConfig(config(service('dots', [{ paths: ['/public/*'] }], [u.node()])));
    const port = Number(new URL(base).port);
    for (const path of ['/public/../admin', '/public/%2e%2E/admin', '/public/./x']) {
      const response = await raw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(response).toMatch(/^HTTP\/1\.1 400/);
      expect(response).toContain('"BAD_REQUEST"');
    }
    expect(u.hits).toBe(0);
  });

  it('splits traffic 3:1 by weight over 400 requests', async () => {
    const [heavy, light] = await Promise.all([upstream('heavy'), upstream('light')]);
    proxy.setConfig(config(service('weighted', [{ paths: ['/w'] }], [heavy.node(3), light.node(1)])));
    const results = await many(400, 10, async () => (await call('/w')).json.upstream);
    const counts = count(results);
    expect(counts.get('heavy')! + counts.get('light')!).toBe(400);
    expect(Math.abs(counts.get('heavy')! - 300)).toBeLessThanOrEqual(20);
    expect(Math.abs(counts.get('light')! - 100)).toBeLessThanOrEqual(20);
  });

  it('rotates round-robin over equal nodes', async () => {
    const nodes = await Promise.all(['rr1', 'rr2', 'rr3'].map(upstream));
    proxy.setConfig(config(service('rr', [{ paths: ['/rr'] }], nodes.map((n) => n.node()))));
    const sequence: string[] = [];
    for (let i = 0; i < 30; i++) sequence.push((await call('/rr')).json.upstream);
    expect(sequence.slice(0, 6)).toEqual(['rr1', 'rr2', 'rr3', 'rr1', 'rr2', 'rr3']);
    expect([...count(sequence).values()]).toEqual([10, 10, 10]);
  });

  it('retries on another node when a port is closed, up to `retries` times', async () => {
    const live = await upstream('live');
    const [dead1, dead2] = [await closedPort(), await closedPort()];
    const node = (port: number) => ({ host: '127.0.0.1', port, weight: 1 });
    proxy.setConfig(
      config(
        service('retry', [{ paths: ['/retry'] }], [node(dead1), live.node()], { retries: 1 }),
        service('no-retry', [{ paths: ['/no-retry'] }], [node(dead1), live.node()], { retries: 0 }),
        service('too-few', [{ paths: ['/too-few'] }], [node(dead1), node(dead2), live.node()], { retries: 1 }),
        service('all-dead', [{ paths: ['/all-dead'] }], [node(dead1), node(dead2)], { retries: 5 }),
      ),
    );
    for (let i = 0; i < 20; i++) {
      const r = await call('/retry');
      expect(r.status).toBe(200);
      expect(r.json.upstream).toBe('live');
    }
    const noRetry = await Promise.all(Array.from({ length: 10 }, () => call('/no-retry')));
    expect(count(noRetry.map((r) => r.status))).toEqual(new Map([[502, 5], [200, 5]]));
    expect(noRetry.find((r) => r.status === 502)!.json).toMatchObject({ error: { code: 'UPSTREAM_UNAVAILABLE' } });

    // The first pick goes to dead1, the retry to dead2: two failures, no third attempt.
    const tooFew = await call('/too-few');
    expect(tooFew.status).toBe(502);

    const allDead = await call('/all-dead');
    expect(allDead.status).toBe(502);
    expect(allDead.json).toEqual({ error: { code: 'UPSTREAM_UNAVAILABLE', message: 'Service all-dead 1.0.0 could not be reached.' } });
  });

  it('retries a reset before any response only for idempotent methods', async () => {
    const [resetter, good] = await Promise.all([upstream('resetter'), upstream('good')]);
    resetter.handler = (req) => req.socket.destroy();
    proxy.setConfig(
      config(
        service('post-reset', [{ paths: ['/post'] }], [resetter.node(), good.node()]),
        service('get-reset', [{ paths: ['/get'] }], [resetter.node(), good.node()]),
      ),
    );
    const post = await call('/post', { method: 'POST', body: 'order=1' });
    expect(post.status).toBe(502);
    expect(post.json.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(good.hits).toBe(0);

    const get = await call('/get');
    expect(get.status).toBe(200);
    expect(get.json.upstream).toBe('good');
    expect(resetter.hits).toBe(2);
  });

  it('ejects a node after consecutive failures for ejectMs, then sends it traffic again', async () => {
    const [flaky, steady] = await Promise.all([upstream('flaky'), upstream('steady')]);
    let broken = true;
    flaky.handler = (req, res) => {
      if (broken) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: 'flaky' }));
    };
    proxy.setConfig(config(service('passive', [{ paths: ['/p'] }], [flaky.node(), steady.node()], { retries: 1, passiveHealth: { failures: 2, ejectMs: 1_200 } })));

    const first: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await call('/p');
      expect(r.status).toBe(200); // failures on flaky are retried on steady
      first.push(r.json.upstream);
    }
    expect(flaky.hits).toBe(2); // two consecutive failures, then no traffic while ejected
    expect(new Set(first)).toEqual(new Set(['steady']));

    broken = false;
    await sleep(1_250);
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push((await call('/p')).json.upstream);
    expect(count(after).get('flaky')).toBe(3);
  });

  it('answers NO_HEALTHY_UPSTREAM when every node is ejected or none is known', async () => {
    const dead = await closedPort();
    proxy.setConfig(
      config(
        service('ejected', [{ paths: ['/ejected'] }], [{ host: '127.0.0.1', port: dead, weight: 1 }], { retries: 0, passiveHealth: { failures: 1, ejectMs: 60_000 } }),
        service('empty', [{ paths: ['/empty'] }], []),
      ),
    );
    expect((await call('/ejected')).json.error.code).toBe('UPSTREAM_UNAVAILABLE');
    const second = await call('/ejected');
    expect(second.status).toBe(502);
    expect(second.json).toEqual({ error: { code: 'NO_HEALTHY_UPSTREAM', message: 'Service ejected 1.0.0 has no healthy node.' } });
    const empty = await call('/empty');
    expect(empty.status).toBe(502);
    expect(empty.json.error.code).toBe('NO_HEALTHY_UPSTREAM');
  });

  it('answers 504 UPSTREAM_TIMEOUT without retrying when response headers are late', async () => {
    const [slow1, slow2] = await Promise.all([upstream('slow1'), upstream('slow2')]);
    const held: ServerResponse[] = [];
    slow1.handler = slow2.handler = (_req, res) => void held.push(res);
    proxy.setConfig(config(service('slow', [{ paths: ['/slow'] }], [slow1.node(), slow2.node()], { timeoutMs: 300, retries: 3 })));
    const started = Date.now();
    const r = await call('/slow');
    const elapsed = Date.now() - started;
    expect(r.status).toBe(504);
    expect(r.json).toEqual({ error: { code: 'UPSTREAM_TIMEOUT', message: 'Service slow 1.0.0 did not respond in time.' } });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    expect(slow1.hits + slow2.hits).toBe(1);
    for (const res of held) res.destroy();
  });

  it('reuses keep-alive connections to upstreams', async () => {
    const u = await upstream('keepalive');
    proxy.setConfig(config(service('ka', [{ paths: ['/ka'] }], [u.node()])));
    const before = u.connections;
    for (let i = 0; i < 100; i++) expect((await call('/ka')).status).toBe(200);
    expect(u.connections - before).toBe(1);
    await many(200, 5, () => call('/ka'));
    expect(u.hits).toBe(300);
    expect(u.connections - before).toBeLessThanOrEqual(5);
  });

  it('swaps configs atomically under load: no request fails, each is served by one config', async () => {
    const [a1, a2, b1, b2] = await Promise.all(['a1', 'a2', 'b1', 'b2'].map(upstream));
    for (const u of [a1, a2, b1, b2]) {
      u.handler = (req, res) => {
        req.resume();
        // Keep requests in flight across swaps.
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: u.name })), Math.random() * 15);
      };
    }
    const dead = await closedPort();
    const odd = service('odd', [{ paths: ['/svc/*'] }, { paths: ['/only-odd'] }], [{ host: '127.0.0.1', port: dead, weight: 1 }, a1.node(), a2.node()], { retries: 2 });
    const even = service('even', [{ paths: ['/svc/*'] }, { paths: ['/only-even'] }], [b1.node(), b2.node(), { host: '127.0.0.1', port: dead, weight: 1 }], { retries: 2 });
    proxy.setConfig(config(odd));

    let swapping = true;
    let swaps = 0;
    const swapper = (async () => {
      while (swapping) {
        proxy.setConfig(config(swaps++ % 2 === 0 ? even : odd));
        await sleep(3);
      }
    })();

    const paths = ['/svc/x', '/only-odd', '/only-even'];
    const results = await many(600, 30, async (i) => {
      const path = paths[i % 3]!;
      const r = await call(path);
      return { path, status: r.status, from: r.json?.upstream ?? r.json?.error?.code };
    });
    swapping = false;
    await swapper;

    expect(swaps).toBeGreaterThan(20);
    const outcomes = count(results.map((r) => `${r.path} ${r.status} ${r.from}`));
    for (const key of outcomes.keys()) {
      expect(key).toMatch(/^(\/svc\/x 200 (a1|a2|b1|b2)|\/only-odd (200 a[12]|404 ROUTE_NOT_FOUND)|\/only-even (200 b[12]|404 ROUTE_NOT_FOUND))$/);
    }
    const svc = results.filter((r) => r.path === '/svc/x').map((r) => r.from[0]);
    expect(new Set(svc)).toEqual(new Set(['a', 'b'])); // both configs did serve

    // Once drained, only the current config's nodes keep a connection pool.
    await sleep(50);
    const current = swaps % 2 === 1 ? even : odd;
    expect(proxy.poolKeys().sort()).toEqual(current.upstream.nodes!.map((n) => `127.0.0.1:${n.port}`).sort());
  });

  it('finishes a request in flight with the config it started with', async () => {
    const [old, replacement] = await Promise.all([upstream('old'), upstream('replacement')]);
    let release!: () => void;
    const received = new Promise<void>((resolve) => {
      old.handler = (req, res) => {
        resolve();
        release = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: 'old' }));
      };
    });
    proxy.setConfig(config(service('inflight', [{ paths: ['/inflight'] }], [old.node()])));
    const pending = call('/inflight');
    await received;

    proxy.setConfig(config(service('inflight', [{ paths: ['/inflight'] }], [replacement.node()])));
    expect((await call('/inflight')).json.upstream).toBe('replacement');
    expect(proxy.poolKeys()).toContain(`127.0.0.1:${old.port}`); // still needed by the request in flight

    release();
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.json.upstream).toBe('old');
    await sleep(20);
    expect(proxy.poolKeys()).not.toContain(`127.0.0.1:${old.port}`);
  });

  it('uses nodes found by discovery once setNodes provides them', async () => {
    const u = await upstream('discovered');
    const svc = service('disc', [{ paths: ['/disc'] }], null);
    svc.upstream.discovery = { registry: { name: 'dns', type: 'DNS', address: '127.0.0.1:53', token: null, refreshMs: 30_000 }, namespace: null, serviceName: 'disc' };
    proxy.setConfig(config(svc));
    expect((await call('/disc')).json.error.code).toBe('NO_HEALTHY_UPSTREAM');
    proxy.setNodes(svc.serviceVersionId, [u.node()]);
    expect((await call('/disc')).json.upstream).toBe('discovered');
    // The discovered nodes survive a config change.
    proxy.setConfig(config(svc));
    expect((await call('/disc')).json.upstream).toBe('discovered');
    proxy.setNodes(svc.serviceVersionId, []);
    expect((await call('/disc')).json.error.code).toBe('NO_HEALTHY_UPSTREAM');
  });

  it('aborts the upstream request when the client goes away, without blaming the node', async () => {
    const u = await upstream('abandoned');
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    let received!: () => void;
    const arrived = new Promise<void>((r) => (received = r));
    u.handler = (req, res) => {
      if (req.url === '/gone/wait') {
        res.on('close', upstreamClosed);
        received();
        return; // never answers
      }
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: 'abandoned' })));
    };
    proxy.setConfig(config(service('gone', [{ paths: ['/gone/*'] }], [u.node()], { retries: 0, timeoutMs: 10_000, passiveHealth: { failures: 1, ejectMs: 60_000 } })));

    const controller = new AbortController();
    const pending = request(`${base}/gone/wait`, { signal: controller.signal }).catch((err: Error) => err);
    await arrived;
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await closed; // the gateway dropped its upstream request

    // A client breaking off a large upload mid-stream is not the node's failure either.
    const port = Number(new URL(base).port);
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /gone/upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`);
        socket.write(randomBytes(2 * 1024 * 1024), () => setTimeout(() => socket.destroy(), 50));
      });
      socket.on('close', () => resolve());
    });
    await sleep(50);
    expect((await call('/gone/after')).json).toEqual({ upstream: 'abandoned' }); // not ejected
  });

  it('cuts the client connection when the upstream breaks off mid-body', async () => {
    const u = await upstream('truncating');
    u.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    proxy.setConfig(config(service('truncating', [{ paths: ['/cut'] }], [u.node()])));
    const res = await request(`${base}/cut`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
  });

  it('passes HEAD and bodiless statuses through', async () => {
    const u = await upstream('statuses');
    u.handler = (req, res) => {
      req.resume();
      if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '1234', 'x-kind': 'head' }).end();
      res.writeHead(204, { 'x-kind': 'no-content' }).end();
    };
    proxy.setConfig(config(service('statuses', [{ paths: ['/s'] }], [u.node()])));
    const head = await call('/s', { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.headers['x-kind'], head.buffer.length]).toEqual([200, '1234', 'head', 0]);
    const none = await call('/s', { method: 'DELETE' });
    expect([none.status, none.headers['x-kind'], none.buffer.length]).toEqual([204, 'no-content', 0]);
  });

  describe('bodies', () => {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

    it('streams a large request and response body intact (Content-Length)', async () => {
      const u = await upstream('echo-big');
      proxy.setConfig(config(service('echo', [{ paths: ['/echo/*'] }], [u.node()])));
      const payload = randomBytes(5 * 1024 * 1024);
      const r = await call('/echo/big', { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
      expect(r.status).toBe(200);
      expect(r.buffer.length).toBe(payload.length);
      expect(sha(r.buffer)).toBe(sha(payload));
    });

    it('streams a chunked upload larger than the retry buffer', async () => {
      const u = await upstream('echo-chunked');
      proxy.setConfig(config(service('echo', [{ paths: ['/echo/*'] }], [u.node()])));
      const chunks = Array.from({ length: 48 }, () => randomBytes(64 * 1024)); // 3 MiB
      const r = await call('/echo/chunked', {
        method: 'POST',
        body: (async function* () {
          for (const c of chunks) {
            yield c;
            await sleep(1);
          }
        })(),
      });
      expect(r.status).toBe(200);
      expect(sha(r.buffer)).toBe(sha(Buffer.concat(chunks)));
    });

    it('retries with the body intact after a connect failure, small (buffered) or large (not yet read)', async () => {
      const u = await upstream('echo-retry');
      const dead = await closedPort();
      const nodes = [{ host: '127.0.0.1', port: dead, weight: 1 }, u.node()];
      for (const size of [100 * 1024, 3 * 1024 * 1024]) {
        // A fresh service each time, so the first pick is the dead node.
        proxy.setConfig(config(service('echo-retry', [{ paths: ['/echo/*'] }], nodes, { retries: 1 })));
        const payload = randomBytes(size);
        const r = await call('/echo/retry', { method: 'POST', body: payload });
        expect(r.status).toBe(200);
        expect(sha(r.buffer)).toBe(sha(payload));
      }
    });
  });
});
