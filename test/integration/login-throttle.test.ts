/**
 * Sign-in throttling: per username and per client address, counted in the database (so a lock
 * made through one replica holds on the other), refused TOO_MANY_REQUESTS before any password
 * check — the right password too — and bounded argon2 work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

const LOGIN = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }';
const PASSWORD = 'throttle-password-1';

let a: TestServer;
let b: TestServer;
const throttle = { loginFailuresPerUsername: 3, loginFailuresPerAddress: 1000, loginLockoutBaseMs: 5000, passwordHashConcurrency: 1, passwordHashQueue: 2 };

beforeAll(async () => {
  a = await startTestServer({ configure: (c) => Object.assign(c.auth, throttle) });
  b = await startTestServer({ databaseUrl: a.databaseUrl, configure: (c) => Object.assign(c.auth, throttle) });
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

async function createUser(username: string): Promise<void> {
  const res = await a.gql('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { username, password: PASSWORD, role: 'VIEWER' } }, await a.adminToken());
  expect(res.errors).toBeUndefined();
}

async function attempt(server: TestServer, u: string, p: string) {
  const started = performance.now();
  const res = await server.gql(LOGIN, { u, p });
  return { ms: performance.now() - started, code: res.errors?.[0]?.extensions?.code as string | undefined, error: res.errors?.[0], status: res.status };
}

describe('per username', () => {
  it('locks after the free failures; the right password is refused too, on both replicas, without hashing', async () => {
    await createUser('flooded');
    const wrong = [];
    for (let i = 0; i < 3; i++) wrong.push(await attempt(a, 'flooded', `wrong-password-${i}`));
    expect(wrong.map((r) => r.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);

    const locked = [];
    for (let i = 0; i < 10; i++) locked.push(await attempt(i % 2 ? a : b, 'flooded', `wrong-again-${i}`));
    const right = [await attempt(a, 'flooded', PASSWORD), await attempt(b, 'flooded', PASSWORD)];
    for (const r of [...locked, ...right]) {
      expect(r.code).toBe('TOO_MANY_REQUESTS');
      expect(r.status).toBe(200); // GraphQL over HTTP: the error is in the body
      expect(r.error!.message).toMatch(/^too many failed sign-ins; try again in [1-5] s$/);
      expect(r.error!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(r.error!.extensions!.retryAfterSeconds).toBeLessThanOrEqual(5);
    }
    // Refused before argon2: far faster than a password check (the slowest wrong one as the yardstick).
    const slowestRefusal = Math.max(...[...locked, ...right].map((r) => r.ms));
    const fastestCheck = Math.min(...wrong.map((r) => r.ms));
    expect(slowestRefusal).toBeLessThan(fastestCheck);
    // Other users sign in as usual.
    await a.login('admin', ADMIN_PASSWORD);
  });

  it('forgets the failures after a successful sign-in', async () => {
    await createUser('forgetful');
    for (let i = 0; i < 2; i++) expect((await attempt(a, 'forgetful', 'nope-nope-1')).code).toBe('UNAUTHENTICATED');
    await a.login('forgetful', PASSWORD);
    for (let i = 0; i < 2; i++) expect((await attempt(b, 'forgetful', 'nope-nope-1')).code).toBe('UNAUTHENTICATED');
    await b.login('forgetful', PASSWORD); // 4 failures in all, but never 3 in a row
  });

  it('a 100,000-character username is refused at the edge; a long one within the limit is throttled like any other', async () => {
    const huge = await attempt(a, 'u'.repeat(100_000), 'whatever-1');
    expect(huge.code).toBe('BAD_USER_INPUT');
    expect(huge.error?.message).toMatch(/10,?000/);
    const long = 'v'.repeat(9_000);
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await attempt(a, long, 'whatever-1')).code);
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
  });
});

describe('argon2 concurrency', () => {
  it('answers sign-ins beyond the hashing slots and queue TOO_MANY_REQUESTS at once', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(a, `nobody-${i}`, 'wrong-password-1')));
    const busy = results.filter((r) => r.code === 'TOO_MANY_REQUESTS');
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]!.error!.message).toBe('too many sign-ins in progress; try again in a moment');
    expect(results.filter((r) => r.code === 'UNAUTHENTICATED').length).toBeGreaterThanOrEqual(3); // 1 running + 2 queued
  });
});

describe('per client address', () => {
  let c: TestServer;
  beforeAll(async () => {
    c = await startTestServer({ configure: (cfg) => Object.assign(cfg.auth, { loginFailuresPerUsername: 100, loginFailuresPerAddress: 5, loginLockoutBaseMs: 5000 }) });
  });
  afterAll(() => c?.stop());

  it('locks an address guessing at many usernames, even for a right password, and a success does not reset it', async () => {
    expect((await attempt(c, 'admin', 'wrong-password-0')).code).toBe('UNAUTHENTICATED');
    const token = await c.login('admin', ADMIN_PASSWORD); // resets admin's username count, not the address
    for (let i = 1; i < 5; i++) expect((await attempt(c, `guess-${i}`, 'wrong-password-1')).code).toBe('UNAUTHENTICATED');
    const refused = await attempt(c, 'admin', ADMIN_PASSWORD);
    expect(refused.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.error!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Signed-in requests from the locked address are served at once …
    const started = performance.now();
    expect((await c.gql('{ me { username } }', {}, token)).data).toEqual({ me: { username: 'admin' } });
    expect(performance.now() - started).toBeLessThan(500);
    // … anonymous ones are held back (a tarpit for floods), then refused before any GraphQL work.
    const held = performance.now();
    const res = await fetch(`${c.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { username } }' }) });
    expect(performance.now() - held).toBeGreaterThanOrEqual(900);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await res.json()).errors[0].extensions.code).toBe('TOO_MANY_REQUESTS');
  });
});
