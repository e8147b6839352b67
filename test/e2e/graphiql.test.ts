/**
 * GraphiQL in a real browser (Chromium driven by playwright-core: the system's, else the one in
 * the npm package @sparticuz/chromium; see test/support/browser.ts) against the real
 * server: the page renders from our own bundle with nothing fetched off localhost, queries run
 * over HTTP with the header from the Headers tab, and subscriptions run over the page's
 * graphql-ws transport, signed in with that same header.
 *
 * The tests share one page and run in order. Needs the bundle in dist/graphiql (`npm run build`,
 * or `node scripts/build-graphiql.mjs`).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const QUERY_EDITOR = '.graphiql-query-editor';
/** The Headers tab's editor: GraphiQL keeps the (hidden) Variables editor in the same section. */
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
const RESPONSE = '.graphiql-response';

let server: TestServer;
let browser: Browser | undefined;
let page: Page;
/** Every request (and WebSocket) the page tried to make off localhost; all are blocked. */
const offHost: string[] = [];
/** Uncaught exceptions in the page. */
const pageErrors: string[] = [];
/** graphql-ws messages the page sent, parsed. */
const wsSent: { type: string; payload?: any }[] = [];

const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url);
  return protocol === 'data:' || protocol === 'blob:' || LOCAL_HOSTS.has(hostname);
};

beforeAll(async () => {
  server = await startTestServer();
  ({ browser } = await launchChromium());
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    offHost.push(url);
    return route.abort('blockedbyclient');
  });
  // CSP violations do not throw; collect them from the page.
  await context.addInitScript(() => {
    const violations: string[] = ((window as any).__cspViolations = []);
    document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('websocket', (ws) => {
    if (!isLocal(ws.url().replace(/^ws/, 'http'))) offHost.push(ws.url());
    ws.on('framesent', ({ payload }) => wsSent.push(JSON.parse(String(payload))));
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

type CodeMirrorElement = Element & { CodeMirror?: { getValue(): string; setValue(value: string): void } };

/** The whole text of the CodeMirror 5 editor under `selector` (CodeMirror only draws what is visible). */
const editorValue = (selector: string) =>
  page.evaluate((sel) => {
    const el = document.querySelector<CodeMirrorElement>(`${sel} .CodeMirror`);
    if (!el?.CodeMirror) throw new Error(`no CodeMirror under ${sel}`);
    return el.CodeMirror.getValue();
  }, selector);

const setEditorValue = (selector: string, value: string) =>
  page.evaluate(
    ([sel, text]) => {
      const el = document.querySelector<CodeMirrorElement>(`${sel} .CodeMirror`);
      if (!el?.CodeMirror) throw new Error(`no CodeMirror under ${sel}`);
      el.CodeMirror.setValue(text);
    },
    [selector, value] as const,
  );

/** Polls the result pane until it contains `needle` (or 10 s pass); returns its text either way. */
async function resultContaining(needle: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = await editorValue(RESPONSE);
  while (!text.includes(needle) && Date.now() < deadline) {
    await page.waitForTimeout(50);
    text = await editorValue(RESPONSE);
  }
  return text;
}

/** Subscribers the server's event log has on the audit stream (one once `auditLog` is listening). */
const auditListeners = () => server.app.services.events.listenerCount('audit');

describe('GraphiQL', () => {
  it('is served as HTML to browsers, while GraphQL GETs still get JSON', async () => {
    const html = await fetch(server.graphqlUrl, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    const body = await html.text();
    expect(body).toContain('<div id="graphiql">');
    expect(body).toContain('<script src="/graphiql/app.js">');
    expect(body).not.toMatch(/(src|href)="(https?:)?\/\//);

    // A GraphQL GET (with the header Apollo's CSRF prevention asks of GETs) is not GraphiQL.
    const json = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{__typename}')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('renders from the local bundle under a CSP and runs a query with the header from the Headers tab', async () => {
    const response = await page.goto(`${server.url}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
    await page.locator(`${QUERY_EDITOR} .CodeMirror`).waitFor({ state: 'visible', timeout: 10_000 });
    expect(await editorValue(QUERY_EDITOR)).toContain('query Me'); // our default query, not GraphiQL's

    const headersTab = page.locator('.graphiql-editor-tools button[data-name="headers"]');
    await headersTab.click();
    await expect.poll(() => headersTab.getAttribute('class')).toContain('active');
    await setEditorValue(HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${await server.adminToken()}` }));
    // Replaces the default `query Me` and runs at once, on purpose: GraphiQL learns the new
    // operation name only 100 ms after an edit, and client.js must not send the stale "Me".
    await setEditorValue(QUERY_EDITOR, '{ me { username role } }');
    await page.locator('.graphiql-execute-button').click();

    const result = await resultContaining('"username"');
    expect(result).toContain('"username": "admin"');
    expect(result).toContain('"role": "SUPER_ADMIN"');
  });

  it("runs a subscription over the page's WebSocket, signed in with the Headers tab", async () => {
    await setEditorValue(QUERY_EDITOR, 'subscription { auditLog { type actor } }');
    await page.locator('.graphiql-execute-button').click();

    // The page opened a graphql-ws socket, sent the header along, and subscribed ...
    await expect.poll(() => wsSent.some((m) => m.type === 'subscribe'), { timeout: 10_000 }).toBe(true);
    const init = wsSent.find((m) => m.type === 'connection_init');
    expect(init?.payload).toEqual({ Authorization: `Bearer ${await server.adminToken()}` });
    expect(wsSent.find((m) => m.type === 'subscribe')?.payload.query).toContain('auditLog');
    // ... and the server is listening, so the next event cannot slip by.
    await expect.poll(auditListeners, { timeout: 10_000 }).toBeGreaterThan(0);

    const created = await server.gql(
      'mutation { createUser(input: { username: "browser-sub", password: "password-123", role: VIEWER }) { id } }',
      {},
      await server.adminToken(),
    );
    expect(created.errors).toBeUndefined();

    const result = await resultContaining('USER_CREATED');
    expect(result).toContain('"type": "USER_CREATED"');
    expect(result).toContain('"actor": "admin"');

    // The run button is now the stop button, and stopping completes the subscription.
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => wsSent.some((m) => m.type === 'complete'), { timeout: 10_000 }).toBe(true);
    // …and the server lets go of the stream at once, without waiting for another event.
    await expect.poll(auditListeners, { timeout: 5_000 }).toBe(0);
  });

  it('needed nothing from off localhost and ran without errors or CSP violations', async () => {
    expect(offHost).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
  });
});
