/**
 * Small documents that used to take the server down (found by the hostile tester, issue 11
 * round 2), against `stagecraft serve` as a child process in production mode, signed out:
 * - fragments that each spread the next twice (about 1 KB, 2^30 selections once expanded) held
 *   the event loop for minutes — /healthz stopped answering;
 * - a value nested a few thousand brackets deep overflowed graphql-js's recursive parser:
 *   INTERNAL_SERVER_ERROR with a stack trace in the log.
 * A child process, so that a hang fails this test instead of freezing the test runner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnFreshDatabase, type ServeProcess } from '../support/serve-process.js';
import { bearer, connectAndInit } from '../support/ws-peer.js';

let served: Awaited<ReturnType<typeof serveOnFreshDatabase>>;
let child: ServeProcess;
beforeAll(async () => {
  served = await serveOnFreshDatabase('stagecraft-bombs-', { NODE_ENV: 'production', STAGECRAFT_ADMIN_PASSWORD: 'bombs-admin-password' });
  child = served.child;
}, 60_000);
afterAll(async () => {
  await served?.stop();
});

/** POST /graphql with a deadline: a hung server fails the test instead of hanging it. */
async function post(body: string, token?: string): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${child.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json(), ms: performance.now() - started };
}
const healthy = async () => (await fetch(`${child.url}/healthz`, { signal: AbortSignal.timeout(2_000) })).status;

/** `{...F0}` where each of `levels` fragments spreads the next one twice. */
function fragmentBomb(levels: number, field = '__typename'): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ${field} ...F${i + 1} ...F${i + 1} }`);
  return `{ ...F0 }\n${fragments.join('\n')}\nfragment F${levels} on Query { ${field} }`;
}

describe('fragment expansion', () => {
  it.each([
    ['__typename', '__typename'],
    ['a field', 'me { username }'],
  ])('fragments that double at every level (%s) are refused in milliseconds, signed out', async (_name, field) => {
    const res = await post(JSON.stringify({ query: fragmentBomb(30, field) }));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors.map((e: { message: string }) => e.message)).toContain(
      'the operation expands to more than 50000 selections once its fragments are spread',
    );
    expect(res.ms).toBeLessThan(2_000);
    expect(await healthy()).toBe(200);
  });

  it('the same over graphql-ws', async () => {
    const login = await post(JSON.stringify({ query: 'mutation { login(username: "admin", password: "bombs-admin-password") { token } }' }));
    const peer = await connectAndInit(child.url.replace('http', 'ws') + '/graphql', bearer(login.body.data.login.token));
    peer.send({ id: '1', type: 'subscribe', payload: { query: fragmentBomb(30) } });
    const answer = await peer.next(5_000);
    expect(answer).toMatchObject({ id: '1', type: 'error' });
    expect(JSON.stringify(answer.payload)).toContain('expands to more than 50000 selections');
    expect(await healthy()).toBe(200);
    peer.ws.terminate();
  });

  it('a fragment used a few times over stays fine', async () => {
    const query = `{ a: __typename ...F ...F } fragment F on Query { __typename ...G ...G } fragment G on Query { __typename }`;
    const res = await post(JSON.stringify({ query }));
    expect(res.body).toEqual({ data: { a: 'Query', __typename: 'Query' } });
  });
});

describe('nesting the parser cannot take', () => {
  it.each([
    ['an object value', `mutation { createAsset(input: { type: POLICY, name: "deep", spec: { kind: CORS, config: ${'{ a: '.repeat(2_000)}1${' }'.repeat(2_000)} } }) { id } }`],
    ['a list value', `{ assets(filter: { types: ${'['.repeat(4_900)}API${']'.repeat(4_900)} }) { totalCount } }`],
    ['selection sets', `{ ${'__typename ... on Query { '.repeat(800)}__typename${' }'.repeat(800)} }`],
  ])('%s nested thousands deep: 400 GRAPHQL_PARSE_FAILED, not INTERNAL_SERVER_ERROR', async (_name, query) => {
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({
      message: 'the document nests brackets deeper than 100 levels',
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
    expect(await healthy()).toBe(200);
  });

  it('brackets inside strings and comments do not count', async () => {
    const noise = '{[('.repeat(200);
    const query = `# ${noise}\n{ assets(filter: { keyword: "${noise}" }) { totalCount } }`;
    const res = await post(JSON.stringify({ query }));
    expect(res.body.errors?.[0]?.extensions?.code).not.toBe('GRAPHQL_PARSE_FAILED');
  });

  it('no unexpected error was logged', () => {
    expect(child.logs.filter((l) => l.msg === 'unexpected error' || l.level >= 50)).toEqual([]);
  });
});
