/**
 * CORS in a real browser: pages served from two other origins (another port of 127.0.0.1) call
 * the API with fetch and open a graphql-ws WebSocket. The origin on the allowlist works; the
 * other is refused by the browser (HTTP) and by the server (WebSocket upgrade). The header-level
 * details (preflight answer, Origin-less clients) are checked over plain HTTP too.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import NodeWebSocket from 'ws';
import { launchChromium } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A server for an empty page: only its origin matters. */
async function pageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>portal</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let api: TestServer;
let token: string;
let allowed: Awaited<ReturnType<typeof pageServer>>;
let other: Awaited<ReturnType<typeof pageServer>>;
let browser: Browser | undefined;
/** One page, sent from origin to origin (the bundled Chromium runs single-process: closing its last page ends it). */
let page: Page;

beforeAll(async () => {
  [allowed, other] = await Promise.all([pageServer(), pageServer()]);
  api = await startTestServer({ env: { STAGECRAFT_CORS_ORIGINS: `https://portal.example.com,${allowed.origin}` } });
  token = await api.adminToken();
  const created = await api.gql('mutation { createAsset(input: { type: POLICY, name: "CORS export" }) { id } }', {}, token);
  expect(created.errors).toBeUndefined();
  ({ browser } = await launchChromium());
  page = await (await browser.newContext()).newPage();
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await Promise.all([allowed?.close(), other?.close()]);
});

async function pageAt(origin: string): Promise<Page> {
  await page.goto(`${origin}/`);
  return page;
}

/** What the page sees when it POSTs a query with a bearer token (a preflighted request). */
const fetchFromPage = (page: Page) =>
  page.evaluate(
    async ({ url, token }) => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-apollo-operation-name': 'Me' },
          body: JSON.stringify({ query: 'query Me { me { username } }' }),
        });
        return { status: res.status, body: await res.json() };
      } catch (err) {
        return { failed: String(err) };
      }
    },
    { url: api.graphqlUrl, token },
  );

/** What the page sees when it downloads an archive (the name from Content-Disposition too). */
const exportFromPage = (page: Page) =>
  page.evaluate(
    async ({ url, token }) => {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ filter: { keyword: 'CORS*' } }) });
        return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), bytes: (await res.arrayBuffer()).byteLength };
      } catch (err) {
        return { failed: String(err) };
      }
    },
    { url: `${api.url}/archive/export`, token },
  );

/** Opens a graphql-ws socket from the page and waits for connection_ack, or the close. */
const socketFromPage = (page: Page) =>
  page.evaluate(
    ({ url, token }) =>
      new Promise<{ acked: boolean; closeCode?: number }>((resolve) => {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
        socket.onmessage = (event) => {
          if (JSON.parse(String(event.data)).type === 'connection_ack') {
            socket.close(1000);
            resolve({ acked: true });
          }
        };
        socket.onclose = (event) => resolve({ acked: false, closeCode: event.code });
      }),
    { url: api.wsUrl, token },
  );

describe('a page on an allowed origin', () => {
  it('queries with fetch, downloads an archive and opens a WebSocket', async () => {
    const page = await pageAt(allowed.origin);
    expect(await fetchFromPage(page)).toEqual({ status: 200, body: { data: { me: { username: 'admin' } } } });
    const download = await exportFromPage(page);
    expect(download).toMatchObject({ status: 200, type: 'application/zip' });
    expect((download as { disposition: string }).disposition).toMatch(/^attachment; filename="stagecraft-dev-/);
    expect(await socketFromPage(page)).toEqual({ acked: true });
  });
});

describe('a page on any other origin', () => {
  it('is refused: fetch fails in the browser, the WebSocket upgrade is refused by the server', async () => {
    const page = await pageAt(other.origin);
    expect(await fetchFromPage(page)).toEqual({ failed: expect.stringContaining('Failed to fetch') });
    expect(await exportFromPage(page)).toEqual({ failed: expect.stringContaining('Failed to fetch') });
    expect(await socketFromPage(page)).toEqual({ acked: false, closeCode: 1006 });
  });
});

describe('over plain HTTP', () => {
  const preflight = (origin: string, path = '/graphql') =>
    fetch(`${api.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization,apollo-require-preflight,x-apollo-operation-name' },
    });

  it('answers an allowed preflight with the headers GraphQL clients send, without credentials', async () => {
    for (const path of ['/graphql', '/archive/export', '/archive/import']) {
      const res = await preflight('https://portal.example.com', path);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://portal.example.com');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
      expect(res.headers.get('access-control-allow-headers')).toContain('apollo-require-preflight');
      expect(res.headers.get('access-control-allow-headers')).toContain('x-apollo-operation-name');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('refuses a preflight from another origin (no CORS headers), and never echoes an arbitrary Origin', async () => {
    for (const origin of ['https://evil.example', 'null', 'https://portal.example.com.evil.example', 'https://portal.example.com:444']) {
      const res = await preflight(origin);
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
      const simple = await fetch(api.graphqlUrl, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{"query":"{ me { username } }"}' });
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('lets WebSocket clients without Origin (CLI, gateways, servers) and the server’s own pages connect; refuses other browser origins', async () => {
    const open = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const socket = new NodeWebSocket(api.wsUrl, 'graphql-transport-ws', { headers });
        socket.on('open', () => {
          socket.close();
          resolve(101);
        });
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('error', () => undefined);
      });
    expect(await open({})).toBe(101);
    expect(await open({ origin: 'https://portal.example.com' })).toBe(101);
    expect(await open({ origin: api.url })).toBe(101); // GraphiQL, same origin
    expect(await open({ origin: 'https://evil.example' })).toBe(403);
    expect(await open({ origin: 'null' })).toBe(403);
  });
});

describe('with credentials allowed', () => {
  it('says so to allowed origins only', async () => {
    const withCredentials = await startTestServer({ env: { STAGECRAFT_CORS_ORIGINS: 'https://portal.example.com', STAGECRAFT_CORS_CREDENTIALS: 'true' } });
    try {
      const res = await fetch(withCredentials.graphqlUrl, { method: 'OPTIONS', headers: { origin: 'https://portal.example.com', 'access-control-request-method': 'POST' } });
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      const refused = await fetch(withCredentials.graphqlUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await withCredentials.stop();
    }
  });
});
